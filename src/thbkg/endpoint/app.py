"""The FastAPI application over a release and one backend: SPARQL 1.1 Protocol, linked-data pages, health.

Every reader asks the backend by SPARQL (embedded Oxigraph workers or a remote engine, started with
each web process); the release gives what was computed once at build time (dumps, VoID statistics,
query catalogue, ontology documentation).

rdflib-endpoint's router provides the service description, the example queries and the OpenAPI
documentation; its request handlers (which evaluate in the event loop with rdflib, decode forms
twice and ignore Accept for DESCRIBE) are replaced by ours, see ``ThbSparqlRouter``.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from rdflib import Graph
from rdflib.namespace import RDF
from rdflib_endpoint import SparqlRouter

from thbkg.backend import Answer, Backend, BackendError
from thbkg.build.release import Release
from thbkg.catalogue import ServedVoid
from thbkg.endpoint.backends import make_backend
from thbkg.endpoint.cache import ResultCache
from thbkg.endpoint import templating
from thbkg.endpoint.downloads import add_download_routes
from thbkg.endpoint.fastpath import CORS_EXPOSED, CORS_HEADERS, SparqlFastPath, accept_of, etag_matches
from thbkg.endpoint.graphview import add_graph_routes
from thbkg.endpoint.linked_data import add_linked_data_routes
from thbkg.endpoint.network_reader import NetworkReader
from thbkg.endpoint.pictures_pages import add_picture_routes
from thbkg.endpoint.protocol import MAX_BODY, ProtocolError, SparqlRequest, negotiate, read_request
from thbkg.endpoint.questions_pages import add_question_routes
from thbkg.endpoint.ui import STATIC_DIR
from thbkg.formats import FORMAT_NAMES, GRAPH_MEDIA_TYPES, MEDIA_ALIASES, RESULT_MEDIA_TYPES, named_format
from thbkg.namespaces import BASE, SD, bind_prefixes
from thbkg.queries import NamedQuery, load_queries
from thbkg.settings import Settings
from thbkg.sparql_guard import QueryRefused, QueryShape, shape_of

__all__ = ["Settings", "ThbSparqlRouter", "create_app"]

_ALIASES = MEDIA_ALIASES
_SD_FORMATS = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml"}


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    """A short plain-text error: never HTML, never the request echoed back."""
    return Response(f"{status} {message}\n", status_code=status, media_type="text/plain; charset=utf-8",
                    headers=headers)


class ThbSparqlRouter(SparqlRouter):
    """rdflib-endpoint's router with our protocol handlers in place of its own."""

    def __init__(self, *, backend_holder: dict, settings: Settings,
                 example_queries: dict, cache: ResultCache | None = None, **kwargs):
        # rdflib-endpoint evaluates nothing here: its graph stays empty, every query goes to the backend.
        super().__init__(path="/sparql", graph=Graph(), public_url=settings.public_url.rstrip("/") + "/sparql",
                         example_queries=example_queries, **kwargs)
        self.routes.clear()  # rdflib-endpoint's own GET/POST handlers: replaced below
        self.backend_holder = backend_holder
        self.settings = settings
        self.cache = cache
        # We refuse SERVICE, so we do not advertise federated query; we do answer TSV and XML.
        from rdflib_endpoint.utils import FORMATS
        service = next(self.service_description.subjects(RDF.type, SD.Service))
        self.service_description.remove((service, SD.feature, SD.BasicFederatedQuery))
        for fmt in (FORMATS.SPARQL_Results_XML, FORMATS.SPARQL_Results_TSV, FORMATS.N_Triples, FORMATS.JSON_LD):
            self.service_description.add((service, SD.resultFormat, fmt))
        bind_prefixes(self.service_description)
        self.add_api_route("/sparql", self.sparql_operation, methods=["GET", "POST", "HEAD"], name="SPARQL endpoint")

    async def sparql_operation(self, request: Request) -> Response:
        """SPARQL 1.1 Protocol query operation: GET, POST form, POST application/sparql-query.

        Most queries are answered before routing, by :class:`~thbkg.endpoint.fastpath.SparqlFastPath`;
        what comes here is the service description, refusals, and queries too large to check in
        the event loop."""
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY:
            return _error(413, f"request body over {MAX_BODY // 1024} KiB")
        accept = accept_of(request.headers.getlist("accept"))
        body = await request.body()
        try:
            operation = read_request(request.method, request.url.query, request.headers.get("content-type"), body)
            if operation.query is None:
                return self.describe_service(accept)
            if len(operation.query) > 64 * 1024:  # keep the event loop free on large queries
                shape, media_type = await asyncio.to_thread(self.plan, operation, accept)
            else:
                shape, media_type = self.plan(operation, accept)
        except ProtocolError as exc:
            return _error(exc.status, exc.message)
        except QueryRefused as exc:
            return _error(exc.status, str(exc))
        return await self.answer(request.method, request.headers.get("if-none-match"), operation, shape, media_type)

    async def answer(self, method: str, if_none_match: str | None, operation: SparqlRequest, shape: QueryShape,
                     media_type: str) -> Response:
        """The response to a planned query: from the cache, else from the backend (and then cached)."""
        key = self.cache_key(operation, media_type)
        cached = self.cache.get(key) if self.cache else None
        if cached is not None:
            return self.respond(method, if_none_match, *cached)
        try:
            answer = await self.backend_holder["backend"].query(
                operation.query, media_type, default_graphs=operation.default_graphs,
                named_graphs=operation.named_graphs, max_rows=self.settings.max_rows, shape=shape, priority=False)
        except (QueryRefused, BackendError) as exc:
            return _error(exc.status, str(exc), {**CORS_HEADERS, **getattr(exc, "headers", {})})
        etag = self.cache.put(key, answer) if self.cache else None
        return self.respond(method, if_none_match, answer, etag)

    def plan(self, operation: SparqlRequest, accept: str | None) -> tuple[QueryShape, str]:
        """What the guard says of the query, and the media type its answer is sent in: the ``format``
        parameter's, else the best of Accept for the query's form. Raises :class:`QueryRefused` for a
        refused query, :class:`ProtocolError` (400, 406) when no format fits."""
        shape = shape_of(operation.query)
        kind = "graph" if shape.form in ("CONSTRUCT", "DESCRIBE") else "results"
        offered = list(GRAPH_MEDIA_TYPES if kind == "graph" else RESULT_MEDIA_TYPES)
        if operation.format is not None:
            media_type = named_format(operation.format, kind)
            if media_type is None:
                raise ProtocolError(400, f"format={operation.format[:40]!r} is not a format of {shape.form or 'this'} "
                                         f"answers: give one of {', '.join(sorted(set(FORMAT_NAMES[kind])))} "
                                         "(or a media type)")
            return shape, media_type
        media_type = negotiate(accept, offered, _ALIASES)
        if media_type is None:
            raise ProtocolError(406, "none of the formats in Accept can be produced; offered: " + ", ".join(offered))
        return shape, media_type

    def cache_key(self, operation: SparqlRequest, media_type: str) -> tuple:
        """What decides the answer: the query as sent, the format it is sent in, the dataset, the row cap."""
        return (operation.query, media_type, tuple(operation.default_graphs), tuple(operation.named_graphs),
                self.settings.max_rows)

    def respond(self, method: str, if_none_match: str | None, answer: Answer, etag: str | None) -> Response:
        """The response carrying ``answer``: 304 when the client already has it, no body for HEAD."""
        headers = {"Vary": "Accept", **CORS_HEADERS}
        if etag:
            headers["ETag"] = etag
            headers["Cache-Control"] = "public, max-age=60"
            if etag_matches(if_none_match, etag):
                return Response(status_code=304, headers=headers)
        if answer.truncated:
            headers["X-THBKG-Truncated"] = f"true; max-rows={self.settings.max_rows}"
            headers["Warning"] = f'199 thbkg "result truncated to the first {self.settings.max_rows} rows"'
        content_type = answer.media_type + ("; charset=utf-8" if not answer.media_type.endswith("xml") else "")
        body = b"" if method == "HEAD" else answer.body
        response = Response(body, media_type=content_type, headers=headers)
        if method == "HEAD":
            response.headers["content-length"] = str(len(answer.body))
        return response

    def describe_service(self, accept: str | None) -> Response:
        """The SPARQL service description (Turtle, JSON-LD, RDF/XML), or the UI for a browser."""
        media_type = negotiate(accept, ["text/turtle", "application/ld+json", "application/rdf+xml", "text/html"],
                               _ALIASES)
        if media_type is None:
            return _error(406, "the service description is available as text/turtle, application/ld+json or "
                               "application/rdf+xml")
        if media_type == "text/html" and accept and "text/html" in accept:  # a browser: the description, readable
            turtle = self.service_description.serialize(format="turtle")
            return templating.page("rdf_document.html", turtle=turtle, headers={"Vary": "Accept"},
                                   title="SPARQL service description",
                                   description="What this endpoint is and does (SPARQL 1.1 Service Description). "
                                               "Queries go to /sparql (GET with ?query=, or POST).")
        media_type = "text/turtle" if media_type == "text/html" else media_type
        return Response(self.service_description.serialize(format=_SD_FORMATS[media_type]), media_type=media_type)


def _examples(queries: list[NamedQuery]) -> dict:
    return {query.question: {"query": query.text} for query in queries}


def create_app(release: Release, settings: Settings, backend: Backend | None = None) -> FastAPI:
    """The application over a built ``release``; its backend starts with each web process. A
    ``backend`` given (launched already) serves the one web process there is."""
    holder: dict = {}
    queries = load_queries(release.queries_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        serving = backend or make_backend(release, settings)
        await serving.start()
        holder["backend"] = serving
        try:
            yield
        finally:
            await serving.close()

    def backend_of() -> Backend:
        return holder["backend"]

    # FastAPI's /docs loads Swagger UI from a CDN: fastapi-offline serves it from the package. No /redoc:
    # ReDoc's page fetches its logo from cdn.redoc.ly.
    app = FastAPIOffline(title="THB-KG SPARQL endpoint", version="0.1.0", lifespan=lifespan, redoc_url=None,
                  description="France's fight against trafficking in human beings, as a knowledge graph. "
                              "Read-only SPARQL 1.1 endpoint, linked-data pages and dumps.")
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False, allow_methods=["GET", "POST", "HEAD"],
                       allow_headers=["*"], expose_headers=list(CORS_EXPOSED))
    version = release.digest + (settings.backend_url or "")
    cache = ResultCache(version) if settings.cache else None
    router = ThbSparqlRouter(backend_holder=holder, settings=settings, example_queries=_examples(queries),
                             cache=cache, title="THB-KG", description="France's fight against trafficking in human beings")
    app.include_router(router)
    app.add_middleware(SparqlFastPath, router=router)  # added last, so outermost: before CORS and routing
    void = ServedVoid(release.void_path, settings.public_url)
    add_download_routes(app, release, settings.public_url, void)
    add_graph_routes(app, NetworkReader(backend_of, quads=None if settings.backend_url else
                                        release.manifest["counts"]["quads"]))
    add_picture_routes(app, backend_of)
    add_linked_data_routes(app, release, backend_of, void)
    triples = release.manifest["counts"]["triples"]

    add_question_routes(app, queries, backend_of, settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:  # no icon; a 204 keeps browsers from logging a 404 on every page
        return Response(status_code=204)

    @app.get("/health")
    async def health() -> dict:
        backend = holder.get("backend")
        return {"status": "ok", "triples": triples, "workers": getattr(backend, "size", 0),
                "backend": backend.description if backend else None}

    return app
