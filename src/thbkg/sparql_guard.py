"""A cheap lexical check of SPARQL text: what a read-only, offline endpoint must refuse.

Oxigraph would fetch ``SERVICE`` IRIs over HTTP, and rdflib can load ``FROM`` IRIs from files or
the network; neither may happen here. The query is tokenised (strings, IRIs and comments are
skipped, so ``"SERVICE"`` in a literal is harmless) rather than parsed, so the check costs
microseconds on the hot path; the engine still parses the query itself.

The check runs in the server's event loop, so it is linear in the length of the text whatever the
text is (no regular expression here can backtrack over a long run), and it refuses queries nested
deeper than :data:`MAX_NESTING` brackets, which Oxigraph's recursive parser and evaluator would
otherwise answer by overflowing a worker's stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from dataclasses import dataclass, field

__all__ = ["MAX_NESTING", "QueryRefused", "QueryShape", "inspect_query", "shape_of"]

#: Deepest nesting of ``{`` ``(`` ``[`` accepted. Hand-written and generated queries stay far
#: below it; Oxigraph 0.5 parses and evaluates this depth of any construct within a few MB of stack.
MAX_NESTING = 128

# Every alternative either matches at its first character or fails there at once, except where it
# consumes what it scanned: an unterminated string ends at the line (or, triple-quoted, text) end,
# and a run of name characters is one token, split afterwards by _split_run without backtracking.
_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*(?:''')?|\"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\")?
              |'(?:[^'\\\n\r]|\\.)*'?|"(?:[^"\\\n\r]|\\.)*"?)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7-\uffff]+)
  | (?P<run>[\w\u00b7-\uffff.:%-]+)
  | (?P<brackets>[{}()\[\]]+)
  | (?P<other>[^\s\w\u00b7-\uffff.:%{}()\[\]<"'\#?$-]+|\S)
    """,
    re.VERBOSE,
)
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING"}
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
# The only words the check acts on, as whole words (no ASCII letter or _ on either side).
_KEYWORDS = re.compile(r"(?<![A-Za-z_])(?:%s)(?![A-Za-z_])" % "|".join(
    sorted(_UPDATE_WORDS | _FORMS | {"SERVICE", "FROM", "NAMED"})), re.IGNORECASE)


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


def _split_run(run: str) -> Iterator[tuple[str, str]]:
    """Tokens of a run of name characters, as a SPARQL lexer sees them: the keywords among its
    words, ``other`` for what lies between, and a prefixed name, which starts after the last
    ``%`` before the first ``:`` and takes the rest of the run."""
    colon = run.find(":")
    end = run.rfind("%", 0, colon) + 1 if colon >= 0 else len(run)
    position = 0
    for match in _KEYWORDS.finditer(run, 0, end):
        if match.start() > position:
            yield "other", ""
        yield "word", match.group()
        position = match.end()
    if position < end:
        yield "other", ""
    if colon >= 0:
        yield "pname", run[end:]


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    """The tokens the check looks at: keywords, IRIs, prefixed names, brackets, and ``other``."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "run":
            run = match.group()
            if ":" in run or _KEYWORDS.search(run):
                yield from _split_run(run)
            else:
                yield "other", ""
        elif kind != "comment":
            yield kind, match.group()


def inspect_query(text: str) -> QueryShape:
    """Return the query's form and dataset clauses; raise :class:`QueryRefused` for what is forbidden."""
    shape = QueryShape()
    depth = deepest = 0
    dataset_clause: str | None = None  # "FROM" or "FROM NAMED" while its target is awaited
    for kind, value in _tokens(text):
        if kind == "brackets":
            if not value.strip("{(["):
                depth += len(value)
                deepest = max(deepest, depth)
            else:
                for bracket in value:
                    depth = depth + 1 if bracket in "{([" else max(0, depth - 1)
                    deepest = max(deepest, depth)
        word = value.upper() if kind == "word" else None
        if dataset_clause is not None:
            if dataset_clause == "FROM" and word == "NAMED":
                dataset_clause = "FROM NAMED"
                continue
            if kind == "pname":
                raise QueryRefused("FROM / FROM NAMED must use a full IRI <...> of one of this endpoint's graphs")
            if kind == "iri":  # anything else is a syntax error the engine will report with its position
                (shape.from_named if dataset_clause == "FROM NAMED" else shape.from_graphs).append(value[1:-1])
            dataset_clause = None
        if word is None:
            continue
        if word == "SERVICE":
            raise QueryRefused("SERVICE (federated query) is not allowed: this endpoint makes no outbound requests")
        if word in _UPDATE_WORDS and shape.form is None:
            raise QueryRefused(f"{word}: this endpoint is read-only and accepts no SPARQL Update", status=403)
        if word in _FORMS and shape.form is None:
            shape.form = word
        if word == "FROM":
            dataset_clause = "FROM"
    if deepest > MAX_NESTING:
        raise QueryRefused(f"query nested too deeply ({deepest} levels; limit {MAX_NESTING})")
    return shape


#: Texts up to this length have their shape remembered (a repeated query is checked once).
_REMEMBERED_CHARS = 16 * 1024


@lru_cache(maxsize=1024)
def _remembered_shape(text: str) -> QueryShape:
    return inspect_query(text)


def shape_of(text: str) -> QueryShape:
    """:func:`inspect_query`, remembered for the last thousand short texts (a refusal is not kept).
    The shape returned may be shared: read it, never change it."""
    return _remembered_shape(text) if len(text) <= _REMEMBERED_CHARS else inspect_query(text)
