"""Several web processes on one listening socket, forked from the process that loaded the graph.

One Python process answers HTTP on one core at most. The graph is loaded, validated and the
application built once; the process then binds the socket and forks ``processes`` children that
each run uvicorn on it (the kernel hands each new connection to one of them) with their own query
pool, sharing the loaded graph copy-on-write. uvicorn's own multi-process supervisor starts its
children with ``spawn``, which would pickle the application and load the graph again in each.

The parent only supervises: Ctrl-C (SIGINT, which a terminal also sends to the children) or
SIGTERM stops every child gracefully; a child that dies on its own is replaced.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import signal
import socket
import time
from collections.abc import Iterator

import uvicorn
from uvicorn.config import STARTUP_FAILURE

__all__ = ["StartupFailed", "run_processes"]

logger = logging.getLogger("uvicorn.error")

#: Seconds a child has to stop after SIGTERM (uvicorn's graceful shutdown, then the query pool).
STOP_GRACE = 15.0
#: A child that dies sooner than this after its start is restarted only after a pause.
RESTART_PAUSE = 2.0


class StartupFailed(Exception):
    """A web process could not start (its query workers could not open the store, the port ...)."""


class _ChildServer(uvicorn.Server):
    """uvicorn in a child: the parent decides when to stop, by SIGTERM; SIGINT is ignored, since a
    terminal's Ctrl-C reaches the whole process group and the parent forwards it once."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, self.handle_exit)
        yield


def _child(config: uvicorn.Config, sockets: list) -> None:
    from thbkg.logs import quiet_library_logs

    quiet_library_logs()  # a spawned process starts with logging as it was before the command line ran
    _ChildServer(config).run(sockets=sockets)


def run_processes(config: uvicorn.Config, processes: int) -> None:
    """Serve ``config`` from ``processes`` forked children until SIGINT or SIGTERM.

    Raises :class:`StartupFailed` (after stopping the others) when a child cannot start.
    """
    # uvicorn's socket is made with protocol 0, so asyncio does not see it as TCP and leaves Nagle's
    # algorithm on for its connections: each small response then waits for a delayed ACK (40 ms).
    # Wrapped again from its descriptor, the socket reports IPPROTO_TCP and gets TCP_NODELAY.
    sock = socket.socket(fileno=config.bind_socket().detach())
    context = multiprocessing.get_context("fork")
    children: dict[int, tuple[multiprocessing.Process, float]] = {}
    stopping = False

    def start(slot: int) -> None:
        # Not daemonic: a child starts its own query-worker processes.
        process = context.Process(target=_child, args=(config, [sock]), name=f"thbkg-web-{slot}")
        process.start()
        children[slot] = (process, time.monotonic())

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for slot in range(processes):
            start(slot)
        while not stopping:
            sentinels = {process.sentinel: slot for slot, (process, _) in children.items()}
            ready = multiprocessing.connection.wait(list(sentinels), timeout=0.5)
            for sentinel in ready:
                if stopping:
                    break
                slot = sentinels[sentinel]
                process, started = children[slot]
                process.join()
                if process.exitcode == STARTUP_FAILURE:  # would fail again: stop rather than loop
                    raise StartupFailed("a web process could not start; the log above says why")
                logger.error("web process %s stopped unexpectedly (exit status %s); starting another",
                             process.pid, process.exitcode)
                if time.monotonic() - started < RESTART_PAUSE:
                    time.sleep(RESTART_PAUSE)
                start(slot)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the stop
        for process, _ in children.values():
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for process, _ in children.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
