"""A picture: the competency questions it draws, their rows, and the drawing, as SVG or PNG bytes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Dataset, Graph

from thbkg.namespaces import BASE
from thbkg.queries import NamedQuery, find_query, result_rows, run_query

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["IMAGE_FORMATS", "PICTURES", "Picture", "PictureError", "QueryTable", "Source", "build_picture",
           "draw_picture", "image_format_for", "keyed_sources", "picture_queries", "render_picture"]

#: The pictures, each with the competency questions it is drawn from.
PICTURES: dict[str, tuple[str, ...]] = {
    "timeline": ("cq-31-commitment-milestones",),
    "charts": ("cq-12-contested-statistics", "cq-13-statistical-observations"),
}
IMAGE_FORMATS = ("svg", "png")
_TITLE = "Title"  # a column ``x`` of source IRIs is followed by ``xTitle``, the sources' titles


class PictureError(Exception):
    """A picture that cannot be drawn or written as asked."""


@dataclass(frozen=True)
class QueryTable:
    """The rows a competency question gives, as the CSV results format writes them."""

    query: NamedQuery
    header: list[str]
    rows: list[list[str]]

    @classmethod
    def from_csv(cls, query: NamedQuery, text: str) -> QueryTable:
        """The table of a SPARQL CSV results document (as our endpoint answers ``text/csv``)."""
        rows = list(csv.reader(io.StringIO(text)))
        return cls(query=query, header=rows[0] if rows else [], rows=rows[1:])

    def records(self) -> list[dict[str, str]]:
        return [dict(zip(self.header, row, strict=True)) for row in self.rows]

    def source_cells(self) -> Iterator[tuple[str, str]]:
        """(IRI, title) of every source the rows name, row by row: the cells of each column ``x``
        followed by its ``xTitle`` (``source``, ``sourceTitle``; ``officialSource``, ...)."""
        pairs = [(name, name + _TITLE) for name in self.header if name + _TITLE in self.header]
        for record in self.records():
            for iri, title in pairs:
                yield record[iri], record[title]


@dataclass(frozen=True)
class Source:
    """A catalogued source as a picture names it: its key ("[1]"), its IRI and its title."""

    key: str
    iri: str
    title: str


def keyed_sources(tables: Iterable[QueryTable]) -> dict[str, Source]:
    """Every source the tables name, by IRI, keyed [1], [2], ... in order of first appearance; a source
    without a title is named by its IRI."""
    found: dict[str, Source] = {}
    for table in tables:
        for iri, title in table.source_cells():
            if iri and iri not in found:
                found[iri] = Source(f"[{len(found) + 1}]", iri, title or iri)
    return found


@dataclass(frozen=True)
class Picture:
    """A drawn picture, the rows it shows and the sources it names (in the order of their keys)."""

    name: str
    title: str
    tables: list[QueryTable]
    sources: list[Source]
    figure: Figure

    def image(self, image_format: str) -> bytes:
        """The picture as ``svg`` or ``png`` bytes (the same bytes on every run)."""
        if image_format not in IMAGE_FORMATS:
            raise PictureError(f"no image format {image_format!r}; use one of {', '.join(IMAGE_FORMATS)}")
        from thbkg.pictures.canvas import figure_bytes

        return figure_bytes(self.figure, image_format, self.title)


def image_format_for(output: Path | None, explicit: str | None) -> str:
    """The image format asked for: given explicitly, else told by the output file's extension, else SVG."""
    if explicit:
        if explicit not in IMAGE_FORMATS:
            raise PictureError(f"no image format {explicit!r}; use one of {', '.join(IMAGE_FORMATS)}")
        return explicit
    if output is None:
        return "svg"
    extension = output.suffix.lower().lstrip(".")
    if extension not in IMAGE_FORMATS:
        raise PictureError(f"cannot tell the image format from {output.name!r}: name the file .svg or .png, "
                           "or give --image-format svg|png")
    return extension


def picture_queries(name: str, folder: Path | None = None) -> list[NamedQuery]:
    """The competency questions picture ``name`` is drawn from (bundled, or those in ``folder``)."""
    if name not in PICTURES:
        raise PictureError(f"no picture {name!r}; the pictures are {', '.join(PICTURES)}")
    return [find_query(query, folder) for query in PICTURES[name]]


def build_picture(dataset: Dataset | Graph, name: str, link_base: str = BASE,
                  queries_dir: Path | None = None) -> Picture:
    """Draw picture ``name`` from the graph; its links point under ``link_base`` ("/" on our server)."""
    tables = []
    for query in picture_queries(name, queries_dir):
        rows = result_rows(run_query(dataset, query.text))
        tables.append(QueryTable(query=query, header=rows[0] if rows else [], rows=rows[1:]))
    return draw_picture(name, tables, link_base)


def draw_picture(name: str, tables: list[QueryTable], link_base: str = BASE) -> Picture:
    """Draw picture ``name`` from the rows of its queries (in the order of :func:`picture_queries`)."""
    if name not in PICTURES:
        raise PictureError(f"no picture {name!r}; the pictures are {', '.join(PICTURES)}")
    sources = keyed_sources(tables)
    if name == "timeline":
        from thbkg.pictures.timeline import TITLE, draw_timeline

        figure = draw_timeline(tables[0], sources, link_base)
    else:
        from thbkg.pictures.charts import TITLE, draw_charts

        figure = draw_charts(tables[0], tables[1], sources, link_base)
    return Picture(name, TITLE, tables, list(sources.values()), figure)


def render_picture(dataset: Dataset | Graph, name: str, image_format: str, link_base: str = BASE) -> bytes:
    """Picture ``name`` of the graph as ``svg`` or ``png`` bytes."""
    return build_picture(dataset, name, link_base).image(image_format)
