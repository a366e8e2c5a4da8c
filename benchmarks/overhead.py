"""Where `thbkg serve` spends a query's time, layer by layer, measured in one process.

For each query of the standard mix: Oxigraph alone (query + serialise), thbkg's Engine without
and with the row limit the server always applies, and the worker pool (pipe and pickling to a
worker process and back; workers always open a store directory, as a release's), with the
engine over an in-memory store and over an on-disk (RocksDB) store. The
HTTP layer is what benchmarks/run.py measures on top (its medians minus the pool column).
``--http`` also builds the bundled release (`thbkg build --out DIR`), starts `thbkg serve --store
DIR` on it with 1, 2 and 4 workers and measures
the floor of its HTTP stack (``GET /health``, which touches no worker) beside the point lookup.

    python benchmarks/overhead.py --dataset 100k [--http]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
from clients import Query, QueryClient, run_wrk
from report import format_table
from run import mix_queries
from servers import make_server, thbkg_has_cache
from synthetic import CACHE, bundled_dataset, parse_size, synthetic_dataset

from thbkg.backend.engine import GRAPH_FORMATS, RESULT_FORMATS, Engine
from thbkg.backend.workers import QueryPool, StoreSpec

SERVER_MAX_ROWS = 100_000  # `thbkg serve --max-rows` default: the server never passes None


def _median_ms(action, repetitions: int) -> float:
    action()  # warm-up
    times = []
    for _ in range(repetitions):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _raw(store: ox.Store, query: Query) -> bytes:
    result = store.query(query.text, use_default_graph_as_union=True)
    if query.graph_form:
        return result.serialize(format=GRAPH_FORMATS[query.accept])
    return result.serialize(format=RESULT_FORMATS[query.accept])


async def _pool_times(spec: StoreSpec, queries: list[Query], repetitions: int) -> dict[str, float]:
    pool = QueryPool(spec, workers=1, timeout=120)
    await pool.start()
    times = {}
    try:
        for query in queries:
            job = {"text": query.text, "media_type": query.accept, "default_graphs": [], "named_graphs": [],
                   "max_rows": SERVER_MAX_ROWS}
            await pool.run(**job)
            samples = []
            for _ in range(repetitions):
                started = time.perf_counter()
                await pool.run(**job)
                samples.append(time.perf_counter() - started)
            times[query.name] = statistics.median(samples) * 1000
    finally:
        await pool.close()
    return times


def measure(nquads: Path, kind: str, queries: list[Query], repetitions: int) -> list[list[str]]:
    folder = Path(tempfile.mkdtemp(prefix="thbkg-overhead-"))
    try:
        # Workers always open a store directory now (a release's); "memory" measures the engine in memory.
        store = ox.Store() if kind == "memory" else ox.Store(str(folder / "store"))
        spec = StoreSpec(directory=folder / "pool-store")
        pool_store = ox.Store(str(folder / "pool-store"))
        pool_store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
        pool_store.flush()
        del pool_store
        store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
        store.flush()
        engine = Engine(store)
        rows = []
        for query in queries:
            body = _raw(store, query)
            raw = _median_ms(lambda q=query: _raw(store, q), repetitions)
            unlimited = _median_ms(lambda q=query: engine.run(q.text, q.accept, max_rows=None), repetitions)
            limited = _median_ms(lambda q=query: engine.run(q.text, q.accept, max_rows=SERVER_MAX_ROWS), repetitions)
            rows.append([query.name, f"{len(body) / 1024:.1f}", raw, unlimited, limited])
        if kind != "memory":
            del engine, store  # the pool's worker opens the directory read-only
        pool = asyncio.run(_pool_times(spec, queries, repetitions))
        return [[*row[:2], *(f"{v:.2f}" for v in row[2:]), f"{pool[row[0]]:.2f}",
                 f"{pool[row[0]] - row[4]:+.2f}"] for row in rows]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wrk_get(url: str, connections: int, seconds: float) -> float:
    import re
    import subprocess

    done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", url], check=False, capture_output=True,
                          text=True, timeout=seconds + 60)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))


def http_floor(seconds: float, repetitions: int) -> list[list[str]]:
    """`thbkg serve` (no answer cache) on the bundled graph: /health beside the point lookup."""
    engine = "thbkg-nocache" if thbkg_has_cache() else "thbkg"
    point = mix_queries()[0]
    rows = []
    for workers in (1, 2, 4):
        # `thbkg build --out DIR` then `thbkg serve --store DIR`, as benchmarks/run.py does
        server = make_server(engine, bundled_dataset(), CACHE / "run" / "overhead", 60, workers)
        server.start(900)
        try:
            health = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)

            def get_health(health: http.client.HTTPConnection = health) -> None:
                health.request("GET", "/health")
                health.getresponse().read()

            client = QueryClient(server.port, server.sparql_path, 60)
            base = f"http://127.0.0.1:{server.port}"
            rows.append([str(workers), f"{_median_ms(get_health, repetitions * 10):.2f}",
                         f"{_median_ms(lambda c=client: c.run(point), repetitions * 10):.2f}",
                         *(f"{_wrk_get(base + '/health', c, seconds):,.0f}" for c in (1, 16)),
                         *(f"{run_wrk(server.url, point, c, seconds, 60, CACHE / 'wrk').per_second:,.0f}"
                           for c in (1, 16))])
            health.close()
            client.close()
        finally:
            server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="100k", help="bundled, or a synthetic size (100k, 1m ...)")
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--stores", default="memory,disk")
    parser.add_argument("--http", action="store_true", help="also measure the HTTP floor (starts thbkg serve 3 times)")
    parser.add_argument("--wrk-seconds", type=float, default=5.0)
    args = parser.parse_args()
    dataset = bundled_dataset() if args.dataset == "bundled" else synthetic_dataset(parse_size(args.dataset))
    header = ["query", "answer KB", "oxigraph ms", "Engine, no limit", f"Engine, max_rows={SERVER_MAX_ROWS:,}",
              "QueryPool (1 worker)", "pipe + pickling"]
    for kind in args.stores.split(","):
        print(f"== {dataset.name} ({dataset.quads:,} quads), {kind} store: median ms over {args.repetitions}")
        print(format_table(header, measure(dataset.nquads, kind, mix_queries(), args.repetitions)) + "\n", flush=True)
    if args.http:
        print("== thbkg serve --no-cache, bundled graph: HTTP floor (GET /health) beside the point lookup (POST /sparql)")
        header = ["workers", "/health ms", "point-lookup ms", "/health c1 req/s", "/health c16 req/s",
                  "point-lookup c1 req/s", "point-lookup c16 req/s"]
        print(format_table(header, http_floor(args.wrk_seconds, args.repetitions)), flush=True)


if __name__ == "__main__":
    main()
