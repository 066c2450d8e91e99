"""Equal-budget random search: every model gets the same trials, epochs and seconds.

Hyperparameters are chosen once, on the validation stage (models fit on the training
items, ranked on each user's second-to-last item), and the final model is refit once with
the chosen values on the test stage (training + validation items) and evaluated once on
the last item (:func:`fit_and_test`). The :class:`Budget` and every trial are recorded, so a
report can show each model's budget side by side with its numbers — the fairness point of
the BERT4Rec replicability study (Petrov & Macdonald, RecSys 2022), which found that the
training budget, not the architecture, explained much of the reported gap.

A search space maps each hyperparameter to a list of values (a choice) or to one of
``{"uniform": [low, high]}``, ``{"loguniform": [low, high]}``, ``{"randint": [low, high]}``
(inclusive). When every dimension is a list, trials are distinct points of the grid (all of
it when the grid is smaller than the budget, in grid order); otherwise points are drawn
independently. Draws come from ``numpy.random.default_rng(seed)`` only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from replikit.errors import ReplikitError
from replikit.ext.recsys.ranking import evaluate

DEFAULT_METRIC = "full/ndcg@10"


@dataclass(frozen=True)
class Budget:
    """What every model may spend: tuning trials, and epochs and seconds per fit.

    ``epochs`` and ``seconds`` bound one training run (``None``: no bound of that kind);
    a trainer stops at whichever comes first. Non-iterative baselines ignore both.
    """

    trials: int = 1
    epochs: int | None = None
    seconds: float | None = None

    def __post_init__(self) -> None:
        bad = {
            "trials": not (isinstance(self.trials, int) and self.trials >= 1),
            "epochs": self.epochs is not None and not (isinstance(self.epochs, int)
                                                       and self.epochs >= 1),
            "seconds": self.seconds is not None and not self.seconds > 0,
        }
        for key, wrong in bad.items():
            if wrong:
                raise ReplikitError(
                    f"budget {key!r} is out of range",
                    expected="trials: int >= 1; epochs: int >= 1 or null; seconds: > 0 or null",
                    found=f"{key}={getattr(self, key)!r}",
                )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, where: str | None = None) -> Budget:
        """Build from a params mapping; unknown keys are errors that name ``where``."""
        unknown = set(values) - {"trials", "epochs", "seconds"}
        if unknown:
            raise ReplikitError(f"unknown budget key(s) {sorted(unknown)}", where=where,
                                expected="trials, epochs, seconds")
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TuningResult:
    """The chosen hyperparameters, every trial (params, validation metrics, fit log), the budget."""

    best_params: dict[str, Any]
    trials: list[dict[str, Any]]
    budget: Budget
    metric: str = DEFAULT_METRIC
    seconds: float = 0.0

    @property
    def best_trial(self) -> dict[str, Any]:
        return max(self.trials, key=lambda t: (t["value"], -t["trial"]))

    def to_dict(self) -> dict[str, Any]:
        return {"best_params": self.best_params, "trials": self.trials,
                "budget": self.budget.to_dict(), "metric": self.metric,
                "seconds": self.seconds}


# --------------------------------------------------------------------------- search space
def parse_metric(metric: str) -> tuple[str, str]:
    """``'full/ndcg@10'`` -> ``('full', 'ndcg@10')``."""
    protocol, _, name = metric.partition("/")
    if not name:
        raise ReplikitError(f"metric {metric!r} names no protocol",
                            expected="'<protocol>/<metric>', e.g. 'full/ndcg@10'",
                            found=repr(metric))
    return protocol, name


def sample_points(space: Mapping[str, Any], n: int, *, seed: int) -> list[dict[str, Any]]:
    """``n`` points of ``space`` (fewer if a finite grid is smaller), deterministic in ``seed``.

    Examples
    --------
    >>> sample_points({"k": [10, 20]}, 5, seed=0)
    [{'k': 10}, {'k': 20}]
    """
    names = list(space)
    for name in names:
        _check_dimension(name, space[name])
    rng = np.random.default_rng(seed)
    if all(isinstance(space[name], list) for name in names):
        return _grid_points(space, names, n, rng)
    return [{name: _draw(space[name], rng) for name in names} for _ in range(n)]


def _check_dimension(name: str, spec: Any) -> None:
    if isinstance(spec, list) and spec:
        return
    if isinstance(spec, Mapping) and len(spec) == 1:
        kind, bounds = next(iter(spec.items()))
        if (kind in ("uniform", "loguniform", "randint") and isinstance(bounds, Sequence)
                and len(bounds) == 2 and bounds[0] <= bounds[1]
                and (kind != "loguniform" or bounds[0] > 0)):
            return
    raise ReplikitError(
        f"search space entry {name!r} is not understood",
        expected="a non-empty list, or {uniform|loguniform|randint: [low, high]} "
        "with low <= high (low > 0 for loguniform)",
        found=repr(spec),
    )


def _grid_points(space, names, n, rng) -> list[dict[str, Any]]:
    sizes = [len(space[name]) for name in names]
    total = math.prod(sizes)
    chosen = range(total) if total <= n else rng.choice(total, size=n, replace=False)
    points = []
    for flat in chosen:
        index = np.unravel_index(int(flat), sizes)
        points.append({name: space[name][int(i)] for name, i in zip(names, index, strict=True)})
    return points


def _draw(spec: Any, rng: np.random.Generator) -> Any:
    if isinstance(spec, list):
        return spec[int(rng.integers(len(spec)))]
    kind, (low, high) = next(iter(spec.items()))
    if kind == "uniform":
        return float(rng.uniform(low, high))
    if kind == "loguniform":
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))
    return int(rng.integers(low, high + 1))


# --------------------------------------------------------------------------- tuning
def tune(
    make_model: Callable[[dict[str, Any]], Any],
    space: Mapping[str, Any],
    split: Any,
    budget: Budget,
    *,
    seed: int,
    metric: str = DEFAULT_METRIC,
    fixed: Mapping[str, Any] | None = None,
) -> TuningResult:
    """Random search on the validation stage; ``budget.trials`` fits at most.

    Each trial builds ``make_model({**fixed, **point})``, fits it on
    ``split.for_stage('valid')`` with ``seed`` and ``budget`` (the same seed in every trial,
    so trials differ only in their hyperparameters), records its per-epoch validation
    ``metric`` through ``on_epoch``, and ranks the validation targets. The best trial is
    the highest ``metric``, the earliest on ties.
    """
    protocol, name = parse_metric(metric)
    started = time.perf_counter()
    valid_split = split.for_stage("valid")
    trials = []
    for number, point in enumerate(sample_points(space, budget.trials, seed=seed)):
        params = {**(fixed or {}), **point}
        model = make_model(params)
        on_epoch = _validation_callback(model, split, protocol, name, seed)
        fit_log = model.fit(valid_split, seed=seed, budget=budget, on_epoch=on_epoch)
        result = evaluate(model, split, "valid", protocol, seed=seed)["aggregate"]
        trials.append({
            "trial": number, "params": params, "value": result[name],
            "metrics": {f"{protocol}/{k}": v for k, v in result.items()},
            "fit": _summary(fit_log),
        })
    best = max(trials, key=lambda t: (t["value"], -t["trial"]))
    return TuningResult(best_params=best["params"], trials=trials, budget=budget,
                        metric=metric, seconds=time.perf_counter() - started)


def _validation_callback(model, split, protocol, name, seed) -> Callable[[int, float], dict]:
    def on_epoch(epoch: int, seconds: float) -> dict[str, float]:
        value = evaluate(model, split, "valid", protocol, seed=seed)["aggregate"][name]
        return {f"valid/{protocol}/{name}": value}

    return on_epoch


def _summary(fit_log: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parts of a fit log worth keeping per trial (JSON-friendly)."""
    fit_log = dict(fit_log or {})
    return {key: fit_log.get(key) for key in ("epochs", "steps", "train_seconds", "curve")}


def fit_and_test(
    make_model: Callable[[dict[str, Any]], Any],
    params: Mapping[str, Any],
    split: Any,
    budget: Budget,
    *,
    seed: int,
    protocols: Sequence[str] = ("full",),
    eval_seed: int | None = None,
) -> dict[str, Any]:
    """Refit with ``params`` on the test stage and evaluate the test targets, once.

    No callback is passed to the trainer: nothing may look at test targets while training.
    Returns ``{"model", "fit", "results": {protocol: evaluate(...)}, "seconds"}``.
    """
    model = make_model(dict(params))
    started = time.perf_counter()
    fit_log = model.fit(split.for_stage("test"), seed=seed, budget=budget, on_epoch=None)
    fit_seconds = time.perf_counter() - started
    results = {}
    for protocol in protocols:
        results[protocol] = evaluate(model, split, "test", protocol,
                                     seed=seed if eval_seed is None else eval_seed)
    return {"model": model, "fit": _summary(fit_log), "fit_seconds": fit_seconds,
            "results": results, "seconds": time.perf_counter() - started}


__all__ = ["Budget", "TuningResult", "fit_and_test", "parse_metric", "sample_points", "tune"]
