"""A journalist's way to sourced answers, clicked through in Debian's chromium with every host but
127.0.0.1 unreachable: from the home page, without typing SPARQL, to the conventions France has
ratified (with their dates and the titles of the sources that state them) and to the 2021 victim
figures (with who states each); and the search box, which must put MIPROF first for its short name.

The rows a page must show are the competency questions' expected CSVs (checked against the fact
sheet by test_data.py), so the pages are held to the same facts as the questions.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from browsing import ARTIFACTS, ours, requested_urls, severe_console_errors
from conftest import ROOT, Server, expected_rows
from thbkg.queries import find_query

CONVENTIONS = find_query("cq-01-france-party-instruments", ROOT / "queries")
FIGURES = find_query("cq-13-statistical-observations", ROOT / "queries")
MIPROF = "/id/organisation/miprof"


@pytest.fixture(scope="module")
def server():
    running = Server("--workers", "2", "--timeout", "10")
    yield running
    running.stop()



def shown_rows(browser) -> list[dict[str, str]]:
    """The answer table of a question page: one dict per row, keyed by the column headings."""
    headings = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "main table thead th")]
    return [dict(zip(headings, (cell.text for cell in row.find_elements(By.TAG_NAME, "td")), strict=True))
            for row in browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")]


def open_home(browser, server) -> WebDriverWait:
    wait = WebDriverWait(browser, 30)
    requested_urls(browser)  # drop what the browser did before this test
    severe_console_errors(browser)
    browser.get(server.url + "/")
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "form.search input[name=q]")))
    return wait


def follow(browser, wait, link_text: str) -> None:
    """Click the home page's link whose text starts with ``link_text`` and wait for the table."""
    browser.find_element(By.PARTIAL_LINK_TEXT, link_text).click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "main table tbody tr"))


def stayed_offline(browser, server) -> None:
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [url for url in requested_urls(browser) + loaded if not ours(url, server.url)] == []
    assert severe_console_errors(browser) == []
    assert "urn:x-rdflib" not in browser.page_source


def test_from_the_home_page_to_the_conventions_with_dates_and_sources(server, browser):
    wait = open_home(browser, server)
    follow(browser, wait, "Which conventions has France ratified")
    assert browser.current_url.startswith(server.url + "/questions/" + CONVENTIONS.name)
    assert browser.find_element(By.TAG_NAME, "h1").text == CONVENTIONS.question

    shown = {(row["Instrument"], row["Ratified on"], row["In force for France on"], row["Source"])
             for row in shown_rows(browser)}
    expected = {(row["instrumentLabel"], row["ratifiedOn"], row["inForceForFranceOn"], row["sourceTitle"])
                for row in expected_rows(CONVENTIONS)}
    assert shown == expected
    assert all(title for *_, title in shown), "every row names its source by title"
    untoc = [row for row in shown if row[0] == "United Nations Convention against Transnational Organized Crime"]
    assert untoc and {row[1] for row in untoc} == {"2002-10-29"}  # the date whole, not cut

    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "journalist-conventions.png"))
    stayed_offline(browser, server)

    # Each source's title is a link to the source's own page, which names it by the same title.
    first = expected_rows(CONVENTIONS)[0]
    link = browser.find_element(By.LINK_TEXT, first["sourceTitle"])
    assert link.get_attribute("href") == server.url + first["source"].removeprefix("https://w3id.org/thbkg")
    link.click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == first["sourceTitle"])
    stayed_offline(browser, server)


def test_from_the_home_page_to_the_2021_victim_figures_and_who_states_each(server, browser):
    wait = open_home(browser, server)
    follow(browser, wait, "How many victims of trafficking were counted in France in 2021")
    rows = shown_rows(browser)
    assert rows and {row["Reference year"] for row in rows} == {"2021"}
    shown = {(row["Indicator"], row["Value"], row["Reported by"], row["Source"]) for row in rows}
    expected = {(row["indicator"], row["value"], row["reportedBy"], row["sourceTitle"])
                for row in expected_rows(FIGURES) if row["referenceYear"] == "2021"}
    assert shown == expected
    # Each figure names the source that states it; an official figure also its reporting body, and one
    # without (the unofficial text's own figures) is a claim of that text, marked with its status.
    assert all(title for *_, title in shown), "each figure says who states it"
    assert {row["Claim status"] for row in rows if not row["Reported by"]} == {"Contradicted"}
    # The page says it shows a part, and offers the whole.
    assert "Only the rows where Reference year is “2021”" in browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_element(By.LINK_TEXT, "Show every row")
    # A contested figure is marked as such, with its status.
    contested = browser.find_elements(By.CSS_SELECTOR, "main table tbody tr.contested .status")
    statuses = {row["claimStatus"] for row in expected_rows(FIGURES)
                if row["referenceYear"] == "2021" and row["claimStatus"]}
    assert {cell.text for cell in contested} == statuses
    marked = browser.execute_script(
        "return [...document.querySelectorAll('main table tbody tr')].map(r => getComputedStyle(r).backgroundColor)")
    highlighted = {colour for colour, row in zip(marked, rows, strict=True) if row["Claim status"]}
    plain = {colour for colour, row in zip(marked, rows, strict=True) if not row["Claim status"]}
    assert len(highlighted) == 1 and not highlighted & plain, "every contested row in one colour of its own"
    browser.save_screenshot(str(ARTIFACTS / "journalist-2021-figures.png"))
    stayed_offline(browser, server)


@pytest.mark.parametrize("typed", ["MIPROF", "miprof"])
def test_the_search_box_puts_miprof_first(server, browser, typed):
    wait = open_home(browser, server)
    box = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    box.send_keys(typed, Keys.ENTER)
    results = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "ol.results li a"))
    assert results[0].get_attribute("href") == server.url + MIPROF
    assert "MIPROF" in results[0].find_element(By.XPATH, "..").text
    browser.save_screenshot(str(ARTIFACTS / f"journalist-search-{typed}.png"))
    results[0].click()
    wait.until(lambda d: d.current_url == server.url + MIPROF)
    assert "Interministerial" in browser.find_element(By.TAG_NAME, "h1").text
    stayed_offline(browser, server)
