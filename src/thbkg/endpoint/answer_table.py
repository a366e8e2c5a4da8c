"""A SELECT answer as a person reads it: labels instead of IRIs, sources by title, statuses marked, pages.

A column ``x`` of IRIs followed by ``xLabel`` or ``xTitle`` becomes one column of links labelled by
the label (``source`` + ``sourceTitle`` -> the source's title, linking to its page); other IRIs are
labelled by the graph (``rdfs:label`` or ``skos:prefLabel``, English first), asked in one query.
Literals are shown whole (dates, figures, notes).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from rdflib import URIRef
from rdflib.namespace import RDFS, SKOS
from rdflib.term import Node

from thbkg.backend import Backend
from thbkg.endpoint.labels import Labels, Term

__all__ = ["PAGE_SIZE", "Column", "Table", "answer_table", "columns_of", "heading"]

#: Rows shown per page of a question's answer.
PAGE_SIZE = 100
_LABEL_SUFFIXES = ("Label", "Title")
_VERIFIED = {"", "verified", "accepted"}


@dataclass(frozen=True)
class Column:
    name: str  # the variable shown (an IRI column when paired with its label)
    heading: str
    label: str | None = None  # the variable holding the label of ``name``'s IRIs
    status: bool = False  # a claim status: marked when it is not "verified"


@dataclass
class Table:
    columns: list[Column]
    rows: list[list[Term]]
    contested: list[bool]
    total: int
    page: int
    pages: int
    cut: bool = False  # the engine's row cap cut the answer
    start: int = field(default=0)


def heading(variable: str) -> str:
    """``inForceForFranceOn`` -> ``In force for France on``: the variable's words, in sentence case
    (France, the graph's subject, keeps its capital)."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", variable).split()
    words = [w if w == "France" else w.lower() for w in words]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def columns_of(variables: list[str]) -> list[Column]:
    """The columns shown: each IRI column merged with the label column that follows it."""
    names = set(variables)
    merged = {f"{v}{suffix}" for v in variables for suffix in _LABEL_SUFFIXES if f"{v}{suffix}" in names}
    columns = []
    for variable in variables:
        if variable in merged:
            continue
        label = next((f"{variable}{s}" for s in _LABEL_SUFFIXES if f"{variable}{s}" in names), None)
        columns.append(Column(variable, heading(variable), label, variable.lower().endswith("status")))
    return columns


def _text(node: Node | None) -> str:
    return "" if node is None else str(node)


async def answer_table(backend: Backend, variables: list[str], rows: list[dict[str, Node]], *,
                       page: int = 1, cut: bool = False, page_size: int = PAGE_SIZE) -> Table:
    """Page ``page`` (from 1) of ``rows`` as readable cells."""
    columns = columns_of(variables)
    pages = max(1, math.ceil(len(rows) / page_size))
    page = min(max(1, page), pages)
    start = (page - 1) * page_size
    shown = rows[start:start + page_size]
    unlabelled = {row[c.name] for row in shown for c in columns
                  if c.label is None and isinstance(row.get(c.name), URIRef)}
    labels = await Labels.of(backend, unlabelled, (RDFS.label, SKOS.prefLabel))
    cells, contested = [], []
    for row in shown:
        line, flagged = [], False
        for column in columns:
            value = row.get(column.name)
            if isinstance(value, URIRef):
                text = _text(row.get(column.label)) if column.label else labels.label(value, "en", "fr")
                line.append(labels.term(value, text))
            else:
                line.append(Term(_text(value)))
                if column.status and _text(value).strip().lower() not in _VERIFIED:
                    flagged = True
        cells.append(line)
        contested.append(flagged)
    return Table(columns, cells, contested, len(rows), page, pages, cut, start)

