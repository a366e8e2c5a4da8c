"""The sources of a build: which files, which parser, which named graph; read by pyoxigraph.

Each file is streamed by pyoxigraph's parser (it never holds a whole file in memory) into the store's
bulk loader and, from the same stream, into the N-Quads dump, so the dump keeps every lexical form
and datatype as written (Oxigraph's store keeps values: ``"45"^^xsd:nonNegativeInteger`` comes
back as an ``xsd:integer``). A format only rdflib reads is parsed by rdflib, guarded as
``thbkg validate`` is, and handed over as N-Quads. Nothing is fetched: RDF/XML that declares entities anywhere in the file is
refused before parsing, and no parser here follows a remote JSON-LD context or ``owl:imports``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from thbkg.formats import rdf_format_of_path, rdflib_format_of_path
from thbkg.graph import LoadError, default_paths, expand_paths, graph_for_file
from thbkg.xml_guard import XmlRefused, check_xml_file

__all__ = ["Source", "load_into_store", "plan_sources", "read_sources"]

#: Suffixes that name a pyoxigraph format under another extension.
_ALIASES = {".owl": ox.RdfFormat.RDF_XML, ".xml": ox.RdfFormat.RDF_XML, ".json": ox.RdfFormat.JSON_LD}


@dataclass(frozen=True)
class Source:
    """One input file: its parser (pyoxigraph's, else rdflib's name) and the graph of its triples."""

    path: Path
    oxigraph: ox.RdfFormat | None
    rdflib: str | None
    graph: str | None


def plan_sources(paths: Sequence[Path | str] | None) -> list[Source]:
    """The files to load (folders expanded, the bundled graph by default), each with its parser."""
    files = default_paths() if paths is None else expand_paths(paths)
    if not files:
        raise LoadError(Path("."), "no RDF source given (folders are searched for .ttl, .trig, .nt, .nq, .jsonld, .rdf)")
    planned = []
    for path in files:
        if path.is_dir():
            raise LoadError(path, "is a folder with no RDF file in it")
        if not path.is_file():
            raise LoadError(path, "no such file")
        oxigraph = _ALIASES.get(path.suffix.lower()) or rdf_format_of_path(path)
        rdflib_name = None if oxigraph else rdflib_format_of_path(path)
        if oxigraph is None and rdflib_name is None:
            raise LoadError(path, f"unknown RDF format {path.suffix!r}: use .ttl, .trig, .nt, .nq, .jsonld or .rdf")
        graph = graph_for_file(path)
        planned.append(Source(path, oxigraph, rdflib_name, str(graph) if graph else None))
    return planned


class _Counting(io.RawIOBase):
    """A file read through, reporting the bytes read so far (the progress bar of a long load)."""

    def __init__(self, handle, report: Callable[[int], None]):
        self.handle = handle
        self.report = report

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.handle.readinto(buffer)
        if count:
            self.report(count)
        return count


def _refuse_entities(source: Source) -> None:
    """RDF/XML declaring a DTD or entities anywhere in the file (entity bombs, external files)."""
    if source.oxigraph != ox.RdfFormat.RDF_XML and source.rdflib != "xml":  # (pyoxigraph formats: compare, never "is")
        return
    try:
        check_xml_file(source.path)
    except XmlRefused as exc:
        raise LoadError(source.path, str(exc), exc.line) from None


def _syntax_error(path: Path, exc: Exception) -> LoadError:
    line = getattr(exc, "lineno", None)
    column = getattr(exc, "offset", None)
    message = " ".join(str(exc).split())[:300]
    return LoadError(path, f"syntax error: {message}", line, column)


def _parsed(source: Source, advance: Callable[[int], None]) -> Iterator[ox.Quad]:
    """The quads of one source as its parser reads them, lexical forms and datatypes untouched."""
    _refuse_entities(source)
    graph = ox.NamedNode(source.graph) if source.graph else None
    if source.oxigraph is None:
        from rdflib import Dataset

        from thbkg.graph import parse_file

        parsed = parse_file(source.path)
        quads = isinstance(parsed, Dataset)
        data = parsed.serialize(format="nquads" if quads else "nt", encoding="utf-8")
        advance(source.path.stat().st_size)
        handle, fmt, base = io.BytesIO(data), ox.RdfFormat.N_QUADS if quads else ox.RdfFormat.N_TRIPLES, None
    else:
        handle = _Counting(source.path.open("rb"), advance)
        fmt, base = source.oxigraph, source.path.resolve().as_uri()
    try:
        # Blank nodes are renamed so that ``_:b0`` in two files stays two nodes.
        for quad in ox.parse(handle, format=fmt, base_iri=base, rename_blank_nodes=True):
            if graph is not None and isinstance(quad.graph_name, ox.DefaultGraph):
                quad = ox.Quad(quad.subject, quad.predicate, quad.object, graph)
            yield quad
    except SyntaxError as exc:
        raise _syntax_error(source.path, exc) from None
    except UnicodeDecodeError as exc:
        raise LoadError(source.path, f"not valid UTF-8 at byte {exc.start}: save the file as UTF-8") from None
    except (OSError, ValueError) as exc:
        raise LoadError(source.path, f"cannot load: {' '.join(str(exc).split())[:300]}") from None
    finally:
        handle.close()


def read_sources(sources: Sequence[Source],
                 progress: Callable[[str, int, int], None] | None = None) -> Iterator[ox.Quad]:
    """Every quad of every source, streamed: quads keep their graph, triples go to their file's graph."""
    total = sum(source.path.stat().st_size for source in sources)
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress("loading", done, total)

    for source in sources:
        yield from _parsed(source, advance)


def load_into_store(store: ox.Store, quads: Iterable[ox.Quad], batch: int = 100_000, *,
                    shadow: tuple[ox.Store, Callable[[ox.Quad], ox.Quad]] | None = None) -> Iterator[ox.Quad]:
    """Pass ``quads`` through, bulk-loading them into ``store`` by batches as they go by (so a dump can
    be written from the same stream); the last batch is loaded when the stream ends. ``shadow`` is a
    second store and what to make of each quad for it (see :mod:`thbkg.build.validation`)."""
    pending: list[ox.Quad] = []
    for quad in quads:
        pending.append(quad)
        if len(pending) >= batch:
            store.bulk_extend(pending)
            if shadow:
                shadow[0].bulk_extend(map(shadow[1], pending))
            pending = []
        yield quad
    store.bulk_extend(pending)
    if shadow:
        shadow[0].bulk_extend(map(shadow[1], pending))
