"""Tests for replikit.evaluate.cost and the cost fields the run harness records."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from _report_helpers import study_dict

from replikit.errors import ReplikitError
from replikit.evaluate import cost
from replikit.fileio import read_json, write_json
from replikit.run.harness import execute
from replikit.study import Study

BENCHMARK_HEADER = ("s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\t"
                    "mean_load\tcpu_time\n")


def _record(experiment: str, seed: int, **extra) -> dict:
    record = {"experiment": experiment, "seed": seed, "status": "ok", "wall_s": 10.0,
              "cpu_s": 8.0, "children_cpu_s": 1.0, "peak_rss_mb": 300.0, "device": "cpu",
              "gpu_s": 0.0, "peak_gpu_mb": None}
    record.update(extra)
    return record


def _benchmark(folder: Path, experiment: str, seed: int, rows: list[str]) -> Path:
    path = cost.benchmark_path(folder, experiment, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BENCHMARK_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def study() -> Study:
    return Study.model_validate(study_dict(2))


def test_record_alone_adds_children_cpu_time():
    runs = cost.run_costs([_record("rerun-svd", 0)])
    row = runs.iloc[0]
    assert row["cpu_s"] == 9.0 and row["wall_s"] == 10.0 and row["source"] == "run record"


def test_benchmark_raises_wall_cpu_and_memory_but_keeps_gpu(tmp_path):
    _benchmark(tmp_path, "rerun-svd", 0,
               ["12.5\t0:00:12\t512.0\t900\t400\t450\t1.0\t2.0\t95.0\t11.0",
                "13.5\t0:00:13\t640.0\t900\t400\t450\t1.0\t2.0\t95.0\t13.0"])
    runs = cost.run_costs([_record("rerun-svd", 0, device="cuda:0", gpu_s=10.0,
                                   peak_gpu_mb=2048.0)], tmp_path)
    row = runs.iloc[0]
    # Repetitions: mean wall and CPU time, largest peak.
    assert (row["wall_s"], row["cpu_s"], row["peak_rss_mb"]) == (13.0, 12.0, 640.0)
    assert (row["gpu_s"], row["peak_gpu_mb"]) == (10.0, 2048.0)
    assert row["source"] == "benchmark and record"


def test_a_sampling_benchmark_never_lowers_the_record(tmp_path):
    # Snakemake samples every few seconds and can miss CPU time the runner measured.
    _benchmark(tmp_path, "rerun-svd", 0, ["14.0\t0:00:14\t120.0\tNA\tNA\tNA\tNA\tNA\tNA\t3.5"])
    row = cost.run_costs([_record("rerun-svd", 0)], tmp_path).iloc[0]
    assert (row["wall_s"], row["cpu_s"], row["peak_rss_mb"]) == (14.0, 9.0, 300.0)


def test_benchmark_na_values_fall_back_to_the_record(tmp_path):
    _benchmark(tmp_path, "rerun-svd", 0, ["12.0\t0:00:12\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA"])
    row = cost.run_costs([_record("rerun-svd", 0)], tmp_path).iloc[0]
    assert row["wall_s"] == 12.0 and row["cpu_s"] == 9.0 and row["peak_rss_mb"] == 300.0


def test_a_broken_benchmark_is_an_error_naming_the_file(tmp_path):
    path = cost.benchmark_path(tmp_path, "rerun-svd", 0)
    path.parent.mkdir(parents=True)
    path.write_text("seconds\n1.0\n", encoding="utf-8")
    with pytest.raises(ReplikitError, match=r"seed=0\.tsv: not a Snakemake benchmark file"):
        cost.run_costs([_record("rerun-svd", 0)], tmp_path)


def test_not_run_records_cost_nothing():
    record = {"experiment": "rerun-svd", "seed": 0, "status": "not-run", "metrics": {}}
    row = cost.run_costs([record]).iloc[0]
    assert (row["wall_s"], row["cpu_s"], row["gpu_s"]) == (0.0, 0.0, 0.0)


def test_claim_cost_sums_its_experiments_and_the_total_counts_runs_once(study):
    runs = cost.run_costs([_record("rerun-svd", 0), _record("ours-svd", 0)]
                          + [_record("seeds-svd", s, cpu_s=3600.0 - 1.0) for s in (1, 2)]
                          + [_record("rerun-algo01", 0, device="cuda", gpu_s=1800.0,
                                     peak_gpu_mb=900.0, peak_rss_mb=700.0)])
    claims = cost.claim_costs(study, runs).set_index("claim_id")
    rmse = claims.loc["100k-svd-rmse"]
    assert rmse["runs"] == 4 and rmse["experiments"] == "rerun-svd;ours-svd;seeds-svd"
    assert rmse["cpu_hours"] == pytest.approx((9 + 9 + 3600 + 3600) / 3600)
    assert rmse["gpu_hours"] == 0.0 and math.isnan(rmse["peak_gpu_mb"])
    assert claims.loc["100k-svd-time", "runs"] == 1
    assert claims.loc["100k-algo01-rmse", "gpu_hours"] == 0.5
    total = cost.study_total(runs)
    assert total["runs"] == 5 and total["gpu_runs"] == 1
    assert total["cpu_hours"] == pytest.approx((9 * 3 + 7200) / 3600)
    assert total["peak_rss_mb"] == 700.0 and total["peak_gpu_mb"] == 900.0
    # Claims share runs, so their sum exceeds the study's total.
    assert claims["cpu_hours"].sum() > total["cpu_hours"]


def test_experiment_costs(study):
    runs = cost.run_costs([_record("seeds-svd", s) for s in (1, 2, 3)])
    table = cost.experiment_costs(runs)
    assert table.to_dict("records") == [{
        "experiment": "seeds-svd", "runs": 3, "wall_s": 30.0, "cpu_s": 27.0, "gpu_s": 0.0,
        "peak_rss_mb": 300.0, "peak_gpu_mb": None}]


# --------------------------------------------------------------------------- the harness
RUNNER = '''
import subprocess
import sys


def run(ctx):
    # Spend CPU time in a child process, as runners that call the authors' scripts do.
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    return {"metrics": {"rmse": 0.9}}
'''


def test_execute_records_children_cpu_time_and_no_gpu(tmp_path):
    folder = tmp_path / "studies" / "fakestudy"
    folder.mkdir(parents=True)
    (folder / "original.py").write_text(RUNNER, encoding="utf-8")
    study = Study.model_validate(study_dict(1))
    study._dir = folder
    artifact = write_json(tmp_path / "ml-100k.json", {"name": "ml-100k", "status": "ok",
                                                      "path": str(tmp_path)})
    execute(study, "rerun-svd", 0, [artifact], tmp_path / "out" / "metrics.json")
    record = read_json(tmp_path / "out" / "metrics.json")
    assert record["children_cpu_s"] > 0.05
    assert record["gpu_s"] == 0.0 and record["peak_gpu_mb"] is None
    row = cost.run_costs([record]).iloc[0]
    assert row["cpu_s"] == pytest.approx(record["cpu_s"] + record["children_cpu_s"])
    assert isinstance(cost.experiment_costs(cost.run_costs([record])), pd.DataFrame)


# --------------------------------------------------------------------------- the report
def test_report_states_the_cost_and_points_to_the_hardware(tmp_path):
    from _report_helpers import RULES, build_results

    from replikit.publish.report import write_report_from_results

    results = build_results(tmp_path, 1)
    _benchmark(tmp_path / "benchmarks" / "fakestudy", "rerun-svd", 0,
               ["30.0\t0:00:30\t400.0\tNA\tNA\tNA\tNA\tNA\tNA\t20.0"])
    qmd = write_report_from_results(results["study"], results["results"], RULES,
                                    tmp_path / "reports" / "fakestudy")
    text = qmd.read_text(encoding="utf-8")
    section = text.split("## Computational requirements")[1].split("\n## ")[0]
    total = pd.read_csv(qmd.parent / "tables" / "cost_total.csv").iloc[0]
    # Six fixture runs of 10.5 s CPU and one benchmarked at 20 s.
    assert total["cpu_hours"] == pytest.approx((6 * 10.5 + 20.0) / 3600)
    assert f"{total['cpu_hours']:.3g} CPU-hours, 0 GPU-hours" in section
    assert "no run used a GPU" in section
    # The hardware is stated once, declared against actual, in the environment section.
    assert "is in [Environment](#environment)" in section
    environment = text.split("## Environment {#environment}")[1].split("\n## ")[0]
    assert "| intel i5 11th Gen 2.60GHz | AMD EPYC 7B13 |" in environment
    assert text.count("| AMD EPYC 7B13 |") == 1
    assert "1 of the 7 runs were timed by" in section
    assert "GPU (s)" not in section  # a CPU-only study shows no columns of zeros
    claims = pd.read_csv(qmd.parent / "tables" / "cost_claims.csv")
    assert list(claims["claim_id"]) == ["100k-svd-rmse", "100k-svd-time"]
    assert f"{total['cpu_hours']:.3g} CPU-hours" in text.split("## The study")[0]
