"""Compute cost: per run, per experiment, per claim and for the whole study.

Two sources describe a run's cost. The run record (``runs/<experiment>/seed=<s>/metrics.json``,
written by :func:`replikit.run.harness.execute`) measures the runner itself: ``wall_s``, ``cpu_s``
(the process), ``children_cpu_s`` (processes it spawned), ``peak_rss_mb``, and for a CUDA
run ``gpu_s`` and ``peak_gpu_mb``. Snakemake's ``benchmark:`` file
(``benchmarks/<study>/runs/<experiment>/seed=<s>.tsv``) measures the whole job, interpreter
start and imports included, but it samples the process tree every few seconds and so can
miss CPU time and memory peaks between samples (on the Surprise study it reported as little
as half the runner's own CPU time). Each is a lower bound of what the job used, so where a
benchmark exists the larger of the two is taken for wall time, CPU time and peak memory;
the GPU figures come from the record, which alone knows them.

A claim's cost is the sum over the runs of the experiments its levels use. Claims often share
experiments (two metrics of one experiment are two claims on the same runs), so the costs overlap
and do not add up to the study's; the study total counts each run once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from replikit import paths
from replikit.errors import ReplikitError
from replikit.study import Study

RUN_COLUMNS = ("experiment", "seed", "status", "device", "wall_s", "cpu_s", "gpu_s",
               "peak_rss_mb", "peak_gpu_mb", "source")
SUM_COLUMNS = ("wall_s", "cpu_s", "gpu_s")
MAX_COLUMNS = ("peak_rss_mb", "peak_gpu_mb")


def _number(value: Any) -> float | None:
    """A finite float, or None for missing values and Snakemake's 'NA'."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def read_benchmark(path: str | Path) -> dict[str, float | None]:
    """Wall seconds, CPU seconds and peak RSS (MiB) from one Snakemake benchmark TSV.

    A benchmark repeated several times (``repeat(...)``) has one row per repetition; the
    mean wall and CPU time and the largest peak are returned.

    Raises
    ------
    ReplikitError
        When the file lacks the columns Snakemake writes (``s``, ``max_rss``, ``cpu_time``).
    """
    frame = pd.read_csv(path, sep="\t", na_values=["NA", "-"])
    needed = {"s", "max_rss", "cpu_time"}
    if not needed <= set(frame.columns) or frame.empty:
        raise ReplikitError(
            "not a Snakemake benchmark file", where=str(path),
            expected=f"a tab-separated table with columns {sorted(needed)} and one row or more",
            found=f"columns {list(frame.columns)}, {len(frame)} rows",
            fix="delete the file; Snakemake writes it again on the next run of the job",
        )
    return {"wall_s": _number(frame["s"].mean()), "cpu_s": _number(frame["cpu_time"].mean()),
            "peak_rss_mb": _number(frame["max_rss"].max())}


def benchmark_path(benchmarks_dir: str | Path, experiment: str, seed: int) -> Path:
    """Where the workflow's ``run_experiment`` rule writes a run's benchmark."""
    return paths.run_benchmark(benchmarks_dir, experiment, seed)


def run_costs(runs: Iterable[dict[str, Any]],
              benchmarks_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per run: its cost, from its benchmark where there is one, else its record.

    Parameters
    ----------
    runs
        Run records (contents of ``metrics.json``); "not run" records cost nothing.
    benchmarks_dir
        ``benchmarks/<study>``; None to use the run records alone.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RUN_COLUMNS`, sorted by experiment and seed. ``source`` says where
        the wall time, CPU time and peak memory came from: "run record", or "benchmark and
        record" (the larger of the two for each).
    """
    rows = [_run_cost(record, benchmarks_dir) for record in runs]
    frame = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    return frame.sort_values(["experiment", "seed"], kind="stable").reset_index(drop=True)


def _run_cost(record: dict[str, Any], benchmarks_dir: str | Path | None) -> dict[str, Any]:
    cpu = _number(record.get("cpu_s"))
    children = _number(record.get("children_cpu_s"))
    row = {
        "experiment": str(record.get("experiment")), "seed": int(record.get("seed", 0)),
        "status": record.get("status", "ok"), "device": record.get("device") or "cpu",
        "wall_s": _number(record.get("wall_s")),
        "cpu_s": None if cpu is None else cpu + (children or 0.0),
        "gpu_s": _number(record.get("gpu_s")) or 0.0,
        "peak_rss_mb": _number(record.get("peak_rss_mb")),
        "peak_gpu_mb": _number(record.get("peak_gpu_mb")),
        "source": "run record",
    }
    if benchmarks_dir is not None:
        path = benchmark_path(benchmarks_dir, row["experiment"], row["seed"])
        if path.exists():
            for key, value in read_benchmark(path).items():
                known = [v for v in (value, row[key]) if v is not None]
                row[key] = max(known) if known else None
            row["source"] = "benchmark and record"
    if row["status"] != "ok" and row["source"] == "run record":
        row.update(wall_s=0.0, cpu_s=0.0, gpu_s=0.0)
    return row


def _aggregate(frame: pd.DataFrame) -> dict[str, Any]:
    """Sums of times and maxima of peaks over some runs; None where nothing was measured."""
    out: dict[str, Any] = {"runs": int(len(frame))}
    for column in SUM_COLUMNS:
        values = frame[column].dropna()
        out[column] = float(values.sum()) if len(values) else None
    for column in MAX_COLUMNS:
        values = frame[column].dropna()
        out[column] = float(values.max()) if len(values) else None
    return out


def experiment_costs(runs: pd.DataFrame) -> pd.DataFrame:
    """Per experiment: number of runs, summed wall/CPU/GPU seconds, largest peaks."""
    rows = [{"experiment": name, **_aggregate(part)}
            for name, part in runs.groupby("experiment", sort=True)]
    return pd.DataFrame(rows, columns=["experiment", "runs", *SUM_COLUMNS, *MAX_COLUMNS])


def claim_costs(study: Study, runs: pd.DataFrame) -> pd.DataFrame:
    """Per claim: the cost of every run of the experiments its levels use (each run once).

    Returns
    -------
    pandas.DataFrame
        Columns claim_id, experiments (';'-joined), runs, cpu_hours, gpu_hours, wall_hours,
        peak_rss_mb, peak_gpu_mb.
    """
    rows = []
    for claim in study.claims:
        names = list(dict.fromkeys(claim.experiments()))
        total = _aggregate(runs[runs["experiment"].isin(names)])
        rows.append({"claim_id": claim.id, "experiments": ";".join(names),
                     **_hours(total)})
    return pd.DataFrame(rows, columns=["claim_id", "experiments", "runs", "cpu_hours",
                                       "gpu_hours", "wall_hours", *MAX_COLUMNS])


def _hours(total: dict[str, Any]) -> dict[str, Any]:
    def hours(seconds):
        return None if seconds is None else seconds / 3600

    return {"runs": total["runs"], "cpu_hours": hours(total["cpu_s"]),
            "gpu_hours": hours(total["gpu_s"]), "wall_hours": hours(total["wall_s"]),
            "peak_rss_mb": total["peak_rss_mb"], "peak_gpu_mb": total["peak_gpu_mb"]}


def study_total(runs: pd.DataFrame) -> dict[str, Any]:
    """The whole study: runs, CPU-hours, GPU-hours, wall-hours (summed, as if run one after
    another), the largest peak memory and GPU memory of any run, and where figures came from."""
    total = _hours(_aggregate(runs))
    total["from_benchmarks"] = int((runs["source"] != "run record").sum())
    total["gpu_runs"] = int((runs["gpu_s"].fillna(0) > 0).sum())
    return total


__all__ = [
    "benchmark_path", "claim_costs", "experiment_costs", "read_benchmark",
    "run_costs", "study_total",
]
