"""Atomic writes."""

import os

import pytest

from replikit.fileio import atomic_path, read_json, write_json, write_text


def test_write_json_round_trips_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "x.json"
    write_json(target, {"b": 1, "a": [1.5, "x"]})
    assert read_json(target) == {"a": [1.5, "x"], "b": 1}
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_failure_keeps_the_previous_file(tmp_path):
    target = write_text(tmp_path / "x.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        target = write_text(tmp_path / "x.txt", "hello")
    finally:
        os.umask(old)
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
