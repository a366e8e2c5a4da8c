"""Linked-data descriptions of one resource, asked of the backend by SPARQL: RDF and an HTML page."""

from __future__ import annotations

from collections import defaultdict

from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from thbkg.backend import Backend
from thbkg.backend.reading import ask, construct, select, sparql_iri
from thbkg.endpoint.labels import Labels
from thbkg.endpoint.templating import local_href, render
from thbkg.formats import PAGE_MEDIA_TYPES
from thbkg.namespaces import GRAPH, THB, bind_prefixes

__all__ = ["RDF_PAGE_FORMATS", "describe", "render_html", "resource_exists"]

#: media type -> rdflib serializer name, and the file extension that selects it.
RDF_PAGE_FORMATS = {media: ({"text/turtle": "turtle", "application/ld+json": "json-ld",
                              "application/n-triples": "nt", "application/rdf+xml": "xml"}[media], ext)
                    for media, ext in PAGE_MEDIA_TYPES.items()}
_SPECIAL_GRAPHS = {GRAPH.ontology, GRAPH.vocabularies, GRAPH.sources}


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
    labels = await Labels.of(backend, terms)
    statements = [{"property": labels.term(p), "value": labels.term(o),
                   "sources": [labels.term(g) for g in sorted(sources, key=str)]}
                  for (p, o), sources in sorted(stated.items(), key=lambda item: (str(item[0][0]), str(item[0][1])))]
    incoming_rows = [{"subject": labels.term(row["s"]), "property": labels.term(row["p"])}
                     for row in sorted(incoming, key=lambda r: (str(r["s"]), str(r["p"])))]
    claim_items, seen = [], set()
    for row in sorted(claims, key=lambda r: str(r["claim"])):
        claim = row["claim"]
        if claim in seen:
            continue
        seen.add(claim)
        status = row.get("status")
        claim_items.append({"claim": labels.term(claim), "text": str(row.get("text") or ""),
                            "status": labels.text(status) if status is not None else "no status",
                            "verified": status is None or str(status).endswith("/verified")})
    types = [labels.term(t) for t in sorted({o for p, o in stated if p == RDF.type}, key=str)]
    path = local_href(iri)
    return render("resource.html", iri=str(iri), title=labels.text(iri), french=labels.text(iri, "fr"),
                  types=types, statements=statements, claims=claim_items, incoming=incoming_rows,
                  alternates=[(ext[1:], f"{path}{ext}") for _, ext in RDF_PAGE_FORMATS.values()])
