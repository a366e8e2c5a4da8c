"""Every IRI under https://w3id.org/thbkg/ answered at its path: resources, ontology, named graphs, dataset, shapes.

``https://w3id.org/thbkg/<path>`` is ``/<path>`` here: HTML for a browser, else Turtle, JSON-LD,
N-Triples or RDF/XML by Accept or by extension (``.ttl``, ``.jsonld``, ``.nt``, ``.rdf``); HEAD too.

- ``/id/...``: a resource (:mod:`thbkg.endpoint.pages`); ``/ontology`` and its version IRIs
  (``/ontology/0.1.0``, from ``owl:versionIRI``): the ontology graph.
- ``/graph/<name>``: the named graph ``graph:<name>`` (sources, ontology, vocabularies, queries): a page
  saying what it is, how many triples, the graphs it describes; its triples as RDF.
- ``/dataset``: the VoID description (as ``/.well-known/void``); ``/dataset/class/...`` and
  ``/dataset/property/...``: one partition of it.
- ``/shapes`` (every ``thbsh:`` shape) and ``/shapes-warnings``: the SHACL shapes.

Resources, the ontology and the named graphs are asked of the backend by SPARQL. The VoID statistics
(computed by SPARQL at build time) come from the release's ``void.ttl``, and the shapes, which the
store does not hold, from the bundled shape files; both are read once. RDF is written off the event loop.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, VOID

from thbkg.backend import Backend, BackendError
from thbkg.backend.reading import graph_of, select, sparql_iri
from thbkg.build.release import Release
from thbkg.catalogue import DATASET, ServedVoid
from thbkg.endpoint.labels import Labels
from thbkg.endpoint.pages import RDF_PAGE_FORMATS, describe, render_html, resource_exists
from thbkg.endpoint.protocol import negotiate
from thbkg.endpoint.shapes_outline import ShapesFile, read_shapes, shape_files
from thbkg.endpoint.templating import page
from thbkg.formats import MEDIA_ALIASES
from thbkg.namespaces import BASE, GRAPH, PREFIXES, bind_prefixes
from thbkg.sparql_guard import QueryRefused

__all__ = ["JSONLD_CONTEXT", "ONTOLOGY", "add_linked_data_routes", "split_extension"]

#: The JSON-LD context of every JSON-LD page (published at /context.jsonld): the one prefix map.
JSONLD_CONTEXT = {"@context": dict(PREFIXES)}
#: The ontology's IRI (its versions are ``owl:versionIRI`` of it).
ONTOLOGY = URIRef(BASE + "ontology")
#: A linked-data page asked for as JSON is JSON-LD (the other aliases are the SPARQL ones).
_PAGE_ALIASES = {**MEDIA_ALIASES, "application/json": "application/ld+json"}
_OFFERED = ["text/html", *RDF_PAGE_FORMATS]
_BY_EXTENSION = {ext: media for media, (_, ext) in RDF_PAGE_FORMATS.items()}
_NOT_IN_IRIS = set('<>"{}|\\^` ')
_HTML = "text/html; charset=utf-8"
_VARY = {"Vary": "Accept"}


def split_extension(path: str) -> tuple[str, str | None]:
    """``path`` without its RDF extension (``.ttl``, ``.jsonld``, ``.nt``, ``.rdf``), and that extension."""
    for extension in _BY_EXTENSION:
        if path.endswith(extension):
            return path[: -len(extension)], extension
    return path, None


def _wanted(request: Request, extension: str | None) -> str | None:
    """``text/html`` or the RDF media type to answer in: the extension's, else the best of Accept."""
    if extension:
        return _BY_EXTENSION[extension]
    return negotiate(request.headers.get("accept"), _OFFERED, _PAGE_ALIASES)


def _error(status: int, message: str) -> Response:
    """A short plain-text error: never HTML, never the request echoed back."""
    return Response(f"{status} {message}\n", status_code=status, media_type="text/plain; charset=utf-8")


def _not_acceptable() -> Response:
    return _error(406, "available as " + ", ".join(_OFFERED))


def _unknown(iri: str) -> Response:
    return page("unknown_iri.html", status_code=404, iri=iri)


async def rdf_response(graph: Graph, media_type: str) -> Response:
    """``graph`` written as ``media_type`` (``text/html`` means Turtle) in a thread; JSON-LD compacted
    with the context published at /context.jsonld."""
    media_type = "text/turtle" if media_type == "text/html" else media_type
    fmt = RDF_PAGE_FORMATS[media_type][0]
    options = {"context": JSONLD_CONTEXT["@context"], "auto_compact": True} if fmt == "json-ld" else {}
    body = await asyncio.to_thread(graph.serialize, format=fmt, **options)
    return Response(body, media_type=media_type, headers=_VARY)


async def _construct(backend: Backend, query: str) -> Graph:
    """The graph ``query`` builds, parsed off the event loop."""
    answer = await backend.query(query, "application/n-triples")
    return await asyncio.to_thread(graph_of, answer)


def _alternates(path: str) -> list[tuple[str, str]]:
    """(name, href) of each RDF form of the page at ``path``."""
    return [(ext[1:], path + ext) for _, ext in RDF_PAGE_FORMATS.values()]


def _construct_link(graph: str) -> str:
    """A /sparql link that answers with the triples of the named graph ``graph``, as Turtle."""
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {sparql_iri(graph)} {{ ?s ?p ?o }} }}"
    return "/sparql?format=turtle&query=" + quote(query, safe="")


async def _labels(backend: Backend, iris: set) -> dict[str, str]:
    """English (else any) label or title of each IRI, else its prefixed name."""
    labels = await Labels.of(backend, iris, (RDFS.label, DCTERMS.title))
    return {str(iri): labels.text(iri) for iri in iris if isinstance(iri, URIRef)}


def add_linked_data_routes(app: FastAPI, release: Release, backend_of, served_void: ServedVoid) -> None:
    """Answer every IRI under https://w3id.org/thbkg/ at its path; ``backend_of()`` is the started backend."""
    ontology_page = release.ontology_page.read_text(encoding="utf-8") if release.ontology_page else None
    cached: dict[str, object] = {}

    @app.get("/context.jsonld", summary="The JSON-LD context of every JSON-LD page: the graph's prefixes")
    async def jsonld_context() -> Response:
        return Response(json.dumps(JSONLD_CONTEXT, indent=1), media_type="application/ld+json")

    # -- Resources ------------------------------------------------------------------------------

    @app.api_route("/id/{path:path}", methods=["GET", "HEAD"],
                   summary="Dereference a resource IRI (HTML, Turtle, JSON-LD, N-Triples, RDF/XML)")
    async def resource(path: str, request: Request) -> Response:
        path, extension = split_extension(path)
        iri = URIRef(f"{BASE}id/{path}")
        media_type = _wanted(request, extension)
        if media_type is None:
            return _not_acceptable()
        try:
            if media_type == "text/html":
                if not await resource_exists(backend_of(), iri):
                    return _unknown(iri)
                return Response(await render_html(backend_of(), iri), media_type=_HTML, headers=_VARY)
            graph = await describe(backend_of(), iri)
        except (BackendError, QueryRefused) as exc:
            return _error(exc.status, str(exc))
        return _unknown(iri) if graph is None else await rdf_response(graph, media_type)

    # -- The ontology and its versions ----------------------------------------------------------

    async def ontology_graph() -> Graph:
        if "ontology" not in cached:
            cached["ontology"] = bind_prefixes(await _construct(
                backend_of(), f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{GRAPH.ontology}> {{ ?s ?p ?o }} }}"))
        return cached["ontology"]  # type: ignore[return-value]

    async def ontology_answer(request: Request, extension: str | None, version: str | None = None) -> Response:
        media_type = _wanted(request, extension)
        if media_type is None:
            return _not_acceptable()
        try:
            graph = await ontology_graph()
        except (BackendError, QueryRefused) as exc:
            return _error(exc.status, str(exc))
        if version is not None and (ONTOLOGY, OWL.versionIRI, URIRef(f"{ONTOLOGY}/{version}")) not in graph:
            return _unknown(f"{ONTOLOGY}/{version}")
        if media_type == "text/html":
            if ontology_page is None:
                return _error(404, "this release holds no ontology graph")
            return Response(ontology_page, media_type=_HTML, headers=_VARY)
        return await rdf_response(graph, media_type)

    @app.api_route("/ontology", methods=["GET", "HEAD"], summary="The ontology (HTML, Turtle, JSON-LD, N-Triples)")
    @app.api_route("/ontology{extension}", methods=["GET", "HEAD"], include_in_schema=False)
    async def ontology(request: Request, extension: str | None = None) -> Response:
        if extension and extension not in _BY_EXTENSION:
            return _error(404, "no such ontology format")
        return await ontology_answer(request, extension)

    @app.api_route("/ontology/{version:path}", methods=["GET", "HEAD"],
                   summary="A version of the ontology (its owl:versionIRI), as /ontology")
    async def ontology_version(version: str, request: Request) -> Response:
        version, extension = split_extension(version)
        return await ontology_answer(request, extension, version)

    # -- Named graphs ---------------------------------------------------------------------------

    @app.api_route("/graph/{name:path}", methods=["GET", "HEAD"],
                   summary="A named graph https://w3id.org/thbkg/graph/<name>: its page, or its triples as RDF")
    async def named_graph(name: str, request: Request) -> Response:
        name, extension = split_extension(name)
        iri = GRAPH[name]
        media_type = _wanted(request, extension)
        if media_type is None:
            return _not_acceptable()
        if not name or _NOT_IN_IRIS & set(name):
            return _unknown(iri)
        node = sparql_iri(iri)
        try:
            (counts,) = await select(backend_of(), f"SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) "
                                                   f"WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}")
            if not int(counts["triples"]):
                return _unknown(iri)
            if media_type != "text/html":
                graph = await _construct(backend_of(), f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}")
                return await rdf_response(bind_prefixes(graph), media_type)
            return page("named_graph.html", headers=_VARY, **await _named_graph_page(backend_of(), iri, counts))
        except (BackendError, QueryRefused) as exc:
            return _error(exc.status, str(exc))

    # -- The dataset (VoID) -----------------------------------------------------------------------

    @app.api_route("/dataset", methods=["GET", "HEAD"], summary="The dataset: its VoID description")
    @app.api_route("/dataset{extension}", methods=["GET", "HEAD"], include_in_schema=False)
    async def dataset(request: Request, extension: str | None = None) -> Response:
        if extension and extension not in _BY_EXTENSION:
            return _unknown(f"{DATASET}{extension}")
        media_type = _wanted(request, extension)
        if media_type is None:
            return _not_acceptable()
        void = await served_void.get()
        if media_type != "text/html":
            return await rdf_response(void, media_type)
        try:
            return page("dataset.html", headers=_VARY, **await _dataset_page(backend_of(), void))
        except (BackendError, QueryRefused) as exc:
            return _error(exc.status, str(exc))

    @app.api_route("/dataset/{kind}/{key}", methods=["GET", "HEAD"], include_in_schema=False)
    async def partition(kind: str, key: str, request: Request) -> Response:
        key, extension = split_extension(key)
        iri = URIRef(f"{DATASET}/{kind}/{key}")
        void = await served_void.get()
        if (None, None, iri) not in void:
            return _unknown(iri)
        media_type = _wanted(request, extension)
        if media_type is None:
            return _not_acceptable()
        if media_type == "text/html":  # the dataset's page shows each partition, at its anchor
            return RedirectResponse(f"/dataset#{kind}-{key}", status_code=303, headers=_VARY)
        graph = bind_prefixes(Graph())
        for triple in (*void.triples((iri, None, None)), *void.triples((None, None, iri))):
            graph.add(triple)
        return await rdf_response(graph, media_type)

    # -- The SHACL shapes -----------------------------------------------------------------------

    async def outlines() -> list[ShapesFile]:
        if "shapes" not in cached:
            cached["shapes"] = await asyncio.to_thread(read_shapes)
        return cached["shapes"]  # type: ignore[return-value]

    async def shapes_answer(request: Request, extension: str | None, path: str) -> Response:
        media_type = _wanted(request, extension)
        if media_type is None:
            return _not_acceptable()
        # /shapes holds every thbsh: shape (their IRIs are shapes#...), another file's path only its own.
        files = [f for f in await outlines() if path == "shapes" or f.path == path]
        if not files:
            return _unknown(BASE + path)
        if media_type == "text/html":
            return page("shapes.html", headers=_VARY, iri=BASE + path, files=files, path="/" + path,
                        alternates=_alternates("/" + path))
        graph = bind_prefixes(Graph())
        for shapes in files:
            graph += shapes.graph
        return await rdf_response(graph, media_type)

    def shapes_route(stem: str, extension: str | None):
        async def shapes(request: Request) -> Response:
            return await shapes_answer(request, extension, stem)
        return shapes

    for path in shape_files():  # each shape file answers at its IRI's path, its file name's stem
        for extension in (None, *_BY_EXTENSION):
            app.add_api_route(f"/{path.stem}{extension or ''}", shapes_route(path.stem, extension),
                              methods=["GET", "HEAD"], include_in_schema=extension is None,
                              summary=f"The SHACL shapes {BASE}{path.stem} (HTML, Turtle, JSON-LD, N-Triples, RDF/XML)")

async def _named_graph_page(backend: Backend, iri: URIRef, counts: dict) -> dict:
    """What the page of the named graph ``iri`` shows: what it says of itself, its size, the classes
    of its subjects, and the named graphs it describes (the sources' graphs, for graph:sources)."""
    node = sparql_iri(iri)
    about = await select(backend, f"SELECT ?p ?o WHERE {{ {node} ?p ?o }}")
    classes = await select(backend, f"SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH {node} {{ ?s a ?class }} }} "
                                    "GROUP BY ?class ORDER BY DESC(?n) ?class")
    described = await select(backend, f"""SELECT ?g ?n WHERE {{
  {{ SELECT DISTINCT ?g WHERE {{ GRAPH {node} {{ ?g ?p0 ?o0 }} FILTER(?g != {node}) }} }}
  {{ SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g }}
}} ORDER BY ?g""")
    types = sorted(row["o"] for row in about if row["p"] == RDF.type)
    labels = await _labels(backend, {iri, *types, *(row["class"] for row in classes), *(row["g"] for row in described)})

    def text(predicate: URIRef, lang: str) -> str:
        values = sorted((row["o"] for row in about if row["p"] == predicate), key=str)
        return str(next((v for v in values if getattr(v, "language", None) == lang), values[0] if values else ""))

    path = "/" + str(iri).removeprefix(BASE)
    return {"iri": str(iri), "title": labels[str(iri)],
            "label_fr": text(RDFS.label, "fr"), "description": text(DCTERMS.description, "en"),
            "types": [(str(t), labels.get(str(t), str(t))) for t in types],
            "triples": int(counts["triples"]), "subjects": int(counts["subjects"]),
            "alternates": _alternates(path), "sparql": _construct_link(str(iri)),
            "classes": [(str(row["class"]), labels.get(str(row["class"]), str(row["class"])), int(row["n"]))
                        for row in classes],
            "graphs": [(str(row["g"]), labels.get(str(row["g"]), str(row["g"])), int(row["n"]),
                        _construct_link(str(row["g"]))) for row in described]}


async def _dataset_page(backend: Backend, void: Graph) -> dict:
    """What the dataset's page shows: its VoID statistics, endpoint, dumps, and each partition."""

    def count(node, predicate) -> int:
        value = void.value(node, predicate)
        return int(value) if value is not None else 0

    def partitions(link: URIRef, what: URIRef, size: URIRef) -> list[tuple]:
        rows = [(str(part).rpartition("/dataset/")[2].replace("/", "-"), void.value(part, what), count(part, size))
                for part in void.objects(DATASET, link)]
        return sorted(rows, key=lambda row: (-row[2], str(row[1])))

    classes = partitions(VOID.classPartition, VOID["class"], VOID.entities)
    properties = partitions(VOID.propertyPartition, VOID.property, VOID.triples)
    labels = await _labels(backend, {row[1] for row in (*classes, *properties)})
    return {"iri": str(DATASET), "title": str(void.value(DATASET, DCTERMS.title) or "THB-KG"),
            "counts": [(name, count(DATASET, predicate)) for name, predicate in (
                ("triples", VOID.triples), ("distinct subjects", VOID.distinctSubjects),
                ("distinct objects", VOID.distinctObjects), ("classes", VOID.classes), ("properties", VOID.properties))],
            "endpoint": str(void.value(DATASET, VOID.sparqlEndpoint) or "/sparql"),
            "dumps": sorted(str(dump) for dump in void.objects(DATASET, VOID.dataDump)),
            "licence": str(void.value(DATASET, DCTERMS.license) or ""),
            "alternates": _alternates("/dataset"),
            "classes": [(anchor, str(term), labels[str(term)], n) for anchor, term, n in classes],
            "properties": [(anchor, str(term), labels[str(term)], n) for anchor, term, n in properties]}
