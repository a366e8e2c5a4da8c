"""`thbkg serve --backend URL` in front of real engines (the Oxigraph server, Virtuoso) answers as the
embedded server does: competency questions, /id/ pages, VoID and refusals; a down or slow engine
gives 502 or 504 in bounded time. The Oxigraph server is loaded by `thbkg publish` (so this proves
publish too), Virtuoso by its bulk loader from the release's N-Quads dump (thbkg.backend.engine_servers)."""

from __future__ import annotations

import asyncio
import csv
import html.parser
import io
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from conftest import ROOT, Server, free_port
from engines import OXIGRAPH, RunningEngine, _process, _require, virtuoso_server
from thbkg.build.compile import build_release
from thbkg.build.release import Release
from thbkg.cli import main
from thbkg.queries import NamedQuery, load_queries

QUERIES = load_queries(ROOT / "queries")
PAGES = ["/id/organisation/miprof", "/id/country/france", "/id/plan/fr-nap-2"]
#: Refused before any engine sees them: (name, request); the embedded server's answer is the reference.
HOSTILE = {
    "service": {"params": {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}},
    "update": {"data": {"update": "CLEAR ALL"}},
    "from-file": {"params": {"query": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"}},
    "130-deep-nesting": {"params": {"query": "SELECT * WHERE " + "{" * 130 + "}" * 130}},
}


def _oxigraph_published(release: Release, workdir: Path):
    """A writable Oxigraph server, empty, then loaded by `thbkg publish` through its Graph Store /store
    (named graphs, and their merge as its default graph, which Oxigraph needs)."""
    _require(OXIGRAPH)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(OXIGRAPH), "serve", "--location", str(workdir / "store"), "--bind", f"127.0.0.1:{port}"]
    with _process(command, workdir / "oxigraph.log", base + "/query"):
        published = CliRunner().invoke(main, ["publish", base + "/store", "--store", str(release.path)])
        assert published.exit_code == 0, published.output
        assert published.output.startswith(f"published {release.manifest['counts']['quads']:,} quads in "
                                            f"{release.manifest['counts']['graphs']:,} named graphs"), published.output
        yield RunningEngine("oxigraph", base + "/query", store_url=base + "/store", log=workdir / "oxigraph.log")


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def engine(request, release: Release, tmp_path_factory) -> RunningEngine:
    workdir = tmp_path_factory.mktemp(request.param)
    if request.param == "oxigraph":
        yield from _oxigraph_published(release, workdir)
    else:
        with virtuoso_server(release.path / "dumps" / "thbkg.nq", workdir) as running:
            yield running


@pytest.fixture(scope="module")
def gateway(engine: RunningEngine):
    server = Server("--backend", engine.query_url, "--timeout", "20")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def embedded():
    server = Server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=60) as client:
        yield client


def _csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text[:500]
    return list(csv.reader(io.StringIO(response.text)))


def _select(http: httpx.Client, server: Server, query: str) -> list[list[str]]:
    return _csv(http.post(server.url + "/sparql", data={"query": query}, headers={"Accept": "text/csv"}))


# -- What the engine holds -------------------------------------------------------------------------

def test_every_named_graph_is_on_the_engine_quad_for_quad(http, gateway, embedded):
    """Publish (Oxigraph) and the bulk loader (Virtuoso) are lossless: each of our named graphs holds
    as many quads as in the release (Virtuoso holds system graphs of its own besides)."""
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    ours = dict(map(tuple, _select(http, embedded, query)[1:]))
    held = dict(map(tuple, _select(http, gateway, query)[1:]))
    assert {g: held.get(g) for g in ours} == ours


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_competency_question_gives_its_expected_rows_through_the_gateway(http, gateway, query: NamedQuery):
    with query.expected.open(newline="", encoding="utf-8") as handle:
        expected = list(csv.reader(handle))
    assert _select(http, gateway, query.text) == expected


# -- Pages and VoID -----------------------------------------------------------------------------

class _TableRows(html.parser.HTMLParser):
    """The text of each table row of a page, cell by cell."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, ...]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(tuple(self._row))
            self._row = None

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _table_rows(text: str) -> list[tuple[str, ...]]:
    parser = _TableRows()
    parser.feed(text)
    return parser.rows


@pytest.mark.parametrize("path", PAGES)
def test_page_html_has_the_same_rows_as_embedded(http, gateway, embedded, path):
    pages = [http.get(server.url + path, headers={"Accept": "text/html"}) for server in (embedded, gateway)]
    assert [page.status_code for page in pages] == [200, 200]
    reference, remote = (_table_rows(page.text) for page in pages)
    assert len(reference) > 3
    assert remote == reference


#: The datatypes derived from xsd:integer, which Oxigraph 0.5.13 stores as xsd:integer itself.
_XSD = "http://www.w3.org/2001/XMLSchema#"  # a string: pytest's collection trips on rdflib's XSD namespace
_INTEGER_TYPES = {URIRef(_XSD + name) for name in ("nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
                                         "negativeInteger", "long", "int", "short", "byte", "unsignedLong",
                                         "unsignedInt", "unsignedShort", "unsignedByte")}


def _as_oxigraph_stores_it(graph: Graph) -> Graph:
    """``graph`` with every xsd:integer-derived literal typed xsd:integer, as an Oxigraph store holds it:
    Oxigraph 0.5.13 rewrites `"6"^^xsd:nonNegativeInteger` to `"6"^^xsd:integer` when it stores it
    (docs/engines.md, O2), so the embedded server and the Oxigraph server show xsd:integer while
    Virtuoso keeps the datatype of the sources. Only that difference is put aside."""
    def term(node):
        if isinstance(node, Literal) and node.datatype in _INTEGER_TYPES:
            return Literal(str(node), datatype=URIRef(_XSD + "integer"))
        return node
    normalised = Graph()
    for s, p, o in graph:
        normalised.add((s, p, term(o)))
    return normalised


@pytest.mark.parametrize("path", PAGES)
def test_page_turtle_is_the_same_graph_as_embedded(http, gateway, embedded, path):
    pages = [http.get(server.url + path, headers={"Accept": "text/turtle"}) for server in (embedded, gateway)]
    assert [page.status_code for page in pages] == [200, 200]
    reference, remote = (_as_oxigraph_stores_it(Graph().parse(data=page.text, format="turtle")) for page in pages)
    assert len(reference) > 3
    assert isomorphic(remote, reference), _difference(remote, reference)


def _difference(remote: Graph, reference: Graph) -> str:
    only_remote, only_reference = remote - reference, reference - remote
    return (f"only through the gateway: {sorted(only_remote)[:5]}; "
            f"only embedded: {sorted(only_reference)[:5]}")


def _void(http: httpx.Client, server: Server) -> Graph:
    response = http.get(server.url + "/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.text.replace(server.url, "http://thbkg.test"), format="turtle")


def test_void_is_the_same_as_embedded(http, gateway, embedded):
    """The statistics are the release's (computed once by `thbkg build`), whatever engine answers; only
    the server's own URLs (endpoint, dumps) differ, and they are put aside."""
    assert isomorphic(_void(http, gateway), _void(http, embedded))


def test_void_statistics_asked_of_the_engine(engine: RunningEngine, release: Release):
    """The same statistics asked of the engine itself by SPARQL: equal on Oxigraph (its default graph is
    the merge publish wrote). Virtuoso's default graph is the bag of all its graphs, its own system
    graphs included (docs/engines.md, V4): its triple count is every quad plus those, and its class
    and property partitions hold Virtuoso's own terms too; what the release also counts is there."""
    from thbkg.backend.remote import RemoteBackend
    from thbkg.catalogue import void_statistics

    async def ask() -> tuple[Graph, int]:
        backend = RemoteBackend(engine.query_url, timeout=60)
        await backend.start()
        try:
            return await void_statistics(backend)
        finally:
            await backend.close()

    remote, triples = asyncio.run(ask())
    reference = Graph().parse(release.void_path, format="turtle")
    if engine.name == "oxigraph":
        assert triples == release.manifest["counts"]["triples"]
        assert isomorphic(remote, reference)
    else:
        assert triples > release.manifest["counts"]["quads"]  # every quad once, and the system graphs
        assert {p for p, in reference.query("SELECT ?p { ?x void:property ?p }")} <= \
            {p for p, in remote.query("SELECT ?p { ?x void:property ?p }")}


# -- Refusals -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_query_gets_the_same_refusal_as_embedded(http, gateway, embedded, name):
    request = HOSTILE[name]
    method = "POST" if "data" in request else "GET"
    answers = [http.request(method, server.url + "/sparql", **request) for server in (embedded, gateway)]
    assert 400 <= answers[0].status_code < 500, answers[0].text
    assert [(a.status_code, a.text) for a in answers[1:]] == [(answers[0].status_code, answers[0].text)]


# -- Publish to each engine's Graph Store, with its refusals ------------------------------------
# Last in the module: it writes to the engine (the same graphs, same content, plus two of its own).

TINY = """\
@prefix ex: <https://example.org/publish-test/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:graph-a { ex:alpha rdfs:label "alpha"@en , "alpha"@fr . ex:alpha ex:links ex:beta . }
ex:graph-b { ex:beta rdfs:label "bêta"@fr . ex:alpha ex:links ex:beta . }
"""


def test_publish_to_the_graph_store_and_its_refusals(http, engine: RunningEngine, tmp_path):
    """Virtuoso: a small release through /sparql-graph-crud-auth with digest authentication, and a wrong
    password refused in one line. Both: a query endpoint is not taken for a Graph Store."""
    (tmp_path / "tiny.trig").write_text(TINY, encoding="utf-8")
    tiny = build_release([tmp_path / "tiny.trig"], tmp_path / "release")
    runner = CliRunner()
    wrong = runner.invoke(main, ["publish", engine.query_url, "--store", str(tiny.path), "--timeout", "10"])
    assert wrong.exit_code == 2
    assert wrong.output.startswith(f"error: {engine.query_url} is not a SPARQL 1.1 Graph Store endpoint")
    if engine.name != "virtuoso":
        return
    crud = engine.query_url.replace("/sparql", "/sparql-graph-crud-auth")
    refused = runner.invoke(main, ["publish", crud, "--store", str(tiny.path), "--user", engine.user,
                                   "--password", "not-" + engine.password, "--auth", "digest"])
    assert refused.exit_code == 2
    assert refused.output.startswith(f"error: the Graph Store at {crud} refused the credentials (HTTP 401")
    published = runner.invoke(main, ["publish", crud, "--store", str(tiny.path), "--user", engine.user,
                                     "--password", engine.password, "--auth", "digest", "--default-graph", "none"])
    assert published.exit_code == 0, published.output
    query = ('SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } '
             'FILTER(STRSTARTS(STR(?g), "https://example.org/publish-test/")) } GROUP BY ?g ORDER BY ?g')
    response = http.post(engine.query_url, data={"query": query}, headers={"Accept": "text/csv"})
    assert _csv(response)[1:] == [["https://example.org/publish-test/graph-a", "3"],
                                  ["https://example.org/publish-test/graph-b", "2"]]


# -- An engine that is down, slow, or never there ---------------------------------------------------

class _Stalling:
    """A loopback HTTP listener that answers ASK (so the gateway starts), then, once ``stall`` is set,
    accepts every request and never answers it."""

    def __init__(self) -> None:
        self.stall = threading.Event()
        self.release = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                form = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if listener.stall.is_set():
                    listener.release.wait(60)
                    return
                body = b'{"head": {}, "boolean": true}' if b"ASK" in form else \
                    b'{"head": {"vars": ["g"]}, "results": {"bindings": []}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_an_engine_that_goes_down_gives_502_at_once(http, tmp_path):
    _require(OXIGRAPH)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(OXIGRAPH), "serve", "--bind", f"127.0.0.1:{port}"]  # in memory, empty
    with _process(command, tmp_path / "oxigraph.log", base + "/query") as oxigraph:
        gateway = Server("--backend", base + "/query", "--timeout", "20", "--no-cache")
        assert _select(http, gateway, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[1:] == [["0"]]
        oxigraph.terminate()
        oxigraph.wait(10)
    try:
        for path, params in (("/sparql", {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}),
                             ("/id/organisation/miprof", {})):
            started = time.monotonic()
            response = http.get(gateway.url + path, params=params)
            assert response.status_code == 502, response.text
            assert time.monotonic() - started < 5
        assert http.get(gateway.url + "/health").status_code == 200
    finally:
        gateway.stop()


def test_an_engine_that_never_answers_gives_504_after_the_timeout(http):
    listener = _Stalling()
    gateway = Server("--backend", listener.url, "--timeout", "2", "--no-cache")
    try:
        listener.stall.set()
        started = time.monotonic()
        response = http.get(gateway.url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 2"})
        elapsed = time.monotonic() - started
        assert response.status_code == 504, response.text
        assert 2 <= elapsed < 6
        assert http.get(gateway.url + "/health").status_code == 200
    finally:
        gateway.stop()
        listener.close()


def test_serve_with_an_engine_on_a_closed_port_exits_2_in_one_line():
    url = f"http://127.0.0.1:{free_port()}/sparql"
    done = subprocess.run([sys.executable, "-m", "thbkg.cli", "serve", "--port", str(free_port()), "--backend", url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and url in errors[0], done.stderr
    assert "Traceback" not in done.stderr
