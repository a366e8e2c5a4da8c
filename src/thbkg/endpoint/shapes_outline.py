"""The SHACL shapes as a reader sees them: each node shape, what it targets and the property shapes it
checks, with their constraints in prefixed names; from the bundled shape files, parsed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.term import Node

from thbkg.graph import bundle_dir
from thbkg.namespaces import BASE, bind_prefixes

__all__ = ["NodeShape", "PropertyShape", "ShapesFile", "read_shapes", "shape_files"]

_TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
#: What a shape's table shows in its own columns, not among its constraints.
_APART = {RDF.type, RDFS.label, RDFS.comment, SH.path, SH.message, SH.severity, SH.property, *_TARGETS}


@dataclass(frozen=True)
class PropertyShape:
    iri: str
    anchor: str
    label: str
    path: str
    constraints: list[str]
    message: str


@dataclass(frozen=True)
class NodeShape:
    iri: str
    anchor: str
    label: str
    comment: str
    targets: list[str]
    constraints: list[str]
    message: str
    properties: list[PropertyShape] = field(default_factory=list)


@dataclass(frozen=True)
class ShapesFile:
    """One shape file: its IRI (``https://w3id.org/thbkg/shapes``), local path, graph and node shapes."""

    iri: str
    path: str
    label: str
    comment: str
    severity: str
    graph: Graph
    shapes: list[NodeShape]


def _english(graph: Graph, node: Node, predicate: URIRef) -> str:
    values = sorted(graph.objects(node, predicate), key=lambda v: (getattr(v, "language", None) != "en", str(v)))
    return str(values[0]) if values else ""


def _anchor(node: Node) -> str:
    return str(node).rpartition("#")[2] if isinstance(node, URIRef) else ""


class _Writer:
    """Terms and constraints as short text: prefixed names, lists in parentheses, nested shapes in brackets."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.names = graph.namespace_manager

    def term(self, node: Node, depth: int = 0) -> str:
        if isinstance(node, URIRef):
            return self.names.normalizeUri(node)
        if isinstance(node, Literal):
            return str(node)
        if self.graph.value(node, RDF.first) is not None or node == RDF.nil:
            return "(" + ", ".join(self.term(item, depth + 1) for item in Collection(self.graph, node)) + ")"
        if depth > 2:
            return "[…]"
        if (node, SH.select, None) in self.graph:  # a SPARQL constraint: its message says what it checks
            return "SPARQL: " + (_english(self.graph, node, SH.message) or "a SELECT query")
        return "[" + "; ".join(self.constraints(node, depth + 1)) + "]"

    def constraints(self, node: Node, depth: int = 0) -> list[str]:
        return sorted(f"{self.names.normalizeUri(p).removeprefix('sh:')} {self.term(o, depth)}"
                      for p, o in self.graph.predicate_objects(node) if p not in _APART and p != SH.prefixes)


def _property_shape(graph: Graph, writer: _Writer, node: Node) -> PropertyShape:
    path = graph.value(node, SH.path)
    return PropertyShape(str(node) if isinstance(node, URIRef) else "", _anchor(node),
                         _english(graph, node, RDFS.label), writer.term(path) if path is not None else "",
                         writer.constraints(node), _english(graph, node, SH.message))


def _read(path: Path) -> ShapesFile:
    graph = bind_prefixes(Graph()).parse(path, format="turtle")
    writer = _Writer(graph)
    header = next((s for s in graph.subjects(RDF.type, OWL.Ontology) if str(s).startswith(BASE)),
                  URIRef(BASE + path.stem))
    severities = {writer.term(o) for o in graph.objects(None, SH.severity)} or {"sh:Violation"}
    shapes = []
    for node in sorted(set(graph.subjects(RDF.type, SH.NodeShape)), key=str):
        properties = sorted((_property_shape(graph, writer, p) for p in graph.objects(node, SH.property)),
                            key=lambda shape: (shape.path, shape.iri))
        targets = sorted(f"{writer.term(t).removeprefix('sh:')} {writer.term(o)}"
                         for t in _TARGETS for o in graph.objects(node, t))
        shapes.append(NodeShape(str(node), _anchor(node), _english(graph, node, RDFS.label),
                                _english(graph, node, RDFS.comment), targets, writer.constraints(node),
                                _english(graph, node, SH.message), properties))
    return ShapesFile(str(header), str(header).removeprefix(BASE), _english(graph, header, RDFS.label),
                      _english(graph, header, RDFS.comment), ", ".join(sorted(severities)), graph, shapes)


def shape_files() -> list[Path]:
    """The bundled shape files, ``ontology/shapes*.ttl`` (those ``thbkg.validate`` checks with: a test keeps
    them equal, without importing pySHACL into every web process); ``shapes.ttl`` (violations) first."""
    return sorted((bundle_dir() / "ontology").glob("shapes*.ttl"), key=lambda path: (len(path.stem), path.stem))


def read_shapes(paths: list[Path] | None = None) -> list[ShapesFile]:
    """The shape files (default the bundled ones), each parsed and outlined."""
    return [_read(path) for path in (paths if paths is not None else shape_files())]
