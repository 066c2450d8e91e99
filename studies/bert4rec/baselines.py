"""Two non-neural baselines for next-item recommendation: MostPop and a sequence-aware item-kNN.

Both follow the study's ``Recommender`` protocol (``fit(split, *, seed, budget, on_epoch)``
then ``score(histories)``) and train on ``split.fit_histories()``.

``MostPop`` scores every item by its number of interactions in the training sequences — the
replicability study's ``TopRecommender`` (asash/bert4rec_repro,
``aprec/recommenders/top_recommender.py``), a floor every model must clear.

``ItemKNN`` is item-based collaborative filtering with cosine similarity over binary user
co-occurrence (Sarwar et al., WWW 2001; top-N scoring by summed similarities with
neighbourhood pruning as in Deshpande & Karypis, ACM TOIS 22(1), 2004), made sequence-aware
by weighting each history item by ``decay ** (steps from the end)``, so recent items count
more — the position decay of the sequence-aware kNN methods evaluated by Ludewig & Jannach
(UMUAI 28, 2018). ``decay=1`` is plain item-kNN. A small popularity term orders the items
the neighbourhood does not reach, as the replicability study's ``ItemItemRecommender``
(``aprec/recommenders/item_item.py``) falls back on the most popular items. User–item and
history matrices are ``scipy.sparse``; the item–item counts come from one dense BLAS product
(exact in float32) and are pruned to a sparse neighbourhood matrix, so ML-1m-sized data fits
in about 5 s and scores every user in about 1 s on one core. The dense step needs
``8 * n_items**2`` bytes a few times over: right for MovieLens, not for 100k-item catalogues.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from replikit.errors import ReplikitError


def _fit_log(started: float) -> dict[str, Any]:
    seconds = time.perf_counter() - started
    return {"epochs": 0, "steps": 0, "train_seconds": seconds, "curve": []}


class MostPop:
    """Score = number of training interactions of the item (same list for every user)."""

    name = "mostpop"

    def __init__(self) -> None:
        self.popularity_: np.ndarray | None = None

    def fit(self, split: Any, *, seed: int, budget: Any = None,
            on_epoch: Callable[[int, float], dict] | None = None) -> dict[str, Any]:
        """Count item occurrences in ``split.fit_histories()``; ``seed`` is not needed."""
        started = time.perf_counter()
        items = np.concatenate(split.fit_histories()).astype(np.int64)
        self.popularity_ = np.bincount(items, minlength=split.n_items + 1).astype(np.float32)
        return _fit_log(started)

    def score(self, histories: list[np.ndarray]) -> np.ndarray:
        """``(len(histories), n_items + 1)`` float32: the popularity row, repeated."""
        _check_fitted(self, self.popularity_)
        return np.broadcast_to(self.popularity_, (len(histories), self.popularity_.size)).copy()


class ItemKNN:
    """Cosine item-kNN scored from the user's history with position decay.

    Parameters
    ----------
    neighbours
        Similar items kept per item (the ``k`` of Deshpande & Karypis); ``None`` keeps all.
    shrink
        Added to the cosine denominator, ``c_ij / (sqrt(n_i n_j) + shrink)``: damps
        similarities of rarely seen items.
    decay
        Weight ``decay ** d`` for the history item ``d`` steps before the end (``1``: none).
    max_history
        Only the last ``max_history`` items of a history are used (``None``: all).
    popularity_weight
        Weight of the item's normalised popularity added to the score (ties among items
        no neighbour reaches are then broken by popularity).
    """

    name = "itemknn"

    def __init__(self, neighbours: int | None = 100, shrink: float = 0.0, decay: float = 1.0,
                 max_history: int | None = None, popularity_weight: float = 1e-6) -> None:
        self.neighbours = neighbours
        self.shrink = shrink
        self.decay = decay
        self.max_history = max_history
        self.popularity_weight = popularity_weight
        self.similarity_: sp.csr_matrix | None = None
        self.popularity_: np.ndarray | None = None
        _check_params(self)

    def fit(self, split: Any, *, seed: int, budget: Any = None,
            on_epoch: Callable[[int, float], dict] | None = None) -> dict[str, Any]:
        """Build the pruned item–item cosine matrix from ``split.fit_histories()``."""
        started = time.perf_counter()
        histories = split.fit_histories()
        interactions = _binary_user_item(histories, split.n_items + 1)
        counts = np.asarray(interactions.sum(axis=0)).ravel()
        self.popularity_ = (counts / max(counts.max(), 1)).astype(np.float64)
        similarity = _cosine(_co_occurrence(interactions), counts, self.shrink)
        self.similarity_ = _prune(similarity, self.neighbours)
        return _fit_log(started)

    def score(self, histories: list[np.ndarray]) -> np.ndarray:
        """Sum over history items ``i`` of ``weight_i * sim(i, ·)``, plus the popularity term."""
        _check_fitted(self, self.similarity_)
        weighted = _weighted_histories(histories, self.similarity_.shape[0], self.decay,
                                       self.max_history)
        scores = (weighted @ self.similarity_).toarray()
        scores += self.popularity_weight * self.popularity_
        return scores.astype(np.float32)


def _check_params(model: ItemKNN) -> None:
    checks = {
        "neighbours": model.neighbours is None or model.neighbours >= 1,
        "shrink": model.shrink >= 0,
        "decay": 0 < model.decay <= 1,
        "max_history": model.max_history is None or model.max_history >= 1,
        "popularity_weight": model.popularity_weight >= 0,
    }
    for key, ok in checks.items():
        if not ok:
            raise ReplikitError(
                f"the {key!r} parameter of ItemKNN is out of range",
                expected="neighbours >= 1 or None, shrink >= 0, 0 < decay <= 1, "
                "max_history >= 1 or None, popularity_weight >= 0",
                found=f"{key}={getattr(model, key)!r}",
            )


def _check_fitted(model: Any, attribute: Any) -> None:
    if attribute is None:
        raise ReplikitError(f"{model.name} is not fitted", fix="call fit(split, seed=...) first")


def _binary_user_item(histories: list[np.ndarray], n_columns: int) -> sp.csr_matrix:
    """``(U, n_columns)`` 0/1 matrix: did the user interact with the item (repeats count once)."""
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    rows = np.repeat(np.arange(len(histories)), lengths)
    cols = np.concatenate(histories).astype(np.int64) if lengths.sum() else np.array([], int)
    matrix = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(len(histories), n_columns))
    matrix.data[:] = 1.0  # duplicates were summed by the constructor
    return matrix


def _co_occurrence(interactions: sp.csr_matrix) -> np.ndarray:
    """Dense ``(n, n)`` counts of users sharing two items, ``X^T X``.

    One BLAS product in float32 is the fast way for MovieLens-sized catalogues (3,706 items:
    a 50 MB matrix). It is exact, hence repeatable bit for bit whatever the summation order
    of the BLAS threads: every partial sum is an integer below 2**24.
    """
    if interactions.shape[0] >= 2**24:
        raise ReplikitError("too many users for exact float32 co-occurrence counts",
                            found=f"{interactions.shape[0]} users", expected="< 16,777,216")
    dense = interactions.astype(np.float32).toarray()
    return (dense.T @ dense).astype(np.float64)


def _cosine(co_occurrence: np.ndarray, counts: np.ndarray, shrink: float) -> np.ndarray:
    """``c_ij / (sqrt(n_i n_j) + shrink)`` with the diagonal (an item with itself) zeroed."""
    norms = np.sqrt(counts.astype(np.float64))
    denominator = np.outer(norms, norms) + shrink
    similarity = np.divide(co_occurrence, denominator, out=np.zeros_like(co_occurrence),
                           where=denominator > 0)
    np.fill_diagonal(similarity, 0.0)
    return similarity


def _prune(similarity: np.ndarray, neighbours: int | None) -> sp.csr_matrix:
    """Keep each row's ``neighbours`` largest positive similarities (row i: items like i).

    Ties at the cut are kept in column order, so the result does not depend on the
    partition algorithm.
    """
    keep = similarity > 0
    if neighbours is not None and neighbours < similarity.shape[1]:
        threshold = -np.partition(-similarity, neighbours - 1, axis=1)[:, neighbours - 1:neighbours]
        above = similarity > threshold
        at = similarity == threshold
        room = neighbours - above.sum(axis=1, keepdims=True)
        keep &= above | (at & (np.cumsum(at, axis=1) <= room))
    return sp.csr_matrix(np.where(keep, similarity, 0.0))


def _weighted_histories(histories, n_columns, decay, max_history) -> sp.csr_matrix:
    """``(U, n_columns)``: weight ``decay ** d`` on the item ``d`` steps before the end."""
    if max_history is not None:
        histories = [h[-max_history:] for h in histories]
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    rows = np.repeat(np.arange(len(histories)), lengths)
    cols = np.concatenate(histories).astype(np.int64) if lengths.sum() else np.array([], int)
    ends = np.repeat(np.cumsum(lengths), lengths)
    steps_from_end = ends - np.arange(lengths.sum()) - 1
    weights = np.power(float(decay), steps_from_end)
    # a repeated item adds its weights up (the constructor sums duplicates)
    return sp.csr_matrix((weights, (rows, cols)), shape=(len(histories), n_columns))
