"""The query page in a real browser (Debian's chromium), with every host but loopback unreachable.

Never skipped: ``browsing.py`` says how the browser is set up.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from browsing import ARTIFACTS, ours, requested_urls, severe_console_errors
from conftest import ROOT, Server, expected_rows
from thbkg.endpoint.ui import tab_name
from thbkg.queries import load_queries

QUERIES = load_queries(ROOT / "queries")
UNTOC = "United Nations Convention against Transnational Organized Crime"
UNTOC_IRI = "https://w3id.org/thbkg/id/instrument/untoc"


@pytest.fixture(scope="module")
def server():
    running = Server("--workers", "2", "--timeout", "10")
    yield running
    running.stop()



def test_query_page_runs_a_competency_question_offline(server, browser):
    wait = WebDriverWait(browser, 30)
    requested_urls(browser)  # drop what the browser did before this test
    browser.get(server.url + "/editor")

    tabs = wait.until(lambda d: len(found := d.find_elements(By.CSS_SELECTOR, ".yasgui .tabsList .tab a[role=tab]"))
                      == len(QUERIES) and found)
    names = [tab.find_element(By.TAG_NAME, "span").text for tab in tabs]
    assert names == [tab_name(query.question) for query in QUERIES]
    assert [tab.get_attribute("title") for tab in tabs] == [query.question for query in QUERIES]
    first = QUERIES[0]
    editor = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".tabPanel.active .CodeMirror")))
    assert first.question in editor.text

    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".tabPanel.active .yasqe_queryButton"))).click()
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".tabPanel.active .yasr_results table tbody tr")
                      or False)
    expected = expected_rows(first)
    assert len(rows) == len(expected)
    cells = [cell.text for row in rows for cell in row.find_elements(By.TAG_NAME, "td")]
    assert any(UNTOC == cell.strip() for cell in cells), cells

    ARTIFACTS.mkdir(exist_ok=True)
    browser.set_window_size(1400, 1400)
    browser.save_screenshot(str(ARTIFACTS / "ui.png"))

    assert severe_console_errors(browser) == []

    # Our IRIs in the results open on this server, not on w3id.org (unreachable offline).
    browser.find_element(By.CSS_SELECTOR, f".yasr_results a[href='{UNTOC_IRI}']").click()
    wait.until(lambda d: len(d.window_handles) == 2)
    results_window = browser.current_window_handle
    browser.switch_to.window(next(h for h in browser.window_handles if h != results_window))
    wait.until(lambda d: UNTOC in d.title)
    assert browser.current_url == server.url + "/id/instrument/untoc"
    browser.close()
    browser.switch_to.window(results_window)

    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    urls = requested_urls(browser)
    assert server.url + "/static/yasgui/yasgui.min.js" in loaded
    assert server.url + "/sparql" in urls
    assert [url for url in urls + loaded if not ours(url, server.url)] == []


def test_our_prefixes_are_offered_in_a_new_tab(server, browser):
    wait = WebDriverWait(browser, 30)
    requested_urls(browser)  # drop what the browser did before this test
    browser.get(server.url + "/editor")
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".yasgui .tabsList .addTab"))).click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".yasgui .tabsList .tab")) == len(QUERIES) + 1)
    endpoint = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".tabPanel.active .autocomplete")))
    assert endpoint.get_attribute("value") == server.url + "/sparql"
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".tabPanel.active .CodeMirror"))).click()
    typing = browser.switch_to.active_element
    typing.send_keys(Keys.CONTROL, "a")
    typing.send_keys(Keys.DELETE)
    typing.send_keys("PREFIX thbs")
    hints = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".CodeMirror-hints")))
    assert "thbsh: <https://w3id.org/thbkg/shapes#>" in hints.text
    urls = requested_urls(browser)
    assert urls and [url for url in urls if not ours(url, server.url)] == []


def test_other_hosts_really_are_unreachable(browser, server):
    # The control: from this browser, a request to any other host fails.
    browser.get(server.url + "/health")
    outcome = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch('https://example.org/', {mode: 'no-cors'}).then(() => done('reached'), e => done('failed: ' + e));")
    assert outcome.startswith("failed")


def test_ontology_documentation_works_offline(server, browser):
    """The pyLODE page with its class diagrams, drawn from our server alone."""
    wait = WebDriverWait(browser, 30)
    requested_urls(browser)  # drop what the browser did and logged before this test
    severe_console_errors(browser)
    browser.get(server.url + "/ontology")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "svg"))
    text = browser.find_element(By.TAG_NAME, "body").text
    for label in ("National Action Plan", "Ratification", "Claim"):
        assert label in text, label
    diagrams = browser.execute_script(
        "return [...document.querySelectorAll('svg')].map(s => s.getBoundingClientRect().width)"
        ".filter(w => w > 300).length")
    assert diagrams >= 2
    assert severe_console_errors(browser) == []
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [url for url in requested_urls(browser) + loaded if not ours(url, server.url)] == []
    browser.save_screenshot(str(ARTIFACTS / "ontology.png"))


def test_api_documentation_works_offline(server, browser):
    """Swagger UI draws the OpenAPI with its scripts from our server (fastapi-offline)."""
    wait = WebDriverWait(browser, 30)
    requested_urls(browser)
    severe_console_errors(browser)
    browser.get(server.url + "/docs")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"))
    assert "/sparql" in browser.find_element(By.TAG_NAME, "body").text
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [url for url in requested_urls(browser) + loaded if not ours(url, server.url)] == []
    assert severe_console_errors(browser) == []
