"""The last reliability gaps (issue 23), each met as a user meets it: through `snakemake` on a
tiny study or through the `replikit` command line.

A failed seed keeps its last good record; a record cut short is made again; a runner that
ignores the stop at its time limit is killed and the message says which limit, the time
per seed and where a quick profile goes; a local artifact outside the project is accepted
with a warning and never named by its folders; a runner that calls sys.exit is named; and
the command line refuses a missing --root, an unknown study and a date that is no date.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_workflow_faults import RUNNER, snakemake

from replikit.cli import main
from replikit.fileio import read_json

pytestmark = pytest.mark.slow  # Snakemake invocations

REPO = Path(__file__).resolve().parent.parent
DATA = b"".join(b"%d\n" % (1 + i % 5) for i in range(50))
PRIVATE = b"a private file outside the project\n"
STUDY = """\
schema_version: 1
name: tiny
summary: A tiny study.
paper: {{title: A tiny paper, authors: [Ada Example], venue: Nowhere 2024, year: 2024}}
hardware: {{declared: {{cpu: an imaginary processor}}}}
artifacts:
  ratings: {{description: d, path: ratings.txt, sha256: {data}}}
  private: {{description: d, path: {private_path}, sha256: {private}}}
experiments:
  mean:
    {{description: d, implementation: reimplementation, runner: "runner.py:mean",
     params: {{data: ratings}}, needs: [ratings], seeds: [0, 1]}}
claims:
  - {{id: rmse, text: t, source: s, metric: rmse, reported: 1.4, decimals: 2,
     tolerance: {{absolute: 0.5}}, levels: {{re-implement: mean}}}}
"""


def replikit(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "replikit.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def new_project(root: Path, study: str, runner: str = RUNNER) -> Path:
    for name in ("Snakefile", "workflow", "envs"):
        (root / name).symlink_to(REPO / name)
    folder = root / "studies" / "tiny"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(study)
    (folder / "runner.py").write_text(runner)
    (folder / "ratings.txt").write_bytes(DATA)
    return root


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("elsewhere") / "private-data.txt"
    path.write_bytes(PRIVATE)
    return path


@pytest.fixture(scope="module")
def project(tmp_path_factory, outside):
    root = new_project(tmp_path_factory.mktemp("gaps"), STUDY.format(
        data=hashlib.sha256(DATA).hexdigest(), private_path=outside,
        private=hashlib.sha256(PRIVATE).hexdigest()))
    done = snakemake(root)
    root.joinpath("first-run.txt").write_text(done.stdout + done.stderr)
    return root


def record_of(root: Path, seed: int) -> Path:
    return root / "results" / "tiny" / "runs" / "mean" / f"seed={seed}" / "metrics.json"


def broken_runner(project: Path, broken: str) -> Path:
    runner = project / "studies" / "tiny" / "runner.py"
    runner.write_text(RUNNER.replace("    values =", broken + "\n    values ="))
    return runner


# --------------------------------------------------------------------------- the workflow
def test_a_failed_seed_keeps_its_last_good_record_and_says_so(project):
    good = read_json(record_of(project, 1))
    runner = broken_runner(project, "    if ctx.seed == 1:\n        raise KeyError('boom')")
    try:
        failed = snakemake(project, ok=False)  # the failure still fails the workflow run
        status = replikit(project, "status", "tiny", "--reasons")
    finally:
        runner.write_text(RUNNER)
    assert "run_experiment (study tiny, experiment mean, seed 1) failed" in failed.stderr
    assert ("the last good result is kept: results/tiny/runs/mean/seed=1/.last-good/"
            "metrics.json") in failed.stderr
    assert "'replikit status tiny' counts the kept record" in failed.stderr
    assert status.returncode == 0, status.stderr
    assert "mean seed 1 kept from an earlier run at" in status.stdout
    assert "│ 2 │" in status.stdout  # both seeds counted, not one
    assert not record_of(project, 1).exists()  # Snakemake's side: the seed runs again
    snakemake(project)
    assert read_json(record_of(project, 1))["metrics"]["rmse"] == good["metrics"]["rmse"]
    assert "kept from" not in replikit(project, "status", "tiny", "--reasons").stdout


def test_a_record_cut_short_but_readable_is_made_again(project):
    record = record_of(project, 0)
    record.write_text('{"status": "ok"}')
    plan = snakemake(project, "-n")
    assert "metrics.json is incomplete (no study, experiment, seed, reason, metrics); it is " \
           "made again" in plan.stdout + plan.stderr
    assert "run_experiment" in plan.stdout
    snakemake(project)
    assert "rmse" in read_json(record)["metrics"]


def test_a_runner_that_calls_sys_exit_is_named(project):
    runner = broken_runner(project, "    import sys\n    sys.exit(0)")
    try:
        failed = snakemake(project, ok=False)
    finally:
        runner.write_text(RUNNER)
    assert ("studies/tiny/runner.py: mean(): the runner runner.py:mean exited without "
            "returning a result") in failed.stderr
    assert "found:    it called sys.exit(0)" in failed.stderr
    assert "Traceback (most recent call last)" not in failed.stderr
    snakemake(project)


def test_a_local_file_outside_the_project_is_warned_and_never_named(project, outside):
    warning = (f"artifacts.private.sources[0].path: {outside} lies outside the project; it is "
               "hashed like any other artifact")
    assert warning in project.joinpath("first-run.txt").read_text()
    validated = replikit(project, "validate", "tiny")
    assert validated.returncode == 0 and warning in validated.stderr
    plan = snakemake(project, "-n")
    assert warning in plan.stdout + plan.stderr
    record = read_json(project / "results" / "tiny" / "artifacts" / "private.json")
    assert record["status"] == "ok" and record["sha256"] == hashlib.sha256(PRIVATE).hexdigest()
    assert record["source"]["ref"] == "private-data.txt (a local file outside the project)"
    reports = [p for p in (project / "reports").rglob("*") if p.is_file()]
    assert reports and not [p for p in reports if str(outside.parent).encode() in p.read_bytes()]
    assert any(b"private-data.txt (a local file outside" in p.read_bytes() for p in reports)


def test_a_runner_deaf_to_its_time_limit_is_killed_and_the_message_points_to_profiles(
        tmp_path):
    deaf = RUNNER.replace("    values =", "    import signal, time\n"
                          "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                          "    time.sleep(75)\n    values =")
    root = new_project(tmp_path, STUDY.format(
        data=hashlib.sha256(DATA).hexdigest(), private_path="ratings.txt",
        private=hashlib.sha256(DATA).hexdigest()).replace(
        "seeds: [0, 1]}", "seeds: [0, 1], resources: {runtime: 1}}"), runner=deaf)
    done = snakemake(root, str(record_of(root, 0).relative_to(root)))
    record = read_json(record_of(root, 0))
    assert 60 <= record["wall_s"] < 75  # killed at 60 s + 5 s, not finished at 75 s
    assert record["status"] == "not-run" and record["causes"][0]["kind"] == "time-limit"
    expected = ("stopped after its time limit of 1 min: resources.runtime of experiment 'mean' "
                "in studies/tiny/study.yaml; time per seed so far: seed 0: 6")
    assert expected in record["reason"] and expected in done.stderr
    assert "declare a quick profile that gives 'mean' smaller params" in record["reason"]
    assert "docs/writing-a-study.md, part 1, step 6 (Budget profiles)" in record["reason"]


# --------------------------------------------------------------------------- the CLI
def test_contact_add_author_refuses_a_study_that_does_not_exist(tmp_path, capsys):
    (tmp_path / "studies").mkdir()
    assert main(["--root", str(tmp_path), "contact", "add-author", "nosuch", "--name", "A"]) == 2
    assert "studies/nosuch/study.yaml: no study named 'nosuch'" in capsys.readouterr().err
    assert not (tmp_path / "studies" / "nosuch").exists()


def test_a_root_that_does_not_exist_is_refused(tmp_path, capsys):
    assert main(["--root", str(tmp_path / "typo"), "validate"]) == 2
    err = capsys.readouterr().err
    assert f"--root {tmp_path / 'typo'}: the project folder does not exist" in err
    assert main(["--root", str(tmp_path), "validate"]) == 2  # a folder without studies
    assert "there is no study to validate" in capsys.readouterr().err


def test_a_date_that_is_no_date_is_one_error(capsys):
    assert main(["--root", str(REPO), "letter", "surprise", "--today", "2026-99-99"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the command line: --today 2026-99-99: --today is not a date")
    assert "month must be in 1..12" in err and "Traceback" not in err
