"""Dumps and network formats: the whole graph, or what a CONSTRUCT query selects, in one file."""

from __future__ import annotations

from typing import BinaryIO

from rdflib import Dataset, Graph

from thbkg.export.network import JOIN, SCHEMA_GRAPHS, Progress, build_network, curie
from thbkg.export.rdf import GRAPH_FORMATS, RDF_FORMATS, write_rdf
from thbkg.export.writers import NETWORK_WRITERS
from thbkg.namespaces import bind_prefixes
from thbkg.queries import run_query

__all__ = [
    "FORMATS",
    "GRAPH_FORMATS",
    "JOIN",
    "NETWORK_FORMATS",
    "RDF_FORMATS",
    "SCHEMA_GRAPHS",
    "ExportError",
    "Progress",
    "build_network",
    "curie",
    "export_graph",
    "query_subgraph",
]

NETWORK_FORMATS = tuple(NETWORK_WRITERS)
#: Every format name ``export_graph`` accepts, RDF dumps first.
FORMATS = (*RDF_FORMATS, *NETWORK_FORMATS)


class ExportError(Exception):
    """An export that cannot be made: unknown format, or a query that does not build a graph."""


def query_subgraph(dataset: Dataset | Graph, text: str) -> Graph:
    """The graph a CONSTRUCT (or DESCRIBE) query builds over ``dataset``.

    Raises :class:`ExportError` for SELECT and ASK, whose answers are tables, not graphs, and
    :class:`~thbkg.queries.QueryError` when the query cannot run.
    """
    result = run_query(dataset, text)
    if result.type not in ("CONSTRUCT", "DESCRIBE"):
        raise ExportError(f"the query is a {result.type} query, whose answer is a table: "
                          "export needs a CONSTRUCT (or DESCRIBE) query, which builds a graph")
    return bind_prefixes(result.graph)


def export_graph(dataset: Dataset | Graph, fmt: str, out: BinaryIO, *, query: str | None = None,
                 progress: Progress | None = None) -> None:
    """Write ``dataset`` (or the graph ``query`` builds from it) to ``out`` in ``fmt``.

    RDF formats (:data:`RDF_FORMATS`) are lossless; Turtle and N-Triples hold the union of the named
    graphs. Network formats (:data:`NETWORK_FORMATS`) hold :func:`build_network`'s network; labels
    and classes of a query's nodes come from the whole dataset. ``progress`` is called with
    (done, total) while the network is built.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    source = query_subgraph(dataset, query) if query is not None else dataset
    if fmt in RDF_FORMATS:
        write_rdf(source, fmt, out)
    else:
        network = build_network(source, context=dataset if query is not None else None, progress=progress)
        NETWORK_WRITERS[fmt](network, out)
