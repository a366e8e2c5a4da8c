"""The SPARQL endpoint, running for real on a loopback port, spoken to over HTTP by real clients."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from SPARQLWrapper import JSON, SPARQLWrapper

from conftest import ROOT, Canary, Server
from thbkg.namespaces import SD, THB
from thbkg.queries import load_queries

PUBLIC_URL = "https://thbkg.example.org"
MIPROF = "https://w3id.org/thbkg/id/organisation/miprof"
LABEL_QUERY = ("SELECT ?label WHERE { <%s> <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label"
               % MIPROF)
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def server():
    running = Server("--timeout", "3", "--max-rows", "1000", "--workers", "3", "--public-url", PUBLIC_URL)
    yield running
    running.stop()


def labels(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [b["label"]["value"] for b in response.json()["results"]["bindings"]]


# -- Protocol: operations ------------------------------------------------------------------


def test_get_post_form_and_post_direct_give_the_same_rows(client):
    accept = {"Accept": "application/sparql-results+json"}
    by_get = labels(client.get("/sparql", params={"query": LABEL_QUERY}, headers=accept))
    by_form = labels(client.post("/sparql", data={"query": LABEL_QUERY}, headers=accept))
    by_body = labels(client.post("/sparql", content=LABEL_QUERY.encode(),
                                 headers={**accept, "Content-Type": "application/sparql-query"}))
    assert by_get == by_form == by_body
    assert any("Interministerial Mission" in label for label in by_get)


def test_percent_encoded_iri_matches_by_get_and_by_form_post(client):
    # An IRI with a percent-encoded character: the form body must be decoded exactly once.
    query = ('SELECT ?s WHERE { ?s <https://schema.org/url> ?u FILTER(CONTAINS(STR(?u), "%C3%A9") '
             '|| CONTAINS(STR(?u), "%2F")) } ORDER BY ?s')
    accept = {"Accept": "application/sparql-results+json"}
    by_get = client.get("/sparql", params={"query": query}, headers=accept).json()["results"]["bindings"]
    by_form = client.post("/sparql", data={"query": query}, headers=accept).json()["results"]["bindings"]
    assert by_get == by_form
    assert by_get, "the data holds URLs with percent-encoded characters"


def test_sparqlwrapper_client(server):
    wrapper = SPARQLWrapper(server.url + "/sparql")
    wrapper.setQuery(LABEL_QUERY)
    wrapper.setReturnFormat(JSON)
    bindings = wrapper.queryAndConvert()["results"]["bindings"]
    assert len(bindings) == 2


@pytest.mark.parametrize("accept,marker", [
    ("application/sparql-results+json", b'"bindings"'),
    ("application/sparql-results+xml", b"<sparql"),
    ("text/csv", b"label\r\n"),
    ("text/tab-separated-values", b"?label\n"),
    ("application/json", b'"bindings"'),
])
def test_select_result_formats(client, accept, marker):
    response = client.get("/sparql", params={"query": LABEL_QUERY}, headers={"Accept": accept})
    assert response.status_code == 200
    assert marker in response.content


def test_q_values_choose_the_format(client):
    response = client.get("/sparql", params={"query": LABEL_QUERY},
                          headers={"Accept": "application/sparql-results+json;q=0.5, text/csv;q=0.9"})
    assert response.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("accept,fmt", [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"), ("application/n-quads", "nquads"), ("application/trig", "trig"),
])
def test_describe_and_construct_follow_accept(client, accept, fmt):
    for query in (f"DESCRIBE <{MIPROF}>", f"CONSTRUCT WHERE {{ <{MIPROF}> ?p ?o }}"):
        response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
        graph = Graph().parse(data=response.content, format=fmt)
        assert len(graph) >= 5


def test_ask(client):
    response = client.get("/sparql", params={"query": f"ASK {{ <{MIPROF}> ?p ?o }}"},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.json()["boolean"] is True


def test_406_when_nothing_acceptable(client):
    response = client.get("/sparql", params={"query": LABEL_QUERY}, headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_head_and_cors(client):
    head = client.head("/sparql", params={"query": LABEL_QUERY})
    assert head.status_code == 200 and head.content == b""
    get = client.get("/sparql", params={"query": LABEL_QUERY}, headers={"Origin": "https://example.org"})
    assert get.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in get.headers


def test_default_and_named_graph_uri(client):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    everything = int(client.get("/sparql", params={"query": query}).json()["results"]["bindings"][0]["n"]["value"])
    one = client.get("/sparql", params={"query": query, "default-graph-uri": "https://w3id.org/thbkg/id/source/r34"})
    assert 0 < int(one.json()["results"]["bindings"][0]["n"]["value"]) < everything
    named = client.get("/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                          "named-graph-uri": "https://w3id.org/thbkg/id/source/r34"})
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == ["https://w3id.org/thbkg/id/source/r34"]


# -- Protocol: errors ----------------------------------------------------------------------


@pytest.mark.parametrize("request_kwargs,status", [
    ({"method": "GET", "url": "/sparql?query=SELECT%20*%20WHERE%20%7B%3Fs%20%3Fp%7D"}, 400),
    ({"method": "GET", "url": "/sparql?query=ASK%7B%7D&query=ASK%7B%7D"}, 400),
    ({"method": "GET", "url": "/sparql?update=CLEAR%20ALL"}, 403),
    ({"method": "GET", "url": "/sparql?query="}, 400),
    ({"method": "GET", "url": "/sparql?query=%ZZ"}, 400),
    ({"method": "GET", "url": "/sparql?query=%FF%FE"}, 400),
    ({"method": "GET", "url": "/sparql?query=ASK%7B%7D%00"}, 400),
    ({"method": "POST", "url": "/sparql", "content": b"ASK {}"}, 415),
    ({"method": "POST", "url": "/sparql", "content": b"ASK {}", "headers": {"Content-Type": "text/plain"}}, 415),
    ({"method": "POST", "url": "/sparql", "content": b"INSERT DATA { <a:a> <a:b> <a:c> }",
      "headers": {"Content-Type": "application/sparql-update"}}, 403),
    ({"method": "POST", "url": "/sparql", "data": {"update": "CLEAR ALL"}}, 403),
    ({"method": "POST", "url": "/sparql", "content": "ASK {}".encode("utf-16"),
      "headers": {"Content-Type": "application/sparql-query"}}, 400),
    ({"method": "POST", "url": "/sparql", "content": b"ASK {} #" + b"x" * (1024 * 1024 + 1),
      "headers": {"Content-Type": "application/sparql-query"}}, 413),
    ({"method": "DELETE", "url": "/sparql"}, 405),
    ({"method": "PUT", "url": "/sparql", "content": b"x"}, 405),
])
def test_malformed_requests_get_a_short_4xx(client, request_kwargs, status):
    response = client.request(**request_kwargs)
    assert response.status_code == status, response.text
    assert "traceback" not in response.text.lower() and "<html" not in response.text.lower()
    assert len(response.text) < 600


def test_syntax_error_says_where(client):
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
    assert response.status_code == 400 and "at line 1, column 25" in response.text
    undeclared = client.get("/sparql", params={"query": "SELECT * WHERE {\n  ?s thb:label ?o }"})
    assert undeclared.status_code == 400 and "line 2" in undeclared.text
    assert "unknown prefix 'thb:'" in undeclared.text and "PREFIX thb: <https://w3id.org/thbkg/ontology#>" in undeclared.text
    assert "\\u{" not in undeclared.text and len(undeclared.text) < 300
    misspelt = client.get("/sparql", params={"query": "SELCT * WHERE { ?s ?p ?o }"})
    assert misspelt.status_code == 400 and "starts with SELECT, ASK, CONSTRUCT or DESCRIBE" in misspelt.text
    assert "'SELCT'" in misspelt.text


def test_non_utf8_charset_is_refused_as_the_protocol_requires(client):
    response = client.post("/sparql", content=LABEL_QUERY.encode("utf-16"),
                           headers={"Content-Type": "application/sparql-query; charset=utf-16"})
    assert response.status_code == 415 and "UTF-8" in response.text


def test_input_is_never_echoed_as_html(client):
    response = client.get("/sparql", params={"query": "<script>alert(1)</script>"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")


# -- Safety --------------------------------------------------------------------------------


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * FROM <{url}/data.ttl> WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <{url}/data.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "SELECT * FROM <file:///etc/passwd> WHERE {{ ?s ?p ?o }}",
])
def test_service_and_from_make_no_outbound_request(client, template):
    with Canary() as canary:
        response = client.get("/sparql", params={"query": template.format(url=canary.url)})
        time.sleep(0.5)
        assert response.status_code == 400, response.text
        assert canary.requests == []


def test_slow_query_is_stopped_and_does_not_delay_a_cheap_one(client, server):
    outcome = {}

    def slow():
        started = time.monotonic()
        outcome["slow"] = client.get("/sparql", params={"query": SLOW_QUERY})
        outcome["slow_seconds"] = time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    cheap = client.get("/sparql", params={"query": LABEL_QUERY})
    cheap_seconds = time.monotonic() - started
    thread.join()
    assert cheap.status_code == 200
    assert cheap_seconds < 2.0, "a cheap query waited behind a slow one"
    assert outcome["slow"].status_code == 503 and "did not finish within 3 s" in outcome["slow"].text
    assert outcome["slow_seconds"] < 10
    # The worker was replaced: the endpoint keeps answering, more than once in parallel.
    assert client.get("/health").status_code == 200
    assert labels(client.get("/sparql", params={"query": LABEL_QUERY}))


def test_row_cap_is_reported(client):
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 1000
    assert response.headers["x-thbkg-truncated"].startswith("true")


# -- Service description and linked data ---------------------------------------------------


def test_service_description_uses_the_public_url(client):
    for accept, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")):
        response = client.get("/sparql", headers={"Accept": accept})
        assert response.status_code == 200
        graph = Graph().parse(data=response.content, format=fmt)
        endpoints = {str(o) for o in graph.objects(None, SD.endpoint)}
        assert f"{PUBLIC_URL}/sparql" in endpoints
        assert "127.0.0.1" not in response.text


@pytest.mark.parametrize("accept,fmt", [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                                        ("application/n-triples", "nt")])
def test_resource_pages_negotiate_content(client, accept, fmt):
    response = client.get("/id/organisation/miprof", headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
    assert len(Graph().parse(data=response.content, format=fmt)) >= 5


@pytest.mark.parametrize("extension,fmt", [(".ttl", "turtle"), (".jsonld", "json-ld"), (".nt", "nt")])
def test_resource_pages_by_extension(client, extension, fmt):
    response = client.get(f"/id/organisation/miprof{extension}")
    assert response.status_code == 200
    assert len(Graph().parse(data=response.content, format=fmt)) >= 5


def test_resource_html_page_shows_labels_sources_and_claims(client):
    response = client.get("/id/plan/fr-nap-2", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "stated by" in response.text and "/id/source/" in response.text
    assert 'class="contested"' in response.text


def test_unknown_resource_is_404(client):
    assert client.get("/id/organisation/no-such-body", headers={"Accept": "text/html"}).status_code == 404


def test_ontology_dereferences(client):
    response = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and "owl:Ontology" in response.text
    assert client.get("/ontology", headers={"Accept": "text/html"}).headers["content-type"].startswith("text/html")


def test_ontology_documentation_names_every_class_and_needs_nothing_external(client):
    from rdflib.namespace import OWL, RDF, RDFS
    page = client.get("/ontology", headers={"Accept": "text/html"}).text
    ontology = Graph().parse(ROOT / "ontology" / "thb.ttl", format="turtle")
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class) if str(c).startswith(str(THB._NS))}
    assert len(classes) > 50
    for cls in classes:
        label = next(str(l) for l in ontology.objects(cls, RDFS.label) if l.language == "en")
        assert label in page, label
    assets = re.findall(r'<(?:link|script|img)[^>]*(?:href|src)="([^"]+)"', page)
    assert all(a.startswith(("data:", "#", "/")) for a in assets), assets


def test_query_page_lists_every_question_without_external_assets(client):
    page = client.get("/editor").text
    assert "cdn" not in page.lower()
    assets = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert assets and all(a.startswith(("/", "data:")) for a in assets), assets
    for path in ("/static/yasgui/yasgui.min.js", "/static/yasgui/yasgui.min.css", "/static/editor.js"):
        assert client.get(path).status_code == 200
    config = json.loads(re.search(r'<script type="application/json" id="thbkg-config">(.*?)</script>', page,
                                  re.S).group(1))
    assert [tab["question"] for tab in config["tabs"]] == [q.question for q in load_queries(ROOT / "queries")]


def _children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


@pytest.mark.parametrize("processes", ["1", "2"])
def test_ctrl_c_stops_the_server_cleanly(processes):
    running = Server("--processes", processes, "--workers", "1")
    descendants = _children(running.process.pid)
    descendants += [grandchild for child in descendants for grandchild in _children(child)]
    assert running.stop() == 0
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in descendants):
        assert time.monotonic() < deadline, "a web process or query worker outlived the server"
        time.sleep(0.2)
    assert "Traceback" not in "".join(running.log)


def test_a_web_process_that_dies_is_replaced():
    running = Server("--processes", "2", "--workers", "1")
    try:
        web = [pid for pid in _children(running.process.pid)
               if b"thbkg" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(web) == 2
        os.kill(web[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            now = [pid for pid in _children(running.process.pid)
                   if b"thbkg" in Path(f"/proc/{pid}/cmdline").read_bytes()]
            if len(now) == 2 and web[0] not in now:
                break
            assert time.monotonic() < deadline, f"web processes now: {now}"
            time.sleep(0.3)
        with httpx.Client(base_url=running.url, timeout=30) as http:
            for _ in range(20):  # new connections land on either process
                with httpx.Client(base_url=running.url, timeout=30) as fresh:
                    assert fresh.get("/health").status_code == 200
            assert http.get("/sparql", params={"query": LABEL_QUERY},
                            headers={"Accept": "text/csv"}).status_code == 200
        assert any("stopped unexpectedly" in line for line in running.log)
        assert not any('"GET /health HTTP/1.1" 200' in line for line in running.log)  # no access log by default
    finally:
        running.stop()


def test_access_log_on_request():
    running = Server("--processes", "1", "--workers", "1", "--access-log")
    try:
        assert httpx.get(running.url + "/health?from=access-log-test", timeout=30).status_code == 200
        deadline = time.monotonic() + 10
        while not any("/health?from=access-log-test HTTP/1.1\" 200" in line for line in running.log):
            assert time.monotonic() < deadline, "".join(running.log)
            time.sleep(0.2)
    finally:
        running.stop()


# -- For integrators: VoID, dumps, published queries, caching, persistent store ---------------


def test_void_has_class_and_property_partitions(client):
    from rdflib.namespace import VOID
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    void = Graph().parse(data=response.content, format="turtle")
    classes = {void.value(p, VOID["class"]) for p in void.objects(None, VOID.classPartition)}
    properties = {void.value(p, VOID.property) for p in void.objects(None, VOID.propertyPartition)}
    from thbkg.namespaces import THB
    assert THB.Observation in classes and THB.Claim in classes
    assert THB.claimStatus in properties
    assert f"{PUBLIC_URL}/sparql" in {str(o) for o in void.objects(None, VOID.sparqlEndpoint)}


XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")


def rdf11(triple: tuple) -> tuple:
    """The triple with ``"x"^^xsd:string`` written ``"x"``: one term in RDF 1.1, two in rdflib."""
    return tuple(Literal(str(term)) if isinstance(term, Literal) and term.datatype == XSD_STRING else term
                 for term in triple)


def test_dumps_round_trip_with_their_checksums(client, loaded):
    import hashlib

    from rdflib import Dataset, URIRef
    from rdflib.compare import isomorphic
    from rdflib.namespace import DCAT

    spdx = "http://spdx.org/rdf/terms#"
    catalogue = Graph().parse(data=client.get("/download/", headers={"Accept": "text/turtle"}).content,
                              format="turtle")
    distributions = sorted(catalogue.objects(None, DCAT.distribution))
    assert len(distributions) == 3
    for dist in distributions:
        body = client.get(str(dist).removeprefix(PUBLIC_URL)).content
        checksum = catalogue.value(dist, URIRef(spdx + "checksum"))
        assert hashlib.sha256(body).hexdigest() == str(catalogue.value(checksum, URIRef(spdx + "checksumValue")))
        fmt = {"trig": "trig", "nq": "nquads", "jsonld": "json-ld"}[str(dist).rsplit(".", 1)[-1]]
        served = Dataset()
        served.parse(data=body, format=fmt)
        for graph in loaded.dataset.graphs():
            if not len(graph):
                continue
            original, copy = Graph(), Graph()
            for triple in graph:
                original.add(rdf11(triple))
            for triple in served.graph(graph.identifier):
                copy.add(rdf11(triple))
            assert isomorphic(original, copy), (fmt, graph.identifier)


def test_competency_questions_are_published_as_sparql_executables(client):
    query = ("PREFIX sh: <http://www.w3.org/ns/shacl#> PREFIX schema: <https://schema.org/> "
             "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
             "SELECT ?q ?comment ?target WHERE { ?q a sh:SPARQLExecutable ; rdfs:comment ?comment ; sh:select ?text ; "
             "schema:target ?target } ORDER BY ?q")
    rows = client.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    assert len(rows) == len(load_queries(ROOT / "queries"))
    # Built once into the release, the questions name the endpoint by its persistent IRI.
    assert {row["target"]["value"] for row in rows} == {"https://w3id.org/thbkg/sparql"}


def test_answers_carry_an_etag_and_revalidate_with_304(client):
    first = client.get("/sparql", params={"query": LABEL_QUERY})
    etag = first.headers["etag"]
    again = client.get("/sparql", params={"query": LABEL_QUERY}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/sparql", params={"query": LABEL_QUERY}, headers={"Accept": "text/csv"})
    assert other.headers["etag"] != etag


def test_a_cached_answer_is_the_same_answer(client):
    """An answer is kept the second time its request comes (``cache.py``), and the third is answered
    from the cache, before routing (``fastpath.py``): same body, media type, truncation warning and
    CORS headers as the first, answered by the application; another Accept still gets its own format."""
    query = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"  # over the module's --max-rows 1000
    sent = {"Accept": "text/csv;q=0.9, application/sparql-results+json", "Origin": "https://example.org"}
    first, _, second = (client.post("/sparql", data={"query": query}, headers=sent) for _ in range(3))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and len(first.json()["results"]["bindings"]) == 1000
    for name in ("content-type", "content-length", "etag", "cache-control", "vary", "x-thbkg-truncated",
                 "warning", "access-control-allow-origin", "access-control-expose-headers"):
        assert first.headers[name] == second.headers[name], name
    assert "access-control-allow-credentials" not in second.headers
    head = client.head("/sparql", params={"query": query}, headers=sent)
    again = client.head("/sparql", params={"query": query}, headers=sent)
    assert head.content == again.content == b"" and head.headers["content-length"] == again.headers["content-length"]
    revalidated = client.post("/sparql", data={"query": query}, headers={**sent, "If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""
    as_csv = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv") and len(as_csv.text.splitlines()) == 1001
