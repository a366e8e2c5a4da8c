"""The SPARQL servers as subprocesses on 127.0.0.1: build, start, wait, measure memory, stop.

Each engine has a preparation step (timed, with the peak memory of its process tree), then a
server started on what it built; "start" runs from launching the server to its first answer.
thbkg: `thbkg build [SOURCE] --out DIR`, then `thbkg serve --store DIR`. Oxigraph: `oxigraph
load` plus the merge update and `oxigraph optimize`, then `oxigraph serve-read-only`. Virtuoso: its bulk loader on a
database of its own, then the restarted server. The gateways: `thbkg build`, then `thbkg serve
--store DIR --backend URL` in front of the Oxigraph server or Virtuoso of the same run. The engines
are loaded as the tests load them (thbkg.backend.engine_servers).
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import psutil
from synthetic import Dataset

from thbkg.backend.engine_servers import load_virtuoso, oxigraph_load_commands, prepare_virtuoso

__all__ = ["DEFAULT_ENGINES", "ENGINES", "GATEWAYS", "GatewayServer", "Server", "ServerFailed", "make_server",
           "thbkg_has_cache"]

BIN = Path(sys.executable).parent
ENGINES = ("thbkg", "thbkg-nocache", "oxigraph", "virtuoso", "gateway-oxigraph", "gateway-virtuoso", "rdflib")
DEFAULT_ENGINES = ("thbkg", "oxigraph")  # fresh queries make thbkg-nocache redundant; rdflib is slow
#: Each gateway (`thbkg serve --backend`) and the engine of the same run it stands in front of.
GATEWAYS = {"gateway-oxigraph": "oxigraph", "gateway-virtuoso": "virtuoso"}
PROBE = "ASK { ?s ?p ?o }"


class ServerFailed(Exception):
    """A server did not come up (exited, or no answer before the load timeout)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_steps(commands: list[list[str]], log, timeout: float) -> tuple[float, int]:
    """Run ``commands`` one after the other; return their seconds and the peak resident memory
    (bytes) of any one step's process tree. Exit status 1 of `thbkg build` (built, but not
    conforming to the shapes) counts as built."""
    started = time.perf_counter()
    peak = 0
    for command in commands:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        sampler = _MemorySampler(process.pid, interval=0.1)
        sampler.start()
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            peak = max(peak, sampler.stop())
        if status not in (0, 1) or (status == 1 and Path(command[0]).name != "thbkg"):
            raise subprocess.CalledProcessError(status, command)
    return time.perf_counter() - started, peak


class _MemorySampler(threading.Thread):
    """Peak resident memory of a process and all its descendants (RSS summed), sampled every 0.2 s."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop_event = threading.Event()

    def sample(self) -> int:
        try:
            root = psutil.Process(self.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.peak = max(self.peak, self.sample())

    def stop(self) -> int:
        self._stop_event.set()
        self.peak = max(self.peak, self.sample())
        return self.peak


class Server:
    """One engine serving one dataset: ``build_s``/``build_peak`` for the preparation step,
    ``start_s`` from launching the server to its first answer, ``idle`` its memory then."""

    name = ""
    sparql_path = "/sparql"

    def __init__(self, dataset: Dataset, work: Path, timeout: float, name: str | None = None,
                 default_graph: str = "merged"):
        self.name = name or self.name
        self.merged = default_graph == "merged"
        self.dataset = dataset
        self.work = work / self.name
        self.timeout = timeout
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.sampler: _MemorySampler | None = None
        self.build_s = 0.0
        self.build_peak = 0
        self.start_s = 0.0
        self.idle = 0
        self.note = ""
        self.log_path = work / f"{self.name}.log"

    def build_commands(self) -> list[list[str]]:
        """What builds the folder the server opens (timed, memory sampled); none by default."""
        return []

    def build(self, log, load_timeout: float) -> tuple[float, int]:
        """Build what the server opens; return the seconds and the peak memory (bytes) it took."""
        return run_steps(self.build_commands(), log, load_timeout)

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("THBKG_HOME", None)
        return env

    def start(self, load_timeout: float, settle: float = 1.0) -> None:
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        log = self.log_path.open("ab")
        building = time.perf_counter()
        try:
            self.build_s, self.build_peak = self.build(log, load_timeout)
        except (subprocess.SubprocessError, RuntimeError):
            self.build_s = time.perf_counter() - building  # how long it ran before failing or being stopped
            raise
        started = time.perf_counter()
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=self.environment(),
                                        start_new_session=True)
        self.sampler = _MemorySampler(self.process.pid)
        self.sampler.start()
        deadline = started + load_timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"{self.name} exited with status {self.process.returncode}: see {self.log_path}")
            if self.answers(timeout=5):
                self.start_s = time.perf_counter() - started
                time.sleep(settle)  # idle: after the first answer, before any benchmark query
                self.idle = self.sampler.sample()
                return
            time.sleep(0.02)
        raise ServerFailed(f"{self.name} gave no answer within {load_timeout:g} s")

    def answers(self, timeout: float) -> bool:
        """Does the server answer a trivial ASK within ``timeout`` seconds?"""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("POST", self.sparql_path, urllib.parse.urlencode({"query": PROBE}),
                               {"Content-Type": "application/x-www-form-urlencoded",
                                "Accept": "application/sparql-results+json"})
            response = connection.getresponse()
            response.read()
            return response.status == 200
        except OSError:
            return False
        finally:
            connection.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.sparql_path}"

    def stop(self) -> int:
        """Stop the server (its whole process group) and return its peak memory in bytes."""
        peak = self.sampler.stop() if self.sampler else 0
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        if self.work.exists():
            shutil.rmtree(self.work, ignore_errors=True)
        return peak


class ThbkgServer(Server):
    """`thbkg build nq/ --out DIR` (the synthetic graph's N-Quads parts; no source: the bundled graph),
    then `thbkg serve --store DIR`."""

    name = "thbkg"

    def __init__(self, dataset: Dataset, work: Path, timeout: float, workers: int, processes: int, cache: bool,
                 default_graph: str = "merged", name: str | None = None):
        super().__init__(dataset, work, timeout, name or ("thbkg" if cache else "thbkg-nocache"), default_graph)
        self.workers = workers
        self.processes = processes
        self.cache = cache
        self.release = self.work / "release"

    def build_commands(self) -> list[list[str]]:
        sources = [] if self.dataset.sources is None else [str(self.dataset.sources)]
        return [[str(BIN / "thbkg"), "build", *sources, "--out", str(self.release)]]

    def command(self) -> list[str]:
        return [str(BIN / "thbkg"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--timeout", f"{self.timeout:g}", "--max-rows", str(10**9), "--workers", str(self.workers),
                "--processes", str(self.processes), "--store", str(self.release),
                *([] if self.cache else ["--no-cache"])]

    def start(self, load_timeout: float, settle: float = 1.0) -> None:
        super().start(load_timeout, settle)
        manifest = self.release / "current" / "manifest.json"
        if manifest.exists():
            import json

            validation = json.loads(manifest.read_text()).get("validation", {})
            self.note = (f"thbkg build: {self.build_s:.1f} s, SHACL conforms={validation.get('conforms')} "
                         f"({validation.get('violations')} violations)")


class OxigraphServer(Server):
    """`oxigraph serve-read-only` over a store loaded with `oxigraph load` (union default graph).

    Without ``--timeout-s``: Oxigraph 0.5.13 starts a thread per query that sleeps for the whole
    timeout, so under wrk thousands pile up until thread creation fails (EAGAIN) and the server
    stops answering. The client-side timeout still applies.
    """

    name = "oxigraph"
    sparql_path = "/query"

    def build_commands(self) -> list[list[str]]:
        return oxigraph_load_commands(self.work / "store", self.dataset.nquads, self.merged)

    def command(self) -> list[str]:
        union = [] if self.merged else ["--union-default-graph"]
        return [str(BIN / "oxigraph"), "serve-read-only", "--location", str(self.work / "store"),
                "--bind", f"127.0.0.1:{self.port}", *union]


class VirtuosoServer(Server):
    """Debian's Virtuoso over a database of its own (the tests' virtuoso.ini): bulk-loaded with the
    N-Quads, named graphs only, by a server that is then stopped (the build step), and served by a
    fresh one (docs/engines.md, V1: the loading instance answers property paths wrongly). Its
    default graph is every graph as a bag whatever ``--default-graph`` says (V4)."""

    name = "virtuoso"
    sparql_path = "/sparql"

    def build(self, log, load_timeout: float) -> tuple[float, int]:
        started = time.perf_counter()
        self.database = prepare_virtuoso(self.dataset.nquads, self.work / "database", http_port=self.port)
        samplers: list[_MemorySampler] = []

        def sample(process: subprocess.Popen) -> None:
            samplers.append(_MemorySampler(process.pid, interval=0.1))
            samplers[-1].start()

        try:
            load_virtuoso(self.database, load_timeout, started=sample)
        finally:
            peak = max((sampler.stop() for sampler in samplers), default=0)
        self.note = "default graph: all graphs as a bag (docs/engines.md, V4); HTTP ServerThreads 4"
        return time.perf_counter() - started, peak

    def command(self) -> list[str]:
        return self.database.command


class GatewayServer(ThbkgServer):
    """`thbkg serve --store DIR --backend URL`: thbkg's release gives the pages and the catalogue,
    every query goes through its guard, row cap and answer cache to the engine at ``backend``
    (set before `start`, once that engine answers)."""

    def __init__(self, dataset: Dataset, work: Path, timeout: float, workers: int, processes: int,
                 name: str = "thbkg-gateway", backend: str | None = None):
        super().__init__(dataset, work, timeout, workers, processes, True, name=name)
        self.backend = backend

    def command(self) -> list[str]:
        if self.backend is None:
            raise ServerFailed(f"{self.name}: no engine to stand in front of")
        return [*super().command(), "--backend", self.backend]


class RdflibServer(Server):
    """Plain `rdflib-endpoint serve FILE`: rdflib's in-memory store, queries evaluated in the event loop."""

    name = "rdflib"
    sparql_path = "/"

    def command(self) -> list[str]:
        return [str(BIN / "rdflib-endpoint"), "serve", str(self.dataset.nquads), "--host", "127.0.0.1",
                "--port", str(self.port)]


def thbkg_has_cache() -> bool:
    """Does this checkout's `thbkg serve` keep answers (and so take --no-cache)?"""
    done = subprocess.run([str(BIN / "thbkg"), "serve", "--help"], check=False, capture_output=True, text=True)
    return "--no-cache" in done.stdout


def make_server(engine: str, dataset: Dataset, work: Path, timeout: float, workers: int = 2, processes: int = 1,
                default_graph: str = "merged", backend: str | None = None) -> Server:
    """``default_graph``: ``merged`` (each store's default graph holds the merge of the named
    graphs, queried as is) or ``union`` (Oxigraph's union default graph, as thbkg before 87e9d1f).
    ``backend``: for a gateway, the query URL of its engine (`GATEWAYS`)."""
    if engine in ("thbkg", "thbkg-nocache"):
        return ThbkgServer(dataset, work, timeout, workers, processes, engine == "thbkg", default_graph)
    if engine == "oxigraph":
        return OxigraphServer(dataset, work, timeout, default_graph=default_graph)
    if engine == "virtuoso":
        return VirtuosoServer(dataset, work, timeout)
    if engine in GATEWAYS:
        return GatewayServer(dataset, work, timeout, workers, processes, engine, backend)
    if engine == "rdflib":
        return RdflibServer(dataset, work, timeout)
    raise ValueError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
