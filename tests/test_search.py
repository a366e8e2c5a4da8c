"""The search over labels and short names, over HTTP: accents and case ignored, ranked, HTML or JSON."""

from __future__ import annotations

import pytest

from conftest import Server
from thbkg.search import letters_pattern, normalise

ID = "https://w3id.org/thbkg/id/"


@pytest.fixture(scope="module")
def server():
    running = Server("--workers", "2")
    yield running
    running.stop()


def _results(client, text: str) -> list[dict]:
    answer = client.get("/search", params={"q": text}, headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    return answer.json()["results"]


@pytest.mark.parametrize("text", ["MIPROF", "miprof", "Miprof", " MIPROF  "])
def test_miprof_finds_miprof_first(client, text):
    assert _results(client, text)[0]["iri"] == f"{ID}organisation/miprof"


@pytest.mark.parametrize(("text", "first"), [
    ("GRETA", "organisation/greta"),
    ("UNODC", "organisation/unodc"),
    ("Palermo Convention", "instrument/untoc"),
    ("coeur bleu", "campaign/blue-heart-campaign"),  # the ligature and the accent of "Cœur bleu"
])
def test_short_names_and_french_names_rank_first(client, text, first):
    assert _results(client, text)[0]["iri"] == ID + first


def test_palermo_finds_the_convention_among_the_first(client):
    assert f"{ID}instrument/untoc" in [hit["iri"] for hit in _results(client, "Palermo")[:3]]


def test_traite_finds_french_labels_about_trafficking(client):
    results = _results(client, "traite")
    assert len(results) >= 5
    assert all("traite" in normalise(hit["matched"]) for hit in results)
    assert any("traite des êtres humains" in hit["matched"] for hit in results[:10])


def test_every_word_must_match(client):
    for hit in _results(client, "blue heart unodc"):
        assert all(word in normalise(hit["matched"]) for word in ("blue", "heart", "unodc"))


def test_a_browser_gets_a_page_of_linked_results(client):
    page = client.get("/search", params={"q": "miprof"}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    first = page.text.index('<ol class="results">')
    assert page.text.index('href="/id/organisation/miprof"', first) < page.text.index("<li>", first + 30) + 200


def test_nothing_found_is_said(client):
    assert _results(client, "zzzqqqxx") == []
    page = client.get("/search", params={"q": "zzzqqqxx"}, headers={"Accept": "text/html"})
    assert "Nothing matches every word" in page.text


@pytest.mark.parametrize("text", ["", "   ", "x" * 101])
def test_an_empty_or_long_search_is_a_400_with_the_reason(client, text):
    answer = client.get("/search", params={"q": text}, headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]


def test_regular_expression_characters_are_searched_as_text(client):
    for text in ['.*', '(', '"', "\\", "a]b", "?x"]:
        answer = client.get("/search", params={"q": text}, headers={"Accept": "application/json"})
        assert answer.status_code == 200, text


def test_letters_pattern_spells_each_letter_with_its_accents():
    pattern = letters_pattern("Etre")
    assert pattern.startswith("[e") and "ê" in pattern and "É" in pattern
    assert "\\." in letters_pattern("a.b")
