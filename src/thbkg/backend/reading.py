"""Answers as rdflib terms and graphs: what pages, pictures and exports read from a backend."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from thbkg.backend import Backend
from thbkg.backend.engine import Answer
from thbkg.namespaces import bind_prefixes

__all__ = ["QUADS_QUERY", "ask", "construct", "dataset_of", "graph_of", "rows_of", "select", "solutions_of", "sparql_iri", "to_rdflib"]

_TSV = "text/tab-separated-values"
_NT = "application/n-triples"
#: Every quad of the named graphs, for exports that rebuild the dataset.
QUADS_QUERY = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> Node | None:
    """The rdflib term for a pyoxigraph one (``xsd:string`` literals become plain literals)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    if datatype == str(XSD.string):
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(datatype))


def rows_of(answer: Answer) -> list[dict[str, Node]]:
    """The rows of a SELECT answer serialised as TSV (lossless), unbound variables left out."""
    return solutions_of(answer)[1]


def solutions_of(answer: Answer) -> tuple[list[str], list[dict[str, Node]]]:
    """The variables (in the query's order) and rows of a SELECT answer serialised as TSV."""
    solutions = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.TSV)
    names = [variable.value for variable in solutions.variables]
    rows = []
    for solution in solutions:
        row = {}
        for name in names:
            value = solution[name]
            if value is not None:
                row[name] = to_rdflib(value)
        rows.append(row)
    return names, rows


def _triples(body: bytes) -> Iterator[tuple[Node, Node, Node]]:
    for triple in ox.parse(body, format=ox.RdfFormat.N_TRIPLES):
        yield to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)


def graph_of(answer: Answer) -> Graph:
    """The graph of a CONSTRUCT / DESCRIBE answer serialised as N-Triples."""
    graph = bind_prefixes(Graph())
    for triple in _triples(answer.body):
        graph.add(triple)
    return graph


async def select(backend: Backend, text: str, *, max_rows: int | None = None) -> list[dict[str, Node]]:
    """The rows of SELECT ``text`` as rdflib terms."""
    return rows_of(await backend.query(text, _TSV, max_rows=max_rows))


async def ask(backend: Backend, text: str) -> bool:
    answer = await backend.query(text, "application/sparql-results+json")
    parsed = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
    return bool(parsed)


async def construct(backend: Backend, text: str) -> Graph:
    """The graph CONSTRUCT / DESCRIBE ``text`` builds."""
    return graph_of(await backend.query(text, _NT))


def sparql_iri(node: Node | str) -> str:
    """``<iri>`` to write into a query (a ``>`` in the IRI escaped, so it cannot end the IRI early)."""
    return "<" + str(node).replace(">", "%3E") + ">"


def dataset_of(rows: list[dict[str, Node]]) -> Dataset:
    """Rows binding ``?s ?p ?o ?g`` as an rdflib Dataset whose default graph is the union of its graphs."""
    dataset = bind_prefixes(Dataset(default_union=True))
    for row in rows:
        dataset.graph(row["g"]).add((row["s"], row["p"], row["o"]))
    return dataset

