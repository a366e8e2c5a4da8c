"""Synthetic graphs of the bundled graph's shape, scaled to about N quads, seeded and cached.

The bundled data (every named graph but the ontology and the vocabularies) is copied R times.
Copy 0 is the bundled data itself, so the competency queries still find what they look for;
copy k > 0 renames every ``https://w3id.org/thbkg/id/...`` IRI (bodies, instruments, actions,
observations, claims, sources and so the source-named graphs) to ``...-sK`` and tags its labels
`` [K]``; SKOS concepts of the vocabularies stay shared. A seeded fraction of the links to
countries, organisations and instruments is pointed at another copy's twin (same classes, so the
copy still conforms to the SHACL shapes), so joins cross copies as they would in real data.
The ontology and vocabularies are written once. Sizes count quads: a triple that two sources
state is two quads, as in the bundled graph.

Written to ``benchmarks/.cache/<name>/``: ``graph.nq`` (what `oxigraph load` loads), the same
quads split into ``nq/part-NNN.nq`` (what `thbkg build nq/ --out DIR` compiles: its SHACL step
parses each source with rdflib, which refuses a file over 64 MiB, about 300k quads) and ``home/``
(``ontology`` and ``queries`` link to the checkout, ``data/part-NNN.trig`` hold the data).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

__all__ = ["CACHE", "Dataset", "bundled_dataset", "parse_size", "synthetic_dataset"]

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
ID = "https://w3id.org/thbkg/id/"
SCHEMA_GRAPHS = {"https://w3id.org/thbkg/graph/ontology", "https://w3id.org/thbkg/graph/vocabularies",
                 "https://w3id.org/thbkg/graph/queries"}
LABELS = {"http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#altLabel",
          "http://purl.org/dc/terms/title"}
CROSS_LINKED_KINDS = {"country", "organisation", "instrument"}
CROSS_LINK_SHARE = 0.2
PART_QUADS = 150_000  # about 20 MiB of TriG, well under the loader's 64 MiB per file


@dataclass(frozen=True)
class Dataset:
    """A graph ready for the three servers."""

    name: str
    nquads: Path
    quads: int
    home: Path | None  # the synthetic folder's home/ (data parts); None: the bundled graph itself
    sources: Path | None = None  # the folder of N-Quads parts `thbkg build` compiles; None: bundled


def parse_size(text: str) -> int:
    """``100k`` -> 100000, ``1m`` -> 1000000, ``25000`` -> 25000."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def _fingerprint() -> str:
    """A short hash of the bundled graph's files and of this generator: a cached graph is rebuilt when
    either changes."""
    from thbkg.graph import default_paths

    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in default_paths():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def _bundled_quads() -> list[ox.Quad]:
    """The bundled graph as `thbkg build` compiles it: ontology and vocabularies in their own graphs,
    and the competency questions it publishes in the graph of queries (written once, as the schema)."""
    from thbkg.catalogue import query_graph_nquads
    from thbkg.graph import load_dataset
    from thbkg.namespaces import BASE
    from thbkg.queries import load_queries

    data = load_dataset().dataset.serialize(format="nquads", encoding="utf-8")
    published = query_graph_nquads(load_queries(), BASE + "sparql")
    return list(ox.parse(data + published, format=ox.RdfFormat.N_QUADS))


def _write_nquads(quads, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    quads = list(quads)
    ox.serialize(quads, str(partial), format=ox.RdfFormat.N_QUADS)
    partial.replace(path)
    return len(quads)


def bundled_dataset(cache: Path = CACHE) -> Dataset:
    """The bundled graph as one N-Quads file (the same quads `thbkg serve` loads)."""
    path = cache / f"bundled-{_fingerprint()}" / "graph.nq"
    marker = path.parent / "complete"
    if not marker.exists():
        marker.write_text(f"{_write_nquads(_bundled_quads(), path)}\n")
    return Dataset("bundled", path, int(marker.read_text()), None)


class _Copier:
    """Rewrites the data quads for copy k: fresh IRIs, tagged labels, some cross-copy links."""

    def __init__(self, data: list[ox.Quad], shared: set[str], copies: int, rng: random.Random):
        self.data = data
        self.shared = shared
        self.copies = copies
        self.rng = rng
        self.seed = rng.random()

    def _iri(self, value: str, k: int) -> str:
        if k == 0 or not value.startswith(ID) or value in self.shared:
            return value
        return f"{value}-s{k}"

    def _node(self, term, k: int, linked: str | None = None):
        if isinstance(term, ox.NamedNode):
            if linked and term.value.startswith(ID) and term.value not in self.shared:
                kind = term.value[len(ID):].split("/", 1)[0]
                # Decided by the triple, not drawn per quad: a triple stated by several sources keeps
                # one object, so a copy stays as conforming as the bundled graph (one funder, one
                # participant ...).
                pick = random.Random(f"{self.seed}|{k}|{linked}")
                if kind in CROSS_LINKED_KINDS and pick.random() < CROSS_LINK_SHARE:
                    return ox.NamedNode(self._iri(term.value, pick.randrange(self.copies)))
            return ox.NamedNode(self._iri(term.value, k))
        if isinstance(term, ox.BlankNode):
            return ox.BlankNode(f"s{k}x{term.value}")
        return term

    def copy(self, k: int):
        for quad in self.data:
            obj = quad.object
            if k and isinstance(obj, ox.Literal) and quad.predicate.value in LABELS:
                obj = ox.Literal(f"{obj.value} [{k}]", language=obj.language) if obj.language \
                    else ox.Literal(f"{obj.value} [{k}]", datatype=obj.datatype)
            else:
                obj = self._node(obj, k, linked=f"{quad.subject} {quad.predicate} {obj}" if k else None)
            graph = quad.graph_name
            if isinstance(graph, ox.NamedNode):
                graph = ox.NamedNode(self._iri(graph.value, k))
            yield ox.Quad(self._node(quad.subject, k), quad.predicate, obj, graph)


def synthetic_dataset(size: int, seed: int = 1, cache: Path = CACHE) -> Dataset:
    """About ``size`` quads of the bundled graph's shape (whole copies: the count is printed)."""
    name = f"synthetic-{size}-seed{seed}"
    folder = cache / f"{name}-{_fingerprint()}"
    path = folder / "graph.nq"
    marker = folder / "complete"
    if marker.exists() and (folder / "nq").is_dir():
        return Dataset(name, path, int(marker.read_text()), folder / "home", folder / "nq")
    if folder.exists():
        shutil.rmtree(folder)
    quads = _bundled_quads()
    schema = [q for q in quads if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in SCHEMA_GRAPHS]
    data = [q for q in quads if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in SCHEMA_GRAPHS)]
    shared = {q.subject.value for q in schema if isinstance(q.subject, ox.NamedNode)}
    copies = max(1, round((size - len(schema)) / len(data)))
    copier = _Copier(data, shared, copies, random.Random(seed))
    data_dir = folder / "home" / "data"
    data_dir.mkdir(parents=True)
    nq_dir = folder / "nq"
    nq_dir.mkdir()
    ox.serialize(schema, str(nq_dir / "part-schema.nq"), format=ox.RdfFormat.N_QUADS)
    for link in ("ontology", "queries"):
        (folder / "home" / link).symlink_to(ROOT / link, target_is_directory=True)
    total = len(schema)
    part: list[ox.Quad] = []
    parts = 0
    with path.open("wb") as out:
        ox.serialize(schema, out, format=ox.RdfFormat.N_QUADS)

        def flush() -> None:
            nonlocal part, parts
            ox.serialize(part, out, format=ox.RdfFormat.N_QUADS)
            ox.serialize(part, str(nq_dir / f"part-{parts:03d}.nq"), format=ox.RdfFormat.N_QUADS)
            part.sort(key=lambda q: str(q.graph_name))
            ox.serialize(part, str(data_dir / f"part-{parts:03d}.trig"), format=ox.RdfFormat.TRIG,
                         prefixes={"thb": "https://w3id.org/thbkg/ontology#", "id": ID})
            parts += 1
            part = []

        for k in range(copies):
            part.extend(copier.copy(k))
            if len(part) >= PART_QUADS:
                total += len(part)
                flush()
        if part:
            total += len(part)
            flush()
    marker.write_text(f"{total}\n")
    return Dataset(name, path, total, folder / "home", nq_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", help="quads: 100k, 1m, 250000 ...")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for size in args.sizes:
        dataset = synthetic_dataset(parse_size(size), args.seed)
        print(f"{dataset.name}: {dataset.quads:,} quads in {dataset.nquads}")


if __name__ == "__main__":
    main()
