"""What a page shows of a term: the labels of IRIs, asked of the backend in one query, and the term
as a template prints it (its text, linked to our page where it is an IRI)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS
from rdflib.term import Node

from thbkg.backend import Backend
from thbkg.backend.reading import select, sparql_iri
from thbkg.endpoint.templating import local_href
from thbkg.namespaces import bind_prefixes

__all__ = ["Labels", "Term", "prefixed_name"]

_NAMESPACES = bind_prefixes(Graph()).namespace_manager
_COMPACT = re.compile(r"[-+]?[\d][\d\-:.,T Z/]*")


def prefixed_name(iri: URIRef) -> str:
    """``thb:Ratification`` for an IRI in one of our namespaces, the IRI itself otherwise."""
    return _NAMESPACES.normalizeUri(iri)


@dataclass(frozen=True)
class Term:
    """A term as a page shows it: its text, the local link and whole IRI of an IRI, a literal's language."""

    text: str
    href: str | None = None
    iri: str | None = None
    lang: str | None = None

    @property
    def nowrap(self) -> bool:
        """A date or a figure, kept on one line (``2002-10-29`` never breaks at its hyphens)."""
        return len(self.text) <= 24 and _COMPACT.fullmatch(self.text) is not None


class Labels:
    """The labels of the IRIs a page shows, asked in one query; a term without one is shown by its
    prefixed name."""

    def __init__(self, rows: list[dict[str, Node]]):
        self.by_term: dict[Node, list[Literal]] = defaultdict(list)
        for row in rows:
            self.by_term[row["x"]].append(row["label"])

    @classmethod
    async def of(cls, backend: Backend, terms: Iterable[Node],
                 properties: Iterable[URIRef] = (RDFS.label,)) -> "Labels":
        """The ``properties`` values (``rdfs:label`` by default) of the IRIs among ``terms``."""
        iris = sorted({sparql_iri(term) for term in terms if isinstance(term, URIRef)})
        if not iris:
            return cls([])
        predicates = " ".join(sparql_iri(p) for p in properties)
        return cls(await select(backend, f"SELECT ?x ?label WHERE {{ VALUES ?x {{ {' '.join(iris)} }} "
                                         f"VALUES ?p {{ {predicates} }} ?x ?p ?label }}"))

    def label(self, node: Node, *languages: str) -> str | None:
        """The first label of ``node`` in the first of ``languages`` that has one, else any; None if none."""
        labels = sorted(self.by_term.get(node, ()), key=str)
        for lang in languages:
            for label in labels:
                if isinstance(label, Literal) and label.language == lang:
                    return str(label)
        return str(labels[0]) if labels else None

    def text(self, node: Node, lang: str = "en") -> str:
        found = self.label(node, lang)
        return found if found is not None else prefixed_name(node)

    def term(self, node: Node, text: str | None = None) -> Term:
        """What a template shows of ``node``: ``text`` or its label, linked where it is an IRI."""
        if isinstance(node, URIRef):
            return Term(text or self.text(node), local_href(node), str(node))
        if isinstance(node, Literal):
            return Term(str(node), lang=node.language)
        return Term(str(node))
