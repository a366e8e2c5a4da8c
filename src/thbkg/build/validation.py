"""SHACL validation of a store in bounded memory: pyshacl-turbo over batches of focus nodes read from it.

The engine is pyshacl-turbo (SHACL in Rust, pySHACL's API and reports): its reports equal pySHACL's,
result for result, on the bundled graph and on every invalid fixture (a test compares the two), and
it validates a batch several times faster. pySHACL stays the reference (``thbkg validate``,
:func:`thbkg.validate.validate_dataset`). A whole graph of ten million triples would not fit in
memory either way, so the data is read from a shadow of the served store, written from the same
stream through :func:`shadow_quad`: Oxigraph keeps literals of the XSD types
it knows by value (``"3"^^xsd:positiveInteger`` is read back as an ``xsd:integer``), which would
hide exactly what ``sh:datatype`` checks, so there every typed literal carries its datatype wrapped
in an IRI Oxigraph does not know, and is unwrapped here. The shapes of THB-KG are local: each looks at
a focus node's own triples, at the values they point to (``sh:class``, ``sh:node``, qualified value
shapes) and, through SPARQL constraints, at ``$this``'s own properties. So the focus nodes of every
shape's targets are read from the store, cut into batches, and each batch is validated with every
triple of its focus nodes and, of the nodes they point to, the properties the shapes read there
(:func:`value_predicates`: ``rdf:type`` for ours; every triple when the shapes could read more), the
ontology mixed in as pySHACL mixes it in :func:`thbkg.validate.validate_dataset`. Each batch is
given to the engine as N-Triples text, never as an rdflib graph, with the shapes compiled once per
process. The shapes validate the batch's own focus nodes only (a node reached in two hops is
validated in its own batch, with all of its triples), and the batches are shared among one process
per core. A test checks that this gives the whole-graph pySHACL report exactly, on the bundled graph
and on every invalid fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from pyshacl.rdfutil.inoculate import inoculate
from pyshacl_turbo import CompiledShapes, Input, compile_shapes
from pyshacl_turbo import __version__ as _turbo_version
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH

from thbkg.backend.reading import to_rdflib
from thbkg.namespaces import GRAPH, bind_prefixes
from thbkg.validate import (ValidationError, ValidationResult, copy_results, each_once, findings_of,
                            ontology_graph, shapes_graph)

__all__ = ["BATCH_SIZE", "ENGINE", "focus_nodes", "shadow_quad", "validate_store", "value_predicates"]

#: The SHACL engine of the build, as the release's manifest and validation.txt name it.
ENGINE = f"pyshacl-turbo {_turbo_version}"
#: Focus nodes validated together (pyshacl-turbo takes longer per node past a few thousand of them).
BATCH_SIZE = 2_500
#: The one report node of a report written batch by batch (N-Triples: the label holds in the whole file).
_REPORT = BNode("thbkgReport")
#: Graphs whose triples are not data to validate (the published questions are added by the build).
_NOT_DATA = {ox.NamedNode(str(GRAPH.queries))}


_WRAPPED = "urn:x-thbkg:datatype:"
_PLAIN = {"http://www.w3.org/2001/XMLSchema#string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}


def shadow_quad(quad: ox.Quad) -> ox.Quad:
    """``quad`` with its typed literal's datatype wrapped, so that a store keeps its lexical form."""
    value = quad.object
    if isinstance(value, ox.Literal) and value.language is None and value.datatype.value not in _PLAIN:
        value = ox.Literal(value.value, datatype=ox.NamedNode(_WRAPPED + value.datatype.value))
        return ox.Quad(quad.subject, quad.predicate, value, quad.graph_name)
    return quad


def _unwrapped(term):
    if isinstance(term, ox.Literal) and term.datatype.value.startswith(_WRAPPED):
        return to_rdflib(ox.Literal(term.value, datatype=ox.NamedNode(term.datatype.value[len(_WRAPPED):])))
    return to_rdflib(term)


def _subclasses(ontology: Graph) -> dict[URIRef, set[URIRef]]:
    """Each class and every class below it (``rdfs:subClassOf``, transitively)."""
    below: dict[URIRef, set[URIRef]] = {}
    for sub, sup in ontology.subject_objects(RDFS.subClassOf):
        below.setdefault(sup, set()).add(sub)

    def closure(cls: URIRef) -> set[URIRef]:
        seen, todo = {cls}, [cls]
        while todo:
            for sub in below.get(todo.pop(), ()):
                if sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        return seen

    return {cls: closure(cls) for cls in {*below, *ontology.subjects(RDF.type, RDFS.Class)}}


def _ox(term) -> ox.NamedNode | ox.Literal:
    return ox.NamedNode(str(term))


def focus_nodes(store: ox.Store, shapes: Graph, ontology: Graph) -> list:
    """Every node some shape targets, read from ``store`` (each once, in a stable order)."""
    classes = _subclasses(ontology)
    wanted_types: set[URIRef] = set()
    subjects_of: set[URIRef] = set()
    objects_of: set[URIRef] = set()
    nodes: dict = {}
    for cls in shapes.objects(None, SH.targetClass):
        wanted_types |= classes.get(cls, {cls})
    for prop in shapes.objects(None, SH.targetSubjectsOf):
        subjects_of.add(prop)
    for prop in shapes.objects(None, SH.targetObjectsOf):
        objects_of.add(prop)
    for node in shapes.objects(None, SH.targetNode):
        if isinstance(node, URIRef):
            nodes[ox.NamedNode(str(node))] = None
    rdf_type = ox.NamedNode(str(RDF.type))
    for cls in sorted(wanted_types):
        for quad in store.quads_for_pattern(None, rdf_type, _ox(cls), None):
            if quad.graph_name not in _NOT_DATA:
                nodes[quad.subject] = None
    for prop in sorted(subjects_of):
        for quad in store.quads_for_pattern(None, _ox(prop), None, None):
            if quad.graph_name not in _NOT_DATA:
                nodes[quad.subject] = None
    for prop in sorted(objects_of):
        for quad in store.quads_for_pattern(None, _ox(prop), None, None):
            if quad.graph_name not in _NOT_DATA and not isinstance(quad.object, ox.Literal):
                nodes[quad.object] = None
    return list(nodes)


#: Value-level references: the shapes that a focus node's values (not the node itself) must conform to.
_VALUE_SHAPES = (SH.node, SH.qualifiedValueShape, SH["not"], SH.property)
_VALUE_LISTS = (SH["or"], SH["and"], SH.xone)
#: Constraints that read more of a value node than its properties named in a path.
_WHOLE_NODE = (SH.sparql, SH.closed, SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals)


def _reads_only_this(shapes: Graph) -> bool:
    """Whether every SPARQL constraint reads only ``$this``'s own triples: each triple pattern has
    ``$this`` as subject and a property (or ``$PATH``, a plain property) as predicate."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    def triples(node, found: list) -> list:
        if isinstance(node, CompValue):
            if "triples" in node:  # (CompValue.get answers a name it does not hold with the name)
                found.extend(dict.__getitem__(node, "triples"))
            for value in node.values():
                triples(value, found)
        elif isinstance(node, (list, tuple)):
            for value in node:
                triples(value, found)
        return found

    for shape in shapes.subjects(SH.sparql, None):
        if (shape, SH.path, None) in shapes and not isinstance(shapes.value(shape, SH.path), URIRef):
            return False
    for query in shapes.objects(None, SH.select):
        try:
            algebra = translateQuery(parseQuery(str(query)), initNs=dict(shapes.namespaces())).algebra
        except Exception:  # a query rdflib cannot read: assume it reads anything
            return False
        # (s, p, o) in a basic graph pattern; [s, p, o, p, o ...] where rdflib left the parse as it is
        for pattern in triples(algebra, []):
            pattern = list(pattern)
            if pattern[0] != Variable("this") or not all(isinstance(p, (URIRef, Variable)) for p in pattern[1::2]):
                return False
    return not any(shapes.subjects(SH.ask, None))


def value_predicates(shapes: Graph) -> set[URIRef] | None:
    """The properties the shapes read of the nodes a focus node points to: ``rdf:type`` (for
    ``sh:class``, the class hierarchy coming from the ontology) and the paths of the shapes those
    values must conform to (``sh:node``, ``sh:qualifiedValueShape``, ``sh:or`` ...). ``None``
    (read every triple of them) when a shape could read more: a value shape whose properties are
    not plain IRIs or that reaches further (a third hop), or a SPARQL constraint that reads more
    than ``$this``'s own triples."""
    if not _reads_only_this(shapes):
        return None
    def applied_to_values(shape) -> list:
        """The shapes that each value node of a property shape (or the node a node shape is applied
        to) must conform to."""
        return [*(found for reference in _VALUE_SHAPES for found in shapes.objects(shape, reference)),
                *(member for reference in _VALUE_LISTS for items in shapes.objects(shape, reference)
                  for member in Collection(shapes, items))]

    todo = [found for shape in shapes.subjects(SH.path, None) for found in applied_to_values(shape)]
    wanted, seen = {RDF.type}, set()
    while todo:
        shape = todo.pop()
        if shape in seen:
            continue
        seen.add(shape)
        if any((shape, constraint, None) in shapes for constraint in _WHOLE_NODE):
            return None
        path = shapes.value(shape, SH.path)
        if path is None:  # a node shape applied to the value node itself
            todo += applied_to_values(shape)
            continue
        if not isinstance(path, URIRef):
            return None
        wanted.add(path)
        # The values of a value node's property: a third hop, not fetched.
        if (shape, SH["class"], None) in shapes or applied_to_values(shape):
            return None
    return wanted


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _nt(term) -> str:
    """``term`` in N-Triples, a wrapped datatype unwrapped (the datatype ends the literal's text)."""
    text = str(term)
    if isinstance(term, ox.Literal) and term.datatype.value.startswith(_WRAPPED):
        head, _, tail = text.rpartition("^^<" + _WRAPPED)
        return f"{head}^^<{tail}"
    return text


def _neighbourhood(store: ox.Store, batch: Iterable, wanted: set[URIRef] | None) -> str:
    """Every triple of the batch's nodes and, of the nodes they point to, those of the ``wanted``
    properties (all when ``None``), as N-Triples, each once."""
    lines: dict[str, None] = {}
    values: dict = {}
    own = set(batch)
    for node in own:
        subject = str(node)
        for quad in store.quads_for_pattern(node, None, None, None):
            if quad.graph_name in _NOT_DATA:
                continue
            value = quad.object
            lines[f"{subject} {quad.predicate} {_nt(value)} .\n"] = None
            if not isinstance(value, ox.Literal) and value not in own:
                values[value] = None
    properties = [None] if wanted is None else [ox.NamedNode(str(p)) for p in sorted(wanted)]
    for node in values:
        subject = str(node)
        for prop in properties:
            for quad in store.quads_for_pattern(node, prop, None, None):
                if quad.graph_name not in _NOT_DATA:
                    lines[f"{subject} {quad.predicate} {_nt(quad.object)} .\n"] = None
    return "".join(lines)


@dataclass(frozen=True)
class _Engine:
    """The shapes compiled once by pyshacl-turbo, and the ontology's triples that pySHACL mixes into
    the data graph (:func:`pyshacl.rdfutil.inoculate.inoculate`: classes, properties, their axioms), as
    N-Triples added to every batch, so that no batch copies or parses the ontology again."""

    shacl: Graph
    shapes: CompiledShapes
    ontology: str
    #: What is read of the nodes a batch's nodes point to (:func:`value_predicates`).
    wanted: set[URIRef] | None

    @classmethod
    def of(cls, shacl: Graph, ontology: Graph) -> "_Engine":
        mixed = Graph()
        inoculate(mixed, ontology)
        # Labels of our own, so that no blank node of the ontology meets one of the store's.
        renamed = {node: BNode(f"thbkgOntology{n}") for n, node in enumerate(mixed.all_nodes())
                   if isinstance(node, BNode)}
        text = "".join(f"{renamed.get(s, s).n3()} {p.n3()} {renamed.get(o, o).n3()} .\n" for s, p, o in mixed)
        return cls(shacl, compile_shapes(shacl, advanced=True), text, value_predicates(shacl))


def _validate_batch(store: ox.Store, batch: list, engine: _Engine) -> tuple[Graph, list]:
    """pyshacl-turbo on one batch's neighbourhood: the report results and findings of the batch's own
    nodes (the neighbours are there for context; their results come from their own batch)."""
    own = {to_rdflib(node) for node in batch}
    data = Input(_neighbourhood(store, batch, engine.wanted) + engine.ontology, "nt", None, {})
    # Only the batch's own nodes are validated, where they can be named (pyshacl-turbo takes IRIs
    # only); a batch holding a blank node is validated whole, and the results are filtered below.
    named = all(isinstance(node, ox.NamedNode) for node in batch)
    try:
        _, batch_report, _ = engine.shapes.validate(
            data, allow_warnings=True, focus_nodes=[node.value for node in batch] if named else None)
    except Exception as exc:  # an engine failure, reported as pySHACL's are
        raise ValidationError(f"SHACL engine failed: {' '.join(str(exc).split())[:400]}") from None
    copied = Graph()
    copy_results(batch_report, own, copied, _REPORT)
    # Blank nodes of this batch's own: a path of the shapes (sh:alternativePath ...) is a blank node
    # of the shapes graph, the same in every batch of a process, and each batch's report copies its
    # list again, so in one file it would pile up a list per batch.
    fresh: dict = {}
    kept = Graph()
    for triple in copied:
        kept.add(tuple(fresh.setdefault(t, BNode()) if isinstance(t, BNode) and t != _REPORT else t
                       for t in triple))
    return kept, each_once([f for f in findings_of(batch_report, {}, engine.shacl) if f.focus in own])


#: What a validation process holds: its read-only view of the shadow store and the engine.
_WORKER: dict = {}


def _start_worker(store_path: str, shapes: list[Path] | None) -> None:
    _WORKER.update(store=ox.Store.read_only(store_path), engine=_Engine.of(shapes_graph(shapes), ontology_graph()))


def _batch_in_worker(batch: list) -> tuple[bytes, list]:
    kept, findings = _validate_batch(_WORKER["store"], batch, _WORKER["engine"])
    return kept.serialize(format="nt", encoding="utf-8"), findings


def _batch_results(store: ox.Store | Path, opened: ox.Store, nodes: list, shapes: list[Path] | None,
                   batch_size: int, processes: int) -> Iterator[tuple[int, Graph | bytes, list]]:
    """(nodes done, report of the batch, findings) for each batch in order: in this process over
    ``opened``, or, for a store on disk with more than one batch, in ``processes`` processes each
    reading it read-only."""
    batches = list(_batches(nodes, batch_size))
    if isinstance(store, ox.Store) or processes < 2 or len(batches) < 2:
        engine = _Engine.of(shapes_graph(shapes), ontology_graph())
        for batch in batches:
            yield (len(batch), *_validate_batch(opened, batch, engine))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(processes, len(batches)), mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(str(store), shapes)) as pool:
        try:
            for batch, (report, findings) in zip(batches, pool.map(_batch_in_worker, batches)):
                yield len(batch), report, findings
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def validate_store(store: ox.Store | Path, shapes: list[Path] | None = None, *, batch_size: int = BATCH_SIZE,
                   report_path: Path | None = None, processes: int = 1,
                   progress: Callable[[str, int, int], None] | None = None) -> ValidationResult:
    """The SHACL verdict of ``store`` (a shadow store written through :func:`shadow_quad`: its named
    graphs and default graph are the data), batch by batch.

    ``store`` is a store, or the folder of one on disk (closed by its writer): then the batches are
    validated by ``processes`` processes side by side, each opening it read-only. The report is the
    same either way, its results in batch order.

    With ``report_path``, each batch's report is appended there as N-Triples and the result's report
    graph stays empty, so the memory taken does not grow with the number of results (a large graph
    has tens of thousands of warnings, each some ten triples).
    """
    opened = store if isinstance(store, ox.Store) else ox.Store.read_only(str(store))
    nodes = focus_nodes(opened, shapes_graph(shapes), ontology_graph())
    report = bind_prefixes(Graph())
    findings = []
    done = 0
    with report_path.open("wb") if report_path else nullcontext() as written:
        for count, kept, batch_findings in _batch_results(store, opened, nodes, shapes, batch_size, processes):
            if written:
                written.write(kept if isinstance(kept, bytes) else kept.serialize(format="nt", encoding="utf-8"))
            elif isinstance(kept, bytes):
                report.parse(data=kept, format="nt")
            else:
                report += kept
            findings += batch_findings
            done += count
            if progress:
                progress("validating", done, len(nodes))
        conforms = not any(f.severity == "Violation" for f in findings)
        if written:
            written.write(f"{_REPORT.n3()} <{SH.conforms}> {Literal(conforms).n3()} .\n".encode())
            return ValidationResult(conforms=conforms, findings=findings, report_graph=report)
    verdict = next(iter(report.subjects(RDF.type, SH.ValidationReport)), None)
    if verdict is None:
        verdict = BNode()
        report.add((verdict, RDF.type, SH.ValidationReport))
    report.add((verdict, SH.conforms, Literal(conforms)))
    return ValidationResult(conforms=conforms, findings=findings, report_graph=report)
