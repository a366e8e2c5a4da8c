"""Linked data as integrators reach it: every IRI of ours dereferences here (HTML, Turtle, HEAD), JSON by
Accept, and no internal graph name on any page."""

from __future__ import annotations

import json
import random

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from conftest import ROOT, Server
from thbkg.endpoint.shapes_outline import read_shapes, shape_files
from thbkg.namespaces import BASE, GRAPH, SD
from thbkg.validate import shapes_paths

RESOURCE = "/id/organisation/miprof"


@pytest.fixture(scope="module")
def server():
    running = Server("--workers", "2")
    yield running
    running.stop()


@pytest.mark.parametrize("path", [RESOURCE, "/ontology"])
@pytest.mark.parametrize("accept", ["text/html", "text/turtle", "application/ld+json"])
def test_head_answers_as_get_without_a_body(client, path, accept):
    got = client.get(path, headers={"Accept": accept})
    head = client.head(path, headers={"Accept": accept})
    assert got.status_code == head.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"] and head.content == b""


def test_a_resource_asked_as_json_is_json_ld(client):
    answer = client.get(RESOURCE, headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/ld+json")
    assert "miprof" in answer.text


def test_no_page_names_an_internal_graph_as_a_source(server, client):
    rows = client.post("/sparql", data={"query": "SELECT DISTINCT ?s WHERE { ?s ?p ?o "
                                                 'FILTER(STRSTARTS(STR(?s), "https://w3id.org/thbkg/id/")) }'},
                       headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    paths = [row["s"]["value"].removeprefix("https://w3id.org/thbkg") for row in rows]
    assert len(paths) > 300
    with httpx.Client(base_url=server.url, timeout=60, headers={"Accept": "text/html"}) as pages:
        for path in paths:
            page = pages.get(path)
            assert page.status_code == 200, path
            assert "urn:x-rdflib" not in page.text, path


def test_the_service_description_is_readable_in_a_browser(client):
    page = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "sd:Service" in page.text and "urn:x-rdflib" not in page.text
    turtle = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle") and "sd:Service" in turtle.text


def test_json_ld_pages_are_compacted_with_the_published_context(client):
    context = client.get("/context.jsonld").json()["@context"]
    assert context["thb"] == "https://w3id.org/thbkg/ontology#"
    page = client.get(RESOURCE, headers={"Accept": "application/ld+json"}).json()
    assert page["@context"]["thb"] == context["thb"]
    text = json.dumps(page)
    assert "thb:" in text and "https://w3id.org/thbkg/ontology#" not in text.replace(context["thb"], "", 1)
    from rdflib import Graph

    expanded = Graph().parse(data=client.get(RESOURCE + ".ttl").text, format="turtle")
    compacted = Graph().parse(data=json.dumps(page), format="json-ld")
    assert len(compacted) == len(expanded) and set(compacted) == set(expanded)  # nothing lost


# -- Every IRI of ours answers at its path -------------------------------------------------------

#: Every IRI under BASE in any position of any quad, and every graph name.
OURS = f"""SELECT DISTINCT ?x WHERE {{
  {{ GRAPH ?x {{ ?s ?p ?o }} }} UNION {{ GRAPH ?g {{ ?x ?p ?o }} }} UNION {{ GRAPH ?g {{ ?s ?x ?o }} }}
  UNION {{ GRAPH ?g {{ ?s ?p ?x }} }}
  FILTER(isIRI(?x) && STRSTARTS(STR(?x), "{BASE}"))
}}"""


def iris_of(client, query: str) -> set[str]:
    rows = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    return {row["x"]["value"] for row in rows.json()["results"]["bindings"]}


def ours_in(graph: Graph) -> set[str]:
    return {str(term) for triple in graph for term in triple if isinstance(term, URIRef) and str(term).startswith(BASE)}


@pytest.fixture(scope="module")
def documents(client) -> set[str]:
    """The IRIs of ours, fragments dropped (``ontology#Plan`` is the document ``ontology``): in the store, and in
    what is served from elsewhere than the store (the dataset's VoID, the shapes)."""
    found = iris_of(client, OURS)
    for path in ("/dataset.ttl", "/shapes.ttl"):
        found |= ours_in(Graph().parse(data=client.get(path).text, format="turtle"))
    return {iri.partition("#")[0] for iri in found}


def test_the_graph_uses_the_documents_the_issue_names(documents):
    expected = {f"{BASE}{path}" for path in ("graph/sources", "graph/ontology", "graph/vocabularies", "graph/queries",
                                             "dataset", "ontology", "ontology/0.1.0", "shapes", "shapes-warnings",
                                             "sparql")}
    assert expected <= documents
    assert not {iri for iri in documents - expected if not iri.startswith((f"{BASE}id/", f"{BASE}dataset/"))}


def sample(documents: set[str]) -> list[str]:
    """Every document of ours but the resources, and one resource in ten (all of them are fetched as HTML
    in test_no_page_names_an_internal_graph_as_a_source)."""
    resources = sorted(iri for iri in documents if iri.startswith(f"{BASE}id/"))
    return sorted(documents - set(resources)) + random.Random(9).sample(resources, len(resources) // 10)


def test_every_iri_of_ours_answers_html_turtle_and_head(server, documents):
    """https://w3id.org/thbkg/<path> is /<path> here: a page for a browser; Turtle that says something of
    the IRI (a named graph: holds its triples); HEAD as GET without a body."""
    checked = 0
    with httpx.Client(base_url=server.url, timeout=60, follow_redirects=True) as http:
        for iri in sample(documents):
            path = "/" + iri.removeprefix(BASE)
            html = http.get(path, headers={"Accept": "text/html"})
            assert html.status_code == 200 and html.headers["content-type"].startswith("text/html"), path
            assert "urn:x-rdflib" not in html.text, path
            turtle = http.get(path, headers={"Accept": "text/turtle"})
            assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle"), path
            assert "urn:x-rdflib" not in turtle.text, path
            graph = Graph().parse(data=turtle.text, format="turtle")
            if iri.startswith(str(GRAPH)):
                rows = http.post("/sparql", data={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> "
                                                           "{ ?s ?p ?o } }"}, headers={"Accept": "text/csv"})
                assert len(graph) == int(rows.text.split()[1]) > 0, path
            elif iri == f"{BASE}sparql":  # the endpoint: its service description, under its deployed address
                assert (None, RDF.type, SD.Service) in graph
            else:
                assert URIRef(iri) in set(graph.subjects()) | set(graph.objects()), path
            for accept in ("text/html", "text/turtle"):
                head = http.head(path, headers={"Accept": accept})
                assert head.status_code == 200 and head.content == b"", (path, accept)
            checked += 1
    assert checked > 50


@pytest.mark.parametrize("path", ["/graph/sources", "/dataset", "/ontology/0.1.0", "/shapes", "/shapes-warnings"])
@pytest.mark.parametrize("extension", [".ttl", ".jsonld", ".nt", ".rdf"])
def test_documents_answer_by_extension_and_accept_alike(client, path, extension):
    media_types = {".ttl": "text/turtle", ".jsonld": "application/ld+json", ".nt": "application/n-triples",
                   ".rdf": "application/rdf+xml"}
    formats = {".ttl": "turtle", ".jsonld": "json-ld", ".nt": "nt", ".rdf": "xml"}
    by_extension = client.get(path + extension)
    by_accept = client.get(path, headers={"Accept": media_types[extension]})
    assert by_extension.status_code == by_accept.status_code == 200
    assert by_extension.headers["content-type"].startswith(media_types[extension])
    first, second = (Graph().parse(data=r.text, format=formats[extension]) for r in (by_extension, by_accept))
    assert len(first) == len(second) > 10


def test_a_named_graph_page_says_what_it_is_how_large_and_where_to_download_it(client):
    page = client.get("/graph/sources", headers={"Accept": "text/html"}).text
    assert "Source catalogue" in page and "1,2" in page and "triples" in page
    assert 'href="/graph/sources.ttl"' in page and 'href="/id/source/r34"' in page  # the sources' own graphs
    assert client.get("/graph/no-such-graph", headers={"Accept": "text/html"}).status_code == 404
    assert client.get("/graph/no-such-graph.ttl").status_code == 404


def test_the_versioned_ontology_is_the_ontology(client):
    versioned = Graph().parse(data=client.get("/ontology/0.1.0.ttl").text, format="turtle")
    assert (URIRef(f"{BASE}ontology"), OWL.versionIRI, URIRef(f"{BASE}ontology/0.1.0")) in versioned
    assert len(versioned) == len(Graph().parse(data=client.get("/ontology.ttl").text, format="turtle"))
    assert client.get("/ontology/9.9.9", headers={"Accept": "text/html"}).status_code == 404


def test_the_dataset_is_its_void_description(client):
    void = Graph().parse(data=client.get("/dataset.ttl").text, format="turtle")
    well_known = Graph().parse(data=client.get("/.well-known/void", headers={"Accept": "text/turtle"}).text,
                               format="turtle")
    assert len(void) == len(well_known) and (URIRef(f"{BASE}dataset"), None, None) in void
    page = client.get("/dataset", headers={"Accept": "text/html"}).text
    assert "Interministerial Mission" in page and 'id="class-' in page
    partition = next(iri for iri in ours_in(void) if "/dataset/class/" in iri)
    redirect = client.get("/" + partition.removeprefix(BASE), headers={"Accept": "text/html"})
    assert redirect.status_code == 303 and redirect.headers["location"].startswith("/dataset#class-")
    assert client.get("/dataset/class/000000000000.ttl").status_code == 404


def test_the_void_description_is_read_once_on_first_use(release):
    from concurrent.futures import ThreadPoolExecutor

    from rdflib.namespace import VOID

    from thbkg.catalogue import ServedVoid

    served = ServedVoid(release.void_path, "http://example.test:9")
    with ThreadPoolExecutor(4) as pool:  # requests arriving together share one parse
        graphs = list(pool.map(lambda _: served.graph(), range(8)))
    assert all(graph is graphs[0] for graph in graphs)
    assert (URIRef(f"{BASE}dataset"), VOID.sparqlEndpoint, URIRef("http://example.test:9/sparql")) in graphs[0]
    assert len(graphs[0]) > len(Graph().parse(release.void_path, format="turtle"))


def test_shapes_pages_are_the_bundled_shape_files():
    assert shape_files() == shapes_paths()
    for shapes in read_shapes():
        assert shapes.iri == BASE + shapes.path and shapes.path == next(
            p.stem for p in shape_files() if shapes.iri.endswith("/" + p.stem))
        assert len(shapes.graph) == len(Graph().parse(ROOT / "ontology" / f"{shapes.path}.ttl"))


def test_every_shape_has_its_anchor_on_the_shapes_page(client):
    page = client.get("/shapes", headers={"Accept": "text/html"}).text
    shapes = Graph().parse(data=client.get("/shapes.ttl").text, format="turtle")
    named = {str(s).partition("#")[2] for s in shapes.subjects() if str(s).startswith(f"{BASE}shapes#")}
    assert len(named) > 50
    assert all(f'id="{name}"' in page for name in named if (URIRef(f"{BASE}shapes#{name}"), RDF.type, None) in shapes
               and not name.endswith("Constraint")), [n for n in named if f'id="{n}"' not in page][:5]
