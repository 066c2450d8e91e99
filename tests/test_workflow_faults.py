"""The workflow under faults: nothing lost, checked first, one clean block, retries.

A tiny study runs end to end once (its data served from 127.0.0.1; a second artifact from
a server that answers 404 until the test lets it serve), then each test breaks something
and runs Snakemake again: a typo in the contact log, a damaged run record, a runner that
raises or returns NaN, the missing artifact coming back, an alias bomb in the manifest.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # about ten Snakemake invocations

REPO = Path(__file__).resolve().parent.parent
RATINGS = b"".join(b"%d\n" % (1 + i % 5) for i in range(200))
LATER = RATINGS + b"5\n"  # other bytes: the cache (by sha256) must not hold it already
RUNNER = """\
import numpy as np


def mean(ctx):
    values = np.loadtxt(ctx.artifact(ctx.params["data"]))
    rng = np.random.default_rng(ctx.seed)
    return {"metrics": {"rmse": float(np.std(values) + rng.random() * 0.01)}}
"""
STUDY = """\
schema_version: 1
name: tiny
summary: A tiny study.
paper: {{title: A tiny paper, authors: [Ada Example], venue: Nowhere 2024, year: 2024}}
hardware: {{declared: {{cpu: an imaginary processor}}}}
artifacts:
  ratings: {{description: d, url: "http://127.0.0.1:{port}/ratings.txt", sha256: {sha}}}
  later: {{description: d, url: "http://127.0.0.1:{port}/later.txt", sha256: {later}}}
experiments:
  mean:
    {{description: d, implementation: reimplementation, runner: "runner.py:mean",
     params: {{data: ratings}}, needs: [ratings], seeds: [0, 1]}}
  mean-later:
    {{description: d, implementation: reimplementation, runner: "runner.py:mean",
     params: {{data: later}}, needs: [later], seeds: [0]}}
claims:
  - {{id: rmse, text: t, source: s, metric: rmse, reported: 1.4, decimals: 2,
     tolerance: {{absolute: 0.5}}, levels: {{re-implement: mean, generalize: mean-later}}}}
"""
CONTACTS = """\
schema_version: 1
study: tiny
authors:
- name: Ada Example
messages:
- id: m1
  date: 2026-01-05
  direction: sent
  authors: [Ada Example]
  subject: hello
  summary: a question
"""


class Server(http.server.BaseHTTPRequestHandler):
    later_available = False

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path == "/later.txt" and not Server.later_available:
            self.send_error(404)
            return
        body = LATER if self.path == "/later.txt" else RATINGS
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def snakemake(root: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "REPLIKIT_CACHE": str(root / "cache"),
           # No SLURM controller answers here; the plugin (if installed) would wait ~10 s.
           "PATH": f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "study=tiny",
                           "formats=[html]", "mlrc=false", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    if ok:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    else:
        assert done.returncode != 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Server)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    for name in ("Snakefile", "workflow", "envs"):
        (root / name).symlink_to(REPO / name)
    (root / "bin").mkdir()
    (root / "bin" / "scontrol").write_text("#!/bin/sh\nexit 1\n")
    (root / "bin" / "scontrol").chmod(0o755)
    folder = root / "studies" / "tiny"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY.format(
        port=httpd.server_address[1], sha=hashlib.sha256(RATINGS).hexdigest(),
        later=hashlib.sha256(LATER).hexdigest()))
    (folder / "runner.py").write_text(RUNNER)
    (folder / "contacts.yaml").write_text(CONTACTS)
    snakemake(root)
    yield root
    httpd.shutdown()


def report_files(root: Path) -> dict[str, float]:
    out = root / "reports" / "tiny"
    files = [out / "report.qmd", *(out / "figures").iterdir(), *(out / "tables").iterdir()]
    return {str(f): f.stat().st_mtime for f in files}


def test_a_contacts_typo_stops_before_any_job_and_keeps_the_report(project):
    contacts = project / "studies" / "tiny" / "contacts.yaml"
    before = report_files(project)
    contacts.write_text(CONTACTS.replace("2026-01-05", "2026-13-05"))
    try:
        done = snakemake(project, ok=False)
    finally:
        contacts.write_text(CONTACTS)
    assert "contacts.yaml" in done.stderr and "messages[0].date (line 7)" in done.stderr
    assert report_files(project) == before  # nothing deleted, nothing rewritten


def test_an_unreadable_run_record_is_made_again(project):
    record = project / "results" / "tiny" / "runs" / "mean" / "seed=0" / "metrics.json"
    record.write_text('{"status": "ok", "metr')
    plan = snakemake(project, "-n").stdout
    assert "run_experiment" in plan and "build_ledger" in plan
    snakemake(project)
    assert (project / "results" / "tiny" / "claims.csv").exists()
    assert '"metrics"' in record.read_text()


def test_a_raising_runner_keeps_the_last_good_record_and_prints_one_block(project):
    runner = project / "studies" / "tiny" / "runner.py"
    record = project / "results" / "tiny" / "runs" / "mean" / "seed=1" / "metrics.json"
    good = record.read_text()
    runner.write_text(RUNNER.replace("    values =", "    if ctx.seed == 1:\n"
                                     "        raise KeyError('boom')\n    values ="))
    try:
        done = snakemake(project, ok=False)
    finally:
        runner.write_text(RUNNER)
    kept = record.parent / ".last-good" / "metrics.json"
    assert kept.read_text() == good
    assert "replikit: run_experiment (study tiny, experiment mean, seed 1) failed" in done.stderr
    assert "unexpected KeyError: 'boom'" in done.stderr
    assert "the traceback is in logs/tiny/runs/mean/seed=1.log" in done.stderr
    assert str(kept.relative_to(project)) in done.stderr
    assert "Traceback (most recent call last)" not in done.stderr
    assert "Traceback" in (project / "logs/tiny/runs/mean/seed=1.log").read_text()


def test_a_known_error_names_runner_experiment_seed_without_traceback(project):
    runner = project / "studies" / "tiny" / "runner.py"
    runner.write_text(RUNNER.replace('float(np.std(values)', 'float("nan") + float(np.std(values)'))
    try:
        done = snakemake(project, ok=False)
    finally:
        runner.write_text(RUNNER)
    assert "runner runner.py:mean (experiment mean, seed" in done.stderr
    assert "'metrics.rmse' is nan" in done.stderr
    assert "Traceback (most recent call last)" not in done.stderr
    snakemake(project)  # the restored runner: everything back


def test_an_unavailable_artifact_is_retried_and_its_claims_run(project):
    ledger = project / "results" / "tiny" / "claims.csv"
    row = pd.read_csv(ledger).set_index("level").loc["generalize"]
    assert row["verdict"] == "not run" and "404" in row["reason"]
    Server.later_available = True
    plan = snakemake(project, "-n").stdout
    assert "fetch_artifact" in plan and "run_experiment" in plan
    snakemake(project)
    row = pd.read_csv(ledger).set_index("level").loc["generalize"]
    assert row["verdict"] != "not run"
    assert "Nothing to be done" in snakemake(project, "-n").stdout


def test_an_alias_bomb_is_refused_by_a_dry_run_fast_and_small(project, tmp_path):
    from test_bad_input import BOMB

    manifest = project / "studies" / "tiny" / "study.yaml"
    good = manifest.read_text()
    manifest.write_text(good + "report:\n  title: x\n" + BOMB.replace("a: &a", "z: &a"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    try:
        done = snakemake(project, "-n", ok=False)
    finally:
        manifest.write_text(good)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert "aliases that expand to more than" in done.stdout + done.stderr
    assert elapsed < 5, elapsed
    assert peak_mb < 300 or before / 1024 >= 300, peak_mb
