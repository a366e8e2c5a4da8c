"""SHACL validation of a store in bounded memory: pySHACL over batches of focus nodes read from it.

pySHACL needs the data in an rdflib graph, about a kilobyte of memory per triple: a whole graph of
ten million triples would need some twelve gigabytes. The store it reads is a shadow of the served
one, written from the same stream through :func:`shadow_quad`: Oxigraph keeps literals of the XSD types
it knows by value (``"3"^^xsd:positiveInteger`` is read back as an ``xsd:integer``), which would
hide exactly what ``sh:datatype`` checks, so there every typed literal carries its datatype wrapped
in an IRI Oxigraph does not know, and is unwrapped here. The shapes of THB-KG are local: each looks at
a focus node's own triples, at the values they point to (``sh:class``, ``sh:node``, qualified value
shapes) and, through SPARQL constraints, at ``$this``'s own properties. So the focus nodes of every
shape's targets are read from the store, cut into batches, and each batch is validated with every
triple of its focus nodes and of the nodes they point to (two hops), the ontology mixed in as in
:func:`thbkg.validate.validate_dataset`. The shapes validate the batch's own focus nodes only (a
node reached in two hops is validated in its own batch, with all of its triples), and the batches are
shared among one process per core. A test checks that this gives the whole-graph report exactly, on
the bundled graph and on every invalid fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH

from thbkg.backend.reading import to_rdflib
from thbkg.namespaces import GRAPH, bind_prefixes
from thbkg.pyshacl_tuning import focus_nodes_only, pyshacl_tuned
from thbkg.validate import (ValidationError, ValidationResult, copy_results, each_once, findings_of,
                            ontology_graph, shapes_graph)

__all__ = ["BATCH_SIZE", "focus_nodes", "shadow_quad", "validate_store"]

#: Focus nodes validated together: with two hops, some tens of thousands of triples in rdflib.
BATCH_SIZE = 5_000
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


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _neighbourhood(store: ox.Store, batch: Iterable) -> Graph:
    """Every triple of the batch's nodes and of the nodes they point to, in one rdflib graph."""
    graph = bind_prefixes(Graph())
    seen: set = set()
    hop = list(batch)
    for _ in range(2):
        following = []
        for node in hop:
            if node in seen:
                continue
            seen.add(node)
            for quad in store.quads_for_pattern(node, None, None, None):
                if quad.graph_name in _NOT_DATA:
                    continue
                graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), _unwrapped(quad.object)))
                if not isinstance(quad.object, ox.Literal):
                    following.append(quad.object)
        hop = following
    return graph


def _validate_batch(store: ox.Store, batch: list, shacl: Graph, ontology: Graph) -> tuple[Graph, list]:
    """pySHACL on one batch's neighbourhood: the report results and findings of the batch's own nodes."""
    own = {to_rdflib(node) for node in batch}
    data = _neighbourhood(store, batch)
    try:
        # inplace: the neighbourhood is ours to mix the ontology into, not copied
        with pyshacl_tuned(), focus_nodes_only(own):
            _, batch_report, _ = pyshacl_validate(
                data_graph=data, shacl_graph=shacl, ont_graph=ontology, inference="none", advanced=True,
                inplace=True, allow_warnings=True, do_owl_imports=False, meta_shacl=False)
    except Exception as exc:  # pyshacl reports broken shapes as runtime errors
        raise ValidationError(f"SHACL engine failed: {' '.join(str(exc).split())[:400]}") from None
    kept = Graph()
    copy_results(batch_report, own, kept, _REPORT)
    return kept, each_once([f for f in findings_of(batch_report, {}) if f.focus in own])


#: What a validation process holds: its read-only view of the shadow store, the shapes and ontology.
_WORKER: dict = {}


def _start_worker(store_path: str, shapes: list[Path] | None) -> None:
    _WORKER.update(store=ox.Store.read_only(store_path), shacl=shapes_graph(shapes), ontology=ontology_graph())


def _batch_in_worker(batch: list) -> tuple[bytes, list]:
    kept, findings = _validate_batch(_WORKER["store"], batch, _WORKER["shacl"], _WORKER["ontology"])
    return kept.serialize(format="nt", encoding="utf-8"), findings


def _batch_results(store: ox.Store | Path, opened: ox.Store, nodes: list, shapes: list[Path] | None,
                   batch_size: int, processes: int) -> Iterator[tuple[int, Graph | bytes, list]]:
    """(nodes done, report of the batch, findings) for each batch in order: in this process over
    ``opened``, or, for a store on disk with more than one batch, in ``processes`` processes each
    reading it read-only."""
    batches = list(_batches(nodes, batch_size))
    if isinstance(store, ox.Store) or processes < 2 or len(batches) < 2:
        shacl, ontology = shapes_graph(shapes), ontology_graph()
        for batch in batches:
            yield (len(batch), *_validate_batch(opened, batch, shacl, ontology))
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
