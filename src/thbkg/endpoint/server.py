"""Starting the endpoint over a built release: check the port, build the app, run uvicorn."""

from __future__ import annotations

import errno
import logging
import re
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from thbkg.build.release import Release

__all__ = ["ServeError", "check_port", "serve"]


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
    """The endpoint cannot start: the release does not conform, the port is taken, the backend is down."""


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


_UPGRADE_HEADER = re.compile(rb"\r\nupgrade[ \t]*:", re.IGNORECASE)
_UPGRADE_NAME = b"\r\nupgrade"
_IGNORED_UPGRADE = b"\r\nx-thbkg-ignored-upgrade:"


class _BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on a request head that has not ended yet, and
    requests to upgrade the connection (other than to WebSocket) answered over HTTP/1.1.

    The bytes received while a head is incomplete are counted after each read (so a body that
    arrives in the same read as its head is not counted); past the bound the client gets 431
    and the connection is closed. The memory held is at most the bound plus one read.

    Java's HTTP client (Apache Jena, every JVM tool on Java 11+) sends ``Upgrade: h2c`` with its
    requests. An upgrade request makes httptools stop at the end of the head and drop the body,
    so each POST reached the application empty. The server may ignore an upgrade (RFC 9110 7.8):
    the ``Upgrade`` header of a request head is renamed before httptools reads it, and the
    request is answered as the HTTP/1.1 request it also is.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._held = b""  # the end of a read that may begin an Upgrade header name, kept for the next
        self._head_next = True  # the next read is (more of) a request head
        self._passed = b""  # the last bytes of the head passed on to httptools so far

    def _without_upgrade(self, data: bytes) -> bytes:
        """``data`` (more of a request head, and what follows it) with any ``Upgrade`` header renamed.

        What may be the start of an ``Upgrade`` header name at the end of an unfinished head is kept
        back for the next read, which must come: a head cannot end without more bytes. The last
        bytes passed on are remembered, so that a head end cut across reads is seen."""
        data, self._held = self._held + data, b""
        end = (self._passed + data).find(b"\r\n\r\n")
        cut = len(data) if end < 0 else end + 4 - len(self._passed)
        head, rest = _UPGRADE_HEADER.sub(_IGNORED_UPGRADE, data[:cut]), data[cut:]
        if end < 0:
            trimmed = head.rstrip(b" \t").lower()
            if trimmed.endswith(_UPGRADE_NAME):
                keep = len(head) - len(trimmed) + len(_UPGRADE_NAME)
            else:
                keep = next((k for k in range(len(_UPGRADE_NAME) - 1, 0, -1) if head[-k:].lower() ==
                             _UPGRADE_NAME[:k]), 0)
            if keep:
                self._held, head = head[-keep:], head[:-keep]
        self._passed = (self._passed + head)[-3:] if end < 0 else b""
        return head + rest

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_next = True  # what comes next on the connection is the head of another request
        self._passed = self._held = b""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = self._head_next = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._head_next:
            data = self._without_upgrade(data)
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


def check_port(host: str, port: int) -> None:
    """Refuse at once a port that another program holds (before anything is loaded)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"port {port} on {host} is already in use: stop the program using it or choose "
                                 "another with --port") from None
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(release: Release, host: str, port: int, settings, processes: int = 1, log_level: str = "info",
          access_log: bool = False) -> None:
    """Serve ``release`` until interrupted (Ctrl-C stops cleanly).

    With ``processes`` over 1, that many web processes share the listening socket (see
    :mod:`thbkg.endpoint.processes`), each with its own backend (``settings.workers`` query workers,
    or a connection pool to ``settings.backend_url``). ``access_log`` writes a line per request.
    """
    import uvicorn

    from thbkg.endpoint.backends import make_backend

    backend = None
    if processes == 1:  # its query workers open the store while the web application is imported
        backend = make_backend(release, settings)
        backend.launch()

    from thbkg.endpoint.app import create_app
    from thbkg.endpoint.processes import StartupFailed, run_processes

    app = create_app(release, settings, backend)
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
        raise ServeError("the endpoint could not start; the log above says why (the backend: a store the "
                         "workers cannot open, or a remote engine that does not answer)") from None
