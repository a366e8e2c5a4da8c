"""Property-based tests (Hypothesis): whatever bytes come as a query string, form body, Content-Type,
Accept header or query text, the request reader, the guard and content negotiation give an answer
or a 4xx with a short message, never an exception of another kind; over HTTP, never a 5xx, a hang
or a traceback."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Server
from thbkg.backend.syntax import explain_syntax_error
from thbkg.endpoint.protocol import ProtocolError, negotiate, read_request
from thbkg.formats import GRAPH_MEDIA_TYPES, MEDIA_ALIASES, RESULT_MEDIA_TYPES
from thbkg.sparql_guard import QueryRefused, inspect_query

SPARQL_BITS = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "(", ")", "[", "]", "?s", "?p", "<",
               ">", "<http://example.org/a>", '"', "'", '"""', "#", "\n", "SERVICE", "FROM", "NAMED", "INSERT",
               "PREFIX", "thb:", ":", "%", "%2", "\\", "\x00", "é", "\U0001F600", "LIMIT", "1", "."]
queries = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(SPARQL_BITS), max_size=60).map(" ".join))
headers_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200)
#: What an HTTP client sends as a header value (no surrounding blanks: h11 refuses to send those).
header_values = headers_text.map(str.strip)


@settings(max_examples=400, deadline=None)
@given(method=st.sampled_from(["GET", "HEAD", "POST"]), query_string=st.text(max_size=200),
       content_type=st.one_of(st.none(), headers_text, st.sampled_from(
           ["application/x-www-form-urlencoded", "application/sparql-query", "application/sparql-query; charset=latin-1",
            "application/x-www-form-urlencoded;charset=utf-8"])), body=st.binary(max_size=300))
def test_the_request_reader_answers_or_refuses_with_a_4xx(method, query_string, content_type, body):
    try:
        request = read_request(method, query_string, content_type, body)
    except ProtocolError as refused:
        assert 400 <= refused.status < 500 and 0 < len(refused.message) < 300
    else:
        assert request.query is None or (request.query.strip() and "\x00" not in request.query)


@settings(max_examples=400, deadline=None)
@given(text=queries)
def test_the_guard_gives_a_shape_or_a_refusal(text):
    try:
        shape = inspect_query(text)
    except QueryRefused as refused:
        assert refused.status in (400, 403) and str(refused)
    else:
        assert shape.form in (None, "SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


@settings(max_examples=400, deadline=None)
@given(accept=st.one_of(st.none(), headers_text), graph=st.booleans())
def test_negotiation_picks_an_offered_type_or_none(accept, graph):
    offered = list(GRAPH_MEDIA_TYPES if graph else RESULT_MEDIA_TYPES)
    assert negotiate(accept, offered, MEDIA_ALIASES) in (*offered, None)


@settings(max_examples=300, deadline=None)
@given(text=queries, line=st.integers(-3, 50), column=st.integers(-3, 400), detail=st.text(max_size=200))
def test_syntax_errors_are_always_explained_in_one_short_line(text, line, column, detail):
    explained = explain_syntax_error(text, f"error at {line}:{column}: {detail}")
    assert explained.startswith("SPARQL syntax error") and len(explained) < 800


@pytest.fixture(scope="module")
def server():
    running = Server("--timeout", "3", "--workers", "2")
    yield running
    running.stop()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries, accept=st.one_of(st.none(), header_values), method=st.sampled_from(["GET", "POST"]),
       extra=st.dictionaries(st.sampled_from(["format", "output", "default-graph-uri", "named-graph-uri", "x"]),
                             st.text(max_size=40), max_size=2))
def test_any_request_to_sparql_gets_an_answer_or_a_4xx_never_a_5xx(client, query, accept, method, extra):
    headers = {"Accept": accept} if accept is not None else {}
    parameters = {"query": query, **extra}
    if method == "GET":
        answer = client.get("/sparql", params=parameters, headers=headers)
    else:
        answer = client.post("/sparql", data=parameters, headers=headers)
    # 503 only as admission control or the timeout say it (a random query may be a heavy one)
    assert answer.status_code < 500 or answer.status_code == 503 and (
        "busy" in answer.text or "did not finish" in answer.text), answer.text[:300]
    assert "Traceback" not in answer.text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_a_query_string_get_an_answer_or_a_4xx(server, raw):
    target = "/sparql?" + "".join(chr(b) if 0x21 <= b < 0x7F and chr(b) not in "#" else f"%{b:02X}" for b in raw)
    answer = httpx.get(server.url + target, timeout=30)
    assert answer.status_code < 500, answer.text[:300]
