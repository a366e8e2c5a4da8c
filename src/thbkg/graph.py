"""Where the graph's files are, and how they are loaded safely into one rdflib Dataset."""

from __future__ import annotations

import io
import json
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from xml.sax import SAXParseException

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.util import guess_format

from thbkg.namespaces import GRAPH, bind_prefixes
from thbkg.xml_guard import XmlRefused, check_xml

__all__ = [
    "DEFAULT_MAX_BYTES",
    "LoadError",
    "LoadedDataset",
    "bundle_dir",
    "default_paths",
    "expand_paths",
    "graph_for_file",
    "load_dataset",
    "network_forbidden",
    "parse_file",
    "union_graph",
]

#: Files larger than this are refused before parsing (override with ``max_bytes``).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

_FORMATS = {"ttl": "turtle", "trig": "trig", "nt": "nt", "nq": "nquads", "jsonld": "json-ld", "json": "json-ld",
            "rdf": "xml", "owl": "xml", "xml": "xml", "n3": "n3"}


class LoadError(Exception):
    """A file that cannot be loaded: says which file, where, what is wrong and how to fix it."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, column: int | None = None):
        self.path = Path(path)
        self.line = line
        self.column = column
        self.message = message
        where = str(path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


@dataclass
class LoadedDataset:
    """The dataset plus, for each subject, the files that describe it (for readable reports)."""

    dataset: Dataset
    files_of: dict[URIRef | BNode, set[Path]] = field(default_factory=dict)
    paths: list[Path] = field(default_factory=list)

    def union_graph(self) -> Graph:
        """All triples of every graph in one plain Graph (what SHACL validates)."""
        return union_graph(self.dataset)


def union_graph(source: Dataset | Graph) -> Graph:
    """Every triple of every graph in one plain Graph (a Graph is returned as it is)."""
    if not isinstance(source, Dataset):
        return bind_prefixes(source)
    union = bind_prefixes(Graph())
    for s, p, o, _ in source.quads((None, None, None, None)):
        union.add((s, p, o))
    return union


def bundle_dir() -> Path:
    """The folder holding ``ontology/``, ``data/`` and ``queries/``.

    ``THBKG_HOME`` wins; then the copy bundled inside an installed wheel; then the source
    checkout this package was installed from in editable mode.
    """
    if home := os.environ.get("THBKG_HOME"):
        return Path(home)
    bundled = Path(str(resources.files("thbkg"))) / "bundle"
    if (bundled / "ontology").is_dir():
        return bundled
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "ontology" / "thb.ttl").is_file():
        return checkout
    raise LoadError(bundled, "the bundled graph is missing: reinstall thbkg or set THBKG_HOME to a checkout")


def default_paths(root: Path | None = None) -> list[Path]:
    """The ontology, vocabularies and data files of the bundled graph, in a stable order."""
    root = root or bundle_dir()
    ontology = root / "ontology"
    paths = [ontology / "thb.ttl", *sorted((ontology / "vocabularies").glob("*.ttl"))]
    paths += sorted((root / "data").glob("*.trig")) + sorted((root / "data").glob("*.ttl"))
    return paths


RDF_SUFFIXES = tuple("." + s for s in _FORMATS)


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given, folders replaced by the RDF files inside them (sorted)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in RDF_SUFFIXES)
        else:
            files.append(path)
    return files


def graph_for_file(path: Path) -> URIRef | None:
    """The named graph a triples-only file goes to: ontology and vocabularies have their own."""
    if path.parent.name == "vocabularies":
        return GRAPH.vocabularies
    if path.name == "thb.ttl":
        return GRAPH.ontology
    return None


# -- Network and file guard -------------------------------------------------------------------

_guard = threading.local()
_hook_installed = False
_BLOCKED_EVENTS = {"urllib.Request", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname"}


# Files a parser may still open while guarded: the Python installation itself (lazy imports).
_CODE_ROOTS = tuple({str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


def _audit(event: str, args: tuple) -> None:
    if not getattr(_guard, "active", 0):
        return
    if event in _BLOCKED_EVENTS:
        target = args[0] if args else ""
        if hasattr(target, "full_url"):
            target = target.full_url
        raise PermissionError(f"refused to fetch {target!s:.120} while loading data (no network or file access)")
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        opened = os.fsdecode(args[0])
        if not os.path.realpath(opened).startswith(_CODE_ROOTS):
            raise PermissionError(f"refused to open {opened!s:.120} while loading data (no network or file access)")


@contextmanager
def network_forbidden() -> Iterator[None]:
    """Refuse every URL fetch and socket connection made by this thread inside the block.

    Python audit hooks cannot be removed, so one hook is installed once and switched on and off
    per thread (rdflib's security notes recommend this for ``urllib.Request``).
    """
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)
        _hook_installed = True
    _guard.active = getattr(_guard, "active", 0) + 1
    try:
        yield
    finally:
        _guard.active -= 1


# -- Loading ----------------------------------------------------------------------------------


def _format_of(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lstrip(".").lower()) or guess_format(str(path))
    if fmt is None:
        raise LoadError(path, f"unknown RDF format {path.suffix!r}: use .ttl, .trig, .nt, .nq, .jsonld or .rdf")
    return fmt


def _line_column(text: bytes, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count(b"\n") + 1, index - (before.rfind(b"\n") + 1) + 1


def _syntax_error(path: Path, exc: BadSyntax) -> LoadError:
    data = exc._str if isinstance(exc._str, bytes) else str(exc._str).encode()
    line, column = _line_column(data, exc._i)
    return LoadError(path, f"Turtle/TriG syntax error: {exc._why}; fix the text near line {line}", line, column)


def _check_safe(path: Path, data: bytes, fmt: str) -> None:
    if fmt == "xml":
        try:
            check_xml(io.BytesIO(data))
        except XmlRefused as exc:
            raise LoadError(path, str(exc), exc.line) from None
    if fmt == "json-ld":
        try:
            json.loads(data)
        except RecursionError:
            raise LoadError(path, "JSON-LD nested too deeply to be read safely") from None
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            column = getattr(exc, "colno", None)
            raise LoadError(path, f"invalid JSON: {getattr(exc, 'msg', exc)}", line, column) from None


def parse_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Graph | Dataset:
    """Parse ``path`` into a fresh graph or dataset, never touching the network."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(path, f"cannot read file: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise LoadError(path, f"file is {size:,} bytes, over the {max_bytes:,}-byte limit; "
                              "split it or raise the limit")
    fmt = _format_of(path)
    data = path.read_bytes()
    _check_safe(path, data, fmt)
    quads = fmt in ("trig", "nquads")
    target: Graph | Dataset = Dataset() if quads else Graph()
    try:
        with network_forbidden():
            target.parse(data=data, format=fmt, publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        raise _syntax_error(path, exc) from None
    except SAXParseException as exc:
        raise LoadError(path, f"RDF/XML syntax error: {exc.getMessage()}", exc.getLineNumber(),
                        exc.getColumnNumber()) from None
    except PermissionError as exc:
        raise LoadError(path, f"{exc}; inline the remote @context or imported data") from None
    except RecursionError:
        raise LoadError(path, "input nested too deeply to be read safely (blank nodes, lists or JSON)") from None
    except MemoryError:
        raise LoadError(path, "input too large for the memory available") from None
    except UnicodeDecodeError as exc:
        raise LoadError(path, f"not valid UTF-8 at byte {exc.start}: save the file as UTF-8") from None
    except Exception as exc:  # rdflib raises many exception types for malformed input
        raise LoadError(path, f"cannot parse as {fmt}: {' '.join(str(exc).split())[:300]}") from None
    return target


def load_dataset(paths: Iterable[Path | str] | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedDataset:
    """Load RDF files into one Dataset whose default graph is the union of all graphs.

    ``paths`` defaults to the bundled ontology, vocabularies and data. Turtle/TriG/N-Quads keep
    their named graphs; the ontology and vocabulary files go to ``graph:ontology`` and
    ``graph:vocabularies``; other triples-only files stay in the default graph. Raises
    :class:`LoadError` with file, line and reason on bad input; never fetches anything.
    """
    files = [Path(p) for p in (default_paths() if paths is None else paths)]
    dataset = bind_prefixes(Dataset(default_union=True))
    loaded = LoadedDataset(dataset=dataset, paths=files)
    contexts: dict[URIRef | BNode, Graph] = {}

    def context_of(name: URIRef | BNode | None) -> Graph:
        if name is None or name == DATASET_DEFAULT_GRAPH_ID:
            return dataset.default_graph
        if name not in contexts:
            contexts[name] = dataset.graph(name)
        return contexts[name]

    for path in files:
        if path.is_dir():
            raise LoadError(path, "is a folder: pass the RDF files inside it")
        parsed = parse_file(path, max_bytes)
        if isinstance(parsed, Dataset):
            quads = ((s, p, o, g.identifier if isinstance(g, Graph) else g)
                     for s, p, o, g in parsed.quads((None, None, None, None)))
        else:
            name = graph_for_file(path)
            quads = ((s, p, o, name) for s, p, o in parsed)
        for s, p, o, name in quads:
            context_of(name).add((s, p, o))
            loaded.files_of.setdefault(s, set()).add(path)
    return loaded
