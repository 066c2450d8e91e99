"""The lock file: recording hashes the manifest lacks, and fetches checking against them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from replikit.cli import main
from replikit.errors import ReplikitError
from replikit.fetch.artifacts import fetch_artifact, lock_study, needs_lock
from replikit.fetch.lock import lock_path, read_lock, record
from tests._fetch_helpers import (
    RATINGS,
    build_wheel,
    file_sha256,
    make_repo,
    make_study,
    publish_index,
    server,  # noqa: F401 - a fixture
    sha256,
    use_index,
)


def test_absent_lock_reads_empty(tmp_path: Path) -> None:
    study = make_study(tmp_path, {"r": {"description": "d", "path": "x"}})
    assert read_lock(study) == {"version": 1, "artifacts": {}}
    assert not lock_path(study).exists()


def test_lock_study_records_file_git_and_distribution(server, tmp_path, monkeypatch):  # noqa: F811
    wheel = build_wheel(tmp_path / "dist", "tinycode", "2.0", {"tinycode/__init__.py": b"X = 1\n"})
    use_index(monkeypatch, publish_index(server, wheel, "tinycode"))
    first, _ = make_repo(tmp_path / "origin")
    study = make_study(tmp_path, {
        "ratings": {"description": "d", "url": server.put("u.data", RATINGS)},
        "code": {"description": "d", "role": "code", "pypi": "tinycode==2.0", "install": True},
        "repo": {"description": "d", "git": str(tmp_path / "origin"), "commit": first},
        "known": {"description": "d", "path": "k.txt", "sha256": sha256(b"k")},
    })
    assert [needs_lock(study, n) for n in study.artifacts] == [True, True, True, False]
    cache = tmp_path / "cache"
    results = lock_study(study, root=tmp_path, cache_dir=cache)
    assert sorted(results) == ["code", "ratings", "repo"]  # 'known' needs no fetch
    assert all(r["status"] == "ok" for r in results.values())
    assert (tmp_path / "resources" / "demo" / "ratings" / "u.data").read_bytes() == RATINGS

    text = lock_path(study).read_text()
    assert text.startswith("# Hashes of the artifacts of study 'demo'")
    assert yaml.safe_load(text) == {"version": 1, "artifacts": {
        "ratings": {"sha256": sha256(RATINGS)},
        # no dependencies: pip's resolver found none to add
        "code": {"distributions": {wheel.name: file_sha256(wheel)}, "dependencies": {},
                 "resolved_for": "tinycode==2.0"},
        "repo": {"commit": first},
    }}
    assert not any(needs_lock(study, n) for n in study.artifacts)
    assert lock_study(study, root=tmp_path, cache_dir=cache) == {}  # nothing left to lock

    # a fetch now checks against the lock, and is served by the cache
    again = fetch_artifact(study, "ratings", tmp_path / "again", cache_dir=cache)
    assert again["from_cache"] and again["sha256"] == sha256(RATINGS)


def test_fetch_checks_the_locked_hash(server, tmp_path):  # noqa: F811
    study = make_study(tmp_path, {"r": {"description": "d", "url": server.put("u.data", RATINGS)}})
    record(study, "r", {"sha256": "e" * 64})
    with pytest.raises(ReplikitError, match="does not match the known hash: expected sha256:e{64}"):
        fetch_artifact(study, "r", tmp_path / "dest", cache_dir=tmp_path / "cache")
    assert not (tmp_path / "dest" / "u.data").exists()


def test_manifest_and_lock_disagreeing_is_an_error(tmp_path):
    study = make_study(tmp_path, {"r": {"description": "d", "path": "x", "sha256": "a" * 64}})
    record(study, "r", {"sha256": "b" * 64})
    with pytest.raises(ReplikitError, match=r"one sha256 in study\.yaml and another in the lock"
                       r"(.|\n)*delete the entry 'r'"):
        fetch_artifact(study, "r", tmp_path / "dest", cache_dir=tmp_path / "cache")


def test_record_merges_distributions_by_file_name(tmp_path):
    study = make_study(tmp_path, {"c": {"description": "d", "pypi": "x==1", "install": True}})
    record(study, "c", {"distributions": {"x-1-cp311-linux.whl": "1" * 64}})
    record(study, "c", {"distributions": {"x-1-cp312-macos.whl": "2" * 64}})
    assert read_lock(study)["artifacts"]["c"]["distributions"] == {
        "x-1-cp311-linux.whl": "1" * 64, "x-1-cp312-macos.whl": "2" * 64}


def test_lock_unavailable_artifact_writes_nothing(tmp_path):
    study = make_study(tmp_path, {"r": {"description": "d", "path": "missing.data"}})
    results = lock_study(study, root=tmp_path, cache_dir=tmp_path / "cache")
    assert results["r"]["status"] == "unavailable"
    assert not lock_path(study).exists()


def test_lock_unknown_artifact_name(tmp_path):
    study = make_study(tmp_path, {"r": {"description": "d", "path": "x"}})
    with pytest.raises(ReplikitError, match=r"unknown artifact\(s\) \['nope'\]"):
        lock_study(study, ["nope"], root=tmp_path)


def test_corrupt_lock_file_is_reported(tmp_path):
    study = make_study(tmp_path, {"r": {"description": "d", "path": "x"}})
    lock_path(study).write_text("artifacts: [1, 2]\n")
    with pytest.raises(ReplikitError, match=r"artifacts\.lock: is not a replikit lock file"):
        read_lock(study)


def test_cli_lock_one_artifact(tmp_path, capsys):
    study = make_study(tmp_path, {"a": {"description": "d", "path": "a.data"},
                                  "b": {"description": "d", "path": "b.data"}})
    (study.dir / "a.data").write_bytes(RATINGS)
    code = main(["--root", str(tmp_path), "lock", "demo", "--artifact", "a",
                 "--cache-dir", str(tmp_path / "cache")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("a ") and "a.data" in out and "lock file:" in out
    assert read_lock(study)["artifacts"] == {"a": {"sha256": sha256(RATINGS)}}
