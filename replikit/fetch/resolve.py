"""Code artifacts with their dependencies: resolved once by pip, pinned, installed exactly.

A ``pypi: name==version`` source with ``install: true`` needs more than its own wheel: the
distributions it requires. The first fetch (or ``replikit lock``) asks pip's own resolver
(``pip install --dry-run --report``) which distributions the requirement adds to the
environment the runs use, and records each one's version, file name and sha256 under the
artifact's ``dependencies`` in ``artifacts.lock``. Every fetch then installs exactly those
files into ``<dest>/site`` with ``--require-hashes --no-deps`` from the replikit cache,
downloading only the files the cache lacks, so a second machine gets the same bytes and an
offline machine with a warm cache needs no network.

Dependencies that the running environment already satisfies (NumPy, torch…) are not
installed again; the environment record (``env.json``) lists their versions.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from replikit.errors import ReplikitError
from replikit.fetch import lock as lockfile
from replikit.fetch.job import Unreachable
from replikit.fetch.pip import pip_error, quiet_env
from replikit.fileio import read_json


class ResolveUnreachable(Exception):
    """pip could not reach the package index to resolve or download a dependency."""


def install_with_dependencies(fetch: Any, requirement: str, dist: Path, dist_sha: str,
                              pypi_cache: Path) -> dict[str, Any]:
    """Install ``dist`` and its locked dependency closure into ``<dest>/site``.

    Returns the fields the artifact record gains: ``path`` (the site folder),
    ``import_path`` (what the harness puts on the runner's import path) and ``packages``
    (``{name: version}`` of every distribution installed there).
    """
    entry = _locked_dependencies(fetch, requirement, dist)
    files = _ensure_files(pypi_cache, entry["dependencies"])
    wanted = {"file": dist.name, "sha256": dist_sha,
              "dependencies": {n: d["sha256"] for n, d in entry["dependencies"].items()}}
    site = _install_exact(fetch, [(dist, dist_sha), *files], wanted)
    name, version = requirement.split("==")
    packages = {canonicalize_name(name): version}
    packages.update({n: d["version"] for n, d in entry["dependencies"].items()})
    return {"path": str(site), "import_path": str(site), "packages": dict(sorted(packages.items()))}


def resolve(requirement: str, dist: Path | None = None) -> dict[str, dict[str, str]]:
    """The distributions ``requirement`` adds to this environment, by pip's resolver.

    ``dist``, the requirement's own distribution file when already downloaded, saves pip
    fetching it again. Returns ``{canonical name: {"version", "file", "sha256"}}`` without
    the requirement's own distribution. Raises :class:`ResolveUnreachable` when pip cannot.
    """
    with tempfile.TemporaryDirectory(prefix="replikit-resolve-") as work:
        report = Path(work) / "report.json"
        target = str(dist) if dist else requirement
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet",
                   "--disable-pip-version-check", "--report", str(report), target]
        done = subprocess.run(command, capture_output=True, text=True, env=quiet_env())
        if done.returncode != 0 or not report.exists():
            raise ResolveUnreachable(f"pip could not resolve {requirement}: {pip_error(done)}")
        installs = read_json(report).get("install", [])
    own = canonicalize_name(requirement.split("==")[0])
    closure = {}
    for item in installs:
        name = canonicalize_name(item["metadata"]["name"])
        if name == own:
            continue
        info = item.get("download_info") or {}
        digest = (info.get("archive_info") or {}).get("hashes", {}).get("sha256")
        if digest is None:
            raise ReplikitError(
                f"pip resolved {name} to a source without a sha256", where=requirement,
                found=json.dumps(info)[:200], fix="pin a version that has a wheel on the index",
            )
        closure[name] = {"version": item["metadata"]["version"],
                         "file": info["url"].rsplit("/", 1)[-1], "sha256": digest}
    return closure


def artifact_packages(records: list[str | os.PathLike[str]]) -> dict[str, dict[str, str]]:
    """``{artifact: {package: version}}`` of the code artifacts installed for a study."""
    found = {}
    for path in records:
        record = read_json(path)
        if record.get("status") == "ok" and record.get("packages"):
            found[record["name"]] = record["packages"]
    return found


def _locked_dependencies(fetch: Any, requirement: str, dist: Path) -> dict[str, Any]:
    """The lock's dependency closure of ``requirement``; resolved and recorded when missing."""
    entry = fetch.lock
    if entry.get("resolved_for") == requirement and "dependencies" in entry:
        return entry
    try:
        closure = resolve(requirement, dist)
    except ResolveUnreachable as exc:
        raise Unreachable(str(exc)) from exc
    update = {"resolved_for": requirement, "dependencies": closure}
    # The lock replaces 'dependencies' whole, so a changed requirement keeps no old entries.
    lockfile.record(fetch.study, fetch.name, update)
    fetch.lock.update(update)
    return fetch.lock


def _ensure_files(folder: Path, dependencies: dict[str, dict[str, str]]) -> list[tuple[Path, str]]:
    """The locked files from the cache, downloading (hash-checked) only those it lacks."""
    folder.mkdir(parents=True, exist_ok=True)
    missing = {n: d for n, d in dependencies.items() if not (folder / d["file"]).is_file()}
    if missing:
        with tempfile.TemporaryDirectory(prefix="replikit-download-", dir=folder) as work:
            requirements = _requirements_file(Path(work), missing)
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
                       "--disable-pip-version-check", "--progress-bar", "off",
                       "--dest", work, "-r", str(requirements)]
            done = subprocess.run(command, capture_output=True, text=True, env=quiet_env())
            if done.returncode != 0:
                raise Unreachable(f"pip could not download the locked dependencies "
                                  f"{sorted(missing)}: {pip_error(done)}")
            for spec in missing.values():
                os.replace(Path(work) / spec["file"], folder / spec["file"])
    return [(folder / d["file"], d["sha256"]) for d in dependencies.values()]


def install_failed(fetch: Any, dist: Path, found: str) -> ReplikitError:
    """The error when pip cannot install the locked files, with the lock edit that helps.

    An sdist must be built, which an offline install cannot do: the artifact wants the
    package's wheel, recorded afresh once the sdist's entry is gone. Otherwise the locked
    dependencies may have been resolved for another interpreter: resolving again helps.
    """
    lock, study = lockfile.lock_path(fetch.study), fetch.study.name
    if not dist.name.endswith(".whl"):
        return ReplikitError(
            f"pip could not build {dist.name}, the source distribution of artifact "
            f"{fetch.name!r}, to install it", where=str(lock), found=found,
            fix=f"in {lock}, delete the line '{dist.name}: ...' under artifacts.{fetch.name}"
            f".distributions, then run `replikit lock {study}` (it fetches the wheel); a "
            "package with no wheel on the index builds with this environment's tools under "
            f"`PIP_NO_BUILD_ISOLATION=0 replikit lock {study}`")
    return ReplikitError(
        f"pip could not install {dist.name} with its locked dependencies", where=str(lock),
        found=found, fix=f"in {lock}, delete 'resolved_for' and 'dependencies' under "
        f"artifacts.{fetch.name}, then run `replikit lock {study}` to resolve them again")


def _requirements_file(folder: Path, dependencies: dict[str, dict[str, str]]) -> Path:
    lines = [f"{name}=={d['version']} --hash=sha256:{d['sha256']}"
             for name, d in sorted(dependencies.items())]
    path = folder / "requirements.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _install_exact(fetch: Any, files: list[tuple[Path, str]], wanted: dict[str, Any]) -> Path:
    """Install exactly ``files`` into ``<dest>/site`` (hash-checked), unless already there."""
    dest_dir = fetch.dest_dir
    site, marker = dest_dir / "site", dest_dir / "distribution.json"
    with contextlib.suppress(OSError, ValueError):
        if site.is_dir() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
            return site
    dest_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".site.", dir=dest_dir))
    try:
        # A requirements file of local paths with their hashes: pip checks every file.
        lines = [f"{path} --hash=sha256:{digest}" for path, digest in files]
        requirements = staging.parent / f"{staging.name}.txt"
        requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
        target = staging / "site"
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                   "--require-hashes", "--no-compile", "--disable-pip-version-check",
                   "--target", str(target), "-r", str(requirements)]
        done = subprocess.run(command, capture_output=True, text=True, env=quiet_env())
        requirements.unlink(missing_ok=True)
        if done.returncode != 0:
            raise install_failed(fetch, files[0][0], pip_error(done))
        marker.unlink(missing_ok=True)
        if site.exists():
            shutil.rmtree(site)
        os.replace(target, site)
        marker.write_text(json.dumps(wanted, sort_keys=True), encoding="utf-8")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return site
