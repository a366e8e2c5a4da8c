"""The graph as a network for graph tools: resources are nodes, literals their attributes, links edges."""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import networkx as nx
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from thbkg.namespaces import GRAPH, PREFIXES, SCHEMA

__all__ = ["JOIN", "SCHEMA_GRAPHS", "Progress", "attribute_name", "build_network", "curie"]

#: Called now and then with (steps done, steps in all) while a long export runs.
Progress = Callable[[int, int], None]

#: The ontology and vocabulary graphs: they describe terms and are not drawn, except the terms data uses.
SCHEMA_GRAPHS = frozenset({GRAPH.ontology, GRAPH.vocabularies})
#: Where a node's name comes from, best first.
LABEL_PROPERTIES = (RDFS.label, SKOS.prefLabel, DCTERMS.title, FOAF.name, SCHEMA.name)
#: Label properties that only name things, so they are not repeated as attributes.
_NAME_ONLY = frozenset({RDFS.label, SKOS.prefLabel})
#: Separator of the values of a multi-valued attribute (values in lexical order).
JOIN = " | "

_INTEGERS = frozenset(XSD[t] for t in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
    "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte"))
_REALS = frozenset({XSD.decimal, XSD.double, XSD.float})
_NAMESPACES = sorted(PREFIXES.items(), key=lambda item: -len(item[1]))
_LOCAL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z")
_PROGRESS_EVERY = 2000


def curie(iri: URIRef | str) -> str | None:
    """``body:miprof`` for an IRI under a project prefix (also a valid XML NMTOKEN), else None."""
    for prefix, namespace in _NAMESPACES:
        if iri.startswith(namespace):
            local = iri[len(namespace):]
            if _LOCAL_NAME.match(local) and not local.endswith("."):
                return f"{prefix}:{local}"
    return None


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _readable(iri: URIRef) -> str:
    return curie(iri) or str(iri)


def attribute_name(predicate: URIRef, language: str | None = None) -> str:
    """``thb_startDate``, ``dcterms_title_fr``: safe as a GraphML key, a DOT attribute and a JS name."""
    name = curie(predicate)
    if name is None:
        namespace, _, local = re.match(r"(.*?)([^/#]*)$", str(predicate)).groups()  # type: ignore[union-attr]
        name = f"x{_short_hash(namespace)[:6]}_{local or 'value'}"
    if language:
        name += "_" + language
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _kind(value: Node) -> type:
    """The attribute type a single value can have: int, float, bool or str."""
    if isinstance(value, Literal) and value.value is not None:
        if value.datatype in _INTEGERS and isinstance(value.value, int) and -2**63 <= value.value < 2**63:
            return int
        if value.datatype in _REALS | _INTEGERS and math.isfinite(float(value.value)):
            return float
        if value.datatype == XSD.boolean and isinstance(value.value, bool):
            return bool
    return str


def _typed(values: set[Node], kind: type) -> int | float | bool | str:
    if kind is str:
        return JOIN.join(sorted({str(value) for value in values}))
    (value,) = values
    return kind(value.value)  # type: ignore[union-attr]


@dataclass
class _Index:
    """What is known about every term: labels, types, superclasses, and whether it is described."""

    labels: dict[Node, dict[URIRef, set[Literal]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    types: dict[Node, set[URIRef]] = field(default_factory=lambda: defaultdict(set))
    supers: dict[URIRef, set[URIRef]] = field(default_factory=lambda: defaultdict(set))
    described: set[Node] = field(default_factory=set)

    def add(self, s: Node, p: URIRef, o: Node) -> None:
        self.described.add(s)
        if p in LABEL_PROPERTIES and isinstance(o, Literal):
            self.labels[s][p].add(o)
        elif p == RDF.type and isinstance(o, URIRef):
            self.types[s].add(o)
        elif p == RDFS.subClassOf and isinstance(o, URIRef):
            self.supers[s].add(o)  # type: ignore[index]

    def names(self, node: Node) -> dict[str, str]:
        """``label_en`` and ``label_fr`` (from the best label property that has one), and ``label``."""
        found: dict[str, str] = {}
        by_property = self.labels.get(node, {})
        for language in ("en", "fr", ""):
            for prop in LABEL_PROPERTIES:
                values = {str(v) for v in by_property.get(prop, ()) if (v.language or "") == language}
                if values:
                    found[language] = JOIN.join(sorted(values))
                    break
        names = {f"label_{lang}": text for lang, text in found.items() if lang}
        return {"label": found.get("en") or found.get("fr") or found.get("", ""), **names}

    def ancestors(self, cls: URIRef) -> set[URIRef]:
        seen: set[URIRef] = set()
        todo = list(self.supers.get(cls, ()))
        while todo:
            parent = todo.pop()
            if parent not in seen:
                seen.add(parent)
                todo.extend(self.supers.get(parent, ()))
        return seen

    def most_specific_class(self, node: Node) -> URIRef | None:
        types = self.types.get(node)
        if not types:
            return None
        inherited = set().union(*(self.ancestors(t) for t in types))
        return min(types - inherited or types)


def _quads(source: Dataset | Graph) -> list[tuple[Node, URIRef, Node, Node | None]]:
    if isinstance(source, Dataset):
        return [(s, p, o, g.identifier if isinstance(g, Graph) else g)
                for s, p, o, g in source.quads((None, None, None, None))]
    return [(s, p, o, None) for s, p, o in source]


def _blank_ids(triples: Iterable[tuple[Node, URIRef, Node]], blanks: set[BNode]) -> dict[BNode, str]:
    """Ids for blank nodes that do not change between runs: a hash of what each is linked to.

    Three rounds of colour refinement tell apart blank nodes that differ within three links; ones
    that still share a colour are interchangeable there, so numbering them in any order gives the
    same output.
    """
    triples = [t for t in triples if t[0] in blanks or t[2] in blanks]
    colour = dict.fromkeys(blanks, "")
    for _ in range(3):
        term = {node: colour[node] if node in colour else node.n3() for triple in triples for node in triple}
        signature: dict[BNode, list[str]] = {blank: [] for blank in blanks}
        for s, p, o in triples:
            if s in signature:
                signature[s].append(f"> {term[p]} {term[o]}")  # type: ignore[index]
            if o in signature:
                signature[o].append(f"< {term[s]} {term[p]}")  # type: ignore[index]
        colour = {blank: _short_hash("\n".join(sorted(lines))) for blank, lines in signature.items()}
    ids: dict[BNode, str] = {}
    used: dict[str, int] = defaultdict(int)
    for blank in sorted(blanks, key=lambda b: colour[b]):
        used[colour[blank]] += 1
        count = used[colour[blank]]
        ids[blank] = f"b{colour[blank]}" + (f"-{count}" if count > 1 else "")
    return ids


def _steps(items: list, progress: Progress | None, done: int, total: int) -> Iterator:
    for number, item in enumerate(items, 1):
        if progress and number % _PROGRESS_EVERY == 0:
            progress(done + number, total)
        yield item
    if progress:
        progress(done + len(items), total)


def build_network(source: Dataset | Graph, *, context: Dataset | Graph | None = None,
                  progress: Progress | None = None) -> nx.MultiDiGraph:
    """A directed multigraph of ``source`` for graph tools.

    Nodes are the resources the data describes or links to, keyed by a stable id (the prefixed name,
    such as ``body:miprof``, or a short hash) with attributes ``label`` (English, else French),
    ``label_en``, ``label_fr``, ``class`` (the most specific rdf:type, prefixed), ``class_label``,
    ``class_iri``, ``iri``, and one attribute per literal property (``thb_startDate``,
    ``thb_role_fr``): int or float where every value is a single number, else the lexical forms
    joined with " | ". Links to IRIs the graph does not describe (``owl:sameAs`` Wikidata,
    ``schema:url``) are such attributes too. Edges are the other object-property triples, keyed by a
    hash of subject, predicate and object, with ``label`` (the property's English label),
    ``property``, ``predicate`` and ``graphs`` (the named graphs stating the triple).

    A Dataset contributes every graph but the ontology and vocabularies; a Graph (a CONSTRUCT
    result) all its triples. Labels, classes and property labels are looked up in ``source`` and
    ``context`` (e.g. the whole dataset a query ran on).
    """
    quads = _quads(source)
    known = [] if context is None or context is source else _quads(context)
    data: dict[tuple[Node, URIRef, Node], set[Node]] = defaultdict(set)
    for s, p, o, g in quads:
        if g not in SCHEMA_GRAPHS:
            data[(s, p, o)].add(g)
    total = len(known) + len(quads) + len(data)
    index = _Index()
    for s, p, o, _ in _steps(known + quads, progress, 0, total):
        index.add(s, p, o)
    blank_ids = _blank_ids(data, {t for triple in data for t in triple if isinstance(t, BNode)})

    def node_id(node: Node) -> str:
        if isinstance(node, BNode):
            return blank_ids[node]
        return curie(node) or "n" + _short_hash(str(node))  # type: ignore[arg-type]

    resources: dict[str, Node] = {}
    values: dict[str, dict[str, set[Node]]] = defaultdict(lambda: defaultdict(set))
    edges: dict[str, tuple[str, str, dict[str, str]]] = {}
    for (s, p, o), graphs in _steps(list(data.items()), progress, len(known) + len(quads), total):
        subject_id = node_id(s)
        resources[subject_id] = s
        if isinstance(o, Literal):
            if p not in _NAME_ONLY:
                values[subject_id][attribute_name(p, o.language)].add(o)
        elif p == RDF.type:
            continue  # the node's class attribute
        elif isinstance(o, URIRef) and o not in index.described:
            values[subject_id][attribute_name(p)].add(o)  # a link out of the graph: Wikidata, a web page
        else:
            object_id = node_id(o)
            resources[object_id] = o
            named = sorted(_readable(g) for g in graphs if g is not None and g != DATASET_DEFAULT_GRAPH_ID)
            attributes = {"label": index.names(p).get("label_en") or _readable(p),
                          "property": _readable(p), "predicate": str(p)}
            if named:
                attributes["graphs"] = JOIN.join(named)
            edges["e" + _short_hash(f"{subject_id}|{p}|{object_id}")] = (subject_id, object_id, attributes)

    kinds: dict[str, set[type]] = defaultdict(set)
    for found in values.values():
        for name, these in found.items():
            kinds[name].add(_kind(next(iter(these))) if len(these) == 1 else str)
    kind_of = {name: next(iter(these)) if len(these) == 1 else float if these == {int, float} else str
               for name, these in kinds.items()}

    network = nx.MultiDiGraph()
    for resource_id in sorted(resources):
        resource = resources[resource_id]
        described: dict[str, object] = index.names(resource)
        described["label"] = described["label"] or resource_id
        cls = index.most_specific_class(resource)
        if cls is not None:
            described["class"] = _readable(cls)
            described["class_label"] = index.names(cls).get("label_en") or _readable(cls)
            described["class_iri"] = str(cls)
        if isinstance(resource, URIRef):
            described["iri"] = str(resource)
        found = values.get(resource_id, {})
        described.update({name: _typed(found[name], kind_of[name]) for name in sorted(found)})
        network.add_node(resource_id, **described)
    for edge_id in sorted(edges):
        source_id, target_id, attributes = edges[edge_id]
        network.add_edge(source_id, target_id, key=edge_id, **attributes)
    return network
