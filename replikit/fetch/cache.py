"""The content-addressed cache shared by all studies, and placing its files atomically.

Verified bytes live once in the cache (``$REPLIKIT_CACHE`` or ``~/.cache/replikit``),
addressed by sha256 (``<cache>/sha256/<2 hex>/<hash>``), and are hard-linked into each
artifact's folder; so a second run, or a second study needing the same data, downloads
nothing. Distributions (``<cache>/pypi``) and bare git mirrors (``<cache>/git``) live beside.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pooch

from replikit.fileio import read_json, write_json

CACHE_ENV = "REPLIKIT_CACHE"


def default_cache_dir() -> Path:
    """``$REPLIKIT_CACHE`` if set, else ``~/.cache/replikit``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "replikit"


@dataclass(frozen=True)
class Cache:
    """The content-addressed cache: verified files by sha256, distributions, git mirrors."""

    root: Path

    @classmethod
    def at(cls, cache_dir: str | os.PathLike[str] | None) -> Cache:
        """The cache in ``cache_dir``, or in :func:`default_cache_dir` when not given."""
        return cls(Path(cache_dir).expanduser().resolve() if cache_dir else default_cache_dir())

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
                write_json(target.with_name(sha256 + ".json"), provenance)
        return target

    def provenance(self, sha256: str) -> dict[str, Any]:
        """What the cache recorded about where a file first came from (may be empty)."""
        meta = self.blob(sha256).with_name(sha256 + ".json")
        with contextlib.suppress(OSError, ValueError):
            return read_json(meta)
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


def place(source: Path, target: Path) -> Path:
    """Put ``source`` at ``target`` atomically: a hard link, or a copy across file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        link_or_copy(source, Path(tmp))
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target


def link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
