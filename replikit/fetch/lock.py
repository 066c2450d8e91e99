"""The lock file ``studies/<study>/artifacts.lock``: hashes the manifest does not spell out.

This module only reads and writes the file; :func:`replikit.fetch.artifacts.lock_study`
does the locking: ``replikit lock <study>`` fetches every artifact whose hash is not yet
known and records it: the final file's sha256 for files, the resolved commit for git
repositories, and for code installed from the package index the sha256 of each
distribution file, keyed by its file name (a wheel's bytes differ per platform, so one
study may hold several). Fetches then check against it. The file is YAML, sorted, written
atomically, and is meant to be committed beside ``study.yaml``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from replikit import paths, safe_yaml
from replikit.errors import ReplikitError
from replikit.fileio import write_text
from replikit.study import Study, load_study

LOCK_VERSION = 1
_HEADER = """\
# Hashes of the artifacts of study {name!r} that its study.yaml does not spell out.
# Written by `replikit lock {name}` (and by fetches, for a distribution file not seen
# before); fetches check against it. Commit it; do not edit it by hand (delete an entry
# and run `replikit lock {name}` to record it again).
"""


def lock_path(study: Study) -> Path:
    """Path of the study's lock file (which may not exist yet)."""
    return study.dir / paths.ARTIFACTS_LOCK


def read_lock(study: str | Path | Study, root: str | Path = ".") -> dict[str, Any]:
    """Read the study's lock file; an absent file reads as an empty lock.

    Returns
    -------
    dict
        ``{"version": 1, "artifacts": {name: entry}}`` where an entry holds ``sha256``
        (a file), ``commit`` (git) or ``distributions`` (``{file name: sha256}``).
    """
    study = _as_study(study, root)
    path = lock_path(study)
    if not path.exists():
        return {"version": LOCK_VERSION, "artifacts": {}}
    data = safe_yaml.load_file(path)[0] or {}
    artifacts = data.get("artifacts") if isinstance(data, dict) else None
    if not isinstance(artifacts, dict) or data.get("version") != LOCK_VERSION:
        raise ReplikitError(
            "is not a replikit lock file", where=str(path),
            expected=f"a mapping with 'version: {LOCK_VERSION}' and 'artifacts'",
            found=repr(data)[:120],
            fix=f"delete it and run `replikit lock {study.name}` to write it again",
        )
    return {"version": LOCK_VERSION, "artifacts": artifacts}


def write_lock(study: Study, lock: dict[str, Any]) -> Path:
    """Write ``lock`` to the study's lock file atomically, keys sorted, with the header."""
    body = {"version": LOCK_VERSION, "artifacts": lock.get("artifacts", {})}
    text = _HEADER.format(name=study.name) + yaml.safe_dump(body, sort_keys=True)
    return write_text(lock_path(study), text)


def locked_entry(study: Study, name: str) -> dict[str, Any]:
    """The lock's entry for one artifact (empty when the lock knows nothing of it)."""
    return dict(read_lock(study)["artifacts"].get(name) or {})


def record(study: Study, name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Merge ``entry`` into the artifact's lock entry and write the lock; return the entry.

    Distributions are merged by file name, so locking on a second platform adds its wheel.
    The read-modify-write runs under an exclusive lock on the study folder, so parallel
    fetches (Snakemake jobs) do not lose each other's entries.
    """
    with _exclusive(study.dir):
        lock = read_lock(study)
        current = dict(lock["artifacts"].get(name) or {})
        for key, value in entry.items():
            if key == "distributions":
                current[key] = {**(current.get(key) or {}), **value}
            else:
                current[key] = value
        lock["artifacts"][name] = current
        write_lock(study, lock)
    return current


def _as_study(study: str | Path | Study, root: str | Path) -> Study:
    return study if isinstance(study, Study) else load_study(study, root)


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``folder`` (Linux allows flock on a folder)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
