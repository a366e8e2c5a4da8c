"""The ontology: header metadata, every term documented in English and French, aligned, in sync with code."""

from __future__ import annotations

import owlrl
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, VANN

from conftest import ROOT
from thbkg.namespaces import PREFIXES, THB

ONTOLOGY = URIRef("https://w3id.org/thbkg/ontology")
THB_NS = PREFIXES["thb"]
ORG = "http://www.w3.org/ns/org#"
SCHEMA = "https://schema.org/"


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ROOT / "ontology" / "thb.ttl", format="turtle")


def declared_terms(ontology: Graph) -> set[URIRef]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)
    return {s for kind in kinds for s in ontology.subjects(RDF.type, kind)
            if isinstance(s, URIRef) and s.startswith(THB_NS)}


def test_header_has_catalogue_metadata(ontology):
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology
    for prop in (DCTERMS.title, DCTERMS.description):
        assert {o.language for o in ontology.objects(ONTOLOGY, prop)} >= {"en", "fr"}, prop
    for prop in (DCTERMS.creator, DCTERMS.license, DCTERMS.created, DCTERMS.modified, OWL.versionIRI,
                 OWL.versionInfo, VANN.preferredNamespacePrefix, VANN.preferredNamespaceUri,
                 DCTERMS.bibliographicCitation):
        assert ontology.value(ONTOLOGY, prop) is not None, prop
    assert str(ontology.value(ONTOLOGY, VANN.preferredNamespaceUri)) == THB_NS
    assert (ONTOLOGY, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in ontology
    assert not list(ontology.objects(ONTOLOGY, OWL.imports))


def test_namespace_class_equals_declared_terms(ontology):
    in_code = {URIRef(THB_NS + name) for name in THB.__annotations__}
    assert in_code == declared_terms(ontology)


def test_every_used_thb_term_is_declared(ontology):
    used = {t for triple in ontology for t in triple if isinstance(t, URIRef) and t.startswith(THB_NS)}
    assert used <= declared_terms(ontology)


@pytest.mark.parametrize("prop", [RDFS.label, RDFS.comment], ids=["label", "comment"])
def test_every_term_is_documented_in_english_and_french(ontology, prop):
    missing = [(term, lang) for term in sorted(declared_terms(ontology)) for lang in ("en", "fr")
               if not any(isinstance(o, Literal) and o.language == lang for o in ontology.objects(term, prop))]
    assert missing == []


def test_every_term_is_defined_by_the_ontology(ontology):
    assert [t for t in declared_terms(ontology) if (t, RDFS.isDefinedBy, ONTOLOGY) not in ontology] == []


def test_every_class_reaches_a_standard_vocabulary(ontology):
    def aligned(cls, seen=()):
        supers = set(ontology.objects(cls, RDFS.subClassOf)) | set(ontology.objects(cls, OWL.equivalentClass))
        return any(isinstance(s, URIRef) and (not s.startswith(THB_NS) or (s not in seen and aligned(s, seen + (cls,))))
                   for s in supers)
    classes = {t for t in declared_terms(ontology) if (t, RDF.type, OWL.Class) in ontology}
    assert sorted(c for c in classes if not aligned(c)) == []


def test_standard_vocabulary_users_find_our_resources_after_rdfs_inference(loaded):
    graph = Graph()
    for s, p, o, _ in loaded.dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    from rdflib import term

    converters = dict(term._toPythonMapping)
    try:
        owlrl.DeductiveClosure(owlrl.RDFS_Semantics).expand(graph)
    finally:
        # owlrl installs its own literal converters process-wide (gMonthDay among them, under which
        # "--07-30" is invalid) and its own restore keeps those rdflib has none for; later tests
        # parse and validate in this process with exactly rdflib's.
        term._toPythonMapping.clear()
        term._toPythonMapping.update(converters)
    idn = "https://w3id.org/thbkg/id/"
    expectations = {
        URIRef(SCHEMA + "Organization"): ["organisation/miprof", "organisation/unodc", "organisation/greta"],
        URIRef(ORG + "Organization"): ["organisation/miprof", "organisation/expertise-france"],
        URIRef(SCHEMA + "Legislation"): ["instrument/untoc", "instrument/coe-cthb-convention",
                                         "instrument/directive-2011-36-eu"],
        URIRef("http://www.w3.org/ns/prov#Plan"): ["plan/fr-nap-2"],
        URIRef(SCHEMA + "Event"): ["event/untoc-cop10"],
        URIRef(SCHEMA + "Country"): ["country/france"],
    }
    for cls, resources in expectations.items():
        for resource in resources:
            assert (URIRef(idn + resource), RDF.type, cls) in graph, (resource, cls)
