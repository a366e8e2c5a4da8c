"""What can go wrong when a backend answers a query: one error type per failure, with its HTTP
status (for the endpoint) and exit code (for the command line)."""

from __future__ import annotations

from thbkg.sparql_guard import QueryRefused

__all__ = ["BackendError", "BackendUnavailable", "QueryFailed", "QueryRefused", "QueryTimeout"]


class BackendError(Exception):
    """A query the backend could not answer; ``status`` is what the endpoint sends back."""

    status = 503
    exit_code = 2

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer to this failure carries (``Retry-After`` when overloaded)."""
        return {}


class QueryTimeout(BackendError):
    """The query ran longer than the timeout and was stopped (a worker killed, a request abandoned)."""


class QueryFailed(BackendError):
    """The query was stopped while evaluating: a worker died (memory cap, stack overflow), or the
    engine answered with an error of its own."""


class BackendUnavailable(BackendError):
    """The remote engine does not answer, or does not answer as a SPARQL 1.1 endpoint (HTTP 502)."""

    status = 502
