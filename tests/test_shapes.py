"""SHACL: the bundled data conforms; each invalid fixture fails on exactly its shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from conftest import FIXTURES, ROOT
from thbkg.graph import load_dataset
from thbkg.namespaces import THBSH
from thbkg.validate import validate_dataset

INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
SHAPES = Graph().parse(ROOT / "ontology" / "shapes.ttl", format="turtle")
CONSTRAINT_SHAPES = sorted(
    {s for s in SHAPES.subjects(RDF.type, SH.NodeShape)} | {s for s in SHAPES.subjects(RDF.type, SH.PropertyShape)}
    | {s for s in SHAPES.objects(None, SH.property)}, key=str)


def test_bundled_data_conforms(validation):
    assert validation.violations == [], validation.to_text()[:5000]
    assert validation.conforms


def test_shapes_are_named_and_explained():
    for shape in CONSTRAINT_SHAPES:
        assert isinstance(shape, URIRef) and shape.startswith(str(THBSH)), f"anonymous or foreign shape {shape}"
    for constraint in set(SHAPES.objects(None, SH.sparql)):
        assert isinstance(constraint, URIRef), "SPARQL constraints are named nodes"
    explained = [s for s in CONSTRAINT_SHAPES if any(m.language == "en" for m in SHAPES.objects(s, SH.message))]
    has_constraints = [s for s in CONSTRAINT_SHAPES if (s, SH.path, None) in SHAPES or (s, SH.sparql, None) in SHAPES]
    assert set(has_constraints) <= set(explained) | {s for s in has_constraints if
                                                     all((c, SH.message, None) in SHAPES
                                                         for c in SHAPES.objects(s, SH.sparql))}


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_fails_on_exactly_its_shape(fixture: Path):
    result = validate_dataset(load_dataset([fixture]))
    assert not result.conforms
    shapes = {f.shape for f in result.violations}
    assert shapes == {THBSH[fixture.stem]}, result.to_text()


def test_every_violation_shape_with_a_constraint_has_a_fixture():
    stems = {p.stem for p in INVALID}
    constrained = {str(s).removeprefix(str(THBSH)) for s in CONSTRAINT_SHAPES
                   if (s, SH.path, None) in SHAPES or (s, SH.sparql, None) in SHAPES}
    assert constrained - stems == set()
