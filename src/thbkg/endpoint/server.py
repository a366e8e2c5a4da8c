"""Starting the endpoint: load and validate the graph, prepare the store, run uvicorn."""

from __future__ import annotations

import tempfile
from pathlib import Path

from thbkg.catalogue import add_query_graph, write_dumps
from thbkg.endpoint.pool import StoreSpec
from thbkg.graph import LoadedDataset, load_dataset
from thbkg.queries import load_queries
from thbkg.validate import validate_dataset

__all__ = ["ServeError", "prepare_store", "serve"]


class ServeError(Exception):
    """The endpoint cannot start: the graph does not load or does not conform, or the store is unusable."""


def prepare_store(loaded: LoadedDataset, store: str, scratch: Path) -> StoreSpec:
    """``memory``: an N-Quads dump each worker loads; a directory: a persistent Oxigraph store,
    built on first use and opened read-only afterwards (load once, start fast)."""
    import pyoxigraph as ox

    from thbkg.engine import store_from_dataset

    if store == "memory":
        dump = scratch / "graph.nq"
        dump.write_bytes(loaded.dataset.serialize(format="nquads", encoding="utf-8"))
        return StoreSpec(nquads=dump)
    directory = Path(store)
    marker = directory / "thbkg-store.ok"
    if not marker.exists():
        directory.mkdir(parents=True, exist_ok=True)
        try:
            built = store_from_dataset(loaded, directory)
            del built
        except OSError as exc:
            raise ServeError(f"cannot build the store in {directory}: {exc}") from None
        marker.write_text("complete\n")
    try:
        ox.Store.read_only(str(directory))
    except OSError as exc:
        raise ServeError(f"cannot open the store in {directory}: {exc}") from None
    return StoreSpec(directory=directory)


def serve(host: str, port: int, store: str, settings, log_level: str = "info") -> None:
    """Load, validate and serve the bundled graph until interrupted (Ctrl-C stops cleanly)."""
    import uvicorn

    from thbkg.endpoint.app import create_app

    loaded = load_dataset()
    validation = validate_dataset(loaded)
    if not validation.conforms:
        raise ServeError("the graph does not conform to its shapes; run `thbkg validate` for the report")
    with tempfile.TemporaryDirectory(prefix="thbkg-") as scratch:
        queries = load_queries()
        add_query_graph(loaded.dataset, queries, settings.public_url.rstrip("/") + "/sparql")
        spec = prepare_store(loaded, store, Path(scratch))
        dumps = write_dumps(loaded, Path(scratch) / "download")
        app = create_app(loaded, spec, settings, queries, dumps)
        uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5,
                    h11_max_incomplete_event_size=64 * 1024)
