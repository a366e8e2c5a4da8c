"""Which graph a command reads: the bundled release (built when its sources changed), a release
folder, RDF files loaded for this one command, or a remote SPARQL endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox

from thbkg.backend import Answer, Backend
from thbkg.backend.engine import merge_into_default_graph
from thbkg.backend.local import LocalBackend
from thbkg.build.compile import Log, Progress, ensure_release
from thbkg.build.release import Release, ReleaseError
from thbkg.build.sources import load_into_store, plan_sources, read_sources
from thbkg.namespaces import BASE

__all__ = ["answer_once", "open_backend", "open_release"]


def open_release(store: Path | None, *, progress: Progress | None = None, log: Log | None = None) -> Release:
    """The release in ``store``, or the bundled graph's (rebuilt first if its sources changed)."""
    if store is not None:
        return Release.open(store)
    return ensure_release(progress=progress, log=log)


def open_backend(*, store: Path | None = None, backend: str | None = None, data: Sequence[Path] = (),
                 timeout: float = 300.0, progress: Progress | None = None, log: Log | None = None) -> Backend:
    """A backend over what the options name (at most one of them; none: the bundled graph); ask it
    with :func:`answer_once`."""
    if sum(bool(x) for x in (store, backend, data)) > 1:
        raise ReleaseError("give at most one of --store, --backend and --data")
    if backend:
        from thbkg.backend.remote import RemoteBackend

        return RemoteBackend(backend, timeout=timeout, max_in_flight=2)
    if data:
        memory = ox.Store()
        for _ in load_into_store(memory, read_sources(plan_sources(list(data)), progress)):
            pass
        merge_into_default_graph(memory)
        return LocalBackend(memory, base_iri=BASE)
    release = open_release(store, progress=progress, log=log)
    return LocalBackend(release.store, base_iri=BASE)


def answer_once(backend: Backend, text: str, media_type: str | None = None, *, max_rows: int | None = None) -> Answer:
    """Start ``backend``, answer one query, close it: for commands that have no event loop of their own."""
    async def once() -> Answer:
        await backend.start()
        try:
            return await backend.query(text, media_type, max_rows=max_rows)
        finally:
            await backend.close()

    return asyncio.run(once())


def check_backend(url: str, timeout: float, graph_names: Iterable[str] | None = None) -> None:
    """Raise :class:`~thbkg.backend.BackendError` at once if ``url`` does not answer as a SPARQL endpoint.
    ``graph_names``: the graphs the release names, as the server will be given them; without them the
    check also lists the engine's graphs, a scan of every graph (13 s on Virtuoso 7.2 for the bundled
    graph, beyond the check's 10 s)."""
    from thbkg.backend.remote import RemoteBackend

    async def probe() -> None:
        remote = RemoteBackend(url, timeout=min(timeout, 10.0), max_in_flight=1, graph_names=graph_names)
        await remote.start()
        await remote.close()

    asyncio.run(probe())


def export_dataset(backend: Backend):
    """Every quad of ``backend``'s named graphs as an rdflib Dataset, for the export writers."""
    from thbkg.backend.reading import QUADS_QUERY, dataset_of, rows_of

    return dataset_of(rows_of(answer_once(backend, QUADS_QUERY, "text/tab-separated-values")))


def picture_tables(backend: Backend, name: str) -> list:
    """The rows of the queries a picture draws, asked of ``backend``."""
    from thbkg.pictures import QueryTable, picture_queries

    return [QueryTable.from_csv(query, answer_once(backend, query.text, "text/csv").body.decode("utf-8"))
            for query in picture_queries(name)]
