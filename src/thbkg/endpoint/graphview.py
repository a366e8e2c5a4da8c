"""The graph view at /graph: find a resource by label, draw and expand its neighbourhood, draw a CONSTRUCT."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import networkx as nx
from fastapi import FastAPI, Request, Response

from thbkg.backend.errors import BackendError
from thbkg.backend.reading import graph_of
from thbkg.endpoint.network_reader import NetworkReader, TooLarge, fold
from thbkg.endpoint.protocol import MAX_BODY, ProtocolError, read_request
from thbkg.export.network import build_network
from thbkg.export.writers import cytoscape_elements
from thbkg.namespaces import BASE, THB
from thbkg.sparql_guard import QueryRefused, inspect_query

__all__ = ["MAX_DRAWN_TRIPLES", "MAX_SEARCH_CHARS", "add_graph_routes", "fold", "render_graph_page"]

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


def render_graph_page(network: nx.MultiDiGraph | None) -> str:
    """The page at ``/graph``: static markup; graph.js reads its settings from a JSON block.
    ``network`` is the whole graph's, when it is small enough to be drawn whole."""
    config = {"base": BASE, "classes": _classes(network) if network is not None else [], "example": _EXAMPLE,
              "nodes": network.number_of_nodes() if network is not None else 0,
              "edges": network.number_of_edges() if network is not None else 0}
    embedded = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Graph view — THB-KG</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/graph/graph.css">
</head><body>
<header><h1>THB-KG graph view</h1>
<nav><a href="/">SPARQL query page</a> · <a href="/ontology">ontology</a> ·
<a href="/download/">dumps</a></nav></header>
<noscript><p>The graph view needs JavaScript. The same data is in the linked-data pages at <code>/id/…</code>
and in the dumps.</p></noscript>
<main>
<aside id="panel">
<form id="search-form" role="search" autocomplete="off">
<label for="search">Find a resource by its English or French label</label>
<input id="search" name="q" type="search" maxlength="{MAX_SEARCH_CHARS}"
 placeholder="e.g. France, MIPROF, états">
</form>
<ul id="results" aria-label="matching resources"></ul>
<p class="row"><label><input id="keep" type="checkbox"> keep what is drawn</label></p>
<p class="row buttons"><button id="whole" type="button">Whole graph</button>
<button id="fit" type="button">Fit</button> <button id="relayout" type="button">Lay out again</button>
<button id="clear" type="button">Clear</button></p>
<details id="construct-box"><summary>Draw a CONSTRUCT query</summary>
<form id="construct-form"><label for="construct">CONSTRUCT or DESCRIBE query</label>
<textarea id="construct" name="query" rows="9" spellcheck="false"></textarea>
<button type="submit">Draw</button></form></details>
<section id="details" hidden aria-labelledby="details-label">
<h2 id="details-label"></h2><p id="details-label-fr" lang="fr"></p>
<p id="details-class"></p>
<p><a id="details-page" target="_blank" rel="noopener">Open its linked-data page</a></p>
<p><code id="details-iri"></code></p>
<p class="buttons"><button id="details-expand" type="button">Expand</button>
<button id="details-focus" type="button">Only its neighbourhood</button></p>
<table id="details-attributes"></table>
</section>
<section id="legend"><h2>Classes drawn</h2><ul id="legend-list"></ul></section>
<p class="hint">Click a node to show it and expand it (its neighbours are added), double-click to open
its page, scroll to zoom, drag the background to pan.</p>
</aside>
<div id="drawing"><p id="status" role="status" aria-live="polite"></p><div id="cy"></div></div>
</main>
<script type="application/json" id="thbkg-graph-config">{embedded}</script>
<script src="/static/graph/cytoscape.min.js"></script>
<script src="/static/graph/layout-base.js"></script>
<script src="/static/graph/cose-base.js"></script>
<script src="/static/graph/cytoscape-fcose.js"></script>
<script src="/static/graph/graph.js"></script>
</body></html>"""


def add_graph_routes(app: FastAPI, reader: NetworkReader) -> None:
    """Add ``/graph`` (the page) and its JSON API: search, neighbourhood, whole graph, CONSTRUCT,
    each read from the backend by ``reader``."""
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
            pages.append(render_graph_page(network))
        headers = {"Content-Security-Policy": _PAGE_POLICY, "X-Content-Type-Options": "nosniff"}
        return Response(pages[0], media_type="text/html; charset=utf-8", headers=headers)

    @app.get("/graph/search", summary="Resources by English or French label or short name (accents and case ignored)")
    async def search(q: str | None = None) -> Response:
        if q is not None and len(q) > MAX_SEARCH_CHARS:
            return _error(400, f"search text over {MAX_SEARCH_CHARS} characters")
        if not q or not fold(q):
            return _error(400, "give some words of a label to search for, as ?q=")
        try:
            return _json({"query": q, "results": await reader.search(q)})
        except (BackendError, QueryRefused) as exc:
            return _error(exc.status, str(exc))

    @app.get("/graph/neighbourhood", summary="A resource and its neighbours, as Cytoscape.js elements")
    async def neighbourhood(iri: str | None = None, id: str | None = None) -> Response:  # noqa: A002
        if not iri and not id:
            return _error(400, "give the resource as ?iri= (or its node id as ?id=)")
        try:
            found = await reader.resolve(iri, id)
            if found is None:
                return _error(404, "the graph view has no such resource: find one with /graph/search?q=")
            return _json(await reader.neighbourhood(found))
        except (BackendError, QueryRefused) as exc:
            return _error(exc.status, str(exc))

    @app.get("/graph/elements", summary="The whole graph as Cytoscape.js elements")
    async def whole() -> Response:
        try:
            return Response(await reader.whole(), media_type="application/json")
        except TooLarge as exc:
            return _error(422, str(exc))
        except BackendError as exc:
            return _error(exc.status, str(exc))

    @app.post("/graph/construct", summary="The graph a CONSTRUCT or DESCRIBE query builds, drawn")
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
