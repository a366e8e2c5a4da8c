"""Linked-data descriptions of one resource: RDF (any syntax) and an HTML page with sources."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from thbkg.namespaces import GRAPH, THB, bind_prefixes

__all__ = ["RDF_PAGE_FORMATS", "describe", "render_html"]

#: media type -> rdflib serializer name, and the file extension that selects it.
RDF_PAGE_FORMATS = {
    "text/turtle": ("turtle", ".ttl"),
    "application/ld+json": ("json-ld", ".jsonld"),
    "application/n-triples": ("nt", ".nt"),
    "application/rdf+xml": ("xml", ".rdf"),
}
_SPECIAL_GRAPHS = {GRAPH.ontology, GRAPH.vocabularies, GRAPH.sources}


def describe(dataset: Dataset, iri: URIRef) -> Graph | None:
    """Every triple about ``iri`` (as subject) and pointing to it, from all graphs; None if unknown."""
    graph = bind_prefixes(Graph())
    for s, p, o, _ in dataset.quads((iri, None, None, None)):
        graph.add((s, p, o))
    if not len(graph):
        return None
    for s, p, o, _ in dataset.quads((None, None, iri, None)):
        graph.add((s, p, o))
    return graph


def _label(dataset: Dataset, node, lang: str = "en") -> str:
    labels = list(dataset.objects(node, RDFS.label))
    for label in labels:
        if isinstance(label, Literal) and label.language == lang:
            return str(label)
    return str(labels[0]) if labels else dataset.namespace_manager.normalizeUri(node)


def _link(dataset: Dataset, node) -> str:
    if isinstance(node, URIRef):
        text = escape(_label(dataset, node))
        href = str(node)
        local = href.startswith("https://w3id.org/thbkg/")
        if local:
            href = "/" + href.removeprefix("https://w3id.org/thbkg/")
        return f'<a href="{escape(href)}">{text}</a>'
    if isinstance(node, Literal):
        suffix = f' <span class="lang">@{escape(node.language)}</span>' if node.language else ""
        return f"{escape(str(node))}{suffix}"
    return escape(str(node))


def _sources(dataset: Dataset, triple) -> list:
    return sorted({g for g in dataset.contexts(triple) if g.identifier not in _SPECIAL_GRAPHS
                   and isinstance(g.identifier, URIRef)}, key=lambda g: str(g.identifier))


def render_html(dataset: Dataset, iri: URIRef) -> str:
    """A readable page: labels (en, fr), types, every property with links and its sources,
    incoming links, and the claims about this resource with their status."""
    title = _label(dataset, iri)
    french = _label(dataset, iri, "fr")
    rows = []
    for p, o in sorted(dataset.predicate_objects(iri), key=lambda po: (str(po[0]), str(po[1]))):
        sources = ", ".join(_link(dataset, g.identifier) for g in _sources(dataset, (iri, p, o)))
        rows.append(f"<tr><td>{_link(dataset, p)}</td><td>{_link(dataset, o)}</td><td>{sources}</td></tr>")
    incoming = [f"<tr><td>{_link(dataset, s)}</td><td>{_link(dataset, p)}</td></tr>"
                for s, p in sorted(dataset.subject_predicates(iri), key=lambda sp: (str(sp[0]), str(sp[1])))]
    claims = []
    for claim in sorted(set(dataset.subjects(THB.about, iri)), key=str):
        status = dataset.value(claim, THB.claimStatus)
        status_label = _label(dataset, status) if status is not None else "no status"
        css = "contested" if status is not None and not str(status).endswith("/verified") else "verified"
        text = dataset.value(claim, THB.claimText) or _label(dataset, claim)
        claims.append(f'<li class="{css}"><strong>{escape(status_label)}</strong>: '
                      f'{_link(dataset, claim)} — “{escape(str(text))}”</li>')
    types = ", ".join(_link(dataset, t) for t in sorted(set(dataset.objects(iri, RDF.type)), key=str))
    path = "/" + str(iri).removeprefix("https://w3id.org/thbkg/")
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
<ul>{''.join(claims) or '<li>none</li>'}</ul>
<h2>Incoming links</h2>
<table><tr><th>from</th><th>property</th></tr>{''.join(incoming) or '<tr><td colspan="2">none</td></tr>'}</table>
</body></html>"""
