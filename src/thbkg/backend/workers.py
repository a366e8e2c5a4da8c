"""Queries run in worker processes that can be killed at the timeout and replaced.

A thread cannot be stopped in Python, and Oxigraph evaluation holds no checkpoints we could
interrupt, so each worker is a process with its own read-only Oxigraph store and an address-space
cap. The event loop never evaluates a query: it hands the text to an idle worker and awaits the
answer on a pipe; a worker that overruns is SIGKILLed (the CPU is free at once) and a fresh one
is started in the background.

Oxigraph parses and evaluates recursively: a query chaining thousands of operators can overflow
a stack, which kills the process (SIGSEGV) rather than raising. Queries therefore run on a thread
with a large stack, and a worker that dies is reported by the signal that killed it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import signal
import sys
import threading
import types
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path

from thbkg.backend.admission import Admission
from thbkg.backend.errors import QueryFailed, QueryTimeout

__all__ = ["QueryPool", "StoreSpec"]


#: Stack of the thread that evaluates queries in a worker (a quarter of the memory cap at most).
QUERY_STACK_BYTES = 256 * 2**20
#: An answer body this large leaves a worker as raw bytes, unpickled (see ``_send_answer``).
LARGE_BODY_BYTES = 2**20
#: The status of an answer whose body follows it on the pipe as raw bytes.
_BODY_FOLLOWS = "ok, body follows"


@dataclass(frozen=True)
class StoreSpec:
    """How a worker gets its store: the release's store directory, opened read-only; and the base
    IRI relative IRIs in queries resolve against."""

    directory: Path
    base_iri: str | None = None


def _worker(conn: Connection, spec: StoreSpec, memory_bytes: int | None) -> None:
    """Worker process main: cap its memory, then serve jobs on a thread with a large stack."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    stack = QUERY_STACK_BYTES if not memory_bytes else min(QUERY_STACK_BYTES, memory_bytes // 4)
    threading.stack_size(stack)
    thread = threading.Thread(target=_serve, args=(conn, spec), name="thbkg-query")
    thread.start()
    thread.join()


def _serve(conn: Connection, spec: StoreSpec) -> None:
    """Build the engine once, then answer jobs until the pipe closes."""
    from thbkg.backend.engine import Engine
    from thbkg.sparql_guard import QueryRefused

    engine = Engine.open(spec.directory, spec.base_iri)
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        try:
            _send_answer(conn, engine.run(**job))
        except QueryRefused as exc:
            conn.send(("refused", (str(exc), exc.status)))
        except MemoryError:
            conn.send(("failed", "the query needed more memory than a query may use"))
        except Exception as exc:  # Oxigraph evaluation errors (type errors, overflows ...)
            conn.send(("failed", f"query evaluation failed: {' '.join(str(exc).split())[:300]}"))


def _send_answer(conn: Connection, answer) -> None:
    """Send ``answer`` on the pipe; a large body goes as raw bytes after the rest, not pickled with it,
    so the worker never holds a second copy of it."""
    if len(answer.body) < LARGE_BODY_BYTES:
        conn.send(("ok", answer))
    else:
        conn.send((_BODY_FOLLOWS, replace(answer, body=b"")))
        conn.send_bytes(answer.body)


class _Worker:
    def __init__(self, context, spec: StoreSpec, memory_bytes: int | None):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, spec, memory_bytes), daemon=True)
        # A worker needs pyoxigraph, not the program that started it: spawn would otherwise import the
        # main script again in every worker (for `thbkg`, the whole command line and its libraries,
        # some 60 MB and a second each). The worker's target is found by its module name.
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            self.process.start()
        finally:
            sys.modules["__main__"] = main
        child.close()

    def kill(self) -> None:
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(timeout=5)
        self.conn.close()

    async def death(self) -> str:
        """Why the worker stopped, from the signal that ended it (it has closed its pipe)."""
        for _ in range(40):
            if self.process.exitcode is not None:
                break
            await asyncio.sleep(0.05)
        code = self.process.exitcode
        if code in (-signal.SIGSEGV, -signal.SIGBUS):
            return ("the query crashed its worker, most likely by overflowing the stack: it is nested or chained "
                    "too deeply (thousands of operators, patterns or clauses in a row); simplify it")
        if code in (-signal.SIGABRT, -signal.SIGKILL):  # Rust aborts when an allocation fails
            return "the query was stopped: it needed more memory than a query may use"
        return f"the query worker stopped unexpectedly (exit status {code})"


class QueryPool:
    """A fixed number of worker processes; ``run`` is admitted to one (see :mod:`~thbkg.backend.admission`),
    with a hard timeout counted from its call.

    ``workers`` processes answer public queries; ``reserved`` more answer the queries pages ask for
    (``priority``) when every public worker is busy, so a resource page never waits behind heavy
    public queries. They start with the first page query (a server that only answers ``/sparql``
    holds none). A page query takes a free public worker first, and goes before the public queries
    waiting for one.
    """

    def __init__(self, spec: StoreSpec, *, workers: int = 4, timeout: float = 30.0,
                 memory_bytes: int | None = 2 * 2**30, reserved: int = 1, queue_length: int | None = None,
                 queue_wait: float = 5.0):
        self.spec = spec
        self.size = workers + reserved
        self.timeout = timeout
        self.memory_bytes = memory_bytes
        self.public = Admission(workers, max_waiting=queue_length if queue_length is not None else 32 * workers,
                                max_wait=min(queue_wait, timeout))
        self.reserved = Admission(reserved, max_waiting=0, max_wait=0.0)
        self._reserved_started: asyncio.Future | None = None
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._respawning: set[asyncio.Task] = set()
        self._launched: list[_Worker] = []
        self._closing = False

    async def _receive(self, worker: _Worker, timeout: float | None):
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def readable() -> None:
            if future.done():
                return
            try:
                # uvloop makes a watched descriptor non-blocking; the worker has begun writing one
                # whole message, which ``recv`` must read to its end rather than fail half-way.
                os.set_blocking(fd, True)
                message = worker.conn.recv()
                if message[0] == _BODY_FOLLOWS:
                    message = ("ok", replace(message[1], body=worker.conn.recv_bytes()))
                future.set_result(message)
            except (EOFError, OSError) as exc:
                future.set_exception(QueryFailed(f"worker stopped: {exc or 'no answer'}"))

        fd = worker.conn.fileno()
        loop.add_reader(fd, readable)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            loop.remove_reader(fd)

    def launch(self) -> None:
        """Start the public workers' processes now, without an event loop: they open the store while
        the caller goes on (the server imports its web application meanwhile); :meth:`start` then
        waits for them to be ready."""
        while len(self._launched) < self.public.slots:
            worker = _Worker(self._context, self.spec, self.memory_bytes)
            self._all.add(worker)
            self._launched.append(worker)

    async def _spawn(self, worker: _Worker | None = None) -> None:
        if worker is None:
            worker = _Worker(self._context, self.spec, self.memory_bytes)
            self._all.add(worker)
        try:
            status, _ = await self._receive(worker, timeout=300)
        except (QueryFailed, asyncio.TimeoutError):
            status = "dead"
        if status != "ready" or self._closing:
            code = worker.process.exitcode
            self._discard(worker)
            if not self._closing:
                raise QueryFailed(f"a query worker could not open the store (exit status {code}): it is "
                                  "unreadable, or needs more memory than a worker may use")
            return
        self._idle.put_nowait(worker)

    def _discard(self, worker: _Worker) -> None:
        self._all.discard(worker)
        worker.kill()

    async def start(self) -> None:
        """Start the public workers; the reserved ones start with the first page query."""
        launched, self._launched = self._launched, []
        await asyncio.gather(*(self._spawn(worker) for worker in launched),
                             *(self._spawn() for _ in range(self.public.slots - len(launched))))

    def _reserved_starting(self) -> asyncio.Future:
        """The start of the reserved workers, begun the first time it is asked for."""
        if self._reserved_started is None:
            self._reserved_started = asyncio.gather(*(self._spawn() for _ in range(self.reserved.slots)))
        return self._reserved_started

    async def _start_reserved(self) -> None:
        try:
            await asyncio.shield(self._reserved_starting())
        except QueryFailed:
            self._reserved_started = None  # tried again by the next page that needs it
            raise

    async def run(self, *, priority: bool = False, **job):
        """Evaluate ``job`` (Engine.run keyword arguments) in a worker; return its Answer.

        Raises Overloaded (503) when no worker is free within the queue's wait or the queue is full,
        QueryTimeout once ``timeout`` seconds have passed since the call (waiting included),
        QueryFailed if the worker died, and re-raises QueryRefused for queries the engine refuses.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        if priority:  # the first page: its worker starts beside it
            self._reserved_starting()
        if priority and self.public.try_acquire():
            admission = self.public
        elif priority and self.reserved.try_acquire():  # every public worker is busy: a page's own worker
            admission = self.reserved
            try:
                await self._start_reserved()
            except BaseException:
                admission.release()
                raise
        else:
            await self.public.acquire(priority=priority)
            admission = self.public
        try:
            return await self._run_admitted(job, deadline)
        finally:
            admission.release()

    async def _run_admitted(self, job: dict, deadline: float):
        from thbkg.sparql_guard import QueryRefused

        loop = asyncio.get_running_loop()
        try:  # a worker is idle, or being started in place of a stopped one
            worker = await asyncio.wait_for(self._idle.get(), max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            raise QueryTimeout(f"the query did not finish within {self.timeout:g} s: no query worker came back "
                               "in time") from None
        try:
            worker.conn.send(job)
            status, payload = await self._receive(worker, max(0.01, deadline - loop.time()))
        except asyncio.TimeoutError:
            self._replace(worker)
            raise QueryTimeout(f"the query did not finish within {self.timeout:g} s and was stopped") from None
        except (QueryFailed, OSError, EOFError):
            reason = await worker.death()
            self._replace(worker)
            raise QueryFailed(reason) from None
        except BaseException:
            self._replace(worker)  # cancelled (client gone): the worker's state is unknown
            raise
        self._idle.put_nowait(worker)
        if status == "ok":
            return payload
        if status == "refused":
            raise QueryRefused(*payload)
        raise QueryFailed(payload)

    def _replace(self, worker: _Worker) -> None:
        self._discard(worker)
        if not self._closing:
            task = asyncio.get_running_loop().create_task(self._respawn())
            self._respawning.add(task)
            task.add_done_callback(self._respawning.discard)

    async def _respawn(self) -> None:
        """Start a worker in place of a stopped one, retrying (backing off) until one starts:
        a pool that silently shrank to nothing would leave every query waiting forever."""
        delay = 1.0
        while not self._closing:
            try:
                await self._spawn()
                return
            except QueryFailed:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def close(self) -> None:
        self._closing = True
        for task in list(self._respawning):
            task.cancel()
        for worker in list(self._all):
            self._discard(worker)
