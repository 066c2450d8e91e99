"""Fetch a study's artifacts: verified by sha256, cached by content, written atomically.

An artifact (``artifacts.<name>`` in ``study.yaml``) lists alternative sources that must all
yield the same bytes. :func:`fetch_artifact` tries them in order: a source that cannot be
reached (offline, DNS, refused, HTTP error, not on the index) is noted and the next one is
tried; a source that is reached but gives the wrong bytes is an error, never skipped.

Four kinds of source:

``url``
    Downloaded with pooch (``doi:`` URLs through pooch's DOI support); ``download_sha256``
    checks the download, ``member`` + ``strip_header`` take one file out of an archive.
``git``
    A bare mirror in the cache, checked out at the exact commit, which is verified.
``pypi``
    ``pip download`` of a pinned distribution through pip's configured index. With
    ``member``, one file from inside it; with ``install: true``, the distribution installed
    (``pip install --target``) into ``<dest>/site``, checked against the distribution hashes
    of ``artifacts.lock`` (a wheel's bytes differ per platform).
``path``
    A local file, relative to the study folder.

Verified bytes live once in a cache shared by all studies (``$REPLIKIT_CACHE`` or
``~/.cache/replikit``), addressed by sha256 (``<cache>/sha256/<2 hex>/<hash>``), and are
hard-linked into the destination folder; so a second run, or a second study needing the
same data, downloads nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

import pooch
import requests

from replikit.errors import ReplikitError
from replikit.fetch import lock as lockfile
from replikit.fetch import resolve
from replikit.fetch.archives import extract_member
from replikit.study import (
    Artifact,
    GitSource,
    PathSource,
    PypiSource,
    Study,
    UrlSource,
    load_study,
)

CACHE_ENV = "REPLIKIT_CACHE"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Unreachable(Exception):
    """A source could not be reached (offline, refused, HTTP error, not found); try the next."""


# --------------------------------------------------------------------------- public API
def fetch_artifact(
    study: str | Path | Study,
    name: str,
    dest_dir: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Fetch one artifact of a study into ``dest_dir`` and say how it went.

    Parameters
    ----------
    study
        The study: a name under ``studies/``, a path, or a loaded :class:`Study`.
    name
        The artifact's key under ``artifacts:`` in ``study.yaml``.
    dest_dir
        Folder to put it in; the workflow passes ``resources/<study>/<name>/``.
    cache_dir
        The shared cache (default: ``$REPLIKIT_CACHE`` or ``~/.cache/replikit``).
    strict
        Raise instead of returning ``status: "unavailable"`` when no source can be reached.

    Returns
    -------
    dict
        A JSON-able record: ``name``, ``status`` (``"ok"`` or ``"unavailable"``), ``path``
        (the file, or the folder of a git checkout or an installed distribution),
        ``sha256``, ``source`` (``{"kind", "ref", ...}`` of the source used),
        ``source_index``, ``commit`` (git), ``distribution`` (``{"file", "sha256"}``, pypi),
        ``tried`` (``[{"source", "error"}]`` for each unreachable source), ``reason``,
        ``size_bytes``, ``from_cache`` and ``fetched_at``.

    Raises
    ------
    ReplikitError
        On any checksum mismatch (the bad file is deleted first), an unsafe archive member,
        a missing git commit, a file artifact whose hash is known nowhere, or, with
        ``strict``, when no source can be reached.
    """
    study = _as_study(study)
    return _Fetch(study, name, Path(dest_dir), _cache_root(cache_dir), locking=False).run(strict)


def fetch_for_lock(study: Study, name: str, dest_dir: str | os.PathLike[str], *,
                   cache_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Fetch an artifact whose hash is not known yet and record what came in the lock file.

    Used by :func:`replikit.fetch.lock.lock_study`; returns the fetch record. Nothing is written
    to the lock when no source can be reached.
    """
    fetch = _Fetch(study, name, Path(dest_dir), _cache_root(cache_dir), locking=True)
    result = fetch.run(strict=False)
    if result["status"] == "ok":
        entry = _lock_entry(result)
        if entry:
            lockfile.record(study, name, entry)
    return result


def needs_lock(study: Study, name: str) -> bool:
    """Whether the lock file lacks a hash (or commit) this artifact needs to be checked."""
    artifact = _artifact(study, name)
    entry = lockfile.locked_entry(study, name)
    source = artifact.sources[0]
    if isinstance(source, GitSource):
        return entry.get("commit") != source.commit
    if _is_distribution(source):
        unresolved = source.install and entry.get("resolved_for") != source.pypi
        return unresolved or (not entry.get("distributions") and artifact.sha256 is None)
    return artifact.sha256 is None and "sha256" not in entry


def default_cache_dir() -> Path:
    """``$REPLIKIT_CACHE`` if set, else ``~/.cache/replikit``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "replikit"


def describe_source(source: Any) -> dict[str, Any]:
    """A short JSON-able description of a source: its kind, reference and member if any.

    Examples
    --------
    >>> from replikit.study import PypiSource
    >>> describe_source(PypiSource(pypi="recbole==1.2.1", member="a/b.inter", strip_header=1))
    {'kind': 'pypi', 'ref': 'recbole==1.2.1', 'member': 'a/b.inter', 'strip_header': 1}
    """
    if isinstance(source, GitSource):
        return {"kind": "git", "ref": f"{source.git}@{source.commit}"}
    kind, ref = {UrlSource: ("url", "url"), PypiSource: ("pypi", "pypi"),
                 PathSource: ("path", "path")}[type(source)]
    out: dict[str, Any] = {"kind": kind, "ref": getattr(source, ref)}
    if source.member:
        out["member"] = source.member
    if source.strip_header:
        out["strip_header"] = source.strip_header
    if isinstance(source, PypiSource) and source.install:
        out["install"] = True
    return out


# --------------------------------------------------------------------------- the cache
@dataclass(frozen=True)
class Cache:
    """The content-addressed cache: verified files by sha256, distributions, git mirrors."""

    root: Path

    def blob(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def lookup(self, sha256: str | None) -> Path | None:
        """The cached file with this hash, if present and still intact.

        The bytes are hashed again: a damaged blob (a disk error, or a linked copy edited
        in place despite being read-only) is dropped, so the artifact is fetched anew.
        """
        if sha256 is None:
            return None
        path = self.blob(sha256)
        if not path.is_file():
            return None
        if pooch.file_hash(str(path), alg="sha256") != sha256:
            path.unlink()
            return None
        return path

    def store(self, path: Path, sha256: str, provenance: dict[str, Any] | None = None) -> Path:
        """Move a verified file into the cache (atomically) and return its cache path.

        Blobs are made read-only, and so are the hard links to them in ``dest_dir``: a
        runner that tried to edit its input in place would change every study's copy.
        """
        target = self.blob(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_file():
            path.unlink()
        else:
            os.chmod(path, 0o444)
            os.replace(path, target)
            if provenance:
                _write_json_atomic(target.with_name(sha256 + ".json"), provenance)
        return target

    def provenance(self, sha256: str) -> dict[str, Any]:
        """What the cache recorded about where a file first came from (may be empty)."""
        meta = self.blob(sha256).with_name(sha256 + ".json")
        with contextlib.suppress(OSError, ValueError):
            return json.loads(meta.read_text(encoding="utf-8"))
        return {}

    @contextlib.contextmanager
    def scratch(self) -> Iterator[Path]:
        """A temporary folder on the cache's file system, removed afterwards whatever happens."""
        base = self.root / "tmp"
        base.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(dir=base))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- one fetch
@dataclass
class _Fetch:
    """The fetch of one artifact: what is expected, where it goes, and what was tried."""

    study: Study
    name: str
    dest_dir: Path
    cache: Cache
    locking: bool
    artifact: Artifact = field(init=False)
    lock: dict[str, Any] = field(init=False)
    tried: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.artifact = _artifact(self.study, self.name)
        self.lock = lockfile.locked_entry(self.study, self.name)
        self.dest_dir = self.dest_dir.expanduser().resolve()

    # ------------------------------------------------------------------ orchestration
    def run(self, strict: bool) -> dict[str, Any]:
        try:
            expected = self.expected_sha256()
        except ReplikitError as exc:
            # An optional artifact whose hash was never recorded (it could not be fetched
            # when the study was locked) is unavailable, not an error: its levels say "not run".
            if strict or not self.artifact.optional:
                raise
            return self.record("unavailable", reason=f"{exc.problem} (an optional artifact: "
                               f"`replikit lock {self.study.name}` records it once reachable)")
        cached = self.cache.lookup(expected) if self.produces_file() else None
        if cached is not None:
            return self.from_cache(cached, expected)
        for index, source in enumerate(self.artifact.sources):
            fetcher = _FETCHERS[type(source)]
            try:
                result = fetcher(self, source, expected)
            except Unreachable as exc:
                self.tried.append({"source": describe_source(source), "error": str(exc)})
                continue
            return self.record("ok", source=describe_source(source), source_index=index,
                               **result)
        return self.unavailable(strict)

    def unavailable(self, strict: bool) -> dict[str, Any]:
        count = len(self.tried)
        errors = "; ".join(t["error"] for t in self.tried)
        reason = f"{errors} (tried {count} source{'s' if count > 1 else ''})"
        if strict:
            raise ReplikitError(
                f"artifact {self.name!r} could not be fetched: {reason}",
                where=f"{self.study.dir / 'study.yaml'}: artifacts.{self.name}",
                fix="check the network (or the package index), add a reachable mirror as "
                "another source, or place the file locally and add a 'path' source",
            )
        return self.record("unavailable", reason=reason)

    def record(self, status: str, **values: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "name": self.name, "status": status, "path": None, "sha256": None,
            "source": None, "source_index": None, "commit": None, "distribution": None,
            "tried": self.tried, "reason": None, "size_bytes": None, "from_cache": False,
            "role": self.artifact.role, "optional": self.artifact.optional,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        base.update(values)
        return base

    def from_cache(self, cached: Path, sha256: str) -> dict[str, Any]:
        """Satisfy a file artifact from the cache; report the source it first came from."""
        path = _place(cached, self.dest_dir / self.file_name())
        origin = self.cache.provenance(sha256).get("source")
        described = [describe_source(s) for s in self.artifact.sources]
        index = described.index(origin) if origin in described else None
        source = origin if index is not None else {"kind": "cache", "ref": str(cached)}
        return self.record("ok", path=str(path), sha256=sha256, source=source,
                           source_index=index, size_bytes=path.stat().st_size, from_cache=True)

    # ------------------------------------------------------------------ expectations
    def produces_file(self) -> bool:
        return not any(isinstance(s, GitSource) or _is_distribution(s)
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
                where=f"{self.study.dir / 'study.yaml'}: artifacts.{self.name}",
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
                return _url_file_name(source.url)
            if isinstance(source, PathSource):
                return Path(source.path).name
        return self.name

    # ------------------------------------------------------------------ finishing a file
    def finish_file(self, produced: Path, expected: str | None, source: Any) -> dict[str, Any]:
        """Verify a produced file, move it into the cache, and link it into ``dest_dir``."""
        got = pooch.file_hash(str(produced), alg="sha256")
        if expected and got != expected:
            produced.unlink(missing_ok=True)
            raise _mismatch(f"artifact {self.name!r} from {describe_source(source)['ref']}",
                            expected, got)
        provenance = {"source": describe_source(source), "artifact": self.name,
                      "study": self.study.name}
        cached = self.cache.store(produced, got, provenance)
        path = _place(cached, self.dest_dir / self.file_name())
        return {"path": str(path), "sha256": got, "size_bytes": path.stat().st_size}

    def take_member(self, archive: Path, source: Any, work: Path, expected: str | None):
        """Extract the source's member (if any) to ``work`` and finish it as the artifact."""
        produced = work / "artifact"
        if source.member:
            extract_member(archive, source.member, produced, strip_header=source.strip_header)
        elif source.strip_header:
            _copy_stripping(archive, produced, source.strip_header)
        elif archive.is_relative_to(self.cache.root):
            _link_or_copy(archive, produced)  # cached bytes never change: share them
        else:
            shutil.copyfile(archive, produced)  # a user's file may change later: copy it
        return self.finish_file(produced, expected, source)


# --------------------------------------------------------------------------- url
def _fetch_url(fetch: _Fetch, source: UrlSource, expected: str | None) -> dict[str, Any]:
    with fetch.cache.scratch() as work:
        archive = fetch.cache.lookup(source.download_sha256)
        if archive is None:
            archive = _download(source.url, work)
            if source.download_sha256:
                got = pooch.file_hash(str(archive), alg="sha256")
                if got != source.download_sha256:
                    archive.unlink()
                    raise _mismatch(f"download {source.url}", source.download_sha256, got)
                archive = fetch.cache.store(archive, got, {"source": describe_source(source)})
        if expected is None and not source.member and source.download_sha256:
            expected = source.download_sha256
        return fetch.take_member(archive, source, work, expected)


def _download(url: str, folder: Path) -> Path:
    """Download ``url`` into ``folder`` with pooch; unreachable hosts raise :class:`Unreachable`."""
    progress = sys.stderr.isatty()
    if url.startswith("doi:"):
        downloader = pooch.DOIDownloader(progressbar=progress, timeout=60)
    else:
        downloader = pooch.HTTPDownloader(progressbar=progress, timeout=60)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # pooch's "use this hash" hint does not apply here
    try:
        path = pooch.retrieve(url, known_hash=None, fname=_url_file_name(url), path=folder,
                              downloader=downloader)
    except requests.exceptions.RequestException as exc:
        raise Unreachable(f"cannot reach {_host(url)}: {_network_reason(exc)}") from exc
    except ValueError as exc:  # pooch's DOI resolution reports a missing archive or file
        if not url.startswith("doi:"):
            raise
        raise Unreachable(f"cannot resolve {url}: {exc}") from exc
    finally:
        logger.setLevel(level)
    return Path(path)


def _network_reason(exc: requests.exceptions.RequestException) -> str:
    text = str(exc)
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if "Name or service not known" in text or "resolution" in text or "resolve" in text:
        return "the host name does not resolve: offline?"
    if "refused" in text:
        return "connection refused"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "no connection: offline?"
    return type(exc).__name__


# --------------------------------------------------------------------------- path
def _fetch_path(fetch: _Fetch, source: PathSource, expected: str | None) -> dict[str, Any]:
    local = Path(source.path).expanduser()
    if not local.is_absolute():
        local = fetch.study.dir / local
    if not local.is_file():
        raise Unreachable(f"no file at {local}")
    with fetch.cache.scratch() as work:
        return fetch.take_member(local, source, work, expected)


# --------------------------------------------------------------------------- pypi
def _fetch_pypi(fetch: _Fetch, source: PypiSource, expected: str | None) -> dict[str, Any]:
    dist, from_cache = _distribution(fetch.cache, source.pypi)
    dist_sha = pooch.file_hash(str(dist), alg="sha256")
    distribution = {"file": dist.name, "sha256": dist_sha}
    if source.member or source.strip_header:
        with fetch.cache.scratch() as work:
            result = fetch.take_member(dist, source, work, expected)
        return {**result, "distribution": distribution, "from_cache": from_cache}
    distribution["locked"] = _check_distribution(fetch, dist, dist_sha)
    if source.install:
        installed = resolve.install_with_dependencies(
            fetch, source.pypi, dist, dist_sha, fetch.cache.root / "pypi")
        return {**installed, "sha256": dist_sha, "distribution": distribution,
                "size_bytes": dist.stat().st_size, "from_cache": from_cache}
    path = _place(dist, fetch.dest_dir / dist.name)
    return {"path": str(path), "sha256": dist_sha, "distribution": distribution,
            "size_bytes": path.stat().st_size, "from_cache": from_cache}


def _check_distribution(fetch: _Fetch, dist: Path, got: str) -> bool:
    """Check a distribution file against the manifest or the lock; record an unknown one.

    Returns whether the file's hash was already known (False: recorded now).
    """
    known = fetch.artifact.sha256 or fetch.lock.get("distributions", {}).get(dist.name)
    if known and known != got:
        dist.unlink(missing_ok=True)
        raise _mismatch(f"distribution {dist.name} of artifact {fetch.name!r}", known, got)
    if known:
        return True
    if not fetch.locking:
        lockfile.record(fetch.study, fetch.name, {"distributions": {dist.name: got}})
    return False


def _distribution(cache: Cache, requirement: str) -> tuple[Path, bool]:
    """The distribution file of a pinned requirement, and whether the cache already had it.

    A cached file is used when it suits this interpreter; otherwise ``pip download`` fetches
    it through pip's configured index (so ``PIP_INDEX_URL`` and pip.conf are respected).
    """
    folder = cache.root / "pypi"
    cached = _cached_distribution(folder, requirement)
    if cached is not None:
        return cached, True
    with cache.scratch() as work:
        command = [sys.executable, "-m", "pip", "download", "--no-deps",
                   "--disable-pip-version-check", "--progress-bar", "off",
                   "--dest", str(work), requirement]
        done = subprocess.run(command, capture_output=True, text=True, env=_quiet_env())
        files = [p for p in work.iterdir() if p.is_file()]
        if done.returncode != 0 or len(files) != 1:
            raise Unreachable(f"pip could not download {requirement}: {_pip_error(done)}")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / files[0].name
        os.chmod(files[0], 0o444)
        os.replace(files[0], target)
    return target, False


def _cached_distribution(folder: Path, requirement: str) -> Path | None:
    """A cached wheel (or sdist) of ``name==version`` that this interpreter can use."""
    from packaging.tags import sys_tags
    from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

    if not folder.is_dir():
        return None
    name, version = requirement.split("==")
    wanted = (canonicalize_name(name), version)
    priority = {tag: rank for rank, tag in enumerate(sys_tags())}
    best: tuple[int, Path] | None = None
    for path in folder.iterdir():
        with contextlib.suppress(ValueError):
            if path.suffix == ".whl":
                dist_name, dist_version, _, tags = parse_wheel_filename(path.name)
                rank = min((priority[t] for t in tags if t in priority), default=None)
            else:
                dist_name, dist_version = parse_sdist_filename(path.name)
                rank = len(priority)  # an sdist only when no wheel fits
            if (dist_name, str(dist_version)) == wanted and rank is not None and (
                    best is None or rank < best[0]):
                best = (rank, path)
    return best[1] if best else None


def _pip_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or [f"exit status {done.returncode}"])[-1]


def _quiet_env() -> dict[str, str]:
    return {**os.environ, "PIP_NO_INPUT": "1", "PYTHONWARNINGS": "ignore"}


# --------------------------------------------------------------------------- git
def _fetch_git(fetch: _Fetch, source: GitSource, expected: str | None) -> dict[str, Any]:
    checkout = fetch.dest_dir / _repo_name(source.git)
    # A checkout already at the commit is reused as is: a second run needs no network.
    if not (checkout.is_dir() and _git_head(checkout) == source.commit):
        _git_checkout(_git_mirror(fetch.cache, source), source, checkout)
    head = _git_head(checkout)
    if head != source.commit:
        raise ReplikitError(
            "the checkout is not at the pinned commit", where=str(checkout),
            expected=source.commit, found=head, fix=f"delete {checkout} and fetch again",
        )
    return {"path": str(checkout), "commit": head}


def _git_mirror(cache: Cache, source: GitSource) -> Path:
    """A bare mirror of the repository in the cache that holds the pinned commit."""
    key = re.sub(r"[^A-Za-z0-9]+", "-", source.git.rstrip("/")).strip("-")[-80:]
    mirror = cache.root / "git" / f"{key}.git"
    if not mirror.is_dir():
        with cache.scratch() as work:
            _git(["clone", "--mirror", "--quiet", source.git, str(work / "m.git")],
                 unreachable=f"cannot clone {source.git}")
            mirror.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(work / "m.git", mirror)
            except OSError:
                if not mirror.is_dir():  # else a parallel fetch made the mirror first
                    raise
    if not _has_commit(mirror, source.commit):
        _git(["-C", str(mirror), "remote", "update", "--prune"],
             unreachable=f"cannot update from {source.git}")
    if not _has_commit(mirror, source.commit):
        raise ReplikitError(
            f"commit {source.commit} is not in the repository", where=source.git,
            expected="a commit reachable from one of its branches or tags",
            found="no such commit after fetching every ref",
            fix="correct 'commit' in study.yaml (a full 40-hex id, e.g. from `git log`)",
        )
    return mirror


def _git_checkout(mirror: Path, source: GitSource, checkout: Path) -> None:
    """Check the commit out into a fresh folder, then move it into place."""
    checkout.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".checkout.", dir=checkout.parent))
    try:
        _git(["clone", "--quiet", "--no-checkout", str(mirror), str(staging / "repo")])
        repo = staging / "repo"
        _git(["-C", str(repo), "checkout", "--quiet", "--detach", source.commit])
        _git(["-C", str(repo), "remote", "set-url", "origin", source.git])
        if checkout.exists():
            shutil.rmtree(checkout)
        os.replace(repo, checkout)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _git_head(repo: Path) -> str | None:
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True, env=_git_env())
    return done.stdout.strip() if done.returncode == 0 else None


def _has_commit(repo: Path, commit: str) -> bool:
    done = subprocess.run(["git", "-C", str(repo), "cat-file", "-e", f"{commit}^{{commit}}"],
                          capture_output=True, env=_git_env())
    return done.returncode == 0


def _git(args: list[str], unreachable: str | None = None) -> None:
    done = subprocess.run(["git", *args], capture_output=True, text=True, env=_git_env())
    if done.returncode == 0:
        return
    last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    if unreachable:
        raise Unreachable(f"{unreachable}: {last}")
    raise ReplikitError(f"git {args[0] if args[0] != '-C' else args[2]} failed",
                        found=last, where=" ".join(["git", *args]))


def _git_env() -> dict[str, str]:
    # Never wait for a password prompt: an unreachable or private repository fails at once.
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}


def _repo_name(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    return name or "repository"


_FETCHERS: dict[type, Callable[[_Fetch, Any, str | None], dict[str, Any]]] = {
    UrlSource: _fetch_url, PathSource: _fetch_path, PypiSource: _fetch_pypi, GitSource: _fetch_git,
}


# --------------------------------------------------------------------------- helpers
def _as_study(study: str | Path | Study) -> Study:
    return study if isinstance(study, Study) else load_study(study)


def _artifact(study: Study, name: str) -> Artifact:
    if name not in study.artifacts:
        raise ReplikitError(
            f"study {study.name!r} declares no artifact {name!r}",
            where=str(study.dir / "study.yaml"), expected=f"one of {sorted(study.artifacts)}",
            fix="check the name, or declare it under 'artifacts:'",
        )
    return study.artifacts[name]


def _is_distribution(source: Any) -> bool:
    """A pypi source whose artifact is the distribution itself (installed or as a file)."""
    return isinstance(source, PypiSource) and not source.member and not source.strip_header


def _cache_root(cache_dir: str | os.PathLike[str] | None) -> Cache:
    return Cache(Path(cache_dir).expanduser().resolve() if cache_dir else default_cache_dir())


def _mismatch(what: str, expected: str, got: str) -> ReplikitError:
    return ReplikitError(
        f"{what} does not match the known hash: expected sha256:{expected} but got "
        f"sha256:{got}; the download was deleted for safety",
        fix="if the source changed on purpose, update the hash in study.yaml "
        "(or the lock); otherwise the file is corrupt or tampered with: report it",
    )


def _place(source: Path, target: Path) -> Path:
    """Put ``source`` at ``target`` atomically: a hard link, or a copy across file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        _link_or_copy(source, Path(tmp))
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _copy_stripping(source: Path, target: Path, lines: int) -> None:
    with source.open("rb") as src, target.open("wb") as out:
        for _ in range(lines):
            src.readline()
        shutil.copyfileobj(src, out)


def _write_json_atomic(path: Path, data: Any) -> None:
    from replikit.fileio import write_json

    write_json(path, data)


def _url_file_name(url: str) -> str:
    return PurePosixPath(urlparse(url).path if not url.startswith("doi:") else url).name


def _host(url: str) -> str:
    if url.startswith("doi:"):
        return f"the DOI resolver for {url}"
    return urlparse(url).hostname or url


def _lock_entry(result: dict[str, Any]) -> dict[str, Any]:
    if result["commit"]:
        return {"commit": result["commit"]}
    if result["distribution"] and not result["source"].get("member"):
        dist = result["distribution"]
        return {"distributions": {dist["file"]: dist["sha256"]}}
    return {"sha256": result["sha256"]} if result["sha256"] else {}


# --------------------------------------------------------------------------- command line
def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``replikit fetch`` and ``replikit lock`` to the command line."""
    p = sub.add_parser("fetch", help="fetch a study's artifacts into resources/<study>/")
    p.add_argument("study")
    p.add_argument("names", nargs="*", metavar="NAME", help="artifacts (default: all)")
    p.add_argument("--strict", action="store_true",
                   help="fail when an artifact cannot be fetched (default: report it)")
    p.add_argument("--cache-dir", help=f"the shared cache (default: ${CACHE_ENV} or "
                   "~/.cache/replikit)")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("lock", help="fetch artifacts whose hash is unknown; record it in "
                       "studies/<study>/artifacts.lock")
    p.add_argument("study")
    p.add_argument("--artifact", action="append", metavar="NAME",
                   help="lock only this artifact (repeatable)")
    p.add_argument("--cache-dir", help="the shared cache")
    p.set_defaults(func=cmd_lock)


def cmd_fetch(args: argparse.Namespace) -> int:
    study = load_study(args.study, args.root)
    names = args.names or list(study.artifacts)
    failed = 0
    for name in names:
        dest = Path(args.root) / "resources" / study.name / name
        result = fetch_artifact(study, name, dest, cache_dir=args.cache_dir, strict=args.strict)
        print(_summary_line(result))
        failed += result["status"] != "ok" and not result["optional"]
    return 1 if failed else 0


def cmd_lock(args: argparse.Namespace) -> int:
    study = load_study(args.study, args.root)
    results = lockfile.lock_study(study, args.artifact, root=args.root, cache_dir=args.cache_dir)
    for result in results.values():
        print(_summary_line(result))
    if not results:
        print(f"{study.name}: every artifact's hash is already known")
    print(f"lock file: {lockfile.lock_path(study)}")
    return 1 if any(r["status"] != "ok" and not r["optional"] for r in results.values()) else 0


def _summary_line(result: dict[str, Any]) -> str:
    if result["status"] != "ok":
        return f"{result['name']:<22} unavailable  {result['reason']}"
    source = result["source"] or {}
    via = source.get("ref", "")
    if source.get("member"):
        via += f" [{source['member']}]"
    if result["from_cache"]:
        via += " (cache)"
    return f"{result['name']:<22} ok  {via}  ->  {result['path']}"
