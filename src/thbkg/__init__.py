"""THB-KG: a linked-data knowledge graph of France's fight against trafficking in human beings."""

__version__ = "0.1.0"
