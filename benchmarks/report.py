"""Turning raw samples into medians, ratios and the printed tables (values in, text out)."""

from __future__ import annotations

import math
import statistics

__all__ = ["format_report", "format_table"]

OURS, REFERENCE, BASELINE = ("thbkg", "thbkg-nocache"), "oxigraph", "rdflib"
#: Each gateway (`thbkg serve --backend`) and the engine it stands in front of (as servers.GATEWAYS).
GATEWAYS = {"gateway-oxigraph": "oxigraph", "gateway-virtuoso": "virtuoso"}
ORDER = (*OURS, REFERENCE, "virtuoso", *GATEWAYS, BASELINE)
MODES = ("fresh", "cached")  # fresh: every request a text never sent before; cached: the same text again
THROUGHPUT_QUERIES = ("point-lookup", "three-way-join")
CONNECTIONS = (1, 16)
LATENCY_TARGET, THROUGHPUT_TARGET = 1.25, 0.5
START_TARGET_S, MEMORY_TARGET_MB = 1.0, 250.0  # on the bundled graph (issue 8)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}{suffix}"
    if value >= 100:
        return f"{value:.0f}{suffix}"
    return f"{value:.{digits}f}{suffix}"


def _ratio_text(value: float | None, rounds: list[float] = ()) -> str:
    return "-" if value is None else f"{_fmt(value)}x{_spread(list(rounds))}"


def _spread(values: list[float]) -> str:
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return ""
    return f" [{_fmt(min(values))}-{_fmt(max(values))}]"


class _Latency:
    """Per engine and query: overall median and p95, and the median of each round."""

    def __init__(self, cell: dict, rounds: int, mode: str = "fresh"):
        self.status = cell.get("status", "ok")
        samples = cell.get(mode, [])
        self.values = [seconds * 1000 for _, seconds in samples]
        if self.status == "ok" and not self.values:
            self.status = "not run"  # the engine was stopped before the timed rounds
        self.ok = self.status == "ok"
        self.median = statistics.median(self.values) if self.ok else None
        self.p95 = _p95(self.values) if self.ok else None
        self.by_round = []
        for r in range(rounds):
            in_round = [seconds * 1000 for round_, seconds in samples if round_ == r]
            self.by_round.append(statistics.median(in_round) if self.ok and in_round else None)


def _ratio(latencies: dict, engine: str, other: str, queries: list[str], rounds: int, invert: bool = False):
    """Geometric mean over the queries both answered of engine/other medians (other/engine if
    invert), and the same per round (the spread)."""
    pairs = [(latencies[engine][q], latencies[other][q]) for q in queries
             if q in latencies.get(engine, {}) and q in latencies.get(other, {})
             and latencies[engine][q].ok and latencies[other][q].ok]
    if not pairs:
        return None, [], 0

    def ratio(a, b):
        if a is None or b is None:
            return None
        return b / a if invert else a / b

    overall = _geomean([ratio(a.median, b.median) for a, b in pairs])
    per_round = []
    for r in range(rounds):
        ratios = [ratio(a.by_round[r], b.by_round[r]) for a, b in pairs]
        if all(x is not None for x in ratios):
            per_round.append(_geomean(ratios))
    return overall, per_round, len(pairs)


def _throughput(result: dict, engine: str, query: str, connections: int, mode: str = "fresh") -> list[float]:
    throughput = result["engines"].get(engine, {}).get("throughput", {})
    return throughput.get(mode, {}).get(query, {}).get(str(connections), [])


def _median_or_none(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _counts(result: dict, engines: list[str], query: str) -> dict[str, int]:
    """Results (rows, triples, 1/0 for ASK) of ``query`` per engine that answered it."""
    counts = {e: result["engines"][e].get("latency", {}).get(query, {}).get("results") for e in engines}
    return {e: n for e, n in counts.items() if n is not None}


def _results_text(counts: dict[str, int]) -> str:
    """The count most engines gave (Oxigraph's on a tie), then each engine that gave another."""
    if not counts:
        return "-"
    tally = [n for n in counts.values()]
    usual = max(dict.fromkeys(tally), key=lambda n: (tally.count(n), counts.get(REFERENCE) == n))
    others = [f"{e}={n}" for e, n in counts.items() if n != usual]
    return str(usual) + (" MISMATCH " + ", ".join(others) if others else "")


def _gateway_table(result: dict, latencies: dict, gateways: dict[str, str], queries: list[str],
                   competency: list[str], mix: list[str], rounds: int) -> str:
    """The gateway's overhead over its engine alone: per-query median ratios, fresh and cached, and
    their geometric means over the competency queries and over the mix; queries whose results
    differ between a gateway and its engine, or between the engines, are listed."""
    header = ["gateway / its engine alone"]
    for scope in ("cq", "mix") if competency else ("mix",):
        header += [f"{m} ({scope} geomean [rounds])" for m in MODES]
    header += ["point-lookup c16 fresh / cached", "results differ from its engine"]
    rows = []
    for gateway, engine in gateways.items():
        row = [f"{gateway} / {engine}"]
        for scope in ([competency, mix] if competency else [mix]):
            for m in MODES:
                value, per_round, n = _ratio(latencies[m], gateway, engine, scope, rounds)
                row.append(f"{_ratio_text(value, per_round)} ({n}q)")
        wrk = []
        for m in MODES:
            mine = _median_or_none(_throughput(result, gateway, "point-lookup", 16, m))
            alone = _median_or_none(_throughput(result, engine, "point-lookup", 16, m))
            wrk.append(_fmt(mine / alone) + "x" if mine is not None and alone else "-")
        row.append(" / ".join(wrk))
        differ = [q for q in queries if len(set(_counts(result, [gateway, engine], q).values())) > 1]
        row.append(", ".join(differ) or "none")
        rows.append(row)
    lines = [format_table(header, rows)]
    engines = list(dict.fromkeys(gateways.values()))
    if len(engines) > 1:
        differ = [f"{q} ({', '.join(f'{e}={n}' for e, n in _counts(result, engines, q).items())})" for q in queries
                  if len(set(_counts(result, engines, q).values())) > 1]
        lines.append(f"results differ between {' and '.join(engines)} (known: docs/engines.md): "
                     + ("; ".join(differ) or "none"))
    return "\n".join(lines)


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_report(result: dict) -> tuple[str, dict]:
    """The text for one dataset, and its target verdicts."""
    rounds = result["rounds"]
    engines = [e for e in ORDER if e in result["engines"]]
    ours = [e for e in OURS if e in engines]
    queries = result["queries"]
    competency = [q for q in queries if q.startswith("cq-")]
    mix = [q for q in queries if not q.startswith("cq-")]
    target_queries = competency or mix  # the target: competency queries; on synthetic graphs the mix
    latencies = {m: {e: {q: _Latency(result["engines"][e].get("latency", {}).get(q, {"status": "not run"}), rounds, m)
                         for q in queries} for e in engines} for m in MODES}
    fresh, cached = latencies["fresh"], latencies["cached"]
    out = [(f"== {result['name']}: {result['quads']:,} quads; thbkg from {result.get('checkout', '?')}; "
            f"{len(queries)} queries, {rounds} rounds of {result['samples_per_round']} fresh + "
            f"{result['samples_per_round']} cached samples after warm-up; throughput {result['throughput_rounds']} "
            f"rounds of {result['wrk_seconds']:g} s per cell; load average {result['loadavg_before']} -> "
            f"{result.get('loadavg_after', '?')}")]

    # Per-query latency, fresh and cached.
    compared = [e for e in ours if REFERENCE in engines]
    header = ["query (median ms: fresh / cached)", *engines]
    gateways = {g: e for g, e in GATEWAYS.items() if g in engines and e in engines}
    pairs = [(e, REFERENCE) for e in compared] + list(gateways.items())
    header += [f"{e}/{'alone' if e in gateways else other} {m}" for e, other in pairs for m in MODES]
    header.append("results")
    rows = []
    for q in queries:
        row = [q]
        for e in engines:
            f, c = fresh[e][q], cached[e][q]
            row.append(f"{_fmt(f.median)} / {_fmt(c.median)}" if f.ok else f.status[:28])
        for e, other in pairs:
            for m in MODES:
                a, b = latencies[m][e][q], latencies[m][other][q]
                row.append(_fmt(a.median / b.median) + "x" if a.ok and b.ok else "-")
        row.append(_results_text(_counts(result, engines, q)))
        rows.append(row)
    out += ["", format_table(header, rows)]
    if gateways:
        out += ["", _gateway_table(result, latencies, gateways, queries, competency, mix, rounds)]

    # Summary per engine: build, start, memory, latency.
    which = "cq" if competency else "mix"
    header = ["engine", "build s", "build peak MB", "start s", "idle MB", "peak MB",
              f"fresh ms ({which} geomean)", f"cached ms ({which})", f"fresh / {REFERENCE} ({which})",
              f"cached / {REFERENCE} ({which})"]
    if competency:
        header += [f"fresh / {REFERENCE} (mix)"]
    rows, verdicts = [], {}
    for e in engines:
        info = result["engines"][e]
        ratios = {}
        for m in MODES:
            ratios[m] = _ratio(latencies[m], e, REFERENCE, target_queries, rounds) if REFERENCE in engines \
                else (None, [], 0)
        mix_ratio = _ratio(fresh, e, REFERENCE, mix, rounds) if REFERENCE in engines and competency else None
        row = [e, _fmt(info.get("build_s"), 1), _fmt(info.get("build_peak_mb"), 0), _fmt(info.get("start_s"), 2),
               _fmt(info.get("idle_mb"), 0), _fmt(info.get("peak_mb"), 0)]
        for m in MODES:
            ok = [latencies[m][e][q] for q in target_queries if latencies[m][e][q].ok]
            row.append(_fmt(_geomean([l.median for l in ok])) + f" ({len(ok)}q)")
        for m in MODES:
            value, per_round, _ = ratios[m]
            row.append("-" if e == REFERENCE or value is None else _ratio_text(value, per_round))
        if competency:
            row.append("-" if e == REFERENCE or not mix_ratio or mix_ratio[0] is None else _ratio_text(*mix_ratio[:2]))
        rows.append(row)
        if e in ours:
            verdicts[e] = {"latency": ratios["fresh"][0], "latency_rounds": ratios["fresh"][1],
                           "latency_cached": ratios["cached"][0], "start_s": info.get("start_s") or 0.0,
                           "idle_mb": info.get("idle_mb") or 0.0, "peak_mb": info.get("peak_mb") or 0.0,
                           "build_s": info.get("build_s") or 0.0, "build_peak_mb": info.get("build_peak_mb") or 0.0}
    out += ["", format_table(header, rows)]

    # Throughput, fresh and cached.
    header = ["engine (req/s, median [range])"]
    for q in THROUGHPUT_QUERIES:
        header += [f"{q} c{c} {m}" for c in CONNECTIONS for m in MODES]
    header += [f"point-lookup c16 / {REFERENCE} {m}" for m in MODES]
    rows = []
    for e in engines:
        row = [e]
        for q in THROUGHPUT_QUERIES:
            for c in CONNECTIONS:
                for m in MODES:
                    values = _throughput(result, e, q, c, m)
                    row.append(_fmt(_median_or_none(values), 0) + _spread(values) if values else "-")
        for m in MODES:
            mine = _median_or_none(_throughput(result, e, "point-lookup", 16, m))
            ref = _median_or_none(_throughput(result, REFERENCE, "point-lookup", 16, m))
            ratio = mine / ref if mine is not None and ref else None
            row.append("-" if e == REFERENCE or ratio is None else _fmt(ratio) + "x")
            if e in verdicts:
                verdicts[e]["throughput" if m == "fresh" else "throughput_cached"] = ratio
        rows.append(row)
    out += ["", format_table(header, rows)]
    notes = [f"{e}: {result['engines'][e]['note']}" for e in engines if result["engines"][e].get("note")]
    notes += [f"{e}: {result['engines'][e]['wrk_errors']} wrk errors" for e in engines
              if result["engines"][e].get("wrk_errors")]
    if notes:
        out += ["", *("note: " + n for n in notes)]

    # Targets (issue 8): start and memory on the bundled graph; ratios on fresh queries everywhere.
    out.append("")

    def verdict(value, target, above: bool) -> str:
        if value is None:
            return "n/a (not measured)"
        passed = value >= target if above else value <= target
        return "PASS" if passed else "FAIL"

    bundled = result["name"] == "bundled"
    for engine, v in verdicts.items():
        out.append(f"{engine}:")
        if bundled:
            out.append(f"target  start to first answer <= {START_TARGET_S:g} s: {v['start_s']:.2f} s -> "
                       f"{verdict(v['start_s'] or None, START_TARGET_S, False)}")
            out.append(f"target  memory of the process tree <= {MEMORY_TARGET_MB:g} MB: idle {v['idle_mb']:.0f}, "
                       f"peak {v['peak_mb']:.0f} MB -> {verdict(v['peak_mb'] or None, MEMORY_TARGET_MB, False)}")
        out.append(f"target  fresh median latency within {LATENCY_TARGET}x of {REFERENCE} (geomean over {which}): "
                   f"{_ratio_text(v['latency'], v['latency_rounds'])} -> {verdict(v['latency'], LATENCY_TARGET, False)}"
                   f"  (cached: {_ratio_text(v.get('latency_cached'))})")
        out.append(f"target  fresh point lookups at 16 clients >= {THROUGHPUT_TARGET}x {REFERENCE}: "
                   f"{_ratio_text(v.get('throughput'))} -> {verdict(v.get('throughput'), THROUGHPUT_TARGET, True)}"
                   f"  (cached: {_ratio_text(v.get('throughput_cached'))})")
    return "\n".join(out), verdicts
