"""Our re-implementations under the benchmark's protocol, on the very same folds.

The folds come from :mod:`folds` (identical to Surprise's ``KFold(random_state=seed)``), the
models from :mod:`models`, the metrics from :mod:`metrics`; the pinned library is not
imported. Each fold's model gets ``random_state=seed``, as ``SVD(random_state=0)`` does in
the benchmark. ``time_s`` is the wall time of the whole cross-validation (cutting the folds,
fitting, predicting, scoring); numba's one-off compilation is done before the clock starts
and recorded apart as ``extra.compile_s``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from replikit.errors import ReplikitError

from . import folds, metrics, models, ratings


def cross_validate_ours(ctx) -> dict[str, Any]:
    """Cross-validate one of our models on the benchmark's folds.

    Parameters
    ----------
    ctx : replikit.run.harness.RunContext
        ``ctx.params``: ``algorithm`` (``SVD``, ``BaselineOnly`` or ``NormalPredictor``),
        ``dataset`` (the artifact's name, ``ml-100k`` or ``ml-1m``), ``folds`` (default 5),
        optional ``kwargs`` for the model (SVD and NormalPredictor get ``ctx.seed`` as
        ``random_state`` unless they name one).

    Returns
    -------
    dict
        ``metrics`` (mean ``rmse``, ``mae`` over folds; ``time_s``), ``folds`` (per-fold
        values and times), ``extra`` (model settings, sizes, compile time).
    """
    params = ctx.params
    algorithm, dataset = params.get("algorithm"), params.get("dataset")
    where = f"studies/surprise/study.yaml: experiments.{ctx.experiment_name}.params"
    if algorithm not in models.MODELS:
        raise ReplikitError(
            f"no re-implementation of {algorithm!r}", where=f"{where}.algorithm",
            expected=f"one of {sorted(models.MODELS)}", found=repr(algorithm),
            fix="use an algorithm of studies/surprise/models.py, or run the original",
        )
    if dataset not in ratings.SEPARATORS:
        raise ReplikitError(
            f"unknown dataset {dataset!r}", where=f"{where}.dataset",
            expected=f"one of {sorted(ratings.SEPARATORS)}", found=repr(dataset),
            fix="use a dataset of Surprise's benchmark (the name of its artifact)",
        )
    data = ratings.load_ratings(ctx.artifact(dataset), dataset)
    kwargs = resolve_model_kwargs(algorithm, params.get("kwargs") or {}, ctx.seed)
    result = cross_validate_model(algorithm, kwargs, data, int(params.get("folds", 5)), ctx.seed)
    result["extra"].update(dataset=dataset, n_ratings=len(data), n_users=data.n_users,
                           n_items=data.n_items)
    return result


def resolve_model_kwargs(algorithm: str, kwargs: dict[str, Any], seed: int) -> dict[str, Any]:
    """Keyword arguments for the model: one that takes a ``random_state`` gets the run's
    seed unless one is given."""
    resolved = dict(kwargs)
    if algorithm in ("SVD", "NormalPredictor"):
        resolved.setdefault("random_state", seed)
    return resolved


def cross_validate_model(
    algorithm: str, kwargs: dict[str, Any], data, n_folds: int, seed: int
) -> dict[str, Any]:
    """K-fold cross-validation of ``models.MODELS[algorithm](**kwargs)`` on ``data``.

    The split is Surprise's ``KFold(n_folds, random_state=seed)``; each fold refits a fresh
    model on the training ratings in the fold's order.
    """
    compile_s = warm_up(algorithm)
    per_fold = []
    start = time.time()
    for k, (train, test) in enumerate(folds.kfold_indices(len(data), n_folds, seed)):
        per_fold.append({"fold": k, **fit_and_score(algorithm, kwargs, data, train, test)})
    elapsed = time.time() - start
    return {
        "metrics": {
            "rmse": float(np.mean([f["rmse"] for f in per_fold])),
            "mae": float(np.mean([f["mae"] for f in per_fold])),
            "time_s": elapsed,
        },
        "folds": per_fold,
        "extra": {"algorithm": algorithm, "kwargs": kwargs, "n_folds": n_folds,
                  "fold_seed": seed, "compile_s": compile_s,
                  "implementation": "studies/surprise/models.py"},
    }


def fit_and_score(algorithm: str, kwargs: dict[str, Any], data, train: np.ndarray,
                  test: np.ndarray) -> dict[str, float]:
    """Fit a fresh model on the ``train`` positions, score it on the ``test`` positions."""
    model = models.MODELS[algorithm](**kwargs)
    started = time.time()
    model.fit(data.users[train], data.items[train], data.values[train],
              n_users=data.n_users, n_items=data.n_items, scale=data.scale)
    fit_time = time.time() - started
    started = time.time()
    predicted = model.predict(data.users[test], data.items[test])
    test_time = time.time() - started
    truth = data.values[test]
    return {"rmse": metrics.rmse(truth, predicted), "mae": metrics.mae(truth, predicted),
            "fit_time": fit_time, "test_time": test_time,
            "n_train": int(len(train)), "n_test": int(len(test))}


def warm_up(algorithm: str) -> float:
    """Compile the SGD kernel on a tiny problem (cached on disk); return the seconds spent."""
    if algorithm != "SVD":
        return 0.0
    started = time.time()
    tiny = np.array([0, 1], dtype=np.int64)
    models.SVD(n_factors=2, n_epochs=1).fit(tiny, tiny, np.array([1.0, 2.0]),
                                            n_users=2, n_items=2)
    return time.time() - started
