"""The three SPARQL servers as subprocesses on 127.0.0.1: prepare, start, wait, measure memory, stop."""

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

__all__ = ["ENGINES", "Server", "ServerFailed", "make_server", "thbkg_has_cache"]

BIN = Path(sys.executable).parent
ENGINES = ("thbkg", "thbkg-nocache", "oxigraph", "rdflib")
PROBE = "ASK { ?s ?p ?o }"


class ServerFailed(Exception):
    """A server did not come up (exited, or no answer before the load timeout)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MERGE = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


def build_store(directory: Path, nquads: Path, merged: bool, log, timeout: float) -> float:
    """`oxigraph load` the N-Quads into ``directory`` (and, if ``merged``, write the merge of the
    named graphs into the default graph, as thbkg does since it stopped relying on Oxigraph 0.5's
    union, which repeats a triple once per graph); returns the seconds it took."""
    started = time.perf_counter()
    oxigraph = str(BIN / "oxigraph")
    subprocess.run([oxigraph, "load", "--location", str(directory), "--file", str(nquads)], stdout=log,
                   stderr=subprocess.STDOUT, check=True, timeout=timeout)
    if merged:
        subprocess.run([oxigraph, "update", "--location", str(directory), "--update", MERGE], stdout=log,
                       stderr=subprocess.STDOUT, check=True, timeout=timeout)
    return time.perf_counter() - started


class _MemorySampler(threading.Thread):
    """Peak resident memory of a process and all its descendants, sampled every 0.2 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
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
        while not self._stop_event.wait(0.2):
            self.peak = max(self.peak, self.sample())

    def stop(self) -> int:
        self._stop_event.set()
        self.peak = max(self.peak, self.sample())
        return self.peak


class Server:
    """One engine serving one dataset; ``load_s`` counts preparation plus start to the first answer."""

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
        self.prepare_s = 0.0
        self.start_s = 0.0
        self.note = ""
        self.log_path = work / f"{self.name}.log"

    @property
    def load_s(self) -> float:
        return self.prepare_s + self.start_s

    def prepare(self, log, timeout: float) -> None:
        """Build whatever the server opens (a store directory); timed as part of loading."""

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("THBKG_HOME", None)
        return env

    def start(self, load_timeout: float) -> None:
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        log = self.log_path.open("ab")
        self.prepare(log, load_timeout)
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
                return
            time.sleep(0.1)
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
    """`thbkg serve`: the bundled graph, or a synthetic one through a prebuilt ``--store DIR``.

    `thbkg serve` always loads and SHACL-validates the graph of ``THBKG_HOME`` (or the bundled
    one) before serving; pySHACL on 100k quads does not finish within minutes, so synthetic
    graphs are served by pointing ``--store`` at an Oxigraph store built from the same N-Quads
    (the server reopens a store marked complete without rebuilding it). Load time is then the
    store build plus the server's start (which still loads and validates the bundled graph).
    ``mode="home"`` sets ``THBKG_HOME`` to the synthetic folder instead (the honest, slow path).
    """

    name = "thbkg"

    def __init__(self, dataset: Dataset, work: Path, timeout: float, workers: int, mode: str, cache: bool,
                 default_graph: str = "merged"):
        super().__init__(dataset, work, timeout, "thbkg" if cache else "thbkg-nocache", default_graph)
        self.workers = workers
        self.cache = cache
        self.mode = "bundle" if dataset.home is None else mode
        self.store = self.work / "store"

    def prepare(self, log, timeout: float) -> None:
        if self.mode == "store":
            self.prepare_s = build_store(self.store, self.dataset.nquads, self.merged, log, timeout)
            (self.store / "thbkg-store.ok").write_text("complete\n")
            how = "`oxigraph load` + merge update" if self.merged else "`oxigraph load`"
            self.note = f"--store DIR built by {how} in {self.prepare_s:.1f} s, then serve"

    def command(self) -> list[str]:
        return [str(BIN / "thbkg"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--timeout", f"{self.timeout:g}", "--max-rows", str(10**9), "--workers", str(self.workers),
                "--store", str(self.store) if self.mode == "store" else "memory",
                *([] if self.cache else ["--no-cache"])]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        if self.mode == "home":
            env["THBKG_HOME"] = str(self.dataset.home)
        return env


class OxigraphServer(Server):
    """`oxigraph serve-read-only` over a store loaded with `oxigraph load` (union default graph).

    Without ``--timeout-s``: Oxigraph 0.5.13 starts a thread per query that sleeps for the whole
    timeout, so under wrk thousands pile up until thread creation fails (EAGAIN) and the server
    stops answering. The client-side timeout still applies.
    """

    name = "oxigraph"
    sparql_path = "/query"

    def prepare(self, log, timeout: float) -> None:
        self.prepare_s = build_store(self.work / "store", self.dataset.nquads, self.merged, log, timeout)

    def command(self) -> list[str]:
        union = [] if self.merged else ["--union-default-graph"]
        return [str(BIN / "oxigraph"), "serve-read-only", "--location", str(self.work / "store"),
                "--bind", f"127.0.0.1:{self.port}", *union]


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


def make_server(engine: str, dataset: Dataset, work: Path, timeout: float, workers: int, thbkg_mode: str,
                default_graph: str = "merged") -> Server:
    """``default_graph``: ``merged`` (each store's default graph holds the merge of the named
    graphs, queried as is) or ``union`` (Oxigraph's union default graph, as thbkg before 87e9d1f)."""
    if engine in ("thbkg", "thbkg-nocache"):
        return ThbkgServer(dataset, work, timeout, workers, thbkg_mode, engine == "thbkg", default_graph)
    if engine == "oxigraph":
        return OxigraphServer(dataset, work, timeout, default_graph=default_graph)
    if engine == "rdflib":
        return RdflibServer(dataset, work, timeout)
    raise ValueError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
