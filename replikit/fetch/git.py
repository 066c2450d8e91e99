"""The ``git`` source kind: a bare mirror in the cache, checked out at the pinned commit.

The checkout's ``HEAD`` is verified against the commit; a checkout already at it is reused
as is, so a second run needs no network. Git never prompts for a password: a private or
unreachable repository fails at once and the next source is tried.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from replikit.errors import ReplikitError
from replikit.fetch.cache import Cache
from replikit.fetch.job import FetchJob, Unreachable
from replikit.study import GitSource


def fetch_git(job: FetchJob, source: GitSource, expected: str | None) -> dict[str, Any]:
    checkout = job.dest_dir / _repo_name(source.git)
    # A checkout already at the commit is reused as is: a second run needs no network.
    if not (checkout.is_dir() and _git_head(checkout) == source.commit):
        _git_checkout(_git_mirror(job.cache, source), source, checkout)
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
                          text=True, env=git_env())
    return done.stdout.strip() if done.returncode == 0 else None


def _has_commit(repo: Path, commit: str) -> bool:
    done = subprocess.run(["git", "-C", str(repo), "cat-file", "-e", f"{commit}^{{commit}}"],
                          capture_output=True, env=git_env())
    return done.returncode == 0


def _git(args: list[str], unreachable: str | None = None) -> None:
    done = subprocess.run(["git", *args], capture_output=True, text=True, env=git_env())
    if done.returncode == 0:
        return
    last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    if unreachable:
        raise Unreachable(f"{unreachable}: {last}")
    raise ReplikitError(f"git {args[0] if args[0] != '-C' else args[2]} failed",
                        found=last, where=" ".join(["git", *args]))


def git_env() -> dict[str, str]:
    # Never wait for a password prompt: an unreachable or private repository fails at once.
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}


def _repo_name(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    return name or "repository"
