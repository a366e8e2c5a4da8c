"""The W3C SPARQL 1.1 Protocol test cases, sent to the real server over HTTP.

The cases (w3c/rdf-tests, sparql/sparql11/protocol) are prose descriptions of HTTP requests and
of the response each expects; the manifest's entries, with the method and expected status class
of each first request, are in ``fixtures/w3c-protocol/manifest.ttl``, and every entry is one test
here (id = the W3C name). Each test sends the W3C request, adapted as below, and checks the status
class the manifest expects, the media type, and the answer.

Adapted, because this endpoint serves its own graph at its own path:

- the service is ``/sparql`` (the W3C text writes ``/sparql/``);
- the W3C data files ``data0.rdf`` ... ``data3.rdf`` are three of our source graphs, A, B and C;
  the endpoint refuses graphs it does not hold, so the kasei.us IRIs cannot be sent as they are;
- query_dataset_*: besides the W3C ASK (one triple of A joined with one of B, and so on), each
  checks that the default graph is exactly the merge of the ``default-graph-uri`` graphs and that
  GRAPH ranges over exactly the ``named-graph-uri`` graphs. A dataset of named graphs only has an
  empty default graph, as FROM NAMED alone does (SPARQL 1.1 Query 13.2);
- query_multiple_dataset: the W3C request percent-encodes the ``&`` between its two
  ``named-graph-uri`` parameters (so it sends one malformed IRI); we send the two parameters meant.
  The protocol's dataset replaces the query's FROM as a whole, so FROM C is ignored;
- query_content_type_*: no Accept header, as in the W3C text; the answer's media type must be one
  for the query form, and the body must parse as one (a relative IRI in CONSTRUCT resolves against
  the service's base, https://w3id.org/thbkg/: what update_base_uri asks of a service);
- bad_update_*: each is refused (4xx, as expected) with 403, whatever its defect: no update is read.

Deliberate deviations:

- update_dataset_default_graph(s), update_dataset_named_graphs, update_dataset_full,
  update_post_form, update_post_direct, update_base_uri: the endpoint is read-only; every update
  is refused with 403 (the W3C expects 2xx and the update done).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef

from conftest import FIXTURES, Server

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
MANIFEST = FIXTURES / "w3c-protocol" / "manifest.ttl"
SOURCE = "https://w3id.org/thbkg/id/source/"
A, B, C = SOURCE + "r34", SOURCE + "r83", SOURCE + "r12"
BASE = "https://w3id.org/thbkg/"
BOOLEAN_TYPES = ("application/sparql-results+json", "application/sparql-results+xml")
TABULAR_TYPES = (*BOOLEAN_TYPES, "text/csv", "text/tab-separated-values")
RDF_TYPES = {"text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld",
             "application/rdf+xml": "xml", "application/n-quads": "nquads", "application/trig": "trig"}
SPARQL_QUERY = {"Content-Type": "application/sparql-query"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Accept": "application/sparql-results+json"}


def _entries(path: Path) -> list[tuple[str, str, set[str]]]:
    """(name, method, expected status classes) of each manifest entry, in manifest order."""
    graph = Graph().parse(path, format="turtle")
    manifest = next(graph.subjects(MF.entries, None))
    entries = []
    for test in graph.items(graph.value(manifest, MF.entries)):
        request = next(graph.items(graph.value(graph.value(test, MF.action), HT.requests)))
        statuses = {str(s).rsplit("StatusCode", 1)[1] for s in graph.objects(graph.value(request, HT.resp),
                                                                            MF.expectedStatus)}
        entries.append((str(test).rsplit("#", 1)[1], str(graph.value(request, HT.methodName)), statuses))
    return entries


ENTRIES = _entries(MANIFEST)


@pytest.fixture(scope="module")
def server():
    running = Server("--timeout", "10", "--workers", "2")
    yield running
    running.stop()


def _term(binding: dict):
    if binding["type"] == "uri":
        return URIRef(binding["value"])
    if binding["type"] == "bnode":
        return BNode(binding["value"])
    return Literal(binding["value"], lang=binding.get("xml:lang"), datatype=binding.get("datatype"))


def _rows(response: httpx.Response) -> list[tuple]:
    assert response.status_code == 200, response.text
    body = response.json()
    names = body["head"]["vars"]
    return [tuple(_term(row[n]) if n in row else None for n in names) for row in body["results"]["bindings"]]


def _boolean(response: httpx.Response) -> bool:
    media = response.headers["content-type"].split(";")[0]
    assert media in BOOLEAN_TYPES, media
    if media.endswith("json"):
        return response.json()["boolean"]
    return "<boolean>true</boolean>" in response.text


TRIPLES = "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) }"
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


@pytest.fixture(scope="module")
def data(client) -> dict:
    """The triples (without blank nodes) of graphs A, B and C, and one triple held by each alone."""
    held = {}
    for graph in (A, B, C):
        query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} FILTER(!isBlank(?s) && !isBlank(?o)) }}"
        held[graph] = set(_rows(client.get("/sparql", params={"query": query}, headers=JSON)))
        assert held[graph], f"{graph} is not a graph of the endpoint any more: pick another source graph"
    only = {}
    for graph in (A, B, C):
        others = set().union(*(held[g] for g in (A, B, C) if g != graph))
        only[graph] = " ".join(t.n3() for t in sorted(held[graph] - others)[0])
    return {"held": held, "only": only}


def _default_graph(client, **request) -> set[tuple]:
    return set(_rows(client.request(**request)))


def _url(**params: list[str]) -> str:
    """``/sparql?`` with the parameters percent-encoded, repeated in the order given."""
    pairs = [f"{name.replace('_', '-')}={quote(value, safe='')}" for name, values in params.items() for value in values]
    return "/sparql" + ("?" + "&".join(pairs) if pairs else "")


# -- The cases: each sends the (adapted) W3C request, checks the answer, returns the response --


def query_post_form(client, data):
    response = client.post(_url(default_graph_uri=[A]), content=b"query=ASK%20%7B%7D", headers=FORM)
    assert _boolean(response) is True
    return response


def _two_default_graphs(client, data, method):
    ask = f"ASK {{ {data['only'][A]} . {data['only'][B]} . }}"
    if method == "GET":
        response = client.get(_url(query=[ask], default_graph_uri=[A, B]))
        merged = _default_graph(client, method="GET", url=_url(query=[TRIPLES], default_graph_uri=[A, B]),
                                headers=JSON)
    else:
        response = client.post(_url(default_graph_uri=[A, B]), content=ask.encode(), headers=SPARQL_QUERY)
        merged = _default_graph(client, method="POST", url=_url(default_graph_uri=[A, B]), content=TRIPLES.encode(),
                                headers={**SPARQL_QUERY, **JSON})
    assert _boolean(response) is True
    assert merged == data["held"][A] | data["held"][B]
    return response


def query_dataset_default_graphs_get(client, data):
    return _two_default_graphs(client, data, "GET")


def query_dataset_default_graphs_post(client, data):
    return _two_default_graphs(client, data, "POST")


def _two_named_graphs(client, data, method):
    ask = f"ASK {{ GRAPH ?g1 {{ {data['only'][A]} }} GRAPH ?g2 {{ {data['only'][B]} }} }}"
    checks = [(ask, True), ("ASK { ?s ?p ?o }", False)]  # no default-graph-uri: an empty default graph
    responses = []
    for query, expected in checks:
        if method == "GET":
            responses.append(client.get(_url(query=[query], named_graph_uri=[A, B])))
        else:
            responses.append(client.post(_url(named_graph_uri=[A, B]), content=query.encode(), headers=SPARQL_QUERY))
        assert _boolean(responses[-1]) is expected, query
    graphs = client.get(_url(query=[GRAPHS], named_graph_uri=[A, B]), headers=JSON)
    assert {row[0] for row in _rows(graphs)} == {URIRef(A), URIRef(B)}
    return responses[0]


def query_dataset_named_graphs_post(client, data):
    return _two_named_graphs(client, data, "POST")


def query_dataset_named_graphs_get(client, data):
    return _two_named_graphs(client, data, "GET")


def query_dataset_full(client, data):
    ask = (f"ASK {{\n  {data['only'][C]}\n  GRAPH ?g1 {{ {data['only'][A]} }}\n"
           f"  GRAPH ?g2 {{ {data['only'][B]} }}\n}}")
    url = _url(default_graph_uri=[C], named_graph_uri=[A, B])
    response = client.post(url, content=ask.encode(), headers=SPARQL_QUERY)
    assert _boolean(response) is True
    assert _default_graph(client, method="POST", url=url, content=TRIPLES.encode(),
                          headers={**SPARQL_QUERY, **JSON}) == data["held"][C]
    graphs = client.post(url, content=GRAPHS.encode(), headers={**SPARQL_QUERY, **JSON})
    assert {row[0] for row in _rows(graphs)} == {URIRef(A), URIRef(B)}
    return response


def query_multiple_dataset(client, data):
    ask = f"ASK FROM <{C}> {{ GRAPH ?g1 {{ {data['only'][A]} }} GRAPH ?g2 {{ {data['only'][B]} }} }}"
    url = _url(named_graph_uri=[A, B])
    response = client.post(url, content=ask.encode(), headers=SPARQL_QUERY)
    assert _boolean(response) is True
    # The protocol's dataset (named graphs A and B, so an empty default graph) replaces FROM <C>.
    ignored_from = client.post(url, content=f"ASK FROM <{C}> {{ {data['only'][C]} }}".encode(), headers=SPARQL_QUERY)
    assert _boolean(ignored_from) is False
    return response


def query_get(client, data):
    response = client.get(_url(query=["ASK {}"], default_graph_uri=[A]))
    assert _boolean(response) is True
    return response


def query_content_type_select(client, data):
    response = client.post(_url(default_graph_uri=[A]), content=b"SELECT (1 AS ?value) {}", headers=SPARQL_QUERY)
    media = response.headers["content-type"].split(";")[0]
    assert media in TABULAR_TYPES, media
    assert "value" in response.text and "1" in response.text
    return response


def query_content_type_ask(client, data):
    response = client.post(_url(default_graph_uri=[A]), content=b"ASK {}", headers=SPARQL_QUERY)
    assert _boolean(response) is True
    return response


def _rdf(response: httpx.Response) -> Graph:
    media = response.headers["content-type"].split(";")[0]
    assert media in RDF_TYPES, media
    return Graph().parse(data=response.content, format=RDF_TYPES[media])


def query_content_type_describe(client, data):
    response = client.post(_url(default_graph_uri=[A]), content=b"DESCRIBE <http://example.org/>",
                           headers=SPARQL_QUERY)
    assert len(_rdf(response)) == 0  # nothing is said of it, in any graph
    return response


def query_content_type_construct(client, data):
    response = client.post(_url(default_graph_uri=[A]), content=b"CONSTRUCT { <s> <p> 1 } WHERE {}",
                           headers=SPARQL_QUERY)
    assert set(_rdf(response)) == {(URIRef(BASE + "s"), URIRef(BASE + "p"), Literal(1))}
    return response


def query_post_direct(client, data):
    response = client.post("/sparql", content=b"ASK {}", headers=SPARQL_QUERY)
    assert _boolean(response) is True
    return response


UPDATE = ("PREFIX dc: <http://purl.org/dc/terms/>\nPREFIX foaf: <http://xmlns.com/foaf/0.1/>\nDROP ALL ;\n"
          f"INSERT DATA {{ GRAPH <{A}> {{ <{A}> a foaf:Document }} }} ;\n"
          "INSERT { GRAPH <http://example.org/protocol-update-dataset-test/> { ?s a dc:BibliographicResource } }\n"
          "WHERE { ?s a foaf:Document }")
UPDATE_REQUESTS = {
    "update_dataset_default_graph": {"url": _url(using_graph_uri=[A]), "content": UPDATE.encode()},
    "update_dataset_default_graphs": {"url": _url(using_graph_uri=[A, B]), "content": UPDATE.encode()},
    "update_dataset_named_graphs": {"url": _url(using_named_graph_uri=[A, B]), "content": UPDATE.encode()},
    "update_dataset_full": {"url": _url(using_graph_uri=[A], using_named_graph_uri=[B]), "content": UPDATE.encode()},
    "update_post_form": {"url": "/sparql", "content": b"update=CLEAR+ALL", "headers": FORM},
    "update_post_direct": {"url": "/sparql", "content": b"CLEAR ALL"},
    "update_base_uri": {"url": "/sparql", "content": b"CLEAR GRAPH <http://example.org/protocol-base-test/> ;\n"
                        b"INSERT DATA { GRAPH <http://example.org/protocol-base-test/> "
                        b"{ <http://example.org/s> <http://example.org/p> <test> } }"},
}


def _refused_update(name: str):
    def case(client, data):
        request = {"headers": {"Content-Type": "application/sparql-update"}, **UPDATE_REQUESTS[name]}
        response = client.post(**request)
        assert response.status_code == 403 and "read-only" in response.text, response.text
        assert len(_rows(client.get("/sparql", params={"query": TRIPLES + " LIMIT 1"}, headers=JSON))) == 1
        return response
    return case


def bad_query_method(client, data):
    return client.put(_url(query=["ASK {}"], default_graph_uri=[A]), content=b"", headers=FORM)


def bad_multiple_queries(client, data):
    return client.get(_url(query=["ASK {}", "SELECT * {}"]))


def bad_query_wrong_media_type(client, data):
    return client.post("/sparql", content=b"ASK {}", headers={"Content-Type": "text/plain"})


def bad_query_missing_form_type(client, data):
    return client.post("/sparql", content=b"query=ASK%20%7B%7D")


def bad_query_missing_direct_type(client, data):
    return client.post("/sparql", content=b"ASK {}")


def bad_query_non_utf8(client, data):
    # application/sparql-query is UTF-8 only: a UTF-16 body is refused even when it says so.
    return client.post("/sparql", content="ASK {}".encode("utf-16"),
                       headers={"Content-Type": "application/sparql-query; charset=UTF-16"})


def bad_query_syntax(client, data):
    response = client.get("/sparql?query=ASK%20%7B")
    assert "syntax" in response.text.lower()
    return response


def bad_update_get(client, data):
    return client.get("/sparql?update=CLEAR%20ALL")


def bad_multiple_updates(client, data):
    return client.post("/sparql", content=b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", headers=FORM)


def bad_update_wrong_media_type(client, data):
    return client.post("/sparql", content=b"CLEAR NAMED", headers={"Content-Type": "text/plain"})


def bad_update_missing_form_type(client, data):
    return client.post("/sparql", content=b"update=CLEAR%20NAMED")


def bad_update_non_utf8(client, data):
    return client.post("/sparql", content="CLEAR NAMED".encode("utf-16"),
                       headers={"Content-Type": "application/sparql-update; charset=UTF-16"})


def bad_update_syntax(client, data):
    return client.post("/sparql", content=b"update=CLEAR%20XYZ", headers=FORM)


def bad_update_dataset_conflict(client, data):
    body = ("PREFIX foaf:  <http://xmlns.com/foaf/0.1/>\nWITH <http://example/addresses>\n"
            "DELETE { ?person foaf:givenName 'Bill' }\nINSERT { ?person foaf:givenName 'William' }\n"
            "WHERE {\n    ?person foaf:givenName 'Bill'\n}")
    return client.post(_url(using_named_graph_uri=["http://example/people"]), content=body.encode(),
                       headers={"Content-Type": "application/sparql-update"})


CASES = {name: case for name, case in globals().items() if name.startswith(("query_", "bad_"))}
CASES.update({name: _refused_update(name) for name in UPDATE_REQUESTS})
#: W3C cases whose expected status this endpoint deliberately does not give (see the docstring).
DEVIATIONS = {name: "4" for name in UPDATE_REQUESTS}


def test_the_default_graph_is_a_set_of_triples(client):
    """With no dataset given, the default graph is the RDF merge of every graph: a triple that
    several sources state is in it once (Oxigraph 0.5's own union repeats it, oxigraph#1919)."""
    def count(where: str) -> int:
        response = client.get("/sparql", params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"},
                              headers=JSON)
        return int(_rows(response)[0][0])
    triples = count("?s ?p ?o")
    assert triples == count("SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }")
    assert triples < count("GRAPH ?g { ?s ?p ?o }"), "no triple is stated by two sources any more"


def test_every_w3c_case_has_a_test():
    assert len(ENTRIES) == 34
    assert sorted(CASES) == sorted(name for name, _, _ in ENTRIES)


@pytest.mark.parametrize("name,method,expected", ENTRIES, ids=[name for name, _, _ in ENTRIES])
def test_w3c_protocol_case(client, data, name, method, expected):
    response = CASES[name](client, data)
    assert response.request.method == method
    status_class = str(response.status_code)[0]
    assert status_class == DEVIATIONS.get(name, status_class), response.text
    if name not in DEVIATIONS:
        assert f"{status_class}xx" in expected, f"{response.status_code}: {response.text[:300]}"
    if status_class == "4":  # a short plain-text reason, never an HTML page or a traceback
        assert response.headers["content-type"].startswith(("text/plain", "application/json"))
        assert len(response.text) < 600 and "traceback" not in response.text.lower()
