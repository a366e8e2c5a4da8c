"""The embedded backend: Oxigraph on a release's store, in worker processes killed at the timeout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from thbkg.backend.engine import Answer
from thbkg.backend.workers import QueryPool, StoreSpec
from thbkg.sparql_guard import QueryShape

__all__ = ["EmbeddedBackend"]


class EmbeddedBackend:
    """``workers`` processes each holding the store read-only (and one more for the queries pages ask,
    ``priority``); a query that overruns ``timeout`` or its ``memory_bytes`` cap stops its worker,
    which is replaced, and never delays the others. Public queries beyond the workers wait in a queue
    of ``queue_length`` for ``queue_wait`` seconds at most (503 with Retry-After past either)."""

    def __init__(self, store: Path, *, base_iri: str | None = None, workers: int = 2, timeout: float = 30.0,
                 memory_bytes: int | None = 2 * 2**30, queue_length: int | None = None, queue_wait: float = 5.0):
        self.description = f"embedded Oxigraph on {store}"
        self.pool = QueryPool(StoreSpec(directory=store, base_iri=base_iri), workers=workers, timeout=timeout,
                              memory_bytes=memory_bytes, queue_length=queue_length, queue_wait=queue_wait)

    @property
    def size(self) -> int:
        return self.pool.size

    def launch(self) -> None:
        self.pool.launch()

    async def start(self) -> None:
        await self.pool.start()

    async def close(self) -> None:
        await self.pool.close()

    async def query(self, text: str, media_type: str | None = None, *, default_graphs: Sequence[str] = (),
                    named_graphs: Sequence[str] = (), max_rows: int | None = None,
                    shape: QueryShape | None = None, priority: bool = True) -> Answer:
        return await self.pool.run(text=text, media_type=media_type, default_graphs=list(default_graphs),
                                   named_graphs=list(named_graphs), max_rows=max_rows, shape=shape,
                                   priority=priority)
