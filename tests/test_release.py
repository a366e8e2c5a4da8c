"""`thbkg build` and `thbkg serve` over releases: built once, reused, rebuilt when a source changes,
never left half-written; a user's own RDF served; folders that are not releases refused."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import ROOT, Server
from thbkg.build.release import CURRENT, Release
from thbkg.cli import main

MIPROF = "https://w3id.org/thbkg/id/organisation/miprof"
LABEL = f'SELECT ?label WHERE {{ <{MIPROF}> <http://www.w3.org/2000/01/rdf-schema#label> ?label FILTER(LANG(?label) = "en") }}'
OWN_DATA = """@prefix ex: <http://example.org/> .
ex:alice ex:knows ex:bob .
ex:bob ex:name "Bob" .
"""


def _copy_bundle(target: Path) -> Path:
    for folder in ("ontology", "data", "queries"):
        shutil.copytree(ROOT / folder, target / folder)
    return target


def _label(url: str) -> str:
    rows = httpx.get(url + "/sparql", params={"query": LABEL}).json()["results"]["bindings"]
    return rows[0]["label"]["value"]


def test_a_users_own_rdf_is_built_and_served(tmp_path):
    source = tmp_path / "own.ttl"
    source.write_text(OWN_DATA, encoding="utf-8")
    out = tmp_path / "release"
    result = CliRunner().invoke(main, ["build", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 quads" not in result.output  # triples of a .ttl go to the default graph, counted as triples
    release = Release.open(out)
    assert release.manifest["counts"]["triples"] >= 2
    running = Server("--store", str(out), "--workers", "1")
    try:
        rows = httpx.get(running.url + "/sparql", params={
            "query": "SELECT ?who WHERE { ?who <http://example.org/knows> ?x }"}).json()["results"]["bindings"]
        assert [row["who"]["value"] for row in rows] == ["http://example.org/alice"]
    finally:
        running.stop()


def test_blank_nodes_of_a_named_graph_are_the_same_nodes_in_the_default_graph(tmp_path):
    # The build merges the named graphs into the default graph; a blank node must stay one node, so a
    # pattern that starts in a named graph and goes on in the default graph still joins.
    source = tmp_path / "own.trig"
    source.write_text("""@prefix ex: <http://example.org/> .
ex:g { ex:alice ex:address _:place . _:place ex:city "Lyon" . }
""", encoding="utf-8")
    out = tmp_path / "release"
    result = CliRunner().invoke(main, ["build", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    store = ox.Store.read_only(str(Release.open(out).store))
    rows = list(store.query("""PREFIX ex: <http://example.org/>
        SELECT ?city WHERE { GRAPH ex:g { ex:alice ex:address ?place } ?place ex:city ?city }"""))
    assert [row["city"].value for row in rows] == ["Lyon"]
    ours = [q for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())
            if q.predicate.value.startswith("http://example.org/")]
    assert len(ours) == 2  # each triple once


def test_folders_that_are_not_releases_are_refused_in_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    for store in (tmp_path, tmp_path / "notes.txt", tmp_path / "missing"):
        result = CliRunner().invoke(main, ["serve", "--store", str(store), "--port", "1"])
        assert result.exit_code == 2, result.output
        error = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert len(error) == 1 and "Traceback" not in result.output, result.output
    built = CliRunner().invoke(main, ["build", str(ROOT / "ontology" / "thb.ttl"), "--out", str(tmp_path)])
    assert built.exit_code == 2 and "not empty and not a release" in built.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # nothing was changed


def test_the_bundled_release_is_built_once_and_rebuilt_when_a_source_changes(tmp_path):
    home = _copy_bundle(tmp_path / "home")
    env = {"THBKG_HOME": str(home), "THBKG_RELEASE": str(tmp_path / "release")}
    versions = []
    for start in ("first", "second"):
        running = Server("--workers", "1", env=env)
        try:
            assert _label(running.url).startswith("Interministerial Mission")
        finally:
            running.stop()
        versions.append(os.readlink(tmp_path / "release" / CURRENT))
        log = "".join(running.log)
        assert "serving http://127.0.0.1:" in log and "validating" in log, log
    assert versions[0] == versions[1], "the second start rebuilt the release"
    organisations = home / "data" / "organisations.trig"
    text = organisations.read_text(encoding="utf-8")
    old = '"Interministerial Mission for the Protection of Women'
    assert old in text
    organisations.write_text(text.replace(old, '"Renamed Mission for the Protection of Women', 1), encoding="utf-8")
    running = Server("--workers", "1", env=env)
    try:
        assert "sources changed: rebuilding" in "".join(running.log)
        assert _label(running.url).startswith("Renamed Mission")
        page = httpx.get(running.url + "/id/organisation/miprof", headers={"Accept": "text/html"}).text
        assert "<h1>Renamed Mission" in page
        found = httpx.get(running.url + "/api/graph/search", params={"q": "renamed mission"}).json()["results"]
        assert found and found[0]["iri"] == MIPROF
    finally:
        running.stop()


STAGES = ("loading", "writing dumps/thbkg.trig", "validating", "merging", "counting", "writing the ontology")


def test_a_build_killed_at_any_stage_leaves_the_previous_release_current(tmp_path):
    """kill -9 at each stage of a build of a large graph: the last complete release stays current and
    serves, and the next build (or serve) says what happened and clears the leftovers."""
    out = tmp_path / "release"
    first = CliRunner().invoke(main, ["build", "--out", str(out)])
    assert first.exit_code == 0, first.output
    current = os.readlink(out / CURRENT)
    big = tmp_path / "big.nt"
    with big.open("w", encoding="utf-8") as handle:
        for number in range(300_000):
            handle.write(f'<http://example.org/s{number}> <http://example.org/p> "value {number}" .\n')
    for stage in STAGES:
        build = subprocess.Popen([sys.executable, "-m", "thbkg.cli", "build", str(big), "--out", str(out)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seen = []
        for line in build.stderr:  # the build says each step as it starts it
            seen.append(line)
            if line.startswith(stage):
                build.send_signal(signal.SIGKILL)
                break
        build.wait()
        assert build.returncode == -signal.SIGKILL, f"the build ended before {stage!r}: {seen}"
        assert os.readlink(out / CURRENT) == current, stage
        assert Release.open(out).path.name == current
    assert list(out.glob(".part-*")), "the killed builds left nothing to clear: the test kills nothing"
    again = subprocess.run([sys.executable, "-m", "thbkg.cli", "build", "--out", str(out)], capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "interrupted" in again.stderr and "removed" in again.stderr
    assert not list(out.glob(".part-*")), "the killed builds' folders were not cleared"

def test_a_build_past_its_timeout_gives_up_and_writes_nothing(tmp_path):
    big = tmp_path / "big.nt"
    with big.open("w", encoding="utf-8") as handle:
        for number in range(300_000):
            handle.write(f'<http://example.org/s{number}> <http://example.org/p> "value {number}" .\n')
    out = tmp_path / "release"
    done = subprocess.run([sys.executable, "-m", "thbkg.cli", "build", str(big), "--out", str(out), "--timeout", "1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "gave up after 1 s" in done.stderr and "Traceback" not in done.stderr
    assert not (out / CURRENT).exists() and not list(out.glob(".part-*"))


def _file_size_cap(limit: int):
    """A child whose writes past ``limit`` bytes per file fail (EFBIG), as writes fail on a full disk."""
    import resource

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("limit", [300_000, 12_000_000])
def test_a_build_whose_writes_fail_leaves_the_previous_release_current(tmp_path, limit):
    out = tmp_path / "release"
    assert CliRunner().invoke(main, ["build", "--out", str(out)]).exit_code == 0
    current = os.readlink(out / CURRENT)
    big = tmp_path / "big.nt"
    with big.open("w", encoding="utf-8") as handle:
        for number in range(300_000):
            handle.write(f'<http://example.org/s{number}> <http://example.org/p> "value {number}" .\n')
    done = subprocess.run([sys.executable, "-m", "thbkg.cli", "build", str(big), "--out", str(out)],
                          capture_output=True, text=True, timeout=300, preexec_fn=_file_size_cap(limit))
    assert done.returncode == 2 and "cannot write the release" in done.stderr and "Traceback" not in done.stderr
    assert os.readlink(out / CURRENT) == current and Release.open(out).path.name == current
    assert not list(out.glob(".part-*"))
