"""The project's namespaces and its one prefix map."""

from __future__ import annotations

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DefinedNamespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, QB, RDF, RDFS, SDO, SH, SKOS, TIME, VANN, VOID, XSD

__all__ = [
    "BASE",
    "ELI",
    "GRAPH",
    "ID",
    "PREFIXES",
    "SCHEMA",
    "SD",
    "SRC",
    "THB",
    "THBSH",
    "bind_prefixes",
]

#: Root of every IRI the project mints.
BASE = "https://w3id.org/thbkg/"
#: Instances live under ``<BASE>id/<kind>/<slug>``.
ID = Namespace(BASE + "id/")
#: Named graphs that are not sources (ontology, vocabularies, source catalogue).
GRAPH = Namespace(BASE + "graph/")
#: Sources are resources *and* the names of the graphs holding what they state.
SRC = Namespace(BASE + "id/source/")
THBSH = Namespace(BASE + "shapes#")
SCHEMA = Namespace("https://schema.org/")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

class THB(DefinedNamespace):
    """The THB-KG ontology (`ontology/thb.ttl`); an unknown term fails at import."""

    _NS = Namespace(BASE + "ontology#")
    _fail = True

    # Classes
    ActionPlan: URIRef
    Area: URIRef
    Association: URIRef
    AwardCeremony: URIRef
    BilateralInitiative: URIRef
    Campaign: URIRef
    City: URIRef
    Claim: URIRef
    Congress: URIRef
    Country: URIRef
    Decision: URIRef
    Declaration: URIRef
    Decree: URIRef
    DiplomaticMission: URIRef
    EUAct: URIRef
    EUDirective: URIRef
    EUFrameworkDecision: URIRef
    EntryIntoForce: URIRef
    EvaluationReport: URIRef
    EvaluationVisit: URIRef
    Event: URIRef
    Forum: URIRef
    Funding: URIRef
    GovernmentBody: URIRef
    HighLevelMeeting: URIRef
    IndependentAuthority: URIRef
    Initiative: URIRef
    InstrumentAction: URIRef
    IntergovernmentalOrganisation: URIRef
    InterministerialMission: URIRef
    Law: URIRef
    LegalInstrument: URIRef
    Mechanism: URIRef
    Meeting: URIRef
    Ministry: URIRef
    MonetaryAmount: URIRef
    MonitoringBody: URIRef
    NationalActionPlan: URIRef
    NationalLegalAct: URIRef
    Observance: URIRef
    Observation: URIRef
    OfficialVisit: URIRef
    Organ: URIRef
    Organisation: URIRef
    Participation: URIRef
    Person: URIRef
    PlanAxis: URIRef
    PolicyDocument: URIRef
    PolicyFramework: URIRef
    Post: URIRef
    PriorityDesignation: URIRef
    Project: URIRef
    ProjectPhase: URIRef
    Protocol: URIRef
    PublicAgency: URIRef
    Publication: URIRef
    Ratification: URIRef
    Region: URIRef
    Report: URIRef
    Resolution: URIRef
    Session: URIRef
    SideEvent: URIRef
    Signature: URIRef
    Source: URIRef
    SpecialProcedureMandate: URIRef
    StatisticalSeries: URIRef
    StatisticsOffice: URIRef
    Strategy: URIRef
    Tenure: URIRef
    Transposition: URIRef
    Treaty: URIRef
    TreatyBody: URIRef
    TrustFund: URIRef
    Workshop: URIRef

    # Properties
    about: URIRef
    actor: URIRef
    adoptedBy: URIRef
    adoptedOn: URIRef
    adoptedThrough: URIRef
    ageGroup: URIRef
    amends: URIRef
    amount: URIRef
    annexTo: URIRef
    attachedTo: URIRef
    attestedOn: URIRef
    authorisesRatificationOf: URIRef
    award: URIRef
    axisOf: URIRef
    beneficiaryCountry: URIRef
    budget: URIRef
    celexNumber: URIRef
    cetsNumber: URIRef
    chairedBy: URIRef
    channel: URIRef
    claimStatus: URIRef
    claimText: URIRef
    contradictedBy: URIRef
    countryOf: URIRef
    date: URIRef
    durationMonths: URIRef
    edition: URIRef
    eli: URIRef
    endDate: URIRef
    entryIntoForceOn: URIRef
    establishedBy: URIRef
    evaluatedBy: URIRef
    evaluationRound: URIRef
    exploitationForm: URIRef
    firstObservedOn: URIRef
    foundingDate: URIRef
    fundedActivity: URIRef
    funder: URIRef
    holder: URIRef
    homepage: URIRef
    honoured: URIRef
    hostedBy: URIRef
    implementedBy: URIRef
    implements: URIRef
    includesCountry: URIRef
    indicator: URIRef
    initiative: URIRef
    instrument: URIRef
    isbn: URIRef
    iso3166Alpha2: URIRef
    iso3166Alpha3: URIRef
    joinedAt: URIRef
    joinedOn: URIRef
    launchedAt: URIRef
    launchedBy: URIRef
    launchedOn: URIRef
    legalBasis: URIRef
    legalProvision: URIRef
    legifranceId: URIRef
    location: URIRef
    managedBy: URIRef
    memberOf: URIRef
    methodNote: URIRef
    monitors: URIRef
    norNumber: URIRef
    numberOfAxes: URIRef
    numberOfMeasures: URIRef
    observedOn: URIRef
    officialJournalReference: URIRef
    officialUrl: URIRef
    openedForSignatureOn: URIRef
    order: URIRef
    organisedBy: URIRef
    outcome: URIRef
    parentOrganisation: URIRef
    partOfArea: URIRef
    partOfEvent: URIRef
    participant: URIRef
    participatingCountry: URIRef
    periodEnd: URIRef
    periodStart: URIRef
    phaseNumber: URIRef
    phaseOf: URIRef
    post: URIRef
    precededBy: URIRef
    presentedBy: URIRef
    presentedOn: URIRef
    prioritisedBy: URIRef
    priorityArea: URIRef
    publishedBy: URIRef
    publishedOn: URIRef
    publisherName: URIRef
    rank: URIRef
    referenceArea: URIRef
    referenceYear: URIRef
    replaces: URIRef
    reportOn: URIRef
    reportedBy: URIRef
    responsibleBody: URIRef
    resultOf: URIRef
    role: URIRef
    salesNumber: URIRef
    sessionNumber: URIRef
    sessionOf: URIRef
    startDate: URIRef
    statusNote: URIRef
    succeededBy: URIRef
    supplements: URIRef
    supportedBy: URIRef
    supports: URIRef
    targetRegion: URIRef
    transposes: URIRef
    transpositionDeadline: URIRef
    unSymbol: URIRef
    unit: URIRef
    untcId: URIRef
    unts: URIRef
    value: URIRef
    visitedCountry: URIRef
    visitor: URIRef
    votingOutcome: URIRef


#: Instance kinds: the path segment after ``id/`` and the Turtle prefix used for it.
KINDS: dict[str, str] = {
    "action": "action",
    "age": "age-group",
    "amount": "amount",
    "campaign": "campaign",
    "claim": "claim",
    "country": "country",
    "dataset": "dataset",
    "event": "event",
    "form": "exploitation-form",
    "funding": "funding",
    "indicator": "indicator",
    "instrument": "instrument",
    "body": "organisation",
    "person": "person",
    "place": "place",
    "plan": "plan",
    "post": "post",
    "priority": "priority",
    "project": "project",
    "region": "region",
    "report": "report",
    "scheme": "scheme",
    "src": "source",
    "status": "claim-status",
    "tenure": "tenure",
    "unit": "unit",
}


#: The one prefix map: data, ontology, shapes, queries and exports all use exactly these.
PREFIXES: dict[str, str] = {
    "dcat": str(DCAT),
    "dcterms": str(DCTERMS),
    "eli": str(ELI),
    "foaf": str(FOAF),
    "graph": str(GRAPH),
    "org": str(ORG),
    "owl": str(OWL),
    "prov": str(PROV),
    "qb": str(QB),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "schema": str(SCHEMA),
    "sd": str(SD),
    "sh": str(SH),
    "skos": str(SKOS),
    "thb": str(THB._NS),
    "thbsh": str(THBSH),
    "time": str(TIME),
    "vann": str(VANN),
    "void": str(VOID),
    "xsd": str(XSD),
    **{prefix: f"{ID}{kind}/" for prefix, kind in KINDS.items()},
}
PREFIXES = dict(sorted(PREFIXES.items()))

# SDO from rdflib is the https schema.org namespace; we use the same IRI.
assert str(SDO) == str(SCHEMA)


def bind_prefixes(graph: Graph) -> Graph:
    """Bind every project prefix on ``graph`` (replacing rdflib's defaults) and return it."""
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True, replace=True)
    return graph
