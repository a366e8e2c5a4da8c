"""The timeline and the charts: exported by the CLI (SVG, PNG), served as pages and images, in a browser."""

from __future__ import annotations

import csv
import re
import struct
import xml.etree.ElementTree as ET
from collections import Counter
from html import escape, unescape

import pytest
from click.testing import CliRunner
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from browsing import ARTIFACTS, ours, requested_urls, severe_console_errors
from conftest import ROOT, Server
from thbkg.cli import main
from thbkg.namespaces import BASE
from thbkg.pictures import PICTURES
from thbkg.pictures.canvas import format_value, slug
from thbkg.queries import run_query

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
(TIMELINE_QUERY,) = PICTURES["timeline"]
CONTESTED_QUERY, OBSERVATIONS_QUERY = PICTURES["charts"]
# France's ratification of the Council of Europe Convention on Action against Trafficking in Human
# Beings, found by the convention's CETS number rather than by a label typed here.
CETS_197_RATIFICATION = """
PREFIX country: <https://w3id.org/thbkg/id/country/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX thb: <https://w3id.org/thbkg/ontology#>
SELECT ?action ?label ?date WHERE {
  ?convention thb:cetsNumber ?cets .
  FILTER(STR(?cets) = "197")
  ?action a thb:Ratification ; thb:actor country:france ; thb:instrument ?convention ; thb:date ?date ;
    rdfs:label ?label .
  FILTER(LANGMATCHES(LANG(?label), "en"))
}"""


def expected_rows(name: str) -> list[dict[str, str]]:
    with (ROOT / "queries" / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def texts(element: ET.Element) -> list[str]:
    """Every text element's text under ``element``, one string per element."""
    return ["".join(node.itertext()) for node in element.iter(f"{SVG}text")]


def links(element: ET.Element) -> set[str]:
    return {node.get(XLINK_HREF) or node.get("href") for node in element.iter(f"{SVG}a")}


KEY = re.compile(r"\[\d+\]")


def linked_texts(root: ET.Element) -> list[tuple[str, str]]:
    """(href, text) of every text element inside a link."""
    return [(node.get(XLINK_HREF) or node.get("href"), text)
            for node in root.iter(f"{SVG}a") for text in texts(node)]


def picture_sources(name: str) -> dict[str, str]:
    """Every source IRI the expected rows of the picture's queries name, with its title."""
    found = {}
    for query in PICTURES[name]:
        for row in expected_rows(query):
            for column, value in row.items():
                if column + "Title" in row and value:
                    found[value] = row[column + "Title"]
    return found


def group(root: ET.Element, gid: str) -> ET.Element:
    found = [node for node in root.iter(f"{SVG}g") if node.get("id") == gid]
    assert len(found) == 1, gid
    return found[0]


@pytest.fixture(scope="module")
def cets_197(loaded) -> dict[str, str]:
    (row,) = run_query(loaded.dataset, CETS_197_RATIFICATION)
    return {"action": str(row.action), "label": str(row.label), "date": str(row.date)}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, bytes]:
    """Each picture exported by the CLI: SVG twice (to compare the runs) and PNG once."""
    folder = tmp_path_factory.mktemp("pictures")
    runner = CliRunner()
    files = {}
    for name in PICTURES:
        for target in (f"{name}.svg", f"{name}-again.svg", f"{name}.png"):
            result = runner.invoke(main, ["export", "--format", name, "-o", str(folder / target)])
            assert result.exit_code == 0, result.output
            files[target] = (folder / target).read_bytes()
    return files


# -- The CLI -----

@pytest.mark.parametrize("name", PICTURES)
def test_svg_export_is_valid_deterministic_and_links_to_its_queries(exported, name):
    svg = exported[f"{name}.svg"]
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert svg == exported[f"{name}-again.svg"], "two runs must give the same bytes"
    caption_text = " ".join(texts(root))
    for query in PICTURES[name]:
        assert f"Query: {query} — " in caption_text
        assert f"{BASE}id/query/{query}" in links(root)


@pytest.mark.parametrize("name", PICTURES)
def test_png_export_is_a_png_of_a_readable_size(exported, name):
    png = exported[f"{name}.png"]
    assert png.startswith(PNG_SIGNATURE) and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 1200 and height >= 1000, (width, height)


def test_image_format_can_be_given_explicitly(tmp_path):
    result = CliRunner().invoke(main, ["export", "--format", "timeline", "--image-format", "png"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("arguments, message", [
    (["export", "--format", "charts", "-o", "{tmp}/charts.pdf"],
     "cannot tell the image format from 'charts.pdf'"),
    (["export", "--format", "timeline", "--query", str(ROOT / "queries" / "cq-14-timeline.rq")], "--query"),
    (["export", "--format", "ttl", "--image-format", "svg"], "--image-format is for timeline and charts"),
], ids=["unknown-extension", "query-with-picture", "image-format-with-rdf"])
def test_bad_picture_requests_exit_2_with_a_clear_message(tmp_path, arguments, message):
    arguments = [argument.replace("{tmp}", str(tmp_path)) for argument in arguments]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_timeline_draws_every_milestone_and_the_cets_197_ratification(exported, cets_197):
    root = ET.fromstring(exported["timeline.svg"])
    items = {row["item"] for row in expected_rows(TIMELINE_QUERY)}
    drawn = {href for href in links(root)
             if href.startswith(BASE + "id/") and "/id/query/" not in href and "/id/source/" not in href}
    assert drawn == items
    labels = [text for text in texts(root) if cets_197["label"] in text]
    assert labels == [f"{cets_197['date']}  {cets_197['label']}"]


def test_charts_put_each_contested_figure_beside_the_official_ones(exported):
    root = ET.fromstring(exported["charts.svg"])
    for row in expected_rows(CONTESTED_QUERY):
        blocks = [node for node in root.iter(f"{SVG}g")
                  if (node.get("id") or "").startswith(f"contested-{slug(row['claimed'])}")]
        shown = " ".join(text for block in blocks for text in texts(block))
        assert format_value(row["claimedValue"], row["claimedUnit"]) in shown
        assert format_value(row["officialValue"], row["officialUnit"]) in shown
        keys = {text for block in blocks for href, text in linked_texts(block) if KEY.fullmatch(text)
                and href == row["officialSource"]}
        assert len(keys) == 1, "the official figure is followed by its source's key, a link to the source"
    victims = texts(group(root, "contested-seed-001-2021-victims"))
    assert any(text.startswith("2,418") and "Contradicted" in text for text in victims)
    assert any(text.startswith("1,811") for text in victims)


@pytest.mark.parametrize("name", PICTURES)
def test_svg_legend_lists_every_source_by_title_with_a_link_to_it(exported, name):
    root = ET.fromstring(exported[f"{name}.svg"])
    sources = picture_sources(name)
    assert sources and all(sources.values())
    by_link: dict[str, list[str]] = {}
    for href, text in linked_texts(root):
        by_link.setdefault(href, []).append(text)
    for iri, title in sources.items():
        assert iri.startswith(BASE + "id/source/")
        shown = [text for text in by_link.get(iri, []) if not KEY.fullmatch(text)]
        assert title in " ".join(shown), (iri, title, shown)
    keyed = {href for href, text in linked_texts(root) if KEY.fullmatch(text)}
    assert keyed == set(sources), "every key links to a source of the picture, every source has one"


def test_timeline_follows_each_milestone_with_the_keys_of_its_sources(exported):
    """A key per milestone and source, plus the source's legend entry: one more key than items it dates."""
    root = ET.fromstring(exported["timeline.svg"])
    rows = expected_rows(TIMELINE_QUERY)
    dated = Counter(source for _, source in {(row["item"], row["source"]) for row in rows})
    keys = Counter(href for href, text in linked_texts(root) if KEY.fullmatch(text))
    assert keys == Counter({source: count + 1 for source, count in dated.items()})


@pytest.mark.parametrize("name", PICTURES)
def test_no_source_is_named_by_its_slug(exported, name):
    """A source is shown by its key or its title, never by the end of its IRI ("source r81")."""
    shown = texts(ET.fromstring(exported[f"{name}.svg"]))
    for iri in picture_sources(name):
        word = re.compile(rf"(?<![\w-]){re.escape(slug(iri))}(?![\w-])")
        assert [text for text in shown if word.search(text)] == [], iri


def test_charts_show_every_observation(exported):
    root = ET.fromstring(exported["charts.svg"])
    observations = {row["observation"] for row in expected_rows(OBSERVATIONS_QUERY)}
    assert observations <= links(root)


# -- The server -----

@pytest.fixture(scope="module")
def server():
    running = Server("--workers", "2", "--timeout", "30")
    yield running
    running.stop()


def inline_svg(page: str) -> ET.Element:
    return ET.fromstring(page[page.index("<svg"):page.index("</svg>") + len("</svg>")])


def test_timeline_page_shows_the_cets_197_ratification(client, cets_197):
    response = client.get("/timeline")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    local = "/" + cets_197["action"].removeprefix(BASE)
    drawn = inline_svg(page)
    assert f"{cets_197['date']}  {cets_197['label']}" in texts(drawn)
    assert local in links(drawn)
    label = re.escape(escape(cets_197["label"]))
    row = re.search(rf'<tr>\s*<td class="nowrap">{re.escape(cets_197["date"])}</td><td>ratification</td>'
                    rf'<td><a href="{local}" title="[^"]*">{label}</a></td><td><a href="/id/source/', page)
    assert row, "the ratification is a row of the table under the picture, with its source"
    assert f'href="/questions/{TIMELINE_QUERY}"' in page and f'href="/editor?tab={TIMELINE_QUERY}"' in page


def test_query_page_the_picture_links_to_exists(client):
    response = client.get(f"/id/query/{TIMELINE_QUERY}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "What are the dated milestones of France" in response.text


def test_charts_page_shows_the_contested_figure_next_to_the_official_ones(client):
    response = client.get("/charts")
    assert response.status_code == 200
    victims = texts(group(inline_svg(response.text), "contested-seed-001-2021-victims"))
    assert any(text.startswith("2,418") for text in victims)
    assert any(text.startswith("1,811") for text in victims)
    for query in PICTURES["charts"]:
        assert f'href="/questions/{query}"' in response.text
        assert f'<section id="rows-{query}">' in response.text


@pytest.mark.parametrize("name", PICTURES)
def test_page_and_svg_name_every_source_by_title_linking_to_its_page(client, name):
    page = client.get(f"/{name}").text
    svg = ET.fromstring(client.get(f"/{name}.svg").content)
    listed = page[page.index('<section id="sources">'):]
    listed = unescape(listed[:listed.index("</section>")])
    svg_links = {href for href, text in linked_texts(svg) if KEY.fullmatch(text)}
    for iri, title in picture_sources(name).items():
        local = "/" + iri.removeprefix(BASE)
        assert f'<a href="{local}" title="{iri}">{title}</a>' in listed, title
        assert local in svg_links and local in links(inline_svg(page))
        response = client.get(local, headers={"Accept": "text/html"})
        assert response.status_code == 200 and title in unescape(response.text), local


@pytest.mark.parametrize("path, media_type", [
    ("/timeline.svg", "image/svg+xml"), ("/timeline.png", "image/png"),
    ("/charts.svg", "image/svg+xml"), ("/charts.png", "image/png"),
])
def test_images_have_their_media_types(client, path, media_type):
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"] == media_type
    if media_type == "image/png":
        assert response.content.startswith(PNG_SIGNATURE)
    else:
        root = ET.fromstring(response.content)
        assert f"/id/query/{PICTURES[path[1:].split('.')[0]][0]}" in links(root)


def test_query_editor_links_to_the_pictures(client):
    page = client.get("/").text
    assert 'href="/timeline"' in page and 'href="/charts"' in page


# -- In a browser -----

def test_timeline_and_charts_in_a_browser_offline(server, browser, cets_197):
    wait = WebDriverWait(browser, 60)
    requested_urls(browser)  # drop what the browser did before this test
    ARTIFACTS.mkdir(exist_ok=True)
    browser.set_window_size(1600, 1700)
    browser.get(server.url + "/timeline")
    ratification = wait.until(ec.visibility_of_element_located(
        (By.XPATH, f"//*[local-name()='text'][contains(., \"{cets_197['label']}\")]")))
    assert ratification.text.startswith(cets_197["date"])
    caption = browser.find_element(By.CSS_SELECTOR, f"figcaption a[href='/questions/{TIMELINE_QUERY}']")
    assert caption.is_displayed()
    browser.save_screenshot(str(ARTIFACTS / "timeline.png"))

    browser.get(server.url + "/charts")
    contested = wait.until(ec.visibility_of_element_located(
        (By.XPATH, "//*[local-name()='g'][@id='contested-seed-001-2021-victims']//*[local-name()='text']"
                   "[starts-with(., '2,418')]")))
    assert "Contradicted" in contested.text
    browser.save_screenshot(str(ARTIFACTS / "charts.png"))
    assert severe_console_errors(browser) == []

    # The caption's query link opens the question's page; "run it" opens the editor on that question.
    browser.get(server.url + "/timeline")
    query_link = (By.CSS_SELECTOR, f"figcaption a[href='/questions/{TIMELINE_QUERY}']")
    wait.until(ec.element_to_be_clickable(query_link)).click()
    wait.until(lambda d: d.current_url == f"{server.url}/questions/{TIMELINE_QUERY}")
    browser.get(f"{server.url}/editor?tab={TIMELINE_QUERY}")
    editor = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".tabPanel.active .CodeMirror")))
    assert "What are the dated milestones of France" in editor.text

    urls = requested_urls(browser)
    assert server.url + "/timeline" in urls and server.url + "/charts" in urls
    assert [url for url in urls if not ours(url, server.url)] == []
