"""Graphviz diagrams of the ontology: its class hierarchy, and the object properties between its classes."""

from __future__ import annotations

import html
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pydot
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection

from thbkg.export.network import curie
from thbkg.graph import bundle_dir, load_dataset
from thbkg.namespaces import SCHEMA, THB

__all__ = ["VIEWS", "DiagramError", "OntologyOutline", "bundled_diagram", "diagram_source", "draw_ontology",
           "outline_ontology", "render_diagram"]

_INK, _GREY, _LINK = "#1d3557", "#6c757d", "#2a6f97"
#: Fill colours of the class families (a top class and every class below it), in the order of their IRIs.
_PALETTE = ["#dbeafe", "#fde2c4", "#d3f0dc", "#f3d9ef", "#f7efb5", "#cdeeee", "#e7e0d6", "#e0dbf5",
            "#f8d4d4", "#e2ebc9"]


class DiagramError(Exception):
    """A diagram cannot be drawn (unknown view, Graphviz missing or failing); the message says what to do."""


@dataclass
class OntologyOutline:
    """What the diagrams show, read from the ontology and sorted so that the output never varies."""

    labels: dict[URIRef, str] = field(default_factory=dict)            # thb: class -> English label
    parents: dict[URIRef, list[URIRef]] = field(default_factory=dict)  # class -> its thb: superclasses
    aligned: dict[URIRef, list[URIRef]] = field(default_factory=dict)  # class -> its other superclasses
    #: (property, English label, domains, ranges) for every property with a declared domain and range.
    relations: list[tuple[URIRef, str, list[URIRef], list[URIRef]]] = field(default_factory=list)
    undrawn: list[str] = field(default_factory=list)                    # labels of the other properties

    def ancestors(self, cls: URIRef) -> list[URIRef]:
        """The thb: superclasses of ``cls``, nearest first, following the first superclass at each step."""
        found: list[URIRef] = []
        while self.parents.get(cls) and self.parents[cls][0] not in found:  # stops on a subclass cycle
            cls = self.parents[cls][0]
            found.append(cls)
        return found

    def fills(self) -> dict[URIRef, str]:
        """Each class's fill: its family's colour, white for a top class without subclasses."""
        top = {cls: (self.ancestors(cls) or [cls])[-1] for cls in self.labels}
        families = sorted({root for cls, root in top.items() if cls != root})
        colours = {root: _PALETTE[index % len(_PALETTE)] for index, root in enumerate(families)}
        return {cls: colours.get(root, "white") for cls, root in top.items()}


def bundled_diagram(view: str) -> Path:
    """Where the committed SVG of a view is: ``docs/class-diagram-<view>.svg`` in the bundle."""
    return bundle_dir() / "docs" / f"class-diagram-{view}.svg"


def _curie(iri: URIRef) -> str:
    return curie(iri) or str(iri)


def _english(graph: Graph, term: URIRef) -> str:
    labels = sorted(str(o) for o in graph.objects(term, RDFS.label)
                    if isinstance(o, Literal) and o.language == "en")
    return labels[0] if labels else _curie(term)


def _classes_in(graph: Graph, values: Iterable) -> list[URIRef]:
    """Named classes, with each ``owl:unionOf`` list opened into its members."""
    found: set[URIRef] = set()
    for value in values:
        if isinstance(value, URIRef):
            found.add(value)
        elif isinstance(value, BNode) and (members := graph.value(value, OWL.unionOf)) is not None:
            found.update(m for m in Collection(graph, members) if isinstance(m, URIRef))
    return sorted(found)


def _ours(term: object) -> bool:
    return isinstance(term, URIRef) and term.startswith(str(THB))


def outline_ontology(graph: Graph) -> OntologyOutline:
    """The thb: classes and object properties of ``graph``, with what relates them.

    Domains are ``rdfs:domain`` and ``schema:domainIncludes``, ranges ``rdfs:range`` and
    ``schema:rangeIncludes``, unions opened into their members. A property lacking either applies to
    any resource, so an arrow would mislead: it is listed in ``undrawn`` instead.
    """
    outline = OntologyOutline()
    for cls in sorted(filter(_ours, graph.subjects(RDF.type, OWL.Class))):
        outline.labels[cls] = _english(graph, cls)
        supers = sorted(s for s in graph.objects(cls, RDFS.subClassOf) if isinstance(s, URIRef))
        outline.parents[cls] = [s for s in supers if _ours(s)]
        outline.aligned[cls] = [s for s in supers if not _ours(s)]
    for prop in sorted(filter(_ours, graph.subjects(RDF.type, OWL.ObjectProperty))):
        domains = _classes_in(graph, [*graph.objects(prop, RDFS.domain),
                                      *graph.objects(prop, SCHEMA.domainIncludes)])
        ranges = _classes_in(graph, [*graph.objects(prop, RDFS.range),
                                     *graph.objects(prop, SCHEMA.rangeIncludes)])
        if domains and ranges:
            outline.relations.append((prop, _english(graph, prop), domains, ranges))
        else:
            outline.undrawn.append(_english(graph, prop))
    return outline


def _node_id(iri: URIRef) -> str:
    """A DOT ID needing no quotes: the local name of a thb: term, ``prefix_name`` for the others."""
    return _curie(iri).removeprefix("thb:").replace(":", "_").replace("-", "_")


def _text(text: str) -> str:
    return html.escape(text, quote=False)


def _digraph(view: str, caption: list[str], **attributes: str) -> pydot.Dot:
    lines = [part for line in caption for part in textwrap.wrap(line, 120, subsequent_indent="    ")]
    label = "".join(f"{_text(line)}<br align='left'/>" for line in lines)
    dot = pydot.Dot(graph_name=f"thb_{view}", graph_type="digraph", id=view, label=f"<{label}>", labelloc="b",
                    labeljust="l", fontname="Helvetica", fontsize="11", fontcolor=_INK, **attributes)
    dot.set_node_defaults(shape="box", style="rounded,filled", color=_INK, fontname="Helvetica",
                          fontsize="11", fontcolor=_INK, margin="0.08,0.04")
    dot.set_edge_defaults(fontname="Helvetica", fontsize="9", arrowsize="0.7")
    return dot


def _class_node(outline: OntologyOutline, fills: dict[URIRef, str], view: str, cls: URIRef,
                aligned: bool) -> pydot.Node:
    label = f"<b>{_text(outline.labels[cls])}</b>"
    others = [_curie(s) for s in outline.aligned[cls]] if aligned else []
    for start in range(0, len(others), 2):  # two per line keeps the boxes narrow
        line = _text(", ".join(others[start:start + 2]))
        label += f'<br/><font point-size="8" color="{_GREY}">⊑ {line}</font>'
    return pydot.Node(_node_id(cls), label=f"<{label}>", fillcolor=fills[cls], URL=str(cls),
                      tooltip=_curie(cls), id=f"{view}-{_node_id(cls)}")


def _subclass_edge(view: str, cls: URIRef, parent: URIRef) -> pydot.Edge:
    """Drawn from the superclass with the hollow head at its end, so that dot ranks superclasses first."""
    return pydot.Edge(_node_id(parent), _node_id(cls), dir="back", arrowtail="empty", arrowsize="1",
                      color=_INK, id=f"{view}-{_node_id(cls)}-subclass-of-{_node_id(parent)}")


def _hierarchy(outline: OntologyOutline) -> pydot.Dot:
    """Every class; each top class with its subclasses is a tree, the trees packed side by side (dot)."""
    caption = ["THB-KG ontology: class hierarchy. Each tree is a top class with its subclasses (hollow "
               "arrow: subclass of), in its own colour; top classes without subclasses are white.",
               "In grey, under a class name: its superclasses in other vocabularies (⊑)."]
    dot = _digraph("hierarchy", caption, rankdir="TB", pack="true", packmode="graph", ranksep="0.45",
                   nodesep="0.2")
    fills = outline.fills()
    for cls in outline.labels:
        dot.add_node(_class_node(outline, fills, "hierarchy", cls, aligned=True))
    for cls in outline.labels:
        for parent in outline.parents[cls]:
            dot.add_edge(_subclass_edge("hierarchy", cls, parent))
    return dot


def _relations(outline: OntologyOutline) -> pydot.Dot:
    """The classes that properties link and the properties between them, laid out by springs (neato)."""
    caption = ["THB-KG ontology: object properties. Each is written once, in italics, with lines from its "
               "domains (rdfs:domain, schema:domainIncludes) and arrows to its ranges (rdfs:range, "
               "schema:rangeIncludes).",
               "Hollow arrows: subclass of. Dashed grey: classes of other vocabularies. Colours: the class "
               "families of the hierarchy diagram.",
               "Not drawn, having no declared domain or range: " + ", ".join(sorted(outline.undrawn)) + "."]
    dot = _digraph("relations", caption, layout="neato", model="subset", overlap="false", splines="true",
                   sep="+8", outputorder="edgesfirst")
    fills = outline.fills()
    linked = sorted({cls for _, _, domains, ranges in outline.relations for cls in domains + ranges})
    for cls in linked:
        if cls in outline.labels:
            dot.add_node(_class_node(outline, fills, "relations", cls, aligned=False))
        else:
            dot.add_node(pydot.Node(_node_id(cls), label=_curie(cls), style="rounded,dashed", color=_GREY,
                                    fontcolor=_GREY, fontsize="10", URL=str(cls),
                                    id=f"relations-{_node_id(cls)}"))
    for cls in linked:
        for parent in [a for a in outline.ancestors(cls) if a in linked][:1]:  # the nearest one drawn here
            dot.add_edge(_subclass_edge("relations", cls, parent))
    for prop, label, domains, ranges in outline.relations:
        _add_property(dot, prop, label, domains, ranges)
    return dot


def _add_property(dot: pydot.Dot, prop: URIRef, label: str, domains: list[URIRef],
                  ranges: list[URIRef]) -> None:
    """The property's name as a node (so that the layout keeps names apart), lines from its domains,
    arrows to its ranges."""
    name = _node_id(prop)
    link = {"URL": str(prop), "tooltip": _curie(prop)}
    dot.add_node(pydot.Node(f"property_{name}", label=f"<<i>{_text(label)}</i>>", shape="plain",
                            style="filled", fillcolor="white", fontsize="9", fontcolor=_LINK,
                            id=f"relations-{name}", **link))
    for domain in domains:
        dot.add_edge(pydot.Edge(_node_id(domain), f"property_{name}", arrowhead="none", color=_LINK,
                                id=f"relations-{name}-from-{_node_id(domain)}", **link))
    for target in ranges:
        dot.add_edge(pydot.Edge(f"property_{name}", _node_id(target), color=_LINK,
                                id=f"relations-{name}-to-{_node_id(target)}", **link))


#: The diagrams there are: name -> how an outline becomes a Graphviz graph.
VIEWS: dict[str, Callable[[OntologyOutline], pydot.Dot]] = {"hierarchy": _hierarchy, "relations": _relations}


def diagram_source(graph: Graph, view: str) -> str:
    """The DOT text of one view of ``graph``'s ontology (the same ontology always gives the same text)."""
    if view not in VIEWS:
        raise DiagramError(f"no diagram view {view!r}: choose among {', '.join(VIEWS)}")
    return VIEWS[view](outline_ontology(graph)).to_string()


def render_diagram(source: str, fmt: str = "svg") -> bytes:
    """Run Graphviz's ``dot`` on DOT text; raises :class:`DiagramError` if it is missing or fails."""
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramError("Graphviz's `dot` command is missing: install graphviz (Debian: apt-get install "
                           "graphviz; macOS: brew install graphviz), or ask for --format dot")
    try:
        done = subprocess.run([dot, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
                              timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiagramError(f"Graphviz's `dot` could not run: {exc}") from exc
    if done.returncode != 0:
        raise DiagramError(f"Graphviz's `dot` failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def draw_ontology(view: str, fmt: str = "svg", path: Path | None = None) -> bytes:
    """One view of the ontology in ``path`` (default: the bundled ``ontology/thb.ttl``), as DOT or rendered.

    Raises :class:`DiagramError` (unknown view, Graphviz missing or failing) or ``LoadError``.
    """
    ontology = load_dataset([path or bundle_dir() / "ontology" / "thb.ttl"]).union_graph()
    source = diagram_source(ontology, view)
    return source.encode("utf-8") if fmt == "dot" else render_diagram(source, fmt)
