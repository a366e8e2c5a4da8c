"""Turning raw samples into medians, ratios and the printed tables (values in, text out)."""

from __future__ import annotations

import math
import statistics

__all__ = ["format_report", "format_table"]

OURS, REFERENCE, BASELINE = ("thbkg", "thbkg-nocache"), "oxigraph", "rdflib"
THROUGHPUT_QUERIES = ("point-lookup", "three-way-join")
CONNECTIONS = (1, 16)
LATENCY_TARGET, THROUGHPUT_TARGET, SPEEDUP_TARGET = 1.25, 0.5, 30.0


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

    def __init__(self, cell: dict, rounds: int):
        self.status = cell.get("status", "ok")
        samples = cell.get("samples", [])
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


def _throughput(result: dict, engine: str, query: str, connections: int) -> list[float]:
    return result["engines"].get(engine, {}).get("throughput", {}).get(query, {}).get(str(connections), [])


def _median_or_none(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_report(result: dict) -> tuple[str, dict]:
    """The text for one dataset, and its target verdicts."""
    rounds = result["rounds"]
    engines = [e for e in (*OURS, REFERENCE, BASELINE) if e in result["engines"]]
    ours = [e for e in OURS if e in engines]
    queries = result["queries"]
    latencies = {e: {q: _Latency(result["engines"][e].get("latency", {}).get(q, {"status": "not run"}), rounds)
                     for q in queries} for e in engines}
    out = [(f"== {result['name']}: {result['quads']:,} quads; thbkg from {result.get('checkout', '?')}; "
            f"{len(queries)} queries, {rounds} rounds of {result['samples_per_round']} samples after warm-up; "
            f"throughput {result['throughput_rounds']} rounds of {result['wrk_seconds']:g} s per cell; "
            f"load average {result['loadavg_before']} -> {result['loadavg_after']}")]

    # Per-query latency.
    header = ["query (median / p95 ms)", *engines]
    compared = [e for e in ours if REFERENCE in engines]
    header += [f"{e}/{REFERENCE}" for e in compared]
    header.append("results")
    rows = []
    for q in queries:
        row = [q]
        for e in engines:
            lat = latencies[e][q]
            row.append(f"{_fmt(lat.median)} / {_fmt(lat.p95)}" if lat.ok else lat.status[:28])
        for e in compared:
            a, b = latencies[e][q], latencies[REFERENCE][q]
            row.append(_fmt(a.median / b.median) + "x" if a.ok and b.ok else "-")
        counts = {result["engines"][e].get("latency", {}).get(q, {}).get("results") for e in engines}
        counts.discard(None)
        row.append("/".join(str(c) for c in sorted(counts)) + (" MISMATCH" if len(counts) > 1 else ""))
        rows.append(row)
    out += ["", format_table(header, rows)]

    # Summary per engine.
    header = ["engine", "load s", "peak MB", "geomean median ms", "geomean p95 ms", f"latency / {REFERENCE}"]
    for q in THROUGHPUT_QUERIES:
        header += [f"{q} c{c} req/s" for c in CONNECTIONS]
    header += [f"c16 / {REFERENCE}", f"faster than {BASELINE} (latency)", f"faster than {BASELINE} (c16)"]
    rows, verdicts = [], {}
    for e in engines:
        info = result["engines"][e]
        ok = [latencies[e][q] for q in queries if latencies[e][q].ok]
        lat_ratio, lat_rounds, _ = _ratio(latencies, e, REFERENCE, queries, rounds) if REFERENCE in engines else (None, [], 0)
        speed, speed_rounds, _ = _ratio(latencies, e, BASELINE, queries, rounds, invert=True) \
            if BASELINE in engines and e != BASELINE else (None, [], 0)
        row = [e, _fmt(info.get("load_s"), 1), _fmt(info.get("peak_mb"), 0),
               _fmt(_geomean([l.median for l in ok])) + f" ({len(ok)}q)", _fmt(_geomean([l.p95 for l in ok])),
               (_fmt(lat_ratio) + "x" + _spread(lat_rounds)) if lat_ratio else "-"]
        c16_ratios, c16_speedups = [], []
        for q in THROUGHPUT_QUERIES:
            for c in CONNECTIONS:
                values = _throughput(result, e, q, c)
                row.append(_fmt(_median_or_none(values), 1) + _spread(values) if values else "-")
            mine = _median_or_none(_throughput(result, e, q, 16))
            ref = _median_or_none(_throughput(result, REFERENCE, q, 16))
            base = _median_or_none(_throughput(result, BASELINE, q, 16))
            if mine is not None and ref:
                c16_ratios.append((q, mine / ref))
            if mine and base and e != BASELINE:
                c16_speedups.append(mine / base)
        c16_ratio = _geomean([r for _, r in c16_ratios])
        row += [_fmt(c16_ratio) + "x" if c16_ratio else "-",
                (_fmt(speed, 1) + "x" + _spread(speed_rounds)) if speed else "-",
                _fmt(_geomean(c16_speedups), 1) + "x" if c16_speedups else "-"]
        rows.append(row)
        if e in ours:
            verdicts[e] = {"latency": lat_ratio, "latency_rounds": lat_rounds, "throughput": c16_ratio,
                        "throughput_each": c16_ratios, "speedup": speed, "speedup_rounds": speed_rounds}
    out += ["", format_table(header, rows)]
    notes = [f"{e}: {result['engines'][e]['note']}" for e in engines if result["engines"][e].get("note")]
    if notes:
        out += ["", *("note: " + n for n in notes)]

    # Targets.
    out.append("")

    def verdict(value, target, above: bool) -> str:
        if value is None:
            return "n/a (not measured)"
        passed = value >= target if above else value <= target
        return "PASS" if passed else "FAIL"

    for engine, v in verdicts.items():
        out.append(f"{engine}:")
        out.append(f"target 1  median latency within {LATENCY_TARGET}x of {REFERENCE} (geomean over queries): "
                   f"{_ratio_text(v['latency'], v['latency_rounds'])} -> {verdict(v['latency'], LATENCY_TARGET, False)}")
        each = ", ".join(f"{q} {_fmt(r)}x" for q, r in v["throughput_each"])
        out.append(f"target 2  throughput at 16 clients >= {THROUGHPUT_TARGET}x {REFERENCE} (geomean of {each or '-'}): "
                   f"{_ratio_text(v['throughput'])} -> {verdict(v['throughput'], THROUGHPUT_TARGET, True)}")
        if result.get("speedup_target"):
            out.append(f"target 3  >= {SPEEDUP_TARGET:g}x faster than {BASELINE} on this graph (geomean of median "
                       f"latency ratios): {_ratio_text(v['speedup'], v['speedup_rounds'])} -> "
                       f"{verdict(v['speedup'], SPEEDUP_TARGET, True)}")
    return "\n".join(out), verdicts
