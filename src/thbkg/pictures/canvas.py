"""What every picture shares: deterministic matplotlib settings, text measures, captions, links, numbers."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from thbkg.namespaces import BASE
from thbkg.queries import NamedQuery

__all__ = ["FONT_SIZE", "caption_height", "caption_lines", "draw_caption", "drawing", "figure_bytes",
           "fit_text", "format_value", "link_for", "query_link", "slug", "text_width", "wrap_text"]

FONT_SIZE = 7.5
_FONT = "DejaVu Sans"  # bundled with matplotlib, so the measures below hold on every machine
#: SVG text stays text (searchable, testable, links work) and ids are stable from run to run.
_SETTINGS = {
    "svg.fonttype": "none",
    "svg.hashsalt": "thbkg-pictures",
    "font.family": "sans-serif",
    "font.sans-serif": [_FONT],
    "font.size": FONT_SIZE,
    "hatch.linewidth": 0.8,
    "axes.edgecolor": "#888888",
    "axes.linewidth": 0.6,
    "xtick.color": "#444444",
    "ytick.color": "#222222",
}
_PNG_DPI = 100
_CAPTION_LINE = 0.17  # inches
_measurer = RendererAgg(1, 1, 72)  # at 72 dpi a pixel is a point


@contextmanager
def drawing() -> Iterator[None]:
    """Our matplotlib settings, for drawing and for saving (never pyplot's global state)."""
    with matplotlib.rc_context(_SETTINGS):
        yield


def text_width(text: str, size: float = FONT_SIZE, weight: str = "normal") -> float:
    """Width in inches of ``text`` set in our font."""
    font = FontProperties(family=_FONT, size=size, weight=weight)
    width, _, _ = _measurer.get_text_width_height_descent(text, font, ismath=False)
    return width / 72


def fit_text(text: str, room: float, size: float = FONT_SIZE) -> str:
    """``text``, cut with an ellipsis if it is wider than ``room`` inches."""
    if text_width(text, size) <= room:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if text_width(text[:middle].rstrip() + "…", size) <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"


def figure_bytes(figure: Figure, image_format: str, title: str) -> bytes:
    """The figure as SVG or PNG bytes, the same bytes for the same figure (no dates, no versions)."""
    buffer = io.BytesIO()
    metadata = {"Title": title, "Date": None} if image_format == "svg" else {"Title": title, "Software": None}
    with drawing():
        figure.savefig(buffer, format=image_format, dpi=_PNG_DPI, metadata=metadata)
    return buffer.getvalue()


def link_for(iri: str, link_base: str) -> str:
    """Where an IRI of ours is read: under ``link_base`` ("/" on our server); other IRIs unchanged."""
    return link_base + iri[len(BASE):] if iri.startswith(BASE) else iri


def slug(iri: str) -> str:
    """The last segment of an IRI, e.g. ``r83`` for a source."""
    return iri.rstrip("/").rsplit("/", 1)[-1]


def wrap_text(text: str, width: float, size: float = FONT_SIZE, least: int = 40) -> list[str]:
    """``text`` in lines that fit ``width`` inches (at least ``least`` characters a line)."""
    chars = max(least, int(len(text) * width / max(text_width(text, size), 0.01)) - 2)
    return textwrap.wrap(text, chars) or [text]


def caption_lines(query: NamedQuery, width: float, size: float = FONT_SIZE) -> list[str]:
    """'Query: <name> — <question>', wrapped to fit ``width`` inches."""
    return wrap_text(f"Query: {query.name} — {query.question}", width, size)


def caption_height(lines: list[str]) -> float:
    """Inches that :func:`draw_caption` takes for ``lines``."""
    return _CAPTION_LINE * len(lines)


def query_link(query: NamedQuery, link_base: str) -> str:
    """Where the query's own page is: ``/id/query/<name>`` on our server."""
    return link_for(f"{BASE}id/query/{query.name}", link_base)


def draw_caption(figure: Figure, lines: list[str], link: str, left: float, top: float, height: float) -> None:
    """The caption lines, each a link to the query, from ``top`` inches below the figure's top edge."""
    width = figure.get_figwidth()
    for i, line in enumerate(lines):
        figure.text(left / width, 1 - (top + _CAPTION_LINE * (i + 1)) / height, line,
                    fontsize=FONT_SIZE + 0.5, color="#1a4f8b", url=link)


def format_value(value: str, unit: str) -> str:
    """A figure as people read it: 2,418; 24.9 million; 150 billion US dollars; 39 %."""
    try:
        number = float(value)
    except ValueError:
        return value
    for scale, word in ((1e9, " billion"), (1e6, " million"), (1, "")):
        if abs(number) >= scale or scale == 1:
            text = f"{number / scale:,.2f}".rstrip("0").rstrip(".") + word
            break
    if unit.lower() == "percent":
        return text + " %"
    if unit.lower() == "us dollar":
        return "US$ " + text
    return text
