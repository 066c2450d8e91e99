"""Timed experiments run alone; untimed ones still share the machine (a real Snakemake run).

A tiny study has two timed experiments (a ratio-of-times claim uses them) and two untimed
ones (a value claim). Snakemake runs their four run jobs with two cores; each record says
when its runner calls began and ended (``timing.started_at``, ``finished_at``), and the test
reads those windows: a timed run's window meets no other run's, while the two untimed runs'
windows overlap.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from replikit.fileio import read_json

pytestmark = pytest.mark.slow  # one Snakemake run of four jobs, about half a minute

REPO = Path(__file__).resolve().parent.parent
RUNNER = """\
import os
import time


def nap(ctx):
    time.sleep(ctx.params["nap"])
    return {"metrics": {"score": 1.0}, "extra": {"omp": os.environ.get("OMP_NUM_THREADS")}}
"""
STUDY = """\
schema_version: 1
name: timed
summary: Two timed experiments and two untimed ones.
paper: {title: A tiny paper, authors: [Ada Example], venue: Nowhere 2024, year: 2024}
hardware: {declared: {cpu: an imaginary processor}}
artifacts: {}
experiments:
  slow: {description: d, implementation: reimplementation, runner: "runner.py:nap",
         params: {nap: 0.4}, seeds: [0], timing: {repeats: 2}}
  fast: {description: d, implementation: reimplementation, runner: "runner.py:nap",
         params: {nap: 0.2}, seeds: [0], timing: {repeats: 2}}
  plain-a: {description: d, implementation: reimplementation, runner: "runner.py:nap",
            params: {nap: 3.0}, seeds: [0]}
  plain-b: {description: d, implementation: reimplementation, runner: "runner.py:nap",
            params: {nap: 3.0}, seeds: [0]}
claims:
  - {id: ratio, text: t, source: s, kind: ratio, metric: time_s, reported: 2.0,
     higher_is_better: false, tolerance: {relative: 0.3},
     levels: {re-implement: {a: slow, b: fast}}}
  - {id: score, text: t, source: s, metric: score, reported: 1.0,
     tolerance: {absolute: 0.1}, levels: {re-implement: plain-a, generalize: plain-b}}
"""
EXPERIMENTS = ("slow", "fast", "plain-a", "plain-b")


def record_path(experiment: str) -> str:
    return f"results/timed/runs/{experiment}/seed=0/metrics.json"


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    root = tmp_path_factory.mktemp("timed")
    for name in ("Snakefile", "workflow", "envs"):
        (root / name).symlink_to(REPO / name)
    folder = root / "studies" / "timed"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY)
    (folder / "runner.py").write_text(RUNNER)
    env = {**os.environ, "PYTHONPATH": str(REPO), "REPLIKIT_CACHE": str(root / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "study=timed",
         *(record_path(e) for e in EXPERIMENTS)],
        cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {e: read_json(root / record_path(e)) for e in EXPERIMENTS}


def window(record) -> tuple[float, float]:
    return record["timing"]["started_at"], record["timing"]["finished_at"]


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_timed_runs_overlap_no_other_run(records):
    for timed in ("slow", "fast"):
        for other in EXPERIMENTS:
            if other != timed:
                assert not overlap(window(records[timed]), window(records[other])), (
                    timed, other)


def test_untimed_runs_still_run_in_parallel(records):
    assert overlap(window(records["plain-a"]), window(records["plain-b"]))


def test_timed_records_keep_every_repeat_after_one_warm_up(records):
    timing = records["slow"]["timing"]
    assert timing["alone"] is True and timing["warmup"] == 1 and timing["identical"]
    assert len(timing["repeats"]) == 2
    assert all(r["wall_s"] >= 0.4 and r["metrics"]["time_s"] == r["wall_s"]
               for r in timing["repeats"])
    # The job held both cores; the run computed with its declared one thread.
    assert records["slow"]["extra"]["omp"] == "1"
    plain = records["plain-a"]["timing"]
    assert plain["alone"] is False and plain["warmup"] == 0 and len(plain["repeats"]) == 1
