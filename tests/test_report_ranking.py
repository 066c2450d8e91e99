"""Tests of replikit.ext.recsys.report_section on run records the test builds itself."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from replikit.ext.recsys.report_section import (
    budget_table,
    curve_frame,
    ranking_runs,
    ranking_section,
    reordering_check,
    results_ci_wide,
    results_table,
    results_wide,
    winners,
)
from replikit.publish.report.common import write_csv
from replikit.publish.text import markdown_table
from replikit.study import load_study

# Full-ranking NDCG@10 orders a > b > c; popularity-sampled orders b > a > c (one swap).
MEANS = {"a": {"full": 0.30, "pop100": 0.50}, "b": {"full": 0.20, "pop100": 0.60},
         "c": {"full": 0.10, "pop100": 0.20}}


def _record(model: str, seed: int, *, status: str = "ok") -> dict:
    shift = 0.01 * seed
    metrics = {f"{p}/{m}": v + shift for p, v in MEANS[model].items()
               for m in ("ndcg@10", "hr@10")}
    curve = [{"epoch": e, "seconds": 2.0 * e, "metric": {"valid/full/ndcg@10": 0.05 * e}}
             for e in (1, 2, 3)] if model != "c" else []
    return {
        "experiment": f"exp-{model}", "seed": seed, "status": status, "profile": "quick",
        "params": {"model": model, "dataset": "toy"}, "cpu_s": 10.0 + seed,
        "metrics": metrics if status == "ok" else {},
        "extra": {"budget": {"trials": 2, "epochs": 5, "seconds": 30.0, "trials_run": 2},
                  "final_fit": {"epochs": 5}, "timings": {"fit_s": 3.0, "tune_s": 6.0},
                  "curve": curve},
    }


@pytest.fixture
def runs() -> list[dict]:
    records = [_record(m, s) for m in MEANS for s in (0, 1, 2)]
    records.append(_record("a", 9, status="not-run"))
    return records


def test_ranking_runs_keeps_only_usable_ranking_records(runs):
    kept = ranking_runs(runs + [{"status": "ok", "metrics": {"rmse": 1.0}}])
    assert len(kept) == 9
    assert all(r["status"] == "ok" for r in kept)


def test_results_table_mean_sd_and_t_interval(runs):
    table = results_table(runs)
    row = table[(table["experiment"] == "exp-a") & (table["protocol"] == "full")
                & (table["metric"] == "ndcg@10")].iloc[0]
    assert row["n"] == 3
    assert row["mean"] == pytest.approx(0.31)
    assert row["sd"] == pytest.approx(0.01)
    half = 4.302652729911275 * 0.01 / math.sqrt(3)  # t(0.975, 2)
    assert row["ci_high"] - row["mean"] == pytest.approx(half)


def test_winners_name_the_leader_per_protocol_with_intervals(runs):
    sentences = winners(results_table(runs))
    assert len(sentences) == 2  # toy under full ranking and under pop100
    full, pop = sentences
    assert full.startswith("toy, full ranking: **a** leads with ndcg@10 0.3100 [")
    assert "ahead of b (0.2100 [" in full and full.endswith("the intervals do not overlap.")
    assert "**b** leads" in pop and "ahead of a" in pop


def test_winners_say_when_intervals_overlap_and_label_two_budgets_apart(runs):
    close = [_record("a", s) for s in (0, 1, 2)]
    for seed, record in enumerate(_record("a", s) for s in (0, 1, 2)):
        record["experiment"] = "exp-a-long"
        record["params"]["label"] = "a_long*"  # Markdown characters in a label are escaped
        record["metrics"] = {k: v + (0.02 if seed == 1 else -0.005) for k, v in
                             record["metrics"].items()}
        close.append(record)
    full = winners(results_table(close))[0]
    assert "**a\\_long\\*** leads" in full
    assert full.endswith("overlap, so they alone do not settle the order (a claim's paired "
                         "test over users does).")


def _recorded(records, exclude):
    for record in records:
        record["extra"]["protocol"] = {key: {"exclude_history": exclude(record)}
                                       for key in record["metrics"]}
    return records


def test_winners_say_whether_the_history_was_excluded_as_the_runs_recorded(runs):
    full = winners(results_table(_recorded(runs, lambda r: True)))[0]
    assert full.startswith("toy, full ranking (history excluded): **a** leads")


def test_winners_refuse_to_rank_models_recorded_under_different_history_rules(runs):
    mixed = _recorded(runs, lambda r: r["experiment"] != "exp-b")
    full = winners(results_table(mixed))[0]
    assert full == ("toy, full ranking: not compared, because the models' runs differ in "
                    "whether the user's history was excluded.")


def test_results_wide_has_one_row_per_model(runs):
    wide = results_wide(results_table(runs))
    assert list(wide["model"]) == ["a", "b", "c"]
    assert wide.loc[0, "full ndcg@10"] == "0.3100 ± 0.0100"
    assert set(wide["seeds"]) == {3}


def test_results_ci_wide_gives_intervals_per_protocol(runs):
    intervals = results_ci_wide(results_table(runs))
    assert list(intervals.columns[2:]) == ["full ndcg@10 95% CI", "pop100 ndcg@10 95% CI"]
    half = 4.302652729911275 * 0.01 / math.sqrt(3)
    assert intervals.loc[0, "full ndcg@10 95% CI"] == f"[{0.31 - half:.4f}, {0.31 + half:.4f}]"


def test_reordering_check_finds_the_swapped_pair(runs):
    reorder = reordering_check(results_table(runs))
    pop = reorder[reorder["protocol"] == "pop100"].iloc[0]
    assert pop["swaps"] == "a/b"
    assert pop["order under full"] == "a > b > c"
    assert pop["order under protocol"] == "b > a > c"
    assert pop["kendall_tau"] == pytest.approx(1 / 3)


def test_reordering_check_without_swaps():
    frame = pd.DataFrame({"dataset": "d", "metric": "ndcg@10", "model": list("abab"),
                          "protocol": ["full", "full", "uni100", "uni100"],
                          "mean": [0.2, 0.1, 0.6, 0.5]})
    row = reordering_check(frame).iloc[0]
    assert row["swaps"] == ""
    assert row["kendall_tau"] == pytest.approx(1.0)


def test_budget_table_lists_every_model_side_by_side(runs):
    budgets = budget_table(runs)
    assert list(budgets["model"]) == ["a", "b", "c"]
    assert set(budgets["budget trials"]) == {2}
    assert budgets.loc[0, "cpu s per run"] == pytest.approx(11.0)
    assert budgets.loc[0, "seeds"] == 3
    assert list(budgets["space searched"]) == ["not tuned"] * 3  # the toy runs have no space


def test_budget_table_says_how_much_of_each_space_was_searched(runs):
    for record in runs:
        record["params"]["space"] = ({"k": [1, 2], "decay": [1.0, 0.8]}
                                     if record["experiment"] == "exp-a"
                                     else {"lr": {"loguniform": [1e-4, 1e-2]}})
    searched = budget_table(runs).set_index("model")["space searched"]
    assert searched["a"] == "2 of 4 grid points"
    assert searched["b"] == "2 points of a space with ranges (no end)"


def test_curve_frame_skips_runs_without_curves(runs):
    curves = curve_frame(runs)
    assert set(curves["model"]) == {"a", "b"}
    assert len(curves) == 2 * 3 * 3


def test_ranking_section_writes_tables_and_figure(runs, tmp_path):
    study = load_study("bert4rec")
    text = ranking_section(study, runs, tmp_path, write_csv, markdown_table)
    for name in ("ranking_results", "budgets", "reordering", "profiles", "training_curves"):
        assert (tmp_path / "tables" / f"{name}.csv").exists(), name
    assert (tmp_path / "figures" / "training-curve.png").read_bytes()[:4] == b"\x89PNG"
    assert "figures/training-curve.png" in text
    assert "a/b" in text
    assert "quick" in text and "paper" in text


def test_ranking_section_is_empty_without_ranking_runs(tmp_path):
    study = load_study("bert4rec")
    runs = [{"status": "ok", "experiment": "x", "seed": 0, "metrics": {"rmse": 0.9}}]
    assert ranking_section(study, runs, tmp_path, write_csv, markdown_table) == ""
    assert not (tmp_path / "tables").exists()
