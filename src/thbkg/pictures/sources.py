"""The sources in a picture: their keys ([1], [2], ...) as links, and the legend that lists them by title."""

from __future__ import annotations

from collections.abc import Iterable

from matplotlib.figure import Figure
from matplotlib.text import Text

from thbkg.pictures import canvas
from thbkg.pictures.picture import Source

__all__ = ["LEGEND_HEADING", "draw_keys", "draw_source_legend", "keys_width", "source_legend_height"]

LEGEND_HEADING = "Sources (each key [n] in the picture links to the source's page, as each title here does)"
_LINE = 0.15    # inches per line of a legend entry
_HEAD = 0.25    # inches for the heading
_KEY_GAP = 2.0  # points between two keys


def keys_width(sources: Iterable[Source]) -> float:
    """Inches that :func:`draw_keys` takes for ``sources``, the gap before the first key included."""
    return sum(canvas.text_width(source.key) + _KEY_GAP / 72 for source in sources)


def draw_keys(ax, after: Text, sources: Iterable[Source], link_base: str) -> None:
    """The keys of ``sources`` in a row right after the text ``after`` (as the renderer sets it, so that
    SVG and PNG agree), each a link to its source's page."""
    for source in sources:
        after = ax.annotate(source.key, (1, 0.5), xycoords=after, xytext=(_KEY_GAP, 0),
                            textcoords="offset points", va="center", ha="left", color="#1a4f8b",
                            url=canvas.link_for(source.iri, link_base))


def _entries(sources: list[Source], width: float) -> list[list[str]]:
    """Each source's title, wrapped to the room a legend column leaves beside the widest key."""
    room = width - _key_room(sources)
    return [canvas.wrap_text(source.title, room, least=20) for source in sources]


def _key_room(sources: list[Source]) -> float:
    return max((canvas.text_width(source.key) for source in sources), default=0) + 0.08


def _split(lines: list[list[str]], columns: int) -> list[int]:
    """Where each column starts: entries in reading order, about as many lines in each column."""
    total = sum(len(entry) for entry in lines)
    starts, count = [0], 0
    for index, entry in enumerate(lines):
        if len(starts) < columns and count >= total * len(starts) / columns:
            starts.append(index)
        count += len(entry)
    return starts


def _column_lines(lines: list[list[str]], columns: int) -> int:
    starts = [*_split(lines, columns), len(lines)]
    return max((sum(len(entry) for entry in lines[a:b]) for a, b in zip(starts, starts[1:])), default=0)


def source_legend_height(sources: list[Source], width: float, columns: int = 2) -> float:
    """Inches that :func:`draw_source_legend` takes for ``sources`` in ``columns`` over ``width`` inches."""
    lines = _entries(sources, width / columns - 0.2)
    return _HEAD + _LINE * _column_lines(lines, columns) if sources else 0.0


def draw_source_legend(figure: Figure, sources: list[Source], link_base: str, left: float, top: float,
                       width: float, columns: int = 2) -> None:
    """Every source under a heading, ``top`` inches below the figure's top edge: its key and its full
    title, both links to the source's page."""
    if not sources:
        return
    height, column_width = figure.get_figheight(), width / columns
    lines = _entries(sources, column_width - 0.2)
    key_room = _key_room(sources)
    figure.text(left / figure.get_figwidth(), 1 - (top + _HEAD - 0.07) / height, LEGEND_HEADING,
                fontsize=canvas.FONT_SIZE + 0.5, fontweight="bold", color="#222222")
    starts = [*_split(lines, columns), len(sources)]
    for column, (first, end) in enumerate(zip(starts, starts[1:])):
        x, y = left + column * column_width, top + _HEAD
        for source, entry in zip(sources[first:end], lines[first:end], strict=True):
            link = canvas.link_for(source.iri, link_base)
            _text(figure, x, y, source.key, link, height)
            for number, line in enumerate(entry):
                _text(figure, x + key_room, y + number * _LINE, line, link, height)
            y += _LINE * len(entry)


def _text(figure: Figure, x: float, y: float, text: str, link: str, height: float) -> None:
    figure.text(x / figure.get_figwidth(), 1 - (y + _LINE * 0.75) / height, text, fontsize=canvas.FONT_SIZE,
                color="#1a4f8b", url=link)
