"""Can an artifact recorded unavailable be had now? A quick look before the workflow plans.

The workflow fetches an artifact recorded ``unavailable`` again only when
:func:`available_again` names it, so a re-run with nothing changed has nothing to do, and a
source that is back is fetched, and what depends on it rebuilt, in one run.

An artifact can be had again when the cache holds its bytes or a ``path`` source's file
exists (both looked at offline too) or, unless ``offline``, when one of its sources answers
within a short timeout: a URL answers a HEAD request with success, a git repository lists
its references, the package index lists the pinned version. Every source of every artifact
is asked at once. Each source kind has one probe in :data:`PROBES`, as it has one fetcher
in :data:`replikit.fetch.artifacts.FETCHERS`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from replikit.errors import ReplikitError
from replikit.fetch.cache import Cache
from replikit.fetch.git import git_env
from replikit.fetch.job import FetchJob
from replikit.fetch.pip import quiet_env
from replikit.study import GitSource, PathSource, PypiSource, Study, UrlSource, source_kind

#: Seconds one source has to answer; all are asked at once, so planning waits about this long.
PROBE_TIMEOUT = 5.0

Probe = Callable[[Any, float], bool]


def _url_answers(source: UrlSource, timeout: float) -> bool:
    """The URL answers a HEAD request (or, where HEAD is refused, a GET) with success."""
    url = source.url
    if url.startswith("doi:"):  # the DOI itself, without the file name pooch appends
        url = "https://doi.org/" + url.removeprefix("doi:").rsplit("/", 1)[0]
    try:
        with requests.head(url, allow_redirects=True, timeout=timeout) as answer:
            if answer.status_code not in (403, 405, 501):
                return answer.ok
        with requests.get(url, stream=True, timeout=timeout) as answer:
            return answer.ok
    except requests.RequestException:
        return False


def _git_answers(source: GitSource, timeout: float) -> bool:
    """``git ls-remote`` lists the repository's references."""
    try:
        done = subprocess.run(["git", "ls-remote", "--exit-code", source.git],
                              capture_output=True, timeout=timeout, env=git_env())
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _pypi_answers(source: PypiSource, timeout: float) -> bool:
    """pip's configured index lists the pinned version (``pip index versions``)."""
    name, _, version = source.pypi.partition("==")
    command = [sys.executable, "-m", "pip", "index", "versions", name, "--retries", "0",
               "--timeout", str(timeout), "--disable-pip-version-check"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout * 2,
                              env=quiet_env())
    except subprocess.TimeoutExpired:
        return False
    listed = done.stdout.partition("Available versions:")[2].replace(",", " ").split()
    return done.returncode == 0 and version in listed


#: The probe of each source kind reached over the network (a ``path`` source is a local
#: file: :func:`_held_locally` looks at it).
PROBES: dict[str, Probe] = {"url": _url_answers, "git": _git_answers, "pypi": _pypi_answers}


def available_again(study: Study, names: Iterable[str], *, offline: bool = False,
                    timeout: float = PROBE_TIMEOUT, cache_dir: str | Path | None = None
                    ) -> list[str]:
    """The artifacts among ``names`` that a fetch could now get, in the order given.

    Parameters
    ----------
    study
        The loaded study.
    names
        Artifacts recorded unavailable.
    offline
        Ask no source over the network; only the cache and local files count.
    timeout
        Seconds each source has to answer.
    cache_dir
        The cache (default: ``$REPLIKIT_CACHE`` or ``~/.cache/replikit``).
    """
    names = [name for name in names if _could_be_checked(study, name)]
    cache = Cache.at(cache_dir)
    found = {name for name in names if _held_locally(study, name, cache)}
    asked = [] if offline else [(name, source) for name in names if name not in found
                                for source in study.artifacts[name].sources
                                if source_kind(source) in PROBES]
    if asked:
        with ThreadPoolExecutor(max_workers=len(asked)) as pool:
            answers = list(pool.map(
                lambda pair: PROBES[source_kind(pair[1])](pair[1], timeout), asked))
        found |= {name for (name, _), answered in zip(asked, answers, strict=True) if answered}
    return [name for name in names if name in found]


def _could_be_checked(study: Study, name: str) -> bool:
    """False for an optional artifact whose hash was never recorded: a fetch would give
    "unavailable" again whatever the source (``replikit lock`` records the hash first)."""
    try:
        _job(study, name).expected_sha256()
    except ReplikitError:
        return False
    return True


def _held_locally(study: Study, name: str, cache: Cache) -> bool:
    """The cache holds the artifact's bytes, or one of its ``path`` sources' files exists."""
    job = _job(study, name, cache)
    expected = job.expected_sha256() if job.produces_file() else None
    if expected and cache.blob(expected).is_file():
        return True
    for source in study.artifacts[name].sources:
        if isinstance(source, PathSource):
            local = Path(source.path).expanduser()
            if (local if local.is_absolute() else study.dir / local).is_file():
                return True
    return False


def _job(study: Study, name: str, cache: Cache | None = None) -> FetchJob:
    return FetchJob(study, name, Path("."), cache or Cache.at(None), locking=False)
