"""Shared fixtures: the real bundled graph loaded once, paths from this file, a canary listener."""

from __future__ import annotations

import http.server
import socket
import threading
from pathlib import Path

import pytest

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


@pytest.fixture
def canary():
    with Canary() as listener:
        yield listener


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
