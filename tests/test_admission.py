"""Admission control: a burst of heavy queries is answered (run, or refused with 503 and
Retry-After) within the timeout and the queue's wait, and pages, cached answers and /health do not
queue behind it."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from conftest import Server
from processes import query_workers

TIMEOUT = 4.0
QUEUE_WAIT = 2.0
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }} # heavy {}"
CHEAP = "ASK { ?s ?p ?o } # cheap, cached"
PAGE = "/id/organisation/miprof"


@pytest.fixture(scope="module")
def server():
    running = Server("--timeout", str(TIMEOUT), "--workers", "2", "--queue-length", "4",
                     "--queue-wait", str(QUEUE_WAIT))
    yield running
    running.stop()


def _burst(url: str, count: int) -> list[tuple[int, float, httpx.Headers, str]]:
    """``count`` heavy queries at once; each one's status, seconds to its answer, headers and text."""
    answers: list = [None] * count
    start = threading.Barrier(count)

    def ask(index: int) -> None:
        start.wait()
        began = time.monotonic()
        # The client gives up far beyond what the server promises: a hang shows as a ReadTimeout here.
        response = httpx.post(f"{url}/sparql", data={"query": HEAVY.format(index)}, timeout=TIMEOUT * 6)
        answers[index] = (response.status_code, time.monotonic() - began, response.headers, response.text)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_twelve_heavy_queries_at_once_are_each_answered_and_cheap_requests_go_on(server, client):
    for _ in range(2):  # kept by the answer cache the second time
        assert client.post("/sparql", data={"query": CHEAP}).status_code == 200
    assert client.get(PAGE, headers={"Accept": "text/html"}).status_code == 200  # pages get their worker now
    deadline = time.monotonic() + 60
    while len(query_workers(server.process.pid)) < 3:  # two public workers and the pages' one, started
        assert time.monotonic() < deadline, "the pages' worker did not start"
        time.sleep(0.2)
    probes: list[tuple[str, int, float]] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=server.url, timeout=TIMEOUT * 6) as prober:
            while not stop.is_set():
                for path, request in (("/health", lambda: prober.get("/health")),
                                      ("cached", lambda: prober.post("/sparql", data={"query": CHEAP})),
                                      ("page", lambda: prober.get(PAGE, headers={"Accept": "text/html"}))):
                    began = time.monotonic()
                    probes.append((path, request().status_code, time.monotonic() - began))
                time.sleep(0.2)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        answers = _burst(server.url, 12)
    finally:
        stop.set()
        prober.join()
    assert all(status == 503 for status, _, _, _ in answers), answers
    stopped = [text for _, _, _, text in answers if "did not finish within" in text]
    refused = [headers for _, _, headers, text in answers if "busy" in text]
    assert len(stopped) >= 2 and len(stopped) + len(refused) == 12, [text for *_, text in answers]
    assert all(int(headers["retry-after"]) >= 1 for headers in refused)
    for status, seconds, _, text in answers:
        assert seconds < TIMEOUT + 5, (seconds, text)  # the timeout counts from arrival, waiting included
    # Probes went on answering while every worker was busy: none waited for a heavy query to stop.
    assert probes and all(status == 200 for _, status, _ in probes), probes
    assert {path for path, _, _ in probes} == {"/health", "cached", "page"}
    assert max(seconds for _, _, seconds in probes) < 1.0, probes


def test_the_server_answers_normally_after_the_burst(client):
    answer = client.post("/sparql", data={"query": "ASK { ?s ?p ?o } # after the burst"})
    assert answer.status_code == 200 and answer.json()["boolean"] is True
