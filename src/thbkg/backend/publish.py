"""Upload a release's named graphs to a SPARQL 1.1 Graph Store HTTP Protocol endpoint (``thbkg publish``).

The N-Quads dump is read once and spooled, graph by graph, into temporary N-Triples files (a
bounded number open at a time, so memory stays bounded whatever the dump's size and order); each
file is then streamed in one ``PUT ?graph=<iri>``, which replaces that graph on the engine. With
``default_graph="merge"`` the merge of every named graph is also PUT with ``?default``: engines whose
default graph is a graph of its own (the Oxigraph server) need it, engines whose default graph is
the union of all graphs (Virtuoso) do not (docs/engines.md).

Bodies are N-Triples sent as ``text/turtle``: N-Triples is a subset of Turtle, the format every
Graph Store endpoint reads. A blank node is local to its graph's document, as the protocol makes
it; our dumps share none between graphs.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import httpx
import pyoxigraph as ox

from thbkg.backend.errors import BackendError

__all__ = ["DEFAULT_GRAPH_CHOICES", "PublishError", "Published", "publish_nquads"]

DEFAULT_GRAPH_CHOICES = ("merge", "none")
#: Quads kept in memory per graph before they are appended to its spool file.
_BATCH = 5_000
#: Spool files open at once; the others are reopened to append.
_OPEN_FILES = 64
_CHUNK = 1 << 20
_BODY_TYPE = "text/turtle"
#: A graph nobody holds: asked for once, before the upload, to check the endpoint and the credentials.
_PROBE_GRAPH = "urn:x-thbkg:publish-probe"


class PublishError(BackendError):
    """The Graph Store could not be reached, refused the credentials, or is not a Graph Store; one line."""

    status = 502


@dataclass(frozen=True)
class Published:
    """What was uploaded: named graphs, quads, whether the default graph was replaced, and how long it took."""

    url: str
    graphs: int
    quads: int
    default_graph: bool
    seconds: float

    def summary(self) -> str:
        default = "and their merge as the default graph" if self.default_graph else "default graph left as it was"
        return (f"published {self.quads:,} quads in {self.graphs:,} named graphs to {self.url} ({default}) "
                f"in {self.seconds:.1f} s")


class _Spool:
    """Quads grouped by graph into one N-Triples file per graph (and one for their merge), in a folder."""

    def __init__(self, folder: Path, merge: bool):
        self.folder = folder
        self.files: dict[str, Path] = {}  # graph IRI -> its file, in order of first appearance
        self._pending: dict[str, list[ox.Triple]] = {}
        self._merge = folder / "merge.nt" if merge else None
        self._merge_pending: list[ox.Triple] = []
        self._open: dict[Path, BinaryIO] = {}
        self.quads = 0

    def add(self, quad: ox.Quad) -> None:
        graph = quad.graph_name
        key = "" if isinstance(graph, ox.DefaultGraph) else graph.value
        if key not in self.files:
            self.files[key] = self.folder / f"g{len(self.files)}.nt"
            self._pending[key] = []
        pending = self._pending[key]
        pending.append(quad.triple)
        self.quads += 1
        if len(pending) >= _BATCH:
            self._write(self.files[key], pending)
        if self._merge is not None:
            self._merge_pending.append(quad.triple)
            if len(self._merge_pending) >= _BATCH:
                self._write(self._merge, self._merge_pending)

    def close(self) -> None:
        for key, pending in self._pending.items():
            self._write(self.files[key], pending)
        if self._merge is not None:
            self._write(self._merge, self._merge_pending)
        for handle in self._open.values():
            handle.close()
        self._open.clear()

    @property
    def merge(self) -> Path | None:
        return self._merge

    def _write(self, path: Path, triples: list[ox.Triple]) -> None:
        handle = self._open.get(path)
        if handle is None:
            if len(self._open) >= _OPEN_FILES:
                self._open.pop(next(iter(self._open))).close()
            handle = self._open[path] = path.open("ab")
        handle.write(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
        triples.clear()


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _target(method: str, params: dict[str, str]) -> str:
    return f"{method} " + ("?default" if "default" in params else f"?graph=<{params['graph']}>")


def _excerpt(response: httpx.Response) -> str:
    return " ".join(response.text.split())[:200] or "(no message)"


class _GraphStore:
    """One httpx client to the Graph Store at ``url``; every failure becomes a one-line PublishError."""

    def __init__(self, url: str, auth: httpx.Auth | None, timeout: float):
        self.url = url
        self.timeout = timeout
        self.client = httpx.Client(auth=auth, trust_env=False, timeout=httpx.Timeout(timeout, connect=min(10, timeout)))

    def __enter__(self) -> "_GraphStore":
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def request(self, method: str, params: dict[str, str], body: Path | None = None) -> httpx.Response:
        target = _target(method, params)
        for attempt in (1, 2):
            try:
                if body is None:
                    response = self.client.request(method, self.url, params=params)
                else:
                    # Content-Length, not chunked: Virtuoso answers a chunked PUT with 501.
                    response = self.client.request(method, self.url, params=params, content=_chunks(body),
                                                   headers={"Content-Type": _BODY_TYPE,
                                                            "Content-Length": str(body.stat().st_size)})
                break
            except httpx.StreamConsumed:  # a digest challenge renewed mid-way: send the file again
                if attempt == 2:
                    raise PublishError(f"the Graph Store at {self.url} asked for the credentials again "
                                       "after they were accepted") from None
            except httpx.TimeoutException:
                raise PublishError(f"the Graph Store at {self.url} did not answer {target} within "
                                   f"{self.timeout:g} s (--timeout)") from None
            except httpx.TransportError as exc:
                raise PublishError(f"the Graph Store at {self.url} does not answer "
                                   f"({type(exc).__name__}: {exc or 'no connection'})") from None
        if response.status_code in (401, 403, 407):
            raise PublishError(f"the Graph Store at {self.url} refused the credentials (HTTP {response.status_code}"
                               f" on {target}): give --user and --password of an account allowed to write"
                               f"{', with --auth digest (Virtuoso)' if 'digest' in response.headers.get('www-authenticate', '').lower() else ''}")
        return response

    def probe(self) -> None:
        """Fail on a down engine, refused credentials or a URL that is no Graph Store before the dump is
        read: a GET of a graph nobody holds must answer 404 (GSP §5.6); a query endpoint answers 400,
        and Virtuoso's /sparql would wait for a PUT's body until the timeout. With digest
        authentication this also fetches the challenge, so that the streamed PUTs carry it at once.
        (Not HEAD: the Oxigraph server sends a body with its answer to HEAD, which breaks the connection.)"""
        params = {"graph": _PROBE_GRAPH}
        response = self.request("GET", params)
        if response.status_code != 404 and not response.is_success:
            raise PublishError(f"{self.url} is not a SPARQL 1.1 Graph Store endpoint: {_target('GET', params)} "
                               f"answered HTTP {response.status_code} ({_excerpt(response)}), not 404; give its "
                               "Graph Store URL (Oxigraph: /store, Virtuoso: /sparql-graph-crud-auth)")

    def put(self, params: dict[str, str], body: Path, first: bool) -> None:
        response = self.request("PUT", params, body)
        target = _target("PUT", params)
        if response.is_success:
            return
        if first and response.status_code in (400, 404, 405, 406, 415, 501):
            raise PublishError(f"{self.url} is not a SPARQL 1.1 Graph Store endpoint: {target} answered "
                               f"HTTP {response.status_code} ({_excerpt(response)}); give its Graph Store "
                               "URL (Oxigraph: /store, Virtuoso: /sparql-graph-crud-auth)")
        raise PublishError(f"the Graph Store at {self.url} refused {target} (HTTP {response.status_code}): "
                           f"{_excerpt(response)}")


def publish_nquads(nquads: Path, url: str, *, auth: httpx.Auth | None = None,
                   default_graph: Literal["merge", "none"] = "merge", timeout: float = 300.0,
                   progress: Callable[[int, int], None] | None = None) -> Published:
    """PUT every named graph of the N-Quads file ``nquads`` to the Graph Store at ``url`` (and, with
    ``default_graph="merge"``, their merge as its default graph); ``progress(done, total)`` counts
    graphs. Raises :class:`PublishError` (one line) when the store is down, refuses the credentials
    or is not a Graph Store, and ``SyntaxError`` / ``OSError`` for a dump that cannot be read."""
    if default_graph not in DEFAULT_GRAPH_CHOICES:
        raise ValueError(f"default_graph must be one of {DEFAULT_GRAPH_CHOICES}, not {default_graph!r}")
    started = time.monotonic()
    with _GraphStore(url, auth, timeout) as store, tempfile.TemporaryDirectory(prefix="thbkg-publish-") as folder:
        store.probe()
        spool = _Spool(Path(folder), merge=default_graph == "merge")
        try:
            for quad in ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS):
                spool.add(quad)
        finally:
            spool.close()
        targets = [({"graph": iri} if iri else {"default": ""}, path) for iri, path in spool.files.items()]
        if spool.merge is not None:
            targets.append(({"default": ""}, spool.merge))
        for done, (params, path) in enumerate(targets):
            store.put(params, path, first=done == 0)
            if progress:
                progress(done + 1, len(targets))
    named = sum(1 for iri in spool.files if iri)
    return Published(url, named, spool.quads, spool.merge is not None, time.monotonic() - started)
