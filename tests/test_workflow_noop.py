"""A re-run with nothing changed does nothing; a source that is back rebuilds what needs it.

A tiny study runs once with one artifact served from 127.0.0.1 and another whose server is
down (nothing listens on its port), so that artifact is recorded unavailable. Then, in
order: nothing changed -> "Nothing to be done", offline and online (the down source is
probed, not fetched); a claim's tolerance changed -> only the ledger and what follows from
it are planned; the server comes up on that port -> one run fetches the artifact, runs what
needs it and rebuilds the ledger and the report, after which nothing is to be done again.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from tests._fetch_helpers import dead_port

pytestmark = pytest.mark.slow  # four Snakemake runs and six dry runs: about two minutes

REPO = Path(__file__).resolve().parent.parent
RATINGS = b"".join(b"%d\n" % (1 + i % 5) for i in range(200))
LATE = RATINGS + b"4\n"
RUNNER = """\
import numpy as np


def mean(ctx):
    values = np.loadtxt(ctx.artifact(ctx.params["data"]))
    return {"metrics": {"rmse": float(np.std(values)) + ctx.seed * 0.001}}
"""
STUDY = """\
schema_version: 1
name: tiny
summary: A tiny study.
paper: {{title: A tiny paper, authors: [Ada Example], venue: Nowhere 2024, year: 2024}}
hardware: {{declared: {{cpu: an imaginary processor}}}}
artifacts:
  ratings: {{description: d, url: "{served}/ratings.txt", sha256: {ratings}}}
  late: {{description: d, url: "http://127.0.0.1:{late_port}/late.txt", sha256: {late}}}
experiments:
  mean:
    {{description: d, implementation: reimplementation, runner: "runner.py:mean",
     params: {{data: ratings}}, needs: [ratings], seeds: [0, 1]}}
  mean-late:
    {{description: d, implementation: reimplementation, runner: "runner.py:mean",
     params: {{data: late}}, needs: [late], seeds: [0, 1]}}
claims:
  - {{id: rmse, text: t, source: s, metric: rmse, reported: 1.4, decimals: 2,
     tolerance: {{absolute: {tolerance}}}, levels: {{re-implement: mean, generalize: mean-late}}}}
"""


def serve(folder: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def snakemake(root: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "REPLIKIT_CACHE": str(root / "cache")}
    done = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args,
                           "study=tiny", "formats=[html]", "mlrc=false"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def planned(out: str) -> dict[str, int]:
    """Snakemake's job-count table: rule -> count (empty when nothing is to be done)."""
    table = out.partition("Job stats:")[2].partition("\n\n")[0]
    rows = [line.split() for line in table.splitlines()]
    return {row[0]: int(row[1]) for row in rows
            if len(row) == 2 and row[1].isdigit() and row[0] != "total"}


def write_study(root: Path, served: str, late_port: int, tolerance: float) -> None:
    (root / "studies" / "tiny" / "study.yaml").write_text(STUDY.format(
        served=served, late_port=late_port, tolerance=tolerance,
        ratings=hashlib.sha256(RATINGS).hexdigest(), late=hashlib.sha256(LATE).hexdigest()))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("noop")
    www = root / "www"
    www.mkdir()
    (www / "ratings.txt").write_bytes(RATINGS)
    httpd = serve(www)
    for name in ("Snakefile", "workflow", "envs"):
        (root / name).symlink_to(REPO / name)
    (root / "studies" / "tiny").mkdir(parents=True)
    (root / "studies" / "tiny" / "runner.py").write_text(RUNNER)
    late_port = dead_port()
    served = f"http://127.0.0.1:{httpd.server_address[1]}"
    write_study(root, served, late_port, tolerance=0.5)
    snakemake(root)
    yield root, served, late_port
    httpd.shutdown()
    httpd.server_close()


def test_the_down_source_is_recorded_unavailable(project):
    root, _, _ = project
    ledger = pd.read_csv(root / "results" / "tiny" / "claims.csv").set_index("level")
    assert ledger.loc["generalize", "verdict"] == "not run"
    assert "connection refused" in ledger.loc["generalize", "reason"]


def test_nothing_changed_offline_means_nothing_to_be_done(project):
    root, _, _ = project
    out = snakemake(root, "-n", "offline=true")
    assert "Nothing to be done" in out, out[-3000:]


def test_nothing_changed_online_probes_the_down_source_and_does_nothing(project):
    root, _, _ = project
    out = snakemake(root, "-n")
    assert "Nothing to be done" in out, out[-3000:]


def test_a_real_rerun_with_nothing_changed_runs_no_job(project):
    root, _, _ = project
    results = sorted((root / "results" / "tiny").rglob("*.json"))
    before = {path: path.stat().st_mtime_ns for path in results}
    out = snakemake(root)
    assert "Nothing to be done" in out, out[-3000:]
    assert {path: path.stat().st_mtime_ns for path in results} == before


def test_a_new_tolerance_plans_only_the_ledger_and_what_follows(project):
    root, served, late_port = project
    manifest = root / "studies" / "tiny" / "study.yaml"
    kept = manifest.read_text(), manifest.stat()
    write_study(root, served, late_port, tolerance=0.01)
    try:
        out = snakemake(root, "-n")
    finally:  # the same bytes and time: nothing changed for the tests that follow
        manifest.write_text(kept[0])
        os.utime(manifest, ns=(kept[1].st_atime_ns, kept[1].st_mtime_ns))
    assert planned(out) == {"build_ledger": 1, "write_report_source": 1, "render_report": 1,
                            "render_claims_detail": 1, "all": 1}


def test_a_source_back_up_is_fetched_and_what_needs_it_rebuilt_in_one_run(project):
    root, _, late_port = project
    www = root / "www-late"
    www.mkdir()
    (www / "late.txt").write_bytes(LATE)
    httpd = serve(www, late_port)
    try:
        out = snakemake(root)
        again = snakemake(root, "-n")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert planned(out) == {"fetch_artifact": 1, "run_experiment": 2, "build_ledger": 1,
                            "write_report_source": 1, "render_report": 1,
                            "render_claims_detail": 1, "all": 1}
    ledger = pd.read_csv(root / "results" / "tiny" / "claims.csv").set_index("level")
    assert ledger.loc["generalize", "verdict"] != "not run"
    assert ledger.loc["generalize", "n"] == 2
    assert "Nothing to be done" in again, again[-3000:]
