"""Safe reading of zip and tar archives (wheels are zips): one member, or the whole tree.

An archive fetched from elsewhere is untrusted. Every member that would be written is
checked first: an absolute path, a ``..`` component or a link pointing outside the tree is
refused with an error naming the archive and the member, and nothing of a refused archive
is written. Files are always written by this module (never by ``extractall``), so what a
member may become on disk is decided here.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from replikit.errors import ReplikitError
from replikit.fileio import atomic_path

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Entry:
    """One archive member as this module sees it, whatever the archive format.

    ``kind`` is ``"file"``, ``"dir"``, ``"symlink"`` or ``"hardlink"``; ``target`` is the
    link's target for the two link kinds (as stored in the archive).
    """

    name: str
    kind: str
    target: str | None = None


def is_archive(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a zip (or wheel) or a tar archive this module can read."""
    return zipfile.is_zipfile(path) or tarfile.is_tarfile(path)


def check_member_name(archive: str | os.PathLike[str], name: str) -> PurePosixPath:
    """Return ``name`` as a relative path inside the archive, or refuse it.

    Raises
    ------
    ReplikitError
        If the name is absolute (``/x``, ``C:/x``), has a ``..`` component, or is empty.

    Examples
    --------
    >>> check_member_name("a.zip", "data/u.data")
    PurePosixPath('data/u.data')
    >>> check_member_name("a.zip", "../evil")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    replikit.errors.ReplikitError: a.zip: member '../evil' is refused: it would be written ...
    """
    normalized = name.replace("\\", "/")
    path = PurePosixPath(normalized)
    parts = [part for part in path.parts if part not in ("", ".")]
    absolute = normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":")
    if absolute or ".." in parts or not parts:
        raise _refused(archive, name, "it would be written outside the extraction folder",
                       "a relative path without '..' components", repr(name))
    return PurePosixPath(*parts)


def check_link_target(archive: str | os.PathLike[str], entry: Entry) -> PurePosixPath:
    """Return where a link member points, relative to the tree's root, or refuse it.

    A symbolic link's target is resolved against the link's own folder; a hard link's
    target is another member name. Either must stay inside the tree.
    """
    target = entry.target or ""
    if target.startswith("/"):
        raise _refused(archive, entry.name, "it is a link to an absolute path",
                       "a link to another member of the archive", repr(target))
    base = PurePosixPath(entry.name).parent if entry.kind == "symlink" else PurePosixPath()
    depth = 0
    parts: list[str] = []
    for part in (base / target).parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                raise _refused(archive, entry.name, "it is a link pointing outside the tree",
                               "a link to another member of the archive", repr(target))
            parts.pop()
        elif part not in ("", "."):
            depth += 1
            parts.append(part)
    if not parts:
        raise _refused(archive, entry.name, "it is a link to the tree's root itself",
                       "a link to another member of the archive", repr(target))
    return PurePosixPath(*parts)


def list_entries(archive: str | os.PathLike[str]) -> list[Entry]:
    """List the members of a zip or tar archive, with their kind and link target."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            return [_zip_entry(zf, info) for info in zf.infolist()]
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            return [_tar_entry(info) for info in tf.getmembers()]
    raise _not_an_archive(archive)


def extract_member(
    archive: str | os.PathLike[str],
    member: str,
    target: str | os.PathLike[str],
    *,
    strip_header: int = 0,
) -> Path:
    """Write one regular-file member of ``archive`` to ``target`` (atomically).

    Parameters
    ----------
    archive
        A zip (or wheel) or tar file, compressed or not.
    member
        The member's path inside the archive, as the manifest names it.
    target
        Where to write the member's bytes.
    strip_header
        Number of leading lines to drop (e.g. a header line the original file lacks).

    Raises
    ------
    ReplikitError
        If the member is missing, is not a regular file, or its name is unsafe.
    """
    check_member_name(archive, member)
    with atomic_path(target) as tmp, tmp.open("wb") as out:
        for chunk in _strip_lines(_member_chunks(archive, member), strip_header):
            out.write(chunk)
    return Path(target)


def extract_all(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Extract every member of ``archive`` under ``dest``, after checking all of them.

    The whole archive is checked before anything is written, so a refused member leaves
    ``dest`` untouched. Symbolic links are recreated only when they point inside the tree;
    hard links become copies of their target member.

    Returns
    -------
    Path
        ``dest``.
    """
    entries = list_entries(archive)
    for entry in entries:
        check_member_name(archive, entry.name)
        if entry.kind in ("symlink", "hardlink"):
            check_link_target(archive, entry)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    links = []
    for entry in entries:
        path = dest / check_member_name(archive, entry.name)
        if entry.kind == "dir":
            path.mkdir(parents=True, exist_ok=True)
        elif entry.kind == "file":
            with atomic_path(path) as tmp, tmp.open("wb") as out:
                for chunk in _member_chunks(archive, entry.name):
                    out.write(chunk)
        else:
            links.append((entry, path))
    # Links last, so that a hard link's target exists and no file is written through a link.
    for entry, path in links:
        _make_link(archive, entry, path, dest)
    return dest


# --------------------------------------------------------------------------- internals
def _refused(archive: str | os.PathLike[str], member: str, why: str, expected: str,
             found: str) -> ReplikitError:
    return ReplikitError(
        f"member {member!r} is refused: {why}", where=str(archive), expected=expected,
        found=found, fix="do not use this archive; ask its publisher for a clean copy",
    )


def _not_an_archive(archive: str | os.PathLike[str]) -> ReplikitError:
    return ReplikitError(
        "is not a zip or tar archive, so no member can be read from it", where=str(archive),
        expected="a .zip, .whl or .tar(.gz/.bz2/.xz) file",
        fix="check the source's URL, or drop 'member' if the file itself is the artifact",
    )


def _zip_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Entry:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return Entry(info.filename, "symlink", zf.read(info).decode("utf-8", "replace"))
    return Entry(info.filename, "dir" if info.is_dir() else "file")


def _tar_entry(info: tarfile.TarInfo) -> Entry:
    if info.issym():
        return Entry(info.name, "symlink", info.linkname)
    if info.islnk():
        return Entry(info.name, "hardlink", info.linkname)
    if info.isdir():
        return Entry(info.name, "dir")
    if info.isfile():
        return Entry(info.name, "file")
    return Entry(info.name, "special")


def _member_chunks(archive: str | os.PathLike[str], member: str) -> Iterator[bytes]:
    """Yield the bytes of one regular-file member, refusing links and special files."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            info = _lookup(archive, member, {i.filename: i for i in zf.infolist()})
            _require_file(archive, _zip_entry(zf, info))
            with zf.open(info) as handle:
                yield from _read_chunks(handle)
        return
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            info = _lookup(archive, member, {i.name: i for i in tf.getmembers()})
            _require_file(archive, _tar_entry(info))
            handle = tf.extractfile(info)
            assert handle is not None  # a regular file always has a stream
            yield from _read_chunks(handle)
        return
    raise _not_an_archive(archive)


def _lookup(archive: str | os.PathLike[str], member: str, infos: dict):
    if member in infos:
        return infos[member]
    files = sorted(name for name in infos if not name.endswith("/"))
    close = [name for name in files if name.endswith(PurePosixPath(member).name)][:5]
    raise ReplikitError(
        f"has no member {member!r}", where=str(archive),
        expected=f"one of its {len(files)} files",
        found=f"similar names: {close}" if close else f"first files: {files[:5]}",
        fix="correct 'member' in the study manifest",
    )


def _require_file(archive: str | os.PathLike[str], entry: Entry) -> None:
    if entry.kind != "file":
        raise _refused(archive, entry.name, f"it is a {entry.kind}, not a regular file",
                       "a regular file", entry.kind)


def _read_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(_CHUNK):
        yield chunk


def _strip_lines(chunks: Iterator[bytes], count: int) -> Iterator[bytes]:
    """Drop the first ``count`` lines (ending in ``\\n``) from a stream of chunks."""
    pending = b""
    for chunk in chunks:
        if count == 0:
            yield chunk
            continue
        pending += chunk
        while count and b"\n" in pending:
            pending = pending.split(b"\n", 1)[1]
            count -= 1
        if count == 0 and pending:
            yield pending
            pending = b""


def _make_link(archive: str | os.PathLike[str], entry: Entry, path: Path, dest: Path) -> None:
    inside = check_link_target(archive, entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    if entry.kind == "symlink":
        os.symlink(entry.target or "", path)
    else:
        shutil.copyfile(dest / inside, path)
