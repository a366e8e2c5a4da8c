"""What the graph view draws, asked of the backend by SPARQL: label search, neighbourhoods, the whole
graph, and the context (labels, classes) that a CONSTRUCT answer is drawn with."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import TYPE_CHECKING

from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS

from thbkg.backend import Backend
from thbkg.backend.reading import QUADS_QUERY, construct, dataset_of, select, sparql_iri
from thbkg.namespaces import GRAPH, PREFIXES, SCHEMA, bind_prefixes

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["NetworkReader", "TooLarge", "build_network", "cytoscape_elements", "fold"]


# networkx and pydot (some 110 ms and 15 MB) load with the first graph drawn, not when the server starts.
def build_network(*args, **kwargs) -> nx.MultiDiGraph:
    """:func:`thbkg.export.network.build_network`, imported on first use."""
    from thbkg.export.network import build_network as build

    return build(*args, **kwargs)


def cytoscape_elements(network: nx.MultiDiGraph) -> dict[str, list[dict]]:
    """:func:`thbkg.export.writers.cytoscape_elements`, imported on first use."""
    from thbkg.export.writers import cytoscape_elements as elements

    return elements(network)

#: Most results a search returns.
SEARCH_LIMIT = 20
#: Labels a search reads before ranking them (the best matches of a common word are among them).
SEARCH_CANDIDATES = 3000
#: Largest graph (quads) drawn whole; past it, the view offers search and neighbourhoods only.
MAX_WHOLE_QUADS = 100_000
#: Names a search matches: the label properties of the network, and short names (``skos:altLabel``).
SEARCH_PROPERTIES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, DCTERMS.title, FOAF.name, SCHEMA.name)

_NOT_WORD = re.compile(r"[\W_]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
_VARIANTS: dict[str, str] = {}
for _char in map(chr, range(0xC0, 0x250)):
    _base = unicodedata.normalize("NFKD", _char)[0].lower()
    if _base.isascii() and _base.isalpha():
        _VARIANTS[_base] = _VARIANTS.get(_base, _base + _base.upper()) + _char


class TooLarge(Exception):
    """The graph is too large to be drawn whole."""


def fold(text: str) -> str:
    """``text`` for matching: accents dropped, case folded, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", bare.casefold().translate(_LIGATURES)).split())


def _word_pattern(word: str) -> str:
    """A SPARQL regular expression matching ``word`` (folded) with any accents and case."""
    parts = []
    for char in word:
        variants = _VARIANTS.get(char)
        parts.append(f"[{variants}]" if variants else re.escape(char))
    return "".join(parts).replace("\\", "\\\\").replace('"', '\\"')


def _expand(node_id: str) -> str | None:
    """The IRI of a node id that is a prefixed name (``body:miprof``), else None."""
    prefix, _, local = node_id.partition(":")
    namespace = PREFIXES.get(prefix)
    return namespace + local if namespace and local else None


class NetworkReader:
    """The graph view's reads, over ``backend``; ``quads`` (if known) is the size of the graph."""

    def __init__(self, backend_of, quads: int | None = None):
        self._backend_of = backend_of  # called for the backend: it is started with the web process
        self.quads = quads
        self._schema: Graph | None = None
        self._whole: bytes | None = None
        self._whole_network: nx.MultiDiGraph | None = None

    @property
    def backend(self) -> Backend:
        return self._backend_of()

    async def schema(self) -> Graph:
        """Class hierarchy and the labels of classes and properties (cached: the graph is read-only)."""
        if self._schema is None:
            self._schema = await construct(self.backend, f"""
CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{GRAPH.ontology}> {{ ?s ?p ?o
  FILTER(?p IN (<{RDFS.subClassOf}>, <{RDFS.label}>, <{RDF.type}>)) }} }}""")
        return self._schema

    async def _network(self, selection: str) -> nx.MultiDiGraph:
        """The network of every quad whose subject ``selection`` (a SELECT of ``?s``) picks."""
        rows = await select(self.backend, f"SELECT ?s ?p ?o ?g WHERE {{ {{ {selection} }} GRAPH ?g {{ ?s ?p ?o }} }}")
        return build_network(dataset_of(rows), context=await self.schema())

    async def resolve(self, iri: str | None, node_id: str | None) -> str | None:
        """The IRI of a resource given by IRI or node id, if the graph describes it."""
        target = iri or (_expand(node_id) if node_id else None)
        if not target or any(c in target for c in '<>" {}|\\^`'):
            return None
        rows = await select(self.backend, f"SELECT ?p WHERE {{ {sparql_iri(target)} ?p ?o }} LIMIT 1")
        return target if rows else None

    async def neighbourhood(self, iri: str) -> dict:
        """The resource, what it links to and what links to it, and every edge among them."""
        node = sparql_iri(iri)
        network = await self._network(f"SELECT DISTINCT ?s WHERE {{ {{ BIND({node} AS ?s) }} UNION "
                                      f"{{ {node} ?q ?s FILTER(!isLiteral(?s)) }} UNION {{ ?s ?q {node} }} }}")
        centre = next(n for n, data in network.nodes(data=True) if data.get("iri") == iri)
        around = {centre, *network.successors(centre), *network.predecessors(centre)}
        return {"centre": centre, "elements": cytoscape_elements(network.subgraph(around))}

    async def whole_network(self) -> nx.MultiDiGraph:
        if self._whole_network is None:
            if self.quads is not None and self.quads > MAX_WHOLE_QUADS:
                raise TooLarge(f"the graph holds {self.quads:,} quads; the view draws at most {MAX_WHOLE_QUADS:,} "
                               "at once: search for a resource and expand its neighbourhood")
            rows = await select(self.backend, QUADS_QUERY, max_rows=MAX_WHOLE_QUADS + 1)
            if len(rows) > MAX_WHOLE_QUADS:
                raise TooLarge(f"the graph holds over {MAX_WHOLE_QUADS:,} quads: search for a resource instead")
            self._whole_network = build_network(dataset_of(rows))
        return self._whole_network

    async def whole(self) -> bytes:
        """The whole graph as Cytoscape.js JSON (cached)."""
        if self._whole is None:
            network = await self.whole_network()
            self._whole = json.dumps({"elements": cytoscape_elements(network)}, ensure_ascii=False,
                                     separators=(",", ":")).encode("utf-8")
        return self._whole

    async def search(self, text: str, limit: int = SEARCH_LIMIT) -> list[dict]:
        """Resources whose names hold every word of ``text`` (accents and case ignored), best first:
        whole name, name start, word start, anywhere; then shorter names."""
        wanted = fold(text)
        words = wanted.split()
        exact = await self.resolve(text.strip(), None) if ":" in text else None
        if exact is None and ":" in text.strip():
            exact = await self.resolve(None, text.strip())
        filters = " && ".join(f'REGEX(STR(?name), "{_word_pattern(word)}", "i")' for word in words)
        properties = " ".join(sparql_iri(p) for p in SEARCH_PROPERTIES)
        rows = await select(self.backend, f"SELECT ?s ?name WHERE {{ VALUES ?p {{ {properties} }} ?s ?p ?name "
                                          f"FILTER(isLiteral(?name) && {filters}) }} LIMIT {SEARCH_CANDIDATES}")
        best: dict = {}
        for row in rows:
            name = fold(str(row["name"]))
            if not all(word in name for word in words) or not isinstance(row["s"], URIRef):
                continue
            rank = (0 if name == wanted else 1 if name.startswith(wanted) else
                    2 if f" {words[0]}" in f" {name}" else 3, len(name), str(row["s"]))
            best[row["s"]] = min(rank, best.get(row["s"], rank))
        found = sorted(best, key=best.get)
        if exact:
            found = [URIRef(exact)] + [node for node in found if str(node) != exact]
        return await self.summaries(found[:limit])

    async def summaries(self, iris: list[URIRef]) -> list[dict]:
        """What a search result shows of each resource: id, IRI, labels, class, degree."""
        if not iris:
            return []
        values = " ".join(sparql_iri(i) for i in iris)
        described = await construct(self.backend, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}")
        network = build_network(described, context=await self.schema())
        degrees = {row["s"]: int(row["degree"]) for row in await select(self.backend, f"""
SELECT ?s (COUNT(*) AS ?degree) WHERE {{ VALUES ?s {{ {values} }}
  {{ ?s ?p ?o FILTER(!isLiteral(?o) && ?p != <{RDF.type}>) }} UNION {{ ?x ?p ?s }} }} GROUP BY ?s""")}
        by_iri = {data.get("iri"): (node, data) for node, data in network.nodes(data=True)}
        from thbkg.export.network import curie as _curie

        keys = ("iri", "label", "label_en", "label_fr", "class", "class_label")
        results = []
        for iri in iris:
            node, data = by_iri.get(str(iri), (_curie(iri) or str(iri), {"iri": str(iri), "label": str(iri)}))
            results.append({"id": node, **{key: data[key] for key in keys if key in data},
                            "degree": degrees.get(iri, 0)})
        return results

    async def context_for(self, graph: Graph) -> Dataset:
        """Labels and types of the resources in ``graph`` (a CONSTRUCT answer), and the schema."""
        iris = sorted({sparql_iri(t) for triple in graph for t in triple if isinstance(t, URIRef)})
        context = bind_prefixes(Dataset())
        names = " ".join(sparql_iri(p) for p in (*SEARCH_PROPERTIES, RDF.type))
        for start in range(0, len(iris), 500):
            chunk = " ".join(iris[start:start + 500])
            for row in await select(self.backend, f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {chunk} }} "
                                                  f"VALUES ?p {{ {names} }} ?s ?p ?o }}"):
                context.add((row["s"], row["p"], row["o"]))
        for triple in await self.schema():
            context.add(triple)
        return context

