"""Descriptions of the dataset for integrators: VoID statistics, DCAT dumps, published queries."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS, SH, VOID, XSD

from thbkg.build.release import Dump
from thbkg.namespaces import BASE, GRAPH, ID, SCHEMA, bind_prefixes
from thbkg.queries import NamedQuery

__all__ = ["DATASET", "DUMP_FORMATS", "ServedVoid", "dcat_description", "query_graph_nquads", "void_description",
           "void_statistics"]

SPDX = "http://spdx.org/rdf/terms#"
LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")
DATASET = URIRef(f"{BASE}dataset")

#: file name -> (pyoxigraph format, media type). Dumps keep the named graphs (N-Quads, TriG, JSON-LD).
DUMP_FORMATS = {
    "thbkg.nq": (ox.RdfFormat.N_QUADS, ox.RdfFormat.N_QUADS.media_type),
    "thbkg.trig": (ox.RdfFormat.TRIG, ox.RdfFormat.TRIG.media_type),
    "thbkg.jsonld": (ox.RdfFormat.JSON_LD, ox.RdfFormat.JSON_LD.media_type),
}


def query_graph_nquads(queries: list[NamedQuery], endpoint_url: str) -> bytes:
    """The competency questions as ``sh:SPARQLExecutable`` resources in ``graph:queries``, as N-Quads.

    This is the convention SIB's sparql-editor and others read: ``rdfs:comment`` (the question),
    ``sh:select`` (the query) and ``schema:target`` (the endpoint that answers it).
    """
    dataset = Dataset()
    graph = dataset.graph(GRAPH.queries)
    for query in queries:
        node = ID[f"query/{query.name}"]
        graph.add((node, RDF.type, SH.SPARQLExecutable))
        graph.add((node, RDF.type, SH.SPARQLSelectExecutable))
        graph.add((node, RDFS.label, Literal(query.question, lang="en")))
        graph.add((node, RDFS.comment, Literal(query.question, lang="en")))
        graph.add((node, SH.select, Literal(query.text)))
        graph.add((node, SCHEMA.target, URIRef(endpoint_url)))
        graph.add((node, DCTERMS.identifier, Literal(query.name)))
    graph.add((GRAPH.queries, RDFS.label, Literal("Competency questions", lang="en")))
    graph.add((GRAPH.queries, RDFS.label, Literal("Questions de compétence", lang="fr")))
    return dataset.serialize(format="nquads", encoding="utf-8")


_COUNTS = """SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects)
WHERE { ?s ?p ?o }"""
_CLASSES = """SELECT ?class (COUNT(DISTINCT ?s) AS ?entities)
WHERE { ?s a ?class FILTER(isIRI(?class)) } GROUP BY ?class ORDER BY ?class"""
_PROPERTIES = "SELECT ?property (COUNT(*) AS ?triples) WHERE { ?s ?property ?o } GROUP BY ?property ORDER BY ?property"


def _partition(kind: str, term: URIRef) -> URIRef:
    return URIRef(f"{DATASET}/{kind}/{hashlib.sha1(str(term).encode()).hexdigest()[:12]}")


async def void_statistics(backend) -> tuple[Graph, int]:
    """VoID statistics of the default graph (the merge of every graph), asked of ``backend`` by SPARQL:
    triples, distinct subjects and objects, class and property partitions; and the triple count."""
    from thbkg.backend.reading import select

    void = bind_prefixes(Graph())
    integer = XSD.integer
    (counts,) = await select(backend, _COUNTS)
    classes = await select(backend, _CLASSES)
    properties = await select(backend, _PROPERTIES)
    void.add((DATASET, RDF.type, VOID.Dataset))
    for name, prop in (("triples", VOID.triples), ("subjects", VOID.distinctSubjects),
                       ("objects", VOID.distinctObjects)):
        void.add((DATASET, prop, Literal(int(counts[name]), datatype=integer)))
    void.add((DATASET, VOID.classes, Literal(len(classes), datatype=integer)))
    void.add((DATASET, VOID.properties, Literal(len(properties), datatype=integer)))
    for row in classes:
        part = _partition("class", row["class"])
        void.add((DATASET, VOID.classPartition, part))
        void.add((part, VOID["class"], row["class"]))
        void.add((part, VOID.entities, Literal(int(row["entities"]), datatype=integer)))
    for row in properties:
        part = _partition("property", row["property"])
        void.add((DATASET, VOID.propertyPartition, part))
        void.add((part, VOID.property, row["property"]))
        void.add((part, VOID.triples, Literal(int(row["triples"]), datatype=integer)))
    return void, int(counts["triples"])


def void_description(statistics: Graph, public_url: str) -> Graph:
    """The VoID statistics with what depends on where the graph is served: endpoint and dumps."""
    base = public_url.rstrip("/")
    void = bind_prefixes(Graph())
    for triple in statistics:
        void.add(triple)
    void.add((DATASET, DCTERMS.title, Literal("THB-KG: France's fight against trafficking in human beings", lang="en")))
    void.add((DATASET, DCTERMS.license, LICENSE))
    void.add((DATASET, VOID.sparqlEndpoint, URIRef(base + "/sparql")))
    void.add((DATASET, VOID.uriSpace, Literal(f"{BASE}id/")))
    void.add((DATASET, VOID.vocabulary, URIRef(f"{BASE}ontology#")))
    for name in DUMP_FORMATS:
        void.add((DATASET, VOID.dataDump, URIRef(f"{base}/download/{name}")))
    return void


class ServedVoid:
    """The VoID description as served at ``public_url``, read from the release's statistics
    (``void.ttl``) on first use and kept: a server starts without waiting for rdflib to parse it,
    and the pages that show it share one copy."""

    def __init__(self, statistics: Path, public_url: str) -> None:
        self._statistics, self._public_url = statistics, public_url
        self._graph: Graph | None = None
        self._lock = threading.Lock()

    def graph(self) -> Graph:
        """The description (parsed now if it was not yet)."""
        with self._lock:
            if self._graph is None:
                self._graph = void_description(Graph().parse(self._statistics, format="turtle"), self._public_url)
            return self._graph

    async def get(self) -> Graph:
        """The description, parsed off the event loop the first time."""
        return self._graph if self._graph is not None else await asyncio.to_thread(self.graph)


def dcat_description(dumps: list[Dump], public_url: str) -> Graph:
    """A DCAT catalogue entry for the dataset, one distribution per dump with its sha256."""
    base = public_url.rstrip("/")
    dcat = bind_prefixes(Graph())
    dcat.bind("spdx", SPDX)
    dcat.add((DATASET, RDF.type, DCAT.Dataset))
    dcat.add((DATASET, DCTERMS.title, Literal("THB-KG: France's fight against trafficking in human beings", lang="en")))
    dcat.add((DATASET, DCTERMS.title, Literal("THB-KG : la lutte de la France contre la traite des êtres humains",
                                              lang="fr")))
    dcat.add((DATASET, DCTERMS.license, LICENSE))
    for dump in dumps:
        dist = URIRef(f"{base}/download/{dump.name}")
        dcat.add((DATASET, DCAT.distribution, dist))
        dcat.add((dist, RDF.type, DCAT.Distribution))
        dcat.add((dist, DCAT.downloadURL, dist))
        dcat.add((dist, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{dump.media_type}")))
        dcat.add((dist, DCAT.byteSize, Literal(dump.size, datatype=XSD.nonNegativeInteger)))
        dcat.add((dist, DCTERMS.license, LICENSE))
        checksum = URIRef(f"{dist}#sha256")
        dcat.add((dist, URIRef(SPDX + "checksum"), checksum))
        dcat.add((checksum, URIRef(SPDX + "algorithm"), URIRef(SPDX + "checksumAlgorithm_sha256")))
        dcat.add((checksum, URIRef(SPDX + "checksumValue"), Literal(dump.sha256, datatype=XSD.hexBinary)))
    return dcat
