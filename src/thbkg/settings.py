"""What `thbkg serve` is asked for: one settings object, whose defaults are the command line's."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULTS", "Settings"]


@dataclass(frozen=True)
class Settings:
    """The server's limits and backend; `thbkg serve`'s options take their defaults from here."""

    public_url: str = "http://127.0.0.1:8000"
    #: Seconds a query may run (a worker is stopped, a remote request abandoned, past it).
    timeout: float = 30.0
    #: SELECT answers are cut after this many rows, and say so.
    max_rows: int = 100_000
    #: Query worker processes per web process.
    workers: int = 2
    #: Address space each query worker may use.
    memory_bytes: int | None = 2 * 2**30
    #: Keep answers (the graph is read-only) and answer If-None-Match with 304.
    cache: bool = True
    #: A remote SPARQL 1.1 query endpoint to answer from, instead of the release's embedded store.
    backend_url: str | None = None
    #: Most requests in flight to the remote engine at once (per web process).
    backend_connections: int = 8
    #: Public queries that may wait for a worker (or an engine connection) when all are busy; None:
    #: 32 per worker. A query beyond it gets 503 with Retry-After at once.
    queue_length: int | None = None
    #: Seconds a public query waits for a worker at most (within its timeout), then 503 with Retry-After.
    queue_wait: float = 5.0


DEFAULTS = Settings()
