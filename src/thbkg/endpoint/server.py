"""Starting the endpoint: load and validate the graph, prepare the store, run uvicorn."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from thbkg.catalogue import add_query_graph, write_dumps
from thbkg.endpoint.pool import StoreSpec
from thbkg.graph import LoadedDataset, load_dataset
from thbkg.namespaces import BASE
from thbkg.queries import load_queries
from thbkg.validate import validate_dataset

__all__ = ["ServeError", "prepare_store", "serve"]


#: Longest request target (path and query string) and header block a request may have, checked on
#: every complete request head (answered 414 and 431).
MAX_URL_BYTES = 32 * 1024
MAX_HEADER_BYTES = 32 * 1024
#: Most bytes of a request head buffered while it is still arriving: httptools keeps the URL and
#: headers it has read so far without a bound, so the connection is closed with 431 past this.
MAX_INCOMPLETE_HEAD_BYTES = MAX_URL_BYTES + MAX_HEADER_BYTES + 1024
#: Longest request target written to the access log.
LOGGED_URL_CHARS = 2000


class ServeError(Exception):
    """The endpoint cannot start: the graph does not load or does not conform, or the store is unusable."""


class _RequestLimits:
    """ASGI wrapper answering an over-long URL with 414 and an over-large header block with 431."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            header_bytes = sum(len(name) + len(value) + 4 for name, value in scope.get("headers", ()))
            refusal = None
            if target > MAX_URL_BYTES:
                refusal = 414, (f"URL over {MAX_URL_BYTES // 1024} KiB: send a long query by POST, "
                                "as application/sparql-query or a form")
            elif header_bytes > MAX_HEADER_BYTES:
                refusal = 431, f"request headers over {MAX_HEADER_BYTES // 1024} KiB"
            if refusal:
                body = f"{refusal[0]} {refusal[1]}\n".encode()
                await send({"type": "http.response.start", "status": refusal[0],
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                        (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class _BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on a request head that has not ended yet.

    The bytes received while a head is incomplete are counted after each read (so a body that
    arrives in the same read as its head is not counted); past the bound the client gets 431
    and the connection is closed. The memory held is at most the bound plus one read.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._in_head or self.transport.is_closing():
            return
        self._head_bytes += len(data)
        if self._head_bytes > MAX_INCOMPLETE_HEAD_BYTES:
            body = f"431 request head over {MAX_INCOMPLETE_HEAD_BYTES // 1024} KiB\n".encode()
            self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                 b"content-type: text/plain; charset=utf-8\r\n"
                                 b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
                                 + body)
            self.transport.close()


class _ShortURLs(logging.Filter):
    """Cut the request target in access-log lines: a 30 KB URL must not become a 30 KB log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args  # uvicorn's: client, method, path and query, HTTP version, status
        if isinstance(args, tuple) and len(args) >= 3 and len(str(args[2])) > LOGGED_URL_CHARS:
            record.args = (*args[:2], str(args[2])[:LOGGED_URL_CHARS] + "...", *args[3:])
        return True


def prepare_store(loaded: LoadedDataset, store: str, scratch: Path) -> StoreSpec:
    """``memory``: an N-Quads dump each worker loads; a directory: a persistent Oxigraph store,
    built on first use and opened read-only afterwards (load once, start fast)."""
    import pyoxigraph as ox

    from thbkg.engine import store_from_dataset

    if store == "memory":
        dump = scratch / "graph.nq"
        dump.write_bytes(loaded.dataset.serialize(format="nquads", encoding="utf-8"))
        return StoreSpec(nquads=dump, base_iri=BASE)
    directory = Path(store)
    marker = directory / "thbkg-store.ok"
    if not marker.exists():
        directory.mkdir(parents=True, exist_ok=True)
        try:
            store_from_dataset(loaded, directory)  # flushed; dropping it closes the store
        except OSError as exc:
            raise ServeError(f"cannot build the store in {directory}: {exc}") from None
        marker.write_text("complete\n")
    else:
        # A store written by another tool (`oxigraph load`, `oxigraph update`) may still hold its last
        # writes in RocksDB's log, which every read-only opening replays in memory: each query worker
        # would take a gigabyte and many seconds for a million quads, and could meet its memory cap.
        # Opened once read-write here, the log is written into the store's files.
        try:
            ox.Store(str(directory)).flush()
        except OSError:
            pass  # in use by another process, or read-only: it is opened read-only below all the same
    try:
        ox.Store.read_only(str(directory))
    except OSError as exc:
        raise ServeError(f"cannot open the store in {directory}: {exc}") from None
    return StoreSpec(directory=directory, base_iri=BASE)


def serve(host: str, port: int, store: str, settings, processes: int = 1, log_level: str = "info",
          access_log: bool = False) -> None:
    """Load, validate and serve the bundled graph until interrupted (Ctrl-C stops cleanly).

    With ``processes`` over 1, that many web processes share the listening socket (see
    :mod:`thbkg.endpoint.processes`), each with ``settings.workers`` query workers. ``access_log``
    writes a line per request (a quarter of the peak throughput of cached answers).
    """
    import uvicorn

    from thbkg.endpoint.app import create_app
    from thbkg.endpoint.processes import StartupFailed, run_processes

    loaded = load_dataset()
    validation = validate_dataset(loaded)
    if not validation.conforms:
        raise ServeError("the graph does not conform to its shapes; run `thbkg validate` for the report")
    with tempfile.TemporaryDirectory(prefix="thbkg-") as scratch:
        queries = load_queries()
        add_query_graph(loaded.dataset, queries, settings.public_url.rstrip("/") + "/sparql")
        spec = prepare_store(loaded, store, Path(scratch))
        dumps = write_dumps(loaded, Path(scratch) / "download")
        app = create_app(loaded, spec, settings, queries, dumps)
        logging.getLogger("uvicorn.access").addFilter(_ShortURLs())
        config = uvicorn.Config(_RequestLimits(app), host=host, port=port, log_level=log_level,
                                timeout_graceful_shutdown=5, http=_BoundedHttpToolsProtocol, loop="auto",
                                access_log=access_log)
        try:
            if processes > 1:
                run_processes(config, processes)
            else:
                uvicorn.Server(config).run()
        except KeyboardInterrupt:  # uvicorn raises Ctrl-C again once it has stopped gracefully
            pass
        except (StartupFailed, SystemExit) as exc:  # uvicorn exits 3 when the application cannot start
            if isinstance(exc, SystemExit) and exc.code in (0, None):
                return
            raise ServeError("the endpoint could not start; the log above says why (for the query workers: "
                             "an unreadable store, or one needing more memory than a worker may use)") from None
