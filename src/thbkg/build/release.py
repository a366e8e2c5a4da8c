"""A release folder: what ``thbkg build`` writes once and every server or command opens read-only.

The folder holds versions, ``v-<digest>-<time>-<pid>/``, and ``current``, a symbolic link to the
newest complete one. A version holds::

    manifest.json      written last: the inputs' content hashes, counts, the SHACL verdict, the files
    store/             the Oxigraph store: every named graph, and their merge as the default graph
    dumps/             thbkg.nq, thbkg.trig (named graphs kept), with their sha256 in the manifest
    validation.nt      the SHACL results (N-Triples); validation.txt, the verdict for people
    void.ttl           VoID statistics: triples, subjects, class and property partitions
    queries/           the query catalogue: competency questions (.rq) and their expected rows
    ontology.html      the ontology's documentation (when the sources hold an ontology)

A folder without a complete manifest is not a release (an interrupted build never leaves one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CURRENT", "MANIFEST", "RELEASE_FORMAT", "Release", "ReleaseError"]

#: Bumped whenever a release's layout or content changes meaning: older releases are rebuilt.
RELEASE_FORMAT = 3
MANIFEST = "manifest.json"
#: The link, in a release folder, to its newest complete version.
CURRENT = "current"


class ReleaseError(Exception):
    """A folder that is not a complete release, or a release that cannot be built; one line."""


@dataclass(frozen=True)
class Dump:
    """One dump file of a release, with its checksum."""

    name: str
    path: Path
    media_type: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Release:
    """An opened release: its folder and its manifest."""

    path: Path
    manifest: dict

    @classmethod
    def open(cls, path: Path) -> "Release":
        """The release in ``path``; :class:`ReleaseError` if it is not a complete one."""
        path = Path(path)
        if not path.exists():
            raise ReleaseError(f"{path} does not exist: build a release there with `thbkg build --out {path}`")
        if not path.is_dir():
            raise ReleaseError(f"{path} is a file, not a release folder: give the folder `thbkg build --out` wrote")
        if (path / CURRENT).is_symlink():
            path = (path / CURRENT).resolve()
        manifest_path = path / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ReleaseError(f"{path} is not a THB-KG release (no {MANIFEST}): build one with "
                               f"`thbkg build SOURCE... --out {path}`") from None
        except (OSError, ValueError) as exc:
            raise ReleaseError(f"{manifest_path} cannot be read ({exc}): rebuild the release") from None
        if not isinstance(manifest, dict) or manifest.get("format") != RELEASE_FORMAT:
            raise ReleaseError(f"{path} was built by another version of thbkg (release format "
                               f"{manifest.get('format') if isinstance(manifest, dict) else '?'}, this one reads "
                               f"{RELEASE_FORMAT}): rebuild it with `thbkg build`")
        if not (path / "store").is_dir():
            raise ReleaseError(f"{path} has a manifest but no store/: it is damaged, rebuild it with `thbkg build`")
        return cls(path, manifest)

    @property
    def store(self) -> Path:
        return self.path / "store"

    @property
    def digest(self) -> str:
        """One hash of every input's content (and of the build's format)."""
        return self.manifest["digest"]

    @property
    def conforms(self) -> bool:
        return bool(self.manifest["validation"]["conforms"])

    @property
    def queries_dir(self) -> Path:
        return self.path / "queries"

    @property
    def dumps(self) -> list[Dump]:
        return [Dump(d["name"], self.path / "dumps" / d["name"], d["media_type"], d["sha256"], d["size"])
                for d in self.manifest["dumps"]]

    @property
    def graph_names(self) -> list[str] | None:
        """The IRIs of the named graphs the release holds (what a remote engine loaded from it holds)."""
        return self.manifest.get("graphs")

    @property
    def void_path(self) -> Path:
        return self.path / "void.ttl"

    @property
    def ontology_page(self) -> Path | None:
        page = self.path / "ontology.html"
        return page if page.is_file() else None

    def summary(self) -> str:
        counts = self.manifest["counts"]
        verdict = self.manifest["validation"]
        return (f"{counts['quads']:,} quads in {counts['graphs']:,} named graphs, {counts['triples']:,} triples in the "
                f"default graph; SHACL: {'conforms' if verdict['conforms'] else 'does NOT conform'} "
                f"({verdict['violations']} violation(s), {verdict['warnings']} warning(s)"
                + (f", by {verdict['engine']})" if verdict.get("engine") else ")"))
