"""SPARQL evaluation by Oxigraph (pyoxigraph) over a release's store, answered in any protocol format.

The store is written once by ``thbkg build`` (see :mod:`thbkg.build`) and opened read-only here;
this module evaluates query strings on it and serialises the answer in the format asked for.

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

import pyoxigraph as ox

from thbkg.backend.syntax import explain_syntax_error
from thbkg.formats import GRAPH_MEDIA_TYPES as GRAPH_FORMATS
from thbkg.formats import RESULT_MEDIA_TYPES as RESULT_FORMATS
from thbkg.sparql_guard import QueryRefused, QueryShape, inspect_query

__all__ = ["Answer", "Engine", "cap_rows", "merge_into_default_graph"]


@dataclass(frozen=True)
class Answer:
    """A query's serialised answer: what the protocol layer sends back."""

    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    media_type: str
    body: bytes
    rows: int | None = None
    truncated: bool = False


#: Quads copied per batch while the default graph is merged (bounds the memory the merge takes).
_MERGE_BATCH = 100_000


def merge_into_default_graph(store: ox.Store) -> int:
    """Write every triple of the store's named graphs into its default graph (once each), in batches
    through the bulk loader, so a graph of any size is merged in bounded memory; return the quads read."""
    copied = 0
    batch: list[ox.Quad] = []
    default = ox.DefaultGraph()
    for quad in store.quads_for_pattern(None, None, None, None):
        if isinstance(quad.graph_name, ox.DefaultGraph):
            continue
        batch.append(ox.Quad(quad.subject, quad.predicate, quad.object, default))
        if len(batch) >= _MERGE_BATCH:
            store.bulk_extend(batch)
            copied += len(batch)
            batch = []
    store.bulk_extend(batch)
    return copied + len(batch)


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
            raise QueryRefused(explain_syntax_error(text, str(exc))) from None
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
        if max_rows is None:
            return Answer("SELECT", media_type, result.serialize(format=RESULT_FORMATS[media_type]))
        return cap_rows(result, media_type, max_rows)


def cap_rows(result: ox.QuerySolutions, media_type: str, max_rows: int) -> Answer:
    """``result`` serialised as ``media_type``, cut after ``max_rows`` rows (flagged ``truncated``).

    Oxigraph writes lossless TSV (one line per row) into a writer that stops it after the cap; no
    row is touched in Python, so the cap costs little over plain serialisation.
    """
    fmt = RESULT_FORMATS[media_type]
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
