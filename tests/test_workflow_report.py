"""``snakemake --report`` on a fixture study: the figures, tables and reports with provenance.

A sandbox links the repository's Snakefile, workflow, templates and package, holds the
fixture study's manifest and the results the upstream stages would leave (so only the report
jobs run), plus one Snakemake benchmark file. The workflow then writes and renders the
report, and ``snakemake --report report.zip`` must list every figure, cost and badge table
and the rendered report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _report_helpers import build_results, study_dict

from replikit.evaluate.claims_table import COLUMNS, read_ledger

pytestmark = pytest.mark.slow  # three Snakemake invocations and a render: about 40 s

REPO = Path(__file__).resolve().parent.parent
LINKED = ("Snakefile", "workflow", "envs", "replikit", "pyproject.toml")
BENCHMARK = ("s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\t"
             "cpu_time\n12.5\t0:00:12\t512.0\t900\t400\t450\t1.0\t2.0\t95.0\t11.0\n")


def _ledger_in_full(path: Path) -> None:
    """The report fixture's ledger, with the ledger module's further columns left empty."""
    frame = pd.read_csv(path, dtype={"seeds": str, "claim_id": str})
    for column in COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    frame["higher_is_better"] = False
    frame.to_csv(path, index=False)
    read_ledger(path)


def _sandbox(root: Path, manifest: dict | None = None, contacts: str | None = None) -> Path:
    """The sandbox; ``manifest`` replaces the fixture study's, ``contacts`` adds a log."""
    for name in LINKED:
        (root / name).symlink_to(REPO / name)
    os.chdir(root)
    build_results(Path("."), 2)
    study = Path("studies", "fakestudy")
    study.mkdir(parents=True)
    (study / "study.yaml").write_text(yaml.safe_dump(manifest or study_dict(2), sort_keys=False))
    if contacts is not None:
        (study / "contacts.yaml").write_text(contacts, encoding="utf-8")
    for runner in ("original.py", "ours.py"):
        (study / runner).write_text("def run(ctx):\n    return {'metrics': {}}\n")
    bench = Path("benchmarks/fakestudy/runs/rerun-svd/seed=0.tsv")
    bench.parent.mkdir(parents=True)
    bench.write_text(BENCHMARK)
    _ledger_in_full(Path("results/fakestudy/claims.csv"))
    # Upstream outputs newer than their inputs, in stage order, so only the report runs.
    for stage in ("results/fakestudy/artifacts", "results/fakestudy/env.json",
                  "results/fakestudy/runs", "benchmarks", "results/fakestudy/claims.csv",
                  "results/fakestudy/samples.csv"):
        time.sleep(0.05)
        paths = [Path(stage)] if Path(stage).is_file() else Path(stage).rglob("*")
        for path in paths:
            if path.is_file():
                os.utime(path)
    return root


def _snakemake(root: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--config",
                           "study=fakestudy", "mlrc=false", "--rerun-triggers", "mtime", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def report_zip(tmp_path_factory):
    here = Path.cwd()
    try:
        root = _sandbox(tmp_path_factory.mktemp("workflow"))
    finally:
        os.chdir(here)
    plan = _snakemake(root, "-n")
    stats = plan.split("Job stats:")[1].split("total")[0]
    jobs = {line.split()[0] for line in stats.splitlines()[3:] if line.strip()}
    assert jobs == {"write_report_source", "render_report", "render_claims_detail", "all"}, (
        plan[-2000:])
    _snakemake(root)
    _snakemake(root, "--report", "report.zip")
    return root, zipfile.ZipFile(root / "report.zip")


def test_report_lists_figures_tables_and_rendered_reports(report_zip):
    _, archive = report_zip
    names = {Path(n).name for n in archive.namelist()}
    for name in ("matrix-1.png", "drift-1.png", "seed-variance-1.png", "cost_claims.csv",
                 "cost_total.csv", "code_completeness.csv", "acm_badges.csv", "ledger.csv",
                 "report.html", "report.pdf", "claims-detail.html"):
        assert name in names, sorted(names)


def test_report_cost_uses_the_benchmark(report_zip):
    root, _ = report_zip
    runs = pd.read_csv(root / "reports/fakestudy/tables/cost_runs.csv")
    row = runs[(runs["experiment"] == "rerun-svd") & (runs["seed"] == 0)].iloc[0]
    # The fixture's record says 10.8 s wall and 10.5 s CPU: the benchmark's larger values win.
    assert (row["source"], row["wall_s"], row["cpu_s"]) == ("benchmark and record", 12.5, 11.0)
    assert (runs["source"] == "run record").sum() == len(runs) - 1
