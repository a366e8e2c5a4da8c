"""The build's batched SHACL validation over the store gives the whole-graph report, exactly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph
from rdflib.namespace import SH

from conftest import FIXTURES
from thbkg.build.sources import load_into_store, plan_sources, read_sources
from thbkg.build.validation import shadow_quad, validate_store
from thbkg.graph import load_dataset
from thbkg.validate import ValidationResult, validate_dataset

INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))


def _shadow(paths: list[Path] | None) -> ox.Store:
    store, shadow = ox.Store(), ox.Store()
    for _ in load_into_store(store, read_sources(plan_sources(paths)), shadow=(shadow, shadow_quad)):
        pass
    return shadow


def _results(result: ValidationResult, blank_shapes_alike: bool = False) -> Counter:
    """What each result says: focus (blank nodes alike), path, value, shape, severity, message. Another
    process reads the shapes again, so their blank nodes (property shapes, paths) get other labels
    there: ``blank_shapes_alike`` compares those as alike too."""
    def alike(node):
        return None if isinstance(node, BNode) else node

    same = alike if blank_shapes_alike else (lambda node: node)
    return Counter((alike(f.focus), same(f.path), f.value, same(f.shape), f.severity, f.message)
                   for f in result.findings)


def test_batches_of_the_bundled_graph_give_the_whole_graph_report(loaded, validation):
    batched = validate_store(_shadow(None), batch_size=40)
    assert batched.conforms == validation.conforms
    assert _results(batched) == _results(validation)


def test_typed_literals_keep_their_datatype_in_the_shadow_store():
    quad = ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"),
                   ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#positiveInteger")))
    store = ox.Store()
    store.add(shadow_quad(quad))
    (stored,) = list(store)
    assert stored.object.value == "3" and stored.object.datatype.value.endswith("#positiveInteger")


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_batches_of_an_invalid_fixture_give_its_whole_report(fixture: Path):
    batched = validate_store(_shadow([fixture]), batch_size=3)
    whole = validate_dataset(load_dataset([fixture]))
    assert not batched.conforms
    assert _results(batched) == _results(whole)


def test_batches_of_a_contradicted_claim_give_its_whole_report(tmp_path):
    from test_validation_engines import contradicted_claim

    path = contradicted_claim(tmp_path)
    batched = validate_store(_shadow([path]), batch_size=3)
    whole = validate_dataset(load_dataset([path]))
    assert _results(batched) == _results(whole)
    assert any("contradicted" in f.message for f in whole.findings)


def test_batches_validated_side_by_side_give_the_whole_graph_report(tmp_path, validation):
    """A store on disk is validated by two processes reading it read-only; the report is the same."""
    store, shadow = ox.Store(), ox.Store(str(tmp_path / "shadow"))
    for _ in load_into_store(store, read_sources(plan_sources(None)), shadow=(shadow, shadow_quad)):
        pass
    shadow.flush()
    del shadow
    report = tmp_path / "report.nt"
    batched = validate_store(tmp_path / "shadow", batch_size=40, processes=2, report_path=report)
    assert batched.conforms == validation.conforms
    assert _results(batched, blank_shapes_alike=True) == _results(validation, blank_shapes_alike=True)
    assert report.read_bytes().count(b"ValidationResult") == len(validation.findings)
    written = Graph().parse(report, format="nt")
    alternatives = [len(list(written.objects(path, SH.alternativePath)))
                    for path in set(written.objects(None, SH.resultPath)) if isinstance(path, BNode)]
    assert alternatives and set(alternatives) == {1}, "each path of the shapes is written once per result"
