"""Oxigraph's SPARQL syntax errors said in words a query's author can act on.

Oxigraph reports a syntax error as the position where parsing stopped and every token its grammar
would have taken there, character classes included (``['A' ..= 'Z' | 'a' ..= 'z' | '\\u{00C0}' ...``,
some kilobytes of them for an undeclared prefix). This keeps the position, names what was found
there, and says what was expected in words: an undeclared prefix by its name (with the declaration
THB-KG uses for it, when it has one), a misspelt query form as such, otherwise the keywords and
punctuation expected, without the character classes.
"""

from __future__ import annotations

import re


__all__ = ["explain_syntax_error"]

_POSITION = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)
_PNAME_BEFORE = re.compile(r"([A-Za-z][\w.-]*)?:[\w.%-]*$")
_WORD_AT = re.compile(r"\S{1,40}")
_PROLOGUE = re.compile(r"(?:\s+|#[^\n]*\n|(?:PREFIX\s*[\w.-]*:\s*|BASE\s*)<[^>]*>)*", re.IGNORECASE)
_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


def _offset(text: str, line: int, column: int) -> int:
    """The character offset of Oxigraph's 1-based line and column in ``text``."""
    lines = text.split("\n")
    line = max(1, min(line, len(lines)))
    return sum(len(previous) + 1 for previous in lines[:line - 1]) + max(0, column - 1)


def _expected(alternatives: str) -> list[str]:
    """The tokens of an ``expected one of ...`` list, character classes and messages left out."""
    tokens, depth, current, quoted, escaped = [], 0, "", False, False
    for char in alternatives:  # split on the commas outside "..." tokens and [...] character classes
        if quoted:
            quoted = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            quoted = True
        elif char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        if char == "," and depth == 0 and not quoted:
            tokens.append(current.strip())
            current = ""
        else:
            current += char
    tokens.append(current.strip())
    return [t for t in tokens if t and not t.startswith("[") and " " not in t.strip('"')]


def explain_syntax_error(text: str, message: str) -> str:
    """``message`` (Oxigraph's) about ``text``, as one or two sentences naming line and column."""
    flat = " ".join(message.split())
    match = _POSITION.match(flat)
    if not match:
        return f"SPARQL syntax error: {flat[:300]}"
    line, column, detail = int(match.group(1)), int(match.group(2)), match.group(3)
    where = f"at line {line}, column {column}"
    offset = _offset(text, line, column)
    start = _PROLOGUE.match(text).end()
    first = _WORD_AT.match(text, start)
    if first and first.group().upper() not in _FORMS and not re.match(r"(?i)(PREFIX|BASE)\b", first.group()):
        return (f"SPARQL syntax error at line {text.count(chr(10), 0, start) + 1}: a query starts with SELECT, "
                f"ASK, CONSTRUCT or DESCRIBE (after any PREFIX and BASE), not {first.group()[:40]!r}")
    if "Prefix not found" in detail:
        pname = _PNAME_BEFORE.search(text[:offset])
        if pname:
            # rdflib (under the prefix map) is not loaded in query workers until a prefix is missing.
            from thbkg.namespaces import PREFIXES

            prefix = pname.group(1) or ""
            hint = f"; declare it, for example PREFIX {prefix}: <{PREFIXES[prefix]}>" if prefix in PREFIXES else \
                f"; declare it with PREFIX {prefix}: <...> before the query"
            return f"SPARQL syntax error {where}: unknown prefix '{prefix}:'{hint}"
    if "unbound" in detail:
        sentence = next((part.strip() for part in detail.split(",") if "unbound" in part), detail)
        return f"SPARQL syntax error {where}: {sentence[:200]}"
    found = _WORD_AT.match(text, offset) if offset < len(text) else None
    found_text = f"found {found.group()!r}" if found else "the query ends there"
    expected = _expected(detail.removeprefix("expected one of ").removeprefix("expected "))
    wanted = f"; expected {', '.join(expected[:12])}" + (" ..." if len(expected) > 12 else "") if expected else ""
    return f"SPARQL syntax error {where}: {found_text}{wanted}"
