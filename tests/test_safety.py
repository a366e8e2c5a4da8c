"""Pathological queries and requests against the real server: it answers each, and keeps serving.

The server runs with a 3 s timeout, two web processes and two query workers in each. After every
case /health must answer within 3 s and a cheap query must still return its rows; after a query
stopped at the timeout (or by a worker's death) the answer is a 503 with its reason, never a 200
with a half-written body, the workers are back to four, and no process of the server keeps burning
CPU. No bound here is a
performance target: they are generous liveness bounds for a noisy two-core machine.
"""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from conftest import Server
from processes import process_tree as _tree
from processes import query_workers
from test_endpoint import LABEL_QUERY

TIMEOUT_MESSAGE = "did not finish within 3 s and was stopped"
MEMORY_MESSAGE = "needed more memory than a query may use"
CRASH_MESSAGE = "crashed its worker"
PROCESSES, WORKERS = 2, 2
#: Each web process may also start one worker for the queries its pages ask (see QueryPool).
RESERVED = 1


@pytest.fixture(scope="module")
def server():
    running = Server("--timeout", "3", "--processes", str(PROCESSES), "--workers", str(WORKERS))
    yield running
    running.stop()


# -- Liveness --------------------------------------------------------------------------------


def assert_serving(server: Server, client: httpx.Client, case: str) -> None:
    assert server.process.poll() is None, "the server died"
    assert client.get("/health", timeout=3).status_code == 200
    # A comment makes the text new to the result cache, so a worker really evaluates it.
    response = client.get("/sparql", params={"query": f"{LABEL_QUERY} # after {case}"},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]["bindings"]) == 2


def assert_recovered(server: Server) -> None:
    """Back to all workers idle, none a zombie, and the whole process tree idle again."""
    deadline = time.monotonic() + 60
    while True:
        tree = _tree(server.process.pid)
        if PROCESSES * WORKERS <= len(query_workers(server.process.pid)) <= PROCESSES * (WORKERS + RESERVED) and not any(state == "Z" for _, state, _ in tree.values()):
            before = sum(cpu for _, _, cpu in tree.values())
            time.sleep(2)
            used = sum(cpu for _, _, cpu in _tree(server.process.pid).values()) - before
            if used < 0.5:  # of 4 CPU-seconds available in 2 s on two cores
                return
        assert time.monotonic() < deadline, f"still busy: {_tree(server.process.pid)}"
        time.sleep(1)


def _post(client: httpx.Client, query: str) -> httpx.Response:
    return client.post("/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query",
                                                                   "Accept": "application/sparql-results+json"})


# -- Pathological queries ---------------------------------------------------------------------


def _doubling(levels: int) -> str:
    binds = ['BIND("a" AS ?a0)'] + [f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(levels)]
    return f"SELECT (STRLEN(?a{levels}) AS ?n) WHERE {{ {' '.join(binds)} }}"


def _values(rows: int) -> str:
    return "SELECT (COUNT(*) AS ?n) WHERE { VALUES ?x { " + " ".join(map(str, range(rows))) + " } }"


REGEX = ('SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l '
         'FILTER(REGEX(CONCAT(STR(?l), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), "^(a+)+$")) }')

# name -> (query, outcomes): each outcome a status and a phrase its body must hold ("" for 200).
QUERIES = {
    "cross-product": ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
                      {(503, TIMEOUT_MESSAGE)}),
    "closure-of-any-property": ("SELECT (COUNT(*) AS ?n) WHERE { ?a (<x:p>|!<x:p>)* ?b }",
                                {(200, ""), (503, TIMEOUT_MESSAGE)}),
    "regex-backtracking": (REGEX, {(200, ""), (503, TIMEOUT_MESSAGE)}),  # Rust regex is linear-time
    "string-doubled-35-times": (_doubling(35), {(503, TIMEOUT_MESSAGE), (503, MEMORY_MESSAGE)}),
    "string-doubled-40-times": (_doubling(40), {(503, TIMEOUT_MESSAGE), (503, MEMORY_MESSAGE)}),
    "group-concat-of-a-cross-product": (
        "SELECT (STRLEN(GROUP_CONCAT(STR(?o))) AS ?n) WHERE { ?s ?p ?o . ?a ?b ?c }",
        {(503, TIMEOUT_MESSAGE), (503, MEMORY_MESSAGE)}),
    "values-100k-rows": (_values(100_000), {(200, ""), (503, TIMEOUT_MESSAGE)}),
    "values-200k-rows-over-1-MiB": (_values(200_000), {(413, "request body over 1024 KiB")}),
    "5000-nested-groups": ("SELECT * WHERE " + "{" * 5000 + "}" * 5000,
                           {(400, "query nested too deeply (5000 levels; limit 128)")}),
    "50000-nested-groups": ("SELECT * WHERE " + "{" * 50_000 + "}" * 50_000,
                            {(400, "query nested too deeply (50000 levels; limit 128)")}),
    "5000-nested-parentheses": ("SELECT (" + "(" * 5000 + "1" + ")" * 5000 + " AS ?x) WHERE {}",
                                {(400, "query nested too deeply (5001 levels; limit 128)")}),
    "50000-nested-parentheses": ("SELECT (" + "(" * 50_000 + "1" + ")" * 50_000 + " AS ?x) WHERE {}",
                                 {(400, "query nested too deeply (50001 levels; limit 128)")}),
    "500000-chained-negations": ("ASK { FILTER(" + "!" * 500_000 + "true) }",
                                 {(503, CRASH_MESSAGE), (503, TIMEOUT_MESSAGE)}),
    "service-back-to-this-endpoint": (None, {(400, "SERVICE (federated query) is not allowed")}),
}


@pytest.mark.parametrize("name", QUERIES)
def test_pathological_query_is_answered_and_the_server_keeps_serving(server, client, name):
    query, outcomes = QUERIES[name]
    if query is None:
        query = f"SELECT * WHERE {{ SERVICE <{server.url}/sparql> {{ ?s ?p ?o }} }}"
    started = time.monotonic()
    response = _post(client, query)
    assert time.monotonic() - started < 45, "no answer within 45 s"
    assert any(response.status_code == status and phrase in response.text for status, phrase in outcomes), \
        f"{response.status_code}: {response.text[:300]}"
    if response.status_code == 200:
        assert int(response.json()["results"]["bindings"][0]["n"]["value"]) >= 0
    else:
        assert response.headers["content-type"].startswith("text/plain") and len(response.text) < 600
    if response.status_code == 503:  # a worker was stopped: it must be gone, and replaced
        assert_recovered(server)
    assert_serving(server, client, name)


@pytest.mark.parametrize("name,query", [
    ("a-million-digits", "SELECT (" + "1" * (2**20 - 40) + " AS ?x) {}"),
    ("a-million-percent-signs", "SELECT * WHERE { ?s ?p ex" + "%" * (2**20 - 40) + ":x }"),
    ("a-million-unclosed-escapes", 'SELECT * WHERE { ?s ?p "' + '\\"' * (2**19 - 20) + " }"),
])
def test_a_large_query_does_not_stall_the_event_loop(server, client, name, query):
    """The lexical guard runs in the event loop: it must stay linear in the text (it was quadratic
    in a run of name characters with no ':', and a 1 MiB one held every request for hours)."""
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(response=_post(client, query)))
    thread.start()
    time.sleep(0.2)
    with httpx.Client(base_url=server.url, timeout=3) as other:
        assert other.get("/health").status_code == 200
    thread.join(timeout=60)
    assert not thread.is_alive(), "no answer within 60 s"
    assert outcome["response"].status_code in (200, 400, 503), outcome["response"].text[:300]
    assert_serving(server, client, name)


# -- Pathological HTTP ------------------------------------------------------------------------


def _exchange(server: Server, request: bytes) -> bytes:
    """Send raw bytes; return the status line of the answer (the server must answer, not hang)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


@pytest.mark.parametrize("name,request_bytes,statuses", [
    ("100-KB-header", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", {431, 400}),
    ("5000-headers", b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
     + b"\r\n", {431, 400}),
    ("100-KB-URL", b"GET /sparql?query=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {414, 400}),
    ("40-KB-URL", b"GET /sparql?query=ASK%7B%7D%23" + b"a" * 40_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {414}),
    # httptools (llhttp) knows the registered methods only: an unknown one is a malformed request.
    ("unknown-method", b"BREW /sparql HTTP/1.1\r\nHost: x\r\n\r\n", {400, 405}),
    ("PATCH", b"PATCH /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", {405}),
    ("TRACE", b"TRACE /sparql HTTP/1.1\r\nHost: x\r\n\r\n", {405}),
    ("invalid-method-token", b"G@T /sparql HTTP/1.1\r\nHost: x\r\n\r\n", {400}),
    ("not-http", b"hello\r\n\r\n", {400}),
    ("body-longer-than-allowed", b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
     b"Content-Length: 99999999\r\n\r\nASK {}", {413}),
])
def test_pathological_request_gets_a_4xx(server, client, name, request_bytes, statuses):
    status_line = _exchange(server, request_bytes)
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    assert int(status_line.split()[1]) in statuses, status_line
    assert_serving(server, client, name)


def test_a_request_head_that_never_ends_is_cut_off(server, client):
    """A header sent 4 KB at a time and never finished: the server stops buffering it and answers
    431 long before a megabyte, instead of holding whatever the client keeps sending."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        sent = 0
        try:
            while sent < 1024 * 1024:
                connection.sendall(b"a" * 4096)
                sent += 4096
                time.sleep(0.002)
        except OSError:  # the server closed the connection: what it answered is still readable
            pass
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert sent < 512 * 1024, f"the server read {sent} bytes of an unfinished head"
    assert_serving(server, client, "endless head")


def test_a_30_KB_url_is_still_served(server, client):
    response = client.get("/sparql", params={"query": "ASK {} #" + "a" * 30_000},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200 and response.json()["boolean"] is True


# -- Large answers ---------------------------------------------------------------------------

#: Every quad in a fixed order: an answer of several MB in each format.
EVERY_QUAD = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g ?s ?p ?o"


@pytest.mark.parametrize("media_type", ["application/sparql-results+json", "text/tab-separated-values",
                                        "application/sparql-results+xml"])
def test_a_large_answer_arrives_whole_and_as_the_engine_wrote_it(server, client, release, media_type):
    """A body past the size a worker sends unpickled (raw bytes after the rest of the answer) comes
    through byte for byte, in every format, and the pipe is in step for the next query."""
    from thbkg.backend.engine import Engine
    from thbkg.backend.workers import LARGE_BODY_BYTES
    from thbkg.namespaces import BASE

    expected = Engine.open(release.store, BASE).run(EVERY_QUAD, media_type, max_rows=100_000)
    assert len(expected.body) > LARGE_BODY_BYTES
    for attempt in range(3):  # whichever worker answers, again and again
        response = client.post("/sparql", data={"query": f"{EVERY_QUAD} # large {media_type} {attempt}"},
                               headers={"Accept": media_type}, timeout=60)
        assert response.status_code == 200, response.text[:300]
        assert response.content == expected.body
    assert_serving(server, client, f"large answers in {media_type}")


# -- The memory cap ---------------------------------------------------------------------------


def test_the_memory_cap_stops_a_memory_bomb():
    """With time enough, a string doubled 35 times (32 GiB) meets the worker's 2 GiB address-space
    cap: the worker dies, the client is told why, and a new worker takes its place."""
    running = Server("--timeout", "120", "--processes", "1", "--workers", "1")
    try:
        with httpx.Client(base_url=running.url, timeout=180) as http:
            response = _post(http, _doubling(35))
            assert response.status_code == 503 and MEMORY_MESSAGE in response.text, response.text
            deadline = time.monotonic() + 60
            while not 1 <= len(query_workers(running.process.pid)) <= 1 + RESERVED:
                assert time.monotonic() < deadline, "the worker was not replaced"
                time.sleep(0.5)
            assert_serving(running, http, "memory bomb")
    finally:
        running.stop()
