"""The `thbkg` command on real files: exit codes 0/1/2 and the key lines of its output."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, ROOT
from thbkg.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_bundled_graph_exits_0(runner):
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert "conforms" in result.output


@pytest.fixture
def broken_copy(tmp_path):
    """A copy of the graph with an impossible date and a negative budget."""
    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    projects = tmp_path / "data" / "projects.trig"
    text = projects.read_text()
    text, budgets = re.subn(r'schema:value "?(\d+(?:\.\d+)?)"?(\^\^xsd:decimal)?', r'schema:value "-\1"^^xsd:decimal',
                            text, count=1)
    text, dates = re.subn(r'"\d{4}-\d{2}-\d{2}"\^\^xsd:date', '"2021-13-45"^^xsd:date', text, count=1)
    assert budgets == 1 and dates == 1
    projects.write_text(text)
    return tmp_path


def test_validate_broken_copy_exits_1_with_a_readable_report(runner, broken_copy):
    result = runner.invoke(main, ["validate", str(broken_copy / "ontology" / "thb.ttl"), str(broken_copy / "data")])
    assert result.exit_code == 1, result.output
    assert "2021-13-45" in result.output
    assert '"-' in result.output
    assert "projects.trig" in result.output
    assert "Violation" in result.output


def test_validate_json_report_lists_each_result(runner, broken_copy):
    result = runner.invoke(main, ["validate", "--format", "json", str(broken_copy / "data")])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["conforms"] is False and report["violations"] >= 2
    assert {"resource", "property", "value", "message", "files"} <= set(report["results"][0])


def test_validate_turtle_report_is_a_shacl_report(runner, broken_copy):
    result = runner.invoke(main, ["validate", "--format", "turtle", str(broken_copy / "data")])
    assert result.exit_code == 1
    assert "sh:ValidationReport" in result.output


def test_validate_broken_turtle_exits_2_with_file_and_line(runner):
    path = FIXTURES / "broken" / "unterminated-string.ttl"
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:6" in result.output
    assert "Traceback" not in result.output


def test_validate_hostile_file_exits_2(runner):
    result = runner.invoke(main, ["validate", str(FIXTURES / "hostile" / "xxe.rdf")])
    assert result.exit_code == 2
    assert "declares a DTD or entities" in result.output


def test_query_by_name_prints_a_table(runner):
    result = runner.invoke(main, ["query", "cq-01"])
    assert result.exit_code == 0, result.output
    assert "row(s)" in result.output


@pytest.mark.parametrize("fmt,marker", [("csv", ","), ("json", '"bindings"')])
def test_query_formats(runner, fmt, marker):
    result = runner.invoke(main, ["query", "cq-01", "--format", fmt])
    assert result.exit_code == 0 and marker in result.output


def test_query_list_and_unknown_name(runner):
    listed = runner.invoke(main, ["query", "--list"])
    assert listed.exit_code == 0 and "cq-01" in listed.output
    unknown = runner.invoke(main, ["query", "no-such-query"])
    assert unknown.exit_code == 2 and "no query file or name" in unknown.output


def test_query_syntax_error_exits_2(runner, tmp_path):
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?x WHERE { ?x ?y }")
    result = runner.invoke(main, ["query", str(bad)])
    assert result.exit_code == 2 and "SPARQL syntax error at line 1, column 26" in result.output
    assert "[_]" not in result.output


def test_validate_an_impossible_date_reports_it_without_a_traceback(tmp_path):
    """rdflib logs an unparsable xsd:date with its traceback; the user gets the violation only."""
    bad = tmp_path / "bad-date.ttl"
    bad.write_text('@prefix thb: <https://w3id.org/thbkg/ontology#> .\n'
                   '@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n'
                   '<https://w3id.org/thbkg/id/event/x> a thb:Event ; thb:startDate "2021-13-45"^^xsd:date .\n')
    done = subprocess.run([sys.executable, "-m", "thbkg.cli", "validate", str(bad)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr and "Failed to convert" not in done.stderr
    assert "2021-13-45" in done.stdout and "must be a real date" in done.stdout


def test_query_takes_text_or_standard_input(runner):
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    given = runner.invoke(main, ["query", text, "--format", "csv"])
    assert given.exit_code == 0 and given.output.splitlines()[0] == "n" and int(given.output.splitlines()[1]) > 5000
    piped = runner.invoke(main, ["query", "-", "--format", "csv"], input=text)
    assert piped.exit_code == 0 and piped.output == given.output
    empty = runner.invoke(main, ["query", "-"], input="")
    assert empty.exit_code == 2 and "standard input holds no query" in empty.output


NEW_FACT = """@prefix thb: <https://w3id.org/thbkg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/thbkg/graph/source/r9> {
<https://w3id.org/thbkg/id/event/new-meeting> a thb:Meeting ; rdfs:label "A meeting"@en, "Une réunion"@fr ;
  thb:startDate "2024-05-02"^^xsd:date ; prov:wasDerivedFrom <https://w3id.org/thbkg/id/source/r9> .
}
"""


def test_validate_a_new_file_with_the_bundled_graph_as_context_or_alone(runner, tmp_path):
    """A new fact citing a bundled source conforms beside the bundled graph; alone, the source is
    missing. Only the new file's resources are reported, each finding once."""
    new = tmp_path / "new.trig"
    new.write_text(NEW_FACT, encoding="utf-8")
    beside = runner.invoke(main, ["validate", str(new), "--format", "json"])
    assert beside.exit_code == 0, beside.output
    assert json.loads(beside.output)["results"] == []
    alone = runner.invoke(main, ["validate", "--alone", str(new), "--format", "json"])
    assert alone.exit_code == 1
    results = json.loads(alone.output)["results"]
    assert {r["resource"] for r in results} == {"event:new-meeting"}
    assert len({(r["resource"], r["property"], r["message"]) for r in results}) == len(results)  # each once
    broken = tmp_path / "broken.trig"
    broken.write_text(NEW_FACT.replace('"2024-05-02"^^xsd:date', '"sometime"'), encoding="utf-8")
    report = runner.invoke(main, ["validate", str(broken)])
    assert report.exit_code == 1 and "event:new-meeting" in report.output and "thb:startDate" in report.output
    assert "src:r9" not in report.output.split("event:new-meeting")[0]  # no bundled resource reported
