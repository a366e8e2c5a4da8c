"""Linked-data descriptions of one resource, asked of the backend by SPARQL: RDF and an HTML page."""

from __future__ import annotations

from collections import defaultdict
from html import escape
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from thbkg.backend import Backend
from thbkg.backend.reading import ask, construct, select, sparql_iri
from thbkg.formats import PAGE_MEDIA_TYPES
from thbkg.namespaces import BASE, GRAPH, THB, bind_prefixes

__all__ = ["RDF_PAGE_FORMATS", "describe", "render_html", "resource_exists"]

#: media type -> rdflib serializer name, and the file extension that selects it.
RDF_PAGE_FORMATS = {media: ({"text/turtle": "turtle", "application/ld+json": "json-ld",
                              "application/n-triples": "nt", "application/rdf+xml": "xml"}[media], ext)
                    for media, ext in PAGE_MEDIA_TYPES.items()}
_SPECIAL_GRAPHS = {GRAPH.ontology, GRAPH.vocabularies, GRAPH.sources}
_NAMESPACES = bind_prefixes(Graph()).namespace_manager


async def resource_exists(backend: Backend, iri: URIRef) -> bool:
    """Whether the graph says anything about ``iri`` (as a subject)."""
    return await ask(backend, f"ASK {{ {sparql_iri(iri)} ?p ?o }}")


async def describe(backend: Backend, iri: URIRef) -> Graph | None:
    """Every triple about ``iri`` (as subject) and pointing to it; None if the graph does not describe it."""
    if not await resource_exists(backend, iri):
        return None
    node = sparql_iri(iri)
    graph = await construct(backend, f"CONSTRUCT {{ {node} ?p ?o . ?s ?q {node} }} "
                                     f"WHERE {{ {{ {node} ?p ?o }} UNION {{ ?s ?q {node} }} }}")
    return bind_prefixes(graph)


class _Labels:
    """English (else any) labels of the terms a page shows, fetched in one query."""

    def __init__(self, rows: list[dict[str, Node]]):
        self.by_term: dict[Node, list[Literal]] = defaultdict(list)
        for row in rows:
            self.by_term[row["x"]].append(row["label"])

    @classmethod
    async def of(cls, backend: Backend, terms: set[Node]) -> "_Labels":
        iris = sorted(sparql_iri(term) for term in terms if isinstance(term, URIRef))
        if not iris:
            return cls([])
        rows = await select(backend, f"PREFIX rdfs: <{RDFS}> SELECT ?x ?label WHERE {{ VALUES ?x {{ {' '.join(iris)} }} "
                                     "?x rdfs:label ?label }")
        return cls(rows)

    def text(self, node: Node, lang: str = "en") -> str:
        labels = sorted(self.by_term.get(node, ()), key=str)
        for label in labels:
            if isinstance(label, Literal) and label.language == lang:
                return str(label)
        return str(labels[0]) if labels else _NAMESPACES.normalizeUri(node)

    def link(self, node: Node) -> str:
        if isinstance(node, URIRef):
            href = str(node)
            if href.startswith(BASE):
                href = "/" + href.removeprefix(BASE)
            return f'<a href="{escape(href)}">{escape(self.text(node))}</a>'
        if isinstance(node, Literal):
            suffix = f' <span class="lang">@{escape(node.language)}</span>' if node.language else ""
            return f"{escape(str(node))}{suffix}"
        return escape(str(node))


async def render_html(backend: Backend, iri: URIRef) -> str:
    """A readable page: labels (en, fr), types, every property with links and the sources stating it,
    incoming links, and the claims about this resource with their status."""
    node = sparql_iri(iri)
    outgoing = await select(backend, f"SELECT ?p ?o ?g WHERE {{ {node} ?p ?o OPTIONAL {{ GRAPH ?g {{ {node} ?p ?o }} }} }}")
    incoming = await select(backend, f"SELECT DISTINCT ?s ?p WHERE {{ ?s ?p {node} }}")
    claims = await select(backend, f"PREFIX thb: <{THB}> SELECT ?claim ?status ?text WHERE {{ ?claim thb:about {node} "
                                   "OPTIONAL { ?claim thb:claimStatus ?status } OPTIONAL { ?claim thb:claimText ?text } }")
    stated: dict[tuple[Node, Node], set[Node]] = defaultdict(set)
    for row in outgoing:
        sources = stated[(row["p"], row["o"])]
        graph = row.get("g")
        if isinstance(graph, URIRef) and graph not in _SPECIAL_GRAPHS:
            sources.add(graph)
    terms = {iri, *(t for pair in stated for t in pair), *(g for gs in stated.values() for g in gs),
             *(row[k] for row in incoming for k in ("s", "p")),
             *(row[k] for row in claims for k in ("claim", "status") if k in row)}
    labels = await _Labels.of(backend, terms)
    rows = []
    for (p, o), sources in sorted(stated.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))):
        cited = ", ".join(labels.link(g) for g in sorted(sources, key=str))
        rows.append(f"<tr><td>{labels.link(p)}</td><td>{labels.link(o)}</td><td>{cited}</td></tr>")
    incoming_rows = [f"<tr><td>{labels.link(row['s'])}</td><td>{labels.link(row['p'])}</td></tr>"
                     for row in sorted(incoming, key=lambda r: (str(r["s"]), str(r["p"])))]
    claim_items = []
    seen = set()
    for row in sorted(claims, key=lambda r: str(r["claim"])):
        claim = row["claim"]
        if claim in seen:
            continue
        seen.add(claim)
        status = row.get("status")
        status_label = labels.text(status) if status is not None else "no status"
        css = "contested" if status is not None and not str(status).endswith("/verified") else "verified"
        text = row.get("text") or labels.text(claim)
        claim_items.append(f'<li class="{css}"><strong>{escape(status_label)}</strong>: '
                           f'{labels.link(claim)} — “{escape(str(text))}”</li>')
    types = ", ".join(labels.link(t) for t in sorted({o for p, o in stated if p == RDF.type}, key=str))
    title, french = labels.text(iri), labels.text(iri, "fr")
    path = "/" + str(iri).removeprefix(BASE)
    alternates = " · ".join(f'<a href="{escape(path)}{ext}">{ext[1:]}</a>' for _, ext in RDF_PAGE_FORMATS.values())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} — THB-KG</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;width:100%}}td{{border-top:1px solid #ddd;padding:.3rem;vertical-align:top}}
.lang{{color:#888;font-size:.8em}}.contested{{background:#fff3cd}}.verified{{background:#eef8ee}}
code{{font-size:.9em}}
</style></head><body>
<p><a href="/">THB-KG</a> · <a href="/sparql">SPARQL</a> ·
<a href="/graph?iri={escape(quote(str(iri), safe=''))}">show in graph</a></p>
<h1>{escape(title)}</h1>
<p lang="fr">{escape(french)}</p>
<p><code>{escape(str(iri))}</code><br>Types: {types}<br>Also as: {alternates}</p>
<h2>Properties</h2>
<table><tr><th>property</th><th>value</th><th>stated by</th></tr>{''.join(rows)}</table>
<h2>Claims about it</h2>
<ul>{''.join(claim_items) or '<li>none</li>'}</ul>
<h2>Incoming links</h2>
<table><tr><th>from</th><th>property</th></tr>{''.join(incoming_rows) or '<tr><td colspan="2">none</td></tr>'}</table>
</body></html>"""
