"""``thbkg build``: RDF sources compiled once into a release folder (see :mod:`thbkg.build.release`).

The sources are bulk-loaded by pyoxigraph straight into the release's store, file by file, without
going through rdflib; the merge of the named graphs is then written into the default graph in
batches, and the dumps are streamed out of the store. The release folder holds versions: each build is
written in a hidden folder inside it, renamed to its digest once its manifest is written, and
``current`` (a symbolic link) is then switched to it in one rename. An interrupted build (Ctrl-C,
kill -9, a full disk) leaves the previous version current and no folder that looks complete; a
server still running on the previous version keeps reading it (the one before is removed).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyoxigraph as ox

from thbkg import __version__
from thbkg.backend.engine import merge_into_default_graph
from thbkg.backend.local import LocalBackend
from thbkg.build.release import CURRENT, MANIFEST, RELEASE_FORMAT, Release, ReleaseError
from thbkg.build.sources import Source, load_into_store, plan_sources, read_sources
from thbkg.catalogue import DUMP_FORMATS, query_graph_nquads, void_statistics
from thbkg.graph import LoadError
from thbkg.namespaces import BASE, GRAPH, PREFIXES

__all__ = ["Progress", "build_release", "ensure_release"]

#: Called with (step, done, total): a step's name ("loading", "validating" ...) and how far it is.
Progress = Callable[[str, int, int], None]
#: Told of each step as it starts, in words a person reads on the console.
Log = Callable[[str], None]


def _quiet(*_args) -> None:
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inputs_digest(sources: Sequence[Source], extras: Sequence[Path]) -> tuple[str, list[dict]]:
    """The content hash of every input (sources, shapes, queries) and one digest over them all."""
    inputs = []
    for path, role in [*((s.path, "source") for s in sources), *((p, "extra") for p in extras)]:
        try:
            inputs.append({"path": str(path), "role": role, "sha256": _sha256(path), "size": path.stat().st_size})
        except OSError as exc:
            raise LoadError(path, f"cannot read file: {exc.strerror or exc}") from None
    overall = hashlib.sha256(json.dumps([RELEASE_FORMAT, __version__, [(i["role"], i["sha256"]) for i in inputs]])
                             .encode()).hexdigest()
    return overall, inputs


def _clear_leftovers(out: Path, log: Log | None = None) -> None:
    """Remove the folders of builds into ``out`` that were killed (their process is gone), saying so."""
    removed = 0
    for leftover in out.glob(".part-*"):
        pid = leftover.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)
            removed += 1
    if removed and log:
        log(f"{removed} earlier build(s) into {out} were interrupted (killed, crashed or out of disk) before "
            "they were complete; the release they would have replaced stayed current; removed what they left")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _load_and_dump(store: ox.Store, shadow: ox.Store, sources: Sequence[Source], extra: bytes, folder: Path,
                   progress: Progress | None, log: Log) -> list[dict]:
    """Stream the sources into the store, the validation's shadow store and, as written, the dumps;
    ``extra`` (N-Quads: the published questions) goes to the store and the dumps only."""
    from thbkg.build.validation import shadow_quad  # pySHACL loads for a build, not to serve a release

    folder.mkdir()
    sourced = load_into_store(store, read_sources(sources, progress), shadow=(shadow, shadow_quad))
    quads = itertools.chain(sourced, load_into_store(store, ox.parse(extra, format=ox.RdfFormat.N_QUADS)))
    dumps = []
    first = None
    for name, (fmt, media_type) in DUMP_FORMATS.items():
        path = folder / name
        if first is None:
            ox.serialize(quads, str(path), format=fmt)
            first = path
        else:
            log(f"writing dumps/{name}")
            ox.serialize(ox.parse(path=str(first), format=ox.RdfFormat.N_QUADS), str(path), format=fmt,
                         prefixes=PREFIXES if fmt == ox.RdfFormat.TRIG else None)
        dumps.append({"name": name, "media_type": media_type, "sha256": _sha256(path), "size": path.stat().st_size})
    return dumps


def _validate(shadow: Path, shapes: Sequence[Path] | None, folder: Path, progress: Progress | None) -> dict:
    """SHACL verdict of the sources, batch by batch over the shadow store (a closed store on disk, read
    by one validation process per core); report graph and text, both naming the engine."""
    from thbkg.build.validation import ENGINE, validate_store  # the SHACL engines load for a build only

    result = validate_store(shadow, list(shapes) if shapes else None, report_path=folder / "validation.nt",
                            processes=len(os.sched_getaffinity(0)), progress=progress)
    (folder / "validation.txt").write_text(f"Validated by {ENGINE}.\n{result.to_text()}\n", encoding="utf-8")
    return {"conforms": result.conforms, "violations": len(result.violations), "warnings": len(result.warnings),
            "engine": ENGINE}


def _ontology_page(backend: LocalBackend, folder: Path) -> bool:
    from thbkg.backend.reading import construct
    from thbkg.ontology_docs import render_ontology_docs

    ontology = asyncio.run(construct(backend, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{GRAPH.ontology}> "
                                              "{ ?s ?p ?o } }"))
    if not len(ontology):
        return False
    (folder / "ontology.html").write_text(render_ontology_docs(ontology), encoding="utf-8")
    return True


def build_release(sources: Sequence[Path] | None = None, out: Path | None = None, *,
                  queries_dir: Path | None = None, shapes: Sequence[Path] | None = None,
                  progress: Progress | None = None, log: Log | None = None) -> Release:
    """Compile ``sources`` (files or folders; default the bundled ontology, vocabularies and data) and
    the queries of ``queries_dir`` (default the bundled ones) into a release at ``out``.

    Raises :class:`~thbkg.graph.LoadError` for a source that cannot be read or parsed (file, line,
    reason) and :class:`ReleaseError` when ``out`` cannot hold a release.
    """
    from thbkg.graph import bundle_dir
    from thbkg.queries import load_queries
    from thbkg.validate import shapes_paths

    log = log or _quiet
    out = Path(out) if out else default_release_dir()
    planned = plan_sources(sources)
    queries_dir = queries_dir or bundle_dir() / "queries"
    query_files = sorted(queries_dir.glob("cq-*.rq")) + sorted(queries_dir.glob("cq-*.csv"))
    shape_files = list(shapes) if shapes else shapes_paths()
    digest, inputs = inputs_digest(planned, [*shape_files, *query_files])
    _check_target(out)
    out.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(out, log)
    # Unique per build, not only per process: RocksDB keeps a process-wide set of the stores it has
    # locked, and a store of an earlier build in this process that is not yet freed (a logged
    # traceback can hold it) would refuse the same path.
    part = out / f".part-{os.getpid()}-{secrets.token_hex(4)}"
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir()
    started = time.monotonic()
    try:
        store = ox.Store(str(part / "store"))
        shadow = ox.Store(str(part / ".validation-store"))
        log(f"loading {len(planned)} source file(s) into the store, writing dumps/thbkg.nq")
        queries = load_queries(queries_dir)
        dumps = _load_and_dump(store, shadow, planned, query_graph_nquads(queries, BASE + "sparql"),
                               part / "dumps", progress, log)
        quads = len(store)
        graph_names = sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))
        graphs = len(graph_names)
        shadow.flush()
        del shadow  # closed: the validation processes open it read-only
        log("validating with the SHACL shapes, batch by batch")
        validation = _validate(part / ".validation-store", shape_files, part, progress)
        shutil.rmtree(part / ".validation-store")
        log("merging the named graphs into the default graph")
        merge_into_default_graph(store, part / "merge.nt")
        store.flush()
        store.optimize()
        backend = LocalBackend(store, base_iri=BASE)
        log("counting classes and properties (VoID)")
        void, triples = asyncio.run(void_statistics(backend))
        (part / "void.ttl").write_bytes(void.serialize(format="turtle", encoding="utf-8"))
        (part / "queries").mkdir()
        for path in query_files:
            shutil.copy2(path, part / "queries" / path.name)
        log("writing the ontology's documentation")
        has_ontology = _ontology_page(backend, part)
        del backend, store  # closes the store before the folder is renamed
        manifest = {
            "format": RELEASE_FORMAT, "thbkg": __version__, "digest": digest,
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(time.monotonic() - started, 2),
            "inputs": inputs, "counts": {"quads": quads, "graphs": graphs, "triples": triples},
            "validation": validation, "dumps": dumps, "ontology_page": has_ontology,
            "graphs": graph_names,
        }
        _write_atomically(part / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        _make_current(part, out, digest)
    except BaseException:
        shutil.rmtree(part, ignore_errors=True)
        raise
    return Release.open(out)


def _check_target(out: Path) -> None:
    if out.is_file():
        raise ReleaseError(f"{out} is a file: give a folder for the release (it is created if missing)")
    if out.is_dir() and any(p for p in out.iterdir() if not p.name.startswith(".part-")) \
            and not (out / CURRENT).is_symlink():
        raise ReleaseError(f"{out} is a folder that is not empty and not a release: give a new or empty folder "
                           "(nothing in it was changed)")


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def _make_current(part: Path, out: Path, digest: str) -> None:
    """Rename the finished build to its version, point ``current`` at it in one rename, and remove the
    versions older than the one it replaces (a server may still be reading that one)."""
    version = f"v-{digest[:16]}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
    part.rename(out / version)
    link = out / f".current-{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(version)
    previous = os.readlink(out / CURRENT) if (out / CURRENT).is_symlink() else None
    link.replace(out / CURRENT)
    for old in out.glob("v-*"):
        if old.name not in (version, previous):
            shutil.rmtree(old, ignore_errors=True)


def default_release_dir() -> Path:
    """Where the bundled graph's release lives: ``$THBKG_RELEASE``, else a folder per checkout in the
    user's cache (``$XDG_CACHE_HOME/thbkg``)."""
    from thbkg.graph import bundle_dir

    if chosen := os.environ.get("THBKG_RELEASE"):
        return Path(chosen)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "thbkg"
    key = hashlib.sha256(str(bundle_dir().resolve()).encode()).hexdigest()[:12]
    return cache / f"release-{key}"


def ensure_release(out: Path | None = None, *, progress: Progress | None = None, log: Log | None = None) -> Release:
    """The bundled graph's release: opened when its inputs are unchanged, else (re)built."""
    from thbkg.graph import bundle_dir
    from thbkg.validate import shapes_paths

    log = log or _quiet
    out = out or default_release_dir()
    queries_dir = bundle_dir() / "queries"
    query_files = sorted(queries_dir.glob("cq-*.rq")) + sorted(queries_dir.glob("cq-*.csv"))
    digest, _ = inputs_digest(plan_sources(None), [*shapes_paths(), *query_files])
    if (out / MANIFEST).is_file() and not (out / CURRENT).exists():
        shutil.rmtree(out)  # a release laid out before versions existed: built again below
    if out.is_dir():
        _clear_leftovers(out, log)
    try:
        release = Release.open(out)
    except ReleaseError:
        if out.exists():
            log(f"the release in {out} is incomplete or from another version: rebuilding")
        else:
            log(f"first start: building the release in {out}")
    else:
        if release.digest == digest:
            return release
        log("sources changed: rebuilding")
    return build_release(None, out, progress=progress, log=log)
