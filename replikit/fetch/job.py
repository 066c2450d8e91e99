"""The fetch of one artifact: what is expected, where it goes, what was tried.

A :class:`FetchJob` is handed to each source kind's fetcher (:mod:`replikit.fetch.url`,
``git``, ``pypi``, ``path``): it knows the hash the final file must have (from
``study.yaml`` or ``artifacts.lock``), the file's name in the destination folder, and how to
verify a produced file, keep it in the cache and link it into place.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import pooch

from replikit import paths
from replikit.errors import ReplikitError
from replikit.fetch import lock as lockfile
from replikit.fetch.archives import extract_member
from replikit.fetch.cache import Cache, link_or_copy, place
from replikit.fetch.records import describe_source, fetch_record
from replikit.study import Artifact, GitSource, PathSource, PypiSource, Study, UrlSource


class Unreachable(Exception):
    """A source could not be reached (offline, refused, HTTP error, not found); try the next."""


@dataclass
class FetchJob:
    """The fetch of one artifact of a study into ``dest_dir``."""

    study: Study
    name: str
    dest_dir: Path
    cache: Cache
    locking: bool
    artifact: Artifact = field(init=False)
    lock: dict[str, Any] = field(init=False)
    tried: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.artifact = artifact_of(self.study, self.name)
        self.lock = lockfile.locked_entry(self.study, self.name)
        self.dest_dir = self.dest_dir.expanduser().resolve()

    # ------------------------------------------------------------------ outcomes
    def record(self, status: str, **values: Any) -> dict[str, Any]:
        return fetch_record(self.name, self.artifact, status, self.tried, **values)

    def unavailable(self, strict: bool) -> dict[str, Any]:
        """The record when no source could be reached (an error with ``strict``)."""
        count = len(self.tried)
        errors = "; ".join(t["error"] for t in self.tried)
        reason = f"{errors} (tried {count} source{'s' if count > 1 else ''})"
        if strict:
            raise ReplikitError(
                f"artifact {self.name!r} could not be fetched: {reason}",
                where=self.manifest_key(),
                fix="check the network (or the package index), add a reachable mirror as "
                "another source, or place the file locally and add a 'path' source",
            )
        return self.record("unavailable", reason=reason)

    def from_cache(self, cached: Path, sha256: str) -> dict[str, Any]:
        """Satisfy a file artifact from the cache; report the source it first came from."""
        path = place(cached, self.dest_dir / self.file_name())
        origin = self.cache.provenance(sha256).get("source")
        described = [describe_source(s) for s in self.artifact.sources]
        index = described.index(origin) if origin in described else None
        source = origin if index is not None else {"kind": "cache", "ref": str(cached)}
        return self.record("ok", path=str(path), sha256=sha256, source=source,
                           source_index=index, size_bytes=path.stat().st_size, from_cache=True)

    def manifest_key(self) -> str:
        return f"{self.study.dir / paths.MANIFEST}: artifacts.{self.name}"

    # ------------------------------------------------------------------ expectations
    def produces_file(self) -> bool:
        return not any(isinstance(s, GitSource) or is_distribution(s)
                       for s in self.artifact.sources)

    def expected_sha256(self) -> str | None:
        """The final file's sha256 from the manifest or the lock; an error if known nowhere."""
        declared, locked = self.artifact.sha256, self.lock.get("sha256")
        if declared and locked and declared != locked:
            raise ReplikitError(
                f"artifact {self.name!r} has one sha256 in study.yaml and another in the lock",
                where=str(lockfile.lock_path(self.study)), expected=declared, found=locked,
                fix=f"delete the entry '{self.name}' from the lock file and run "
                f"`replikit lock {self.study.name}`",
            )
        known = declared or locked
        if known or self.locking or not self.produces_file():
            return known
        unchecked = [s for s in self.artifact.sources
                     if not (isinstance(s, UrlSource) and s.download_sha256)]
        if unchecked:
            raise ReplikitError(
                f"artifact {self.name!r} has no sha256, so its bytes cannot be checked",
                where=self.manifest_key(),
                expected="'sha256' in study.yaml, 'download_sha256' on every source, "
                "or an entry in artifacts.lock",
                found=f"no hash for source(s) {[describe_source(s)['ref'] for s in unchecked]}",
                fix=f"run `replikit lock {self.study.name}` to fetch it once and record its hash",
            )
        return None

    def file_name(self) -> str:
        """The artifact's file name in ``dest_dir``: the same whichever source supplied it.

        It is taken from the first source that names a file (its member, URL or path), so
        a mirror's differently named copy lands under the original's name.
        """
        for source in self.artifact.sources:
            if getattr(source, "member", None):
                return PurePosixPath(source.member).name
            if isinstance(source, UrlSource):
                return url_file_name(source.url)
            if isinstance(source, PathSource):
                return Path(source.path).name
        return self.name

    # ------------------------------------------------------------------ finishing a file
    def finish_file(self, produced: Path, expected: str | None, source: Any) -> dict[str, Any]:
        """Verify a produced file, move it into the cache, and link it into ``dest_dir``."""
        got = pooch.file_hash(str(produced), alg="sha256")
        if expected and got != expected:
            produced.unlink(missing_ok=True)
            raise mismatch(f"artifact {self.name!r} from {describe_source(source)['ref']}",
                           expected, got)
        provenance = {"source": describe_source(source), "artifact": self.name,
                      "study": self.study.name}
        cached = self.cache.store(produced, got, provenance)
        path = place(cached, self.dest_dir / self.file_name())
        return {"path": str(path), "sha256": got, "size_bytes": path.stat().st_size}

    def take_member(self, archive: Path, source: Any, work: Path, expected: str | None):
        """Extract the source's member (if any) to ``work`` and finish it as the artifact."""
        produced = work / "artifact"
        if source.member:
            extract_member(archive, source.member, produced, strip_header=source.strip_header)
        elif source.strip_header:
            _copy_stripping(archive, produced, source.strip_header)
        elif archive.is_relative_to(self.cache.root):
            link_or_copy(archive, produced)  # cached bytes never change: share them
        else:
            shutil.copyfile(archive, produced)  # a user's file may change later: copy it
        return self.finish_file(produced, expected, source)


def artifact_of(study: Study, name: str) -> Artifact:
    """The study's artifact ``name``; an error naming the known ones if there is none."""
    if name not in study.artifacts:
        raise ReplikitError(
            f"study {study.name!r} declares no artifact {name!r}",
            where=str(study.dir / paths.MANIFEST), expected=f"one of {sorted(study.artifacts)}",
            fix="check the name, or declare it under 'artifacts:'",
        )
    return study.artifacts[name]


def is_distribution(source: Any) -> bool:
    """A pypi source whose artifact is the distribution itself (installed or as a file)."""
    return isinstance(source, PypiSource) and not source.member and not source.strip_header


def mismatch(what: str, expected: str, got: str) -> ReplikitError:
    return ReplikitError(
        f"{what} does not match the known hash: expected sha256:{expected} but got "
        f"sha256:{got}; the download was deleted for safety",
        fix="if the source changed on purpose, update the hash in study.yaml "
        "(or the lock); otherwise the file is corrupt or tampered with: report it",
    )


def url_file_name(url: str) -> str:
    return PurePosixPath(urlparse(url).path if not url.startswith("doi:") else url).name


def _copy_stripping(source: Path, target: Path, lines: int) -> None:
    with source.open("rb") as src, target.open("wb") as out:
        for _ in range(lines):
            src.readline()
        shutil.copyfileobj(src, out)
