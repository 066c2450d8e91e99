"""The whole workflow on a tiny study: fetch over HTTP, run, ledger, report — and re-runs.

The study's data are served from 127.0.0.1; a second artifact points at a port nobody
listens on, so its claim must come out "not run" with the reason while the rest of the
workflow goes on. Then: nothing changed -> nothing to be done (the unavailable artifact's
server is asked, and is still down); a claim's tolerance changed -> only the ledger and the
report are rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # several Snakemake invocations: about a minute

REPO = Path(__file__).resolve().parent.parent
LINKED = ("Snakefile", "workflow", "envs")

RUNNER = '''\
"""Predict every rating by the training mean; report the test RMSE over k folds."""
import numpy as np


def global_mean(ctx):
    ratings = np.loadtxt(ctx.artifact(ctx.params["data"]))
    order = np.random.default_rng(ctx.seed).permutation(len(ratings))
    folds = np.array_split(order, ctx.params["folds"])
    rows = []
    for i, test in enumerate(folds):
        train = np.setdiff1d(order, test)
        error = ratings[test] - ratings[train].mean()
        rows.append({"fold": i, "rmse": float(np.sqrt(np.mean(error ** 2)))})
    return {"metrics": {"rmse": float(np.mean([r["rmse"] for r in rows]))}, "folds": rows}
'''

STUDY = """\
schema_version: 1
name: tiny
summary: A tiny study for the end-to-end test.
paper: {{title: A tiny paper, authors: [Ada Example], venue: Nowhere 2024, year: 2024}}
hardware: {{declared: {{cpu: an imaginary processor}}}}
artifacts:
  ratings:
    description: ratings served by the test
    url: http://127.0.0.1:{port}/ratings.txt
    sha256: {sha}
  lost:
    description: data whose server is gone
    url: http://127.0.0.1:{dead}/lost.txt
    sha256: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
experiments:
  mean:
    description: the global mean predictor
    implementation: reimplementation
    runner: "runner.py:global_mean"
    params: {{folds: 3, data: ratings}}
    needs: [ratings]
    seeds: [0, 1, 2]
  mean-lost:
    description: the same on the lost data
    implementation: reimplementation
    runner: "runner.py:global_mean"
    params: {{folds: 3, data: lost}}
    needs: [lost]
    seeds: [0]
claims:
  - id: rmse
    text: the global mean has RMSE {reported}
    source: Table 1
    metric: rmse
    reported: {reported}
    decimals: 2
    higher_is_better: false
    tolerance: {{absolute: {tolerance}}}
    levels: {{re-implement: mean, generalize: mean-lost}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    values = np.random.default_rng(7).integers(1, 6, size=300)
    (root / "ratings.txt").write_text("\n".join(map(str, values)) + "\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    sha = hashlib.sha256((root / "ratings.txt").read_bytes()).hexdigest()
    yield httpd.server_address[1], sha, free_port()
    httpd.shutdown()


def write_study(root: Path, port: int, sha: str, dead: int, tolerance: float) -> None:
    folder = root / "studies" / "tiny"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "runner.py").write_text(RUNNER)
    (folder / "study.yaml").write_text(STUDY.format(
        port=port, dead=dead, sha=sha, reported=1.2, tolerance=tolerance))


def snakemake(root: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "REPLIKIT_CACHE": str(root / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory, server):
    root = tmp_path_factory.mktemp("project")
    for name in LINKED:
        (root / name).symlink_to(REPO / name)
    write_study(root, *server, tolerance=0.5)
    # The short form `study=tiny`, as users type it.
    log = snakemake(root, "study=tiny", "formats=[html,pdf]", "mlrc=false")
    return root, log


def test_the_whole_workflow_produces_the_report(project):
    root, _ = project
    for name in ("report.html", "report.pdf", "report.qmd", "_quarto.yml"):
        assert (root / "reports" / "tiny" / name).stat().st_size > 0
    assert (root / "reports" / "tiny" / "report.pdf").read_bytes().startswith(b"%PDF")
    html = (root / "reports" / "tiny" / "report.html").read_text()
    assert "rmse" in html and "data:image/png;base64" in html


def test_unreachable_artifact_marks_its_level_not_run(project):
    root, _ = project
    ledger = pd.read_csv(root / "results" / "tiny" / "claims.csv").set_index("level")
    assert ledger.loc["generalize", "verdict"] == "not run"
    assert "cannot reach 127.0.0.1" in ledger.loc["generalize", "reason"]
    assert ledger.loc["re-implement", "verdict"] != "not run"
    assert ledger.loc["re-implement", "n"] == 3


def test_fetched_artifact_is_verified_and_recorded(project, server):
    root, _ = project
    record = pd.read_json(root / "results" / "tiny" / "artifacts" / "ratings.json", typ="series")
    assert record["status"] == "ok"
    assert record["sha256"] == server[1]


def planned_jobs(out: str) -> dict[str, int]:
    """Snakemake's job-count table of a dry run: rule -> count."""
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
            if line[:1].isalpha() and len(line.split()) == 2 and line.split()[1].isdigit()}


def test_nothing_changed_means_nothing_to_be_done(project):
    root, _ = project
    out = snakemake(root, "-n", "--config", "study=tiny", "formats=[html,pdf]", "mlrc=false",
                    "strict=false")
    # The lost artifact's server is asked whether it is back (it is not): nothing is fetched.
    assert "Nothing to be done" in out, out[-3000:]


def test_a_new_tolerance_rebuilds_only_ledger_and_report(project, server):
    root, _ = project
    write_study(root, *server, tolerance=0.01)
    out = snakemake(root, "-n", "study=tiny", "formats=[html,pdf]", "mlrc=false")
    planned = planned_jobs(out)
    assert "build_ledger" in planned and "write_report_source" in planned
    assert "capture_environment" not in planned
    assert "fetch_artifact" not in planned and "run_experiment" not in planned


SECOND_RUNNER_EXPERIMENT = """\
  mean-b:
    description: the same predictor from a second runner file
    implementation: reimplementation
    runner: "runner_b.py:global_mean"
    params: {folds: 3, data: ratings}
    needs: [ratings]
    seeds: [0, 1]
"""


def test_editing_one_runner_plans_again_only_the_runs_that_use_it(project, server):
    root, _ = project
    write_study(root, *server, tolerance=0.5)
    folder = root / "studies" / "tiny"
    (folder / "runner_b.py").write_text(RUNNER)
    manifest = (folder / "study.yaml").read_text()
    (folder / "study.yaml").write_text(manifest.replace("claims:\n",
                                                        SECOND_RUNNER_EXPERIMENT + "claims:\n"))
    snakemake(root, "study=tiny", "formats=[html]", "mlrc=false")
    (folder / "runner_b.py").write_text(RUNNER + "\n# an edit: only mean-b depends on this\n")
    out = snakemake(root, "-n", "study=tiny", "formats=[html]", "mlrc=false")
    planned_runs = sorted(line.split("output: ")[1] for line in out.splitlines()
                          if "output: results/tiny/runs/" in line)
    assert planned_runs == ["results/tiny/runs/mean-b/seed=0/metrics.json",
                            "results/tiny/runs/mean-b/seed=1/metrics.json"]


def test_no_output_names_a_folder_of_the_machine(project):
    root, _ = project
    machine = [str(root.resolve()), str(Path.home()), tempfile.gettempdir() + "/"]
    offenders = [f"{path.relative_to(root)}: {folder}"
                 for path in (root / "reports").rglob("*") if path.is_file()
                 for folder in machine
                 if folder in path.read_text(encoding="utf-8", errors="replace")]
    assert offenders == []
