"""A cheap lexical check of SPARQL text: what a read-only, offline endpoint must refuse.

Oxigraph would fetch ``SERVICE`` IRIs over HTTP, and rdflib can load ``FROM`` IRIs from files or
the network; neither may happen here. The query is tokenised (strings, IRIs and comments are
skipped, so ``"SERVICE"`` in a literal is harmless) rather than parsed, so the check costs
microseconds on the hot path; the engine still parses the query itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["QueryRefused", "QueryShape", "inspect_query"]

_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7-\uffff]+)
  | (?P<pname>[\w\u00b7-\uffff.-]*:[\w\u00b7-\uffff.:%-]*)
  | (?P<word>[A-Za-z_]+)
  | (?P<other>\S)
    """,
    re.VERBOSE,
)
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING"}
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


class QueryRefused(Exception):
    """The query asks for something this endpoint never does (network, files, updates)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class QueryShape:
    """What the text says about itself: its form and the graphs it names in FROM / FROM NAMED."""

    form: str | None = None
    from_graphs: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)


def inspect_query(text: str) -> QueryShape:
    """Return the query's form and dataset clauses; raise :class:`QueryRefused` for what is forbidden."""
    shape = QueryShape()
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text) if m.lastgroup != "comment"]
    words = [(i, value.upper()) for i, (kind, value) in enumerate(tokens) if kind == "word"]
    for position, word in words:
        if word == "SERVICE":
            raise QueryRefused("SERVICE (federated query) is not allowed: this endpoint makes no outbound requests")
        if word in _UPDATE_WORDS and shape.form is None:
            raise QueryRefused(f"{word}: this endpoint is read-only and accepts no SPARQL Update", status=403)
        if word in _FORMS and shape.form is None:
            shape.form = word
        if word == "FROM":
            following = tokens[position + 1:position + 3]
            named = bool(following) and following[0][0] == "word" and following[0][1].upper() == "NAMED"
            target = following[1] if named and len(following) > 1 else (following[0] if following else None)
            if target is None or target[0] not in ("iri", "pname"):
                continue  # a syntax error the engine will report with its position
            if target[0] == "pname":
                raise QueryRefused("FROM / FROM NAMED must use a full IRI <...> of one of this endpoint's graphs")
            (shape.from_named if named else shape.from_graphs).append(target[1][1:-1])
    return shape
