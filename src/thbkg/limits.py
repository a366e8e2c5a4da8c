"""Bounds on the time and memory a command may use, so hostile input cannot hang or exhaust it."""

from __future__ import annotations

import resource
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LimitExceeded", "bounded"]


class LimitExceeded(Exception):
    """The work took longer, or wanted more memory, than it was allowed."""


@contextmanager
def bounded(seconds: float | None = None, memory_bytes: int | None = None) -> Iterator[None]:
    """Run the block under a wall-clock limit (main thread only) and an address-space cap.

    Both are restored when the block ends.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if memory_bytes:
        cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        if soft == resource.RLIM_INFINITY or soft > cap:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    use_alarm = bool(seconds) and threading.current_thread() is threading.main_thread()
    if use_alarm:
        def expire(signum, frame):
            raise LimitExceeded(f"gave up after {seconds:g} s")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except MemoryError:
        raise LimitExceeded("ran out of memory" + (f" (limit {memory_bytes / 2**30:.1f} GiB)" if memory_bytes else "")) from None
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
