"""Real SPARQL engines on loopback for the remote-backend tests: thbkg.backend.engine_servers, with a
missing engine failing the test (and saying how to install it) instead of raising.

The engines and what each sees as the default graph are described there and in docs/engines.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from thbkg.backend import engine_servers
from thbkg.backend.engine_servers import ISQL, OXIGRAPH, VIRTUOSO, EngineMissing, RunningEngine
from thbkg.backend.engine_servers import serving as _process

__all__ = ["OXIGRAPH", "VIRTUOSO", "ISQL", "RunningEngine", "oxigraph_server", "virtuoso_server"]


def _require(*binaries: Path) -> None:
    try:
        engine_servers.require(*binaries)
    except EngineMissing as exc:
        pytest.fail(str(exc))


@contextmanager
def oxigraph_server(nquads: Path, workdir: Path) -> Iterator[RunningEngine]:
    """See `engine_servers.oxigraph_server`."""
    _require(OXIGRAPH)
    with engine_servers.oxigraph_server(nquads, workdir) as engine:
        yield engine


@contextmanager
def virtuoso_server(nquads: Path, workdir: Path) -> Iterator[RunningEngine]:
    """See `engine_servers.virtuoso_server`."""
    _require(VIRTUOSO, ISQL)
    with engine_servers.virtuoso_server(nquads, workdir) as engine:
        yield engine
