"""The ontology as a web page: pyLODE's documentation of `ontology/thb.ttl`, with the class diagrams."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from rdflib import Graph

from thbkg.graph import network_forbidden
from thbkg.ontology_diagram import VIEWS, bundled_diagram

__all__ = ["render_ontology_docs"]

_TITLES = {"hierarchy": "Class hierarchy", "relations": "Object properties between classes"}
_CLASSES_SECTION = '<div class="section" id="classes">'
_CLASSES_TOC = re.compile(r'<li>\s*<h4>\s*<a href="#classes">')
_LINK = re.compile(r'xlink:href="([^"]*)"')


def render_ontology_docs(ontology: Graph, diagrams: Sequence[Path] | None = None) -> str:
    """A self-contained HTML page (no external assets) describing every class and property.

    ``diagrams`` are SVG files shown inline in a "Diagrams" section before the classes; by default the
    committed class diagrams of the bundle (drawn by ``make diagram``), so serving needs no Graphviz.
    Missing files are left out.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    from pylode import OntPub

    # Importing pyLODE calls logging.basicConfig(level=DEBUG) (its supermodel profile): every library's
    # debug lines (asyncio, matplotlib ...) would reach the console. The root logger is put back.
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    quiet = logging.getLogger().level
    logging.getLogger().setLevel(max(quiet, logging.WARNING))  # pyLODE logs its progress at INFO
    try:
        with network_forbidden():
            publication = OntPub(ontology)
            page = publication.make_html()
    finally:
        logging.getLogger().setLevel(quiet)
    if diagrams is None:
        diagrams = [bundled_diagram(view) for view in VIEWS]
    sections = getattr(publication, "fids", {})  # term IRI -> the id of its section on the page
    figures = [_figure(path, sections) for path in diagrams if path.is_file()]
    return _with_diagrams(page, figures) if figures else page


def _figure(path: Path, sections: dict[str, str]) -> str:
    """The SVG inline (its XML prologue dropped), links to terms turned into links to their sections."""
    svg = path.read_text(encoding="utf-8")

    def to_section(link: re.Match) -> str:
        section = sections.get(html.unescape(link.group(1)))
        if not section:
            return link.group(0)
        # written as pyLODE writes its ids (apostrophes kept), so that the fragment matches
        return 'xlink:href="#' + html.escape(section, quote=False).replace('"', "&quot;") + '"'

    svg = _LINK.sub(to_section, svg[svg.find("<svg"):])
    view = path.stem.removeprefix("class-diagram-")
    title = html.escape(_TITLES.get(view, view.capitalize()))
    return (f'<figure class="diagram" id="diagram-{html.escape(view)}"><h3>{title}</h3>'
            f'<div style="overflow:auto; max-height:90vh; border:1px solid #ccc">{svg}</div></figure>')


def _with_diagrams(page: str, figures: list[str]) -> str:
    """pyLODE's page with a "Diagrams" section (and its table-of-contents entry) before the classes."""
    section = ('<div class="section" id="diagrams"><h2>Diagrams</h2>'
               "<p>Drawn from the ontology with Graphviz (<code>make diagram</code>); select a class or a "
               "property to go to its description.</p>" + "".join(figures) + "</div>")
    if _CLASSES_SECTION in page:
        page = page.replace(_CLASSES_SECTION, section + _CLASSES_SECTION, 1)
    else:  # another pyLODE layout: first thing in the body
        page = re.sub(r"(<body[^>]*>)", lambda match: match.group(1) + section, page, count=1)
    entry = '<li><h4><a href="#diagrams">Diagrams</a></h4></li>'
    return _CLASSES_TOC.sub(lambda match: entry + match.group(0), page, count=1)
