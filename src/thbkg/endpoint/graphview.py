"""The graph view at /graph: find a resource by label, draw and expand its neighbourhood, draw a CONSTRUCT."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections import Counter

import networkx as nx
from fastapi import FastAPI, Request, Response
from rdflib import Dataset, Graph

from thbkg.endpoint.pool import QueryFailed, QueryTimeout
from thbkg.endpoint.protocol import MAX_BODY, ProtocolError, read_request
from thbkg.export.network import build_network
from thbkg.export.writers import cytoscape_elements
from thbkg.graph import LoadedDataset
from thbkg.namespaces import BASE, THB
from thbkg.sparql_guard import QueryRefused, inspect_query

__all__ = ["MAX_DRAWN_TRIPLES", "MAX_SEARCH_CHARS", "NetworkIndex", "add_graph_routes", "fold",
           "render_graph_page"]

#: Longest search text accepted, in characters.
MAX_SEARCH_CHARS = 200
#: Most results a search returns.
SEARCH_LIMIT = 20
#: Largest CONSTRUCT answer the view draws, in triples (the whole graph draws in some 2,000 edges).
MAX_DRAWN_TRIPLES = 20_000
#: Security policy of the page: our own scripts, styles and API only. The one inline style allowed
#: is the rule Cytoscape.js 3 adds to the page head (``.__________cytoscape_container``), by its hash.
_CYTOSCAPE_STYLE = "'sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8='"
_PAGE_POLICY = (f"default-src 'self'; script-src 'self'; style-src 'self' {_CYTOSCAPE_STYLE}; "
                "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                "form-action 'self'; frame-ancestors 'none'")
_NOT_WORD = re.compile(r"[\W_]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
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


def fold(text: str) -> str:
    """``text`` for matching: accents dropped, case folded, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", bare.casefold().translate(_LIGATURES)).split())


def _json(payload: object, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    """A JSON error the page shows as text: the request is never echoed back as markup."""
    return _json({"error": message}, status)


class NetworkIndex:
    """The whole graph's network, with its resources by IRI and by folded English and French labels."""

    def __init__(self, network: nx.MultiDiGraph):
        self.network = network
        nodes = network.nodes(data=True)
        self.by_iri = {attributes["iri"]: node for node, attributes in nodes if "iri" in attributes}
        self._labels: list[tuple[str, list[str]]] = []
        for node, attributes in nodes:
            names = {fold(attributes.get(key) or "") for key in ("label", "label_en", "label_fr")}
            self._labels.append((node, sorted(names - {""})))
        counts = Counter((data.get("class", ""), data.get("class_label", "")) for _, data in nodes)
        #: Classes, most frequent first: the page gives them colours in this order.
        by_frequency = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        self.classes = [{"class": cls, "label": label, "count": count}
                        for (cls, label), count in by_frequency if cls]
        self.whole = json.dumps({"elements": cytoscape_elements(network)}, ensure_ascii=False,
                                separators=(",", ":")).encode("utf-8")

    def summary(self, node: str) -> dict:
        """What a search result shows of ``node``."""
        attributes = self.network.nodes[node]
        keys = ("iri", "label", "label_en", "label_fr", "class", "class_label")
        return {"id": node, **{key: attributes[key] for key in keys if key in attributes},
                "degree": self.network.degree(node)}

    def search(self, text: str, limit: int = SEARCH_LIMIT) -> list[dict]:
        """Resources whose English or French label holds every word of ``text`` (accents and case
        ignored), best first: whole label, label start, word start, anywhere; then shorter labels."""
        exact = self.by_iri.get(text.strip()) or (text.strip() if text.strip() in self.network else None)
        wanted = fold(text)
        words = wanted.split()
        ranked = []
        for node, names in self._labels:
            matching = [name for name in names if all(word in name for word in words)]
            if not matching or node == exact:
                continue
            rank = min((0 if name == wanted else 1 if name.startswith(wanted) else
                        2 if f" {words[0]}" in f" {name}" else 3, len(name)) for name in matching)
            ranked.append((rank, node))
        ranked.sort()
        found = ([exact] if exact else []) + [node for _, node in ranked]
        return [self.summary(node) for node in found[:limit]]

    def neighbourhood(self, node: str) -> dict:
        """``node``, the resources it links to or is linked from, and every edge among them."""
        around = {node, *self.network.successors(node), *self.network.predecessors(node)}
        return {"centre": node, "elements": cytoscape_elements(self.network.subgraph(around))}


def _construct_network(body: bytes, context: Dataset) -> nx.MultiDiGraph:
    """The network of a CONSTRUCT answer (N-Triples), labels and classes looked up in ``context``."""
    graph = Graph()
    graph.parse(data=body, format="nt")
    return build_network(graph, context=context)


def render_graph_page(index: NetworkIndex) -> str:
    """The page at ``/graph``: static markup; graph.js reads its settings from a JSON block."""
    config = {"base": BASE, "classes": index.classes, "example": _EXAMPLE,
              "nodes": index.network.number_of_nodes(), "edges": index.network.number_of_edges()}
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


def add_graph_routes(app: FastAPI, loaded: LoadedDataset, pool_holder: dict) -> None:
    """Add ``/graph`` (the page) and its JSON API: search, neighbourhood, whole graph, CONSTRUCT."""
    dataset = loaded.dataset
    index = NetworkIndex(build_network(dataset))
    page = render_graph_page(index)

    @app.get("/graph", include_in_schema=False)
    async def graph_page() -> Response:
        headers = {"Content-Security-Policy": _PAGE_POLICY, "X-Content-Type-Options": "nosniff"}
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)

    @app.get("/graph/search", summary="Resources by English or French label (accents and case ignored)")
    async def search(q: str | None = None) -> Response:
        if q is not None and len(q) > MAX_SEARCH_CHARS:
            return _error(400, f"search text over {MAX_SEARCH_CHARS} characters")
        if q is None or not fold(q):
            return _error(400, "give the text to look for as ?q= (letters or digits)")
        return _json({"results": index.search(q)})

    @app.get("/graph/neighbourhood", summary="A resource and its neighbours, as Cytoscape.js elements")
    async def neighbourhood(iri: str | None = None, id: str | None = None) -> Response:  # noqa: A002
        if not iri and not id:
            return _error(400, "give the resource as ?iri= (or its node id as ?id=)")
        node = index.by_iri.get(iri) if iri else id if id in index.network else None
        if node is None:
            return _error(404, "the graph view has no such resource: find one with /graph/search?q=")
        return _json(index.neighbourhood(node))

    @app.get("/graph/elements", summary="The whole graph as Cytoscape.js elements")
    async def whole() -> Response:
        return Response(index.whole, media_type="application/json")

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
            answer = await pool_holder["pool"].run(
                text=operation.query, media_type="application/n-triples", max_rows=None, shape=shape,
                default_graphs=operation.default_graphs, named_graphs=operation.named_graphs)
        except QueryRefused as exc:
            return _error(exc.status, str(exc))
        except (QueryTimeout, QueryFailed) as exc:
            return _error(503, str(exc))
        triples = answer.body.count(b"\n")
        if triples > MAX_DRAWN_TRIPLES:
            return _error(422, f"the query builds {triples:,} triples; the graph view draws at most "
                               f"{MAX_DRAWN_TRIPLES:,}: narrow it or add a LIMIT")
        network = await asyncio.to_thread(_construct_network, answer.body, dataset)
        return _json({"triples": triples, "elements": cytoscape_elements(network)})

