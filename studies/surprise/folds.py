"""The k-fold split of Surprise's benchmark, written from its documented behaviour.

Surprise's ``KFold(n_splits, random_state)`` (``surprise.model_selection.split``) works on
the ratings in the order the file lists them. With an integer ``random_state`` it shuffles
the positions ``0 .. n-1`` once with a fresh legacy ``numpy.random.RandomState(seed)``, then
cuts the shuffled positions into ``n_splits`` consecutive blocks; the first ``n % n_splits``
blocks hold one rating more than the others. Block ``k`` is the test set of fold ``k``; the
train set is what comes before the block followed by what comes after it, in shuffled
order. That order matters: it is the order in which a model first meets users and items.

Reproducing the split, rather than calling Surprise, lets our re-implementations run on the
very same folds without importing the library under study.
"""

from __future__ import annotations

import numpy as np

from replikit.errors import ReplikitError


def fold_sizes(n_ratings: int, n_splits: int) -> list[int]:
    """Number of test ratings in each fold: the first ``n % k`` folds take one more.

    Examples
    --------
    >>> fold_sizes(12, 5)
    [3, 3, 2, 2, 2]
    """
    base, extra = divmod(n_ratings, n_splits)
    return [base + (1 if k < extra else 0) for k in range(n_splits)]


def shuffled_positions(n_ratings: int, random_state: int) -> np.ndarray:
    """Positions ``0 .. n-1`` shuffled by a fresh legacy ``RandomState(random_state)``.

    ``RandomState.permutation(n)`` shuffles ``arange(n)`` in place with the legacy
    Fisher-Yates shuffle, the same draws as Surprise's ``rng.shuffle(arange(n))``.
    """
    return np.random.RandomState(random_state).permutation(n_ratings)


def kfold_indices(
    n_ratings: int, n_splits: int = 5, random_state: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train and test positions of each fold, identical to Surprise's ``KFold``.

    Parameters
    ----------
    n_ratings : int
        Number of ratings, in file order.
    n_splits : int
        Number of folds (at least 2, at most ``n_ratings``).
    random_state : int
        Seed of the shuffle (Surprise's ``KFold(random_state=...)`` with ``shuffle=True``).

    Returns
    -------
    list of (train, test)
        One pair of int64 position arrays per fold, ``train`` in the order Surprise builds
        its trainset from.

    Examples
    --------
    >>> [(tr.tolist(), te.tolist()) for tr, te in kfold_indices(4, 2, random_state=0)]
    [([1, 0], [2, 3]), ([2, 3], [1, 0])]
    """
    _check_splits(n_ratings, n_splits, random_state)
    positions = shuffled_positions(n_ratings, random_state)
    folds = []
    stop = 0
    for size in fold_sizes(n_ratings, n_splits):
        start, stop = stop, stop + size
        train = np.concatenate([positions[:start], positions[stop:]])
        folds.append((train, positions[start:stop].copy()))
    return folds


def _check_splits(n_ratings: int, n_splits: int, random_state: int) -> None:
    if not 2 <= n_splits <= n_ratings:
        raise ReplikitError(
            "cannot cut the ratings into this many folds", where="folds",
            expected=f"2 <= folds <= number of ratings ({n_ratings})", found=str(n_splits),
            fix="use 5 folds, as the benchmark does",
        )
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise ReplikitError(
            "the fold split needs an integer seed", where="random_state",
            expected="an int (Surprise's KFold(random_state=int))",
            found=repr(random_state), fix="pass the run's seed",
        )
