"""Which backend a web process answers from: the release's store in worker processes, or a remote engine."""

from __future__ import annotations

from thbkg.backend import Backend
from thbkg.build.release import Release
from thbkg.namespaces import BASE
from thbkg.settings import Settings

__all__ = ["make_backend"]


def make_backend(release: Release, settings: Settings) -> Backend:
    """The backend a web process answers from: the release's store in workers, or the remote engine."""
    if settings.backend_url:
        from thbkg.backend.remote import RemoteBackend

        return RemoteBackend(settings.backend_url, timeout=settings.timeout, max_in_flight=settings.backend_connections,
                             graph_names=release.graph_names, queue_length=settings.queue_length,
                             queue_wait=settings.queue_wait)
    from thbkg.backend.embedded import EmbeddedBackend

    return EmbeddedBackend(release.store, base_iri=BASE, workers=settings.workers, timeout=settings.timeout,
                           memory_bytes=settings.memory_bytes, queue_length=settings.queue_length,
                           queue_wait=settings.queue_wait)
