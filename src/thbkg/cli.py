"""The `thbkg` command: wiring only; the work is done by the library modules."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import click

from thbkg.formats import EXPORT_FORMATS as FORMATS
from thbkg.formats import IMAGE_FORMATS, PICTURES
from thbkg.limits import LimitExceeded, bounded
from thbkg.settings import DEFAULTS, Settings

# The libraries are imported by the commands that use them: `thbkg serve` starts in a second, and
# `thbkg --help` needs none of rdflib, pySHACL, networkx or matplotlib.

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2

timeout_option = click.option("--timeout", type=click.FloatRange(min=1), default=300, show_default=True,
                              help="Give up (exit 2) after this many seconds.")
memory_option = click.option("--max-memory", type=click.IntRange(min=256), default=4096, show_default=True,
                             help="Give up (exit 2) if more than this many MiB of memory are needed.")
store_option = click.option("--store", type=click.Path(path_type=Path), default=None,
                            help="Read this release folder (written by `thbkg build --out`) instead of the bundled "
                                 "graph's.")
backend_option = click.option("--backend", "backend_url", default=None, metavar="URL",
                              help="Ask this remote SPARQL 1.1 query endpoint (e.g. Virtuoso's /sparql) instead.")
#: What a command reports on failure: one line, exit status 2.
class _Failures:
    """What a command reports on failure (one line, exit status 2): every library's error type."""

    def __iter__(self):
        from thbkg.backend import BackendError, QueryRefused
        from thbkg.build.release import ReleaseError
        from thbkg.export import ExportError
        from thbkg.graph import LoadError
        from thbkg.pictures import PictureError
        from thbkg.queries import QueryError
        from thbkg.validate import ValidationError

        return iter((LoadError, QueryError, ExportError, LimitExceeded, PictureError, ReleaseError, BackendError,
                     QueryRefused, ValidationError))


def _failures() -> tuple[type[Exception], ...]:
    return tuple(_Failures())


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _say(message: str) -> None:
    """A step of a long command, on stderr (standard output stays for the answer)."""
    click.echo(f"{message}…" if not message.endswith((".", ":", "/")) else message, err=True)


@contextmanager
def _build_bars() -> Iterator[Callable[[str, int, int], None] | None]:
    """A (step, done, total) callback drawing a tqdm bar per step on stderr, only on a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(step: str, done: int, total: int) -> None:
        bar = bars.get(step)
        if bar is None:
            bar = bars[step] = tqdm(total=total, desc=step, unit="B", unit_scale=True, file=sys.stderr, leave=False)
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A (done, total) callback drawing a bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    with ExitStack() as stack:
        bars: list = []  # opened on the first report, so formats that report nothing draw nothing

        def update(done: int, total: int) -> None:
            if not bars:
                bar = click.progressbar(length=total, label=label, file=sys.stderr)
                bars.append(stack.enter_context(bar))
            bars[0].length = total
            bars[0].update(done - bars[0].pos)

        yield update


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="thbkg")
def main() -> None:
    """THB-KG: France's fight against trafficking in human beings, as a knowledge graph."""
    from thbkg.logs import quiet_library_logs

    quiet_library_logs()


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "turtle", "json"]), default="text", show_default=True,
              help="Report format: readable text, the SHACL report graph in Turtle, or JSON.")
@click.option("--shapes", "shapes", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Shape file(s) to use instead of the bundled ones (repeatable).")
@click.option("--warnings", "show_warnings", is_flag=True, help="List every warning in the text report, not just counts.")
@click.option("--alone", is_flag=True,
              help="Validate the given files by themselves, without the bundled graph beside them.")
@timeout_option
@memory_option
def validate(paths: tuple[Path, ...], fmt: str, shapes: tuple[Path, ...], show_warnings: bool, alone: bool,
             timeout: float, max_memory: int) -> None:
    """Check the graph, or the given RDF files or folders, against the ontology and the SHACL shapes.

    Given files are checked with the bundled graph beside them (what they link to is there), and only
    what they describe is reported; --alone checks them by themselves. Exit status: 0 conforms,
    1 does not conform, 2 could not run (unreadable file, syntax error).
    """
    try:
        from thbkg.graph import expand_paths, load_dataset
        from thbkg.validate import validate_dataset, validate_files

        with bounded(timeout, max_memory * 2**20):
            if paths:
                result = validate_files(expand_paths(paths), list(shapes) or None, alone=alone)
            else:
                result = validate_dataset(load_dataset(None), list(shapes) or None)
    except _failures() as exc:
        _fail(str(exc))
    output = {"text": lambda: result.to_text(show_warnings), "turtle": result.to_turtle, "json": result.to_json}[fmt]()
    click.echo(output)
    sys.exit(EXIT_OK if result.conforms else EXIT_INVALID)


@main.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="The release folder to write (default: the bundled graph's, in the user's cache).")
@click.option("--queries", "queries_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of competency questions (cq-*.rq) to publish with the release (default: the bundled ones).")
@click.option("--timeout", type=click.FloatRange(min=1), default=None,
              help="Give up (exit 2, nothing written) after this many seconds. Default: no limit.")
def build(sources: tuple[Path, ...], out: Path | None, queries_dir: Path | None, timeout: float | None) -> None:
    """Compile RDF sources (default: the bundled ontology, vocabularies and data) into a release folder.

    The release holds an Oxigraph store bulk-loaded from the sources, the SHACL verdict and report,
    dumps with their sha256, VoID statistics, the query catalogue and the ontology's documentation.
    It is written aside and renamed into place when complete. Exit status: 0 built and conforming,
    1 built but not conforming to the shapes (see validation.txt), 2 could not build. Memory is
    bounded by streaming (sources are parsed as they are read, validated in batches), not by a cap:
    RocksDB aborts the process when an address-space cap stops one of its threads.
    """
    from thbkg.build.compile import build_release

    try:
        with bounded(timeout), _build_bars() as progress:
            release = build_release(list(sources) or None, out, queries_dir=queries_dir, progress=progress,
                                    log=_say)
    except _failures() as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write the release: {exc.strerror or exc}")
    click.echo(f"{release.path}: {release.summary()}")
    sys.exit(EXIT_OK if release.conforms else EXIT_INVALID)


_ANSWER_TYPES = {"table": "text/csv", "csv": "text/csv", "json": "application/sparql-results+json"}


@main.command()
@click.argument("query", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="Result format for SELECT and ASK (CONSTRUCT and DESCRIBE always give Turtle).")
@click.option("--data", "data", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Query these RDF files or folders instead of the bundled graph (repeatable).")
@store_option
@backend_option
@click.option("--list", "list_queries", is_flag=True, help="List the bundled competency questions and exit.")
@timeout_option
@memory_option
def query(query: str | None, fmt: str, data: tuple[Path, ...], store: Path | None, backend_url: str | None,
          list_queries: bool, timeout: float, max_memory: int) -> None:
    """Run a query against the graph: a SPARQL file, a bundled query by name (e.g. `cq-01`), the text
    of a query, or `-` to read it from standard input."""
    from thbkg.build.opening import answer_once, open_backend

    from thbkg.queries import load_queries, query_from_argument, render_answer

    if list_queries:
        for named in load_queries():
            click.echo(f"{named.name}\t{named.question}")
        return
    if not query:
        _fail("give a query file, a bundled name, the query text or - (standard input); --list shows the names")
    try:
        named = query_from_argument(query)
        with bounded(timeout, max_memory * 2**20):
            backend = open_backend(store=store, backend=backend_url, data=data, timeout=timeout, log=_say)
            from thbkg.sparql_guard import inspect_query

            form = inspect_query(named.text).form
            media_type = "text/turtle" if form in ("CONSTRUCT", "DESCRIBE") else _ANSWER_TYPES[fmt]
            output = render_answer(answer_once(backend, named.text, media_type), fmt)
            click.echo(output, nl=not output.endswith("\n"))
    except _failures() as exc:
        _fail(str(exc))


@main.command()
@click.option("--format", "fmt", type=click.Choice([*FORMATS, *PICTURES]), required=True,
              help="ttl, nt: the union of all graphs (Turtle and N-Triples have no named graphs); "
                   "nq, trig, jsonld: every named graph kept; graphml, gexf (Gephi, Cytoscape), "
                   "cytoscape (Cytoscape.js JSON), dot (Graphviz): a network of resources and links; "
                   "timeline, charts: a picture (SVG or PNG) of France's commitments or of the statistics.")
@click.option("--image-format", type=click.Choice(IMAGE_FORMATS), default=None,
              help="For timeline and charts: svg or png (default: told by the -o extension, else svg).")
@click.option("--query", "query_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Export only the graph that this CONSTRUCT (or DESCRIBE) query file builds.")
@click.option("--data", "data", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Export these RDF files or folders instead of the bundled graph (repeatable).")
@store_option
@backend_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@timeout_option
@memory_option
def export(fmt: str, image_format: str | None, query_file: Path | None, data: tuple[Path, ...],
           store: Path | None, backend_url: str | None, output: Path | None, timeout: float, max_memory: int) -> None:
    """Export the graph, or what a CONSTRUCT query selects, as an RDF dump or a network for graph tools.

    RDF dumps are lossless: read back, they give the same triples, and for nq, trig and jsonld the same
    named graphs. Networks have a node per resource (labels in English and French, class, literal values
    as attributes) and an edge per link; the ontology and vocabularies are left out, except the terms the
    data uses. Exit status: 0 written, 2 could not export.
    """
    try:
        text = query_file.read_text(encoding="utf-8") if query_file else None
        from thbkg.export import export_graph
        from thbkg.pictures import PictureError, image_format_for

        image = image_format_for(output, image_format) if fmt in PICTURES else None
        if (image and text) or (image_format and not image):
            raise PictureError("--image-format is for timeline and charts, --query for the other formats")
        from thbkg.build.opening import export_dataset, picture_tables, open_backend
        from thbkg.pictures import draw_picture

        with bounded(timeout, max_memory * 2**20), _progress_bar("Building the network") as progress:
            backend = open_backend(store=store, backend=backend_url, data=data, timeout=timeout, log=_say)
            exported = io.BytesIO()  # written out only once complete: a failed export leaves no file
            if image:
                exported.write(draw_picture(fmt, picture_tables(backend, fmt)).image(image))
            else:
                export_graph(export_dataset(backend), fmt, exported, query=text, progress=progress)
        with click.open_file(str(output or "-"), "wb") as out:
            out.write(exported.getbuffer())
    except _failures() as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {output or 'standard output'}: {exc.strerror or exc}")


@main.command()
@click.option("--view", type=click.Choice(["hierarchy", "relations"]), default="hierarchy", show_default=True,
              help="hierarchy: every class under its top class; relations: the object properties between "
                   "classes.")
@click.option("--format", "fmt", type=click.Choice(["svg", "dot"]), default="svg", show_default=True,
              help="svg: drawn by Graphviz's `dot` (needs graphviz installed); dot: the Graphviz source.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
def diagram(view: str, fmt: str, output: Path | None) -> None:
    """Draw a diagram of the ontology's classes and the relations between them.

    `make diagram` regenerates the committed docs/class-diagram-*.dot and .svg that the README and the
    /ontology page show. Exit status: 0 written, 2 could not draw (e.g. Graphviz missing).
    """
    from thbkg.ontology_diagram import DiagramError, draw_ontology

    try:
        drawn = draw_ontology(view, fmt)
        with click.open_file(str(output or "-"), "wb") as out:
            out.write(drawn)
    except (*_failures(), DiagramError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {output or 'standard output'}: {exc.strerror or exc}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="TCP port to listen on.")
@click.option("--public-url", default=None, help="The URL users reach the server at (service description, links); "
                                                 "default http://HOST:PORT.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=DEFAULTS.timeout, show_default=True,
              help="Stop any query running longer than this many seconds.")
@click.option("--max-rows", type=click.IntRange(min=1), default=DEFAULTS.max_rows, show_default=True,
              help="Cut SELECT results after this many rows (the response says so).")
@click.option("--store", type=click.Path(path_type=Path), default=None,
              help="Serve this release folder (written by `thbkg build SOURCE... --out DIR`) instead of the bundled "
                   "graph, which is built on first use and rebuilt when its sources change.")
@backend_option
@click.option("--backend-connections", type=click.IntRange(1, 256), default=DEFAULTS.backend_connections,
              show_default=True,
              help="With --backend: most requests in flight to the engine at once, per web process.")
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Web processes sharing the port (each answers HTTP on one core, with its own query workers).")
@click.option("--workers", type=click.IntRange(1, 64), default=DEFAULTS.workers, show_default=True,
              help="Query worker processes per web process (each can be stopped at the timeout without "
                   "affecting the others).")
@click.option("--queue-length", type=click.IntRange(min=0), default=None,
              help="Public queries that may wait when every worker (or engine connection) is busy; more get 503 "
                   "with Retry-After at once. Default: 32 per worker.")
@click.option("--queue-wait", type=click.FloatRange(min=0), default=DEFAULTS.queue_wait, show_default=True,
              help="Seconds a waiting public query waits for a worker at most, then gets 503 with Retry-After.")
@click.option("--cache/--no-cache", default=DEFAULTS.cache, show_default=True,
              help="Keep recent answers (the graph is read-only) and answer If-None-Match with 304.")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Write a line per request to standard output (costs about a quarter of peak throughput).")
def serve(host: str, port: int, public_url: str | None, timeout: float, max_rows: int, store: Path | None,
          backend_url: str | None, backend_connections: int, processes: int, workers: int,
          queue_length: int | None, queue_wait: float, cache: bool, access_log: bool) -> None:
    """Serve the graph: SPARQL endpoint at /sparql, query page at /, linked data at /id/ and /ontology."""
    from thbkg.build.opening import check_backend, open_release
    from thbkg.endpoint.server import ServeError, check_port, serve as run_server

    settings = Settings(public_url=public_url or f"http://{host}:{port}", timeout=timeout, max_rows=max_rows,
                        workers=workers, cache=cache, backend_url=backend_url,
                        backend_connections=backend_connections, queue_length=queue_length, queue_wait=queue_wait)
    try:
        check_port(host, port)
        _say("loading the release")
        with _build_bars() as progress:
            release = open_release(store, progress=progress, log=_say)
        _say(f"validating: {release.summary()}")
        if not release.conforms:
            raise ServeError(f"the release in {release.path} does not conform to its shapes: see "
                             f"{release.path / 'validation.txt'}, or run `thbkg validate`")
        if backend_url:
            _say(f"checking the SPARQL engine at {backend_url}")
            check_backend(backend_url, timeout, release.graph_names)
        click.echo(f"serving {settings.public_url}/", err=True)
        run_server(release, host, port, settings, processes=processes, access_log=access_log)
    except (ServeError, *_failures()) as exc:
        _fail(str(exc))


@main.command()
@click.argument("url")
@store_option
@click.option("--user", default=None, help="Account to authenticate as (with --password).")
@click.option("--password", default=None, envvar="THBKG_PUBLISH_PASSWORD",
              help="Its password (or set THBKG_PUBLISH_PASSWORD, which keeps it out of the shell history).")
@click.option("--auth", "auth_scheme", type=click.Choice(["basic", "digest"]), default="basic", show_default=True,
              help="HTTP authentication scheme for --user (Virtuoso's /sparql-graph-crud-auth takes digest).")
@click.option("--default-graph", type=click.Choice(["merge", "none"]), default="merge", show_default=True,
              help="merge: also PUT the merge of the named graphs as the default graph (the Oxigraph server "
                   "needs it); none: leave it (Virtuoso's default graph is already the union of all graphs).")
@click.option("--timeout", type=click.FloatRange(min=1), default=300, show_default=True,
              help="Give up (exit 2) when the Graph Store does not answer a request within this many seconds.")
def publish(url: str, store: Path | None, user: str | None, password: str | None, auth_scheme: str,
            default_graph: str, timeout: float) -> None:
    """Upload the release's named graphs to a SPARQL 1.1 Graph Store endpoint at URL, one PUT per graph.

    URL is the Graph Store endpoint, e.g. Oxigraph's http://127.0.0.1:7878/store. Exit status: 0
    published, 2 could not publish (engine down, credentials refused, not a Graph Store).
    """
    import httpx

    from thbkg.backend.publish import publish_nquads
    from thbkg.build.opening import open_release

    if bool(user) != bool(password):
        _fail("give both --user and --password (or THBKG_PUBLISH_PASSWORD), or neither")
    auth = (httpx.DigestAuth if auth_scheme == "digest" else httpx.BasicAuth)(user, password) if user else None
    try:
        release = open_release(store, log=_say)
        with _progress_bar("Publishing the named graphs") as progress:
            published = publish_nquads(release.path / "dumps" / "thbkg.nq", url, auth=auth,
                                       default_graph=default_graph, timeout=timeout, progress=progress)
    except _failures() as exc:  # PublishError is a BackendError
        _fail(str(exc))
    except (OSError, SyntaxError) as exc:
        _fail(f"cannot read the release's dump: {exc}")
    click.echo(published.summary())


if __name__ == "__main__":
    main()
