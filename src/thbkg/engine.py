"""SPARQL evaluation by Oxigraph (pyoxigraph) over the graph, answered in any protocol format.

rdflib stays the API for loading, validation and export; this module copies the loaded dataset
into an Oxigraph store once (or opens a persistent one) and evaluates query strings there.

The default graph is the RDF merge of all the named graphs, a set of triples. Oxigraph 0.5's own
union default graph yields a triple once per graph that holds it (oxigraph/oxigraph#1919, fixed
after 0.5), so a triple stated by two sources was counted twice; the merge is therefore written
once into the store's default graph. A default graph of several ``FROM`` / ``default-graph-uri``
graphs is still merged by Oxigraph, with that defect, until the dependency moves past 0.5.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from thbkg.sparql_guard import QueryRefused, QueryShape, inspect_query

if TYPE_CHECKING:  # rdflib is not needed in query workers
    from thbkg.graph import LoadedDataset

__all__ = ["Answer", "Engine", "RESULT_FORMATS", "GRAPH_FORMATS", "merge_into_default_graph",
           "store_from_dataset"]

#: media type -> pyoxigraph format, for SELECT/ASK results and for CONSTRUCT/DESCRIBE graphs.
RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
}


@dataclass(frozen=True)
class Answer:
    """A query's serialised answer: what the protocol layer sends back."""

    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    media_type: str
    body: bytes
    rows: int | None = None
    truncated: bool = False


def merge_into_default_graph(store: ox.Store) -> None:
    """Write every triple of the store's named graphs into its default graph (once each)."""
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")


def store_from_dataset(loaded: "LoadedDataset", path: Path | None = None) -> ox.Store:
    """Copy every quad of ``loaded`` into a new Oxigraph store (on disk at ``path`` if given),
    with the merge of its named graphs as the default graph."""
    store = ox.Store(str(path)) if path else ox.Store()
    data = loaded.dataset.serialize(format="nquads", encoding="utf-8")
    store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
    merge_into_default_graph(store)
    if path:
        store.flush()
    return store


class Engine:
    """Evaluates query strings with Oxigraph; the default graph is the merge of all graphs.

    ``base_iri`` is the service-defined base that relative IRIs in a query resolve against
    (SPARQL 1.1 Protocol; without one Oxigraph refuses ``<s>`` as a syntax error).
    """

    def __init__(self, store: ox.Store, base_iri: str | None = None):
        self.store = store
        self.base_iri = base_iri
        self.graph_names = {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}
        # A store built before the merge was written falls back to Oxigraph's union (see above).
        default_quads = store.quads_for_pattern(None, None, None, ox.DefaultGraph())
        self.merged_default = next(iter(default_quads), None) is not None

    @classmethod
    def open(cls, path: Path, base_iri: str | None = None) -> "Engine":
        """An engine over a persistent store directory, opened read-only."""
        return cls(ox.Store.read_only(str(path)), base_iri)

    def _dataset(self, graphs: list[str], kind: str) -> list[ox.NamedNode]:
        unknown = [g for g in graphs if g not in self.graph_names]
        if unknown:
            raise QueryRefused(f"{kind} <{unknown[0]}> is not a graph of this endpoint: only its own named "
                               "graphs can be selected (nothing is fetched or read from files)")
        return [ox.NamedNode(g) for g in graphs]

    def run(self, text: str, media_type: str | None = None, *, default_graphs: list[str] = (),
            named_graphs: list[str] = (), max_rows: int | None = None, shape: QueryShape | None = None) -> Answer:
        """Evaluate ``text`` and serialise its answer as ``media_type`` (a default per form if None).

        ``default_graphs`` / ``named_graphs`` are the protocol's ``default-graph-uri`` /
        ``named-graph-uri``: together they are the RDF dataset, which replaces the query's own
        FROM / FROM NAMED as a whole (SPARQL 1.1 Protocol 2.1.4). A dataset naming only named
        graphs has an empty default graph and one naming only default graphs has no named graphs,
        as with FROM NAMED / FROM alone (SPARQL 1.1 Query 13.2). SELECT answers beyond ``max_rows``
        rows are cut there and flagged ``truncated``. ``shape`` is ``inspect_query(text)`` when the
        caller has already checked the text (the endpoint does, before content negotiation).
        """
        shape = shape or inspect_query(text)
        if default_graphs or named_graphs:
            default, named = list(default_graphs), list(named_graphs)
        else:
            default, named = shape.from_graphs, shape.from_named
        kwargs: dict = {"base_iri": self.base_iri}
        if default or named:
            kwargs["default_graph"] = self._dataset(default, "default graph")
            kwargs["named_graphs"] = self._dataset(named, "named graph")
        elif not self.merged_default:
            kwargs["use_default_graph_as_union"] = True
        try:
            result = self.store.query(text, **kwargs)
        except SyntaxError as exc:
            raise QueryRefused(f"SPARQL syntax error: {exc}") from None
        if isinstance(result, ox.QueryBoolean):
            media_type = media_type or "application/sparql-results+json"
            return Answer("ASK", media_type, result.serialize(format=RESULT_FORMATS[media_type]))
        if isinstance(result, ox.QueryTriples):
            media_type = media_type or "text/turtle"
            form = shape.form if shape.form in ("CONSTRUCT", "DESCRIBE") else "CONSTRUCT"
            return Answer(form, media_type, result.serialize(format=GRAPH_FORMATS[media_type]))
        media_type = media_type or "application/sparql-results+json"
        return self._solutions(result, media_type, max_rows)

    @staticmethod
    def _solutions(result: ox.QuerySolutions, media_type: str, max_rows: int | None) -> Answer:
        fmt = RESULT_FORMATS[media_type]
        if max_rows is None:
            return Answer("SELECT", media_type, result.serialize(format=fmt))
        # Oxigraph writes lossless TSV (one line per row) into a writer that stops it after the
        # cap; no row is touched in Python, so the cap costs little over plain serialisation.
        writer = _CappedLines(max_rows + 1)  # header line + max_rows rows
        try:
            result.serialize(writer, format=ox.QueryResultsFormat.TSV)
        except (_CapReached, OSError) as exc:
            if not writer.full:
                raise exc
        tsv = b"".join(writer.parts)
        rows = max(tsv.count(b"\n") - 1, 0)
        if fmt == ox.QueryResultsFormat.TSV:
            body = tsv
        else:
            body = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV).serialize(format=fmt)
        return Answer("SELECT", media_type, body, rows, truncated=writer.full)


class _CapReached(Exception):
    """Raised inside the writer to stop Oxigraph's serialiser once the cap is reached."""


class _CappedLines(io.RawIOBase):
    """A binary sink keeping the first ``limit`` lines written to it; writing more stops the writer."""

    def __init__(self, limit: int):
        self.parts: list[bytes] = []
        self.lines = 0
        self.limit = limit
        self.full = False

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)
        count = chunk.count(b"\n")
        if self.lines + count > self.limit:
            cut = 0
            for _ in range(self.limit - self.lines):
                cut = chunk.index(b"\n", cut) + 1
            self.parts.append(chunk[:cut])
            self.lines = self.limit
            self.full = True
            raise _CapReached()
        self.parts.append(chunk)
        self.lines += count
        return len(chunk)
