"""The timeline: France's dated commitments and related events, a lane per kind, no label over another."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from thbkg.namespaces import BASE
from thbkg.pictures import canvas
from thbkg.pictures.picture import QueryTable, Source
from thbkg.pictures.sources import draw_keys, draw_source_legend, keys_width, source_legend_height

__all__ = ["TITLE", "Milestone", "draw_timeline", "parse_date"]

TITLE = "France against trafficking in human beings: a timeline of commitments and related events"
#: Lanes top to bottom: France's own steps first, then monitoring, then the context. Kinds not
#: listed here follow, in the order they first occur.
LANE_ORDER = ("signature", "ratification", "entry into force", "publication or transposition",
              "law or decree", "initiative joined", "plan presented", "body created", "evaluation", "visit",
              "meeting or other event", "report")
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#17becf", "#8c564b", "#e377c2", "#ff7f0e", "#9467bd",
            "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#843c39", "#7b4173")
_WIDTH, _LEFT, _RIGHT = 16.0, 2.0, 0.3       # inches
_TOP, _ROW, _LANE_PAD = 1.0, 0.19, 0.5       # inches; lane padding in rows
_GAP, _SPACE = 0.05, 0.15                    # marker to label; between two labels in a row
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class Milestone:
    """An item of the timeline query, placed in time (``start`` to ``end`` in decimal years), and the
    sources that state its date."""

    date: str
    kind: str
    item: str
    label: str
    start: float
    end: float
    precision: str
    sources: tuple[Source, ...] = ()

    @property
    def x(self) -> float:
        return self.start if self.precision == "day" else (self.start + self.end) / 2


def _decimal_year(day: date) -> float:
    days = 366 if calendar.isleap(day.year) else 365
    return day.year + (day.toordinal() - date(day.year, 1, 1).toordinal()) / days


def parse_date(text: str) -> tuple[float, float, str] | None:
    """``2008-01-23``, ``2008-01`` or ``2008`` as (start, end, precision), in decimal years."""
    match = _DATE.match(text.strip())
    if not match:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    try:
        if day:
            start = _decimal_year(date(year, month, day))
            return start, start, "day"
        if month:
            following = date(year + month // 12, month % 12 + 1, 1)
            return _decimal_year(date(year, month, 1)), _decimal_year(following), "month"
    except ValueError:
        return None
    return float(year), float(year + 1), "year"


def _milestones(table: QueryTable, sources: dict[str, Source]) -> tuple[list[Milestone], int]:
    """A milestone per item with its sources (the query gives one row per item and source), and how
    many items have a date that cannot be placed."""
    first_rows: dict[str, dict[str, str]] = {}
    stated_by: dict[str, list[Source]] = {}
    for row in table.records():
        first_rows.setdefault(row["item"], row)
        found = stated_by.setdefault(row["item"], [])
        if row["source"] in sources and sources[row["source"]] not in found:
            found.append(sources[row["source"]])
    placed, undated = [], 0
    for item, row in first_rows.items():
        when = parse_date(row["date"])
        if when is None:
            undated += 1
            continue
        placed.append(Milestone(row["date"], row["kind"], item, row["itemLabel"], *when,
                                tuple(stated_by[item])))
    return placed, undated


def _lane_names(milestones: list[Milestone]) -> list[str]:
    present = list(dict.fromkeys(m.kind for m in milestones))
    ordered = [kind for kind in LANE_ORDER if kind in present]
    return ordered + [kind for kind in present if kind not in LANE_ORDER]


@dataclass(frozen=True)
class _Placed:
    milestone: Milestone
    row: int
    text: str
    right: bool
    anchor: float  # where the label starts (right) or ends (left, before its source keys), in decimal years


def _pack(milestones: list[Milestone], x_min: float, x_max: float, per_year: float) -> list[_Placed]:
    """Each label beside its marker, right where it fits, else left; first row where it overlaps nothing."""
    rows: list[list[tuple[float, float]]] = []
    placed = []
    for milestone in sorted(milestones, key=lambda m: (m.x, m.label)):
        low, high = ((min(milestone.start, milestone.x) - x_min) * per_year,
                     (max(milestone.end, milestone.x) - x_min) * per_year)
        room_right, room_left = (x_max - x_min) * per_year - high - _GAP, low - _GAP
        text = f"{milestone.date}  {milestone.label}"
        keys = keys_width(milestone.sources)
        width = canvas.text_width(text) + keys
        right = width <= room_right or (width > room_left and room_right >= room_left)
        text = canvas.fit_text(text, (room_right if right else room_left) - keys)
        width = canvas.text_width(text) + keys
        span = (low, high + _GAP + width) if right else (low - _GAP - width, high)
        row = next((i for i, taken in enumerate(rows)
                    if all(span[1] + _SPACE <= a or b + _SPACE <= span[0] for a, b in taken)), len(rows))
        if row == len(rows):
            rows.append([])
        rows[row].append(span)
        anchor = x_min + ((high + _GAP) if right else (low - _GAP - keys)) / per_year
        placed.append(_Placed(milestone, row, text, right, anchor))
    return placed


def _draw_marker(ax, milestone: Milestone, y: float, colour: str, link: str) -> None:
    if milestone.precision != "day":
        band = ax.hlines(y, milestone.start, milestone.end, colors=colour, linewidth=5, alpha=0.35)
        band.set_urls([link])
    marker = "o" if milestone.precision in ("day", "month") else "s"
    face = colour if milestone.precision == "day" else "white"
    (line,) = ax.plot([milestone.x], [y], marker=marker, markersize=4.5, color=colour, markerfacecolor=face,
                      markeredgewidth=1.1, linestyle="none")
    line.set_url(link)


def _legend(figure: Figure, lanes: list[str], colours: dict[str, str], top: float, height: float) -> None:
    kinds = [Line2D([], [], marker="o", linestyle="none", color=colours[lane], markersize=5,
                    label=lane.capitalize()) for lane in lanes]
    band = {"linestyle": "-", "linewidth": 5, "alpha": 0.6, "color": "#444444", "markerfacecolor": "white",
            "markersize": 5}
    precision = [Line2D([], [], marker="o", linestyle="none", color="#444444", markersize=5,
                        label="exact day"),
                 Line2D([], [], marker="o", label="month known (band: the month)", **band),
                 Line2D([], [], marker="s", label="year known (band: the year)", **band)]
    for handles, title, ncol, x in ((kinds, "Kind of milestone (one lane each)", 6, _LEFT),
                                    (precision, "Date known to the", 1, _WIDTH - 3.6)):
        figure.legend(handles=handles, title=title, ncol=ncol, loc="upper left", frameon=False,
                      bbox_to_anchor=(x / _WIDTH, 1 - top / height), fontsize=canvas.FONT_SIZE,
                      title_fontsize=canvas.FONT_SIZE + 0.5, alignment="left", handlelength=1.6,
                      columnspacing=1.2)


def _draw_lanes(ax, packed: dict[str, list[_Placed]], heights: list[float], colours: dict[str, str],
                link_base: str) -> None:
    centres, names, y0 = [], [], 0.0
    for index, (lane, lane_height) in enumerate(zip(packed, heights, strict=True)):
        if index % 2 == 0:
            ax.axhspan(y0, y0 + lane_height, color="#f3f3f3", zorder=0, linewidth=0)
        for placed in packed[lane]:
            milestone, y = placed.milestone, y0 + _LANE_PAD / 2 + placed.row + 0.5
            link = canvas.link_for(milestone.item, link_base)
            _draw_marker(ax, milestone, y, colours[lane], link)
            label = ax.text(placed.anchor, y, placed.text, ha="left" if placed.right else "right",
                            va="center", color="#222222", url=link)
            draw_keys(ax, label, milestone.sources, link_base)
        centres.append(y0 + lane_height / 2)
        names.append(f"{lane.capitalize()} ({len(packed[lane])})")
        y0 += lane_height
    ax.set_yticks(centres, names)
    for label, lane in zip(ax.get_yticklabels(), packed, strict=True):
        label.set_color(colours[lane])
        label.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)


def draw_timeline(table: QueryTable, sources: dict[str, Source], link_base: str = BASE) -> Figure:
    """The timeline of the rows of ``table`` (date, kind, item, itemLabel, source), each label followed by
    the keys of its sources (``sources``, by IRI), which a legend lists by title; a matplotlib figure."""
    milestones, undated = _milestones(table, sources)
    years = [m.start for m in milestones] + [m.end for m in milestones] or [2000.0, 2001.0]
    x_min, x_max = float(int(min(years))) - 0.5, float(int(max(years))) + 1.0
    axes_width = _WIDTH - _LEFT - _RIGHT
    per_year = axes_width / (x_max - x_min)
    lanes = _lane_names(milestones)
    colours = {lane: _COLOURS[i % len(_COLOURS)] for i, lane in enumerate(lanes)}
    packed = {lane: _pack([m for m in milestones if m.kind == lane], x_min, x_max, per_year)
              for lane in lanes}
    heights = [max((p.row for p in packed[lane]), default=0) + 1 + _LANE_PAD for lane in lanes]
    axes_height = max(sum(heights), 1) * _ROW
    caption = canvas.caption_lines(table.query, axes_width)
    listed = list(sources.values())
    legend_top = _TOP + axes_height + 1.25
    caption_top = legend_top + source_legend_height(listed, axes_width) + 0.1
    height = caption_top + canvas.caption_height(caption) + 0.15
    dates = sorted(m.date for m in milestones) or [""]
    note = f"; {undated} item(s) with a date that cannot be placed are only in the table" if undated else ""
    with canvas.drawing():
        figure = Figure(figsize=(_WIDTH, height))
        figure.text(_LEFT / _WIDTH, 1 - 0.3 / height, TITLE, fontsize=12, fontweight="bold")
        figure.text(_LEFT / _WIDTH, 1 - 0.52 / height,
                    f"{len(milestones)} dated items, {dates[0]} to {dates[-1]}, in {len(lanes)} lanes; "
                    "each label starts with the date as precisely as it is known and links to the item's "
                    f"page, and ends with the keys of the sources that state the date{note}.",
                    fontsize=canvas.FONT_SIZE + 0.5, color="#333333")
        ax = figure.add_axes((_LEFT / _WIDTH, 1 - (_TOP + axes_height) / height, axes_width / _WIDTH,
                              axes_height / height))
        ax.set_xlim(x_min, x_max)
        ax.set_ylim(sum(heights), 0)
        _draw_lanes(ax, packed, heights, colours, link_base)
        ax.set_xticks(range(int(x_min) + 1, int(x_max) + 1))
        ax.tick_params(axis="x", top=True, labeltop=True)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        _legend(figure, lanes, colours, _TOP + axes_height + 0.35, height)
        draw_source_legend(figure, listed, link_base, _LEFT, legend_top, axes_width)
        link = canvas.query_link(table.query, link_base)
        canvas.draw_caption(figure, caption, link, _LEFT, caption_top, height)
    return figure
