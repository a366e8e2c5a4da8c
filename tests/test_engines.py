"""The competency questions give their expected rows on real remote engines (Oxigraph's server and
Virtuoso), asked over the SPARQL 1.1 Protocol, and each engine sees the graphs as docs/engines.md says."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import httpx
import pytest

from conftest import ROOT
from engines import RunningEngine, oxigraph_server, virtuoso_server
from thbkg.graph import LoadedDataset
from thbkg.queries import NamedQuery, load_queries

QUERIES = load_queries(ROOT / "queries")
ENGINES = {"oxigraph": oxigraph_server, "virtuoso": virtuoso_server}


@pytest.fixture(scope="module")
def quads(loaded: LoadedDataset, tmp_path_factory) -> Path:
    """The bundled graph as N-Quads, every named graph kept (what `thbkg export --format nq` writes)."""
    path = tmp_path_factory.mktemp("quads") / "thbkg.nq"
    path.write_bytes(loaded.dataset.serialize(format="nquads", encoding="utf-8"))
    return path


@pytest.fixture(scope="module", params=sorted(ENGINES))
def engine(request, quads: Path, tmp_path_factory) -> RunningEngine:
    with ENGINES[request.param](quads, tmp_path_factory.mktemp(request.param)) as running:
        yield running


@pytest.fixture(scope="module")
def http(engine: RunningEngine):
    with httpx.Client(timeout=60) as client:
        yield client


def select(http: httpx.Client, engine: RunningEngine, query: str) -> list[list[str]]:
    """A SELECT sent as a POST form, answered as SPARQL CSV: rows of strings, header first."""
    response = http.post(engine.query_url, data={"query": query}, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_competency_question_gives_its_expected_rows(http, engine: RunningEngine, query: NamedQuery):
    with query.expected.open(newline="", encoding="utf-8") as handle:
        expected = list(csv.reader(handle))
    assert select(http, engine, query.text) == expected


def test_json_results_keep_language_tags(http, engine: RunningEngine):
    query = ('SELECT ?label WHERE { <https://w3id.org/thbkg/id/organisation/miprof> '
             '<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label')
    response = http.post(engine.query_url, data={"query": query},
                         headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text[:500]
    languages = {binding["label"].get("xml:lang") for binding in response.json()["results"]["bindings"]}
    assert languages == {"en", "fr"}


def test_every_quad_is_in_its_named_graph(http, engine: RunningEngine, loaded: LoadedDataset):
    """`GRAPH ?g` sees our named graphs as loaded, quad for quad (engines may hold graphs of their own)."""
    graphs = Counter(str(graph.identifier) for graph in loaded.dataset.graphs() if len(graph))
    rows = select(http, engine, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    held = {g: int(n) for g, n in rows[1:]}
    assert {g: held.get(g) for g in graphs} == {g: len(loaded.dataset.graph(g)) for g in graphs}


def test_default_graph_as_documented(http, engine: RunningEngine, loaded: LoadedDataset):
    """A triple stated by several sources: Oxigraph's default graph (the merge we load) holds it once;
    Virtuoso's (the bag of all its graphs) once per source. Portable queries must not care."""
    counts = Counter((s, p, o) for s, p, o, _ in loaded.dataset.quads((None, None, None, None)))
    (s, p, o), sources = counts.most_common(1)[0]
    assert sources > 1
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ {s.n3()} {p.n3()} {o.n3()} }}"
    expected = {"oxigraph": 1, "virtuoso": sources}[engine.name]
    assert select(http, engine, query)[1:] == [[str(expected)]]
