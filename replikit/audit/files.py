"""The paper's own files of a code artifact, whatever form it was fetched in.

Both the audit and the completeness checklist judge these files and nothing else:

* a folder (a git checkout): its files, skipping VCS, caches and virtual environments;
* an archive (an sdist, a wheel, a zip): unpacked safely into a temporary folder first, and
  read from inside its one top folder when it has one (an sdist's ``name-version/``);
* an installed distribution (``install: true`` puts the artifact and its dependency closure
  into one site folder): the files its own ``*.dist-info/RECORD`` lists, so that a
  dependency's training code is never taken for the paper's.
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from replikit.fetch.archives import extract_all, is_archive

SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", "site-packages",
             ".tox", "build", "dist", "bin"}
MAX_BYTES = 1_000_000  # a larger file is generated or data, not code to read


@dataclass(frozen=True)
class OwnFiles:
    """The folder the files are relative to, the files, and how they were chosen."""

    root: Path
    files: list[Path]
    origin: str  # "folder", "archive <name>" or "distribution <name> (RECORD)"


@contextlib.contextmanager
def own_files(path: str | Path, distribution: str | None = None) -> Iterator[OwnFiles]:
    """The artifact's own files, valid inside the ``with`` block (an archive is unpacked
    into a temporary folder that is removed afterwards).

    ``distribution`` is the project name of an installed distribution (``scikit-surprise``);
    its ``RECORD`` then selects the files of a site folder.
    """
    path = Path(path)
    if path.is_file():
        if not is_archive(path):
            raise NotCode(path)
        with tempfile.TemporaryDirectory(prefix="replikit-code-") as work:
            unpacked = extract_all(path, work)
            tops = list(unpacked.iterdir())
            root = tops[0] if len(tops) == 1 and tops[0].is_dir() else unpacked
            yield OwnFiles(root, folder_files(root), f"archive {path.name}")
        return
    recorded = _recorded_files(path, distribution) if distribution else None
    if recorded is not None:
        yield OwnFiles(path, recorded, f"distribution {distribution} (RECORD)")
    else:
        yield OwnFiles(path, folder_files(path), "folder")


class NotCode(ValueError):
    """The artifact is one file that is not an archive: there is no code to judge."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path.name} is a single file, not an archive or a folder")
        self.path = path


def folder_files(root: Path) -> list[Path]:
    """Every file under ``root``, sorted, skipping VCS, caches, environments and big files."""
    found = []
    for path in sorted(root.rglob("*")):
        parts = set(path.relative_to(root).parts[:-1])
        if path.is_file() and not parts & SKIP_DIRS and path.stat().st_size <= MAX_BYTES:
            found.append(path)
    return found


def _recorded_files(site: Path, distribution: str) -> list[Path] | None:
    """The files ``RECORD`` lists for ``distribution`` in ``site``; None without one."""
    wanted = canonicalize_name(distribution)
    for info in sorted(site.glob("*.dist-info")):
        name = info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        record = info / "RECORD"
        if canonicalize_name(name) != wanted or not record.is_file():
            continue
        rows = csv.reader(io.StringIO(record.read_text(encoding="utf-8", errors="replace")))
        files = {(site / row[0]).resolve() for row in rows if row}
        inside = [p for p in files if p.is_relative_to(site.resolve()) and p.is_file()
                  and "__pycache__" not in p.parts and p.stat().st_size <= MAX_BYTES]
        return sorted(site / p.relative_to(site.resolve()) for p in inside)
    return None


def distribution_name(record: dict[str, Any]) -> str | None:
    """The project name of an artifact record's distribution (pypi artifacts), else None."""
    source = record.get("source") or {}
    ref = str(source.get("ref") or "")
    if source.get("kind") == "pypi" and "==" in ref:
        return ref.split("==")[0].split("[")[0].strip()
    file = str((record.get("distribution") or {}).get("file") or "")
    with contextlib.suppress(InvalidWheelFilename, InvalidSdistFilename):
        if file.endswith(".whl"):
            return str(parse_wheel_filename(file)[0])
        if file:
            return str(parse_sdist_filename(file)[0])
    return None
