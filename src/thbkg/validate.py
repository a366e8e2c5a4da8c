"""SHACL validation of the graph with pyshacl, as values: findings grouped by resource."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pyshacl import validate as pyshacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from thbkg.graph import LoadedDataset, LoadError, bundle_dir, load_dataset
from thbkg.namespaces import bind_prefixes
from thbkg.pyshacl_tuning import pyshacl_tuned

__all__ = [
    "Finding",
    "copy_results",
    "each_once",
    "findings_of",
    "ValidationError",
    "ValidationResult",
    "ontology_graph",
    "shapes_graph",
    "shapes_paths",
    "validate_dataset",
    "validate_files",
]


class ValidationError(Exception):
    """Validation could not run at all (bad shapes, an engine failure)."""


@dataclass(frozen=True)
class Finding:
    """One SHACL result, in terms a reader can act on."""

    focus: Node
    path: Node | None
    value: Node | None
    message: str
    severity: str
    shape: Node | None
    files: tuple[Path, ...] = ()

    def as_dict(self, shorten) -> dict:
        return {
            "resource": shorten(self.focus),
            "property": shorten(self.path) if self.path is not None else None,
            "value": shorten(self.value) if self.value is not None else None,
            "message": self.message,
            "severity": self.severity,
            "shape": shorten(self.shape) if self.shape is not None else None,
            "files": [str(f) for f in self.files],
        }


@dataclass
class ValidationResult:
    """What pyshacl found: ``conforms`` is False only when there is a violation."""

    conforms: bool
    findings: list[Finding] = field(default_factory=list)
    report_graph: Graph = field(default_factory=Graph)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "Violation"]

    def shorten(self, node: Node | None) -> str:
        if node is None:
            return ""
        if isinstance(node, URIRef):
            try:
                return self.report_graph.namespace_manager.normalizeUri(node)
            except Exception:  # an IRI rdflib cannot abbreviate
                return f"<{node}>"
        if isinstance(node, Literal):
            return node.n3(self.report_graph.namespace_manager)
        return f"_:{node}"

    def to_text(self, show_warnings: bool = False) -> str:
        """A readable report grouped by resource: message, property, offending value, file.

        Violations are always listed; warnings (recommendations) are counted per message
        unless ``show_warnings`` lists them too.
        """
        verdict = "The data conforms to the shapes" if self.conforms else "The data does NOT conform to the shapes"
        lines = [f"{verdict}: {len(self.violations)} violation(s), {len(self.warnings)} warning(s)."]
        listed = self.findings if show_warnings else self.violations
        grouped: dict[Node, list[Finding]] = defaultdict(list)
        for finding in sorted(listed, key=lambda f: (str(f.focus), f.severity, str(f.path), f.message)):
            grouped[finding.focus].append(finding)
        for focus, findings in grouped.items():
            files = sorted({str(p) for f in findings for p in f.files})
            lines.append("")
            lines.append(f"{self.shorten(focus)}" + (f"  (in {', '.join(files)})" if files else ""))
            for f in findings:
                lines.append(f"  {f.severity}: {f.message}")
                detail = []
                if f.path is not None:
                    detail.append(f"property {self.shorten(f.path)}")
                if f.value is not None:
                    detail.append(f"value {self.shorten(f.value)}")
                if f.shape is not None and not isinstance(f.shape, BNode):
                    detail.append(f"shape {self.shorten(f.shape)}")
                if detail:
                    lines.append("    " + "; ".join(detail))
        if self.warnings and not show_warnings:
            counts: dict[str, int] = defaultdict(int)
            for finding in self.warnings:
                counts[finding.message] += 1
            lines.append("")
            lines.append("Warnings (recommendations, listed in full with --warnings):")
            lines += [f"  {n:4d} x {message}" for message, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps({"conforms": self.conforms,
                           "violations": len(self.violations),
                           "warnings": len(self.warnings),
                           "results": [f.as_dict(self.shorten) for f in sorted(
                               self.findings, key=lambda f: (str(f.focus), str(f.path), f.message))]},
                          indent=2, ensure_ascii=False)

    def to_turtle(self) -> str:
        return self.report_graph.serialize(format="turtle")


def shapes_paths(root: Path | None = None) -> list[Path]:
    """The bundled shape files: violations, then warnings."""
    ontology = (root or bundle_dir()) / "ontology"
    return [p for p in (ontology / "shapes.ttl", ontology / "shapes-warnings.ttl") if p.is_file()]


@lru_cache(maxsize=4)
def _load_graph(paths: tuple[Path, ...]) -> Graph:
    return load_dataset(paths).union_graph()


def shapes_graph(paths: list[Path] | None = None) -> Graph:
    """The SHACL shapes as one graph (cached per list of files)."""
    return _load_graph(tuple(paths or shapes_paths()))


def ontology_graph(root: Path | None = None) -> Graph:
    """The ontology and SKOS vocabularies: class hierarchy and concepts the shapes rely on."""
    ontology = (root or bundle_dir()) / "ontology"
    return _load_graph((ontology / "thb.ttl", *sorted((ontology / "vocabularies").glob("*.ttl"))))


def findings_of(report: Graph, files_of: dict, shapes: Graph | None = None) -> list[Finding]:
    """The results of a SHACL report graph as findings; ``files_of`` gives each focus node's files.

    A result of a SPARQL constraint carries two messages, the constraint's (its variables filled in)
    and its shape's. The finding says the constraint's, as pySHACL writes it first; with ``shapes``
    that choice is made by what each message is, not by the order in which the report was read
    (another engine, or a report parsed back, lists them in another order)."""
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        severity = report.value(result, SH.resultSeverity)
        shape = report.value(result, SH.sourceShape)
        messages = [m for m in report.objects(result, SH.resultMessage)]
        if shapes is not None and (result, SH.sourceConstraint, None) in report:
            of_shape = {str(m) for m in shapes.objects(shape, SH.message)}
            messages.sort(key=lambda m: (str(m) in of_shape, str(m)))
        english = [m for m in messages if getattr(m, "language", None) in ("en", None)]
        findings.append(Finding(
            focus=focus,
            path=report.value(result, SH.resultPath),
            value=report.value(result, SH.value),
            message=str((english or messages or ["(no message)"])[0]),
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            shape=shape,
            files=tuple(sorted(files_of.get(focus, ()))),
        ))
    return findings


def validate_dataset(loaded: LoadedDataset, shapes: list[Path] | None = None,
                     ontology: Graph | None = None) -> ValidationResult:
    """Validate the union of every graph in ``loaded`` against the shapes.

    The ontology (class hierarchy) is mixed in so that a shape on ``thb:Organisation`` also
    targets ``thb:Ministry`` instances. Warnings never make the data non-conforming. No
    ``owl:imports`` is followed.
    """
    try:
        shacl = shapes_graph(shapes)
        ont = ontology if ontology is not None else ontology_graph()
    except LoadError as exc:
        raise ValidationError(f"cannot load shapes or ontology: {exc}") from None
    data = loaded.union_graph()
    try:
        with pyshacl_tuned():
            conforms, report, _text = pyshacl_validate(
                data_graph=data,
                shacl_graph=shacl,
                ont_graph=ont,
                inference="none",
                advanced=True,
                allow_warnings=True,
                do_owl_imports=False,
                meta_shacl=False,
            )
    except Exception as exc:  # pyshacl reports broken shapes as runtime errors
        raise ValidationError(f"SHACL engine failed: {' '.join(str(exc).split())[:400]}") from None
    result = ValidationResult(conforms=bool(conforms), report_graph=bind_prefixes(report))
    result.findings = each_once(findings_of(report, loaded.files_of, shacl))
    return result


def each_once(findings: list[Finding]) -> list[Finding]:
    """Each finding once: a value that breaks a rule stated by two shapes (on a class and on its
    superclass, say) is one thing for the reader to fix."""
    seen, kept = set(), []
    for finding in findings:
        key = (finding.focus, finding.severity, finding.path, finding.value, finding.message)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def validate_files(paths: list[Path], shapes: list[Path] | None = None, *, alone: bool = False) -> ValidationResult:
    """The verdict on the resources ``paths`` describe: validated with the bundled graph beside them
    (so what they link to in it is there), unless ``alone``; findings on the bundled graph's own
    resources are left out. The report graph keeps only the results the findings come from."""
    from thbkg.graph import default_paths

    if alone:
        return validate_dataset(load_dataset(paths), shapes)
    given = {path.resolve() for path in paths}
    context = [path for path in default_paths() if path.resolve() not in given]
    loaded = load_dataset([*context, *paths])
    result = validate_dataset(loaded, shapes)
    ours = {node for node, files in loaded.files_of.items() if any(f.resolve() in given for f in files)}
    findings = [f for f in result.findings if f.focus in ours]
    report = bind_prefixes(Graph())
    verdict = BNode()
    copy_results(result.report_graph, ours, report, verdict)
    conforms = not any(f.severity == "Violation" for f in findings)
    report.add((verdict, SH.conforms, Literal(conforms)))
    return ValidationResult(conforms=conforms, findings=findings, report_graph=report)


def copy_results(source: Graph, focus: set, target: Graph, report) -> None:
    """Every ``sh:ValidationResult`` of ``source`` about a node of ``focus``, with the blank nodes it
    holds (paths, nested results), into ``target`` as a result of the ``report`` node there."""
    target.add((report, RDF.type, SH.ValidationReport))
    for result in list(source.subjects(RDF.type, SH.ValidationResult)):
        if source.value(result, SH.focusNode) not in focus:
            continue
        todo = [result]
        while todo:
            current = todo.pop()
            for p, o in source.predicate_objects(current):
                target.add((current, p, o))
                if isinstance(o, BNode):
                    todo.append(o)
        target.add((report, SH.result, result))
