"""Oxigraph in this process: for the command line and the build, where nothing else waits on it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from thbkg.backend.engine import Answer, Engine
from thbkg.backend.errors import QueryFailed
from thbkg.sparql_guard import QueryRefused, QueryShape

__all__ = ["LocalBackend"]


class LocalBackend:
    """An :class:`Engine` over ``store`` (a path opened read-only, or an open store), run on a thread."""

    size = 1

    def __init__(self, store: Path | ox.Store, *, base_iri: str | None = None):
        self.description = f"Oxigraph in process on {store}" if isinstance(store, Path) else "Oxigraph in process"
        self._store = store
        self._base_iri = base_iri
        self.engine: Engine | None = None

    def launch(self) -> None:
        """Nothing to start ahead: the store opens with :meth:`start`."""

    async def start(self) -> None:
        self.open()

    def open(self) -> Engine:
        if self.engine is None:
            store = self._store
            if isinstance(store, Path):
                store = ox.Store.read_only(str(store))
            self.engine = Engine(store, self._base_iri)
        return self.engine

    async def close(self) -> None:
        self.engine = None

    def run(self, text: str, media_type: str | None = None, *, default_graphs: Sequence[str] = (),
            named_graphs: Sequence[str] = (), max_rows: int | None = None, shape: QueryShape | None = None) -> Answer:
        """The same as :meth:`query`, without an event loop.

        The error raised carries no traceback of the evaluation: pyoxigraph's results may only be
        dropped by the thread that made them, and a traceback would carry them to the caller's thread.
        """
        failure: Exception
        try:
            return self.open().run(text, media_type, default_graphs=list(default_graphs),
                                   named_graphs=list(named_graphs), max_rows=max_rows, shape=shape)
        except QueryRefused as exc:
            failure = QueryRefused(str(exc), exc.status)
        except MemoryError:
            failure = QueryFailed("the query needed more memory than it may use")
        except (OSError, ValueError, RuntimeError, SyntaxError) as exc:  # Oxigraph evaluation errors
            failure = QueryFailed(f"query evaluation failed: {' '.join(str(exc).split())[:300]}")
        raise failure

    async def query(self, text: str, media_type: str | None = None, *, default_graphs: Sequence[str] = (),
                    named_graphs: Sequence[str] = (), max_rows: int | None = None,
                    shape: QueryShape | None = None, priority: bool = True) -> Answer:
        return await asyncio.to_thread(self.run, text, media_type, default_graphs=default_graphs,
                                       named_graphs=named_graphs, max_rows=max_rows, shape=shape)
