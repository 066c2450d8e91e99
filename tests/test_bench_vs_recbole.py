"""bench/bench_vs_recbole.py without RecBole: its scores mapped to our layout, ranked, paired."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")  # the bench imports our neural models

from replikit.errors import ReplikitError  # noqa: E402
from studies.bert4rec.data import SequentialSplit  # noqa: E402

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))  # the bench imports its helper beside it
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


bench = _load("bench_vs_recbole")
paired = _load("paired")


def _split() -> SequentialSplit:
    # raw user ids 10, 20, 30; raw item ids 100..104 are our indices 1..5
    return SequentialSplit(
        n_items=5, users=np.array([10, 20, 30]), item_ids=np.array([0, 100, 101, 102, 103, 104]),
        train=[np.array([1]), np.array([2]), np.array([3])], valid=np.array([2, 3, 4]),
        test=np.array([3, 4, 5]))


def _exported(targets=(102, 103, 104)) -> dict:
    # RecBole's own order: users 30, 10, 20 and items 104, 100, 101, 102, 103
    items = np.array([104, 100, 101, 102, 103])
    scores = np.array([[9, 0, 1, 2, 3], [0, 5, 4, 9, 1], [1, 2, 3, 9, 5]], dtype=np.float32)
    return {"users": np.array([30, 10, 20]), "items": items,
            "targets": np.array(targets)[[2, 0, 1]], "scores": scores}


def test_recbole_scores_are_laid_out_as_ours_and_differing_test_items_named():
    scores, differing = bench.in_our_order(_exported(), _split())
    assert differing == []
    assert scores[0].tolist() == [-np.inf, 5, 4, 9, 1, 0]  # user 10: items 100..104
    assert scores[2].tolist() == [-np.inf, 0, 1, 2, 3, 9]  # user 30
    _, differing = bench.in_our_order(_exported(targets=(102, 104, 104)), _split())
    assert differing == [20]


def test_other_users_or_items_than_ours_are_refused():
    exported = {**_exported(), "users": np.array([30, 10, 99])}
    with pytest.raises(ReplikitError, match="other users or items"):
        bench.in_our_order(exported, _split())


def test_one_row_per_history_rule_each_with_its_protocol():
    split = _split()
    scores, _ = bench.in_our_order(_exported(), split)
    base = {"data": "x", "exclude_history": True, "cutoff": 10}
    rows, per_user = bench.ranked_rows({"library": "recbole"}, scores, split, base)
    assert [r["exclude_history"] for r in rows] == [False, True]
    assert [r["protocol"]["exclude_history"] for r in rows] == [False, True]
    # user 10's target (102, index 3) scores highest: rank 0 either way
    assert per_user[False][0] == per_user[True][0] == 1.0
    # user 20's history item 102 outscores its target 103 unless the history is excluded
    assert per_user[True][1] > per_user[False][1]


def test_paired_comparison_over_seeds_with_a_bootstrap_interval():
    rng = np.random.default_rng(0)
    ours = {s: rng.uniform(0.2, 0.4, 200) for s in (0, 1)}
    per_user = {("replikit", "m", s, False): v for s, v in ours.items()}
    per_user |= {("recbole", "m", s, False): v - 0.1 for s, v in ours.items()}
    rows = [{"model": "m", "exclude_history": False, "protocol": {"a": 1}}] * 4
    [result] = paired.paired_rows(per_user, rows)
    assert result["seeds"] == [0, 1] and result["diff"] == pytest.approx(0.1)
    assert result["ci_low"] <= 0.1 <= result["ci_high"] and result["wilcoxon_p"] < 1e-6
    unequal = rows[:3] + [{"model": "m", "exclude_history": False, "protocol": {"a": 2}}]
    assert paired.paired_rows(per_user, unequal) == []  # other protocols: never paired


def test_combined_files_keep_each_rows_command(tmp_path):
    paths = []
    for model in ("sasrec", "bert4rec"):
        path = tmp_path / f"{model}.json"
        path.write_text(bench.json.dumps({
            "command": f"bench --models {model}", "budget_rule": "equal steps",
            "rows": [{"model": model, "ndcg@10": 0.1}], "paired": [{"model": model}]}))
        paths.append(path)
    both = bench.combined(paths)
    assert [run["command"] for run in both["runs"]] == ["bench --models sasrec",
                                                          "bench --models bert4rec"]
    assert [(r["model"], r["command"]) for r in both["rows"]] == [
        ("sasrec", "bench --models sasrec"), ("bert4rec", "bench --models bert4rec")]
    assert both["paired"][1]["command"] == "bench --models bert4rec"
