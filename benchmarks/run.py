"""Side-by-side benchmark: `thbkg build` + `thbkg serve --store` beside Oxigraph's server, one graph at a time.

Opt-in: Virtuoso alone, and `thbkg serve --store --backend` as a gateway in front of the Oxigraph
server or Virtuoso of the same run, to measure what the gateway adds over each engine alone.

For each dataset every engine builds its store (timed, peak memory of the build) and is started
on it (seconds to the first answer, idle memory), then all stay up while the queries run
interleaved: each round visits every query, and for each query the engines in a rotating order,
so slow drifts of a noisy machine hit them all alike. Every query is timed twice over: *fresh*
(each request a text never sent before, so no answer cache serves it) and *cached* (the same
text again). Then wrk measures throughput (1 and 16 connections, fresh and cached) in rounds,
engines again interleaved. Tables go to stdout, progress to stderr, raw samples to
benchmarks/.cache/results-<time>.json.

    python benchmarks/run.py --datasets bundled,100k      # see --help for the knobs
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from clients import Query, QueryClient, count_results, run_wrk
from report import CONNECTIONS, MODES, THROUGHPUT_QUERIES, format_report
from servers import DEFAULT_ENGINES, ENGINES, GATEWAYS, Server, ServerFailed, make_server, thbkg_has_cache
from synthetic import CACHE, Dataset, bundled_dataset, parse_size, synthetic_dataset

MIX = Path(__file__).resolve().parent / "mix"
MIX_ORDER = ("point-lookup", "three-way-join", "subclass-path-count", "filter-regex", "group-by-count", "optional",
             "describe", "construct")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def mix_queries() -> list[Query]:
    return [Query(name, (MIX / f"{name}.rq").read_text(encoding="utf-8")) for name in MIX_ORDER]


def competency_queries() -> list[Query]:
    from thbkg.queries import load_queries

    return [Query(q.name[:5], q.text) for q in load_queries()]


def checkout_state() -> str:
    """The commit and whether src/ has uncommitted changes: what `thbkg serve` ran."""
    root = Path(__file__).resolve().parent.parent
    def git(*arguments: str) -> str:
        return subprocess.run(["git", *arguments], cwd=root, check=False, capture_output=True, text=True).stdout

    head, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--short", "src")
    return head.strip() + (f" with {len(dirty.splitlines())} uncommitted file(s) in src/" if dirty.strip() else "")


def loadavg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def rotated(items: list, shift: int) -> list:
    shift %= len(items) or 1
    return items[shift:] + items[:shift]


class Bench:
    """One dataset: servers, latency samples and wrk results, kept as plain dicts for the JSON."""

    def __init__(self, dataset: Dataset, queries: list[Query], args):
        self.dataset = dataset
        self.queries = queries
        self.args = args
        self.work = CACHE / "run" / dataset.name
        self.servers: dict[str, Server] = {}
        self.result = {"name": dataset.name, "quads": dataset.quads, "queries": [q.name for q in queries],
                       "rounds": args.rounds, "samples_per_round": args.samples, "throughput_rounds": args.wrk_rounds,
                       "wrk_seconds": args.wrk_seconds, "loadavg_before": loadavg(), "engines": {}}

    def info(self, engine: str) -> dict:
        return self.result["engines"].setdefault(engine, {"latency": {}, "throughput": {}})

    def start(self, engines: list[str]) -> None:
        for engine in engines:  # a gateway's engine comes before it (`with_gateway_engines`)
            backend = self.servers.get(GATEWAYS.get(engine, ""))
            server = make_server(engine, self.dataset, self.work, self.args.timeout, self.args.workers,
                                 self.args.processes, self.args.default_graph, backend.url if backend else None)
            info = self.info(engine)
            log(f"{self.dataset.name}: starting {engine}")
            try:
                server.start(self.args.load_timeout)
            except ServerFailed as exc:
                info["status"] = f"failed to start: {exc}"
            except (subprocess.SubprocessError, OSError, RuntimeError) as exc:  # a load failed or overran
                info["status"] = f"failed to prepare: {type(exc).__name__}: {str(exc)[:200]}"
            except BaseException:  # interrupted: stop what did start
                server.stop()
                raise
            info.update(build_s=server.build_s, build_peak_mb=server.build_peak / 2**20,
                        start_s=server.start_s if "status" not in info else None,
                        idle_mb=server.idle / 2**20, note=server.note)
            if "status" in info:
                info["peak_mb"] = server.stop() / 2**20
                info["note"] = info["status"]
                log(f"{self.dataset.name}: {engine} {info['status']}")
                continue
            log(f"{self.dataset.name}: {engine} built in {server.build_s:.1f} s "
                f"(peak {server.build_peak / 2**20:.0f} MB), answers {server.start_s:.2f} s after launch, "
                f"idle {server.idle / 2**20:.0f} MB")
            if engine == "rdflib" and self.dataset.quads > self.args.rdflib_max_quads:
                info["peak_mb"] = server.stop() / 2**20
                info["status"] = "load only"
                info["note"] = (f"loaded in {server.start_s:.1f} s, then stopped: queries skipped above "
                                f"{self.args.rdflib_max_quads:,} quads (--rdflib-max-quads)")
                log(f"{self.dataset.name}: rdflib {info['note']}")
                continue
            self.servers[engine] = server

    def stop(self) -> None:
        for engine, server in self.servers.items():
            self.info(engine)["peak_mb"] = server.stop() / 2**20
        self.result["loadavg_after"] = loadavg()

    def _give_up(self, engine: str, reason: str) -> None:
        """After a client-side timeout: keep the engine only if it still answers a trivial query."""
        server = self.servers[engine]
        if server.answers(timeout=10):
            return
        log(f"{self.dataset.name}: {engine} unresponsive after {reason}: stopped, its remaining queries skipped")
        info = self.info(engine)
        info["peak_mb"] = server.stop() / 2**20
        info["note"] = (info.get("note", "") + f"; stopped, unresponsive after {reason}").lstrip("; ")
        del self.servers[engine]

    def check(self) -> None:
        """First pass, also the warm-up: status and result size of each query on each engine."""
        for query in self.queries:
            for engine in list(self.servers):
                cell = self.info(engine)["latency"].setdefault(query.name, {**{m: [] for m in MODES}, "spent": 0.0})
                client = QueryClient(self.servers[engine].port, self.servers[engine].sparql_path, self.args.timeout)
                try:
                    for _ in range(self.args.warmup):
                        seconds, status, body = client.run(query)
                        cell["spent"] += seconds
                        if status != 200:
                            cell["status"] = f"HTTP {status}"
                            cell["error"] = body[:300].decode("utf-8", "replace")
                            break
                        cell["results"] = count_results(query, body)
                except (OSError, TimeoutError):
                    cell["status"] = f"timeout (>{self.args.timeout:g} s)"
                    self._give_up(engine, f"a timeout on {query.name}")
                except ValueError as exc:
                    cell["status"] = f"unreadable answer: {exc}"[:60]
                finally:
                    client.close()
            counts = {e: self.info(e)["latency"][query.name].get("results") for e in self.servers}
            log(f"{self.dataset.name}: {query.name} results " + ", ".join(f"{e}={n}" for e, n in counts.items()))

    def latency_rounds(self) -> None:
        """Each round, each query, each engine: ``--samples`` fresh and as many cached requests,
        alternated, so both modes see the same moment of a busy machine."""
        budget = self.args.budget / self.args.rounds
        for round_ in range(self.args.rounds):
            log(f"{self.dataset.name}: latency round {round_ + 1}/{self.args.rounds} (load {loadavg()})")
            for position, query in enumerate(self.queries):
                for engine in rotated(list(self.servers), round_ + position):
                    if engine not in self.servers:
                        continue
                    cell = self.info(engine)["latency"][query.name]
                    if cell.get("status", "ok") != "ok":
                        continue
                    server = self.servers[engine]
                    client = QueryClient(server.port, server.sparql_path, self.args.timeout)
                    spent = 0.0
                    try:
                        for _ in range(self.args.samples):
                            if spent > budget and sum(1 for r, _ in cell["fresh"] if r == round_) >= 1:
                                cell["cut"] = True
                                break
                            for mode in MODES:
                                seconds, status, _ = client.run(query, fresh=mode == "fresh")
                                spent += seconds
                                if status != 200:
                                    cell["status"] = f"HTTP {status} ({mode})"
                                    break
                                cell[mode].append((round_, seconds))
                            if cell.get("status", "ok") != "ok":
                                break
                    except (OSError, TimeoutError):
                        cell["status"] = f"timeout (>{self.args.timeout:g} s)"
                        self._give_up(engine, f"a timeout on {query.name}")
                    finally:
                        client.close()

    def throughput_rounds(self) -> None:
        queries = {q.name: q for q in self.queries}
        for round_ in range(self.args.wrk_rounds):
            log(f"{self.dataset.name}: throughput round {round_ + 1}/{self.args.wrk_rounds} (load {loadavg()})")
            for position, name in enumerate(THROUGHPUT_QUERIES):
                for connections in CONNECTIONS:
                    for mode in MODES:
                        for engine in rotated(list(self.servers), round_ + position + connections):
                            if engine not in self.servers:
                                continue
                            cell = self.info(engine)["latency"].get(name, {})
                            if cell.get("status", "ok") != "ok":
                                continue
                            server = self.servers[engine]
                            try:
                                result = run_wrk(server.url, queries[name], connections, self.args.wrk_seconds,
                                                 self.args.timeout, CACHE / "wrk", fresh=mode == "fresh")
                            except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
                                log(f"{self.dataset.name}: wrk on {engine} failed: {exc}")
                                continue
                            slot = (self.info(engine)["throughput"].setdefault(mode, {}).setdefault(name, {})
                                    .setdefault(str(connections), []))
                            slot.append(result.per_second)
                            errors = self.info(engine).setdefault("wrk_errors", 0)
                            self.info(engine)["wrk_errors"] = errors + result.errors
                            log(f"{self.dataset.name}: {name} c{connections} {mode} {engine}: "
                                f"{result.per_second:.1f} req/s" + (f" ({result.errors} errors)" if result.errors else ""))
                            if not server.answers(timeout=self.args.timeout):
                                self._give_up(engine, "the throughput run")

    def run(self, engines: list[str]) -> dict:
        try:
            self.start(engines)
            if self.servers:
                self.check()
                self.latency_rounds()
                if self.args.wrk_rounds:
                    self.throughput_rounds()
        finally:
            self.stop()
        return self.result


def datasets_from(names: list[str], seed: int) -> list[Dataset]:
    found = []
    for name in names:
        if name == "bundled":
            found.append(bundled_dataset())
        else:
            log(f"preparing synthetic graph of {name} quads (cached in {CACHE})")
            found.append(synthetic_dataset(parse_size(name), seed))
    return found


def with_gateway_engines(engines: list[str]) -> list[str]:
    """``engines`` with each gateway's engine added if missing, and placed before the first gateway
    (a gateway starts in front of an engine that already answers)."""
    needed = [GATEWAYS[e] for e in engines if e in GATEWAYS]
    for engine in needed:
        if engine not in engines:
            log(f"{engine} added to the engines: a gateway stands in front of it")
    backends = [e for e in engines if e not in GATEWAYS] + [e for e in dict.fromkeys(needed) if e not in engines]
    return backends + [e for e in engines if e in GATEWAYS]


def _x(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def _terminate(signum, frame) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # runs the finally blocks that stop the servers


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--datasets", default="bundled,100k",
                        help="comma-separated: bundled and/or synthetic sizes in quads (100k, 1m ...)")
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES),
                        help="comma-separated subset of " + ", ".join(ENGINES) + " (a gateway's engine is added if missing)")
    parser.add_argument("--rounds", type=int, default=3, help="latency rounds (engines interleaved in each)")
    parser.add_argument("--samples", type=int, default=5,
                        help="timed requests per query, engine, round and mode (fresh, cached)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests per query and engine first")
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds of sampling per query and engine at most (at least one sample per round)")
    parser.add_argument("--wrk-rounds", type=int, default=2, help="throughput rounds (0 skips wrk)")
    parser.add_argument("--wrk-seconds", type=float, default=5.0, help="duration of each wrk run")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="per-request timeout, client and server side: beyond it a query is reported 'timeout'")
    parser.add_argument("--load-timeout", type=float, default=900.0,
                        help="seconds an engine may take to load and answer its first query")
    parser.add_argument("--rdflib-max-quads", type=int, default=200_000,
                        help="above this size rdflib-endpoint's load time is measured, its queries skipped")
    parser.add_argument("--workers", type=int, default=2,
                        help="thbkg serve --workers (query workers per web process)")
    parser.add_argument("--processes", type=int, default=1, help="thbkg serve --processes (web processes)")
    parser.add_argument("--default-graph", choices=("merged", "union"), default="merged",
                        help="Oxigraph stores: the merge of the named graphs written into the default graph "
                             "(what thbkg does), or Oxigraph's union default graph (repeats shared triples)")
    parser.add_argument("--competency-on-synthetic", action="store_true",
                        help="also run the competency queries on synthetic graphs (copy 0 is the bundled data)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic graphs")
    parser.add_argument("--report", type=Path, metavar="JSON", help="print the tables of an earlier run's raw samples")
    args = parser.parse_args()
    if args.report:
        for result in json.loads(args.report.read_text())["results"]:
            print(format_report(result)[0] + "\n")
        return

    engines = with_gateway_engines([e.strip() for e in args.engines.split(",") if e.strip()])
    if "thbkg-nocache" in engines and not thbkg_has_cache():
        engines.remove("thbkg-nocache")
        log("thbkg serve has no --no-cache option here: thbkg-nocache skipped")
    state = checkout_state()
    log(f"thbkg from {state}")
    results, verdicts = [], {}
    for dataset in datasets_from([d.strip().lower() for d in args.datasets.split(",") if d.strip()], args.seed):
        queries = mix_queries()
        if dataset.home is None or args.competency_on_synthetic:
            queries = competency_queries() + queries
        log(f"== {dataset.name}: {dataset.quads:,} quads, {len(queries)} queries, engines {', '.join(engines)}")
        result = Bench(dataset, queries, args).run(engines)
        result["checkout"] = state
        results.append(result)
        text, verdicts[dataset.name] = format_report(result)
        print(text + "\n", flush=True)
    path = CACHE / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"arguments": vars(args), "results": results}, indent=1))
    log(f"raw samples in {path}")
    if len(results) > 1:
        print("== targets, all datasets")
        for name, v in verdicts.items():
            for engine, e in v.items():
                print(f"{name} {engine}: start {e['start_s']:.2f} s, idle/peak {e['idle_mb']:.0f}/{e['peak_mb']:.0f} MB, "
                      f"build {e['build_s']:.1f} s / {e['build_peak_mb']:.0f} MB; latency/oxigraph fresh "
                      f"{_x(e['latency'])} cached {_x(e['latency_cached'])}; point-lookup c16/oxigraph fresh "
                      f"{_x(e['throughput'])} cached {_x(e['throughput_cached'])}")


if __name__ == "__main__":
    main()
