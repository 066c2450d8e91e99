"""Tests of replikit.fetch.probe: whether an artifact recorded unavailable can be had now.

The sources are real: an HTTP server, a git repository and a package index on 127.0.0.1, a
port nobody listens on, a server that never answers.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from replikit.fetch.artifacts import FETCHERS
from replikit.fetch.cache import Cache
from replikit.fetch.probe import PROBES, available_again
from tests._fetch_helpers import (
    RATINGS,
    build_wheel,
    dead_port,
    make_repo,
    make_study,
    publish_index,
    server,  # noqa: F401 - a fixture
    sha256,
    use_index,
)


def url_artifact(url: str, **extra) -> dict:
    return {"description": "d", "url": url, "sha256": sha256(RATINGS), **extra}


def test_every_network_source_kind_has_a_probe():
    assert set(PROBES) == set(FETCHERS) - {"path"}


def test_a_served_url_is_available_and_a_dead_or_missing_one_is_not(tmp_path, server):  # noqa: F811 - the fixture
    server.put("ratings.txt", RATINGS)
    study = make_study(tmp_path, {
        "served": url_artifact(server.url("ratings.txt")),
        "missing": url_artifact(server.url("gone.txt")),
        "dead": url_artifact(f"http://127.0.0.1:{dead_port()}/ratings.txt"),
    })
    found = available_again(study, ["dead", "missing", "served"], cache_dir=tmp_path / "c")
    assert found == ["served"]


def test_offline_asks_no_source(tmp_path, server):  # noqa: F811 - the fixture
    server.put("ratings.txt", RATINGS)
    study = make_study(tmp_path, {"served": url_artifact(server.url("ratings.txt"))})
    assert available_again(study, ["served"], offline=True, cache_dir=tmp_path / "c") == []
    assert server.requests == []


def test_bytes_in_the_cache_or_a_local_file_count_offline(tmp_path):
    cache = Cache.at(tmp_path / "cache")
    blob = cache.blob(sha256(RATINGS))
    blob.parent.mkdir(parents=True)
    blob.write_bytes(RATINGS)
    local = tmp_path / "ratings.txt"
    study = make_study(tmp_path, {
        "cached": url_artifact(f"http://127.0.0.1:{dead_port()}/a.txt"),
        "local": {"description": "d", "path": str(local), "sha256": sha256(b"other")},
    })
    assert available_again(study, ["local", "cached"], offline=True,
                           cache_dir=cache.root) == ["cached"]
    local.write_bytes(b"other")
    assert available_again(study, ["local", "cached"], offline=True,
                           cache_dir=cache.root) == ["local", "cached"]


def test_an_optional_artifact_without_a_hash_is_never_fetched_again(tmp_path, server):  # noqa: F811 - the fixture
    server.put("ratings.txt", RATINGS)
    study = make_study(tmp_path, {"extra": {"description": "d", "optional": True,
                                            "url": server.url("ratings.txt")}})
    # A fetch would say "unavailable" again until `replikit lock` records the hash.
    assert available_again(study, ["extra"], cache_dir=tmp_path / "c") == []


def test_a_git_repository_answers_when_it_exists(tmp_path):
    commit = make_repo(tmp_path / "repo")[-1]
    study = make_study(tmp_path, {
        "code": {"description": "d", "role": "code", "git": str(tmp_path / "repo"),
                 "commit": commit},
        "gone": {"description": "d", "role": "code", "git": str(tmp_path / "nowhere"),
                 "commit": commit},
    })
    assert available_again(study, ["gone", "code"], cache_dir=tmp_path / "c") == ["code"]


def test_the_package_index_must_list_the_pinned_version(tmp_path, server, monkeypatch):  # noqa: F811 - the fixture
    wheel = build_wheel(tmp_path / "wheels", "tinycode", "1.0", {"tinycode/__init__.py": b""})
    use_index(monkeypatch, publish_index(server, wheel, "tinycode"))
    study = make_study(tmp_path, {
        "pinned": {"description": "d", "role": "code", "pypi": "tinycode==1.0"},
        "other": {"description": "d", "role": "code", "pypi": "tinycode==2.0"},
    })
    assert available_again(study, ["other", "pinned"], cache_dir=tmp_path / "c") == ["pinned"]


@pytest.fixture
def slow_server() -> Iterator[tuple[str, dict[str, int]]]:
    """A server that holds each request 0.3 s and counts how many it holds at once."""
    seen = {"now": 0, "most": 0}
    lock = threading.Lock()

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802 (http.server's name)
            with lock:
                seen["now"] += 1
                seen["most"] = max(seen["most"], seen["now"])
            time.sleep(0.3)
            with lock:
                seen["now"] -= 1
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()
    httpd.server_close()


def test_all_sources_are_asked_at_once(tmp_path, slow_server):
    base, seen = slow_server
    names = [f"a{i}" for i in range(4)]
    study = make_study(tmp_path, {name: url_artifact(f"{base}/{name}.txt") for name in names})
    assert available_again(study, names, cache_dir=tmp_path / "c") == names
    assert seen["most"] == len(names)


def test_a_source_that_never_answers_counts_as_down(tmp_path):
    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        study = make_study(tmp_path, {"mute": url_artifact(
            f"http://127.0.0.1:{silent.getsockname()[1]}/a.txt")})
        assert available_again(study, ["mute"], timeout=0.5, cache_dir=tmp_path / "c") == []


def test_a_path_source_needs_no_probe(tmp_path):
    study = make_study(tmp_path, {"local": {"description": "d", "path": "missing.txt",
                                            "sha256": sha256(b"x")}})
    assert available_again(study, ["local"], cache_dir=tmp_path / "c") == []
    Path(study.dir / "missing.txt").write_bytes(b"x")
    assert available_again(study, ["local"], cache_dir=tmp_path / "c") == ["local"]
