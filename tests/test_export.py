"""`thbkg export` on the real graph: lossless dumps, and networks that graph tools read without repair."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pydot
import pytest
import xmlschema
from click.testing import CliRunner
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from conftest import FIXTURES
from thbkg.cli import main
from thbkg.export import (
    GRAPH_FORMATS,
    NETWORK_FORMATS,
    RDF_FORMATS,
    ExportError,
    build_network,
    export_graph,
    query_subgraph,
)
from thbkg.graph import network_forbidden
from thbkg.namespaces import GRAPH, SCHEMA, THB, bind_prefixes

SCHEMAS = FIXTURES / "schemas"
GRAPHML_NS = "{http://graphml.graphdrawing.org/xmlns}"
GEXF_NS = "{http://www.gexf.net/1.2draft}"

# MIPROF and everything one link away from it.
MIPROF_QUERY = """\
PREFIX body: <https://w3id.org/thbkg/id/organisation/>
CONSTRUCT { body:miprof ?p ?o . ?s ?q body:miprof . }
WHERE { { body:miprof ?p ?o } UNION { ?s ?q body:miprof } }
"""


@pytest.fixture(scope="module")
def network(loaded) -> nx.MultiDiGraph:
    return build_network(loaded.dataset)


@pytest.fixture(scope="module")
def exported(loaded) -> dict[str, bytes]:
    """Every format, written once from the bundled graph."""
    files = {}
    for fmt in (*RDF_FORMATS, *NETWORK_FORMATS):
        out = io.BytesIO()
        export_graph(loaded.dataset, fmt, out)
        files[fmt] = out.getvalue()
    return files


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


# -- RDF dumps ----------------------------------------------------------------------------------


def _named_graphs(dataset: Dataset) -> dict[URIRef, Graph]:
    return {g.identifier: g for g in dataset.graphs()
            if len(g) or g.identifier != DATASET_DEFAULT_GRAPH_ID}


@pytest.mark.parametrize("fmt", sorted(GRAPH_FORMATS))
def test_dump_with_named_graphs_round_trips(loaded, exported, fmt):
    back = Dataset()
    back.parse(data=exported[fmt], format=RDF_FORMATS[fmt])
    source, parsed = _named_graphs(loaded.dataset), _named_graphs(back)
    assert set(parsed) == set(source)
    assert GRAPH.ontology in parsed and URIRef("https://w3id.org/thbkg/id/source/seed-000") in parsed
    differing = [name for name in source if not isomorphic(source[name], parsed[name])]
    assert not differing


@pytest.mark.parametrize("fmt", ["ttl", "nt"])
def test_dump_without_named_graphs_is_the_union(loaded, exported, fmt):
    back = Graph().parse(data=exported[fmt], format=RDF_FORMATS[fmt])
    assert isomorphic(back, loaded.union_graph())


@pytest.mark.parametrize("fmt", sorted(RDF_FORMATS))
def test_dump_keeps_numbers_rdflib_would_rewrite(fmt):
    """rdflib's Turtle writer shortens "800000"^^xsd:decimal to 800000.0: a different literal."""
    from rdflib.namespace import XSD  # imported here: pytest's collection would probe it for mock attributes

    dataset = bind_prefixes(Dataset())
    amount = URIRef("https://w3id.org/thbkg/id/amount/test")
    graph = dataset.graph(URIRef("https://w3id.org/thbkg/id/source/test"))
    for value in (Literal("800000", datatype=XSD.decimal), Literal("800000.0", datatype=XSD.decimal),
                  Literal("1.5E2", datatype=XSD.double), Literal("1", datatype=XSD.boolean),
                  Literal("007", datatype=XSD.integer)):
        graph.add((amount, SCHEMA.value, value))
    out = io.BytesIO()
    export_graph(dataset, fmt, out)
    back = Dataset()
    back.parse(data=out.getvalue(), format=RDF_FORMATS[fmt])
    written = {o for _, _, o, _ in back.quads((amount, SCHEMA.value, None, None))}
    assert {(str(o), o.datatype) for o in written} == {(str(o), o.datatype) for o in graph.objects()}


# -- Networks -----------------------------------------------------------------------------------


def _graphml_schema() -> xmlschema.XMLSchema10:
    """GraphML 1.0 from local files only: its structure file by URL, xlink.xsd from xmlschema's own copy."""
    folder = SCHEMAS / "graphml-1.0"
    xlink = Path(xmlschema.__file__).parent / "schemas" / "XLINK" / "xlink.xsd"

    def local(uri: str) -> str:
        if uri == "http://graphml.graphdrawing.org/xmlns/1.0/graphml-structure.xsd":
            return str(folder / "graphml-structure.xsd")
        return str(xlink) if uri.endswith("/xlink.xsd") else uri

    return xmlschema.XMLSchema10(str(folder / "graphml.xsd"), uri_mapper=local, allow="local")


def _gexf_schema() -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(SCHEMAS / "gexf-1.2" / "gexf.xsd"), allow="local")


def _gexf_as_1_2(document: bytes) -> bytes:
    """The file in the namespace of the GEXF 1.2 schema.

    The files use ``http://www.gexf.net/1.2draft``, the namespace Gephi and networkx write for
    GEXF 1.2; the published 1.2 schema declares the same grammar under ``http://www.gexf.net/1.2``.
    """
    return document.replace(b"http://www.gexf.net/1.2draft", b"http://www.gexf.net/1.2")


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_network_file_is_valid_against_its_schema(exported, fmt):
    schema = _graphml_schema() if fmt == "graphml" else _gexf_schema()
    document = exported[fmt] if fmt == "graphml" else _gexf_as_1_2(exported[fmt])
    with network_forbidden():  # nothing fetched: no schemaLocation followed
        errors = [str(error).splitlines()[0] for error in schema.iter_errors(io.BytesIO(document))]
    assert errors == []


def test_schemas_catch_what_graph_tools_reject(exported, network, tmp_path):
    """Shared edge ids (rdflib's own converter writes the predicate as the id) and networkx's
    ``<graph name="">`` in GEXF are errors: the validation is not vacuous."""
    first, second = [edge for _, _, edge in network.edges(keys=True)][:2]
    shared = exported["graphml"].replace(f'id="{second}"'.encode(), f'id="{first}"'.encode())
    assert list(_graphml_schema().iter_errors(io.BytesIO(shared)))
    plain = tmp_path / "plain.gexf"
    nx.write_gexf(network, plain)
    assert list(_gexf_schema().iter_errors(io.BytesIO(_gexf_as_1_2(plain.read_bytes()))))


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_network_file_reads_back_with_networkx(exported, network, tmp_path, fmt):
    path = tmp_path / f"thbkg.{fmt}"
    path.write_bytes(exported[fmt])
    back = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    assert back.is_directed() and back.is_multigraph()
    assert back.number_of_nodes() == network.number_of_nodes()
    assert back.number_of_edges() == network.number_of_edges()
    assert set(back.nodes) == set(network.nodes)
    assert back.nodes["body:miprof"]["label"].startswith("Interministerial Mission")
    assert back.nodes["body:miprof"]["label_fr"].startswith("Mission interministérielle")


def test_graphml_declares_each_attribute_once_with_one_type(exported, network):
    root = ET.fromstring(exported["graphml"])
    keys = [(key.get("for"), key.get("attr.name")) for key in root.iter(f"{GRAPHML_NS}key")]
    assert len(keys) == len(set(keys))
    types = {(key.get("for"), key.get("attr.name")): key.get("attr.type")
             for key in root.iter(f"{GRAPHML_NS}key")}
    assert types[("node", "schema_value")] == "double"
    assert types[("node", "thb_numberOfMeasures")] == "long"
    assert types[("node", "thb_periodStart")] == "string"  # a gYear: dates stay strings
    edge_ids = [edge.get("id") for edge in root.iter(f"{GRAPHML_NS}edge")]
    assert len(edge_ids) == len(set(edge_ids)) == network.number_of_edges()


def test_gexf_declares_each_attribute_once_with_edge_ids_unique(exported, network):
    root = ET.fromstring(exported["gexf"])
    for declarations in root.iter(f"{GEXF_NS}attributes"):
        titles = [attribute.get("title") for attribute in declarations]
        assert len(titles) == len(set(titles)), declarations.get("class")
    edge_ids = [edge.get("id") for edge in root.iter(f"{GEXF_NS}edge")]
    assert len(edge_ids) == len(set(edge_ids)) == network.number_of_edges()
    assert all(edge.get("label") for edge in root.iter(f"{GEXF_NS}edge"))


def test_network_nodes_are_labelled_resources(network):
    assert all(attributes["label"] for _, attributes in network.nodes(data=True))
    miprof = network.nodes["body:miprof"]
    assert miprof["class"] == "thb:InterministerialMission"
    assert miprof["iri"] == "https://w3id.org/thbkg/id/organisation/miprof"
    assert miprof["thb_foundingDate"] == "2013-01-03"
    # A concept the data uses is a node with its labels; the ontology and its classes are not.
    concept = network.nodes["form:sexual-exploitation"]
    assert (concept["label_en"], concept["label_fr"]) == ("Sexual exploitation", "Exploitation sexuelle")
    assert "thb:NationalActionPlan" not in network and "scheme:exploitation-forms" not in network
    assert any(data.get("class") == "thb:NationalActionPlan" for _, data in network.nodes(data=True))
    # Literals are attributes, never nodes; each attribute has one type across nodes.
    types: dict[str, set[type]] = {}
    for _, attributes in network.nodes(data=True):
        for name, value in attributes.items():
            types.setdefault(name, set()).add(type(value))
    assert {name for name, found in types.items() if len(found) > 1} == set()
    assert types["schema_value"] == {float}


def test_network_edges_are_labelled_links(network):
    keys = [key for _, _, key in network.edges(keys=True)]
    assert len(keys) == len(set(keys))
    edges = {(u, data["property"], v): data for u, v, data in network.edges(data=True)}
    link = edges[("body:miprof", "thb:countryOf", "country:france")]
    assert link["label"] == "country of" and link["predicate"] == str(THB.countryOf)
    assert "src:" in link["graphs"]


def test_network_is_the_same_on_every_run(loaded, network):
    again = build_network(loaded.dataset)
    assert list(again.nodes(data=True)) == list(network.nodes(data=True))
    assert list(again.edges(keys=True, data=True)) == list(network.edges(keys=True, data=True))


def test_blank_nodes_get_the_same_ids_on_every_parse():
    text = """
        @prefix project: <https://w3id.org/thbkg/id/project/> .
        @prefix schema: <https://schema.org/> .
        @prefix thb: <https://w3id.org/thbkg/ontology#> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        project:test thb:budget [ a thb:MonetaryAmount ; schema:value "800000.0"^^xsd:decimal ] ,
                                [ a thb:MonetaryAmount ; schema:value "500000.0"^^xsd:decimal ] .
    """
    first, second = (build_network(Graph().parse(data=text, format="turtle")) for _ in range(2))
    assert sorted(first.nodes) == sorted(second.nodes)
    assert sorted(first.edges(keys=True)) == sorted(second.edges(keys=True))
    blanks = [node for node in first if node.startswith("b")]
    assert len(blanks) == 2 and {first.nodes[b]["schema_value"] for b in blanks} == {800000.0, 500000.0}


def test_progress_is_reported_to_the_end(loaded):
    calls = []
    build_network(loaded.dataset, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1]


def test_cytoscape_json_has_the_network(exported, network):
    document = json.loads(exported["cytoscape"])
    nodes, edges = document["elements"]["nodes"], document["elements"]["edges"]
    assert (len(nodes), len(edges)) == (network.number_of_nodes(), network.number_of_edges())
    ids = [element["data"]["id"] for element in nodes + edges]
    assert len(ids) == len(set(ids))
    node_ids = {node["data"]["id"] for node in nodes}
    assert all(edge["data"]["source"] in node_ids and edge["data"]["target"] in node_ids for edge in edges)
    assert all(node["data"]["label"] and node["data"]["name"] for node in nodes)


def _node_with_cytoscape() -> str | None:
    """Node.js, if it can load the npm package cytoscape (installed where NODE_PATH points)."""
    node = shutil.which("node")
    if node is None:
        return None
    probe = subprocess.run([node, "-e", "require.resolve('cytoscape')"], capture_output=True, env=os.environ)
    return node if probe.returncode == 0 else None


COUNT_ELEMENTS = """
const cytoscape = require("cytoscape");
const doc = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const cy = cytoscape({ headless: true, elements: doc.elements });
console.log(JSON.stringify({ nodes: cy.nodes().length, edges: cy.edges().length }));
"""


def test_cytoscape_js_loads_the_json(exported, network, tmp_path):
    node = _node_with_cytoscape()
    assert node is not None, ("needs node and the npm package cytoscape: `make test` installs it under "
                              ".venv/node (or set NODE_PATH to a node_modules holding it)")
    path = tmp_path / "thbkg.cyjs"
    path.write_bytes(exported["cytoscape"])
    run = subprocess.run([node, "-e", COUNT_ELEMENTS, str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"nodes": network.number_of_nodes(), "edges": network.number_of_edges()}


@pytest.fixture(scope="module")
def miprof_dot(loaded) -> tuple[bytes, nx.MultiDiGraph]:
    """The DOT of MIPROF's neighbourhood (pydot's parser takes half a minute on the whole graph)."""
    out = io.BytesIO()
    export_graph(loaded.dataset, "dot", out, query=MIPROF_QUERY)
    return out.getvalue(), build_network(query_subgraph(loaded.dataset, MIPROF_QUERY), context=loaded.dataset)


def test_dot_parses(miprof_dot):
    text, small = miprof_dot
    (graph,) = pydot.graph_from_dot_data(text.decode("utf-8"))
    assert len(graph.get_nodes()) == small.number_of_nodes() > 3
    assert len(graph.get_edges()) == small.number_of_edges()
    assert graph.get_node('"body:miprof"')[0].get("URL") == '"https://w3id.org/thbkg/id/organisation/miprof"'


def test_graphviz_reads_the_dot(exported, miprof_dot, tmp_path):
    assert shutil.which("dot") and shutil.which("nop"), "needs Graphviz: `make test` installs it from apt"
    whole, small = tmp_path / "thbkg.dot", tmp_path / "miprof.dot"
    whole.write_bytes(exported["dot"])
    small.write_bytes(miprof_dot[0])
    # nop parses and prints the graph back without laying it out (dot takes 20 s on the whole graph).
    parsed = subprocess.run(["nop", str(whole)], capture_output=True, text=True, timeout=60)
    assert parsed.returncode == 0 and parsed.stderr == ""
    drawn = subprocess.run(["dot", "-Tsvg", str(small)], capture_output=True, text=True, timeout=60)
    assert drawn.returncode == 0 and drawn.stderr == "" and "<svg" in drawn.stdout


# -- Queries and the command --------------------------------------------------------------------


def test_query_subgraph_refuses_select(loaded):
    with pytest.raises(ExportError, match="CONSTRUCT"):
        query_subgraph(loaded.dataset, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1")


@pytest.fixture
def miprof_query(tmp_path) -> Path:
    path = tmp_path / "miprof.rq"
    path.write_text(MIPROF_QUERY, encoding="utf-8")
    return path


def test_cli_query_exports_a_small_network(runner, miprof_query, network, tmp_path):
    out = tmp_path / "miprof.graphml"
    result = runner.invoke(main, ["export", "--format", "graphml", "--query", str(miprof_query),
                                  "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    small = nx.read_graphml(out)
    assert "body:miprof" in small and "country:france" in small
    assert 3 < small.number_of_nodes() < network.number_of_nodes() / 5
    assert all(small.degree(node) > 0 for node in small)
    # Labels and classes come from the whole graph, even though the query did not select them.
    france = small.nodes["country:france"]
    assert (france["label"], france["class"]) == ("France", "thb:Country")


def test_cli_query_exports_the_constructed_triples(runner, miprof_query, loaded):
    result = runner.invoke(main, ["export", "--format", "nt", "--query", str(miprof_query)])
    assert result.exit_code == 0, result.output
    back = Graph().parse(data=result.stdout_bytes, format="nt")
    assert isomorphic(back, query_subgraph(loaded.dataset, MIPROF_QUERY))


@pytest.mark.parametrize("fmt", ["trig", "cytoscape"])
def test_cli_writes_to_stdout(runner, fmt):
    result = runner.invoke(main, ["export", "--format", fmt])
    assert result.exit_code == 0
    assert result.stderr == ""  # no progress bar outside a terminal
    assert result.stdout_bytes.startswith(b"@prefix" if fmt == "trig" else b"{")


def test_cli_unknown_format_exits_2(runner):
    result = runner.invoke(main, ["export", "--format", "xlsx"])
    assert result.exit_code == 2 and "xlsx" in result.output


def test_cli_missing_query_file_exits_2(runner, tmp_path):
    result = runner.invoke(main, ["export", "--format", "ttl", "--query", str(tmp_path / "missing.rq")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_cli_select_query_exits_2_with_a_clear_message(runner, tmp_path):
    select = tmp_path / "select.rq"
    select.write_text("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1\n")
    out = tmp_path / "select.graphml"
    result = runner.invoke(main, ["export", "--format", "graphml", "--query", str(select), "-o", str(out)])
    assert result.exit_code == 2
    assert "error: the query is a SELECT query" in result.output and "CONSTRUCT" in result.output
    assert not out.exists()  # a failed export leaves no file behind


def test_cli_unwritable_output_exits_2(runner, tmp_path):
    result = runner.invoke(main, ["export", "--format", "nt", "-o", str(tmp_path / "missing" / "thbkg.nt")])
    assert result.exit_code == 2 and "cannot write" in result.output


def test_the_command_lines_format_names_are_the_writers():
    from thbkg import formats
    from thbkg.pictures import IMAGE_FORMATS as DRAWN_AS
    from thbkg.pictures import PICTURES as DRAWN

    assert formats.EXPORT_FORMATS == (*RDF_FORMATS, *NETWORK_FORMATS)
    assert formats.PICTURES == tuple(DRAWN) and formats.IMAGE_FORMATS == tuple(DRAWN_AS)
