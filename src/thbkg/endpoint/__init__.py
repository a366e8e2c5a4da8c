"""The web application: SPARQL protocol, linked-data pages and UI over the graph."""
