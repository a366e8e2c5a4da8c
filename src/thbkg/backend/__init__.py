"""The one seam every reader of the graph asks by SPARQL: an embedded Oxigraph or a remote engine.

A :class:`Backend` answers a query string with an :class:`~thbkg.backend.engine.Answer` (the body
already serialised in the format asked for). Three implementations share the interface:

- :class:`~thbkg.backend.embedded.EmbeddedBackend`: Oxigraph on a release's store, in killable
  worker processes (timeout, memory cap, row cap); what ``thbkg serve`` uses by default;
- :class:`~thbkg.backend.remote.RemoteBackend`: any SPARQL 1.1 query endpoint over pooled HTTP
  (``thbkg serve --backend URL``), with the same guard, timeout and row cap;
- :class:`~thbkg.backend.local.LocalBackend`: Oxigraph in this process, for the command line and
  the build, where a query needs no worker to be killable.

:mod:`thbkg.backend.reading` turns answers into rdflib terms and graphs for pages and exports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from thbkg.backend.admission import Overloaded
from thbkg.backend.engine import Answer
from thbkg.backend.errors import BackendError, BackendUnavailable, QueryFailed, QueryRefused, QueryTimeout
from thbkg.sparql_guard import QueryShape

__all__ = ["Answer", "Backend", "BackendError", "BackendUnavailable", "Overloaded", "QueryFailed", "QueryRefused",
           "QueryTimeout"]


@runtime_checkable
class Backend(Protocol):
    """Answers SPARQL queries over the graph; started once, closed once."""

    #: What the backend is, for logs and /health ("embedded Oxigraph", "remote http://...").
    description: str

    def launch(self) -> None:
        """Begin what takes a while to get ready (start worker processes), before any event loop
        runs; ``start`` finishes it. Nothing to do for most backends."""

    async def start(self) -> None:
        """Get ready to answer (start workers, open a connection pool, check the engine answers)."""

    async def close(self) -> None:
        """Release what ``start`` took."""

    async def query(self, text: str, media_type: str | None = None, *, default_graphs: Sequence[str] = (),
                    named_graphs: Sequence[str] = (), max_rows: int | None = None,
                    shape: QueryShape | None = None, priority: bool = True) -> Answer:
        """Evaluate ``text`` (already checked by the guard when ``shape`` is given) and serialise its
        answer as ``media_type`` (a default per form if None); SELECT answers are cut after
        ``max_rows`` rows. ``priority`` is False for the public's queries (``/sparql``), which wait
        behind the ones pages ask for. Raises a :class:`BackendError` (:class:`Overloaded` when it
        cannot take the query now) or :class:`QueryRefused`."""
        ...
