"""A bounded cache of query answers: the graph is read-only, so an answer only changes with it."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from thbkg.backend.engine import Answer

__all__ = ["ResultCache"]


class ResultCache:
    """LRU of answers keyed on the request as sent (query text, Accept header, dataset, row cap),
    within the graph version: a hit needs neither parsing nor content negotiation.

    The ETag is derived from the graph version and the key, so a client's ``If-None-Match`` can be
    answered with 304 without evaluating anything; answers larger than ``max_entry`` bytes are not
    kept, and the whole cache stays under ``max_bytes``.

    An answer is kept the second time its request is seen, not the first: a public endpoint mostly
    sees queries that never come back, and keeping those would fill the memory and push out the
    answers that are asked again. The first sighting leaves only the key's hash, among the last
    ``max_seen`` (a hash shared by two keys merely keeps an answer one request early).
    """

    def __init__(self, graph_version: str, max_bytes: int = 64 * 2**20, max_entry: int = 4 * 2**20,
                 max_seen: int = 50_000):
        self.graph_version = graph_version
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self.max_seen = max_seen
        self._entries: OrderedDict[tuple, tuple[Answer, str]] = OrderedDict()
        self._bytes = 0
        self._seen: dict[int, None] = {}  # hashes of keys seen once, oldest first

    def etag(self, key: tuple) -> str:
        digest = hashlib.sha256(repr((self.graph_version, key)).encode("utf-8")).hexdigest()[:32]
        return f'"{digest}"'

    def get(self, key: tuple) -> tuple[Answer, str] | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple, answer: Answer) -> str:
        etag = self.etag(key)
        size = len(answer.body)
        if size > self.max_entry or key in self._entries or not self._seen_before(key):
            return etag
        self._entries[key] = (answer, etag)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, (old, _) = self._entries.popitem(last=False)
            self._bytes -= len(old.body)
        return etag

    def _seen_before(self, key: tuple) -> bool:
        """Whether ``key`` was put before (and is then forgotten here); else remember it."""
        mark = hash(key)
        if mark in self._seen:
            del self._seen[mark]
            return True
        self._seen[mark] = None
        if len(self._seen) > self.max_seen:
            del self._seen[next(iter(self._seen))]
        return False
