"""Descriptions of the dataset for integrators: VoID statistics, DCAT dumps, published queries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS, SH, VOID, XSD

from thbkg.graph import LoadedDataset
from thbkg.namespaces import BASE, GRAPH, ID, SCHEMA, bind_prefixes
from thbkg.queries import NamedQuery

__all__ = ["DUMP_FORMATS", "Dump", "add_query_graph", "dcat_description", "void_description", "write_dumps"]

SPDX = "http://spdx.org/rdf/terms#"
LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")
DATASET = URIRef(f"{BASE}dataset")

#: file name -> (rdflib format, media type). Dumps keep the named graphs (N-Quads, TriG, JSON-LD).
DUMP_FORMATS = {
    "thbkg.trig": ("trig", "application/trig"),
    "thbkg.nq": ("nquads", "application/n-quads"),
    "thbkg.jsonld": ("json-ld", "application/ld+json"),
}


@dataclass(frozen=True)
class Dump:
    name: str
    path: Path
    media_type: str
    sha256: str
    size: int


def add_query_graph(dataset: Dataset, queries: list[NamedQuery], endpoint_url: str) -> Graph:
    """Publish the competency questions in the graph as ``sh:SPARQLExecutable`` resources.

    This is the convention SIB's sparql-editor and others read: ``rdfs:comment`` (the question),
    ``sh:select`` (the query) and ``schema:target`` (the endpoint that answers it).
    """
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
    return graph


def void_description(loaded: LoadedDataset, public_url: str) -> Graph:
    """A VoID description with class and property partitions (counted over the union graph)."""
    dataset = loaded.dataset
    void = bind_prefixes(Graph())
    void.add((DATASET, RDF.type, VOID.Dataset))
    void.add((DATASET, DCTERMS.title, Literal("THB-KG: France's fight against trafficking in human beings", lang="en")))
    void.add((DATASET, DCTERMS.license, LICENSE))
    void.add((DATASET, VOID.sparqlEndpoint, URIRef(public_url.rstrip("/") + "/sparql")))
    void.add((DATASET, VOID.uriSpace, Literal(f"{BASE}id/")))
    void.add((DATASET, VOID.vocabulary, URIRef(f"{BASE}ontology#")))
    for name in DUMP_FORMATS:
        void.add((DATASET, VOID.dataDump, URIRef(f"{public_url.rstrip('/')}/download/{name}")))
    triples = list(dataset.triples((None, None, None)))
    subjects = {s for s, _, _ in triples}
    objects = {o for _, _, o in triples}
    void.add((DATASET, VOID.triples, Literal(len(set(triples)), datatype=XSD.integer)))
    void.add((DATASET, VOID.distinctSubjects, Literal(len(subjects), datatype=XSD.integer)))
    void.add((DATASET, VOID.distinctObjects, Literal(len(objects), datatype=XSD.integer)))
    classes: dict[URIRef, set] = {}
    properties: dict[URIRef, int] = {}
    for s, p, o in set(triples):
        properties[p] = properties.get(p, 0) + 1
        if p == RDF.type and isinstance(o, URIRef):
            classes.setdefault(o, set()).add(s)
    void.add((DATASET, VOID.classes, Literal(len(classes), datatype=XSD.integer)))
    void.add((DATASET, VOID.properties, Literal(len(properties), datatype=XSD.integer)))
    for cls, members in sorted(classes.items()):
        part = URIRef(f"{DATASET}/class/{hashlib.sha1(str(cls).encode()).hexdigest()[:12]}")
        void.add((DATASET, VOID.classPartition, part))
        void.add((part, VOID["class"], cls))
        void.add((part, VOID.entities, Literal(len(members), datatype=XSD.integer)))
    for prop, count in sorted(properties.items()):
        part = URIRef(f"{DATASET}/property/{hashlib.sha1(str(prop).encode()).hexdigest()[:12]}")
        void.add((DATASET, VOID.propertyPartition, part))
        void.add((part, VOID.property, prop))
        void.add((part, VOID.triples, Literal(count, datatype=XSD.integer)))
    return void


def write_dumps(loaded: LoadedDataset, folder: Path) -> list[Dump]:
    """Write the whole dataset, named graphs included, in each dump format; return their checksums."""
    folder.mkdir(parents=True, exist_ok=True)
    dumps = []
    for name, (fmt, media_type) in DUMP_FORMATS.items():
        path = folder / name
        data = loaded.dataset.serialize(format=fmt, encoding="utf-8")
        path.write_bytes(data)
        dumps.append(Dump(name, path, media_type, hashlib.sha256(data).hexdigest(), len(data)))
    return dumps


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
