"""A search in an Optuna journal survives its process: finished trials are never run again.

The first search is run in a child process that kills itself (SIGKILL, as a cancelled
SLURM job or a killed Snakemake would) when the trial after ``k`` finished ones starts; the
journal then holds k finished trials and one left running. Resuming must run only the
remaining trials and end with exactly the trials an uninterrupted search finds.
"""

from __future__ import annotations

import multiprocessing
import os
import signal

import pytest
from _rank_helpers import study_module, synthetic_ratings

from replikit.ext.recsys.budgets import budget_rows
from replikit.ext.recsys.tuning import Budget, tune

data = study_module("data")
baselines = study_module("baselines")

SPACE = {"decay": [1.0, 0.8, 0.6, 0.4], "neighbours": [5, 20]}  # a grid
RANGES = {"decay": {"uniform": [0.3, 1.0]}, "neighbours": {"randint": [5, 20]}}  # TPE
BUDGET = Budget(trials=5)


def _split():
    return data.make_split(synthetic_ratings(n_users=120, n_items=90, seed=4),
                           min_item_interactions=1)


class CountingFactory:
    """Builds ItemKNN models, counting them; kills its own process at build ``kill_at``."""

    def __init__(self, kill_at: int | None = None):
        self.built: list[dict] = []
        self.kill_at = kill_at

    def __call__(self, params):
        if self.kill_at is not None and len(self.built) == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        self.built.append(dict(params))
        return baselines.ItemKNN(**params)


def _search_then_die(journal: str, kill_at: int, space: dict) -> None:
    tune(CountingFactory(kill_at), space, _split(), BUDGET, seed=0, storage=journal)


def _points(trials):
    return [(t["params"]["decay"], t["params"]["neighbours"], t["value"]) for t in trials]


@pytest.mark.parametrize(("kill_at", "space"), [(0, SPACE), (3, SPACE), (3, RANGES)])
def test_a_killed_search_resumes_without_repeating_finished_trials(tmp_path, kill_at, space):
    journal = str(tmp_path / "tuning" / "exp" / "seed=0.journal")
    child = multiprocessing.get_context("fork").Process(target=_search_then_die,
                                                        args=(journal, kill_at, space))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == -signal.SIGKILL

    resumed = CountingFactory()
    result = tune(resumed, space, _split(), BUDGET, seed=0, storage=journal)
    assert len(resumed.built) == BUDGET.trials - kill_at  # finished trials were not re-run
    uninterrupted = tune(CountingFactory(), space, _split(), BUDGET, seed=0)
    assert _points(result.trials) == _points(uninterrupted.trials)

    again = CountingFactory()
    tune(again, space, _split(), BUDGET, seed=0, storage=journal)
    assert again.built == []  # a finished search costs nothing to ask again


def test_budget_rows_read_the_spent_budget_from_the_journals(tmp_path):
    split = _split()
    journals = {}
    for model, trials in (("itemknn", 3), ("itemknn-short", 2)):
        path = tmp_path / f"{model}.journal"
        tune(CountingFactory(), SPACE, split, Budget(trials=trials, epochs=4), seed=1,
             storage=path, study_name=model)
        journals[model] = (path, model)
    rows = budget_rows(journals)
    assert [(r["model"], r["budget trials"], r["trials run"], r["budget epochs"])
            for r in rows] == [("itemknn", 3, 3, 4), ("itemknn-short", 2, 2, 4)]
    assert all(r["tuning cpu s"] > 0 for r in rows)
    assert [r["equal"] for r in rows] == [False, False]
    same = budget_rows({"a": journals["itemknn"], "b": journals["itemknn"]})
    assert [r["equal"] for r in same] == [True, True]
