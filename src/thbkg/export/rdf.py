"""Lossless RDF dumps: named graphs kept where the format has them, every literal written as it was."""

from __future__ import annotations

from typing import BinaryIO

from rdflib import Dataset, Graph, Literal, Node
from rdflib.plugins.serializers.trig import TrigSerializer
from rdflib.plugins.serializers.turtle import _GEN_QNAME_FOR_DT, TurtleSerializer
from rdflib.term import _PLAIN_LITERAL_TYPES

from thbkg.graph import union_graph
from thbkg.namespaces import bind_prefixes

__all__ = ["GRAPH_FORMATS", "RDF_FORMATS", "as_dataset", "write_rdf"]

#: CLI name -> rdflib format name.
RDF_FORMATS = {"ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig", "jsonld": "json-ld"}
#: The formats that keep named graphs; Turtle and N-Triples get the union of all graphs.
GRAPH_FORMATS = frozenset({"nq", "trig", "jsonld"})


class _LosslessLiterals:
    """Write a number or boolean in the short Turtle form only if that form reads back identical.

    rdflib writes ``"800000"^^xsd:decimal`` as ``800000.0`` and ``"1.5E2"^^xsd:double`` as
    ``1.5e+02``: equal values, different literals, so the dump would not be isomorphic to the source.
    """

    def label(self, node: Node, position: int) -> str:
        if isinstance(node, Literal) and node.datatype in _PLAIN_LITERAL_TYPES:
            def qname(datatype):
                return self.get_pname(datatype, _GEN_QNAME_FOR_DT)

            short = node._literal_n3(use_plain=True, qname_callback=qname)
            if short != str(node):
                return node._literal_n3(use_plain=False, qname_callback=qname)
            return short
        return super().label(node, position)


class _Turtle(_LosslessLiterals, TurtleSerializer):
    pass


class _TriG(_LosslessLiterals, TrigSerializer):
    pass


def as_dataset(source: Dataset | Graph) -> Dataset:
    """The source as a Dataset: a plain Graph (e.g. a CONSTRUCT result) becomes its default graph."""
    if isinstance(source, Dataset):
        return source
    dataset = bind_prefixes(Dataset())
    for triple in source:
        dataset.default_graph.add(triple)
    return dataset


def write_rdf(source: Dataset | Graph, fmt: str, out: BinaryIO) -> None:
    """Write ``source`` to ``out`` in ``fmt`` (a key of :data:`RDF_FORMATS`), UTF-8, losslessly."""
    target: Graph = as_dataset(source) if fmt in GRAPH_FORMATS else union_graph(source)
    if fmt == "ttl":
        _Turtle(target).serialize(out, encoding="utf-8")
    elif fmt == "trig":
        _TriG(target).serialize(out, encoding="utf-8")
    else:
        target.serialize(destination=out, format=RDF_FORMATS[fmt], encoding="utf-8")
