"""Integration test: a small workflow through profiles/slurm on a real one-node SLURM cluster.

The cluster is Debian's slurmctld + slurmd + munge on 127.0.0.1, set up by
tests/cluster/slurm-up.sh. When no cluster answers and this process cannot set one up
(not root, no apt-get, packages unavailable), the tests are skipped with the reason.
A cluster this module started is stopped again at the end (keep it with
REPLIKIT_KEEP_SLURM=1).

What is checked, through snakemake-executor-plugin-slurm and nothing home-made:
- jobs are submitted with ``sbatch`` and run on the cluster (their outputs carry the SLURM
  job id, and ``scontrol`` reports them COMPLETED), with the memory and run time that
  replikit.run.resources derived from the study manifest;
- a failing job is reported with the path of its SLURM log, and that log holds its error;
- re-running resumes: finished outputs are kept untouched, only the failed job is redone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from replikit.fileio import read_json

pytest.importorskip(
    "snakemake_executor_plugin_slurm",
    reason="snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')",
)

REPO = Path(__file__).resolve().parents[1]
UP = REPO / "tests" / "cluster" / "slurm-up.sh"
DOWN = REPO / "tests" / "cluster" / "slurm-down.sh"
LEDGER = "results/tiny/claims.csv"
SKIP_CODE = 77  # slurm-up.sh: "cannot set a cluster up here", as opposed to a failure


def _cluster_answers() -> bool:
    if shutil.which("sinfo") is None:
        return False
    probe = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    states = probe.stdout.split()
    return probe.returncode == 0 and any(s.rstrip("*") in ("idle", "mixed") for s in states)


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[None]:
    """A running cluster: the one that answers, or one this fixture sets up and tears down."""
    if _cluster_answers():
        yield
        return
    if os.geteuid() != 0:
        pytest.skip("no SLURM cluster answers sinfo, and setting one up needs root")
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        pytest.skip("no SLURM cluster answers sinfo, and there is no apt-get to install one")
    started = time.monotonic()
    setup = subprocess.run(["bash", str(UP)], capture_output=True, text=True)
    print(setup.stdout, setup.stderr, sep="\n")
    if setup.returncode == SKIP_CODE:
        pytest.skip(f"cannot set up a SLURM cluster here: {setup.stderr.strip()}")
    assert setup.returncode == 0, f"slurm-up.sh failed:\n{setup.stdout}\n{setup.stderr}"
    print(f"cluster set up in {time.monotonic() - started:.1f} s")
    yield
    if os.environ.get("REPLIKIT_KEEP_SLURM") != "1":
        subprocess.run(["bash", str(DOWN)], check=False)


STUDY = """\
name: tiny
summary: A made-up study whose runs square numbers, for the cluster test.
paper: {title: Squares, authors: [A. Author], venue: Test 2024, year: 2024}
hardware:
  declared: {cpu: any}
experiments:
  square:
    description: square the seed
    implementation: reimplementation
    runner: ours.py:square
    seeds: [1, 2, 3]
    resources: {mem_mb: 300, runtime: 7, threads: 1}
  broken:
    description: fails while the file BROKEN exists in the study folder
    implementation: reimplementation
    runner: ours.py:broken
    seeds: [0]
  stuck:
    description: hangs while the file STUCK exists in the study folder, until cancelled
    implementation: reimplementation
    runner: ours.py:stuck
    seeds: [0]
claims:
  - {id: C1, text: squares, source: T1, metric: value, reported: 4.7,
     tolerance: {absolute: 1}, levels: {re-implement: square}}
  - {id: C2, text: zero, source: T1, metric: value, reported: 0,
     tolerance: {absolute: 0}, levels: {re-implement: broken}}
  - {id: C3, text: zero, source: T1, metric: value, reported: 0,
     tolerance: {absolute: 0}, levels: {re-implement: stuck}}
"""

RUNNERS = """\
\"\"\"Runners of the cluster test's study; each records the SLURM job it ran in.\"\"\"
import os
import time


def _result(value):
    return {"metrics": {"value": value}, "extra": {"slurm_job_id": os.environ.get("SLURM_JOB_ID")}}


def square(context):
    return _result(context.seed * context.seed)


def broken(context):
    if (context.study.dir / "BROKEN").exists():
        raise ValueError("run 'broken' failed on purpose: the file BROKEN exists")
    return _result(0)


def stuck(context):
    deadline = time.monotonic() + 120
    while (context.study.dir / "STUCK").exists():
        assert time.monotonic() < deadline, "nobody cancelled the stuck run"
        time.sleep(1)
    return _result(0)
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of the repository's workflow with the tiny study beside it."""
    shutil.copy(REPO / "Snakefile", tmp_path / "Snakefile")
    shutil.copytree(REPO / "workflow", tmp_path / "workflow",
                    ignore=shutil.ignore_patterns("__pycache__"))
    study = tmp_path / "studies" / "tiny"
    study.mkdir(parents=True)
    (study / "study.yaml").write_text(STUDY)
    (study / "ours.py").write_text(RUNNERS)
    return tmp_path


def run_snakemake(workdir: Path, cancel: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the workflow through profiles/slurm, as a user would, and keep its output.

    With ``cancel``, the job whose SLURM comment contains it is cancelled with ``scancel``
    as soon as it runs, as a user (or an administrator) would.
    """
    command = [
        sys.executable, "-m", "snakemake", "--profile", str(REPO / "profiles" / "slurm"),
        "--directory", str(workdir), LEDGER, "--config", "study=tiny",
        # The test cluster keeps no accounting database: query job states with squeue
        # (it keeps finished jobs for MinJobAge=600 s) and submit without an account.
        "--slurm-status-command", "squeue", "--slurm-no-account",
        "--slurm-init-seconds-before-status-checks", "2",
        "--retries", "0", "--latency-wait", "5", "--verbose",
    ]
    path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    log_path = workdir / f"snakemake-{time.time_ns()}.log"
    started = time.monotonic()
    # Output goes to a file, not a pipe: a pipe nobody reads would stall Snakemake.
    with log_path.open("w") as log, subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, text=True, env=env
    ) as process:
        if cancel:
            cancel_when_running(cancel, process)
        process.wait(timeout=900)
    print(f"snakemake took {time.monotonic() - started:.1f} s (exit {process.returncode})")
    output = log_path.read_text()
    return subprocess.CompletedProcess(command, process.returncode, output, output)


def cancel_when_running(comment: str, process: subprocess.Popen[str]) -> str:
    """Wait until a job whose comment contains ``comment`` runs, then ``scancel`` it."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        queue = subprocess.run(["squeue", "-h", "-t", "RUNNING", "-o", "%i %k"],
                               capture_output=True, text=True).stdout
        for line in queue.splitlines():
            job_id, _, job_comment = line.partition(" ")
            if comment in job_comment:
                subprocess.run(["scancel", job_id], check=True)
                return job_id
        time.sleep(1)
    raise AssertionError(f"no running job with {comment!r} in its comment to cancel")


def submitted_job_ids(log: str) -> dict[str, str]:
    """Snakemake job id -> SLURM job id, from the plugin's submission lines."""
    pattern = r"Job (\d+) has been submitted with SLURM jobid (\d+)"
    return dict(re.findall(pattern, log))


def slurm_job(job_id: str) -> dict[str, str]:
    """``scontrol show job``'s fields (the cluster keeps finished jobs for MinJobAge)."""
    shown = subprocess.run(["scontrol", "-o", "show", "job", job_id],
                           capture_output=True, text=True)
    return dict(re.findall(r"(\w+)=(\S*)", shown.stdout))


def reported_failures(log: str) -> dict[str, Path]:
    """SLURM job id -> SLURM log path, for each failure Snakemake reported."""
    pattern = r"SLURM-job '(\d+)' failed.*?\n\s+log: [^\n]*?(\S+/slurm_logs/\S+\.log)"
    return {job: Path(path) for job, path in re.findall(pattern, log, re.S)}


@pytest.mark.slurm
@pytest.mark.slow
def test_study_runs_on_slurm_reports_failures_and_resumes(
    slurm_cluster: None, workdir: Path
) -> None:
    study = workdir / "studies" / "tiny"
    (study / "BROKEN").write_text("remove me to let the run succeed\n")
    (study / "STUCK").write_text("remove me to let the run finish\n")
    first = run_snakemake(workdir, cancel="_stuck_0")
    log = first.stderr

    # Jobs are submitted with sbatch; the runs carry the manifest's memory and run time.
    assert "sbatch call: sbatch" in log, log[-3000:]
    assert re.search(r"sbatch call: sbatch .*-t 7 .*--mem 300", log), log[-3000:]
    assert len(submitted_job_ids(log)) >= 5, log[-3000:]  # 5 runs, the environment record

    # The three good runs finished on the cluster with what the manifest asked for.
    assert first.returncode != 0
    runs = workdir / "results" / "tiny" / "runs"
    squares = [runs / "square" / f"seed={s}" / "metrics.json" for s in (1, 2, 3)]
    records = [read_json(path) for path in squares]
    assert [r["metrics"]["value"] for r in records] == [1, 4, 9]
    for record in records:
        job = slurm_job(record["extra"]["slurm_job_id"])
        assert (job["JobState"], job["MinMemoryNode"], job["TimeLimit"]) == (
            "COMPLETED", "300M", "00:07:00")

    # The failed and the cancelled run are reported with their SLURM logs.
    failures = reported_failures(log)
    states = {slurm_job(job_id)["JobState"]: path for job_id, path in failures.items()}
    assert set(states) == {"FAILED", "CANCELLED"}, log[-3000:]
    assert "failed on purpose" in states["FAILED"].read_text()
    assert states["CANCELLED"].is_file()
    for experiment in ("broken", "stuck"):
        assert not (runs / experiment / "seed=0" / "metrics.json").exists()
    assert not (workdir / LEDGER).exists()

    # Remove the causes and re-run: the two runs and the ledger are submitted; the finished
    # runs are kept as they were.
    (study / "BROKEN").unlink()
    (study / "STUCK").unlink()
    stamps = [path.stat().st_mtime_ns for path in squares]
    second = run_snakemake(workdir)
    assert second.returncode == 0, second.stderr[-3000:]
    resubmitted = re.findall(r"rule (\w+):\n(?:.*\n)*?\s+wildcards: (.*)", second.stderr)
    assert len(submitted_job_ids(second.stderr)) == 3, resubmitted
    assert [path.stat().st_mtime_ns for path in squares] == stamps
    for experiment in ("broken", "stuck"):
        assert read_json(runs / experiment / "seed=0" / "metrics.json")["metrics"]["value"] == 0
    assert (workdir / LEDGER).read_text().startswith("claim_id,")


def test_dry_run_shows_the_run_resources(workdir: Path) -> None:
    """No cluster needed: a dry run through the profile lists each run's SLURM resources."""
    manifest = workdir / "studies" / "tiny" / "study.yaml"
    manifest.write_text(manifest.read_text().replace("{mem_mb: 300,", "{gpus: 1, mem_mb: 300,"))
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--profile", str(REPO / "profiles" / "slurm"),
         "--directory", str(workdir), LEDGER,
         "--config", "study=tiny", "slurm={partition: short, gpu_partition: gpu}"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    lines = [line for line in out.splitlines() if "slurm_partition=" in line]
    gpu_runs = [line for line in lines if "gpu=1" in line]
    assert len(gpu_runs) == 3, lines
    for line in gpu_runs:
        assert all(f in line for f in ("mem_mb=300", "runtime=7", "slurm_partition=gpu"))
    cpu_runs = [line for line in lines if "gpu=0" in line]
    assert len(cpu_runs) == 2 and all("slurm_partition=short" in line for line in cpu_runs)
