"""A remote SPARQL 1.1 query endpoint (Virtuoso, Oxigraph server, QLever, GraphDB ...) as the backend.

The engine holds the data (``thbkg publish`` or its own bulk loader put it there); this gateway
keeps everything else: the guard has already refused what it must before a query gets here, and
here the timeout, the row cap and the refusals apply as they do on the embedded engine. Requests go
over one pooled httpx client with at most ``max_in_flight`` requests at a time; the engine's answer
is read up to ``max_bytes`` and re-serialised by Oxigraph in the format the client asked for, so
every client gets the same bytes whatever engine sits behind.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Sequence
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from thbkg.backend.admission import Admission
from thbkg.backend.engine import Answer, cap_rows
from thbkg.backend.errors import BackendUnavailable, QueryFailed, QueryTimeout
from thbkg.formats import GRAPH_MEDIA_TYPES, RESULT_MEDIA_TYPES, results_format
from thbkg.sparql_guard import QueryRefused, QueryShape, inspect_query

__all__ = ["RemoteBackend"]

#: What is asked of the engine: results every SPARQL 1.1 engine writes, graphs as N-Triples first.
_RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.8"
_GRAPH_ACCEPT = "application/n-triples, text/plain;q=0.9, text/turtle;q=0.8, application/rdf+xml;q=0.5"
_FORM = "application/x-www-form-urlencoded"
_GRAPH_NAMES = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
#: How long the list of the engine's graphs is trusted before a graph it lacks makes us ask again.
_GRAPH_NAMES_TTL = 60.0
_GRAPH_TYPES = {"text/plain": ox.RdfFormat.N_TRIPLES, "text/ntriples": ox.RdfFormat.N_TRIPLES}


class RemoteBackend:
    """``url``: the engine's SPARQL query endpoint (e.g. ``http://127.0.0.1:8890/sparql``)."""

    def __init__(self, url: str, *, timeout: float = 30.0, max_in_flight: int = 8, max_bytes: int = 512 * 2**20,
                 auth: tuple[str, str] | None = None, headers: dict[str, str] | None = None,
                 graph_names: Iterable[str] | None = None, queue_length: int | None = None, queue_wait: float = 5.0):
        self.url = url
        # Requests to the engine beyond max_in_flight wait here, boundedly (503 with Retry-After past it).
        self.admission = Admission(max_in_flight, max_waiting=queue_length if queue_length is not None else
                                   32 * max_in_flight, max_wait=min(queue_wait, timeout))
        self.description = f"remote SPARQL endpoint {url}"
        self.timeout = timeout
        self.max_in_flight = max_in_flight
        self.max_bytes = max_bytes
        self.size = max_in_flight
        self._auth = auth
        self._headers = headers or {}
        self._client: httpx.AsyncClient | None = None
        self._graph_names: set[str] = set(graph_names or ())
        self._graph_names_at = time.monotonic() if graph_names is not None else 0.0
        self._known_at_start = graph_names is not None

    def launch(self) -> None:
        """Nothing to start ahead: the connection pool needs the event loop (:meth:`start`)."""

    async def start(self) -> None:
        limits = httpx.Limits(max_connections=self.max_in_flight, max_keepalive_connections=self.max_in_flight)
        self._client = httpx.AsyncClient(limits=limits, auth=self._auth, headers=self._headers, trust_env=False,
                                         timeout=httpx.Timeout(self.timeout, connect=min(5.0, self.timeout)))
        try:
            answer = await self.query("ASK { ?s ?p ?o }", "application/sparql-results+json")
        except BaseException:
            await self.close()
            raise
        if answer.form != "ASK":
            await self.close()
            raise BackendUnavailable(f"{self.url} does not answer ASK as a SPARQL endpoint")
        if not self._known_at_start:  # a scan of every graph: slow on a large engine, so given when known
            await self._fetch_graph_names()

    async def _fetch_graph_names(self) -> None:
        """The engine's named graphs, the only ones a dataset (FROM, default-graph-uri ...) may name, as
        on the embedded engine: nothing else is passed on for the engine to fetch or read. (Asked with
        a pattern in the GRAPH: Virtuoso 7.2 answers ``GRAPH ?g {}`` with no graph at all.)"""
        # Within the slot of the query that needs the list (or of start): not admitted a second time.
        answer = await self._query(_GRAPH_NAMES, "application/sparql-results+json", (), (), None, None, self.timeout)
        parsed = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
        self._graph_names = {row["g"].value for row in parsed if isinstance(row["g"], ox.NamedNode)}
        self._graph_names_at = time.monotonic()

    async def _check_dataset(self, graphs: Sequence[str], kind: str) -> None:
        unknown = [g for g in graphs if g not in self._graph_names]
        if unknown and time.monotonic() - self._graph_names_at > _GRAPH_NAMES_TTL:
            await self._fetch_graph_names()  # a graph published since
            unknown = [g for g in graphs if g not in self._graph_names]
        if unknown:
            raise QueryRefused(f"{kind} <{unknown[0]}> is not a graph of this endpoint: only its own named "
                               "graphs can be selected (nothing is fetched or read from files)")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _send(self, data: list[tuple[str, str]], accept: str) -> tuple[str, bytes]:
        assert self._client is not None, "start() the backend first"
        try:
            # The form is encoded here: httpx 0.28 takes a list of pairs (repeated default-graph-uri)
            # given as ``data=`` for a synchronous byte stream, which an AsyncClient refuses to send.
            async with self._client.stream("POST", self.url, content=urlencode(data).encode("ascii"),
                                           headers={"Accept": accept, "Content-Type": _FORM}) as response:
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise QueryFailed(f"the engine's answer is over {self.max_bytes // 2**20} MiB: "
                                          "ask for fewer rows (LIMIT) or fewer variables")
                    chunks.append(chunk)
                body = b"".join(chunks)
                status, media_type = response.status_code, response.headers.get("content-type", "")
        except httpx.TimeoutException:
            raise QueryTimeout(f"the SPARQL engine at {self.url} did not answer within {self.timeout:g} s; "
                               "the request was abandoned", status=504) from None
        except httpx.TransportError as exc:
            raise BackendUnavailable(f"the SPARQL engine at {self.url} does not answer "
                                     f"({type(exc).__name__}: {exc or 'no connection'})") from None
        if status in (404, 405, 501):
            raise BackendUnavailable(f"{self.url} is not a SPARQL query endpoint (HTTP {status} to a SPARQL query: "
                                     f"{_excerpt(body)}): give the engine's query endpoint, for example "
                                     "http://HOST:8890/sparql for Virtuoso or http://HOST:7878/query for Oxigraph")
        if status >= 500 or status in (401, 403, 407):
            raise BackendUnavailable(f"the SPARQL engine at {self.url} answered HTTP {status}: "
                                     f"{_excerpt(body)}")
        if status >= 400:
            raise QueryRefused(f"the SPARQL engine refused the query (HTTP {status}): {_excerpt(body)}")
        return media_type.split(";", 1)[0].strip().lower(), body

    async def query(self, text: str, media_type: str | None = None, *, default_graphs: Sequence[str] = (),
                    named_graphs: Sequence[str] = (), max_rows: int | None = None,
                    shape: QueryShape | None = None, priority: bool = True) -> Answer:
        deadline = time.monotonic() + self.timeout
        await self.admission.acquire(priority=priority)
        try:
            return await self._query(text, media_type, default_graphs, named_graphs, max_rows, shape,
                                     max(0.01, deadline - time.monotonic()))
        finally:
            self.admission.release()

    async def _query(self, text: str, media_type: str | None, default_graphs: Sequence[str],
                     named_graphs: Sequence[str], max_rows: int | None, shape: QueryShape | None,
                     timeout: float) -> Answer:
        shape = shape or inspect_query(text)
        graph_form = shape.form in ("CONSTRUCT", "DESCRIBE")
        explicit = bool(default_graphs or named_graphs)  # the protocol's dataset replaces FROM / FROM NAMED
        await self._check_dataset(default_graphs if explicit else shape.from_graphs, "default graph")
        await self._check_dataset(named_graphs if explicit else shape.from_named, "named graph")
        data = [("query", text), *(("default-graph-uri", g) for g in default_graphs),
                *(("named-graph-uri", g) for g in named_graphs)]
        try:
            received, body = await asyncio.wait_for(
                self._send(data, _GRAPH_ACCEPT if graph_form else _RESULTS_ACCEPT), timeout)
        except asyncio.TimeoutError:
            raise QueryTimeout(f"the SPARQL engine at {self.url} did not answer within {self.timeout:g} s; "
                               "the request was abandoned", status=504) from None
        try:
            if graph_form:
                return self._graph(shape.form, received, body, media_type or "text/turtle")
            return self._results(received, body, media_type or "application/sparql-results+json", max_rows,
                                 ask=shape.form == "ASK")
        except (SyntaxError, ValueError) as exc:
            raise BackendUnavailable(f"the SPARQL engine at {self.url} sent an answer that does not parse as "
                                     f"{received or 'what it says'}: {' '.join(str(exc).split())[:200]}") from None

    @staticmethod
    def _graph(form: str, received: str, body: bytes, media_type: str) -> Answer:
        fmt = _GRAPH_TYPES.get(received) or ox.RdfFormat.from_media_type(received)
        if fmt is None:
            raise ValueError(f"a graph answer of type {received!r}")
        triples = [quad.triple for quad in ox.parse(body, format=fmt)] if fmt.supports_datasets else \
            list(ox.parse(body, format=fmt))
        return Answer(form, media_type, ox.serialize(triples, format=GRAPH_MEDIA_TYPES[media_type]))

    @staticmethod
    def _results(received: str, body: bytes, media_type: str, max_rows: int | None, ask: bool = False) -> Answer:
        fmt = results_format(received)
        if fmt is None:
            raise ValueError(f"a results answer of type {received!r}")
        parsed = ox.parse_query_results(body, format=fmt)
        if ask and not isinstance(parsed, ox.QueryBoolean):
            # Virtuoso 7.2 answers ASK as a SELECT of one variable, __ASK_RETVAL, bound to 1 in one
            # row when true and with no row when false (openlink/virtuoso-opensource#464, #1016).
            true = any(term.value in ("1", "true") for row in parsed for term in row if term is not None)
            parsed = ox.parse_query_results(b'{"head": {}, "boolean": %s}' % (b"true" if true else b"false"),
                                            format=ox.QueryResultsFormat.JSON)
        if isinstance(parsed, ox.QueryBoolean):
            return Answer("ASK", media_type, parsed.serialize(format=RESULT_MEDIA_TYPES[media_type]))
        if max_rows is None:
            return Answer("SELECT", media_type, parsed.serialize(format=RESULT_MEDIA_TYPES[media_type]))
        return cap_rows(parsed, media_type, max_rows)


def _excerpt(body: bytes) -> str:
    """The start of an error body as one line of text (an HTML page's text, without its markup)."""
    text = body[:20_000].decode("utf-8", "replace")
    if "<" in text and re.search(r"(?i)<(html|body|p|h1|title)\b", text):
        text = re.sub(r"(?is)<(script|style|title)\b.*?</\1>|<[^>]*>", " ", text)
    return " ".join(text.split())[:300] or "(no message)"
