"""Two costs of pySHACL 0.40 removed without changing what it reports: :func:`pyshacl_tuned`.

- **SPARQL constraints parsed once.** pySHACL hands rdflib the text of a SPARQL-based constraint
  for every focus node it checks, and rdflib parses the text each time (pyparsing: some 60 ms a
  query, three quarters of the whole validation time on the bundled graph). The translated query
  is kept by text, base and namespaces and evaluated again with each focus node's bindings, as
  rdflib's own prepared queries are.
- **Constraint parameters looked up in a set.** Every time a shape validates a node (once per value
  node for a property shape: hundreds of thousands of times on a large graph), pySHACL picks the
  shape's constraint parameters by testing each of its predicates for membership in a *list* of
  some thirty IRIs; on 100k triples that was 44 million ``URIRef.__eq__`` calls, a third of the
  validation time. The list is given a set beside it for the membership test; its order and its
  content are pySHACL's own.

Both are undone when the block ends, so nothing outside it sees a patched pySHACL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["pyshacl_tuned", "sparql_constraints_parsed_once"]


@contextmanager
def sparql_constraints_parsed_once() -> Iterator[None]:
    """Inside the block, rdflib parses each SPARQL text once, not once per evaluation."""
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query
    prepared: dict[tuple, object] = {}

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((k, str(v)) for k, v in (initNs or {}).items())))
            if key not in prepared:
                prepared[key] = processor.translateQuery(processor.parseQuery(strOrQuery), base, initNs)
            strOrQuery = prepared[key]
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original


class _Parameters(list):
    """pySHACL's list of constraint parameters, with a set for ``in`` (``copy`` and ``append`` keep it)."""

    def __init__(self, items=()):
        super().__init__(items)
        self._members = set(self)

    def __contains__(self, item) -> bool:
        return item in self._members

    def append(self, item) -> None:
        super().append(item)
        self._members.add(item)

    def copy(self) -> "_Parameters":
        return _Parameters(self)


@contextmanager
def constraint_parameters_in_a_set() -> Iterator[None]:
    """Inside the block, pySHACL finds a shape's constraint parameters by set lookup, not list scan."""
    from pyshacl import shape
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP

    missing = object()
    original = getattr(shape.module, "CONSTRAINT_PARAMS", missing)
    shape.module.CONSTRAINT_PARAMS = (_Parameters(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP)
    try:
        yield
    finally:
        if original is missing:
            del shape.module.CONSTRAINT_PARAMS
        else:
            shape.module.CONSTRAINT_PARAMS = original


@contextmanager
def pyshacl_tuned() -> Iterator[None]:
    """Both workarounds at once: what every validation in THB-KG runs inside."""
    with sparql_constraints_parsed_once(), constraint_parameters_in_a_set():
        yield
