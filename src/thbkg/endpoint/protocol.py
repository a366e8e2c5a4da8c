"""SPARQL 1.1 Protocol requests: reading the operation from GET or POST, and content negotiation.

This is where rdflib-endpoint 0.6's request defects are avoided: the form body is decoded once,
repeated or conflicting parameters and wrong content types are refused, the charset is honoured,
``default-graph-uri`` / ``named-graph-uri`` are kept, and Accept q-values decide the format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

__all__ = ["MAX_BODY", "ProtocolError", "SparqlRequest", "negotiate", "parse_accept", "read_request"]

MAX_BODY = 1024 * 1024
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class ProtocolError(Exception):
    """A request the protocol does not allow: carries the HTTP status and a short message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class SparqlRequest:
    query: str | None = None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    #: The ``format`` / ``output`` parameter (Virtuoso's, Fuseki's): a format asked for by name, over Accept.
    format: str | None = None


def _pairs(text: str, where: str) -> list[tuple[str, str]]:
    if _BAD_PERCENT.search(text):
        raise ProtocolError(400, f"malformed percent-encoding in the {where}: '%' must be followed by two hex digits")
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ProtocolError(400, f"the {where} is not valid UTF-8 once percent-decoded") from None
    except ValueError as exc:
        raise ProtocolError(400, f"malformed {where}: {exc}") from None


def _from_pairs(pairs: list[tuple[str, str]], request: SparqlRequest, method: str) -> SparqlRequest:
    names = [name for name, _ in pairs]
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is not accepted")
    queries = [value for name, value in pairs if name == "query"]
    if len(queries) > 1:
        raise ProtocolError(400, "the request has more than one 'query' parameter")
    if queries:
        request.query = queries[0]
    formats = {value.strip() for name, value in pairs if name in ("format", "output")}
    if len(formats) > 1 or (formats and request.format is not None and request.format not in formats):
        raise ProtocolError(400, "the request names more than one format (format= / output=): give one")
    if formats:
        request.format = formats.pop()
    request.default_graphs += [v for n, v in pairs if n == "default-graph-uri"]
    request.named_graphs += [v for n, v in pairs if n == "named-graph-uri"]
    return request


def _decode(body: bytes, content_type: str) -> str:
    """The body as text: SPARQL 1.1 Protocol requires UTF-8, so any other charset is refused."""
    match = re.search(r";\s*charset\s*=\s*\"?([\w.:-]+)", content_type, re.IGNORECASE)
    if match and match.group(1).lower().replace("_", "-") not in ("utf-8", "utf8", "us-ascii", "ascii"):
        raise ProtocolError(415, f"charset {match.group(1)[:40]!r} is not accepted: SPARQL queries are sent as UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, "the request body is not valid UTF-8: send the query as UTF-8") from None


def read_request(method: str, raw_query_string: str, content_type: str | None, body: bytes) -> SparqlRequest:
    """Turn an HTTP request into a SPARQL operation, or raise ProtocolError (4xx)."""
    request = _from_pairs(_pairs(raw_query_string, "URL query string"), SparqlRequest(), method)
    if method in ("GET", "HEAD"):
        if body:
            raise ProtocolError(400, "a GET request carries the query in the URL, not in a body")
    elif method == "POST":
        if len(body) > MAX_BODY:
            raise ProtocolError(413, f"request body over {MAX_BODY // 1024} KiB")
        media = (content_type or "").split(";")[0].strip().lower()
        if media == "application/x-www-form-urlencoded":
            if request.query is not None:
                raise ProtocolError(400, "the query is given both in the URL and in the form body")
            request = _from_pairs(_pairs(_decode(body, content_type or ""), "form body"), request, method)
        elif media == "application/sparql-query":
            if request.query is not None:
                raise ProtocolError(400, "the query is given both in the URL and in the body")
            request.query = _decode(body, content_type or "")
        elif media == "application/sparql-update":
            raise ProtocolError(403, "this endpoint is read-only: SPARQL Update is not accepted")
        elif not media:
            raise ProtocolError(415, "missing Content-Type: use application/sparql-query or "
                                     "application/x-www-form-urlencoded")
        else:
            raise ProtocolError(415, f"unsupported Content-Type {media[:60]!r}: use application/sparql-query or "
                                     "application/x-www-form-urlencoded")
    if request.query is not None:
        if not request.query.strip():
            raise ProtocolError(400, "the query is empty")
        if "\x00" in request.query:
            raise ProtocolError(400, "the query contains a NUL character")
    return request


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header with their q-values, best first (stable)."""
    if not header:
        return [("*/*", 1.0)]
    ranges = []
    for position, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            if param.lower().startswith("q="):
                try:
                    q = max(0.0, min(1.0, float(param[2:])))
                except ValueError:
                    q = 0.0
        ranges.append((media, q, position))
    ranges.sort(key=lambda r: (-r[1], r[0].count("*"), r[2]))
    return [(media, q) for media, q, _ in ranges]


def negotiate(header: str | None, offered: list[str], aliases: dict[str, str] | None = None) -> str | None:
    """The offered media type the client prefers, or None when none is acceptable (406).

    Each offered type takes the q-value of the most specific range matching it (RFC 9110), so
    ``*/*;q=0.1, text/csv;q=0`` excludes CSV; ties go to the first offered type.
    """
    aliases = aliases or {}
    ranges = [(aliases.get(media, media), q) for media, q in parse_accept(header)]

    def quality(candidate: str) -> float:
        major = candidate.split("/")[0]
        found: tuple[int, float] | None = None
        for media, q in ranges:
            specificity = 3 if media == candidate else 2 if media == f"{major}/*" else 1 if media == "*/*" else 0
            if specificity and (found is None or specificity > found[0]):
                found = (specificity, q)
        return found[1] if found else 0.0

    q, _, choice = max((quality(candidate), -rank, candidate) for rank, candidate in enumerate(offered))
    return choice if q > 0 else None
