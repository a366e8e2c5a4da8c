"""Every bad start is one clear line and exit status 2, found before anything slow is done."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading

import pytest

from conftest import free_port


def _thbkg(*arguments: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "thbkg.cli", *arguments], capture_output=True, text=True,
                          timeout=timeout)


def _one_clear_line(done: subprocess.CompletedProcess, *expected: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr + done.stdout, done.stderr
    for text in expected:
        assert text in errors[0], errors[0]
    return errors[0]


def test_a_port_in_use_is_found_before_loading():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _thbkg("serve", "--port", str(port))
    _one_clear_line(done, f"port {port}", "already in use", "--port")
    assert "loading" not in done.stderr  # nothing was loaded first


def test_a_store_path_that_is_a_file(tmp_path):
    path = tmp_path / "release.txt"
    path.write_text("not a release")
    _one_clear_line(_thbkg("serve", "--store", str(path), "--port", str(free_port())), "is a file")


def test_a_store_folder_that_is_not_a_release(tmp_path):
    (tmp_path / "something").write_text("x")
    _one_clear_line(_thbkg("serve", "--store", str(tmp_path), "--port", str(free_port())),
                    "is not a THB-KG release")


class _NotSparql(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_error(501, "Unsupported method ('POST')")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def not_sparql():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotSparql)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_backend_url_that_is_not_a_sparql_endpoint(not_sparql):
    line = _one_clear_line(_thbkg("serve", "--backend", not_sparql, "--port", str(free_port())),
                           "is not a SPARQL query endpoint", "HTTP 501")
    assert "<html" not in line.lower() and len(line) < 600


@pytest.mark.parametrize("command", ["build", "validate"])
def test_a_source_that_is_not_there_or_not_rdf(tmp_path, command):
    missing = tmp_path / "missing.ttl"
    _one_clear_line(_thbkg(command, str(missing), *(["--out", str(tmp_path / "out")] if command == "build" else [])),
                    "missing.ttl")
    odd = tmp_path / "data.xyz"
    odd.write_text("x")
    _one_clear_line(_thbkg(command, str(odd), *(["--out", str(tmp_path / "out")] if command == "build" else [])),
                    "data.xyz", "unknown RDF format")
