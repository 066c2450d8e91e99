"""Ranking metrics and protocols, checked by hand, against ir-measures, and against the
original BERT4Rec sampling procedures written out as plain loops."""

from __future__ import annotations

import ir_measures
import numpy as np
import pytest
from ir_measures import RR, P, R, nDCG

from replikit.errors import ReplikitError
from replikit.ext.recsys.ranking import (
    evaluate,
    history_mask,
    metrics_from_ranks,
    rank_of_target,
    sample_negatives,
    sampling_popularity,
)


def _random_case(users=60, n_items=150, seed=0, integer_scores=False):
    rng = np.random.default_rng(seed)
    histories = [rng.choice(np.arange(1, n_items + 1), size=int(rng.integers(1, 30)),
                            replace=False) for _ in range(users)]
    targets = np.array([rng.choice(np.setdiff1d(np.arange(1, n_items + 1), h))
                        for h in histories])
    if integer_scores:  # many ties
        scores = rng.integers(0, 4, size=(users, n_items + 1)).astype(np.float32)
    else:
        scores = rng.standard_normal((users, n_items + 1))
    return scores, targets, histories


# --------------------------------------------------------------------------- by hand
def test_metrics_from_ranks_by_hand():
    m = metrics_from_ranks(np.array([0, 4, 9, 10]), ks=(1, 5, 10))
    assert m["hr@1"].tolist() == [1, 0, 0, 0]
    assert m["hr@5"].tolist() == [1, 1, 0, 0]
    assert m["hr@10"].tolist() == [1, 1, 1, 0]
    np.testing.assert_allclose(m["ndcg@10"], [1, 1 / np.log2(6), 1 / np.log2(11), 0])
    np.testing.assert_allclose(m["ndcg@5"], [1, 1 / np.log2(6), 0, 0])
    np.testing.assert_allclose(m["mrr"], [1, 1 / 5, 1 / 10, 1 / 11])


def test_full_rank_excludes_history_and_ties_are_pessimistic():
    # items 1..5; target 3 scores 0.5; item 1 (0.9) is history; 4 ties at 0.5; 2 and 5 lower
    scores = np.array([[99.0, 0.9, 0.1, 0.5, 0.5, 0.2]])
    assert rank_of_target(scores, np.array([3]), [np.array([1])]).tolist() == [1]
    assert rank_of_target(scores, np.array([3]), [np.array([1])],
                          exclude_history=False).tolist() == [2]
    # padding column 0 (score 99) never competes
    assert rank_of_target(scores, np.array([1]), [np.array([], int)]).tolist() == [0]


def test_constant_scores_rank_last():
    scores = np.zeros((2, 11))
    ranks = rank_of_target(scores, np.array([1, 5]), [np.array([2, 3]), np.array([], int)])
    assert ranks.tolist() == [10 - 1 - 2, 10 - 1]


def test_history_mask_marks_items_and_padding():
    mask = history_mask([np.array([2, 2, 4]), np.array([], int)], 6)
    assert mask.tolist() == [[True, False, True, False, True, False],
                             [True, False, False, False, False, False]]


# --------------------------------------------------------------------------- ir-measures
def _ir_measures_per_user(scores, targets, histories, doc_name, exclude_history=True):
    """Run and qrels for pytrec_eval: every competing item of each user, with its score."""
    qrels, run = [], []
    for user, (target, history) in enumerate(zip(targets, histories, strict=True)):
        qrels.append(ir_measures.Qrel(str(user), doc_name(target, target), 1))
        seen = set(history.tolist()) if exclude_history else set()
        for item in range(1, scores.shape[1]):
            if item not in seen:
                run.append(ir_measures.ScoredDoc(str(user), doc_name(item, target),
                                                 float(scores[user, item])))
    measures = [nDCG @ 1, nDCG @ 5, nDCG @ 10, R @ 1, R @ 5, R @ 10, P @ 5, RR]
    values: dict[str, np.ndarray] = {str(m): np.zeros(len(targets)) for m in measures}
    for metric in ir_measures.pytrec_eval.iter_calc(measures, qrels, run):
        values[str(metric.measure)][int(metric.query_id)] = metric.value
    return values


def _assert_matches_ir_measures(ours, reference):
    for k in (1, 5, 10):
        np.testing.assert_allclose(ours[f"ndcg@{k}"], reference[f"nDCG@{k}"], atol=1e-6)
        np.testing.assert_allclose(ours[f"hr@{k}"], reference[f"R@{k}"], atol=1e-6)
    np.testing.assert_allclose(ours["hr@5"] / 5, reference["P@5"], atol=1e-6)
    np.testing.assert_allclose(ours["mrr"], reference["RR"], atol=1e-6)


@pytest.mark.parametrize("exclude_history", [True, False])
def test_full_ranking_equals_ir_measures_without_ties(exclude_history):
    scores, targets, histories = _random_case(seed=1)
    ours = metrics_from_ranks(rank_of_target(scores, targets, histories,
                                             exclude_history=exclude_history))
    reference = _ir_measures_per_user(scores, targets, histories,
                                      doc_name=lambda item, target: f"d{item}",
                                      exclude_history=exclude_history)
    _assert_matches_ir_measures(ours, reference)
    assert 0 < ours["hr@10"].mean() < 1  # the case is not degenerate


def test_pessimistic_ties_equal_trec_eval_when_the_target_sorts_last():
    # trec_eval orders equal scores by document name, descending: naming the target 'a…'
    # and every other item 'b…' puts the target after all its ties — our rule.
    scores, targets, histories = _random_case(seed=2, integer_scores=True)
    ours = metrics_from_ranks(rank_of_target(scores, targets, histories))
    reference = _ir_measures_per_user(
        scores, targets, histories,
        doc_name=lambda item, target: f"a{item}" if item == target else f"b{item:05d}")
    _assert_matches_ir_measures(ours, reference)


# --------------------------------------------------------------------------- sampling
def test_negatives_avoid_target_and_history_and_pop100_has_no_repeats():
    scores, targets, histories = _random_case(users=80, n_items=200, seed=3)
    popularity = np.arange(201, dtype=float)
    for protocol in ("pop100", "uni100"):
        negatives = sample_negatives(histories, targets, 200, protocol=protocol,
                                     popularity=popularity, seed=5)
        assert negatives.shape == (80, 100)
        assert negatives.min() >= 1 and negatives.max() <= 200
        for row, target, history in zip(negatives, targets, histories, strict=True):
            assert target not in row
            assert not set(row.tolist()) & set(history.tolist())
    pop = sample_negatives(histories, targets, 200, protocol="pop100", popularity=popularity,
                           seed=5)
    assert all(len(set(row.tolist())) == 100 for row in pop)
    uni = sample_negatives(histories, targets, 200, protocol="uni100", seed=5)
    assert any(len(set(row.tolist())) < 100 for row in uni)  # with replacement


def test_sampling_is_deterministic_in_the_seed():
    _, targets, histories = _random_case(seed=4)
    popularity = np.ones(151)
    a = sample_negatives(histories, targets, 150, protocol="pop100", popularity=popularity,
                         seed=9)
    b = sample_negatives(histories, targets, 150, protocol="pop100", popularity=popularity,
                         seed=9)
    c = sample_negatives(histories, targets, 150, protocol="pop100", popularity=popularity,
                         seed=10)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def _original_pop_sampler(weights, rated, n, rng):
    """FeiSun/BERT4Rec run.py's loop: draws of n+1 without replacement, filtered."""
    ids = np.arange(1, len(weights))
    p = weights[1:] / weights[1:].sum()
    chosen: list[int] = []
    while len(chosen) < n:
        drawn = rng.choice(ids, n + 1, replace=False, p=p)
        chosen.extend(x for x in drawn if x not in rated and x not in chosen)
    return chosen[:n]


def _original_uniform_sampler(n_items, rated, n, rng):
    out = []
    for _ in range(n):
        t = rng.integers(1, n_items + 1)
        while t in rated:
            t = rng.integers(1, n_items + 1)
        out.append(t)
    return out


def test_pop100_draws_from_the_same_distribution_as_the_original_loop():
    # 9 items, one rated, one target, 3 negatives: compare how often each item is drawn
    weights = np.array([0, 40, 1, 5, 10, 2, 20, 3, 8, 11], dtype=float)
    rated, target, repeats = {2}, 4, 6000
    rng = np.random.default_rng(0)
    loop = np.zeros(10)
    for _ in range(repeats):
        for item in _original_pop_sampler(weights, rated | {target}, 3, rng):
            loop[item] += 1
    ours = sample_negatives([np.array([2])] * repeats, np.full(repeats, target), 9,
                            protocol="pop100", popularity=weights, seed=1, n_negatives=3)
    counts = np.bincount(ours.ravel(), minlength=10)
    assert counts[2] == counts[4] == loop[2] == loop[4] == 0
    # inclusion frequencies agree within sampling error (sd of a frequency <= 0.0065)
    np.testing.assert_allclose(counts / repeats, loop / repeats, atol=0.03)


def test_uni100_draws_from_the_same_distribution_as_the_original_loop():
    rated, target, repeats = {1, 2, 3}, 7, 3000
    rng = np.random.default_rng(0)
    loop = np.zeros(9)
    for _ in range(repeats):
        for item in _original_uniform_sampler(8, rated | {target}, 5, rng):
            loop[item] += 1
    ours = sample_negatives([np.array([1, 2, 3])] * repeats, np.full(repeats, target), 8,
                            protocol="uni100", seed=1, n_negatives=5)
    counts = np.bincount(ours.ravel(), minlength=9)
    np.testing.assert_allclose(counts / counts.sum(), loop / loop.sum(), atol=0.015)
    np.testing.assert_allclose(counts[[4, 5, 6, 8]] / counts.sum(), 0.25, atol=0.015)


def test_sampled_rank_counts_negatives_scoring_at_least_the_target():
    scores = np.array([[0.0, 5.0, 1.0, 3.0, 3.0, 0.5]])
    negatives = np.array([[1, 4, 5, 1]])  # a repeated negative counts twice (uni100)
    rank = rank_of_target(scores, np.array([3]), [np.array([], int)], protocol="uni100",
                          negatives=negatives)
    assert rank.tolist() == [3]


# --------------------------------------------------------------------------- evaluate
class _FixedScores:
    name = "fixed"

    def __init__(self, table):
        self.table = table

    def score(self, histories):
        return self.table[[int(h[0]) for h in histories]]


class _Split:
    def __init__(self, histories, targets, n_items):
        self._h, self._t, self.n_items = histories, targets, n_items

    def histories(self, stage):
        return list(self._h)

    def targets(self, stage):
        return self._t

    def item_popularity(self, stage):
        return np.bincount(np.concatenate(self._h), minlength=self.n_items + 1)


def test_evaluate_does_not_depend_on_the_batch_size():
    rng = np.random.default_rng(0)
    n_items, users = 150, 70
    histories = [np.concatenate([[u], rng.choice(np.arange(71, 151), 5, replace=False)])
                 for u in range(1, users + 1)]
    targets = np.array([rng.choice(np.setdiff1d(np.arange(71, 151), h)) for h in histories])
    split = _Split(histories, targets, n_items)
    model = _FixedScores(rng.standard_normal((users + 1, n_items + 1)))
    for protocol in ("full", "pop100", "uni100"):
        one = evaluate(model, split, "test", protocol, seed=3, batch_size=7)
        two = evaluate(model, split, "test", protocol, seed=3, batch_size=1000)
        assert one["aggregate"] == two["aggregate"]
        assert np.array_equal(one["per_user"]["rank"], two["per_user"]["rank"])


def test_evaluate_rejects_a_wrong_score_shape():
    split = _Split([np.array([1])], np.array([2]), 3)
    with pytest.raises(ReplikitError, match=r"fixed.score returned the wrong shape"):
        evaluate(_FixedScores(np.zeros((2, 3))), split, "test", "full", seed=0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"protocol": "pop50"}, "unknown ranking protocol 'pop50'"),
    ({"protocol": "pop100"}, "needs item popularity"),
    ({"protocol": "pop100", "popularity": np.ones(3)}, "wrong shape"),
])
def test_rank_of_target_errors(kwargs, message):
    scores = np.zeros((1, 6))
    with pytest.raises(ReplikitError, match=message):
        rank_of_target(scores, np.array([1]), [np.array([2])], **kwargs)


def test_nan_scores_and_tiny_catalogues_are_errors():
    with pytest.raises(ReplikitError, match="scores contain NaN"):
        rank_of_target(np.full((1, 4), np.nan), np.array([1]), [np.array([2])])
    with pytest.raises(ReplikitError, match="only 3 items to draw negatives from"):
        sample_negatives([np.array([1])], np.array([2]), 5, protocol="pop100",
                         popularity=np.ones(6))


def test_sampling_popularity_counts_every_interaction_like_the_original_vocab():
    split = _Split([np.array([1, 2]), np.array([2, 3])], np.array([3, 1]), 4)
    assert sampling_popularity(split).tolist() == [0, 2, 2, 2, 0]


def test_ranks_do_not_depend_on_how_items_are_numbered():
    scores, targets, histories = _random_case(seed=6, integer_scores=True)
    perm = np.concatenate([[0], np.random.default_rng(0).permutation(150) + 1])
    inverse = np.argsort(perm)  # new index of each old item
    moved = np.empty_like(scores)
    moved[:, inverse] = scores
    ranks = rank_of_target(scores, targets, histories)
    ranks_moved = rank_of_target(moved, inverse[targets], [inverse[h] for h in histories])
    assert np.array_equal(ranks, ranks_moved)
