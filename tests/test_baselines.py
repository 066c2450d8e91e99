"""MostPop and ItemKNN (studies/bert4rec/baselines.py): exact scores, pruning, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from _rank_helpers import study_module, synthetic_ratings

from replikit.errors import ReplikitError
from replikit.ext.recsys.ranking import evaluate
from replikit.ext.recsys.tuning import Budget

data = study_module("data")
baselines = study_module("baselines")
BUDGET = Budget(trials=1)


@pytest.fixture(scope="module")
def split():
    return data.make_split(synthetic_ratings(n_users=60, n_items=40, seed=7),
                           min_item_interactions=1)


def _dense_item_knn(histories, n_columns, neighbours, shrink, decay):
    """Reference: the same model written with dense numpy loops."""
    x = np.zeros((len(histories), n_columns))
    for u, h in enumerate(histories):
        x[u, h] = 1.0
    counts = x.sum(axis=0)
    co = x.T @ x
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = co / (np.sqrt(np.outer(counts, counts)) + shrink)
    sim = np.nan_to_num(sim)
    np.fill_diagonal(sim, 0.0)
    for i in range(n_columns):
        if neighbours is not None:
            # keep the k largest (stable over column order on ties)
            order = np.lexsort((np.arange(n_columns), -sim[i]))
            nonzero = order[sim[i, order] != 0][:neighbours]
            row = np.zeros(n_columns)
            row[nonzero] = sim[i, nonzero]
            sim[i] = row
    return sim, counts / counts.max()


def test_mostpop_scores_are_training_counts(split):
    model = baselines.MostPop()
    log = model.fit(split, seed=0, budget=BUDGET)
    scores = model.score(split.histories("valid")[:3])
    expected = split.item_popularity("valid").astype(np.float32)
    assert scores.shape == (3, split.n_items + 1) and scores.dtype == np.float32
    assert np.array_equal(scores[0], expected) and np.array_equal(scores[2], expected)
    assert set(log) >= {"epochs", "steps", "train_seconds", "curve"}
    model.fit(split.for_stage("test"), seed=0, budget=BUDGET)
    assert np.array_equal(model.score([np.array([1])])[0], split.item_popularity("test"))


@pytest.mark.parametrize(("neighbours", "shrink", "decay"),
                         [(None, 0.0, 1.0), (5, 0.0, 1.0), (3, 2.0, 0.7)])
def test_itemknn_equals_a_dense_reference(split, neighbours, shrink, decay):
    model = baselines.ItemKNN(neighbours=neighbours, shrink=shrink, decay=decay,
                              popularity_weight=0.01)
    model.fit(split, seed=0, budget=BUDGET)
    sim, pop = _dense_item_knn(split.histories("valid"), split.n_items + 1, neighbours,
                               shrink, decay)
    histories = split.histories("test")[:10]
    expected = np.zeros((len(histories), split.n_items + 1))
    for u, h in enumerate(histories):
        for steps_back, item in enumerate(h[::-1]):
            expected[u] += decay ** steps_back * sim[item]
    expected += 0.01 * pop
    np.testing.assert_allclose(model.score(histories), expected, rtol=1e-5, atol=1e-6)


def test_itemknn_by_hand():
    # users: {1,2}, {1,2}, {2,3}: cos(1,2) = 2/sqrt(2*3), cos(2,3) = 1/sqrt(3*1), cos(1,3) = 0
    split = data.make_split(data.pd.DataFrame(
        [(1, 1, 5, 1), (1, 2, 5, 2), (1, 4, 5, 3), (1, 4, 5, 4),
         (2, 1, 5, 1), (2, 2, 5, 2), (2, 4, 5, 3), (2, 4, 5, 4),
         (3, 2, 5, 1), (3, 3, 5, 2), (3, 4, 5, 3), (3, 4, 5, 4)],
        columns=["user", "item", "rating", "timestamp"]), min_user_interactions=1,
        min_item_interactions=1)
    model = baselines.ItemKNN(neighbours=None, popularity_weight=0.0)
    model.fit(split, seed=0, budget=BUDGET)  # fits on the train part: the first two items
    scores = model.score([np.array([1]), np.array([2])])
    assert scores[0, 2] == pytest.approx(2 / np.sqrt(6)) and scores[0, 3] == 0
    assert scores[1, 3] == pytest.approx(1 / np.sqrt(3)) and scores[1, 2] == 0


def test_recency_decay_helps_on_sequential_data(split):
    plain = baselines.ItemKNN(decay=1.0)
    recent = baselines.ItemKNN(decay=0.5)
    pop = baselines.MostPop()
    results = {}
    for model in (plain, recent, pop):
        model.fit(split, seed=0, budget=BUDGET)
        results[model.name + str(getattr(model, "decay", ""))] = evaluate(
            model, split, "valid", "full", seed=0)["aggregate"]["ndcg@10"]
    assert results["itemknn0.5"] > results["itemknn1.0"] > results["mostpop"]


def test_fit_and_score_are_bit_for_bit_repeatable(split):
    first, second = baselines.ItemKNN(neighbours=7, decay=0.8), baselines.ItemKNN(
        neighbours=7, decay=0.8)
    first.fit(split, seed=0, budget=BUDGET)
    second.fit(split, seed=1, budget=BUDGET)
    histories = split.histories("test")
    assert np.array_equal(first.score(histories), second.score(histories))
    assert first.score(histories).dtype == np.float32


def test_max_history_uses_only_recent_items(split):
    model = baselines.ItemKNN(max_history=1, popularity_weight=0.0)
    model.fit(split, seed=0, budget=BUDGET)
    histories = split.histories("test")[:5]
    last_only = [h[-1:] for h in histories]
    assert np.array_equal(model.score(histories), model.score(last_only))


def test_errors():
    with pytest.raises(ReplikitError, match="itemknn is not fitted"):
        baselines.ItemKNN().score([np.array([1])])
    with pytest.raises(ReplikitError, match="mostpop is not fitted"):
        baselines.MostPop().score([np.array([1])])
    with pytest.raises(ReplikitError, match="'decay' parameter of ItemKNN"):
        baselines.ItemKNN(decay=0.0)
    with pytest.raises(ReplikitError, match="'neighbours' parameter of ItemKNN"):
        baselines.ItemKNN(neighbours=0)
