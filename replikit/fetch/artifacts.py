"""Fetch a study's artifacts: verified by sha256, cached by content, written atomically.

An artifact (``artifacts.<name>`` in ``study.yaml``) lists alternative sources that must all
yield the same bytes. :func:`fetch_artifact` tries them in order: a source that cannot be
reached (offline, DNS, refused, HTTP error, not on the index) is noted and the next one is
tried; a source that is reached but gives the wrong bytes is an error, never skipped.

Each source kind has one fetcher, a plain callable in :data:`FETCHERS` (as pooch's
``known_downloaders``): :mod:`~replikit.fetch.url`, :mod:`~replikit.fetch.git`,
:mod:`~replikit.fetch.pypi` and :mod:`~replikit.fetch.path`. Verified bytes are kept in
the content-addressed :mod:`~replikit.fetch.cache`.

Locking lives here too, the one place that uses both fetching and the lock file
(:mod:`replikit.fetch.lock`, which only reads and writes ``artifacts.lock``):
:func:`lock_study` fetches each artifact whose hash is not known yet and records it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from replikit import paths
from replikit.errors import ReplikitError
from replikit.fetch import lock as lockfile
from replikit.fetch.cache import Cache
from replikit.fetch.git import fetch_git
from replikit.fetch.job import FetchJob, Unreachable, artifact_of, is_distribution
from replikit.fetch.path import fetch_path
from replikit.fetch.pypi import fetch_pypi
from replikit.fetch.records import describe_source, lock_entry
from replikit.fetch.url import fetch_url
from replikit.study import GitSource, Study, load_study, source_kind

Fetcher = Callable[[FetchJob, Any, str | None], dict[str, Any]]

FETCHERS: dict[str, Fetcher] = {
    "url": fetch_url, "git": fetch_git, "pypi": fetch_pypi, "path": fetch_path,
}


def fetcher_for(source: Any) -> Fetcher:
    """The fetcher of a source's kind; an error naming the known kinds if it has none."""
    kind = source_kind(source)
    if kind not in FETCHERS:
        raise ReplikitError(
            f"no fetcher for a source of kind {kind!r}",
            expected=f"a source kind that must be one of {sorted(FETCHERS)}",
            found=type(source).__name__,
            fix="add the kind's fetcher to replikit.fetch.artifacts.FETCHERS",
        )
    return FETCHERS[kind]


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
        A JSON-able record (:func:`replikit.fetch.records.fetch_record` lists its keys).

    Raises
    ------
    ReplikitError
        On any checksum mismatch (the bad file is deleted first), an unsafe archive member,
        a missing git commit, a file artifact whose hash is known nowhere, or, with
        ``strict``, when no source can be reached.
    """
    study = study if isinstance(study, Study) else load_study(study)
    job = FetchJob(study, name, Path(dest_dir), Cache.at(cache_dir), locking=False)
    return _run(job, strict)


def _run(job: FetchJob, strict: bool) -> dict[str, Any]:
    """Serve a file from the cache, or try each source in turn until one is reached."""
    try:
        expected = job.expected_sha256()
    except ReplikitError as exc:
        # An optional artifact whose hash was never recorded (it could not be fetched when
        # the study was locked) is unavailable, not an error: its levels say "not run".
        if strict or not job.artifact.optional:
            raise
        return job.record("unavailable", reason=f"{exc.problem} (an optional artifact: "
                          f"`replikit lock {job.study.name}` records it once reachable)")
    cached = job.cache.lookup(expected) if job.produces_file() else None
    if cached is not None:
        return job.from_cache(cached, expected)
    for index, source in enumerate(job.artifact.sources):
        fetcher = fetcher_for(source)
        try:
            result = fetcher(job, source, expected)
        except Unreachable as exc:
            job.tried.append({"source": describe_source(source), "error": str(exc)})
            continue
        return job.record("ok", source=describe_source(source), source_index=index, **result)
    return job.unavailable(strict)


# --------------------------------------------------------------------------- locking
def needs_lock(study: Study, name: str) -> bool:
    """Whether the lock file lacks a hash (or commit) this artifact needs to be checked."""
    artifact = artifact_of(study, name)
    entry = lockfile.locked_entry(study, name)
    source = artifact.sources[0]
    if isinstance(source, GitSource):
        return entry.get("commit") != source.commit
    if is_distribution(source):
        unresolved = source.install and (entry.get("resolved_for") != source.pypi
                                          or "dependencies" not in entry)
        return unresolved or (not entry.get("distributions") and artifact.sha256 is None)
    return artifact.sha256 is None and "sha256" not in entry


def fetch_for_lock(study: Study, name: str, dest_dir: str | os.PathLike[str], *,
                   cache_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Fetch an artifact whose hash is not known yet and record what came in the lock file.

    Returns the fetch record. Nothing is written to the lock when no source can be reached.
    """
    job = FetchJob(study, name, Path(dest_dir), Cache.at(cache_dir), locking=True)
    result = _run(job, strict=False)
    if result["status"] == "ok":
        entry = lock_entry(result)
        if entry:
            lockfile.record(study, name, entry)
    return result


def lock_study(study: str | Path | Study, names: list[str] | None = None, *,
               root: str | Path = ".", cache_dir: str | Path | None = None,
               dest_root: str | Path | None = None) -> dict[str, Any]:
    """Fetch each artifact whose hash is not known yet and record it in the lock file.

    Parameters
    ----------
    study
        The study (name, path or loaded :class:`Study`).
    names
        Artifacts to lock (default: all).
    root
        Project folder holding ``studies/`` and ``resources/``.
    cache_dir
        The content-addressed cache (default: ``$REPLIKIT_CACHE`` or ``~/.cache/replikit``).
    dest_root
        Where fetched artifacts go (default: ``<root>/resources/<study>``).

    Returns
    -------
    dict
        ``{name: fetch record}`` for each artifact that was fetched to be locked.
    """
    study = study if isinstance(study, Study) else load_study(study, root)
    unknown = [n for n in names or [] if n not in study.artifacts]
    if unknown:
        raise ReplikitError(
            f"unknown artifact(s) {unknown}", where=str(study.dir / paths.MANIFEST),
            expected=f"one of {sorted(study.artifacts)}", fix="check the names given",
        )
    records = {}
    for name in names or list(study.artifacts):
        if needs_lock(study, name):
            dest = (Path(dest_root) / name if dest_root
                    else Path(root) / paths.artifact_dest(study.name, name))
            records[name] = fetch_for_lock(study, name, dest, cache_dir=cache_dir)
    return records
