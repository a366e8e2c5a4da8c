"""The charts: every statistical figure with its source, each contested one beside the official figures."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from thbkg.namespaces import BASE
from thbkg.pictures.canvas import (
    FONT_SIZE,
    caption_height,
    caption_lines,
    draw_caption,
    drawing,
    fit_text,
    format_value,
    link_for,
    query_link,
    slug,
    text_width,
)
from thbkg.pictures.picture import QueryTable, Source
from thbkg.pictures.sources import draw_keys, draw_source_legend, keys_width, source_legend_height

__all__ = ["TITLE", "Bar", "Block", "contested_panels", "draw_charts", "figure_panels"]

TITLE = "France's trafficking statistics: each figure with its source, contested figures beside official ones"
_ACCEPTED, _CONTRADICTED = "#4c78a8", "#d62728"
_CLAIMS = {"imprecise": ("#f28e2b", "\\\\\\"), "unverified": ("#b8860b", "xxx")}  # other statuses: the first
_SERIES = ("#4c78a8", "#54a24b", "#72b7b2", "#b279a2", "#9d755d")
_WIDTH, _MARGIN, _GUTTER = 16.0, 0.35, 0.5            # inches
_BAR, _BLOCK_TITLE, _BLOCK_PAD = 0.24, 0.3, 0.25
_COLUMN = (_WIDTH - 2 * _MARGIN - _GUTTER) / 2


@dataclass(frozen=True)
class Bar:
    """One figure: its label left of the bar, its value, the text after the bar followed by the keys of
    its sources, and its page."""

    label: str
    value: float
    text: str
    colour: str
    link: str
    hatch: str = ""
    sources: tuple[Source, ...] = ()

    @property
    def text_width(self) -> float:
        """Inches the text after the bar takes, source keys included."""
        return text_width(self.text) + keys_width(self.sources)


@dataclass(frozen=True)
class Block:
    """A set of bars in one unit, on one axis, under a title; ``gid`` names its group in SVG."""

    gid: str
    title: str
    bars: list[Bar] = field(default_factory=list)

    @property
    def height(self) -> float:
        return _BLOCK_TITLE + _BAR * len(self.bars) + _BLOCK_PAD


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def _claim_style(status: str) -> tuple[str, str]:
    if status.lower() == "contradicted":
        return _CONTRADICTED, "///"
    return _CLAIMS.get(status.lower(), next(iter(_CLAIMS.values())))


def _joined(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _unit(unit: str) -> str:
    """"Persons" reads "persons" in a sentence; "US dollar" stays as it is."""
    return unit[:1].lower() + unit[1:] if unit[1:2].islower() else unit


def _gid(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def contested_panels(table: QueryTable, sources: dict[str, Source],
                     link_base: str) -> tuple[list[list[Block]], dict[str, str]]:
    """From the contested-statistics rows: per contested figure a block per unit, each bar followed by
    the keys of its ``sources`` (by IRI); and the series colours."""
    claims: dict[str, dict] = {}
    series: dict[str, str] = {}
    for row in table.records():
        claim = claims.setdefault(row["claimed"], {"row": row, "officials": {}})
        official = claim["officials"].setdefault(row["official"], {"row": row, "sources": []})
        if row["officialSource"] not in official["sources"]:
            official["sources"].append(row["officialSource"])
        series.setdefault(row["officialSeries"], _SERIES[len(series) % len(_SERIES)])
    panels = []
    for iri, claim in claims.items():
        row = claim["row"]
        unit = row["claimedUnit"]
        units = list(dict.fromkeys([unit, *(o["row"]["officialUnit"] for o in claim["officials"].values())]))
        what = _joined(row["claimedIndicator"], row["claimedBreakdown"])
        colour, hatch = _claim_style(row["claimedStatus"])
        blocks = []
        for index, each in enumerate(units):
            bars = []
            if each == unit:
                status = row["claimedStatus"]
                bars.append(Bar(f"claimed figure ({status.lower()})", _number(row["claimedValue"]),
                                f"{format_value(row['claimedValue'], unit)} · {status} · source", colour,
                                link_for(iri, link_base), hatch, _keyed(sources, [row["claimedSource"]])))
            for official_iri, official in claim["officials"].items():
                o = official["row"]
                if o["officialUnit"] != each:
                    continue
                label = _joined(o["officialIndicator"], o["officialBreakdown"])
                value = format_value(o["officialValue"], each)
                bars.append(Bar(label, _number(o["officialValue"]), f"{value} · source",
                                series[o["officialSeries"]], link_for(official_iri, link_base), "",
                                _keyed(sources, official["sources"])))
            title = (f"{what}: the claimed figure beside the official ones ({_unit(each)})" if index == 0
                     else f"… and the official figures in {_unit(each)} that contradict it")
            blocks.append(Block(_gid("contested", slug(iri), *([each] if index else [])), title, bars))
        panels.append(blocks)
    return panels, series


def _keyed(sources: dict[str, Source], iris: list[str]) -> tuple[Source, ...]:
    return tuple(sources[iri] for iri in iris if iri in sources)


def _observations(table: QueryTable) -> dict[str, dict]:
    """The observation rows, one entry per observation, its reporting bodies and sources gathered."""
    found: dict[str, dict] = {}
    for row in table.records():
        entry = found.setdefault(row["observation"], {"row": row, "reporters": [], "sources": []})
        for key, value in (("reporters", row["reportedBy"]), ("sources", row["source"])):
            if value and value not in entry[key]:
                entry[key].append(value)
    return found


def _bar_labels(entries: list[tuple[str, dict]]) -> list[str]:
    """Year and breakdown; where two figures share them, the distinct end of their IRIs too."""
    labels = []
    for _, entry in entries:
        row = entry["row"]
        labels.append(_joined(row["referenceYear"] or "no year", row["breakdown"]))
    for label in set(labels):
        same = [i for i, each in enumerate(labels) if each == label]
        if len(same) > 1:
            slugs = [slug(entries[i][0]) for i in same]
            prefix = len(_common_prefix(slugs))
            for i, each in zip(same, slugs, strict=True):
                labels[i] = f"{label} · {each[prefix:] or each}"
    return labels


def _common_prefix(words: list[str]) -> str:
    """The hyphen-ended start that all ``words`` share ("" if none)."""
    first, last = min(words), max(words)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size].rsplit("-", 1)[0] + "-" if "-" in first[:size] else ""


def figure_panels(table: QueryTable, sources: dict[str, Source], link_base: str) -> list[list[Block]]:
    """From the statistical-observation rows: a block per indicator, unit and area, a bar per figure
    followed by the keys of its ``sources`` (by IRI)."""
    groups: dict[tuple[str, str, str], list[tuple[str, dict]]] = {}
    for iri, entry in _observations(table).items():
        row = entry["row"]
        groups.setdefault((row["indicator"], row["unit"], row["referenceArea"]), []).append((iri, entry))
    panels = []
    for (indicator, unit, area), entries in groups.items():
        bars = []
        for (iri, entry), label in zip(entries, _bar_labels(entries), strict=True):
            row = entry["row"]
            status = row["claimStatus"]
            colour, hatch = _claim_style(status) if status else (_ACCEPTED, "")
            reporters = ", ".join(entry["reporters"]) or "no reporting body"
            text = _joined(format_value(row["value"], unit), reporters, status, "source")
            bars.append(Bar(label, _number(row["value"]), text, colour, link_for(iri, link_base), hatch,
                            _keyed(sources, entry["sources"])))
        title = f"{indicator} ({_unit(unit)}{', ' + area if area else ''})"
        panels.append([Block(_gid("figures", indicator, unit, area), title, bars)])
    return panels


def _columns(panels: list[list[Block]]) -> tuple[list[list[Block]], list[list[Block]]]:
    """Two columns, panels in reading order, split where the taller column is shortest."""
    heights = [sum(block.height for block in panel) for panel in panels]
    split = min(range(len(panels) + 1), key=lambda i: (max(sum(heights[:i]), sum(heights[i:])), -i))
    return panels[:split], panels[split:]


def _label_room(panels: list[list[Block]]) -> float:
    """Inches left of the bars for their labels: the widest label, within bounds."""
    labels = [bar.label for panel in panels for block in panel for bar in block.bars]
    widest = max((text_width(label) for label in labels), default=0)
    return min(max(widest + 0.15, 1.2), 4.2)


def _draw_block(figure: Figure, block: Block, left: float, top: float, labels: float, height: float,
                link_base: str) -> None:
    figure.text(left / _WIDTH, 1 - (top + 0.2) / height, fit_text(block.title, _COLUMN, FONT_SIZE + 0.5),
                fontsize=FONT_SIZE + 0.5, fontweight="bold", color="#222222")
    width = _COLUMN - labels
    bars_top = top + _BLOCK_TITLE
    ax = figure.add_axes(((left + labels) / _WIDTH, 1 - (bars_top + _BAR * len(block.bars)) / height,
                          width / _WIDTH, _BAR * len(block.bars) / height))
    ax.set_gid(block.gid)
    reach = [bar.value * width / max(width - 0.08 - bar.text_width, 0.25 * width) for bar in block.bars]
    ax.set_xlim(0, max([*reach, 1e-9]))
    ax.set_ylim(len(block.bars) - 0.5, -0.5)
    for index, bar in enumerate(block.bars):
        (patch,) = ax.barh([index], [max(bar.value, 0)], height=0.7, color=bar.colour, hatch=bar.hatch,
                           edgecolor="white" if bar.hatch else bar.colour, linewidth=0.6)
        patch.set_url(bar.link)
        text = ax.annotate(bar.text, (max(bar.value, 0), index), xytext=(4, 0), textcoords="offset points",
                           va="center", ha="left", color="#222222", url=bar.link)
        draw_keys(ax, text, bar.sources, link_base)
    ax.set_yticks(range(len(block.bars)), [fit_text(bar.label, labels - 0.1) for bar in block.bars])
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)


def _section(figure: Figure, heading: str, table: QueryTable, legend: list[Patch], panels: list[list[Block]],
             top: float, height: float, link_base: str) -> None:
    figure.text(_MARGIN / _WIDTH, 1 - (top + 0.25) / height, heading, fontsize=10.5, fontweight="bold")
    lines = caption_lines(table.query, _WIDTH - 2 * _MARGIN)
    draw_caption(figure, lines, query_link(table.query, link_base), _MARGIN, top + 0.3, height)
    figure.legend(handles=legend, loc="upper left", ncol=min(len(legend), 4), frameon=False,
                  fontsize=FONT_SIZE,
                  bbox_to_anchor=(_MARGIN / _WIDTH, 1 - (top + 0.35 + caption_height(lines)) / height))
    labels = _label_room(panels)
    for column, left in zip(_columns(panels), (_MARGIN, _MARGIN + _COLUMN + _GUTTER), strict=True):
        y = top + _section_head(table)
        for panel in column:
            for block in panel:
                _draw_block(figure, block, left, y, labels, height, link_base)
                y += block.height


def _section_head(table: QueryTable) -> float:
    return 0.35 + caption_height(caption_lines(table.query, _WIDTH - 2 * _MARGIN)) + 0.45


def _section_height(table: QueryTable, panels: list[list[Block]]) -> float:
    columns = _columns(panels)
    return _section_head(table) + max(sum(b.height for panel in column for b in panel) for column in columns)


def _legends(series: dict[str, str], observations: QueryTable) -> tuple[list[Patch], list[Patch]]:
    contested = [Patch(facecolor=_CONTRADICTED, edgecolor="white", hatch="///",
                       label="contested figure (a claim)")]
    contested += [Patch(color=colour, label=f"official: {name}") for name, colour in series.items()]
    statuses = sorted({row["claimStatus"] for row in observations.records()} - {""})
    figures = [Patch(color=_ACCEPTED, label="accepted figure (official or cited source)")]
    for status in statuses:
        colour, hatch = _claim_style(status)
        figures.append(Patch(facecolor=colour, edgecolor="white", hatch=hatch,
                             label=f"claim: {status.lower()}"))
    return contested, figures


def draw_charts(contested: QueryTable, observations: QueryTable, sources: dict[str, Source],
                link_base: str = BASE) -> Figure:
    """The contested figures (cq-12 rows) above every figure by indicator (cq-13 rows), each followed by
    the keys of its ``sources`` (by IRI), which a legend lists by title; as one figure."""
    contested_blocks, series = contested_panels(contested, sources, link_base)
    figure_blocks = figure_panels(observations, sources, link_base)
    contested_legend, figures_legend = _legends(series, observations)
    first = _section_height(contested, contested_blocks) if contested_blocks else 0.0
    listed = list(sources.values())
    legend_top = 0.75 + first + _section_height(observations, figure_blocks) + 0.2
    height = legend_top + source_legend_height(listed, _WIDTH - 2 * _MARGIN) + 0.2
    with drawing():
        figure = Figure(figsize=(_WIDTH, height))
        figure.text(_MARGIN / _WIDTH, 1 - 0.35 / height, TITLE, fontsize=12, fontweight="bold")
        figure.text(_MARGIN / _WIDTH, 1 - 0.57 / height,
                    "Values are printed after each bar with the reporting body and the keys [n] of the "
                    "sources, listed by title at the foot; each bar links to its observation, each key to "
                    "its source.",
                    fontsize=FONT_SIZE + 0.5, color="#333333")
        if contested_blocks:
            _section(figure, "Contested figures beside the official figures that contradict them", contested,
                     contested_legend, contested_blocks, 0.75, height, link_base)
        _section(figure, "Every statistical figure in the graph, by indicator, year and reporting body",
                 observations, figures_legend, figure_blocks, 0.75 + first, height, link_base)
        draw_source_legend(figure, listed, link_base, _MARGIN, legend_top, _WIDTH - 2 * _MARGIN)
    return figure
