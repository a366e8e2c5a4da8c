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


#: The merge of the named graphs, as Oxigraph evaluates it (triples of graphs the store holds).
_UNION = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


def merge_into_default_graph(store: ox.Store, scratch: Path | None = None) -> None:
    """Write every triple of the store's named graphs into its default graph, once each.

    Oxigraph evaluates the union as a CONSTRUCT, written out as N-Triples, and its parser feeds that
    back into the default graph (a store holds each quad once, so a triple of several graphs is
    written once). ``ox.parse`` keeps blank-node labels, so a blank node of the default graph is the
    same node as in its named graph (``bulk_load`` would rename it). With ``scratch`` (a file path)
    the triples go through that file, removed afterwards, so a graph of any size is merged in bounded
    memory; without it, through memory (a small store). Measured at a million quads: 25 s, where a
    copy quad by quad through Python took 39 s."""
    union = store.query(_UNION)
    if scratch is None:
        text = union.serialize(format=ox.RdfFormat.N_TRIPLES)
        store.bulk_extend(ox.parse(input=text, format=ox.RdfFormat.N_TRIPLES))
        return
    try:
        union.serialize(str(scratch), format=ox.RdfFormat.N_TRIPLES)
        del union
        store.bulk_extend(ox.parse(path=str(scratch), format=ox.RdfFormat.N_TRIPLES))
    finally:
        scratch.unlink(missing_ok=True)


class Engine:
    """Evaluates query strings with Oxigraph; the default graph is the merge of all graphs.

    ``base_iri`` is the service-defined base that relative IRIs in a query resolve against
    (SPARQL 1.1 Protocol; without one Oxigraph refuses ``<s>`` as a syntax error).
    """

    def __init__(self, store: ox.Store, base_iri: str | None = None):
        self.store = store
        self.base_iri = base_iri
        # Graph names are looked up one by one when a query names some: listing them all would take
        # seconds on a store of hundreds of thousands of graphs, in every worker as it starts.
        # A store built before the merge was written falls back to Oxigraph's union (see above).
        default_quads = store.quads_for_pattern(None, None, None, ox.DefaultGraph())
        self.merged_default = next(iter(default_quads), None) is not None

    @classmethod
    def open(cls, path: Path, base_iri: str | None = None) -> "Engine":
        """An engine over a persistent store directory, opened read-only."""
        return cls(ox.Store.read_only(str(path)), base_iri)

    def _has_graph(self, name: str) -> bool:
        try:
            return self.store.contains_named_graph(ox.NamedNode(name))
        except ValueError:  # not an IRI: no graph of the store
            return False

    def _dataset(self, graphs: list[str], kind: str) -> list[ox.NamedNode]:
        unknown = [g for g in graphs if not self._has_graph(g)]
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
    rows = max(writer.lines - 1, 0)
    if fmt == ox.QueryResultsFormat.TSV:
        body = b"".join(writer.parts)
    else:  # read back chunk by chunk, each freed once read: no second copy of a large answer
        body = ox.parse_query_results(_ChunkReader(writer.parts), format=ox.QueryResultsFormat.TSV).serialize(
            format=fmt)
    return Answer("SELECT", media_type, body, rows, truncated=writer.full)


class _CapReached(Exception):
    """Raised inside the writer to stop Oxigraph's serialiser once the cap is reached."""


class _ChunkReader(io.RawIOBase):
    """A binary stream reading ``chunks`` in order, emptying the list as it goes (so what has been
    read can be freed)."""

    def __init__(self, chunks: list[bytes]):
        chunks.reverse()
        self._chunks = chunks  # the next chunk last
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._chunks and self._offset >= len(self._chunks[-1]):
            self._chunks.pop()
            self._offset = 0
        if not self._chunks:
            return 0
        chunk = self._chunks[-1]
        size = min(len(buffer), len(chunk) - self._offset)
        buffer[:size] = chunk[self._offset:self._offset + size]
        self._offset += size
        return size


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
