"""Safe extraction from zip and tar archives."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from replikit.errors import ReplikitError
from replikit.fetch.archives import (
    check_member_name,
    extract_all,
    extract_member,
    is_archive,
    list_entries,
)


def _tar(path: Path, members: list[tuple[str, bytes | None, str | None, bytes]]) -> Path:
    """Write a tar; each member is (name, data or None, link target or None, link type)."""
    with tarfile.open(path, "w:gz") as tf:
        for name, data, target, kind in members:
            info = tarfile.TarInfo(name)
            if kind == tarfile.DIRTYPE:
                info.type = kind
                tf.addfile(info)
            elif target is not None:
                info.type, info.linkname = kind, target
                tf.addfile(info)
            else:
                info.size = len(data or b"")
                tf.addfile(info, io.BytesIO(data or b""))
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_extract_member_from_zip_strips_header(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"d/u.data": b"head\n1\t2\n3\t4\n", "d/other": b"x"})
    out = extract_member(archive, "d/u.data", tmp_path / "out" / "u.data", strip_header=1)
    assert out.read_bytes() == b"1\t2\n3\t4\n"
    assert [p.name for p in out.parent.iterdir()] == ["u.data"]  # no temporary left


def test_extract_member_from_tar(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "a.tar.gz", [("x/data.csv", b"a,b\n1,2\n", None, b"")])
    assert is_archive(archive)
    out = extract_member(archive, "x/data.csv", tmp_path / "data.csv")
    assert out.read_bytes() == b"a,b\n1,2\n"


def test_missing_member_names_the_archive_and_similar_members(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"ml/u.data": b"1\n"})
    with pytest.raises(ReplikitError, match=r"a\.zip: has no member 'u\.data'(.|\n)*ml/u\.data"):
        extract_member(archive, "u.data", tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["../evil", "/etc/evil", "a/../../evil", "C:/evil", ""])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(ReplikitError, match="refused"):
        check_member_name("x.tar", name)


def test_tar_with_parent_entry_is_refused_and_nothing_written(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "evil.tar.gz", [("ok.txt", b"fine", None, b""),
                                              ("../evil", b"gotcha", None, b"")])
    dest = tmp_path / "deep" / "dest"
    with pytest.raises(ReplikitError, match=r"evil\.tar\.gz: member '\.\./evil' is refused"):
        extract_all(archive, dest)
    assert not (tmp_path / "deep" / "evil").exists()
    assert not dest.exists()  # the archive was refused before anything was written
    with pytest.raises(ReplikitError, match=r"member '\.\./evil' is refused"):
        extract_member(archive, "../evil", tmp_path / "deep" / "x")
    assert not (tmp_path / "deep" / "evil").exists()


def test_symlink_out_of_tree_is_refused(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "link.tar.gz", [("a/f", b"1", None, b""),
                                              ("a/up", None, "../../secret", tarfile.SYMTYPE)])
    with pytest.raises(ReplikitError, match=r"member 'a/up' is refused: it is a link pointing "
                       "outside the tree"):
        extract_all(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_absolute_hardlink_is_refused(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "hl.tar", [("h", None, "/etc/passwd", tarfile.LNKTYPE)])
    with pytest.raises(ReplikitError, match="link to an absolute path"):
        extract_all(archive, tmp_path / "dest")


def test_links_inside_the_tree_are_extracted(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "ok.tar.gz", [
        ("d", None, None, tarfile.DIRTYPE), ("d/f.txt", b"data", None, b""),
        ("d/sym", None, "f.txt", tarfile.SYMTYPE), ("d/hard", None, "d/f.txt", tarfile.LNKTYPE),
    ])
    dest = extract_all(archive, tmp_path / "dest")
    assert (dest / "d" / "sym").is_symlink()
    assert (dest / "d" / "sym").read_bytes() == b"data"
    assert (dest / "d" / "hard").read_bytes() == b"data"
    assert {e.kind for e in list_entries(archive)} == {"dir", "file", "symlink", "hardlink"}


def test_member_that_is_a_link_is_not_read_through(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "l.tar", [("data", None, "/etc/passwd", tarfile.SYMTYPE)])
    with pytest.raises(ReplikitError, match="it is a symlink, not a regular file"):
        extract_member(archive, "data", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_not_an_archive(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("hello")
    with pytest.raises(ReplikitError, match="is not a zip or tar archive"):
        extract_member(plain, "x", tmp_path / "out")
