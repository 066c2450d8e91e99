"""What the workflow computes once per experiment and plan, and when it reads again."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from snakemake.common import get_function_params

from replikit import workflow as rk
from replikit.run import code
from replikit.run.code import runner_files

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, text: str) -> None:
    """Write ``text`` and move the file's time on, as an edit a second later would."""
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_runner_is_parsed_once_per_version(tmp_path, monkeypatch):
    write(tmp_path / "runner.py", "from . import data\n")
    write(tmp_path / "data.py", "X = 1\n")
    write(tmp_path / "model.py", "Y = 2\n")
    parses = []
    real_parse = code.ast.parse
    monkeypatch.setattr(code.ast, "parse", lambda text, **kw: parses.append(kw) or
                        real_parse(text, **kw))
    for _ in range(3):
        assert runner_files(tmp_path, "runner.py:run") == [tmp_path / "data.py",
                                                            tmp_path / "runner.py"]
    assert len(parses) == 2  # runner.py and data.py, once each
    write(tmp_path / "runner.py", "from . import data, model\n")
    assert tmp_path / "model.py" in runner_files(tmp_path, "runner.py:run")


def test_a_plan_computes_once_per_experiment_and_the_next_plan_reads_again(monkeypatch):
    loads = []
    real_load = rk.load_study
    monkeypatch.setattr(rk, "load_study", lambda name: loads.append(name) or real_load(name))
    rk.new_plan()
    first = rk.study_code("surprise", "rerun-svd-100k")
    for _ in range(5):
        assert rk.study_code("surprise", "rerun-svd-100k") == first
        rk.run_records("surprise")
    assert loads == ["surprise"]
    rk.new_plan()
    rk.run_records("surprise")
    assert loads == ["surprise", "surprise"]


def test_a_cached_list_handed_to_snakemake_is_a_fresh_copy():
    rk.new_plan()
    records = rk.run_records("surprise")
    records.clear()
    assert rk.run_records("surprise")


def test_signature_once_states_the_parameters_snakemake_reads():
    def get_thing(wildcards, attempt=1):
        return attempt

    assert rk.signature_once(get_thing) is get_thing
    assert list(get_function_params(get_thing)) == ["wildcards", "attempt"]


def test_resources_every_run_asks_alike_are_settled_as_constants_each_plan():
    from snakemake.resources import Resources
    from snakemake.settings.types import ResourceSettings

    def get_mem_mb(wildcards):
        return 500

    def get_gpu(wildcards):
        return 0

    declared = {"mem_mb": get_mem_mb, "gpu": get_gpu}
    rule = SimpleNamespace(name="run_experiment", resources=Resources.from_mapping(declared))
    rk.settle_resources(rule, declared, {"mem_mb": 2048}, ResourceSettings())
    assert rule.resources["mem_mb"].value == 2048 and rule.resources["gpu"].is_evaluable()
    # The next plan, of a study whose experiments differ, gets the callables back.
    rk.settle_resources(rule, declared, {"gpu": 0}, ResourceSettings())
    assert rule.resources["mem_mb"].is_evaluable() and rule.resources["gpu"].value == 0


def test_what_the_user_set_is_not_settled():
    from snakemake.resources import Resources
    from snakemake.settings.types import ResourceSettings

    user = ResourceSettings(overwrite_resources={"run_experiment": {"mem": "4G"}},
                            overwrite_threads={"run_experiment": 3})
    rule = SimpleNamespace(name="run_experiment", resources=Resources.from_mapping(
        {"_cores": 3, "mem_mb": 4000}))
    rk.settle_resources(rule, {"_cores": lambda wildcards: 1, "mem_mb": lambda wildcards: 1},
                        {"_cores": 1, "mem_mb": 2048}, user)
    assert rule.resources["_cores"].value == 3 and rule.resources["mem_mb"].value == 4000


def test_a_plan_gives_each_run_its_experiments_resources_and_keeps_the_users():
    """surprise: timed re-runs take both cores and an exclusive node, its seed runs do not;
    every run asks the same memory, so that is a constant, and a user's --set-resources wins."""
    def run_jobs(*extra: str) -> dict[str, str]:
        done = subprocess.run(
            [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "study=surprise",
             "--forcerun", "run_experiment", *extra],
            cwd=ROOT, capture_output=True, text=True, check=True)
        jobs = re.findall(r"experiment=([\w.-]+), seed=\d+\n(?:\s+threads: (\d+)\n)?"
                          r"\s+resources: ([^\n]+)", done.stdout)
        return {name: f"threads={threads or 1} {resources}" for name, threads, resources in jobs}

    planned = run_jobs()
    assert "threads=2 " in planned["rerun-svd-100k"]
    assert "slurm_extra=--exclusive" in planned["rerun-svd-100k"]
    seeds = planned["seeds-svd-100k"]
    assert "threads=1 " in seeds and "slurm_extra=," in seeds
    assert all("mem_mb=2048" in resources for resources in planned.values())
    mine = run_jobs("--set-resources", "run_experiment:mem_mb=999",
                    "--set-threads", "run_experiment=1")
    assert all("mem_mb=999" in r and "threads=1 " in r for r in mine.values())


def test_the_site_reads_the_ledgers_one_level_below_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for ledger in ("results/b/claims.csv", "results/a/claims.csv", "results/.hidden/claims.csv",
                   "results/a/runs/e/seed=0/claims.csv"):
        Path(ledger).parent.mkdir(parents=True, exist_ok=True)
        Path(ledger).write_text("claim_id\n")
    assert rk.study_ledgers() == ["results/a/claims.csv", "results/b/claims.csv"]
