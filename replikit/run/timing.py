"""Timed experiments: run alone, warmed up, repeated; the record keeps every repeat.

An experiment is *timed* when a claim on a time or throughput (:func:`is_time_metric`) uses
it at any level: a time claim, or a ratio of two experiments' times. Its manifest may say
otherwise (``experiments.<name>.timing.alone``). A timed experiment's jobs

- run alone: the workflow gives them every core of the machine (or, on SLURM, an exclusive
  node; :mod:`replikit.run.resources`), so no other job of the workflow runs beside them;
- call the runner ``timing.warmup`` times untimed (default 1: caches, imports, JIT), then
  ``timing.repeats`` times timed (default 5), each call seeded afresh with the run's seed.

What is timed is what the runner reports as a time (``metrics.time_s`` or any other time
metric of its own, e.g. a training-only time), else the wall time of the whole runner call,
per repeat, exactly as for an untimed run. The record's ``timing`` keeps every repeat (wall,
CPU and child-process CPU time, the runner's time metrics, other processes' CPU use); its
metrics hold the median over the repeats for every time metric. A runner that takes its
randomness from the seed alone returns the same other metrics on every call; ``identical``
says whether it did (and ``differs`` which keys did not), so a verdict never silently mixes
runs that computed different things. An untimed run is the same loop with no warm-up and one
repeat.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from replikit.run.load import LoadWindow
from replikit.run.measure import children_cpu_s, time_limit
from replikit.study import Study
from replikit.study.claims import is_time_metric


@dataclass(frozen=True)
class TimingPlan:
    """How one experiment's runs are timed."""

    alone: bool
    warmup: int
    repeats: int

    @property
    def calls(self) -> int:
        """Runner calls in all: the warm-ups and the timed repeats."""
        return self.warmup + self.repeats


def timed_experiments(study: Study) -> set[str]:
    """Experiments a time or throughput claim uses at some level (whatever the manifest says)."""
    names: set[str] = set()
    for claim in study.claims:
        if claim.is_timing:
            for check in claim.levels.values():
                names.update(check.names())
    return names


def timing_plan(study: Study, experiment: str) -> TimingPlan:
    """The experiment's plan: its manifest's ``timing``, ``alone`` derived from the claims."""
    timing = study.experiments[experiment].timing
    alone = timing.alone if timing.alone is not None else experiment in timed_experiments(study)
    if not alone:
        return TimingPlan(alone=False, warmup=0, repeats=1)
    return TimingPlan(alone=True, warmup=timing.warmup, repeats=timing.repeats)


@dataclass
class Timed:
    """What the calls gave: the last result, the medians, and the record's ``timing`` and
    ``load`` parts."""

    result: Any
    wall_s: float
    cpu_s: float
    children_cpu_s: float
    time_metrics: dict[str, float]
    timing: dict[str, Any]
    load: dict[str, Any]


def _metrics(result: Any) -> dict[str, Any]:
    metrics = result.get("metrics") if isinstance(result, dict) else None
    return dict(metrics) if isinstance(metrics, dict) else {}


def _numbers_but_times(result: Any) -> dict[str, str]:
    """What must not change between calls: non-time metrics and folds, as canonical text."""
    folds = result.get("folds") if isinstance(result, dict) else None
    kept = {k: v for k, v in _metrics(result).items() if not is_time_metric(k)}
    kept_folds = [{k: v for k, v in f.items() if not is_time_metric(k)}
                  for f in folds or [] if isinstance(f, dict)]
    return {"metrics": json.dumps(kept, sort_keys=True, default=repr),
            "folds": json.dumps(kept_folds, sort_keys=True, default=repr)}


def differing_keys(first: Any, other: Any) -> list[str]:
    """Non-time metric names (and ``folds``) whose values differ between two results.

    >>> differing_keys({"metrics": {"rmse": 0.9, "time_s": 1.0}},
    ...                {"metrics": {"rmse": 0.9, "time_s": 1.2}})
    []
    >>> differing_keys({"metrics": {"rmse": 0.9}}, {"metrics": {"rmse": 0.91}})
    ['metrics.rmse']
    """
    a, b = _metrics(first), _metrics(other)
    keys = sorted(k for k in set(a) | set(b) if not is_time_metric(k)
                  and json.dumps(a.get(k), default=repr) != json.dumps(b.get(k), default=repr))
    out = [f"metrics.{k}" for k in keys]
    if _numbers_but_times(first)["folds"] != _numbers_but_times(other)["folds"]:
        out.append("folds")
    return out


def _one_call(call: Callable[[], Any], limit_s: float | None) -> tuple[Any, dict[str, Any]]:
    children0 = children_cpu_s()
    started, cpu0 = time.perf_counter(), time.process_time()
    with time_limit(limit_s):
        result = call()
    wall = time.perf_counter() - started
    times = {k: float(v) for k, v in _metrics(result).items()
             if is_time_metric(k) and isinstance(v, int | float) and not isinstance(v, bool)}
    times.setdefault("time_s", wall)
    return result, {"wall_s": wall, "cpu_s": time.process_time() - cpu0,
                    "children_cpu_s": children_cpu_s() - children0, "metrics": times}


def run_timed(call: Callable[[], Any], plan: TimingPlan, *, reseed: Callable[[], Any],
              limit_s: float | None, cpus_used: int) -> Timed:
    """Call the runner as ``plan`` says and measure each timed call.

    Parameters
    ----------
    call
        Calls the runner once and returns what it returned.
    plan
        Warm-up calls and timed repeats (:func:`timing_plan`).
    reseed
        Seeds every generator again with the run's seed; called before every call but the
        first (the harness seeded for it).
    limit_s
        Time limit of each call (:func:`replikit.run.measure.time_limit`).
    cpus_used
        CPUs the run itself uses, for the load's judgement.
    """
    first, result, repeats, differs = None, None, [], []
    window = LoadWindow()
    started_at = time.time()
    for index in range(plan.calls):
        if index:
            reseed()
        if index == plan.warmup:
            window.mark()
        result, measured = _one_call(call, limit_s)
        if index >= plan.warmup:
            window.mark(ours_gone_s=measured["children_cpu_s"])
            repeats.append(measured)
        if first is None:
            first = result
        else:
            differs += [k for k in differing_keys(first, result) if k not in differs]
    load = window.record(cpus_used)
    for measured, others in zip(repeats, load.pop("others_cpus_per_span"), strict=True):
        measured["others_cpus"] = others
    # What the run got of the CPUs it uses: for a CPU-bound run, how much others slowed it.
    load["run_cpu_share"] = round(sum(r["cpu_s"] + r["children_cpu_s"] for r in repeats) / max(
        sum(r["wall_s"] for r in repeats) * cpus_used, 1e-9), 3)
    if load["unreliable"]:
        load["reason"] += (f"; the run got {load['run_cpu_share']:.0%} of the CPU time its "
                           f"{cpus_used} CPU(s) could give")
    medians = {k: statistics.median(r["metrics"][k] for r in repeats)
               for k in repeats[0]["metrics"] if all(k in r["metrics"] for r in repeats)}
    timing = {"alone": plan.alone, "warmup": plan.warmup, "repeats": repeats,
              "identical": not differs, "differs": differs,
              "started_at": started_at, "finished_at": time.time()}
    return Timed(result, *(statistics.median(r[k] for r in repeats)
                           for k in ("wall_s", "cpu_s", "children_cpu_s")),
                 time_metrics=medians, timing=timing, load=load)
