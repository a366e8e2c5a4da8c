"""Sending queries: one timed request at a time from Python, and wrk for throughput.

Both can send every request as a *fresh* query: the text plus a comment no server has seen
(``# fresh <run>-<n>``), so no answer cache keyed on the request can serve it (what a public
endpoint sees); otherwise the same text is repeated (what an answer cache serves).
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import secrets
import shutil
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from thbkg.sparql_guard import inspect_query

__all__ = ["Query", "QueryClient", "WrkResult", "count_results", "run_wrk"]

@dataclass(frozen=True)
class Query:
    name: str
    text: str

    @property
    def graph_form(self) -> bool:
        return inspect_query(self.text).form in ("CONSTRUCT", "DESCRIBE")

    @property
    def accept(self) -> str:
        return "application/n-triples" if self.graph_form else "application/sparql-results+json"

    @property
    def form_body(self) -> str:
        return urllib.parse.urlencode({"query": self.text})

    def fresh(self) -> "Query":
        """The same query with a comment never sent before: equal answers, unseen request text."""
        return Query(self.name, f"{self.text.rstrip()}\n# fresh {_RUN}-{next(_SERIAL)}\n")


_RUN = secrets.token_hex(4)  # differs between runs, so a server kept up never saw a run's texts
_SERIAL = itertools.count()


def count_results(query: Query, body: bytes) -> int:
    """Rows of a JSON results document (1/0 for ASK), or triples of an N-Triples document."""
    if query.graph_form:
        return sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))
    document = json.loads(body)
    if "boolean" in document:
        return int(document["boolean"])
    return len(document["results"]["bindings"])


class QueryClient:
    """A keep-alive HTTP connection to one endpoint; ``run`` returns (seconds, status, body)."""

    def __init__(self, port: int, path: str, timeout: float):
        self.port = port
        self.path = path
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def run(self, query: Query, fresh: bool = False) -> tuple[float, int, bytes]:
        if fresh:
            query = query.fresh()
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": query.accept}
        body = query.form_body
        started = time.perf_counter()
        try:
            self.connection.request("POST", self.path, body, headers)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        elapsed = time.perf_counter() - started
        if response.getheader("connection", "").lower() == "close":
            self.close()
        return elapsed, response.status, payload

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int  # non-2xx answers, timeouts, connect/read/write errors

    @property
    def per_second(self) -> float:
        """Successful requests per second (errors are not throughput)."""
        return max(0, self.requests - self.errors) / self.seconds if self.seconds else 0.0


_LUA = """wrk.method = "POST"
wrk.body = "{body}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "{accept}"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK-RESULT %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""

# Fresh: each request appends "\n# fresh <run>-<n>" (form-encoded) to the query; building the
# request in Lua costs wrk a little, the same for every engine.
_LUA_FRESH = _LUA + """counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, wrk.body .. "%0A%23+fresh+{run}-" .. counter)
end
"""


def run_wrk(url: str, query: Query, connections: int, seconds: float, timeout: float, scripts: Path,
            fresh: bool = False) -> WrkResult:
    """``wrk`` with one thread (the machine has two cores) and ``connections`` keep-alive connections;
    ``fresh``: every request a query text not sent before (one thread, so one counter suffices)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    scripts.mkdir(parents=True, exist_ok=True)
    script = scripts / f"{query.name}{'-fresh' if fresh else ''}.lua"
    # A form-encoded body only holds [A-Za-z0-9%+._~-]: safe inside a Lua string.
    template = _LUA_FRESH if fresh else _LUA
    script.write_text(template.format(body=query.form_body, accept=query.accept,
                                      run=f"{_RUN}w{next(_SERIAL)}"))
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout:g}s", "-s", str(script), url]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=seconds + timeout + 30)
    match = re.search(r"WRK-RESULT (\d+) (\d+) (\d+)", done.stdout)
    if not match:
        raise RuntimeError(f"wrk failed: {done.stdout[-300:]} {done.stderr[-300:]}")
    requests, micros, errors = map(int, match.groups())
    return WrkResult(requests, micros / 1e6, errors)
