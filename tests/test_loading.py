"""Loading: named graphs, clear errors on broken files, and hostile files refused safely."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef

from conftest import FIXTURES
from thbkg.graph import LoadError, default_paths, load_dataset
from thbkg.namespaces import GRAPH


def test_bundled_files_load_into_named_graphs(loaded):
    names = {g.identifier for g in loaded.dataset.graphs()}
    assert GRAPH.ontology in names and GRAPH.vocabularies in names and GRAPH.sources in names
    assert len(loaded.dataset) > 1000
    assert all(p.exists() for p in default_paths())


def test_no_data_triple_sits_outside_a_named_graph(loaded):
    assert len(loaded.dataset.default_graph) == 0


def test_turtle_syntax_error_gives_file_line_and_reason():
    path = FIXTURES / "broken" / "unterminated-string.ttl"
    with pytest.raises(LoadError) as caught:
        load_dataset([path])
    assert caught.value.path == path
    assert caught.value.line == 6
    assert "string" in caught.value.message and "line 6" in str(caught.value)


def test_missing_file_and_unknown_format_are_clear(tmp_path):
    with pytest.raises(LoadError, match="cannot read file"):
        load_dataset([tmp_path / "absent.ttl"])
    odd = tmp_path / "data.docx"
    odd.write_text("x")
    with pytest.raises(LoadError, match="unknown RDF format"):
        load_dataset([odd])


@pytest.mark.parametrize("name", ["xxe.rdf", "billion-laughs.rdf"])
def test_rdfxml_entities_are_refused(name):
    with pytest.raises(LoadError, match="declares a DTD or entities"):
        load_dataset([FIXTURES / "hostile" / name])


def test_jsonld_remote_context_is_never_fetched(tmp_path, canary):
    hostile = tmp_path / "remote-context.jsonld"
    hostile.write_text('{"@context": "%s/context.jsonld", "@id": "https://example.org/a", "name": "x"}' % canary.url)
    with pytest.raises(LoadError, match="refused to fetch"):
        load_dataset([hostile])
    assert canary.requests == []


def test_jsonld_file_context_is_never_read():
    with pytest.raises(LoadError, match="refused to open /etc/hostname"):
        load_dataset([FIXTURES / "hostile" / "file-context.jsonld"])


def test_owl_imports_are_not_followed(canary, tmp_path):
    hostile = tmp_path / "imports.ttl"
    hostile.write_text((FIXTURES / "hostile" / "imports.ttl").read_text().replace("http://127.0.0.1:9", canary.url))
    loaded = load_dataset([hostile])
    assert len(loaded.dataset) == 3
    assert canary.requests == []


@pytest.mark.parametrize("suffix,text", [
    (".ttl", "@prefix ex: <http://e/> .\nex:a ex:b " + "[ ex:c " * 100_000 + "ex:d" + " ]" * 100_000 + " .\n"),
    (".ttl", "@prefix ex: <http://e/> .\nex:a ex:b " + "( " * 100_000 + ")" * 100_000 + " .\n"),
    (".jsonld", '{"@id": "http://e/a", "http://e/b": ' + '{"http://e/c": ' * 100_000 + '"x"' + "}" * 100_001),
], ids=["nested-blank-nodes", "nested-lists", "nested-json"])
def test_deeply_nested_input_is_refused(tmp_path, suffix, text):
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    with pytest.raises(LoadError, match="nested too deeply"):
        load_dataset([path])


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.nt"
    path.write_text("<http://e/a> <http://e/b> <http://e/c> .\n" * 1000)
    with pytest.raises(LoadError, match="over the 1,000-byte limit"):
        load_dataset([path], max_bytes=1000)


def test_files_of_each_subject_are_recorded(loaded):
    files = loaded.files_of[URIRef("https://w3id.org/thbkg/id/country/france")]
    assert any(p.name == "geography.trig" for p in files)


def _padded_bomb(path: Path, padding: int = 200_000) -> Path:
    """An entity bomb whose DOCTYPE comes after ``padding`` bytes of comment (a guard reading only the
    first bytes of a file lets it through)."""
    path.write_text('<?xml version="1.0"?>\n<!--' + "x" * padding + "-->\n"
                    '<!DOCTYPE r [ <!ENTITY a "aaaaaaaaaa"> '
                    + " ".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
                    + ' ]>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                      'xmlns:ex="http://example.org/"><rdf:Description rdf:about="http://example.org/s">'
                      "<ex:p>&i;</ex:p></rdf:Description></rdf:RDF>\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("reader", ["rdflib", "build"])
def test_an_entity_bomb_behind_200_kb_of_comment_is_refused(tmp_path, reader):
    from thbkg.build.sources import plan_sources, read_sources

    bomb = _padded_bomb(tmp_path / "padded.rdf")
    with pytest.raises(LoadError, match="declares a DTD or entities") as refused:
        if reader == "rdflib":  # thbkg validate, export --data
            load_dataset([bomb])
        else:  # thbkg build, pyoxigraph's parser
            list(read_sources(plan_sources([bomb])))
    assert refused.value.line == 3  # where the DOCTYPE is


def test_thbkg_build_and_validate_refuse_the_padded_bomb(tmp_path):
    import subprocess
    import sys

    bomb = _padded_bomb(tmp_path / "padded.rdf")
    for command in (["validate", str(bomb)], ["build", str(bomb), "--out", str(tmp_path / "release")]):
        done = subprocess.run([sys.executable, "-m", "thbkg.cli", *command], capture_output=True, text=True,
                              timeout=60)  # refused at once, not after minutes of expansion
        assert done.returncode == 2 and "declares a DTD or entities" in done.stderr + done.stdout, done
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "release" / "current").exists()
