"""The way in without SPARQL: the home page, /search, /questions and each question's page, the editor.

Every page asks the backend by SPARQL (the page lane of the workers, ahead of the public's queries).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from thbkg.backend import Backend, BackendError
from thbkg.backend.reading import solutions_of
from thbkg.endpoint.answer_table import answer_table, heading
from thbkg.endpoint.protocol import negotiate
from thbkg.endpoint.templating import local_href, page
from thbkg.endpoint.ui import render_ui
from thbkg.pictures import PICTURES
from thbkg.queries import NamedQuery
from thbkg.search import SearchError, search
from thbkg.settings import Settings

__all__ = ["add_question_routes"]

_TSV = "text/tab-separated-values"
_DOWNLOADS = {"csv": "text/csv", "json": "application/sparql-results+json"}
_SEARCH_LIMIT = 50


def _themes(queries: list[NamedQuery]) -> list[tuple[str, list[NamedQuery]]]:
    """The questions grouped by theme, the themes in the order of their first question."""
    order = {}
    for query in queries:
        order.setdefault(query.theme, len(order))
    ordered = sorted(queries, key=lambda q: (order[q.theme], q.name))
    return [(theme, list(group)) for theme, group in groupby(ordered, key=lambda q: q.theme)]


def _views(query: NamedQuery) -> list[tuple[str, str]]:
    """The pictures drawn from ``query``: its default view where one fits."""
    kinds = {"timeline": "timeline", "charts": "chart"}
    return [(kinds.get(name, name), f"/{name}") for name, names in PICTURES.items() if query.name in names]


def _cut_notice(max_rows: int) -> str:
    return (f"# cut: this answer holds only the first {max_rows} rows (the engine's limit); "
            "ask /sparql with LIMIT and OFFSET for the rest\n")


def add_question_routes(app: FastAPI, queries: list[NamedQuery], backend_of: Callable[[], Backend],
                        settings: Settings) -> None:
    """GET /, /search, /questions, /questions/{name} (HTML), /questions/{name}.csv and .json, /editor."""
    by_name = {query.name: query for query in queries}
    themes = _themes(queries)
    editor_page = render_ui(queries)

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return page("home.html", themes=themes)

    @app.get("/editor", include_in_schema=False)
    async def editor() -> Response:
        return Response(editor_page, media_type="text/html; charset=utf-8")

    @app.get("/search", summary="Search every label and short name (accents and case ignored), best match first")
    async def search_route(request: Request, q: str = "") -> Response:
        wants = negotiate(request.headers.get("accept"), ["text/html", "application/json"]) or "application/json"
        if not q.strip() and wants == "text/html":
            return page("search.html", query="", hits=[], error=None, limit=_SEARCH_LIMIT)
        try:
            hits = await search(backend_of(), q, limit=_SEARCH_LIMIT)
        except SearchError as error:
            if wants == "text/html":
                return page("search.html", status_code=400, query=q, hits=[], error=str(error), limit=_SEARCH_LIMIT)
            return JSONResponse({"error": str(error)}, status_code=400)
        except BackendError as error:
            if wants == "text/html":
                return page("search.html", status_code=error.status, query=q, hits=[], limit=_SEARCH_LIMIT,
                            error=f"The search could not be answered now: {error}", headers=error.headers)
            return JSONResponse({"error": str(error)}, status_code=error.status, headers=error.headers)
        if wants == "text/html":
            return page("search.html", query=q, hits=hits, error=None, limit=_SEARCH_LIMIT,
                        headers={"Vary": "Accept"})
        return JSONResponse({"query": q, "results": [
            {"iri": str(hit.iri), "page": local_href(hit.iri), "label": hit.label(), "labels": hit.labels,
             "shortNames": hit.short_names, "kinds": hit.kinds, "matched": str(hit.matched), "rank": rank}
            for rank, hit in enumerate(hits, start=1)]}, headers={"Vary": "Accept"})

    @app.get("/questions", summary="The competency questions, grouped by theme")
    async def question_list(request: Request) -> Response:
        if negotiate(request.headers.get("accept"), ["text/html", "application/json"]) == "application/json":
            return JSONResponse([{"name": q.name, "question": q.question, "theme": q.theme,
                                  "page": f"/questions/{q.name}"} for q in queries])
        return page("questions.html", themes=themes, count=len(queries))

    @app.get("/questions/{name}", summary="A question's answer: a readable table with its sources (paged), "
                                          "or its rows as CSV (.csv) or SPARQL JSON (.json)")
    async def question(name: str, request: Request) -> Response:
        stem, _, extension = name.partition(".")
        query = by_name.get(stem)
        if query is None or (extension and extension not in _DOWNLOADS):
            return page("not_found.html", status_code=404,
                        message=f"There is no question {name!r}. The questions are listed at /questions.")
        params = dict(request.query_params)
        page_number = _int(params.pop("page", "1"))
        filters = [(key, value) for key, value in params.items()]
        try:
            if extension:
                return await _download(query, extension)
            answer = await backend_of().query(query.text, _TSV, max_rows=settings.max_rows)
        except BackendError as error:
            if extension:
                return Response(f"{error}\n", status_code=error.status, media_type="text/plain", headers=error.headers)
            return page("question.html", status_code=error.status, headers=error.headers, question=query,
                        explanation=query.explanation, views=_views(query), filters=[],
                        error=f"The answer could not be computed now: {error}", table=None,
                        max_rows=settings.max_rows, page_query=lambda n: "")
        variables, rows = solutions_of(answer)
        known = [(key, value) for key, value in filters if key in variables]
        rows = [row for row in rows if all(str(row.get(key, "")) == value for key, value in known)]
        table = await answer_table(backend_of(), variables, rows, page=page_number, cut=answer.truncated)
        return page("question.html", question=query, explanation=query.explanation, views=_views(query),
                    table=table, error=None, max_rows=settings.max_rows,
                    filters=[(heading(key), value) for key, value in known],
                    page_query=lambda n: urlencode([*known, ("page", n)]))

    async def _download(query: NamedQuery, extension: str) -> Response:
        """Every row of the answer, written by the engine (a filter of the page is not applied)."""
        media_type = _DOWNLOADS[extension]
        headers = {"Content-Disposition": f'attachment; filename="{query.name}.{extension}"'}
        answer = await backend_of().query(query.text, media_type, max_rows=settings.max_rows)
        body = answer.body
        if answer.truncated:
            headers["X-THBKG-Truncated"] = f"true; max-rows={settings.max_rows}"
            if extension == "csv":
                body += _cut_notice(settings.max_rows).encode()
        return Response(body, media_type=media_type + ("; charset=utf-8" if extension == "csv" else ""),
                        headers=headers)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 1
