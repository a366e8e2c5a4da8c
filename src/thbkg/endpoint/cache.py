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
    """

    def __init__(self, graph_version: str, max_bytes: int = 64 * 2**20, max_entry: int = 4 * 2**20):
        self.graph_version = graph_version
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self._entries: OrderedDict[tuple, tuple[Answer, str]] = OrderedDict()
        self._bytes = 0

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
        if size > self.max_entry or key in self._entries:
            return etag
        self._entries[key] = (answer, etag)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, (old, _) = self._entries.popitem(last=False)
            self._bytes -= len(old.body)
        return etag
