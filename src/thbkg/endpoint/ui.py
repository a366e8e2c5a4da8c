"""The SPARQL editor page (/editor): YASGUI from our own static files, one tab per competency question."""

from __future__ import annotations

from pathlib import Path

from thbkg.endpoint.templating import render
from thbkg.namespaces import BASE, PREFIXES
from thbkg.queries import NamedQuery

__all__ = ["STATIC_DIR", "render_ui", "tab_name"]

#: Served at ``/static``: the vendored YASGUI build (see ``static/yasgui/README.md``), the site's style
#: and the editor's script.
STATIC_DIR = Path(__file__).resolve().parent / "static"

_TAB_NAME_LENGTH = 60


def tab_name(question: str, limit: int = _TAB_NAME_LENGTH) -> str:
    """A question short enough for a tab: cut at a word boundary, with an ellipsis."""
    if len(question) <= limit:
        return question
    cut = question[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def render_ui(queries: list[NamedQuery]) -> str:
    """The editor: YASGUI with a tab per competency question, run against ``/sparql``."""
    config = {
        "endpoint": "/sparql",
        "base": BASE,
        "localPaths": ["id/", "ontology", "graph/", "dataset", "shapes"],
        "prefixes": PREFIXES,
        "tabs": [{"id": q.name, "name": tab_name(q.question), "question": q.question, "query": q.text}
                 for q in queries],
    }
    return render("editor.html", config=config)
