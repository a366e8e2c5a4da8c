"""Competency questions give their expected rows; quality checks return nothing."""

from __future__ import annotations

import csv

import pytest
from rdflib.plugins.sparql import prepareQuery

from conftest import ROOT
from thbkg.queries import NamedQuery, load_queries, result_rows, run_query

QUERIES = load_queries(ROOT / "queries")
CHECKS = load_queries(ROOT / "queries" / "qc", "*-violation.rq")


def test_there_are_at_least_25_competency_questions_and_4_checks():
    assert len(QUERIES) >= 25
    assert len(CHECKS) >= 4


@pytest.mark.parametrize("query", QUERIES + CHECKS, ids=lambda q: q.name)
def test_query_opens_with_its_question_and_parses(query: NamedQuery):
    first = query.text.splitlines()[0]
    assert first.startswith("# ") and first.rstrip().endswith("?"), first
    prepareQuery(query.text)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_competency_question_returns_its_expected_rows(loaded, query: NamedQuery):
    assert query.expected is not None and query.expected.name == query.name + ".csv"
    with query.expected.open(newline="", encoding="utf-8") as handle:
        expected = list(csv.reader(handle))
    rows = result_rows(run_query(loaded.dataset, query.text))
    assert len(rows) > 1, "no rows"
    assert rows == expected


SOURCED = [query for query in QUERIES if "source" in query.text and query.expected
           and any(f"?{name}Title" in query.text for name in ("source", "claimedSource", "officialSource"))]


def test_the_timeline_question_names_its_sources():
    assert "cq-31-commitment-milestones" in {query.name for query in SOURCED}


@pytest.mark.parametrize("query", SOURCED, ids=lambda q: q.name)
def test_every_expected_row_names_a_catalogued_source_by_title(query: NamedQuery):
    """A column ``x`` of sources followed by ``xTitle``: each row has a source IRI and its title."""
    with query.expected.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    pairs = [(name, name + "Title") for name in rows[0] if name + "Title" in rows[0] and "ource" in name]
    assert pairs, query.name
    for row in rows:
        for iri, title in pairs:
            assert row[iri].startswith("https://w3id.org/thbkg/id/source/") and row[title].strip(), row


@pytest.mark.parametrize("query", CHECKS, ids=lambda q: q.name)
def test_quality_check_finds_nothing(loaded, query: NamedQuery):
    rows = result_rows(run_query(loaded.dataset, query.text))
    assert rows[1:] == []


@pytest.fixture(scope="module")
def oxigraph(release):
    from thbkg.backend.engine import Engine
    return Engine.open(release.store)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_competency_question_gives_the_same_rows_on_oxigraph(oxigraph, query: NamedQuery):
    """The endpoint evaluates with Oxigraph: it must agree with the expected rows too."""
    import io
    with query.expected.open(newline="", encoding="utf-8") as handle:
        expected = list(csv.reader(handle))
    answer = oxigraph.run(query.text, "text/csv")
    assert list(csv.reader(io.StringIO(answer.body.decode("utf-8")))) == expected
