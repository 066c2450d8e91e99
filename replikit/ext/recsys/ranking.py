"""Ranking evaluation for next-item recommendation: full ranking and sampled ranking.

One target item per user (leave-one-out). A model gives every item a score; the *rank* of
the target is the number of competing candidates placed above it (0 = first). Every metric
is a function of that rank alone, so one vectorised pass over a ``(users, items)`` score
matrix gives HR@k, NDCG@k and MRR for all users at once.

Protocols
---------
``full``
    The target competes with every item ``1..n_items`` except the user's history (when
    ``exclude_history``) — the protocol the replicability study (Petrov & Macdonald, RecSys
    2022; asash/bert4rec_repro, ``ml_benchmark1m.py`` sets ``filter_seen=True``) argues for.
``pop100``
    The target competes with 100 negatives drawn with probability proportional to item
    popularity, *without replacement*, never the target and never an item of the user's
    history — as FeiSun/BERT4Rec ``run.py`` (``EvalHooks.after_run``, ``use_pop_random``)
    does: it draws batches of 101 with ``np.random.choice(..., replace=False, p=popularity)``
    and drops items already rated or already drawn until 100 remain. That procedure is
    successive weighted sampling without replacement among the allowed items; we draw from
    the same distribution with exponential keys (Efraimidis & Spirakis, 2006): the 100
    allowed items with the smallest ``-log(u) / p`` are a weighted sample without
    replacement. The draws differ from the original's (its legacy ``np.random.seed(12345)``
    stream in TFRecord order), the distribution does not.
``uni100``
    100 negatives drawn uniformly *with replacement* among allowed items, again as in
    ``run.py`` (the ``else`` branch: ``np.random.randint(1, n + 1)`` repeated until the item
    is not rated, with no check against earlier draws, so a negative can appear twice and
    then counts twice). We reproduce that by vectorised rejection sampling.

Ties
----
A candidate whose score *equals* the target's is placed above the target (pessimistic
ranking), deterministically and independently of item order. The original's
``argsort().argsort()`` leaves ties to numpy's unstable sort; a constant model would look
perfect under an optimistic rule and random under the original's, and is last under ours.
``trec_eval`` (and so ``ir-measures``) breaks ties by document name, descending, which the
tests use to check this rule against it.

Metrics (per user, from the 0-based rank ``r``)
-----------------------------------------------
``hr@k = [r < k]``; ``ndcg@k = [r < k] / log2(r + 2)`` (one relevant item, so the ideal DCG
is 1); ``mrr = 1 / (r + 1)`` without cut-off, as ``run.py`` accumulates ``ap``. With one
relevant item HR@k equals ir-measures' ``R@k``, ``P@k`` is ``HR@k / k`` and ``RR`` is MRR.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from replikit.errors import ReplikitError

PROTOCOLS = ("full", "pop100", "uni100")
N_NEGATIVES = 100
DEFAULT_KS = (1, 5, 10)


class _Split(Protocol):  # the parts of studies/bert4rec/data.py:SequentialSplit used here
    n_items: int

    def histories(self, stage: str) -> list[np.ndarray]: ...
    def targets(self, stage: str) -> np.ndarray: ...
    def item_popularity(self, stage: str) -> np.ndarray: ...


class _Scorer(Protocol):
    def score(self, histories: list[np.ndarray]) -> np.ndarray: ...


# --------------------------------------------------------------------------- masks
def history_mask(histories: Sequence[np.ndarray], n_columns: int) -> np.ndarray:
    """Boolean ``(U, n_columns)`` matrix, True where the item is in the user's history.

    Column 0 (padding) is always True, so it never competes.
    """
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    mask = np.zeros((len(histories), n_columns), dtype=bool)
    if lengths.sum():
        rows = np.repeat(np.arange(len(histories)), lengths)
        mask[rows, np.concatenate([np.asarray(h, dtype=np.int64) for h in histories])] = True
    mask[:, 0] = True
    return mask


def _excluded(histories, targets, n_columns, exclude_history) -> np.ndarray:
    """Items that may not compete with the target: padding, target, and maybe the history."""
    if exclude_history:
        mask = history_mask(histories, n_columns)
    else:
        mask = np.zeros((len(targets), n_columns), dtype=bool)
        mask[:, 0] = True
    mask[np.arange(len(targets)), targets] = True
    return mask


# --------------------------------------------------------------------------- sampling
def sample_negatives(
    histories: Sequence[np.ndarray],
    targets: np.ndarray,
    n_items: int,
    *,
    protocol: str,
    popularity: np.ndarray | None = None,
    seed: int = 0,
    exclude_history: bool = True,
    n_negatives: int = N_NEGATIVES,
) -> np.ndarray:
    """Negative items for each user, ``(U, n_negatives)`` item indices in ``1..n_items``.

    ``pop100``: weighted by ``popularity`` (``(n_items + 1,)`` counts), without replacement;
    ``uni100``: uniform, with replacement. Both never return the target, and never an item
    of the user's history when ``exclude_history``. Same arguments, same array, bit for bit.
    """
    if protocol not in ("pop100", "uni100"):
        raise ReplikitError(f"no negatives to sample for protocol {protocol!r}",
                            expected="'pop100' or 'uni100'", found=repr(protocol))
    targets = np.asarray(targets, dtype=np.int64)
    rng = np.random.default_rng(seed)
    excluded = _excluded(histories, targets, n_items + 1, exclude_history)
    if protocol == "pop100":
        weights = _sampling_weights(popularity, n_items)
        available, needed = np.count_nonzero(~excluded & (weights > 0), axis=1), n_negatives
    else:
        available, needed = np.count_nonzero(~excluded, axis=1), 1
    if (available < needed).any():
        user = int(np.argmin(available))
        raise ReplikitError(
            f"user at position {user} has only {available[user]} items to draw negatives from",
            expected=f"at least {needed} item(s) outside the history and the target"
            + (" with popularity > 0" if protocol == "pop100" else ""),
            fix="use the full protocol for such small catalogues",
        )
    if protocol == "pop100":
        return _weighted_without_replacement(weights, excluded, n_negatives, rng)
    return _uniform_with_replacement(excluded, n_items, n_negatives, rng)


def _sampling_weights(popularity, n_items) -> np.ndarray:
    if popularity is None:
        raise ReplikitError("the pop100 protocol needs item popularity",
                            fix="pass popularity=<(n_items + 1,) counts>")
    weights = np.asarray(popularity, dtype=np.float64)
    if weights.shape != (n_items + 1,) or (weights < 0).any():
        raise ReplikitError("item popularity has the wrong shape or negative counts",
                            expected=f"shape ({n_items + 1},), counts >= 0",
                            found=f"shape {weights.shape}, min {weights.min(initial=0)}")
    weights = weights.copy()
    weights[0] = 0.0  # padding is never a candidate
    return weights


def _weighted_without_replacement(weights, excluded, n, rng) -> np.ndarray:
    """Efraimidis–Spirakis: the ``n`` smallest keys ``E / w`` (E ~ Exp(1)) per row."""
    keys = rng.standard_exponential(excluded.shape)
    with np.errstate(divide="ignore"):
        keys = keys / weights  # weight 0 gives +inf: never drawn
    keys[excluded] = np.inf
    chosen = np.argpartition(keys, n - 1, axis=1)[:, :n]
    # order the chosen items by key, so the sample is a sequence, independent of argpartition
    order = np.argsort(np.take_along_axis(keys, chosen, axis=1), axis=1, kind="stable")
    return np.take_along_axis(chosen, order, axis=1)


def _uniform_with_replacement(excluded, n_items, n, rng) -> np.ndarray:
    """Draw ``1..n_items`` uniformly; redraw excluded ones until none is left (as run.py)."""
    users = excluded.shape[0]
    draws = rng.integers(1, n_items + 1, size=(users, n))
    bad = excluded[np.arange(users)[:, None], draws]
    while bad.any():
        rows, cols = np.nonzero(bad)
        draws[rows, cols] = rng.integers(1, n_items + 1, size=rows.size)
        bad[rows, cols] = excluded[rows, draws[rows, cols]]
    return draws


# --------------------------------------------------------------------------- ranks
def rank_of_target(
    scores: np.ndarray,
    targets: np.ndarray,
    histories: Sequence[np.ndarray],
    *,
    protocol: str = "full",
    popularity: np.ndarray | None = None,
    seed: int = 0,
    exclude_history: bool = True,
    negatives: np.ndarray | None = None,
) -> np.ndarray:
    """0-based rank of each user's target among its competitors, ties pessimistic.

    Parameters
    ----------
    scores
        ``(U, n_items + 1)`` scores; column 0 (padding) is ignored.
    targets, histories
        The target item and the items seen before it, per user.
    protocol
        ``'full'``, ``'pop100'`` or ``'uni100'`` (see the module docstring).
    popularity
        ``(n_items + 1,)`` counts that weight ``pop100`` negatives.
    seed
        Seeds the negatives of the sampled protocols.
    negatives
        Pre-drawn ``(U, 100)`` negatives (from :func:`sample_negatives`); when given,
        ``popularity`` and ``seed`` are not used. Lets a caller score users in batches
        while drawing negatives once for all of them.

    Examples
    --------
    >>> scores = np.array([[0.0, 0.9, 0.5, 0.7, 0.7]])
    >>> rank_of_target(scores, np.array([3]), [np.array([1])]).tolist()  # 1 is history
    [1]
    """
    scores = _check_scores(scores, targets, histories)
    targets = np.asarray(targets, dtype=np.int64)
    n_items = scores.shape[1] - 1
    target_scores = scores[np.arange(len(targets)), targets][:, None]
    if protocol == "full":
        competes = ~_excluded(histories, targets, n_items + 1, exclude_history)
        return np.count_nonzero(competes & (scores >= target_scores), axis=1)
    if protocol not in PROTOCOLS:
        raise ReplikitError(f"unknown ranking protocol {protocol!r}",
                            expected=" | ".join(PROTOCOLS), found=repr(protocol))
    if negatives is None:
        negatives = sample_negatives(histories, targets, n_items, protocol=protocol,
                                     popularity=popularity, seed=seed,
                                     exclude_history=exclude_history)
    negative_scores = np.take_along_axis(scores, np.asarray(negatives, dtype=np.int64), axis=1)
    return np.count_nonzero(negative_scores >= target_scores, axis=1)


def _check_scores(scores, targets, histories) -> np.ndarray:
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[0] != len(targets) or len(histories) != len(targets):
        raise ReplikitError(
            "scores, targets and histories disagree in shape",
            expected="scores (U, n_items + 1), U targets, U histories",
            found=f"scores {scores.shape}, {len(targets)} targets, {len(histories)} histories",
        )
    if np.isnan(scores).any():
        raise ReplikitError("scores contain NaN", found=f"{np.isnan(scores).sum()} NaN values",
                            fix="check the model's score(); NaN cannot be ranked")
    return scores


def metrics_from_ranks(ranks: np.ndarray, ks: Sequence[int] = DEFAULT_KS) -> dict[str, np.ndarray]:
    """Per-user ``hr@k``, ``ndcg@k`` (for each k) and ``mrr`` from 0-based ranks.

    Examples
    --------
    >>> m = metrics_from_ranks(np.array([0, 1, 20]), ks=(1, 10))
    >>> m["hr@10"].tolist(), m["ndcg@10"].round(4).tolist(), m["mrr"].round(4).tolist()
    ([1.0, 1.0, 0.0], [1.0, 0.6309, 0.0], [1.0, 0.5, 0.0476])
    """
    ranks = np.asarray(ranks, dtype=np.int64)
    gain = 1.0 / np.log2(ranks + 2.0)
    out: dict[str, np.ndarray] = {}
    for k in ks:
        hit = ranks < k
        out[f"hr@{k}"] = hit.astype(np.float64)
        out[f"ndcg@{k}"] = np.where(hit, gain, 0.0)
    out["mrr"] = 1.0 / (ranks + 1.0)
    return out


# --------------------------------------------------------------------------- evaluate
def sampling_popularity(split: _Split) -> np.ndarray:
    """Popularity that weights ``pop100`` negatives, as the original code counts it.

    FeiSun/BERT4Rec ``gen_data_fin.py`` builds ``FreqVocab`` over every user's whole sequence
    (train, validation *and* test item), and ``run.py`` samples negatives from its counter; so
    we count all interactions of the split, targets included (``item_popularity`` of the
    test stage plus the test targets).
    """
    counts = np.asarray(split.item_popularity("test"), dtype=np.int64).copy()
    np.add.at(counts, np.asarray(split.targets("test"), dtype=np.int64), 1)
    return counts


def evaluate(
    model: _Scorer,
    split: _Split,
    stage: str,
    protocol: str,
    *,
    seed: int,
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int = 1024,
    popularity: np.ndarray | None = None,
    exclude_history: bool = True,
) -> dict[str, dict[str, Any]]:
    """Score every user of ``stage`` ('valid' or 'test') and rank the targets.

    Negatives (sampled protocols) are drawn once for all users from ``seed`` before scoring
    in batches, so results do not depend on ``batch_size``. ``popularity`` defaults to
    :func:`sampling_popularity`. Returns ``{"aggregate": {metric: mean}, "per_user":
    {metric: (U,) array, "rank": (U,) array}}``.
    """
    histories, targets = split.histories(stage), np.asarray(split.targets(stage))
    negatives = None
    if protocol in ("pop100", "uni100"):
        if protocol == "pop100" and popularity is None:
            popularity = sampling_popularity(split)
        negatives = sample_negatives(histories, targets, split.n_items, protocol=protocol,
                                     popularity=popularity, seed=seed,
                                     exclude_history=exclude_history)
    elif protocol != "full":
        raise ReplikitError(f"unknown ranking protocol {protocol!r}",
                            expected=" | ".join(PROTOCOLS), found=repr(protocol))
    ranks = np.empty(len(targets), dtype=np.int64)
    for start in range(0, len(targets), batch_size):
        part = slice(start, start + batch_size)
        scores = _model_scores(model, histories[part], split.n_items)
        ranks[part] = rank_of_target(
            scores, targets[part], histories[part], protocol=protocol,
            exclude_history=exclude_history,
            negatives=None if negatives is None else negatives[part],
        )
    per_user = metrics_from_ranks(ranks, ks)
    aggregate = {name: float(values.mean()) for name, values in per_user.items()}
    per_user["rank"] = ranks
    return {"aggregate": aggregate, "per_user": per_user}


def _model_scores(model, histories, n_items) -> np.ndarray:
    scores = np.asarray(model.score(histories))
    if scores.shape != (len(histories), n_items + 1):
        raise ReplikitError(
            f"{getattr(model, 'name', type(model).__name__)}.score returned the wrong shape",
            expected=f"({len(histories)}, {n_items + 1})", found=str(scores.shape),
            fix="score() must return one column per item index, column 0 for padding",
        )
    return scores
