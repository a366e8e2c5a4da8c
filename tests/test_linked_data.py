"""Linked data as integrators reach it: HEAD, JSON by Accept, and no internal graph name on any page."""

from __future__ import annotations

import json

import httpx
import pytest

from conftest import Server

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
