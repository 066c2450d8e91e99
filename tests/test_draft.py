"""``replikit new <study> --from``: from a paper's code on a package index to a rendered report.

The fixture paper is a small source distribution (a README with a results table) served by a
package index on 127.0.0.1; the draft locks it, reads its claims, audits it, validates, and
the workflow renders its report with every claim "not run: no experiment yet".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from replikit.cli import main
from replikit.fileio import read_json
from replikit.study import load_study
from tests._fetch_helpers import publish_index, server, use_index  # noqa: F401 - a fixture
from tests.test_extract_sources import build_sdist

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # pip builds the sdist's metadata, then a workflow run


def test_a_draft_from_the_package_index_validates_and_renders(tmp_path, server,  # noqa: F811
                                                              monkeypatch):
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Snakefile", "workflow", "envs"):
        (root / name).symlink_to(REPO / name)
    use_index(monkeypatch, publish_index(server, build_sdist(tmp_path / "dist"), "tinypaper"))
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # this environment's setuptools
    monkeypatch.setenv("REPLIKIT_CACHE", str(tmp_path / "cache"))
    assert main(["--root", str(root), "new", "draft", "--from", "tinypaper==1.0",
                 "--claims", "tinypaper-1.0/README.md", "--title", "A tiny paper",
                 "--authors", "Ada Example", "--venue", "Nowhere 2026", "--year", "2026"]) == 0
    study = load_study("draft", root)
    assert [c.id for c in study.claims] == ["ml-100k-rmse", "ml-100k-time"]
    assert study.artifacts["original-code"].sha256 is not None  # locked
    assert read_json(root / "results/draft/audit.json")["status"] == "ok"
    html = render(root)
    assert "no experiment yet" in html
    assert "Audit of the original code" in html

    # The user writes one runner and names it at one claim's level: that claim is judged.
    (root / "studies/draft/ours.py").write_text(RUNNER)
    manifest = yaml.safe_load((root / "studies/draft/study.yaml").read_text())
    manifest["experiments"] = {"ours": EXPERIMENT}
    manifest["claims"][0]["levels"] = {"re-implement": "ours"}
    (root / "studies/draft/study.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    render(root)
    ledger = pd.read_csv(root / "results/draft/claims.csv").set_index("claim_id")
    assert ledger.loc["ml-100k-rmse", "verdict"] == "reproduced"
    assert ledger.loc["ml-100k-time", "verdict"] == "not run"


RUNNER = """def run(ctx):
    return {"metrics": {"rmse": 0.934}}
"""
EXPERIMENT = {"description": "our re-implementation", "implementation": "reimplementation",
              "runner": "ours.py:run", "seeds": [0]}


def render(root: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "study=draft", "formats=[html]",
         "mlrc=false"], cwd=root, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-3000:]
    return (root / "reports/draft/report.html").read_text(encoding="utf-8")
