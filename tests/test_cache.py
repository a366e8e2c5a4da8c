"""The answer cache keeps what is asked again, not every one-off query (``endpoint/cache.py``)."""

from __future__ import annotations

from thbkg.backend.engine import Answer
from thbkg.endpoint.cache import ResultCache


def _answer(size: int = 100) -> Answer:
    return Answer("SELECT", "application/sparql-results+json", b"x" * size)


def _key(n: int) -> tuple:
    return (f"SELECT * WHERE {{ ?s ?p ?o }} # fresh {n}", "application/sparql-results+json", (), (), 1000)


def test_an_answer_is_kept_the_second_time_its_request_is_seen():
    cache = ResultCache("v1")
    etag = cache.put(_key(1), _answer())
    assert cache.get(_key(1)) is None  # seen once: only its hash is remembered
    assert cache.put(_key(1), _answer()) == etag  # the same ETag either way (304s need no entry)
    assert cache.get(_key(1)) == (_answer(), etag)


def test_a_flood_of_one_off_queries_keeps_no_answer_and_a_bounded_memory():
    cache = ResultCache("v1", max_seen=1000)
    for n in range(5000):
        cache.put(_key(n), _answer(10_000))
    assert cache._bytes == 0 and not cache._entries
    assert len(cache._seen) == 1000  # the oldest sightings are forgotten first
    cache.put(_key(0), _answer())  # forgotten: a first sighting again
    assert cache.get(_key(0)) is None
    cache.put(_key(4999), _answer())  # remembered: kept now
    assert cache.get(_key(4999)) is not None


def test_the_cache_stays_under_its_size_dropping_the_least_recently_used():
    cache = ResultCache("v1", max_bytes=250)
    for n in range(3):
        cache.put(_key(n), _answer())
        cache.put(_key(n), _answer())
    assert cache.get(_key(0)) is None and cache.get(_key(2)) is not None
    assert cache._bytes == 200
