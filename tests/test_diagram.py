"""The class diagrams: drawn from the ontology as committed, valid SVG, at /ontology, `thbkg diagram`."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph

from conftest import ROOT, Server
from thbkg.cli import main
from thbkg.namespaces import PREFIXES, THB
from thbkg.ontology_diagram import VIEWS, diagram_source

DOCS = ROOT / "docs"
SVG = "{http://www.w3.org/2000/svg}"
PREFIX_LINES = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ROOT / "ontology" / "thb.ttl", format="turtle")


@pytest.fixture(scope="module")
def server():
    running = Server()
    yield running
    running.stop()


def parse_svg(data: str | bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    return root


def texts(svg: ET.Element) -> set[str]:
    return {"".join(t.itertext()) for t in svg.iter(f"{SVG}text")}


def ids(svg: ET.Element) -> set[str]:
    return {element.get("id") for element in svg.iter() if element.get("id")}


def local(iri: object) -> str:
    return str(iri).rsplit("#", 1)[-1]


def select(ontology: Graph, variables: str, where: str) -> list[tuple]:
    query = f"{PREFIX_LINES}SELECT DISTINCT {variables} WHERE {{ {where} }}"
    return sorted(tuple(row) for row in ontology.query(query))


CLASSES = ('?cls a owl:Class ; rdfs:label ?label FILTER(LANG(?label) = "en") '
           'FILTER(STRSTARTS(STR(?cls), STR(thb:)))')
# A property's domains and ranges, union members included, as the relations diagram should draw them.
ENDS = ("?prop a owl:ObjectProperty ; rdfs:label ?label FILTER(LANG(?label) = 'en') "
        "FILTER(STRSTARTS(STR(?prop), STR(thb:))) "
        "?prop rdfs:{end}|schema:{end}Includes|rdfs:{end}/owl:unionOf/rdf:rest*/rdf:first ?{end} "
        "FILTER(isIRI(?{end}))")


@pytest.mark.parametrize("view", list(VIEWS))
def test_committed_dot_is_what_the_ontology_gives(ontology, view):
    committed = (DOCS / f"class-diagram-{view}.dot").read_text(encoding="utf-8")
    assert committed == diagram_source(ontology, view), (
        f"docs/class-diagram-{view}.dot is out of date with ontology/thb.ttl: run `make diagram`")


@pytest.mark.parametrize("view", list(VIEWS))
def test_committed_svg_is_drawn_from_the_committed_dot(view):
    svg = parse_svg((DOCS / f"class-diagram-{view}.svg").read_bytes())
    dot = (DOCS / f"class-diagram-{view}.dot").read_text(encoding="utf-8")
    drawn = {element_id for element_id in ids(svg) if element_id.startswith(f"{view}-")}
    declared = set(re.findall(rf'id="({view}-[^"]+)"', dot))
    assert drawn == declared, "docs/class-diagram-*.svg is older than its .dot: run `make diagram`"


def test_hierarchy_shows_every_class_and_every_subclass_link(ontology):
    svg = parse_svg((DOCS / "class-diagram-hierarchy.svg").read_bytes())
    classes = select(ontology, "?cls ?label", CLASSES)
    assert len(classes) > 50
    missing = [str(label) for _, label in classes if str(label) not in texts(svg)]
    assert not missing, f"class labels missing from the hierarchy diagram: {missing}"
    links = select(ontology, "?sub ?super", "?sub rdfs:subClassOf ?super FILTER(STRSTARTS(STR(?sub), "
                   "STR(thb:)) && STRSTARTS(STR(?super), STR(thb:)))")
    assert links
    for sub, sup in links:
        assert f"hierarchy-{local(sub)}-subclass-of-{local(sup)}" in ids(svg), (sub, sup)


def test_relations_link_every_domain_to_every_range_and_only_those(ontology):
    svg = parse_svg((DOCS / "class-diagram-relations.svg").read_bytes())
    domains = select(ontology, "?prop ?label ?domain", ENDS.format(end="domain"))
    ranges = select(ontology, "?prop ?label ?range", ENDS.format(end="range"))
    drawn = {prop for prop, _, _ in domains} & {prop for prop, _, _ in ranges}
    assert len(drawn) > 40
    for prop, label, domain in domains:
        if prop in drawn:
            assert str(label) in texts(svg), label
            assert any(i.startswith(f"relations-{local(prop)}-from-") and i.endswith(local(domain))
                       for i in ids(svg)), (prop, domain)
    for prop, _, target in ranges:
        if prop in drawn:
            assert any(i.startswith(f"relations-{local(prop)}-to-") and i.endswith(local(target))
                       for i in ids(svg)), (prop, target)
    # A property without a declared domain or range applies to anything: named in the caption, never drawn.
    everything = select(ontology, "?prop", "?prop a owl:ObjectProperty "
                        "FILTER(STRSTARTS(STR(?prop), STR(thb:)))")
    undrawn = [prop for prop, in everything if prop not in drawn]
    assert undrawn
    assert not [prop for prop in undrawn if f"relations-{local(prop)}" in ids(svg)]


def test_ontology_page_embeds_both_diagrams_inline(client):
    response = client.get("/ontology", headers={"Accept": "text/html"})
    assert response.status_code == 200
    page = response.text
    assert 'id="diagrams"' in page and 'href="#diagrams"' in page
    section = page[page.index('id="diagrams"'):page.index('id="classes"')]
    figures = re.findall(r"<svg\b.*?</svg>", section, re.DOTALL)
    assert len(figures) == len(VIEWS)
    for view, figure in zip(VIEWS, figures, strict=True):
        committed = parse_svg((DOCS / f"class-diagram-{view}.svg").read_bytes())
        assert texts(parse_svg(figure)) == texts(committed)
    # Selecting a class or a property goes to its description on the same page.
    assert f'xlink:href="{THB}' not in section
    targets = set(re.findall(r'xlink:href="#([^"]+)"', section))
    assert len(targets) > 100
    nowhere = [target for target in targets if f'id="{target}"' not in page]
    assert not nowhere, f"diagram links to sections the page lacks: {nowhere}"


def test_cli_draws_svg_with_graphviz(tmp_path):
    output = tmp_path / "relations.svg"
    result = CliRunner().invoke(main, ["diagram", "--view", "relations", "-o", str(output)])
    assert result.exit_code == 0, result.output
    svg = parse_svg(output.read_bytes())
    assert {"Organisation", "Legal Instrument", "established by"} <= texts(svg)


def test_cli_writes_the_dot_source_that_is_committed():
    result = CliRunner().invoke(main, ["diagram", "--format", "dot"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (DOCS / "class-diagram-hierarchy.dot").read_text(encoding="utf-8")


def test_cli_without_graphviz_exits_2_and_says_what_to_install(tmp_path: Path):
    output = tmp_path / "diagram.svg"
    result = CliRunner().invoke(main, ["diagram", "-o", str(output)], env={"PATH": str(tmp_path)})
    assert result.exit_code == 2
    assert "install graphviz" in result.stderr and "Traceback" not in result.output
    assert not output.exists()
