"""Real SPARQL engines on loopback, each in a folder of its own: for the tests and the benchmarks.

`oxigraph_server` runs the native Oxigraph server (the `oxigraph` wheel of the test and bench
extras) and `virtuoso_server` Debian's Virtuoso (`make engines`); each loads an N-Quads file,
answers on a free 127.0.0.1 port, and is stopped (terminate, wait, kill) when the `with` block
ends. The steps are public too (`oxigraph_load_commands`, `prepare_virtuoso`, `load_virtuoso`), so
that benchmarks/servers.py can time the load apart from the start. The engines see the default
graph differently; see docs/engines.md:

- Oxigraph's default graph is a graph of its own, so the merge of the named graphs is written into
  it (as our embedded store does): a query without FROM sees each triple once, and `GRAPH ?g` the
  named graphs. (`--union-default-graph` would instead yield a triple once per graph holding it.)
- Virtuoso's default graph, without FROM, is all of its graphs as a bag (a triple once per graph
  holding it, Virtuoso's own system graphs included): only the named graphs are loaded, since a
  merge in one more graph would add yet another copy of each triple. The server that created and
  loaded the database is restarted before it answers: Virtuoso 7.2.5 answers property paths wrongly
  until then.

No engine is ever downloaded: a missing binary raises `EngineMissing`, which says how to install it
(tests/engines.py turns it into a failed test).
"""

from __future__ import annotations

import ctypes
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["ISQL", "MERGE_INTO_DEFAULT", "OXIGRAPH", "VIRTUOSO", "EngineMissing", "RunningEngine",
           "VirtuosoDatabase", "free_port", "load_virtuoso", "oxigraph_load_commands", "oxigraph_server",
           "prepare_virtuoso", "require", "serving", "virtuoso_server"]

#: The native server of the `oxigraph` wheel, beside this interpreter in the virtual environment.
OXIGRAPH = Path(sys.executable).with_name("oxigraph")
VIRTUOSO = Path("/usr/bin/virtuoso-t")
ISQL = Path("/usr/bin/isql-vt")
#: Where Virtuoso's bulk loader puts triples that an N-Quads file has in its default graph.
VIRTUOSO_FALLBACK_GRAPH = "urn:x-thbkg:default"
#: The SPARQL update that writes the merge of the named graphs into Oxigraph's default graph.
MERGE_INTO_DEFAULT = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
START_TIMEOUT = 60.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True)
class RunningEngine:
    """A started engine: where to send SPARQL, and what else it offers."""

    name: str
    #: SPARQL 1.1 Protocol query endpoint (GET, POST form, POST application/sparql-query).
    query_url: str
    #: SPARQL 1.1 Graph Store HTTP Protocol endpoint (Oxigraph: read-only here), if any.
    store_url: str | None = None
    #: Virtuoso: the SQL port isql-vt talks to, and the DBA account (a fresh random password).
    sql_address: str | None = None
    user: str | None = None
    password: str | None = None
    #: Virtuoso: the query endpoint that takes digest authentication (`auth`), for SPARQL updates.
    auth_query_url: str | None = None
    log: Path | None = None

    @property
    def auth(self) -> httpx.DigestAuth | None:
        return httpx.DigestAuth(self.user, self.password) if self.user and self.password else None


class EngineMissing(RuntimeError):
    """An engine's binary is not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require(*binaries: Path) -> None:
    """Raise `EngineMissing` unless every one of ``binaries`` is installed."""
    missing = [str(path) for path in binaries if not path.exists()]
    if missing:
        raise EngineMissing("the remote engines need " + ", ".join(missing) + ": install them with "
                            "`make engines` (Debian's virtuoso-opensource-7-bin) and `pip install -e '.[test]'` "
                            "(the oxigraph server)")


def _run(command: list[str], log: Path, timeout: float = 120) -> str:
    """Run a loader step to completion; its output goes to ``log`` too; fails loudly on an error."""
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {command[0]} {command[1]}\n{done.stdout}{done.stderr}")
    if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:  # isql-vt exits 0 on SQL errors
        raise RuntimeError(f"{command[0]} {command[1]} failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]) if log.exists() else ""


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent process dies, so that an
    engine never outlives a killed test or benchmark run (the `finally` below covers every other exit)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def serving(command: list[str], log: Path, probe_url: str) -> Iterator[subprocess.Popen]:
    """Start a server, wait until ``probe_url`` answers ASK {}, and always stop it afterwards."""
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                   preexec_fn=_die_with_parent)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited ({process.returncode}):\n{_tail(log)}")
            try:
                if httpx.get(probe_url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not answer within {START_TIMEOUT:.0f} s:\n{_tail(log)}")
            time.sleep(0.1)
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def oxigraph_load_commands(store: Path, nquads: Path, merged: bool = True) -> list[list[str]]:
    """`oxigraph load` ``nquads`` into ``store`` (named graphs kept), if ``merged`` write the merge of
    the named graphs into the default graph (as `thbkg build` does), then `oxigraph optimize` (as
    `thbkg build` compacts its store). Without the compaction, `serve-read-only` replays the update's
    log into memory at every start: measured at 1M quads, 13 s and 540 MB before the first answer,
    against 0.03 s and 23 MB compacted (and at 10M, 309 s and 5.2 GB)."""
    commands = [[str(OXIGRAPH), "load", "--location", str(store), "--file", str(nquads)]]
    if merged:
        commands.append([str(OXIGRAPH), "update", "--location", str(store), "--update", MERGE_INTO_DEFAULT])
    commands.append([str(OXIGRAPH), "optimize", "--location", str(store)])
    return commands


@contextmanager
def oxigraph_server(nquads: Path, workdir: Path) -> Iterator[RunningEngine]:
    """Oxigraph's server, read-only, over a store in ``workdir`` loaded with ``nquads`` (named graphs
    kept) and with the merge of its named graphs as the default graph."""
    require(OXIGRAPH)
    store, log = workdir / "oxigraph-store", workdir / "oxigraph.log"
    for command in oxigraph_load_commands(store, nquads):
        _run(command, log)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(OXIGRAPH), "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}"]
    with serving(command, log, base + "/query"):
        yield RunningEngine("oxigraph", base + "/query", store_url=base + "/store", log=log)


VIRTUOSO_INI = """\
; Written by thbkg.backend.engine_servers: one Virtuoso in a temporary folder, on loopback only.
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
ServerThreads = 10
CheckpointInterval = 0
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = ., {dir}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}/www
ServerThreads = 4
MaxClientConnections = 4
EnabledDavVSP = 0

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
"""


@dataclass(frozen=True)
class VirtuosoDatabase:
    """A Virtuoso folder: its ini, the command that serves it, and the DBA account (set on load)."""

    workdir: Path
    nquads: Path
    command: list[str]
    base_url: str
    sql_address: str
    password: str
    log: Path

    def engine(self) -> RunningEngine:
        return RunningEngine("virtuoso", self.base_url + "/sparql", sql_address=self.sql_address, user="dba",
                             password=self.password, auth_query_url=self.base_url + "/sparql-auth", log=self.log)


def prepare_virtuoso(nquads: Path, workdir: Path, http_port: int | None = None) -> VirtuosoDatabase:
    """Write ``workdir``'s virtuoso.ini (HTTP on ``http_port``, default a free port) and put a copy of
    ``nquads`` where its bulk loader may read it; nothing is started."""
    require(VIRTUOSO, ISQL)
    workdir = workdir.resolve()
    (workdir / "www").mkdir(parents=True, exist_ok=True)
    load = workdir / "load"
    load.mkdir(exist_ok=True)
    shutil.copyfile(nquads, load / "quads.nq")  # the bulk loader reads only from DirsAllowed
    sql_port, http_port = free_port(), http_port or free_port()
    ini = workdir / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=workdir, sql_port=sql_port, http_port=http_port), encoding="utf-8")
    return VirtuosoDatabase(workdir, nquads, [str(VIRTUOSO), "+configfile", str(ini), "+foreground"],
                            f"http://127.0.0.1:{http_port}", f"127.0.0.1:{sql_port}", secrets.token_hex(16),
                            workdir / "virtuoso-console.log")


def load_virtuoso(database: VirtuosoDatabase, timeout: float = 120,
                  started: Callable[[subprocess.Popen], None] | None = None) -> None:
    """Create the database, set the DBA password, bulk-load the N-Quads (each quad in its named
    graph; default-graph triples, if any, in `VIRTUOSO_FALLBACK_GRAPH`) and stop the server again.
    ``started`` is given the loading server's process (the benchmarks sample its memory)."""
    log, sql_address, password = database.log, database.sql_address, database.password
    with serving(database.command, log, database.base_url + "/sparql") as process:
        if started:
            started(process)
        # A fresh database's DBA password is "dba": replace it before anything else.
        _run([str(ISQL), sql_address, "dba", "dba", f'exec=SET PASSWORD "dba" "{password}";'], log)
        loaded = _run([str(ISQL), sql_address, "dba", password,
                       f"exec=ld_dir('{database.workdir / 'load'}', '*.nq', '{VIRTUOSO_FALLBACK_GRAPH}'); "
                       "rdf_loader_run(); checkpoint; SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST "
                       "WHERE ll_state <> 2 OR ll_error IS NOT NULL;"], log, timeout)
        if "\n0 Rows." not in loaded:  # a file not loaded, or loaded with an error
            raise RuntimeError(f"Virtuoso's bulk loader did not load {database.nquads}:\n{loaded}\n{_tail(log)}")


@contextmanager
def virtuoso_server(nquads: Path, workdir: Path) -> Iterator[RunningEngine]:
    """Virtuoso with its own virtuoso.ini and database in ``workdir``, ``nquads`` bulk-loaded (each
    quad in its named graph; default-graph triples, if any, in `VIRTUOSO_FALLBACK_GRAPH`)."""
    database = prepare_virtuoso(nquads, workdir)
    load_virtuoso(database)
    # Serve from a restarted server: the instance that created the database and loaded it answers
    # property paths (rdfs:subClassOf*) wrongly, dropping rows (docs/engines.md, Virtuoso defect 1).
    with serving(database.command, database.log, database.base_url + "/sparql"):
        yield database.engine()
