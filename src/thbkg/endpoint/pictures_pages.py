"""The pictures on the server: /timeline and /charts as pages (picture, captions, sources, rows), SVG, PNG.

Each picture is drawn once per process, on its first request: its queries run on the query workers
(Oxigraph, as every query the endpoint answers), matplotlib draws in a thread, and the page
(templates/picture.html) and both images are kept; the graph is read-only, so they never go stale.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import FastAPI, Response
from markupsafe import Markup

from thbkg.backend import Backend
from thbkg.backend.errors import BackendError
from thbkg.backend.reading import solutions_of
from thbkg.endpoint.answer_table import Table, answer_table
from thbkg.endpoint.templating import render
from thbkg.pictures import PICTURES, Picture, QueryTable, draw_picture, picture_queries
from thbkg.queries import NamedQuery
from thbkg.sparql_guard import inspect_query

__all__ = ["RowsSection", "add_picture_routes", "render_page"]

_MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
_TSV = "text/tab-separated-values"


@dataclass(frozen=True)
class _Rendered:
    page: str
    images: dict[str, bytes]


@dataclass(frozen=True)
class RowsSection:
    """The rows of one of a picture's queries, as the page shows them."""

    query: NamedQuery
    table: Table


def render_page(picture: Picture, svg: bytes, sections: list[RowsSection]) -> str:
    """The HTML page of a picture: the SVG inline, its queries as captions, its sources by title, and the
    rows of its queries as tables."""
    drawing = svg.decode("utf-8")
    drawing = Markup(drawing[drawing.index("<svg"):])  # our own drawing, without its XML declaration
    return render("picture.html", picture=picture, drawing=drawing, sections=sections,
                  pictures=list(PICTURES))


def _draw(name: str, tables: list[QueryTable]) -> tuple[Picture, dict[str, bytes]]:
    picture = draw_picture(name, tables, link_base="/")
    return picture, {image_format: picture.image(image_format) for image_format in _MEDIA_TYPES}


async def _render(backend: Backend, name: str) -> _Rendered:
    """Run the picture's queries, draw it, and fill its page."""
    tables, sections = [], []
    for query in picture_queries(name):
        answer = await backend.query(query.text, _TSV, shape=inspect_query(query.text))
        variables, rows = solutions_of(answer)
        # The queries project strings and IRIs only (STR of every literal), so str() is the CSV cell.
        cells = [[str(row.get(variable, "")) for variable in variables] for row in rows]
        tables.append(QueryTable(query, variables, cells))
        table = await answer_table(backend, variables, rows, page_size=max(len(rows), 1))
        sections.append(RowsSection(query, table))
    picture, images = await asyncio.to_thread(_draw, name, tables)
    return _Rendered(render_page(picture, images["svg"], sections), images)


def add_picture_routes(app: FastAPI, backend_of) -> None:
    """GET /timeline, /charts (HTML) and /timeline.svg, .png, /charts.svg, .png; ``backend_of()`` is the
    endpoint's backend, started with the app."""
    rendered: dict[str, _Rendered] = {}
    lock = asyncio.Lock()  # one drawing at a time: matplotlib's settings are process-wide

    async def picture(name: str) -> _Rendered:
        async with lock:
            if name not in rendered:
                rendered[name] = await _render(backend_of(), name)
        return rendered[name]

    async def answer(name: str, part: str) -> Response:
        try:
            drawn = await picture(name)
        except BackendError as exc:
            return Response(f"{exc.status} {exc}\n", status_code=exc.status, media_type="text/plain; charset=utf-8")
        if part == "html":
            return Response(drawn.page, media_type="text/html; charset=utf-8")
        return Response(drawn.images[part], media_type=_MEDIA_TYPES[part])

    def endpoint(name: str, part: str):
        async def send() -> Response:
            return await answer(name, part)
        return send

    for name in PICTURES:
        app.add_api_route(f"/{name}", endpoint(name, "html"), methods=["GET"],
                          summary=f"The {name}, as a page")
        for image_format in _MEDIA_TYPES:
            app.add_api_route(f"/{name}.{image_format}", endpoint(name, image_format), methods=["GET"],
                              summary=f"The {name} as {image_format.upper()}")
