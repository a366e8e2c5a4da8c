"""Repeated SPARQL requests answered from the cache at the ASGI layer, before routing.

The graph is read-only, so most of a busy endpoint's traffic is queries it has answered before.
Such a request needs none of FastAPI's routing, dependency solving and middleware: this wrapper
reads it as ``/sparql`` would (the same protocol reader, cache key and response builder of
:class:`~thbkg.endpoint.app.ThbSparqlRouter`) and, on a cache hit, sends the cached answer itself,
with the CORS headers the application's CORS middleware would add. Anything else (a miss, an
error, another path) goes on to the application unchanged, its body replayed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from thbkg.endpoint.protocol import MAX_BODY, ProtocolError, read_request

__all__ = ["CORS_EXPOSED", "PARSED", "CachedAnswers"]

#: Where a request this wrapper has read, and found in no cache, is left for /sparql in the ASGI scope.
PARSED = "thbkg.sparql-request"

#: Response headers browsers may read across origins (CORS ``*``, never with credentials).
CORS_EXPOSED = ("X-THBKG-Truncated", "Warning")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_CORS_HEADERS = {"access-control-allow-origin": "*", "access-control-expose-headers": ", ".join(CORS_EXPOSED)}


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` back once, then what the client sends next (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> MutableMapping[str, Any]:
        return pending.pop() if pending else await receive()

    return replay


class CachedAnswers:
    """ASGI wrapper: a cache hit on ``path`` is answered here; everything else goes to ``app``."""

    def __init__(self, app, router, path: str = "/sparql"):
        self.app = app
        self.router = router  # a ThbSparqlRouter: cache, cache_key() and respond()
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.router.cache is None or scope["type"] != "http" or scope["path"] != self.path
                or scope["method"] not in ("GET", "HEAD", "POST")):
            await self.app(scope, receive, send)
            return
        headers = {name: value.decode("latin-1") for name, value in scope["headers"]
                   if name in (b"accept", b"content-type", b"content-length", b"if-none-match", b"origin")}
        body = b""
        if scope["method"] == "POST":
            length = headers.get("content-length", "")
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
        hit = None
        try:
            operation = read_request(scope["method"], scope["query_string"].decode("latin-1"),
                                     headers.get("content-type"), body)
        except ProtocolError:
            operation = None
        if operation is not None and operation.query is not None:
            hit = self.router.cache.get(self.router.cache_key(operation, headers.get("accept")))
        if hit is None:
            if operation is not None:  # read once: /sparql takes it from here and knows the cache missed
                scope[PARSED] = operation
            await self.app(scope, receive, send)
            return
        response = self.router.respond(scope["method"], headers.get("if-none-match"), *hit)
        if "origin" in headers:
            response.headers.update(_CORS_HEADERS)
        await response(scope, receive, send)
