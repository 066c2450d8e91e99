"""Where a table is read from: a file, or a file inside a fetched artifact.

``<artifact>:<path>`` names a file inside an artifact of the study, found through the
artifact's record (``results/<study>/artifacts/<name>.json``, written when the workflow
fetched it). The path is taken inside the artifact's folder (a git checkout, an installed
distribution) or, when the artifact is an archive (an sdist, a wheel, a zip), as a member
of it. The provenance then names the artifact and its sha256, so a claim can be traced to
the exact bytes it was read from.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replikit.errors import ReplikitError
from replikit.extract.model import Table
from replikit.fetch.archives import extract_member, is_archive, list_entries
from replikit.fileio import read_json

READERS = {".md": "markdown", ".markdown": "markdown", ".tex": "latex", ".pdf": "pdf"}


@dataclass
class Source:
    """A readable local file and where it came from."""

    path: Path
    name: str
    provenance: dict[str, Any]


def read_source_tables(source: Source) -> list[Table]:
    """The tables of a source, read by the reader its file suffix names."""
    kind = READERS.get(Path(source.name).suffix.lower())
    if kind is None:
        raise ReplikitError(
            "no table reader for this kind of file", where=source.name,
            expected=f"a file ending in one of {sorted(READERS)}",
            found=Path(source.name).suffix or "no suffix",
        )
    if kind == "markdown":
        from replikit.extract.markdown import read_tables
    elif kind == "latex":
        from replikit.extract.latex import read_tables
    else:
        from replikit.extract.pdf import read_tables
    return read_tables(source.path, source.name)


@contextlib.contextmanager
def open_source(spec: str, *, study: str | None, root: Path) -> Iterator[Source]:
    """Resolve ``spec`` (a path, or ``<artifact>:<path>`` with ``study``) to a local file."""
    local = Path(spec)
    if local.is_file() or ":" not in spec:
        if not local.is_file():
            raise ReplikitError("no such file", where=spec,
                                fix="give a Markdown, LaTeX or PDF file, or <artifact>:<path>")
        yield Source(local, local.name, {"file": str(local), "sha256": _sha256(local)})
        return
    artifact, _, inner = spec.partition(":")
    record = _artifact_record(artifact, study, root)
    base = Path(record["path"])
    provenance = {"artifact": artifact, "artifact_sha256": record.get("sha256"),
                  "artifact_source": (record.get("source") or {}).get("ref"), "member": inner}
    if base.is_dir():
        target = base / inner
        if not target.is_file():
            raise ReplikitError(f"artifact {artifact!r} has no file {inner!r}",
                                where=str(base), fix="check the path inside the artifact")
        yield Source(target, inner, {**provenance, "sha256": _sha256(target)})
    elif inner in ("", base.name) or not is_archive(base):
        yield Source(base, base.name, {**provenance, "sha256": _sha256(base)})
    else:
        inner = member_path(base, inner)
        provenance["member"] = inner
        with tempfile.TemporaryDirectory(prefix="replikit-extract-") as work:
            target = Path(work) / Path(inner).name
            extract_member(base, inner, target)
            yield Source(target, inner, {**provenance, "sha256": _sha256(target)})


def member_path(archive: Path, path: str) -> str:
    """The member ``path`` names: as given, or relative to the package's top folder.

    An sdist holds ``<name>-<version>/README.md``; ``README.md`` names that member too.
    """
    names = {e.name for e in list_entries(archive) if e.kind == "file"}
    if path in names:
        return path
    tops = {name.split("/", 1)[0] for name in names}
    full = f"{tops.pop()}/{path}" if len(tops) == 1 else None
    if full in names:
        return full
    candidates = ", ".join(member for member, _ in archive_tables(archive)) or "none"
    raise ReplikitError(f"{archive.name} has no file {path!r}", where=str(archive),
                        expected="a path relative to the package's top folder, e.g. README.md",
                        found=f"files with results tables: {candidates}",
                        fix="give one of those files")


def archive_tables(archive: Path) -> list[tuple[str, list[Table]]]:
    """The files of an archive that have tables a reader can read, with their tables.

    Markdown, LaTeX and PDF files (README, docs, paper sources) are read; a file whose
    tables hold no number is left out.
    """
    from replikit.extract.candidates import table_candidates

    found = []
    with tempfile.TemporaryDirectory(prefix="replikit-tables-") as work:
        for entry in list_entries(archive):
            if entry.kind != "file" or Path(entry.name).suffix.lower() not in READERS:
                continue
            target = Path(work) / f"{len(found)}{Path(entry.name).suffix.lower()}"
            extract_member(archive, entry.name, target)
            try:
                tables = read_source_tables(Source(target, entry.name, {}))
            except (ReplikitError, ValueError, OSError):
                continue  # a file no reader can parse holds no candidate table
            tables = [t for t in tables if table_candidates(t)]
            if tables:
                found.append((entry.name, tables))
    return found


def _artifact_record(artifact: str, study: str | None, root: Path) -> dict[str, Any]:
    if not study:
        raise ReplikitError(
            f"{artifact!r} names an artifact, but no study was given",
            fix="add --study <study>, or give the path of a file",
        )
    path = root / "results" / study / "artifacts" / f"{artifact}.json"
    if not path.is_file():
        raise ReplikitError(
            f"artifact {artifact!r} of study {study!r} has not been fetched", where=str(path),
            fix=f"run `snakemake results/{study}/artifacts/{artifact}.json study={study}` first",
        )
    record = read_json(path)
    if record.get("status") != "ok" or not record.get("path"):
        raise ReplikitError(
            f"artifact {artifact!r} is unavailable", where=str(path),
            found=str(record.get("reason")), fix="fetch it again when its source is reachable",
        )
    return record


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
