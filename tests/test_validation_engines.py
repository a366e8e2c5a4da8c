"""pyshacl-turbo, the build's SHACL engine, reports what pySHACL (the reference) reports, result for result."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pyshacl import validate as pyshacl_validate
from pyshacl_turbo import validate as turbo_validate
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, SH

from conftest import FIXTURES
from thbkg.build.validation import value_predicates
from thbkg.graph import load_dataset
from thbkg.pyshacl_tuning import pyshacl_tuned
from thbkg.validate import ontology_graph, shapes_graph

INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))


def contradicted_claim(folder: Path) -> Path:
    """A claim marked contradicted that names nothing contradicting it: the one SPARQL constraint that
    neither the bundled graph nor an invalid fixture sets off (a warning, so no fixture of its own)."""
    text = (FIXTURES / "invalid" / "ClaimShape-statusNote.ttl").read_text(encoding="utf-8")
    path = folder / "contradicted-claim.ttl"
    path.write_text(text.replace("status:verified", "status:contradicted"), encoding="utf-8")
    return path
#: What a result says, each compared as a value (a blank node by what it holds: paths, value shapes).
SAID = (SH.focusNode, SH.resultPath, SH.value, SH.sourceShape, SH.sourceConstraintComponent, SH.sourceConstraint,
        SH.resultSeverity)


def _described(graphs: tuple[Graph, ...], node, depth: int = 0):
    """``node`` itself, or for a blank node what the first graph holding it says of it (recursively)."""
    if not isinstance(node, BNode) or depth > 8:
        return node
    for graph in graphs:
        if (node, None, None) in graph:
            return tuple(sorted((str(p), str(_described(graphs, o, depth + 1))) for p, o in graph.predicate_objects(node)))
    return "unknown blank node"


def _results(report: Graph, data: Graph, shacl: Graph) -> Counter:
    graphs = (report, shacl, data)
    return Counter((*(_described(graphs, report.value(result, said)) for said in SAID),
                    tuple(sorted(m.n3() for m in report.objects(result, SH.resultMessage))))
                   for result in report.subjects(RDF.type, SH.ValidationResult))


def _both(paths: list[Path] | None) -> tuple[tuple[bool, Counter], tuple[bool, Counter]]:
    data, shacl = load_dataset(paths).union_graph(), shapes_graph()
    options = dict(shacl_graph=shacl, ont_graph=ontology_graph(), inference="none", advanced=True,
                   allow_warnings=True, do_owl_imports=False, meta_shacl=False)
    with pyshacl_tuned():
        conforms, report, _ = pyshacl_validate(data, **options)
    turbo_conforms, turbo_report, _ = turbo_validate(data, **options)
    return (conforms, _results(report, data, shacl)), (turbo_conforms, _results(turbo_report, data, shacl))


def test_turbo_reports_the_bundled_graph_as_pyshacl_does():
    reference, turbo = _both(None)
    assert reference[1], "the bundled graph has warnings: the comparison compares something"
    assert turbo == reference


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_turbo_reports_an_invalid_fixture_as_pyshacl_does(fixture: Path):
    reference, turbo = _both([fixture])
    assert reference[0] is False
    assert turbo == reference


def test_turbo_reports_a_contradicted_claim_as_pyshacl_does(tmp_path):
    reference, turbo = _both([contradicted_claim(tmp_path)])
    assert turbo == reference


def test_the_graphs_compared_exercise_every_sparql_constraint(tmp_path):
    """Every SPARQL constraint of the shapes gives a result somewhere in the graphs compared above."""
    shacl = shapes_graph()
    constraints = set(shacl.objects(None, SH.sparql))
    seen = set()
    for fixture in [*INVALID, contradicted_claim(tmp_path)]:
        data = load_dataset([fixture]).union_graph()
        _, report, _ = turbo_validate(data, shacl_graph=shacl, ont_graph=ontology_graph(), inference="none",
                                      advanced=True, allow_warnings=True)
        seen |= set(report.objects(None, SH.sourceConstraint))
    assert constraints and constraints <= seen


def test_values_are_read_for_their_type_only_while_the_shapes_read_no_more():
    assert value_predicates(shapes_graph()) == {RDF.type}
    reading_a_value = shapes_graph() + Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:x:Shape> sh:targetClass <urn:x:C> ; sh:sparql [ sh:select "SELECT $this WHERE { $this <urn:x:p> ?v . ?v <urn:x:q> ?w }" ] .
        """, format="turtle")
    assert value_predicates(reading_a_value) is None
    nested = shapes_graph() + Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:x:Shape> sh:targetClass <urn:x:C> ; sh:property [ sh:path <urn:x:p> ; sh:node <urn:x:Inner> ] .
        <urn:x:Inner> sh:property [ sh:path <urn:x:q> ; sh:minCount 1 ] .
        """, format="turtle")
    assert value_predicates(nested) == {RDF.type, URIRef("urn:x:q")}
