"""The bert4rec runner: called with a RunContext, and once through the run harness.

``replikit.run.harness.execute`` seeds torch, whose first import takes seconds, so the test that
goes through it is marked slow; the others build the RunContext the harness would build.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from _rank_helpers import STUDY_DIR, study_module, synthetic_ratings, write_ratings

from replikit.errors import ReplikitError
from replikit.fileio import read_json, write_json
from replikit.run.harness import RunContext, execute
from replikit.study import Study

runner = study_module("runner")


def _study(experiments: dict) -> Study:
    study = Study.model_validate({
        "name": "bert4rec",
        "summary": "test study",
        "paper": {"title": "t", "authors": ["a"], "venue": "v", "year": 2019},
        "hardware": {"declared": {}},
        "artifacts": {"ml-100k": {"description": "ratings", "path": "u.data"}},
        "experiments": experiments,
        "claims": [{"id": "C1", "text": "t", "source": "s", "metric": "full/ndcg@10",
                    "reported": 0.1, "tolerance": {"absolute": 0.1},
                    "levels": {"re-implement": next(iter(experiments))}}],
    })
    study._dir = STUDY_DIR  # the runner file is resolved in the real study folder
    return study


def _setup(tmp_path: Path, params: dict, seed: int, name: str):
    tmp_path.mkdir(parents=True, exist_ok=True)
    ratings = write_ratings(synthetic_ratings(n_users=150, n_items=130, seed=3),
                            tmp_path / "u.data", "ml-100k")
    record = {"name": "ml-100k", "status": "ok", "path": str(ratings)}
    study = _study({name: {"description": "d", "implementation": "reimplementation",
                           "runner": "runner.py:run_experiment", "params": params,
                           "needs": ["ml-100k"], "seeds": [seed]}})
    return study, record


def _run(tmp_path: Path, params: dict, seed: int = 0, name: str = "exp") -> dict:
    """What execute() does, minus seeding torch: returns the runner's result."""
    study, record = _setup(tmp_path, params, seed, name)
    ctx = RunContext(study, name, study.experiments[name], seed, {"ml-100k": record}, tmp_path)
    return runner.run_experiment(ctx)


@pytest.mark.slow
def test_through_the_run_harness(tmp_path):
    params = {"model": "itemknn", "dataset": "ml-100k", "hyperparameters": {"decay": 0.8},
              "preprocessing": {"min_item_interactions": 1}}
    study, record = _setup(tmp_path, params, 0, "exp")
    path = write_json(tmp_path / "artifact.json", record)
    execute(study, "exp", 0, [path], tmp_path / "metrics.json")
    written = read_json(tmp_path / "metrics.json")
    assert written["status"] == "ok" and written["device"] == "cpu"
    direct = _run(tmp_path / "direct", params)
    assert written["metrics"]["full/ndcg@10"] == direct["metrics"]["full/ndcg@10"]
    assert written["extra"]["best_params"] == {"decay": 0.8}


def test_mostpop_runs_every_protocol(tmp_path):
    record = _run(tmp_path, {"model": "mostpop", "dataset": "ml-100k", "protocols": "full",
                             "preprocessing": {"min_item_interactions": 1}})
    assert {k.split("/")[0] for k in record["metrics"] if "/" in k} == {"full"}
    record = _run(tmp_path, {"model": "mostpop", "dataset": "ml-100k",
                             "preprocessing": {"min_item_interactions": 1}})
    metrics = record["metrics"]
    for protocol in ("full", "pop100", "uni100"):
        for name in ("hr@1", "hr@5", "hr@10", "ndcg@1", "ndcg@5", "ndcg@10", "mrr"):
            assert 0 <= metrics[f"{protocol}/{name}"] <= 1
    extra = record["extra"]
    assert len(extra["per_unit"]["full/ndcg@10"]) == len(extra["per_unit"]["user"]) == 150
    assert extra["budget"] == {"trials": 2, "epochs": 2, "seconds": 120.0, "steps": None,
                               "trials_run": 0}
    assert extra["best_params"] == {} and extra["tuning"] is None
    assert record["device"] == "cpu" and extra["data"]["users"] == 150
    protocol = extra["protocol"]["full/ndcg@10"]  # what the figure was measured under
    assert protocol["data"] == hashlib.sha256((tmp_path / "u.data").read_bytes()).hexdigest()
    assert protocol["exclude_history"] is True and protocol["cutoff"] == 10
    assert protocol["filter"] == "every rating; users and items with >= 5 / 1 interactions"
    assert protocol["budget"] == "epochs=2, seconds<=120"
    assert protocol["selection"].startswith("fixed hyperparameters")
    assert extra["protocol"]["pop100/mrr"]["cutoff"] is None
    assert extra["protocol"]["pop100/mrr"]["ranking"].startswith("sampled: 100 popularity")


def test_itemknn_is_tuned_then_tested_once_and_repeats_bit_for_bit(tmp_path):
    params = {"model": "itemknn", "dataset": "ml-100k", "protocols": ["full", "pop100"],
              "budget": {"trials": 3}, "space": {"decay": [1.0, 0.8, 0.5], "neighbours": [10, 50]},
              "preprocessing": {"min_item_interactions": 1}}
    first = _run(tmp_path / "a", params)
    second = _run(tmp_path / "b", params)
    tuning = first["extra"]["tuning"]
    assert len(tuning["trials"]) == 3 and first["extra"]["budget"]["trials_run"] == 3
    best = max(tuning["trials"], key=lambda t: t["value"])
    assert first["extra"]["best_params"] == best["params"]
    assert set(k.split("/")[0] for k in first["metrics"] if "/" in k) == {"full", "pop100"}
    for key, value in first["metrics"].items():
        if "/" in key:
            assert second["metrics"][key] == value  # bit for bit
    assert first["extra"]["per_unit"] == second["extra"]["per_unit"]


def test_original_sequence_files_are_split_as_they_are(tmp_path):
    study, record = _setup(tmp_path, {"model": "mostpop", "dataset": "ml-1m",
                                      "source": "original", "protocols": ["full"]}, 0, "exp")
    lines = [f"{u} {i}" for u in range(1, 4) for i in (4, 1, 2, 3)]
    (tmp_path / "ml-1m.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    record = {"name": "ml-1m", "status": "ok", "path": str(tmp_path / "ml-1m.txt")}
    ctx = RunContext(study, "exp", study.experiments["exp"], 0, {"ml-1m": record}, tmp_path)
    result = runner.run_experiment(ctx)
    # each user's file order is 4, 1, 2, 3: the test item is 3 (not the largest id, not the
    # first line) and every other item is history, so the target has no competitor
    assert result["extra"]["data"] == {"users": 3, "items": 4, "interactions": 12,
                                       "mean_length": 4.0}
    assert result["metrics"]["full/hr@1"] == 1.0
    assert result["extra"]["per_unit"]["full/rank"] == [0, 0, 0]


def test_the_model_dispatch_accepts_any_protocol_class(tmp_path):
    cls = runner.resolve_model("baselines:ItemKNN")
    assert cls.__name__ == "ItemKNN"
    with pytest.raises(ReplikitError, match="unknown model 'gru4rec'"):
        runner.resolve_model("gru4rec")
    with pytest.raises(ReplikitError, match="cannot import the module of model 'bert4rec_x:Model'"):
        runner.resolve_model("bert4rec_x:Model")
    with pytest.raises(ReplikitError, match="data.make_split is not a recommender"):
        runner.resolve_model("data:make_split")


@pytest.mark.parametrize(("params", "message"), [
    ({"model": "mostpop", "dataset": "ml-100k", "folds": 5}, r"unknown param\(s\) \['folds'\]"),
    ({"model": "mostpop", "dataset": "ml-20m"}, "unknown dataset 'ml-20m'"),
    ({"model": "mostpop", "dataset": "ml-1m", "source": "csv"}, "unknown source 'csv'"),
    ({"model": "mostpop", "dataset": "ml-100k", "protocols": ["pop50"]},
     "unknown ranking protocol"),
    ({"model": "mostpop", "dataset": "ml-100k", "budget": {"step": 1}},
     r"params.budget: unknown budget key"),
])
def test_bad_params_name_the_experiment(tmp_path, params, message):
    with pytest.raises(ReplikitError, match=message) as info:
        _run(tmp_path, params)
    assert "experiments.exp.params" in str(info.value)
