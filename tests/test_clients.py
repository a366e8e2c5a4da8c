"""Every client gets the format it asked for, from the cache too: no Accept, Accept, format=, ETags,
CORS, Java's h2c upgrade headers (Java's own HTTP client by GET and POST), pandas, SPARQLWrapper, curl."""

from __future__ import annotations

import csv
import io
import json
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pandas as pd
import pytest
from SPARQLWrapper import CSV, SPARQLWrapper

from conftest import Server

CONVENTIONS = """PREFIX thb: <https://w3id.org/thbkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?instrument ?label WHERE {
  ?instrument a/rdfs:subClassOf* thb:Treaty ; rdfs:label ?label . FILTER(lang(?label) = "en")
} ORDER BY ?instrument"""


@pytest.fixture(scope="module")
def server():
    running = Server("--workers", "2")
    yield running
    running.stop()


def _expected_rows(client) -> list[tuple[str, str]]:
    answer = client.post("/sparql", data={"query": CONVENTIONS}, headers={"Accept": "application/sparql-results+json"})
    rows = [(b["instrument"]["value"], b["label"]["value"]) for b in answer.json()["results"]["bindings"]]
    assert len(rows) >= 5
    return rows


def test_one_query_asked_without_accept_then_as_csv_then_tsv_gets_three_formats(server):
    query = CONVENTIONS + "\n# asked in three formats"
    with httpx.Client(base_url=server.url) as client:  # one keep-alive connection
        plain = client.get("/sparql", params={"query": query}, headers={"Accept": ""})
        as_csv = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
        as_tsv = client.get("/sparql", params={"query": query}, headers={"Accept": "text/tab-separated-values"})
        again_csv = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    assert plain.headers["content-type"].startswith("application/sparql-results+json") and plain.json()["results"]
    assert as_csv.headers["content-type"].startswith("text/csv") and as_csv.text.startswith("instrument,label")
    assert as_tsv.headers["content-type"].startswith("text/tab-separated-values")
    assert as_tsv.text.startswith("?instrument\t?label")
    assert again_csv.text == as_csv.text
    assert len({plain.headers["etag"], as_csv.headers["etag"], as_tsv.headers["etag"]}) == 3


def test_every_answer_allows_any_origin_and_a_matching_etag_gets_304(server):
    query = CONVENTIONS + "\n# etag"
    with httpx.Client(base_url=server.url) as client:
        first = client.get("/sparql", params={"query": query})  # a miss, then hits
        second = client.get("/sparql", params={"query": query}, headers={"Origin": "https://example.org"})
        etag = first.headers["etag"]
        for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            cached = client.get("/sparql", params={"query": query}, headers={"If-None-Match": if_none_match})
            assert cached.status_code == 304, if_none_match
        other = client.get("/sparql", params={"query": query}, headers={"If-None-Match": '"other"'})
        as_csv = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv", "If-None-Match": etag})
    assert first.headers["access-control-allow-origin"] == "*"
    assert second.headers["access-control-allow-origin"] == "*" and second.headers["etag"] == etag
    assert other.status_code == 200 and as_csv.status_code == 200  # another format is another answer


@pytest.mark.parametrize("name, media_type", [("csv", "text/csv"), ("tsv", "text/tab-separated-values"),
                                              ("json", "application/sparql-results+json"),
                                              ("xml", "application/sparql-results+xml"),
                                              ("text/csv", "text/csv")])
def test_the_format_parameter_chooses_the_format_over_accept(client, name, media_type):
    for parameter in ("format", "output"):
        answer = client.get("/sparql", params={"query": CONVENTIONS, parameter: name},
                            headers={"Accept": "application/sparql-results+json"})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(media_type)


def test_the_format_parameter_of_a_graph_query_and_bad_names(client):
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3"
    turtle = client.get("/sparql", params={"query": construct, "format": "turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    as_csv = client.get("/sparql", params={"query": construct, "format": "csv"})
    assert as_csv.status_code == 400 and "format='csv'" in as_csv.text and "turtle" in as_csv.text
    both = client.get("/sparql", params={"query": CONVENTIONS, "format": "csv", "output": "json"})
    assert both.status_code == 400 and "more than one format" in both.text


def test_pandas_reads_an_answer_by_its_url(server, client):
    url = f"{server.url}/sparql?" + urlencode({"query": CONVENTIONS, "format": "csv"})
    frame = pd.read_csv(url)
    assert list(frame.columns) == ["instrument", "label"]
    assert [tuple(row) for row in frame.itertuples(index=False)] == _expected_rows(client)


def test_urllib_without_accept_then_sparqlwrapper_as_csv(server, client):
    query = CONVENTIONS + "\n# urllib first"
    with urllib.request.urlopen(f"{server.url}/sparql?query={quote(query)}") as answer:  # no Accept at all
        assert json.load(answer)["results"]["bindings"]
    wrapper = SPARQLWrapper(f"{server.url}/sparql")
    wrapper.setQuery(query)
    wrapper.setReturnFormat(CSV)
    rows = list(csv.reader(io.StringIO(wrapper.query().convert().decode())))
    assert rows[0] == ["instrument", "label"] and [tuple(r) for r in rows[1:]] == _expected_rows(client)


def test_curl_gets_the_same_rows(server, client):
    answer = subprocess.run(["curl", "-sS", "--fail", "-H", "Accept: text/csv", "--data-urlencode",
                             f"query={CONVENTIONS}", f"{server.url}/sparql"], capture_output=True, text=True, timeout=30)
    rows = list(csv.reader(io.StringIO(answer.stdout)))
    assert [tuple(r) for r in rows[1:]] == _expected_rows(client)


def _raw_post(port: int, head: bytes, body: bytes, split: bool) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        if split:  # the head and the body in two writes, as Java's client sends them
            sock.sendall(head)
            sock.sendall(body)
        else:
            sock.sendall(head + body)
        received = b""
        while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < 10:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


@pytest.mark.parametrize("split", [False, True])
def test_a_post_asking_to_upgrade_to_h2c_is_answered_over_http_1_1(server, split):
    body = urlencode({"query": "ASK { ?s ?p ?o }"}).encode()
    head = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
            b"Upgrade: h2c\r\nHTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nAccept: application/sparql-results+json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    received = _raw_post(server.port, head, body, split)
    assert received.startswith(b"HTTP/1.1 200"), received[:300]
    assert b'"boolean":true' in received.replace(b" ", b"")


JAVA_CLIENT = Path(__file__).resolve().parent / "java" / "SparqlClient.java"


@pytest.mark.skipif(not shutil.which("javac"), reason="make test installs a JDK (default-jdk-headless)")
@pytest.mark.parametrize("method", ["get", "post"])
def test_javas_http_client_by_get_and_by_post(server, client, tmp_path, method):
    """Java's own HTTP client (Apache Jena's since 4.3, any JVM tool's) sends Upgrade: h2c."""
    query = tmp_path / "conventions.rq"
    query.write_text(CONVENTIONS, encoding="utf-8")
    answer = subprocess.run(["java", str(JAVA_CLIENT), f"{server.url}/sparql", method, str(query)],
                            capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr[-2000:]
    rows = list(csv.reader(io.StringIO(answer.stdout)))
    assert rows[0] == ["instrument", "label"] and [tuple(r) for r in rows[1:]] == _expected_rows(client)


def test_an_upgrade_header_split_across_reads_is_still_renamed():
    """The head arrives in pieces of every size: the Upgrade header is renamed wherever it is cut,
    the head's end is never held back, and a body is never touched."""
    import types

    from thbkg.endpoint.server import _BoundedHttpToolsProtocol

    head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
            b"Content-Length: 17\r\n\r\n")
    body = b"\r\nupgrade: h2c\r\n."
    for size in range(1, 40):
        reader = types.SimpleNamespace(_held=b"", _passed=b"")
        data = head + body
        pieces = [data[i:i + size] for i in range(0, len(data), size)]
        out = b""
        for piece in pieces:  # rewritten until the head has ended, as the protocol does
            out += piece if b"\r\n\r\n" in out else _BoundedHttpToolsProtocol._without_upgrade(reader, piece)
        assert reader._held == b"", size
        assert out.lower().count(b"\r\nupgrade:") == 1, size  # only the one in the body is left
        assert out.endswith(b"\r\n\r\n" + body) and b"x-thbkg-ignored-upgrade: h2c" in out
