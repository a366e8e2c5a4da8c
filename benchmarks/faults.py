"""Load and fault benchmarks (issue 10): does `thbkg serve` hold, and recover without a restart?

Four scenarios on one graph, each reporting requests, errors, p50/p99 and whether the server
recovered on its own:

- **soak**: ``--clients`` clients x ``--seconds`` of fresh point lookups (each text new), /health
  probed throughout;
- **burst**: 12 heavy queries at once (a three-way cross product each, run to the timeout) with a
  cheap probe (/health, a cached query, a resource page) meanwhile;
- **worker killed**: fresh point lookups while one query worker is SIGKILLed mid-load;
- **remote engine stopped**: `thbkg serve --backend` in front of Oxigraph's server, which is
  stopped and started again mid-load (errors while it is down must be fast 502/503, not hangs).

    python benchmarks/faults.py [--dataset bundled|100k|1m] [--clients 32] [--seconds 60]

Clients are Python (httpx, asyncio): this measures holding and recovering, not peak throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from servers import BIN, GatewayServer, OxigraphServer, ThbkgServer
from synthetic import CACHE, bundled_dataset, parse_size, synthetic_dataset

POINT = ("SELECT ?p ?o WHERE {{ <https://w3id.org/thbkg/id/organisation/miprof> ?p ?o }} # fresh {n}")
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} # heavy {n}"
CHEAP = "ASK { ?s ?p ?o } # cached probe"
PAGE = "/id/organisation/miprof"
_SERIAL = itertools.count()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Tally:
    """Latencies of successful requests and the statuses / failures of the others."""

    ok: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    slowest_error: float = 0.0

    def add(self, status: int | str, seconds: float) -> None:
        if status == 200:
            self.ok.append(seconds)
        else:
            self.errors[str(status)] = self.errors.get(str(status), 0) + 1
            self.slowest_error = max(self.slowest_error, seconds)

    def line(self, name: str, recovered: bool | None) -> str:
        ok = sorted(self.ok)
        p50 = statistics.median(ok) * 1000 if ok else float("nan")
        p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))] * 1000 if ok else float("nan")
        errors = sum(self.errors.values())
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) or "-"
        back = "-" if recovered is None else ("yes" if recovered else "NO")
        return (f"{name:<24} {len(ok) + errors:>9,} {errors:>7,}  {p50:>8.1f} {p99:>8.1f}  "
                f"{self.slowest_error * 1000:>9.0f}  {back:<9} {detail}")


async def _ask(client: httpx.AsyncClient, url: str, query: str, tally: Tally, timeout: float) -> int | str:
    began = time.perf_counter()
    try:
        response = await client.post(url, data={"query": query}, timeout=timeout,
                                     headers={"Accept": "application/sparql-results+json"})
        status: int | str = response.status_code
    except httpx.TimeoutException:
        status = "client timeout"
    except httpx.TransportError as exc:
        status = type(exc).__name__
    tally.add(status, time.perf_counter() - began)
    return status


async def load(url: str, clients: int, seconds: float, timeout: float, during=None) -> Tally:
    """``clients`` loops of fresh point lookups for ``seconds``; ``during(elapsed)`` runs beside them."""
    tally = Tally()
    stop = time.perf_counter() + seconds

    async def client_loop() -> None:
        async with httpx.AsyncClient() as client:
            while time.perf_counter() < stop:
                await _ask(client, url, POINT.format(n=next(_SERIAL)), tally, timeout)

    tasks = [asyncio.create_task(client_loop()) for _ in range(clients)]
    if during:
        tasks.append(asyncio.create_task(during()))
    await asyncio.gather(*tasks)
    return tally


async def recovered(url: str, timeout: float, within: float = 30.0) -> bool:
    """Does the server answer fresh queries again, 5 in a row, within ``within`` seconds?"""
    deadline = time.perf_counter() + within
    async with httpx.AsyncClient() as client:
        streak = 0
        while time.perf_counter() < deadline and streak < 5:
            status = await _ask(client, url, POINT.format(n=next(_SERIAL)), Tally(), timeout)
            streak = streak + 1 if status == 200 else 0
            if streak == 0:
                await asyncio.sleep(0.2)
        return streak >= 5


def workers_of(pid: int) -> list[psutil.Process]:
    """The live query workers under ``pid`` (a killed one is a zombie until its parent reaps it)."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "multiprocessing.spawn" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


async def soak(server: ThbkgServer, clients: int, seconds: float, timeout: float) -> str:
    health = Tally()

    async def probe() -> None:
        async with httpx.AsyncClient() as client:
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                began = time.perf_counter()
                try:
                    status = (await client.get(server.url.rsplit("/", 1)[0] + "/health", timeout=timeout)).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                health.add(status, time.perf_counter() - began)
                await asyncio.sleep(0.5)

    tally = await load(server.url, clients, seconds, timeout, probe)
    return "\n".join([tally.line(f"soak {clients}x{seconds:g}s", await recovered(server.url, timeout)),
                      health.line("  /health meanwhile", None)])


async def burst(server: ThbkgServer, timeout: float) -> str:
    base = server.url.rsplit("/", 1)[0]
    heavy, probes = Tally(), Tally()
    async with httpx.AsyncClient() as client:
        await client.post(server.url, data={"query": CHEAP})  # cached from now on
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                for request in (client.get(base + "/health"), client.post(server.url, data={"query": CHEAP}),
                                client.get(base + PAGE, headers={"Accept": "text/html"})):
                    began = time.perf_counter()
                    try:
                        status = (await request).status_code
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    probes.add(status, time.perf_counter() - began)
                await asyncio.sleep(0.2)

        prober = asyncio.create_task(probe())
        await asyncio.gather(*(_ask(client, server.url, HEAVY.format(n=next(_SERIAL)), heavy, timeout * 4)
                               for _ in range(12)))
        done.set()
        await prober
    return "\n".join([heavy.line("burst 12 heavy", await recovered(server.url, timeout)),
                      probes.line("  probes meanwhile", None)])


async def worker_killed(server: ThbkgServer, clients: int, timeout: float) -> str:
    before = len(workers_of(server.process.pid))

    async def kill() -> None:
        await asyncio.sleep(3)
        victims = workers_of(server.process.pid)
        if victims:
            os.kill(victims[0].pid, signal.SIGKILL)
            log(f"killed worker {victims[0].pid}")

    tally = await load(server.url, clients, 10, timeout, kill)
    back = await recovered(server.url, timeout)
    await asyncio.sleep(2)
    return tally.line("worker killed mid-load", back and len(workers_of(server.process.pid)) >= before)


async def engine_restarted(dataset, work: Path, clients: int, timeout: float) -> str:
    engine = OxigraphServer(dataset, work, timeout)
    engine.start(load_timeout=900)
    gateway = GatewayServer(dataset, work, timeout, 2, 1, backend=engine.url)
    gateway.start(load_timeout=900)
    command = engine.command()
    try:
        async def outage() -> None:
            await asyncio.sleep(4)
            os.killpg(engine.process.pid, signal.SIGTERM)
            engine.process.wait()
            log("remote engine stopped")
            await asyncio.sleep(4)
            engine.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                              start_new_session=True)
            log("remote engine started again")

        tally = await load(gateway.url, clients, 16, timeout, outage)
        return tally.line("remote engine restarted", await recovered(gateway.url, timeout))
    finally:
        gateway.stop()
        try:
            os.killpg(engine.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", default="bundled", help="bundled, or a synthetic size (100k, 1m ...)")
    parser.add_argument("--clients", type=int, default=32, help="soak clients")
    parser.add_argument("--seconds", type=float, default=60.0, help="soak duration")
    parser.add_argument("--timeout", type=float, default=10.0, help="thbkg serve --timeout (seconds)")
    args = parser.parse_args()
    dataset = bundled_dataset() if args.dataset == "bundled" else synthetic_dataset(parse_size(args.dataset), 1)
    work = CACHE / "faults" / dataset.name
    server = ThbkgServer(dataset, work, args.timeout, 2, 1, True)
    log(f"{dataset.name}: building and starting thbkg")
    server.start(load_timeout=3600)
    lines = []
    try:
        log("soak")
        lines.append(await soak(server, args.clients, args.seconds, args.timeout))
        log("burst")
        lines.append(await burst(server, args.timeout))
        log("worker killed")
        lines.append(await worker_killed(server, 8, args.timeout))
    finally:
        server.stop()
    log("remote engine stopped and started")
    lines.append(await engine_restarted(dataset, work, 8, args.timeout))
    print(f"== {dataset.name}: thbkg serve --workers 2 --timeout {args.timeout:g}")
    print(f"{'scenario':<24} {'requests':>9} {'errors':>7}  {'p50 ms':>8} {'p99 ms':>8}  "
          f"{'slowest err':>9}  {'recovered':<9} errors by kind")
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
