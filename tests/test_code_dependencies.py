"""A PyPI code artifact with dependencies: locked once, installed exactly, used by a run.

Two tiny wheels are served from a local package index on 127.0.0.1: ``tinycode`` requires
``tinydep``. The study declares only ``tinycode``; `replikit lock` records both with their
sha256, the workflow then runs offline (the index gone) from the cache, the runner imports
``tinycode`` without touching ``sys.path``, and ``tinydep``'s version appears in env.json and
in the report's software table. The same study has an optional artifact nobody serves and
no hash of: its level comes out "not run" and the workflow exits 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from replikit.errors import ReplikitError
from replikit.fetch.artifacts import fetch_artifact, lock_study
from replikit.fetch.lock import read_lock, record
from replikit.study import load_study
from tests._fetch_helpers import (  # noqa: F401 - pytest fixture
    build_wheel,
    dead_port,
    file_sha256,
    publish_index,
    server,
    use_index,
)

pytestmark = pytest.mark.slow  # one Snakemake run: about half a minute

REPO = Path(__file__).resolve().parent.parent

RUNNER = '''\
import tinycode


def run(ctx):
    return {"metrics": {"value": tinycode.value() + ctx.seed * 0.0}}
'''

STUDY = {
    "name": "deps",
    "summary": "A study whose original code has a dependency.",
    "paper": {"title": "T", "authors": ["A"], "venue": "V 2024", "year": 2024},
    "hardware": {"declared": {}},
    "artifacts": {
        "tinycode": {"description": "the original code", "role": "code",
                     "pypi": "tinycode==2.0", "install": True},
        "extra-data": {"description": "nobody serves it", "optional": True,
                       "url": "http://127.0.0.1:{dead}/extra.csv"},
    },
    "experiments": {
        "original": {"description": "d", "implementation": "original",
                     "runner": "runner.py:run", "needs": ["tinycode"], "seeds": [0, 1, 2]},
        "extra": {"description": "d", "implementation": "original", "runner": "runner.py:run",
                  "needs": ["tinycode", "extra-data"], "seeds": [0]},
    },
    "claims": [{"id": "c1", "text": "value is 43", "source": "Table 1", "metric": "value",
                "reported": 43.0, "tolerance": {"absolute": 0.5},
                "levels": {"re-run": "original", "generalize": "extra"}}],
}


@pytest.fixture
def index(server, tmp_path, monkeypatch):  # noqa: F811
    """tinycode 2.0 (requires tinydep==1.0) and tinydep 1.0 on a local index."""
    dep = build_wheel(tmp_path / "dist", "tinydep", "1.0", {"tinydep/__init__.py": b"BASE = 42\n"})
    code = build_wheel(tmp_path / "dist", "tinycode", "2.0", {
        "tinycode/__init__.py": b"import tinydep\n\n\ndef value():\n    return tinydep.BASE + 1\n"},
        requires=("tinydep==1.0",))
    publish_index(server, dep, "tinydep")
    use_index(monkeypatch, publish_index(server, code, "tinycode"))
    return {"tinydep": dep, "tinycode": code}


def write_study(root: Path) -> None:
    folder = root / "studies" / "deps"
    folder.mkdir(parents=True)
    manifest = json.loads(json.dumps(STUDY).replace("{dead}", str(dead_port())))
    (folder / "study.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (folder / "runner.py").write_text(RUNNER)


def test_lock_pins_the_dependency_closure(index, tmp_path):
    write_study(tmp_path)
    study = load_study("deps", tmp_path)
    records = lock_study(study, root=tmp_path, cache_dir=tmp_path / "cache")
    assert records["tinycode"]["status"] == "ok"
    assert records["tinycode"]["packages"] == {"tinycode": "2.0", "tinydep": "1.0"}
    assert records["extra-data"]["status"] == "unavailable"
    entry = read_lock(study)["artifacts"]["tinycode"]
    assert entry["resolved_for"] == "tinycode==2.0"
    assert entry["dependencies"] == {"tinydep": {
        "version": "1.0", "file": index["tinydep"].name,
        "sha256": file_sha256(index["tinydep"])}}
    site = Path(records["tinycode"]["path"])
    assert (site / "tinydep" / "__init__.py").is_file() and (site / "tinycode").is_dir()


def test_a_dependency_not_matching_its_locked_hash_is_refused(index, tmp_path):
    write_study(tmp_path)
    study = load_study("deps", tmp_path)
    record(study, "tinycode", {"resolved_for": "tinycode==2.0", "dependencies": {"tinydep": {
        "version": "1.0", "file": index["tinydep"].name, "sha256": "0" * 64}}})
    result = fetch_artifact(study, "tinycode", tmp_path / "dest", cache_dir=tmp_path / "cache")
    # pip's --require-hashes refuses the download: the artifact is unavailable, not installed.
    assert result["status"] == "unavailable"
    assert "tinydep" in result["reason"]
    assert not (tmp_path / "dest" / "site").exists()


def test_changed_pin_is_resolved_again(index, tmp_path):
    write_study(tmp_path)
    study = load_study("deps", tmp_path)
    record(study, "tinycode", {"resolved_for": "tinycode==1.0", "dependencies": {"gone": {
        "version": "9", "file": "gone-9-py3-none-any.whl", "sha256": "0" * 64}}})
    result = fetch_artifact(study, "tinycode", tmp_path / "dest", cache_dir=tmp_path / "cache")
    assert result["status"] == "ok", result["reason"]
    assert list(read_lock(study)["artifacts"]["tinycode"]["dependencies"]) == ["tinydep"]


def test_strict_fetch_of_an_unhashed_optional_artifact_is_an_error(tmp_path):
    write_study(tmp_path)
    study = load_study("deps", tmp_path)
    with pytest.raises(ReplikitError, match="has no sha256"):
        fetch_artifact(study, "extra-data", tmp_path / "d", strict=True)
    relaxed = fetch_artifact(study, "extra-data", tmp_path / "d")
    assert relaxed["status"] == "unavailable" and "optional" in relaxed["reason"]


def test_the_workflow_runs_offline_from_the_lock(index, tmp_path, monkeypatch):
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Snakefile", "workflow", "envs"):
        (root / name).symlink_to(REPO / name)
    write_study(root)
    cache = root / "cache"
    lock_study(load_study("deps", root), root=root, cache_dir=cache)
    # From here on no index answers: everything must come from the lock and the cache.
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{dead_port()}/simple/")
    env = {**os.environ, "PYTHONPATH": str(REPO), "REPLIKIT_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "study=deps", "formats=[html]",
         "mlrc=false"], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    environment = json.loads((root / "results/deps/env.json").read_text())
    assert environment["artifact_packages"] == {"tinycode": {"tinycode": "2.0", "tinydep": "1.0"}}
    software = pd.read_csv(root / "reports/deps/tables/software.csv")
    assert list(software["package"][:2]) == ["`tinycode`", "`tinydep`"]  # what the runs used
    assert list(software["used (this study)"][:2]) == ["2.0", "1.0"]
    assert "tinydep" in (root / "reports/deps/report.html").read_text()

    claims = pd.read_csv(root / "results/deps/claims.csv").set_index("level")
    assert claims.loc["re-run", "verdict"] == "reproduced"
    assert claims.loc["generalize", "verdict"] == "not run"
    assert "extra-data" in claims.loc["generalize", "reason"]
