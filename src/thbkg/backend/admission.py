"""Admission control in front of a backend's slots (query workers, connections to a remote engine).

A query is admitted to one of ``slots`` at once, or waits in a bounded queue: at most ``max_waiting``
queries wait, each at most ``max_wait`` seconds. A query that cannot be admitted gets
:class:`Overloaded` (HTTP 503 with ``Retry-After``) at once or when its wait runs out, never a wait
without end, so a burst of heavy queries is answered within the timeout and the wait, whatever
comes. Queries a page asks for itself (``priority``) are admitted before queued public ones, so a
resource page keeps answering while ``/sparql`` is busy.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque

from thbkg.backend.errors import BackendError

__all__ = ["Admission", "Overloaded"]


class Overloaded(BackendError):
    """Every slot is busy and the queue is full, or the query waited its longest: try again later."""

    status = 503

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Admission:
    """``slots`` queries at once; a bounded queue, high-priority waiters first."""

    def __init__(self, slots: int, *, max_waiting: int, max_wait: float):
        self.slots = slots
        self.max_waiting = max_waiting
        self.max_wait = max_wait
        self._free = slots
        self._queues: dict[bool, deque[asyncio.Future]] = {True: deque(), False: deque()}

    @property
    def waiting(self) -> int:
        return sum(not f.done() for queue in self._queues.values() for f in queue)

    def try_acquire(self) -> bool:
        """Take a free slot if there is one and nobody waits for it; never wait."""
        if self._free > 0 and not self.waiting:
            self._free -= 1
            return True
        return False

    async def acquire(self, *, priority: bool = False, wait: float | None = None) -> None:
        """Take a slot, waiting at most ``wait`` seconds (``max_wait`` at most); raise Overloaded."""
        if self.try_acquire():
            return
        if self.waiting >= self.max_waiting:
            raise Overloaded(f"the endpoint is busy: {self.slots} queries are running and {self.waiting} are "
                             "waiting; try again in a few seconds", retry_after=self.max_wait)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._queues[priority].append(future)
        limit = self.max_wait if wait is None else max(0.0, min(wait, self.max_wait))
        try:
            await asyncio.wait_for(future, limit)
        except asyncio.TimeoutError:
            if future.done() and not future.cancelled():  # admitted just as the wait ran out
                self.release()
            raise Overloaded(f"the endpoint is busy: no query slot came free within {limit:g} s; try again "
                             "in a few seconds", retry_after=limit) from None
        except asyncio.CancelledError:  # the client left while waiting
            if future.done() and not future.cancelled():
                self.release()
            raise

    def release(self) -> None:
        """Give the slot to the first live waiter (high priority first), else free it."""
        for priority in (True, False):
            queue = self._queues[priority]
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result(None)
                    return
        self._free += 1
