"""One package, two artifacts: its sdist to read and audit, its wheel to install.

``twouse`` 1.0 is served as both an sdist and a wheel by a package index on 127.0.0.1. The
sdist artifact is fetched first (as ``replikit new --from`` does), so it sits in the cache;
the installable artifact must still get the wheel. When a lock does point the installable
artifact at the sdist, the error's fix line, followed to the letter, makes it work.
"""

from __future__ import annotations

import re

import pytest
import yaml

from replikit.cli import main
from replikit.errors import ReplikitError
from replikit.fetch.artifacts import fetch_artifact, lock_study
from replikit.fetch.lock import lock_path, read_lock, record
from tests._fetch_helpers import (  # noqa: F401 - pytest fixture
    build_sdist,
    build_wheel,
    make_study,
    publish_index,
    server,
    use_index,
)

MODULE = {"twouse/__init__.py": b"ANSWER = 42\n"}


@pytest.fixture
def study(tmp_path, server, monkeypatch):  # noqa: F811
    sdist = build_sdist(tmp_path / "dist", "twouse", "1.0", MODULE)
    wheel = build_wheel(tmp_path / "dist", "twouse", "1.0", MODULE)
    use_index(monkeypatch, publish_index(server, [sdist, wheel], "twouse"))
    monkeypatch.setenv("REPLIKIT_CACHE", str(tmp_path / "cache"))
    return make_study(tmp_path, {
        "code": {"description": "its sdist, to read", "role": "code", "pypi": "twouse==1.0",
                 "sdist": True},
        "package": {"description": "its wheel, to run", "role": "code", "pypi": "twouse==1.0",
                    "install": True},
    })


def fetch_sdist(study, root, monkeypatch):
    """Fetch the sdist artifact; pip prepares its metadata with this environment's tools."""
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # pip reads "0" as the flag given
    fetch_artifact(study, "code", root / "resources/code", strict=True)
    monkeypatch.delenv("PIP_NO_BUILD_ISOLATION")  # from here on, a build needs the index


def test_the_sdist_in_the_cache_does_not_stand_in_for_the_wheel(study, tmp_path, monkeypatch):
    fetch_sdist(study, tmp_path, monkeypatch)
    assert (tmp_path / "cache/pypi/twouse-1.0.tar.gz").is_file()
    records = lock_study(study, root=tmp_path)
    assert records["package"]["status"] == "ok"
    assert records["package"]["distribution"]["file"] == "twouse-1.0-py3-none-any.whl"
    assert (tmp_path / "resources/demo/package/site/twouse/__init__.py").is_file()
    locked = read_lock(study)["artifacts"]
    assert list(locked["package"]["distributions"]) == ["twouse-1.0-py3-none-any.whl"]


def test_a_lock_naming_the_sdist_gets_a_fix_that_works(study, tmp_path, monkeypatch):
    fetch_sdist(study, tmp_path, monkeypatch)
    sdist_sha = read_lock(study)["artifacts"]["code"]["distributions"]["twouse-1.0.tar.gz"]
    # The state a study reached before: the installable artifact locked to the sdist.
    record(study, "package", {"distributions": {"twouse-1.0.tar.gz": sdist_sha},
                              "resolved_for": "twouse==1.0", "dependencies": {}})
    with pytest.raises(ReplikitError) as caught:
        fetch_artifact(study, "package", tmp_path / "resources/package", strict=True)
    error = caught.value
    assert error.where == str(lock_path(study))
    assert "twouse-1.0.tar.gz" in error.fix and "replikit lock demo" in error.fix

    # Do what the fix says: delete that line from the named file, run `replikit lock`.
    path = lock_path(study)
    text = path.read_text()
    line = re.search(r"\n +twouse-1\.0\.tar\.gz: \w+", text.split("  package:")[1]).group(0)
    head, tail = text.split("  package:")
    path.write_text(head + "  package:" + tail.replace(line, "", 1))
    entry = yaml.safe_load(path.read_text())["artifacts"]["package"]
    assert "twouse-1.0.tar.gz" not in (entry["distributions"] or {})
    assert main(["--root", str(tmp_path), "lock", "demo"]) == 0
    done = fetch_artifact(study, "package", tmp_path / "resources/package", strict=True)
    assert done["distribution"]["file"] == "twouse-1.0-py3-none-any.whl"
