"""The data files: house style, identifiers, provenance, and the seed-001 advert kept out."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import OWL, RDF

from conftest import FIXTURES, ROOT, SOURCES
from thbkg.namespaces import GRAPH, PREFIXES, SRC

RDF_FILES = sorted([*ROOT.glob("ontology/**/*.ttl"), *ROOT.glob("data/*.trig")])
QUERY_FILES = sorted(ROOT.glob("queries/**/*.rq"))
ADVERT = ["votestart", "anderwood", "chip in now", "2976 washington", "94115", "political campaign",
          "every dollar helps"]
PREFIX_LINE = re.compile(r"^(?:@prefix|PREFIX)\s+([\w-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)


def declared_prefixes(text: str) -> list[tuple[str, str]]:
    return PREFIX_LINE.findall(text)


@pytest.mark.parametrize("path", RDF_FILES + QUERY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_prefixes_are_the_project_prefixes_sorted_and_used(path: Path):
    text = path.read_text(encoding="utf-8")
    prefixes = declared_prefixes(text)
    assert prefixes, "declares no prefixes"
    names = [name for name, _ in prefixes]
    assert names == sorted(names), "prefixes not in alphabetical order"
    for name, iri in prefixes:
        assert PREFIXES.get(name) == iri, f"{name}: is {iri}, PREFIXES has {PREFIXES.get(name)}"
    body = PREFIX_LINE.sub("", text)
    unused = [name for name in names if not re.search(rf"(?<![\w-]){re.escape(name)}:", body)]
    assert unused == []


@pytest.mark.parametrize("path", RDF_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_opens_with_a_banner(path: Path):
    assert path.read_text(encoding="utf-8").startswith("#")


def test_the_seed_001_advert_never_enters_the_graph(loaded):
    for path in [*RDF_FILES, *QUERY_FILES, *ROOT.glob("queries/**/*.csv")]:
        text = path.read_text(encoding="utf-8").lower()
        assert not [word for word in ADVERT if word in text], path
    literals = " ".join(str(o).lower() for o in loaded.dataset.objects() if isinstance(o, Literal))
    assert not [word for word in ADVERT if word in literals]


VERIFIED = FIXTURES / "verified-identifiers.csv"


def facts_sheet_identifiers(facts: Path) -> dict[str, str]:
    """IRI -> slug of its facts.md row, for identifiers the fact sheet marks VERIFIED."""
    verified = {}
    for line in facts.read_text(encoding="utf-8").splitlines():
        row = re.match(r"\|\s*`([a-z0-9-]+)`\s*\|", line)
        if not row:
            continue
        for qid in re.findall(r"\b(Q\d+)\s*—\s*VERIFIED", line):
            verified[f"http://www.wikidata.org/entity/{qid}"] = row.group(1)
        for iri in re.findall(r"`(http://dbpedia\.org/resource/[^`]+)`\s*—\s*VERIFIED", line):
            verified[iri] = row.group(1)
    return verified


def verified_identifiers() -> dict[str, str]:
    """The VERIFIED identifiers of the fact sheet, as committed beside the tests."""
    with VERIFIED.open(newline="", encoding="utf-8") as handle:
        return {row["identifier"]: row["slug"] for row in csv.DictReader(handle)}


@pytest.mark.skipif(not (SOURCES / "facts.md").exists(), reason="the shared fact sheet is not beside this checkout")
def test_committed_verified_identifiers_match_the_fact_sheet():
    assert verified_identifiers() == facts_sheet_identifiers(SOURCES / "facts.md")


def test_every_same_as_is_verified_in_the_fact_sheet_and_on_the_right_resource(loaded):
    verified = verified_identifiers()
    links = list(loaded.dataset.subject_objects(OWL.sameAs))
    assert len(links) >= 15
    for subject, target in links:
        assert str(target) in verified, f"{subject} owl:sameAs {target} is not VERIFIED in facts.md"
        assert str(subject).rsplit("/", 1)[-1] == verified[str(target)], (subject, target)


def test_every_named_data_graph_is_a_described_source(loaded):
    from thbkg.namespaces import THB
    sources = set(loaded.dataset.graph(GRAPH.sources).subjects(RDF.type, THB.Source))
    special = {GRAPH.ontology, GRAPH.vocabularies, GRAPH.sources}
    for graph in loaded.dataset.graphs():
        if graph.identifier in special or len(graph) == 0 or graph.identifier == loaded.dataset.default_graph.identifier:
            continue
        assert graph.identifier in sources, f"graph {graph.identifier} is not a source described in graph:sources"


def test_both_seeds_and_every_reference_are_sources(loaded):
    from thbkg.namespaces import THB
    sources = set(loaded.dataset.subjects(RDF.type, THB.Source))
    expected = {SRC["seed-000"], SRC["seed-001"]} | {SRC[f"r{n}"] for n in range(1, 120)}
    assert expected <= sources


def test_palermo_convention_is_one_resource(loaded):
    from rdflib.namespace import RDFS, SKOS
    from thbkg.namespaces import THB
    instruments = set(loaded.dataset.subjects(RDF.type, THB.Treaty)) | set(loaded.dataset.subjects(RDF.type, THB.Protocol))
    named = {s for prop in (RDFS.label, SKOS.altLabel) for s, o in loaded.dataset.subject_objects(prop)
             if s in instruments and "palermo convention" in str(o).lower()}
    assert named == {URIRef("https://w3id.org/thbkg/id/instrument/untoc")}


@pytest.mark.parametrize("fmt", ["trig", "nquads", "json-ld"])
def test_dataset_round_trips_through_each_dump_format(loaded, fmt):
    """Literals are written in canonical form, so rdflib's serializers cannot change a term."""
    from rdflib import Dataset, Graph
    from rdflib.compare import isomorphic

    copy = Dataset()
    copy.parse(data=loaded.dataset.serialize(format=fmt, encoding="utf-8"), format=fmt)
    for graph in loaded.dataset.graphs():
        if len(graph):
            original, parsed = Graph(), Graph()
            for triple in graph:
                original.add(triple)
            for triple in copy.graph(graph.identifier):
                parsed.add(triple)
            assert isomorphic(original, parsed), graph.identifier
