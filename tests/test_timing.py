"""Timed runs: which experiments are timed, the repeat record, and judging over repeats."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest

import replikit.evaluate.timings as judging
import replikit.run.load as load
import replikit.run.timing as timing
from replikit.evaluate.ledger import build_ledger
from replikit.evaluate.verdicts import make_band
from replikit.run.timing import TimingPlan, run_timed, timed_experiments, timing_plan
from replikit.study import Study, Tolerance
from replikit.vocabulary import INCONCLUSIVE, NOT_REPRODUCED, PARTIAL, REPRODUCED


def test_doctests():
    for module in (timing, load, judging):
        assert doctest.testmod(module).failed == 0, module.__name__


def study(**timing_of_b) -> Study:
    exp = {"description": "d", "implementation": "reimplementation", "runner": "r.py:f",
           "seeds": [0]}
    return Study.model_validate({
        "schema_version": 1, "name": "t", "summary": "s",
        "paper": {"title": "t", "authors": ["A"], "venue": "v", "year": 2024},
        "hardware": {"declared": {}},
        "experiments": {"a": exp, "b": {**exp, "timing": timing_of_b} if timing_of_b else exp,
                        "c": exp, "d": exp},
        "claims": [
            {"id": "r", "text": "t", "source": "s", "kind": "ratio", "metric": "time_s",
             "reported": 2.0, "higher_is_better": False, "tolerance": {"relative": 0.2},
             "levels": {"re-run": {"a": "a", "b": "b"}}},
            {"id": "v", "text": "t", "source": "s", "metric": "rmse", "reported": 1.0,
             "tolerance": {"absolute": 0.1}, "levels": {"re-run": "c"}},
            {"id": "p", "text": "t", "source": "s", "metric": "samples_per_s",
             "reported": 9.0, "tolerance": {"relative": 0.1}, "levels": {"re-run": "d"}},
        ]})


def test_timed_experiments_come_from_time_ratio_and_throughput_claims():
    assert timed_experiments(study()) == {"a", "b", "d"}
    assert timing_plan(study(), "a") == TimingPlan(alone=True, warmup=1, repeats=5)
    assert timing_plan(study(), "c") == TimingPlan(alone=False, warmup=0, repeats=1)


def test_the_manifest_may_override_alone_and_the_repeats():
    assert timing_plan(study(alone=False), "b").alone is False
    assert timing_plan(study(repeats=3, warmup=0), "b") == TimingPlan(True, 0, 3)


class Counter:
    """A runner stand-in: the same numbers on every call unless told to drift."""

    def __init__(self, drift: bool = False):
        self.calls, self.drift = 0, drift

    def __call__(self):
        self.calls += 1
        rmse = 0.9 + (self.calls * 1e-6 if self.drift else 0.0)
        return {"metrics": {"rmse": rmse, "fit_time": 0.01 * self.calls},
                "folds": [{"fold": 0, "rmse": rmse, "fit_time": 0.5}]}


def test_a_warm_up_then_every_repeat_is_recorded():
    runner, reseeds = Counter(), []
    timed = run_timed(runner, TimingPlan(True, 1, 3), reseed=lambda: reseeds.append(1),
                      limit_s=None, cpus_used=1)
    assert runner.calls == 4 and len(reseeds) == 3   # every call but the first is reseeded
    repeats = timed.timing["repeats"]
    assert len(repeats) == 3 and timed.timing["warmup"] == 1
    # The runner's own time metric per repeat (calls 2..4), and the wall time as time_s.
    assert [r["metrics"]["fit_time"] for r in repeats] == pytest.approx([0.02, 0.03, 0.04])
    assert all({"wall_s", "cpu_s", "children_cpu_s", "others_cpus"} <= set(r) for r in repeats)
    assert timed.time_metrics["fit_time"] == pytest.approx(0.03)   # the median
    assert timed.time_metrics["time_s"] == pytest.approx(
        float(np.median([r["wall_s"] for r in repeats])))
    assert timed.timing["identical"] is True and timed.timing["differs"] == []
    assert timed.timing["started_at"] <= timed.timing["finished_at"]
    assert timed.load["run_cpu_share"] >= 0 and "others_cpus" in timed.load


def test_repeats_that_compute_different_numbers_say_so():
    timed = run_timed(Counter(drift=True), TimingPlan(True, 1, 2), reseed=lambda: None,
                      limit_s=None, cpus_used=1)
    assert timed.timing["identical"] is False
    assert timed.timing["differs"] == ["metrics.rmse", "folds"]


def test_this_process_and_its_children_are_ours_not_load():
    burn = ("import time\nt = time.process_time()\n"
            "while time.process_time() - t < 0.3: pass\ntime.sleep(30)")
    before = load.snapshot()
    child = subprocess.Popen([sys.executable, "-c", burn])
    try:
        proc = psutil.Process(child.pid)
        while sum(proc.cpu_times()[:2]) < 0.3:
            time.sleep(0.05)
        after = load.snapshot()
        ours = load.our_pids()
        assert {os.getpid(), child.pid} <= ours
        assert load.cpu_between(before.procs, after.procs)[child.pid] >= 0.3  # CPU use seen
        assert child.pid not in load.cpu_between(before.procs, after.procs, ours)  # not load
    finally:
        child.kill()
        child.wait()


def test_others_are_the_machines_busy_time_less_ours():
    before = load.Snapshot({1: (0.0, 5.0, "ours"), 2: (0.0, 1.0, "other")}, busy_s=100.0)
    after = load.Snapshot({1: (0.0, 8.0, "ours"), 2: (0.0, 2.0, "other")}, busy_s=106.0)
    # 6 busy seconds: 3 ours (alive), 0.5 ours that ended (a child), so 2.5 others' (1 of
    # them from a process we can see, 1.5 from ones that came and went or we cannot see).
    assert load.others_cpu_s(before, after, {1}, ours_gone_s=0.5) == pytest.approx(2.5)
    assert load.others_cpu_s(before, after, {1, 2}, ours_gone_s=9.0) == 0.0


def test_cpu_between_skips_excluded_and_counts_new_processes_whole():
    before = {1: (0.0, 5.0, "ours"), 2: (0.0, 1.0, "other")}
    after = {1: (0.0, 9.0, "ours"), 2: (0.0, 3.0, "other"), 3: (5.0, 0.5, "new"),
             4: (7.0, 0.2, "pid reused")}
    assert load.cpu_between(before | {4: (1.0, 9.0, "old")}, after, {1}) == {
        2: 2.0, 3: 0.5, 4: 0.2}


# --------------------------------------------------------------------------- judging
BAND = make_band(2.0, Tolerance(relative=0.2), None)   # [1.6, 2.4]


@pytest.mark.parametrize("a, b, verdict", [
    ([2.0, 2.02, 1.98, 2.01, 1.99], [1.0, 1.01, 0.99, 1.0, 1.0], REPRODUCED),
    ([4.0, 4.1, 3.9, 4.05, 3.95], [1.0, 1.01, 0.99, 1.0, 1.0], NOT_REPRODUCED),
    ([2.3, 1.2, 2.9, 2.2, 2.25], [1.0, 1.0, 1.0, 1.0, 1.0], PARTIAL),
    ([2.6, 1.9, 3.2, 2.5, 2.55], [1.0, 1.0, 1.0, 1.0, 1.0], INCONCLUSIVE),
])
def test_a_ratio_of_times_is_judged_on_the_median_and_its_bootstrap(a, b, verdict):
    judged = judging.judge_ratio_repeats(a, b, BAND, kind="ratio", a="a", b="b",
                                         higher_is_better=False)
    assert judged.verdict.verdict == verdict, judged.verdict.reason
    assert judged.median == pytest.approx(np.median(a) / np.median(b))
    assert judged.low <= judged.median <= judged.high
    assert "ratio of medians over 5 and 5 repeats" in judged.verdict.reason
    assert "Mann–Whitney U" in judged.verdict.reason
    again = judging.judge_ratio_repeats(a, b, BAND, kind="ratio", a="a", b="b",
                                        higher_is_better=False)
    assert (again.ci_low, again.ci_high) == (judged.ci_low, judged.ci_high)  # seeded


def test_a_time_claim_is_judged_on_the_median_with_its_spread():
    judged = judging.judge_time_repeats([2.1, 2.0, 1.9, 2.05, 1.95], BAND)
    assert judged.verdict.verdict == REPRODUCED
    assert (judged.median, judged.low, judged.high) == (2.0, 1.9, 2.1)
    assert "median of 5 repeats, spread 1.9–2.1 s" in judged.verdict.reason


def record(experiment: str, times: list[float], unreliable: bool = False) -> dict:
    reason = "processes not of this workflow used 1.5 CPUs" if unreliable else ""
    return {"experiment": experiment, "seed": 0, "status": "ok",
            "metrics": {"time_s": float(np.median(times)), "rmse": 1.0, "samples_per_s": 9.0},
            "timing": {"repeats": [{"metrics": {"time_s": t}} for t in times]},
            "load": {"unreliable": unreliable, "reason": reason}}


def test_the_ledger_judges_a_ratio_over_repeats_and_under_load_is_inconclusive():
    runs = [record("a", [4.0, 4.1, 3.9, 4.05, 3.95]), record("b", [1.0, 1.01, 0.99, 1.0, 1.0]),
            record("c", [1.0]), record("d", [1.0])]
    row = build_ledger(study(), runs, hardware_comparable=False).iloc[0]
    assert row["verdict"] == NOT_REPRODUCED and row["sample"] == "repeats"
    assert row["n"] == 5 and row["median"] == pytest.approx(4.0)
    assert (row["spread_low"], row["spread_high"]) == pytest.approx((3.9, 4.1))
    runs[0] = record("a", [4.0, 4.1, 3.9, 4.05, 3.95], unreliable=True)
    row = build_ledger(study(), runs, hardware_comparable=False).iloc[0]
    assert row["verdict"] == INCONCLUSIVE
    assert "1.5 CPUs" in row["reason"] and "re-time on an idle machine" in row["reason"]


def test_records_without_repeats_keep_the_value_rules():
    runs = [record("a", [4.0]), record("b", [1.0]), record("c", [1.0]), record("d", [1.0])]
    row = build_ledger(study(), runs, hardware_comparable=False).iloc[0]
    assert row["sample"] != "repeats" and "a single run (n = 1)" in row["reason"]


def test_the_report_says_how_each_time_was_taken():
    from replikit.publish.report.time import taken_statement, taken_table

    alone = {"experiment": "a", "seed": 0, "status": "ok",
             "timing": {"alone": True, "warmup": 1, "identical": True, "repeats": [
                 {"metrics": {"time_s": t}, "others_cpus": o}
                 for t, o in ((2.0, 0.0), (2.4, 1.3), (2.1, 0.1))]},
             "load": {"reason": "processes not of this workflow used 0.5 CPUs"}}
    shared = {"experiment": "c", "seed": 0, "status": "ok",
              "timing": {"alone": False, "warmup": 0, "identical": True,
                         "repeats": [{"metrics": {"time_s": 1.0}}]}, "load": {}}
    table = taken_table([alone, shared], {"a"})
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["taken"], row["repeats"], row["time (s)"]) == ("alone", "3 after 1 warm-up",
                                                               "2.0–2.4")
    assert row["other load (CPUs)"] == "1.30" and "0.5 CPUs" in row["disturbed"]
    assert taken_statement(table) == (
        "Of 1 timed runs, 1 ran alone (no other job of the workflow beside them), each timed "
        "over the repeats shown in the claims detail; 1 were disturbed by processes not of "
        "this workflow.")


def test_repeats_that_differ_are_named_in_the_reason():
    runs = [record("a", [4.0, 4.1, 3.9]), record("b", [1.0, 1.01, 0.99]), record("c", [1.0]),
            record("d", [1.0])]
    runs[1]["timing"].update(identical=False, differs=["metrics.rmse"])
    row = build_ledger(study(), runs, hardware_comparable=False).iloc[0]
    assert "the repeats of 1 run(s) computed different numbers (metrics.rmse)" in row["reason"]


def test_a_timed_run_asks_for_the_whole_machine_or_an_exclusive_node():
    from replikit.run.resources import SlurmSite, pin_library_threads, rule_resources, rule_threads

    site = SlurmSite(extra="--qos=normal")
    timed, plain = rule_resources(study(), "a", site), rule_resources(study(), "c", site)
    assert timed["slurm_extra"] == "--qos=normal --exclusive" and timed["runtime"] == 6 * 60
    assert plain["slurm_extra"] == "--qos=normal" and plain["runtime"] == 60
    assert rule_threads(study(), "a", 8) == 8 and rule_threads(study(), "c", 8) == 1
    assert rule_threads(study(), "a", None) == 1   # on a cluster: its declared threads
    environ = {"OMP_NUM_THREADS": "8"}
    pin_library_threads(study(), "a", environ)
    assert environ["OMP_NUM_THREADS"] == "1" and environ["MKL_NUM_THREADS"] == "1"
