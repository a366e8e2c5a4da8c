"""The graph view at /graph: find a resource by label, draw and expand its neighbourhood, draw a CONSTRUCT.

Its JSON API lives under ``/api/graph/``: ``/graph/<name>`` is the page of the named graph
``https://w3id.org/thbkg/graph/<name>`` (see :mod:`thbkg.endpoint.linked_data`)."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from rdflib.namespace import RDFS, SKOS

from thbkg.backend import Backend
from thbkg.backend.errors import BackendError
from thbkg.backend.reading import graph_of, select
from thbkg.endpoint.network_reader import NetworkReader, TooLarge, build_network, cytoscape_elements, fold
from thbkg.endpoint.protocol import MAX_BODY, ProtocolError, read_request
from thbkg.endpoint.templating import render
from thbkg.namespaces import BASE, THB
from thbkg.sparql_guard import QueryRefused, inspect_query

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["API", "MAX_DRAWN_TRIPLES", "MAX_SEARCH_CHARS", "add_graph_routes", "attribute_labels", "fold",
           "render_graph_page"]

#: Where the view's JSON API answers: a path no IRI of the graph maps to.
API = "/api/graph"
#: Longest search text accepted, in characters.
MAX_SEARCH_CHARS = 200
#: Largest CONSTRUCT answer the view draws, in triples (the whole graph draws in some 2,000 edges).
MAX_DRAWN_TRIPLES = 20_000
#: Security policy of the page: our own scripts, styles and API only. The one inline style allowed
#: is the rule Cytoscape.js 3 adds to the page head (``.__________cytoscape_container``), by its hash.
_CYTOSCAPE_STYLE = "'sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8='"
_PAGE_POLICY = (f"default-src 'self'; script-src 'self'; style-src 'self' {_CYTOSCAPE_STYLE}; "
                "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                "form-action 'self'; frame-ancestors 'none'")
_EXAMPLE = f"""# France's dated steps on each instrument, and the law or decree behind each step
PREFIX country: <{BASE}id/country/>
PREFIX thb: <{THB}>
CONSTRUCT {{ ?step thb:actor country:france ; thb:instrument ?instrument ; thb:legalBasis ?law }}
WHERE {{
  ?step thb:actor country:france ;
    thb:instrument ?instrument .
  OPTIONAL {{ ?step thb:legalBasis ?law }}
}}
"""
#: Attributes whose property's own label does not say what a reader knows them as.
_NAMED = {SKOS.altLabel: "short name"}


def _json(payload: object, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    """A JSON error the page shows as text: the request is never echoed back as markup."""
    return _json({"error": message}, status)


def _classes(network: nx.MultiDiGraph) -> list[dict]:
    """Classes of the drawn nodes, most frequent first: the page gives them colours in this order."""
    counts = Counter((data.get("class", ""), data.get("class_label", "")) for _, data in network.nodes(data=True))
    by_frequency = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"class": cls, "label": label, "count": count} for (cls, label), count in by_frequency if cls]


def render_graph_page(network: nx.MultiDiGraph | None, attributes: dict[str, str] | None = None) -> str:
    """The page at ``/graph`` (``templates/graph_view.html``); graph.js reads its settings from a JSON
    block. ``network`` is the whole graph's, when it is small enough to be drawn whole; ``attributes``
    names the attributes a node shows (see :func:`attribute_labels`)."""
    config = {"base": BASE, "api": API, "classes": _classes(network) if network is not None else [],
              "example": _EXAMPLE, "attributes": attributes or {},
              "nodes": network.number_of_nodes() if network is not None else 0,
              "edges": network.number_of_edges() if network is not None else 0}
    embedded = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    return render("graph_view.html", config=embedded, max_search_chars=MAX_SEARCH_CHARS)


def _words(local_name: str) -> str:
    """``publisherName`` -> ``publisher name``: a property's local name, read as words."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", local_name).lower()


async def attribute_labels(backend: Backend) -> dict[str, str]:
    """What each attribute of a drawn node is called for a reader, by attribute name without its
    language (``thb_publisherName`` -> ``publisher name``): the property's English label, else its
    local name as words (``owl_sameAs`` -> ``same as``); ``skos:altLabel`` is the short name."""
    rows = await select(backend, f"""SELECT ?p (SAMPLE(?l) AS ?label) WHERE {{
  {{ SELECT DISTINCT ?p WHERE {{ ?s ?p ?o }} }}
  OPTIONAL {{ ?p <{RDFS.label}> ?l FILTER(LANGMATCHES(LANG(?l), "en")) }}
}} GROUP BY ?p""")
    from thbkg.export.network import attribute_name

    labels = {}
    for row in rows:
        predicate = row["p"]
        local = re.match(r".*?([^/#]*)$", str(predicate)).group(1)  # type: ignore[union-attr]
        label = _NAMED.get(predicate) or (str(row["label"]) if "label" in row else _words(local or str(predicate)))
        labels[attribute_name(predicate)] = label
    return labels


def add_graph_routes(app: FastAPI, reader: NetworkReader) -> None:
    """Add ``/graph`` (the page) and its JSON API under :data:`API`: search, neighbourhood, whole graph,
    CONSTRUCT, each read from the backend by ``reader``."""
    pages: list[str] = []

    @app.get("/graph", include_in_schema=False)
    async def graph_page() -> Response:
        if not pages:
            try:
                network = await reader.whole_network()
            except TooLarge:
                network = None
            except BackendError as exc:
                return _error(exc.status, str(exc))
            try:
                attributes = await attribute_labels(reader.backend)
            except (BackendError, QueryRefused) as exc:
                return _error(exc.status, str(exc))
            pages.append(render_graph_page(network, attributes))
        headers = {"Content-Security-Policy": _PAGE_POLICY, "X-Content-Type-Options": "nosniff"}
        return Response(pages[0], media_type="text/html; charset=utf-8", headers=headers)

    @app.get(f"{API}/search", summary="Resources by English or French label or short name (accents and case ignored)")
    async def search(q: str | None = None) -> Response:
        if q is not None and len(q) > MAX_SEARCH_CHARS:
            return _error(400, f"search text over {MAX_SEARCH_CHARS} characters")
        if not q or not fold(q):
            return _error(400, "give some words of a label to search for, as ?q=")
        try:
            return _json({"query": q, "results": await reader.search(q)})
        except (BackendError, QueryRefused) as exc:
            return _error(exc.status, str(exc))

    @app.get(f"{API}/neighbourhood", summary="A resource and its neighbours, as Cytoscape.js elements")
    async def neighbourhood(iri: str | None = None, id: str | None = None) -> Response:  # noqa: A002
        if not iri and not id:
            return _error(400, "give the resource as ?iri= (or its node id as ?id=)")
        try:
            found = await reader.resolve(iri, id)
            if found is None:
                return _error(404, f"the graph view has no such resource: find one with {API}/search?q=")
            return _json(await reader.neighbourhood(found))
        except (BackendError, QueryRefused) as exc:
            return _error(exc.status, str(exc))

    @app.get(f"{API}/elements", summary="The whole graph as Cytoscape.js elements")
    async def whole() -> Response:
        try:
            return Response(await reader.whole(), media_type="application/json")
        except TooLarge as exc:
            return _error(422, str(exc))
        except BackendError as exc:
            return _error(exc.status, str(exc))

    @app.post(f"{API}/construct", summary="The graph a CONSTRUCT or DESCRIBE query builds, drawn")
    async def construct(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY:
            return _error(413, f"request body over {MAX_BODY // 1024} KiB")
        try:
            operation = read_request("POST", request.url.query, request.headers.get("content-type"),
                                     await request.body())
        except ProtocolError as exc:
            return _error(exc.status, exc.message)
        if operation.query is None:
            return _error(400, "send a CONSTRUCT or DESCRIBE query as the 'query' form field")
        try:
            shape = await asyncio.to_thread(inspect_query, operation.query)
        except QueryRefused as exc:
            return _error(exc.status, str(exc))
        if shape.form in ("SELECT", "ASK"):
            return _error(400, f"a {shape.form} query answers with a table: the graph view needs a graph "
                               "query, CONSTRUCT or DESCRIBE")
        try:
            answer = await reader.backend.query(
                operation.query, "application/n-triples", max_rows=None, shape=shape,
                default_graphs=operation.default_graphs, named_graphs=operation.named_graphs)
            triples = answer.body.count(b"\n")
            if triples > MAX_DRAWN_TRIPLES:
                return _error(422, f"the query builds {triples:,} triples; the graph view draws at most "
                                   f"{MAX_DRAWN_TRIPLES:,}: narrow it or add a LIMIT")
            graph = graph_of(answer)
            context = await reader.context_for(graph)
        except (BackendError, QueryRefused) as exc:
            return _error(exc.status, str(exc))
        network = await asyncio.to_thread(build_network, graph, context=context)
        return _json({"triples": triples, "elements": cytoscape_elements(network)})
