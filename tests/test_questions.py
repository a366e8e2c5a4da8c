"""The way in without SPARQL, over HTTP: the home page, each question's page, its downloads, paging, cuts."""

from __future__ import annotations

import csv
import io
import re

import pytest

from conftest import Server
from thbkg.queries import load_queries

QUESTIONS = load_queries()
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def server():
    running = Server("--workers", "2")
    yield running
    running.stop()


def _expected_rows(query) -> list[list[str]]:
    with query.expected.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def test_the_home_page_lists_every_question_by_theme_with_a_search_box(client):
    home = client.get("/", headers=HTML)
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert '<form class="search" action="/search"' in home.text
    for query in QUESTIONS:
        assert f'href="/questions/{query.name}"' in home.text, query.name
    for theme in {query.theme for query in QUESTIONS}:
        assert f"<h3>{theme.replace(chr(39), '&#39;')}</h3>" in home.text, theme
    for link in ("/timeline", "/charts", "/graph", "/editor"):
        assert f'href="{link}"' in home.text


def test_every_link_of_the_home_page_answers(client):
    home = client.get("/", headers=HTML).text
    for href in sorted(set(re.findall(r'href="(/[^"#]*)"', home))):
        assert client.get(href.replace("&amp;", "&"), headers=HTML).status_code == 200, href


@pytest.mark.parametrize("query", QUESTIONS, ids=lambda q: q.name)
def test_each_question_page_shows_its_whole_answer(client, query):
    answer = client.get(f"/questions/{query.name}", headers=HTML)
    assert answer.status_code == 200
    text = answer.text
    assert "urn:x-rdflib" not in text
    rows = _expected_rows(query)
    shown = len(rows) if len(rows) <= 100 else 100
    assert text.count("<tr") - 1 == shown  # the heading row, then the page's rows
    assert f"{len(rows)} row" in text
    assert f'href="/editor?tab={query.name}"' in text
    # every IRI of ours is a link to its page, labelled (never the bare IRI as text)
    assert ">https://w3id.org/thbkg/" not in text


@pytest.mark.parametrize("query", QUESTIONS, ids=lambda q: q.name)
def test_each_question_downloads_as_its_expected_csv(client, query):
    answer = client.get(f"/questions/{query.name}.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert f'filename="{query.name}.csv"' in answer.headers["content-disposition"]
    assert list(csv.reader(io.StringIO(answer.text)))[1:] == _expected_rows(query)


def test_a_question_downloads_as_sparql_json(client):
    answer = client.get("/questions/cq-01-france-party-instruments.json")
    assert answer.headers["content-type"].startswith("application/sparql-results+json")
    assert answer.json()["head"]["vars"][0] == "instrument"


def test_dates_are_shown_whole_and_instruments_by_label(client):
    text = client.get("/questions/cq-01-france-party-instruments", headers=HTML).text
    assert '<td class="nowrap">2002-10-29</td>' in text
    assert ">United Nations Convention against Transnational Organized Crime</a>" in text


def test_a_page_filters_its_rows_by_a_column_value(client):
    text = client.get("/questions/cq-13-statistical-observations?referenceYear=2021", headers=HTML).text
    assert "Only the rows where Reference year is “2021”" in text
    assert "1811" in text and "2014</td>" not in text
    assert 'title="https://w3id.org/thbkg/id/source/r83"' in text  # who says so: the source, by title


def test_contested_rows_are_marked_with_their_status(client):
    text = client.get("/questions/cq-12-contested-statistics", headers=HTML).text
    assert '<tr class="contested">' in text and '<span class="status">Contradicted</span>' in text


def test_a_large_answer_is_paged(client):
    query = "cq-30-facts-per-source"
    total = len(_expected_rows(next(q for q in QUESTIONS if q.name == query)))
    assert total > 100
    first = client.get(f"/questions/{query}", headers=HTML).text
    assert "page 1 of 2" in first and 'rel="next"' in first
    second = client.get(f"/questions/{query}?page=2", headers=HTML).text
    assert second.count("<tr") - 1 == total - 100 and 'rel="prev"' in second
    assert f"rows 101–{total} shown" in second


@pytest.mark.parametrize("path", ["/questions/cq-99-nothing", "/questions/cq-01-france-party-instruments.xlsx"])
def test_an_unknown_question_is_a_404_page(client, path):
    answer = client.get(path, headers=HTML)
    assert answer.status_code == 404 and "/questions" in answer.text


def test_the_question_list_is_json_by_accept(client):
    listed = client.get("/questions", headers={"Accept": "application/json"}).json()
    assert [item["name"] for item in listed] == [q.name for q in QUESTIONS]


def test_a_cut_answer_says_so_on_the_page_and_in_the_csv():
    server = Server("--workers", "1", "--max-rows", "10")
    try:
        import httpx

        with httpx.Client(base_url=server.url, timeout=60) as http:
            page = http.get("/questions/cq-13-statistical-observations", headers=HTML).text
            assert "This answer was cut at 10 rows" in page
            download = http.get("/questions/cq-13-statistical-observations.csv")
            assert download.headers["x-thbkg-truncated"].startswith("true")
            lines = download.text.splitlines()
            assert len(lines) == 12 and lines[-1].startswith("# cut: this answer holds only the first 10 rows")
            whole = http.get("/questions/cq-07-plan-succession.csv")
            assert "x-thbkg-truncated" not in whole.headers and "# cut" not in whole.text
    finally:
        server.stop()
