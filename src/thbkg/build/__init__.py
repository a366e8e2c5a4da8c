"""From sources to a release: ``thbkg build`` parses, validates and bulk-loads once, and every
server and command afterwards opens the release read-only (:mod:`thbkg.build.release`)."""

from thbkg.build.release import Dump, Release, ReleaseError

__all__ = ["Dump", "Release", "ReleaseError"]
