"""The ``pypi`` source kind: a pinned distribution, downloaded by pip through its configured index.

With ``member``, one file from inside the distribution is the artifact. Without it, the
distribution itself is: placed as a file, or with ``install: true`` installed with its
locked dependency closure into ``<dest>/site`` (:mod:`replikit.fetch.resolve`). A wheel's
bytes differ per platform, so a distribution is checked against the hashes of
``artifacts.lock``, keyed by file name, and an unknown one is recorded there.

One package is often two artifacts: its source distribution to read and audit
(``sdist: true``) and its wheel to install. Both live in ``<cache>/pypi``, so a cached
sdist serves an artifact that is not ``sdist: true`` only when that artifact's lock names
it (a package with no wheel); otherwise pip is asked for the wheel.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pooch

from replikit.fetch import lock as lockfile
from replikit.fetch import resolve
from replikit.fetch.cache import Cache, place
from replikit.fetch.job import FetchJob, Unreachable, mismatch
from replikit.fetch.pip import pip_error, quiet_env
from replikit.study import PypiSource


def fetch_pypi(job: FetchJob, source: PypiSource, expected: str | None) -> dict[str, Any]:
    dist, from_cache = distribution(job.cache, source.pypi, sdist=source.sdist,
                                    locked=set(job.lock.get("distributions") or {}))
    dist_sha = pooch.file_hash(str(dist), alg="sha256")
    described = {"file": dist.name, "sha256": dist_sha}
    if source.member or source.strip_header:
        with job.cache.scratch() as work:
            result = job.take_member(dist, source, work, expected)
        return {**result, "distribution": described, "from_cache": from_cache}
    described["locked"] = _check_distribution(job, dist, dist_sha)
    if source.install:
        installed = resolve.install_with_dependencies(
            job, source.pypi, dist, dist_sha, job.cache.root / "pypi")
        return {**installed, "sha256": dist_sha, "distribution": described,
                "size_bytes": dist.stat().st_size, "from_cache": from_cache}
    path = place(dist, job.dest_dir / dist.name)
    return {"path": str(path), "sha256": dist_sha, "distribution": described,
            "size_bytes": path.stat().st_size, "from_cache": from_cache}
def _check_distribution(job: FetchJob, dist: Path, got: str) -> bool:
    """Check a distribution file against the manifest or the lock; record an unknown one.

    Returns whether the file's hash was already known (False: recorded now).
    """
    known = job.artifact.sha256 or (job.lock.get("distributions") or {}).get(dist.name)
    if known and known != got:
        dist.unlink(missing_ok=True)
        raise mismatch(f"distribution {dist.name} of artifact {job.name!r}", known, got)
    if known:
        return True
    if not job.locking:
        lockfile.record(job.study, job.name, {"distributions": {dist.name: got}})
    return False


def distribution(cache: Cache, requirement: str, *, sdist: bool = False,
                  locked: set[str] | frozenset[str] = frozenset()) -> tuple[Path, bool]:
    """The distribution file of a pinned requirement, and whether the cache already had it.

    A cached file is used when it suits this interpreter; otherwise ``pip download`` fetches
    it through pip's configured index (so ``PIP_INDEX_URL`` and pip.conf are respected).
    With ``sdist``, only the source distribution will do; without it, a cached sdist only
    when its file name is in ``locked`` (the artifact's lock entry chose it before).
    """
    folder = cache.root / "pypi"
    cached = _cached_distribution(folder, requirement, sdist=sdist, locked=locked)
    if cached is not None:
        return cached, True
    with cache.scratch() as work:
        command = [sys.executable, "-m", "pip", "download", "--no-deps",
                   "--disable-pip-version-check", "--progress-bar", "off",
                   "--dest", str(work), requirement]
        if sdist:  # only this package from source; its build tools may still be wheels
            command[-1:-1] = ["--no-binary", requirement.split("==")[0]]
        done = subprocess.run(command, capture_output=True, text=True, env=quiet_env())
        files = [p for p in work.iterdir() if p.is_file()]
        if done.returncode != 0 or len(files) != 1:
            raise Unreachable(f"pip could not download {requirement}: {pip_error(done)}")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / files[0].name
        os.chmod(files[0], 0o444)
        os.replace(files[0], target)
    return target, False


def _cached_distribution(folder: Path, requirement: str, *, sdist: bool = False,
                         locked: set[str] | frozenset[str] = frozenset()) -> Path | None:
    """A cached wheel (or sdist) of ``name==version`` that this interpreter can use.

    Without ``sdist``, a cached sdist counts only when ``locked`` names it: another
    artifact may have cached it to be read, while this one wants the wheel.
    """
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
            if path.suffix == ".whl" and sdist:
                continue
            if path.suffix == ".whl":
                dist_name, dist_version, _, tags = parse_wheel_filename(path.name)
                rank = min((priority[t] for t in tags if t in priority), default=None)
            elif sdist or path.name in locked:
                dist_name, dist_version = parse_sdist_filename(path.name)
                rank = len(priority)  # an sdist only when no wheel fits
            else:
                continue
            if (dist_name, str(dist_version)) == wanted and rank is not None and (
                    best is None or rank < best[0]):
                best = (rank, path)
    return best[1] if best else None
