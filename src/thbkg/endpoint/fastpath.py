"""SPARQL queries answered at the ASGI layer, before routing: from the cache, else from the backend.

A query needs none of FastAPI's routing, dependency solving and middleware, which cost more than
Oxigraph takes to answer a simple query: this wrapper reads it as ``/sparql`` would (the same
protocol reader, guard, choice of format and answer of :class:`~thbkg.endpoint.app.ThbSparqlRouter`)
and sends the response itself, from the cache when it holds the answer (the graph is read-only),
else from the backend. The cache is keyed on the format the answer is sent in (negotiated from
Accept, or named by ``format=``), never on the Accept text. Anything else (the service
description, a refused or malformed request, a query too large to check in the event loop,
another path) goes on to the application, its body replayed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from thbkg.endpoint.protocol import MAX_BODY, ProtocolError, read_request
from thbkg.sparql_guard import QueryRefused

__all__ = ["CORS_EXPOSED", "CORS_HEADERS", "SparqlFastPath", "accept_of", "etag_matches"]

#: Response headers browsers may read across origins (CORS ``*``, never with credentials).
CORS_EXPOSED = ("X-THBKG-Truncated", "Warning")
#: Sent with every SPARQL answer, whether or not the request said where it came from.
CORS_HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": ", ".join(CORS_EXPOSED)}

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_READ = {b"accept": "accept", b"content-type": "content-type", b"content-length": "content-length",
         b"if-none-match": "if-none-match"}


def accept_of(values: list[str]) -> str | None:
    """One Accept header of however many the request has (RFC 9110: the same as one, comma-joined)."""
    return ", ".join(values) if values else None


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, lists and ``*`` as RFC 9110 says)."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` back once, then what the client sends next (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> MutableMapping[str, Any]:
        return pending.pop() if pending else await receive()

    return replay


class SparqlFastPath:
    """ASGI wrapper answering the SPARQL queries sent to ``path`` itself; everything else goes to ``app``."""

    def __init__(self, app, router, path: str = "/sparql"):
        self.app = app
        self.router = router  # a ThbSparqlRouter: plan() and answer()
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] not in ("GET", "HEAD", "POST"):
            await self.app(scope, receive, send)
            return
        headers: dict[str, list[str]] = {}
        for name, value in scope["headers"]:
            if name in _READ:
                headers.setdefault(_READ[name], []).append(value.decode("latin-1"))

        def header(name: str) -> str | None:
            values = headers.get(name)
            return values[0] if values else None

        body = b""
        if scope["method"] == "POST":
            length = header("content-length") or ""
            if not length.isdigit() or int(length) > MAX_BODY:  # chunked or too large: the app decides
                await self.app(scope, receive, send)
                return
            chunks, more = [], True
            while more:
                message = await receive()
                if message["type"] != "http.request":  # the client left
                    return
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            receive = _replaying(body, receive)
        try:
            operation = read_request(scope["method"], scope["query_string"].decode("latin-1"),
                                     header("content-type"), body)
            planned = None  # the service description, or a large query the application checks off the loop
            if operation.query is not None and len(operation.query) <= 64 * 1024:
                planned = self.router.plan(operation, accept_of(headers.get("accept", [])))
        except (ProtocolError, QueryRefused):  # the application answers with the error
            planned = None
        if planned is None:
            await self.app(scope, receive, send)
            return
        response = await self.router.answer(scope["method"], header("if-none-match"), operation, *planned)
        response.headers["vary"] = ", ".join(filter(None, (response.headers.get("vary"), "Origin")))
        await response(scope, receive, send)
