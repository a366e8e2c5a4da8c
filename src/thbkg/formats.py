"""The one registry of RDF and SPARQL results formats: media types, file suffixes, parsers.

pyoxigraph's ``RdfFormat`` and ``QueryResultsFormat`` know the canonical media types and
extensions; rdflib's ``guess_format`` knows the suffixes its own parsers read. Everything that
negotiates a media type, names a dump or picks a parser asks here.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

__all__ = [
    "EXPORT_FORMATS",
    "GRAPH_MEDIA_TYPES",
    "IMAGE_FORMATS",
    "MEDIA_ALIASES",
    "PAGE_MEDIA_TYPES",
    "FORMAT_NAMES",
    "PICTURES",
    "RESULT_MEDIA_TYPES",
    "UnknownFormat",
    "extension_of",
    "media_type_of_extension",
    "named_format",
    "oxigraph_format",
    "rdf_format_of_path",
    "rdflib_format_of_path",
    "results_format",
]


class UnknownFormat(ValueError):
    """A file suffix or media type that no parser here reads."""


#: SELECT / ASK answers, by media type, in the order offered to clients.
RESULT_MEDIA_TYPES: dict[str, ox.QueryResultsFormat] = {
    f.media_type.split(";", 1)[0]: f for f in (ox.QueryResultsFormat.JSON, ox.QueryResultsFormat.XML,
                              ox.QueryResultsFormat.CSV, ox.QueryResultsFormat.TSV)
}
#: CONSTRUCT / DESCRIBE answers and dumps, by media type, in the order offered to clients.
GRAPH_MEDIA_TYPES: dict[str, ox.RdfFormat] = {
    f.media_type: f for f in (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.JSON_LD,
                              ox.RdfFormat.RDF_XML, ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)
}
#: What a linked-data page (``/id/...``, ``/ontology``) offers besides HTML, each with its extension.
PAGE_MEDIA_TYPES: dict[str, str] = {
    "text/turtle": ".ttl", "application/ld+json": ".jsonld", "application/n-triples": ".nt",
    "application/rdf+xml": ".rdf",
}
#: Media types clients send for the canonical ones above.
MEDIA_ALIASES = {
    "application/json": "application/sparql-results+json", "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml", "application/x-turtle": "text/turtle",
    "application/json-ld": "application/ld+json", "text/plain": "application/n-triples",
}

#: The ``format`` (or ``output``) request parameter Virtuoso and Fuseki users pass, for each kind of
#: answer: a short name for one of the media types above (a media type itself is taken as well).
FORMAT_NAMES: dict[str, dict[str, str]] = {
    "results": {"json": "application/sparql-results+json", "srj": "application/sparql-results+json",
                "xml": "application/sparql-results+xml", "srx": "application/sparql-results+xml",
                "csv": "text/csv", "tsv": "text/tab-separated-values"},
    "graph": {"turtle": "text/turtle", "ttl": "text/turtle", "nt": "application/n-triples",
              "ntriples": "application/n-triples", "n-triples": "application/n-triples",
              "json": "application/ld+json", "jsonld": "application/ld+json", "json-ld": "application/ld+json",
              "xml": "application/rdf+xml", "rdf": "application/rdf+xml", "rdfxml": "application/rdf+xml",
              "nq": "application/n-quads", "nquads": "application/n-quads", "trig": "application/trig"},
}

#: The names ``thbkg export --format`` takes: RDF dumps, then networks (the writers' registries in
#: :mod:`thbkg.export`, kept equal by a test; named here so the command line needs no import of them).
EXPORT_FORMATS = ("ttl", "nt", "nq", "trig", "jsonld", "graphml", "gexf", "cytoscape", "dot")
#: The pictures (:mod:`thbkg.pictures`) and the image formats they are drawn in.
PICTURES = ("timeline", "charts")
IMAGE_FORMATS = ("svg", "png")

#: Suffixes rdflib reads that pyoxigraph does not (its own names for them).
_RDFLIB_ONLY = {".json": "json-ld", ".owl": "xml", ".xml": "xml", ".hext": "hext"}


def oxigraph_format(media_type: str) -> ox.RdfFormat | ox.QueryResultsFormat:
    """The pyoxigraph format for a canonical media type of :data:`GRAPH_MEDIA_TYPES` or results."""
    return GRAPH_MEDIA_TYPES.get(media_type) or RESULT_MEDIA_TYPES[media_type]


def results_format(media_type: str) -> ox.QueryResultsFormat | None:
    """The results format of a media type (aliases and parameters allowed), or None."""
    bare = media_type.split(";", 1)[0].strip().lower()
    return RESULT_MEDIA_TYPES.get(MEDIA_ALIASES.get(bare, bare)) or ox.QueryResultsFormat.from_media_type(bare)


def rdf_format_of_path(path: Path) -> ox.RdfFormat | None:
    """The pyoxigraph parser for ``path`` by its suffix (``.ttl``, ``.trig``, ``.nq``, ``.rdf`` ...)."""
    suffix = path.suffix.lower().lstrip(".")
    return ox.RdfFormat.from_extension(suffix) if suffix else None


def rdflib_format_of_path(path: Path) -> str | None:
    """rdflib's parser name for ``path``, for the suffixes only rdflib reads (``.json``, ``.owl``)."""
    from rdflib.util import guess_format

    return _RDFLIB_ONLY.get(path.suffix.lower()) or guess_format(str(path))


def extension_of(media_type: str) -> str:
    """``.ttl`` for ``text/turtle``: the suffix of a page format."""
    return PAGE_MEDIA_TYPES[media_type]


def media_type_of_extension(extension: str) -> str | None:
    """``text/turtle`` for ``.ttl``: the page format a suffix selects, or None."""
    return next((media for media, ext in PAGE_MEDIA_TYPES.items() if ext == extension), None)


def named_format(name: str, kind: str) -> str | None:
    """The media type a ``format=`` value names for ``kind`` (``results`` or ``graph``), or None."""
    value = name.strip().lower()
    offered = RESULT_MEDIA_TYPES if kind == "results" else GRAPH_MEDIA_TYPES
    media = MEDIA_ALIASES.get(value, value)
    if media in offered:
        return media
    return FORMAT_NAMES[kind].get(value)
