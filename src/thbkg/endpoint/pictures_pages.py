"""The pictures on the server: /timeline and /charts as pages (picture, caption, table of rows), SVG, PNG.

Each picture is drawn once per process, on its first request: its queries run on the query workers
(Oxigraph, as every query the endpoint answers), matplotlib draws in a thread, and the page and both
images are kept; the graph is read-only, so they never go stale.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from fastapi import FastAPI, Response

from thbkg.backend.errors import BackendError
from thbkg.namespaces import BASE
from thbkg.pictures import PICTURES, Picture, QueryTable, draw_picture, picture_queries
from thbkg.sparql_guard import inspect_query

__all__ = ["add_picture_routes", "render_page"]

_MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
_STYLE = """body{font-family:system-ui,sans-serif;margin:0 auto;padding:0 1rem 2rem;color:#222}
body{max-width:110rem}
nav{margin:1rem 0 .25rem}h1{font-size:1.4rem;margin:.25rem 0 1rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
figure{margin:0}figure svg{max-width:100%;height:auto;display:block}section{overflow-x:auto}
figcaption{margin:.5rem 0;line-height:1.5}
table{border-collapse:collapse;font-size:.85rem}caption{text-align:left;padding:.25rem 0;font-weight:600}
th,td{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}th{background:#f3f3f3}
tbody tr:nth-child(even){background:#fafafa}"""


@dataclass(frozen=True)
class _Rendered:
    page: str
    images: dict[str, bytes]


def _cell(value: str) -> str:
    from thbkg.pictures.canvas import slug  # matplotlib, loaded with the first picture drawn

    if value.startswith(BASE):
        return f'<a href="/{escape(value[len(BASE):])}" title="{escape(value)}">{escape(slug(value))}</a>'
    if value.startswith(("http://", "https://")):
        return f'<a href="{escape(value)}">{escape(value)}</a>'
    return escape(value)


def _table(table: QueryTable) -> str:
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in table.header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>"
                   for row in table.rows)
    name = escape(table.query.name)
    return (f'<section id="rows-{name}"><h2>The rows of {name}</h2><table><caption>'
            f"{escape(table.query.question)} ({len(table.rows)} rows)</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></section>")


def _query_line(table: QueryTable) -> str:
    name = escape(table.query.name)
    return (f'Query: <a href="/id/query/{name}">{name}</a> — {escape(table.query.question)} '
            f'(<a href="/editor?tab={quote(table.query.name)}">run it in the query editor</a>)')


def render_page(picture: Picture, svg: bytes) -> str:
    """The HTML page of a picture: the SVG inline, its queries as captions, and their rows as tables."""
    drawing = svg.decode("utf-8")
    drawing = drawing[drawing.index("<svg"):].replace(
        "<svg ", f'<svg role="img" aria-label="{escape(picture.title)}" ', 1)
    captions = "<br>".join(_query_line(table) for table in picture.tables)
    links = " · ".join(f'<a href="/{other}">{other}</a>' for other in PICTURES)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(picture.title)} — THB-KG</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>{_STYLE}</style></head><body>
<nav><a href="/">THB-KG query editor</a> · {links} · <a href="/ontology">ontology</a></nav>
<h1>{escape(picture.title)}</h1>
<main><figure id="picture">{drawing}<figcaption>{captions}<br>Download:
<a href="/{picture.name}.svg">SVG</a> · <a href="/{picture.name}.png">PNG</a>
(or <code>thbkg export --format {picture.name} -o {picture.name}.svg</code>)</figcaption></figure>
{"".join(_table(table) for table in picture.tables)}
</main></body></html>"""


def _draw(name: str, tables: list[QueryTable]) -> _Rendered:
    picture = draw_picture(name, tables, link_base="/")
    images = {image_format: picture.image(image_format) for image_format in _MEDIA_TYPES}
    return _Rendered(render_page(picture, images["svg"]), images)


def add_picture_routes(app: FastAPI, backend_of) -> None:
    """GET /timeline, /charts (HTML) and /timeline.svg, .png, /charts.svg, .png; ``backend_of()`` is the
    endpoint's backend, started with the app."""
    rendered: dict[str, _Rendered] = {}
    lock = asyncio.Lock()  # one drawing at a time: matplotlib's settings are process-wide

    async def picture(name: str) -> _Rendered:
        async with lock:
            if name not in rendered:
                tables = []
                for query in picture_queries(name):
                    answer = await backend_of().query(query.text, "text/csv", shape=inspect_query(query.text))
                    tables.append(QueryTable.from_csv(query, answer.body.decode("utf-8")))
                rendered[name] = await asyncio.to_thread(_draw, name, tables)
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
