"""Equal-budget tuning on Optuna (ext/recsys/tuning.py): chosen on validation, tested once."""

from __future__ import annotations

import numpy as np
import pytest
from _rank_helpers import RecordingModel, study_module, synthetic_ratings

from replikit.errors import ReplikitError
from replikit.ext.recsys.tuning import Budget, check_space, fit_and_test, parse_metric, tune

data = study_module("data")
baselines = study_module("baselines")


@pytest.fixture(scope="module")
def split():
    return data.make_split(synthetic_ratings(n_users=150, n_items=130, seed=11),
                           min_item_interactions=1)


def test_budget_validation_and_round_trip():
    budget = Budget(trials=3, epochs=10, seconds=60.0)
    assert Budget.from_dict(budget.to_dict()) == budget
    with pytest.raises(ReplikitError, match="budget 'trials' is out of range"):
        Budget(trials=0)
    with pytest.raises(ReplikitError, match="budget 'seconds' is out of range"):
        Budget(seconds=-1)
    with pytest.raises(ReplikitError, match="budget 'steps' is out of range"):
        Budget(steps=0)
    assert Budget.from_dict({"steps": 5}).steps == 5
    with pytest.raises(ReplikitError, match=r"x.yaml: unknown budget key\(s\) \['step'\]"):
        Budget.from_dict({"step": 5}, where="x.yaml")


def _ids(trials):
    return [(t["params"], t["value"]) for t in trials]


def test_a_grid_is_searched_without_repeats_and_whole_when_smaller_than_the_budget(split):
    space = {"decay": [1.0, 0.7, 0.4], "neighbours": [5, 20]}
    result = tune(lambda p: baselines.ItemKNN(**p), space, split, Budget(trials=4), seed=0)
    points = [(t["params"]["decay"], t["params"]["neighbours"]) for t in result.trials]
    assert len(points) == len(set(points)) == 4
    whole = tune(lambda p: baselines.ItemKNN(**p), space, split, Budget(trials=50), seed=0)
    assert len(whole.trials) == 6


def test_ranges_stay_in_bounds_and_repeat_with_the_seed(split):
    space = {"bonus": {"loguniform": [1e-4, 1e-1]}, "p": {"uniform": [0, 0.5]},
             "epochs": {"randint": [1, 3]}}

    def make(params):
        assert 1e-4 <= params["bonus"] <= 1e-1 and 0 <= params["p"] <= 0.5
        assert params["epochs"] in (1, 2, 3)
        return RecordingModel(bonus=params["bonus"], epochs=params["epochs"])

    first = tune(make, space, split, Budget(trials=5), seed=5)
    assert _ids(first.trials) == _ids(tune(make, space, split, Budget(trials=5), seed=5).trials)
    assert _ids(first.trials) != _ids(tune(make, space, split, Budget(trials=5), seed=6).trials)


@pytest.mark.parametrize("spec", [[], {"uniform": [2, 1]}, {"loguniform": [0, 1]}, 5])
def test_bad_space_entries_are_named(spec):
    with pytest.raises(ReplikitError, match="search space entry 'x' is not understood"):
        check_space({"x": spec})


def test_parse_metric():
    assert parse_metric("pop100/hr@10") == ("pop100", "hr@10")
    with pytest.raises(ReplikitError, match="names no protocol"):
        parse_metric("ndcg@10")


def _without_timings(trials):
    return [{**{k: v for k, v in t.items() if k not in ("cpu_s", "wall_s")},
             "fit": {k: v for k, v in t["fit"].items() if k != "train_seconds"}}
            for t in trials]


def test_tune_picks_the_best_validation_trial_and_is_repeatable(split):
    space = {"decay": [1.0, 0.7, 0.4], "neighbours": [5, 20]}
    budget = Budget(trials=4)
    result = tune(lambda p: baselines.ItemKNN(**p), space, split, budget, seed=0)
    again = tune(lambda p: baselines.ItemKNN(**p), space, split, budget, seed=0)
    assert len(result.trials) == 4
    assert _without_timings(result.trials) == _without_timings(again.trials)
    best = max(result.trials, key=lambda t: t["value"])
    assert result.best_params == best["params"] == result.best_trial["params"]
    assert result.best_trial["metrics"]["full/ndcg@10"] == best["value"]
    assert result.to_dict()["budget"] == {"trials": 4, "epochs": None, "seconds": None,
                                          "steps": None}


def test_tuning_fits_on_validation_with_a_curve_and_the_final_fit_sees_no_test(split):
    RecordingModel.fitted_stages.clear()
    budget = Budget(trials=2, epochs=2)
    result = tune(lambda p: RecordingModel(**p), {"bonus": [0.0, 1000.0]}, split, budget,
                  seed=0, metric="pop100/ndcg@10", fixed={"epochs": 5})
    assert RecordingModel.fitted_stages == ["valid", "valid"]
    trial = result.trials[0]
    assert trial["params"] == {"epochs": 5, "bonus": 0.0}
    assert trial["fit"]["epochs"] == 2  # the budget caps the model's own epochs
    assert [p["metric"] for p in trial["fit"]["curve"]] == [
        {"valid/pop100/ndcg@10": trial["value"]}] * 2
    final = fit_and_test(lambda p: RecordingModel(**p), result.best_params, split, budget,
                         seed=0, protocols=("full", "uni100"))
    assert RecordingModel.fitted_stages[-1] == "test"
    assert all("metric" not in p for p in final["fit"]["curve"])  # no on_epoch on test
    assert set(final["results"]) == {"full", "uni100"}
    per_user = final["results"]["full"]["per_user"]["ndcg@10"]
    assert per_user.shape == (len(split.users),)
    assert final["results"]["full"]["aggregate"]["ndcg@10"] == pytest.approx(per_user.mean())


def test_final_results_repeat_bit_for_bit(split):
    runs = [fit_and_test(lambda p: baselines.ItemKNN(**p), {"decay": 0.8}, split,
                         Budget(), seed=3, protocols=("full", "pop100", "uni100"))
            for _ in range(2)]
    for protocol in ("full", "pop100", "uni100"):
        a, b = (r["results"][protocol] for r in runs)
        assert a["aggregate"] == b["aggregate"]
        assert np.array_equal(a["per_user"]["rank"], b["per_user"]["rank"])
