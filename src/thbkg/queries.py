"""The competency questions and quality checks: finding, reading and running SPARQL files."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import rdflib.plugins.sparql
from rdflib import Dataset, Graph
from rdflib.query import Result

from thbkg.graph import bundle_dir, network_forbidden

__all__ = [
    "OTHER_THEME",
    "NamedQuery",
    "QueryError",
    "find_query",
    "format_table",
    "load_queries",
    "query_from_argument",
    "render_answer",
    "render_result",
    "result_rows",
    "run_query",
]

# Queries may never make rdflib dereference FROM / FROM NAMED IRIs (file or network access).
rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False


#: The theme of a query file without a ``# Theme:`` line.
OTHER_THEME = "Other questions"


class QueryError(Exception):
    """A query file that cannot be found, parsed or run."""


@dataclass(frozen=True)
class NamedQuery:
    """A SPARQL file: its question (first comment line), its text, its expected results and its theme
    (a ``# Theme:`` comment line, which groups the questions on the home page)."""

    path: Path
    question: str
    text: str
    expected: Path | None
    theme: str = OTHER_THEME

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def explanation(self) -> str:
        """The comment block under the question (its ``Expected:`` and ``Theme:`` lines left out), as prose."""
        lines = []
        for line in self.text.splitlines()[1:]:
            if not line.startswith("#"):
                break
            comment = line[1:].strip()
            if comment.partition(":")[0].strip().lower() not in {"expected", "theme"}:
                lines.append(comment)
        return " ".join(line for line in lines if line)

    @classmethod
    def from_path(cls, path: Path) -> "NamedQuery":
        text = path.read_text(encoding="utf-8")
        comments = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
        question = comments[0] if comments else path.stem
        expected, theme = None, OTHER_THEME
        for comment in comments:
            key, _, value = comment.partition(":")
            if key.strip().lower() == "expected" and value.strip():
                expected = path.parent / value.strip()
            elif key.strip().lower() == "theme" and value.strip():
                theme = value.strip()
        return cls(path=path, question=question, text=text, expected=expected, theme=theme)


def load_queries(folder: Path | None = None, pattern: str = "cq-*.rq") -> list[NamedQuery]:
    """Every query file matching ``pattern`` in ``folder`` (default: the bundled queries)."""
    folder = folder or bundle_dir() / "queries"
    return [NamedQuery.from_path(p) for p in sorted(folder.glob(pattern))]


_QUERY_TEXT = re.compile(r"(?is)^\s*(?:#[^\n]*\n\s*)*(?:(?:PREFIX|BASE)\b|(?:SELECT|ASK|CONSTRUCT|DESCRIBE)\b)")


def query_from_argument(argument: str, stdin: TextIO | None = None, folder: Path | None = None) -> NamedQuery:
    """What ``thbkg query`` was given: ``-`` (the query on standard input), a file, the text of a
    query (it starts with PREFIX, BASE or a query form), or the name of a bundled query."""
    if argument == "-":
        text = (stdin or sys.stdin).read()
        if not text.strip():
            raise QueryError("standard input holds no query: pipe one in, e.g. echo 'ASK {}' | thbkg query -")
        return NamedQuery(Path("stdin.rq"), "(standard input)", text, None)
    if not Path(argument).is_file() and _QUERY_TEXT.match(argument):
        return NamedQuery(Path("query.rq"), "(query text)", argument, None)
    return find_query(argument, folder)


def find_query(name_or_path: str, folder: Path | None = None) -> NamedQuery:
    """A query by file path, by file name, or by name prefix such as ``cq-01``."""
    path = Path(name_or_path)
    if path.is_file():
        return NamedQuery.from_path(path)
    folder = folder or bundle_dir() / "queries"
    stem = path.name.removesuffix(".rq")
    matches = sorted(p for p in folder.rglob("*.rq") if p.stem == stem or p.stem.startswith(stem + "-"))
    if len(matches) == 1:
        return NamedQuery.from_path(matches[0])
    if not matches:
        raise QueryError(f"no query file or name {name_or_path!r}; try `thbkg query --list`")
    raise QueryError(f"{name_or_path!r} matches {len(matches)} queries: "
                     + ", ".join(p.stem for p in matches))


def run_query(dataset: Dataset | Graph, text: str) -> Result:
    """Run SPARQL ``text`` over ``dataset`` (default graph = union of all graphs), offline."""
    try:
        with network_forbidden():
            result = dataset.query(text)
            if result.type in ("SELECT", "ASK"):
                result.bindings  # evaluate now, inside the guard
            return result
    except PermissionError as exc:
        raise QueryError(f"{exc}: SERVICE and remote FROM are not allowed") from None
    except Exception as exc:  # pyparsing and rdflib evaluation errors
        raise QueryError(f"cannot run query: {' '.join(str(exc).split())[:400]}") from None


def result_rows(result: Result) -> list[list[str]]:
    """SELECT results as rows of strings, as the CSV results format writes them (header first)."""
    text = result.serialize(format="csv").decode("utf-8")
    return [row for row in csv.reader(io.StringIO(text))]


def format_table(rows: list[list[str]]) -> str:
    """Rows of strings (header first) as an aligned text table, with the count of rows under it."""
    if not rows:
        return "(0 row(s))"
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + f"\n({len(rows) - 1} row(s))"


def render_answer(answer, fmt: str = "table") -> str:
    """A backend's :class:`~thbkg.backend.engine.Answer` as a command prints it: ``fmt`` table (from a
    CSV answer), or the body as it is (CSV, SPARQL JSON; graphs in the format they were asked in)."""
    body = answer.body.decode("utf-8")
    if fmt != "table" or answer.form in ("CONSTRUCT", "DESCRIBE"):
        return body
    if answer.form == "ASK":
        return body.strip().lower()  # the CSV of a boolean answer is "true" or "false"
    return format_table(list(csv.reader(io.StringIO(body))))


def render_result(result: Result, fmt: str = "table") -> str:
    """SELECT/ASK as a text table, CSV or SPARQL JSON; CONSTRUCT/DESCRIBE as Turtle."""
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        return result.graph.serialize(format="turtle")
    if result.type == "ASK":
        answer = bool(result.askAnswer)
        return json.dumps({"head": {}, "boolean": answer}) if fmt == "json" else str(answer).lower()
    if fmt == "csv":
        return result.serialize(format="csv").decode("utf-8")
    if fmt == "json":
        return result.serialize(format="json").decode("utf-8")
    return format_table(result_rows(result))
