"""Shared fixtures: the real bundled graph loaded once, paths from this file, a canary listener."""

from __future__ import annotations

import collections
import csv
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from browsing import offline_chromium
from thbkg.build.compile import build_release
from thbkg.build.release import Release
from thbkg.graph import LoadedDataset, load_dataset
from thbkg.validate import ValidationResult, validate_dataset

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SOURCES = ROOT.parent / "shared" / "sources"


@pytest.fixture(scope="session")
def loaded() -> LoadedDataset:
    return load_dataset()


@pytest.fixture(scope="session")
def validation(loaded: LoadedDataset) -> ValidationResult:
    return validate_dataset(loaded)


@pytest.fixture(scope="session", autouse=True)
def release(tmp_path_factory) -> Release:
    """The bundled graph's release, built once per session; every `thbkg serve` the tests start uses it
    (through THBKG_RELEASE, which the server subprocesses inherit)."""
    root = tmp_path_factory.mktemp("release") / "bundled"
    built = build_release(None, root)
    previous = os.environ.get("THBKG_RELEASE")
    os.environ["THBKG_RELEASE"] = str(root)
    yield built
    if previous is None:
        os.environ.pop("THBKG_RELEASE", None)
    else:
        os.environ["THBKG_RELEASE"] = previous


class Canary:
    """A loopback HTTP listener that records every request it receives."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                canary.requests.append(self.path)
                body = b'{"@context": {"name": "http://schema.org/name"}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Canary":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def client(server):
    """An HTTP client for the module's ``server`` fixture (each test module starts its own)."""
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def expected_rows(query) -> list[dict[str, str]]:
    """The rows of a competency question's expected CSV, keyed by variable."""
    with query.expected.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's chromium, headless, reaching loopback only (see ``browsing.py``); one per module."""
    with offline_chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


@pytest.fixture
def canary():
    with Canary() as listener:
        yield listener


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`thbkg serve` in a subprocess on a free loopback port, its output read as it comes
    (an unread pipe fills after some 64 KB of access log and then blocks the server)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "thbkg.cli", "serve", "--port", str(self.port), *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env={**os.environ, **(env or {})})
        self.log: collections.deque[str] = collections.deque(maxlen=200)
        threading.Thread(target=self.log.extend, args=(self.process.stdout,), daemon=True).start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                time.sleep(0.2)
                raise RuntimeError("server exited: " + "".join(self.log))
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("server did not start within 120 s")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
