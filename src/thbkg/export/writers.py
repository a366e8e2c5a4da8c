"""Network file formats: GraphML, GEXF, Cytoscape.js JSON and Graphviz DOT, from one network."""

from __future__ import annotations

import json
from typing import BinaryIO
from xml.etree.ElementTree import Element

import networkx as nx
import pydot
from networkx.readwrite.gexf import GEXFWriter

__all__ = ["NETWORK_WRITERS", "cytoscape_elements", "write_cytoscape", "write_dot", "write_gexf",
           "write_graphml"]


def write_graphml(network: nx.MultiDiGraph, out: BinaryIO) -> None:
    """GraphML 1.0, typed ``<key>`` declarations, the edge key as ``<edge id>``.

    Key ids are networkx's ``d0``, ``d1`` … rather than the attribute names: node and edge both have
    a ``label``, and named key ids would declare ``label`` twice, which the schema forbids.
    """
    nx.write_graphml(network, out, encoding="utf-8", prettyprint=True, named_key_ids=False)


def _drop_edge_attributes(graph: Element, titles: set[str]) -> None:
    for declarations in graph.findall("attributes[@class='edge']"):
        for declaration in declarations.findall("attribute"):
            if declaration.get("title") in titles:
                declarations.remove(declaration)
                for values in graph.iterfind("edges/edge/attvalues"):
                    for value in values.findall(f"attvalue[@for='{declaration.get('id')}']"):
                        values.remove(value)


def write_gexf(network: nx.MultiDiGraph, out: BinaryIO) -> None:
    """GEXF 1.2 (the ``1.2draft`` namespace Gephi writes), typed ``<attribute>`` declarations."""
    with_ids = network.copy()
    for _, _, key, attributes in with_ids.edges(keys=True, data=True):
        attributes["id"] = key
    writer = GEXFWriter(encoding="utf-8", prettyprint=True, version="1.2draft")
    writer.add_graph(with_ids)
    # networkx writes <graph name="">, which the GEXF schema does not allow, and its multigraph key as
    # an edge attribute (equal to the edge id): drop both.
    writer.graph_element.attrib.pop("name", None)
    _drop_edge_attributes(writer.graph_element, {"networkx_key", "key"})
    writer.write(out)


def cytoscape_elements(network: nx.MultiDiGraph) -> dict[str, list[dict]]:
    """Cytoscape.js elements, ``{"nodes": [...], "edges": [...]}``, each ``{"data": {...}}``.

    Each node also gets ``name`` (its label), the column Cytoscape's default style shows.
    """
    nodes = [{"data": {"id": node, "name": attributes["label"], **attributes}}
             for node, attributes in network.nodes(data=True)]
    edges = [{"data": {"id": key, "source": source, "target": target, **attributes}}
             for source, target, key, attributes in network.edges(keys=True, data=True)]
    return {"nodes": nodes, "edges": edges}


def write_cytoscape(network: nx.MultiDiGraph, out: BinaryIO) -> None:
    """Cytoscape.js JSON (Cytoscape's .cyjs too): ``{"elements": {"nodes": [...], "edges": [...]}}``."""
    document = {"format_version": "1.0", "generated_by": "thbkg", "target_cytoscapejs_version": "~3.0",
                "data": {"name": "THB-KG"}, "elements": cytoscape_elements(network)}
    out.write(json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False).encode("utf-8"))
    out.write(b"\n")


def _dot_id(text: str) -> str:
    """A double-quoted DOT ID (pydot would read ``body:miprof`` as node ``body``, port ``miprof``)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_attributes(attributes: dict) -> dict[str, str]:
    # Backslashes start Graphviz escapes (\N, \l) in labels: double them so text stays text.
    return {name: _dot_id(str(value)) for name, value in attributes.items()}


def write_dot(network: nx.MultiDiGraph, out: BinaryIO) -> None:
    """Graphviz DOT: a digraph with every attribute, ``URL`` the IRI (links in SVG output), edge ``id``."""
    dot = pydot.Dot(graph_name="thbkg", graph_type="digraph", strict=False)
    for node, attributes in network.nodes(data=True):
        extra = {"URL": attributes["iri"]} if "iri" in attributes else {}
        dot.add_node(pydot.Node(_dot_id(node), **_dot_attributes({**attributes, **extra})))
    for source, target, key, attributes in network.edges(keys=True, data=True):
        edge_attributes = _dot_attributes({"id": key, **attributes})
        dot.add_edge(pydot.Edge(_dot_id(source), _dot_id(target), **edge_attributes))
    out.write(dot.to_string().encode("utf-8"))


#: CLI name -> writer.
NETWORK_WRITERS = {"graphml": write_graphml, "gexf": write_gexf, "cytoscape": write_cytoscape,
                   "dot": write_dot}
