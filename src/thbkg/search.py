"""Search over every label and short name of the graph, accents and case ignored, ranked by how well each matches.

The backend filters by SPARQL (``REGEX`` with each letter's accented forms, which every SPARQL 1.1
engine evaluates), so a search costs one query however large the graph; the few labels that pass are
ranked here: labels holding the words as typed (accents included) first; then a whole-label match, then a label that starts with the words, then one where a
word starts with them, then any other; a short name (``skos:altLabel``) ahead of a long one on ties.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from thbkg.backend import Backend
from thbkg.backend.reading import select, sparql_iri

__all__ = ["Hit", "SearchError", "letters_pattern", "normalise", "search"]

#: Longest search text accepted (a search is a few words; the limit keeps the regular expression small).
MAX_LENGTH = 100
#: Labels read from the backend per search: enough to rank; a search that matches more is a vague one.
_CANDIDATES = 2000
_LABEL_PROPERTIES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel)
_REGEX_SPECIAL = re.compile(r"[\\.^$|?*+()\[\]{}]")


class SearchError(ValueError):
    """Search text that cannot be searched: empty, or too long."""


def normalise(text: str) -> str:
    """``text`` without accents, case folded, its spaces collapsed: what two spellings share."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().replace("œ", "oe").replace("æ", "ae").split())


def _forms() -> dict[str, set[str]]:
    forms: dict[str, set[str]] = {}
    for code in range(0x00C0, 0x0250):  # Latin-1 Supplement and Latin Extended-A/B: every accented letter
        char = chr(code)
        base = normalise(char)
        if len(base) == 1 and base.isalpha() and char.isalpha():
            forms.setdefault(base, set()).update(form for form in (char, char.upper(), char.lower()) if len(form) == 1)
    return forms


_FORMS = _forms()
_LIGATURES = {"oe": "(oe|œ|Œ)", "ae": "(ae|æ|Æ)"}


def letters_pattern(word: str) -> str:
    """A regular expression (XPath flavour, used with the ``i`` flag) matching ``word`` with or without
    accents: ``traite`` -> ``tr[aàáâãäå...]...``."""
    parts = []
    text = normalise(word)
    index = 0
    while index < len(text):
        pair, char = text[index:index + 2], text[index]
        index += 1
        if pair in _LIGATURES:  # "coeur" finds "Cœur"
            parts.append(_LIGATURES[pair])
            index += 1
        elif char in _FORMS:
            parts.append("[" + char + "".join(sorted(_FORMS[char])) + "]")
        else:
            parts.append(_REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), char))
    return "".join(parts)


@dataclass
class Hit:
    """A resource whose label matched: how well, by which label, and what the page shows of it."""

    iri: URIRef
    score: tuple
    matched: Literal
    labels: dict[str, str] = field(default_factory=dict)  # language -> label
    short_names: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def label(self, lang: str = "en") -> str:
        return self.labels.get(lang) or next(iter(self.labels.values()), str(self.matched))


def _score(label: Literal, prop: URIRef, words: list[str], typed: list[str]) -> tuple:
    """Smaller is better: a label with the words as typed (accents included) first, then how the label
    contains them, then short names first, then shorter labels."""
    folded = str(label).casefold()
    as_typed = all(word in folded for word in typed)
    text = normalise(str(label))
    phrase = " ".join(words)
    tokens = re.split(r"[^\w]+", text)
    if text == phrase:
        how = 0
    elif text.startswith(phrase):
        how = 1
    elif all(any(token.startswith(word) for token in tokens) for word in words):
        how = 2
    else:
        how = 3
    return (not as_typed, how, 0 if prop == SKOS.altLabel else 1, len(text), text)


def _query(words: list[str]) -> str:
    filters = " && ".join(f'REGEX(STR(?label), {Literal(letters_pattern(word)).n3()}, "i")' for word in words)
    properties = " ".join(sparql_iri(p) for p in _LABEL_PROPERTIES)
    return (f"SELECT DISTINCT ?item ?property ?label WHERE {{ VALUES ?property {{ {properties} }} "
            f"?item ?property ?label . FILTER(isIRI(?item) && isLITERAL(?label) && {filters}) }} "
            f"LIMIT {_CANDIDATES}")


async def search(backend: Backend, text: str, limit: int = 50) -> list[Hit]:
    """The resources whose labels or short names contain every word of ``text``, best first."""
    words = normalise(text).split()
    if not words:
        raise SearchError("the search is empty: type a name, a short name or a word, for example MIPROF")
    if len(text) > MAX_LENGTH:
        raise SearchError(f"the search is {len(text)} characters long; at most {MAX_LENGTH} are searched")
    typed = text.casefold().split()
    best: dict[URIRef, Hit] = {}
    for row in await select(backend, _query(words)):
        item, label = row["item"], row["label"]
        score = _score(label, row["property"], words, typed)
        if item not in best or score < best[item].score:
            best[item] = Hit(iri=item, score=score, matched=label)
    hits = sorted(best.values(), key=lambda hit: (hit.score, str(hit.iri)))[:limit]
    await _describe(backend, hits)
    return hits


async def _describe(backend: Backend, hits: list[Hit]) -> None:
    """Each hit's labels (en, fr), short names and kinds (the labels of its types), in one query."""
    if not hits:
        return
    values = " ".join(sparql_iri(hit.iri) for hit in hits)
    rows = await select(backend, f"""SELECT ?item ?property ?value WHERE {{
  VALUES ?item {{ {values} }}
  {{ VALUES ?property {{ {sparql_iri(RDFS.label)} {sparql_iri(SKOS.prefLabel)} {sparql_iri(SKOS.altLabel)} }}
     ?item ?property ?value }}
  UNION
  {{ ?item {sparql_iri(RDF.type)} ?type . ?type {sparql_iri(RDFS.label)} ?value .
     FILTER(LANGMATCHES(LANG(?value), "en")) BIND({sparql_iri(RDF.type)} AS ?property) }}
}}""")
    by_iri = {hit.iri: hit for hit in hits}
    for row in sorted(rows, key=lambda r: (str(r["property"]), str(r["value"]))):
        hit, value, prop = by_iri[row["item"]], row["value"], row["property"]
        lang = getattr(value, "language", None) or ""
        if prop == RDF.type:
            if str(value) not in hit.kinds:
                hit.kinds.append(str(value))
        elif prop == SKOS.altLabel:
            if str(value) not in hit.short_names:
                hit.short_names.append(str(value))
        elif lang not in hit.labels or prop == RDFS.label:
            hit.labels.setdefault(lang, str(value))
