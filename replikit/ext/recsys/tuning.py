"""Equal-budget tuning on Optuna: every model gets the same trials and epochs per trial.

Hyperparameters are chosen once, on the validation stage (models fit on the training
items, ranked on each user's second-to-last item), and the final model is fitted once more
with the chosen values, handed the test stage of the split, and evaluated once on the last
item (:func:`fit_and_test`). What a model trains on in that final fit is its own choice:
the split's test stage offers the training items plus each user's validation item
(``split.fit_histories()``), which the baselines use, while the neural sequential models
of the bert4rec study train on the training items only in both fits. The :class:`Budget`
and every trial are recorded, so a report can show each model's budget side by side with
its numbers — the fairness point of the BERT4Rec replicability study (Petrov & Macdonald,
RecSys 2022), which found that the training budget, not the architecture, explained much
of the reported gap.

The search is an Optuna study (Akiba et al., KDD 2019). Its trials live in an Optuna
``JournalStorage`` file when ``storage`` is given, so a search that was killed resumes
without repeating its finished trials, and ``budgets.budget_rows`` reads the spent budget
back from the file for the report
(:mod:`replikit.ext.recsys.budgets`). A search space maps each hyperparameter to a list of values
(a choice) or to one of ``{"uniform": [low, high]}``, ``{"loguniform": [low, high]}``,
``{"randint": [low, high]}`` (inclusive). A space of lists only is searched as a grid:
its points in an order shuffled by the seed, each enqueued as the next trial (distinct
points, all of them when the grid is smaller than the budget); any other space by Optuna's
``TPESampler``, re-created for every trial with a seed made of the search's seed and the
number of finished trials. Either way the k-th finished trial's point depends on the seed
and the trials before it only, so a resumed search draws what an uninterrupted one would
have drawn, and a CPU run repeats bit for bit. (Optuna's own ``GridSampler`` ties grid
points to trial numbers, which a killed trial shifts.)
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from replikit.errors import ReplikitError
from replikit.ext.recsys.ranking import evaluate

DEFAULT_METRIC = "full/ndcg@10"
RANGE_KINDS = ("uniform", "loguniform", "randint")

optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass(frozen=True)
class Budget:
    """What every model may spend: tuning trials, and epochs, optimiser steps and seconds per fit.

    ``epochs``, ``steps`` and ``seconds`` bound one training run (``None``: no bound of that
    kind); a trainer stops at whichever comes first. Non-iterative baselines ignore them.
    """

    trials: int = 1
    epochs: int | None = None
    seconds: float | None = None
    steps: int | None = None

    def __post_init__(self) -> None:
        bad = {
            "trials": not (isinstance(self.trials, int) and self.trials >= 1),
            "epochs": self.epochs is not None and not (isinstance(self.epochs, int)
                                                       and self.epochs >= 1),
            "seconds": self.seconds is not None and not self.seconds > 0,
            "steps": self.steps is not None and not (isinstance(self.steps, int)
                                                     and self.steps >= 1),
        }
        for key, wrong in bad.items():
            if wrong:
                raise ReplikitError(
                    f"budget {key!r} is out of range",
                    expected="trials: int >= 1; epochs, steps: int >= 1 or null; "
                    "seconds: > 0 or null",
                    found=f"{key}={getattr(self, key)!r}",
                )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, where: str | None = None) -> Budget:
        """Build from a params mapping; unknown keys are errors that name ``where``."""
        unknown = set(values) - {"trials", "epochs", "seconds", "steps"}
        if unknown:
            raise ReplikitError(f"unknown budget key(s) {sorted(unknown)}", where=where,
                                expected="trials, epochs, seconds, steps")
        return cls(**dict(values))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TuningResult:
    """The chosen hyperparameters, every finished trial, the budget and where it is stored."""

    best_params: dict[str, Any]
    trials: list[dict[str, Any]]
    budget: Budget
    metric: str = DEFAULT_METRIC
    seconds: float = 0.0
    storage: str | None = None
    study_name: str | None = None

    @property
    def best_trial(self) -> dict[str, Any]:
        return _best(self.trials)

    def to_dict(self) -> dict[str, Any]:
        return {"best_params": self.best_params, "trials": self.trials,
                "budget": self.budget.to_dict(), "metric": self.metric,
                "seconds": self.seconds, "storage": self.storage,
                "study_name": self.study_name}


def _best(trials: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The highest value, the earliest trial on ties."""
    return dict(max(trials, key=lambda t: (t["value"], -t["trial"])))


# --------------------------------------------------------------------------- search space
def parse_metric(metric: str) -> tuple[str, str]:
    """``'full/ndcg@10'`` -> ``('full', 'ndcg@10')``."""
    protocol, _, name = metric.partition("/")
    if not name:
        raise ReplikitError(f"metric {metric!r} names no protocol",
                            expected="'<protocol>/<metric>', e.g. 'full/ndcg@10'",
                            found=repr(metric))
    return protocol, name


def check_space(space: Mapping[str, Any]) -> None:
    """Refuse a search space entry this module cannot hand to Optuna, naming it."""
    for name, spec in space.items():
        if isinstance(spec, list) and spec:
            continue
        if isinstance(spec, Mapping) and len(spec) == 1:
            kind, bounds = next(iter(spec.items()))
            if (kind in RANGE_KINDS and isinstance(bounds, Sequence) and len(bounds) == 2
                    and bounds[0] <= bounds[1] and (kind != "loguniform" or bounds[0] > 0)):
                continue
        raise ReplikitError(
            f"search space entry {name!r} is not understood",
            expected="a non-empty list, or {uniform|loguniform|randint: [low, high]} "
            "with low <= high (low > 0 for loguniform)",
            found=repr(spec),
        )


def is_grid(space: Mapping[str, Any]) -> bool:
    return all(isinstance(spec, list) for spec in space.values())


def grid_size(space: Mapping[str, Any]) -> int | None:
    """Points in a grid space; ``None`` for a space with ranges (no end)."""
    return int(np.prod([len(v) for v in space.values()])) if is_grid(space) else None


def suggest(trial: optuna.Trial, space: Mapping[str, Any]) -> dict[str, Any]:
    """One point of ``space`` from an Optuna trial."""
    point = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            point[name] = trial.suggest_categorical(name, spec)
            continue
        kind, (low, high) = next(iter(spec.items()))
        if kind == "randint":
            point[name] = trial.suggest_int(name, int(low), int(high))
        else:
            point[name] = trial.suggest_float(name, float(low), float(high),
                                              log=kind == "loguniform")
    return point


def grid_points(space: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """Every point of a grid space, in an order shuffled by ``seed`` (distinct points)."""
    names = list(space)
    grid = [dict(zip(names, values, strict=True))
            for values in itertools.product(*(space[name] for name in names))]
    order = np.random.default_rng(seed).permutation(len(grid))
    return [grid[int(i)] for i in order]


def make_sampler(seed: int, number: int) -> optuna.samplers.BaseSampler:
    """The sampler of the search's ``number``-th finished trial, seeded from both alone.

    Optuna's samplers keep their random state in memory only; re-seeding per trial is what
    lets a resumed search draw the same points as an uninterrupted one.
    """
    trial_seed = int(np.random.SeedSequence([seed, number]).generate_state(1)[0])
    return optuna.samplers.TPESampler(seed=trial_seed)


# --------------------------------------------------------------------------- storage
def journal_storage(path: str | Path) -> JournalStorage:
    """An Optuna journal file (created with its folder when missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))


def open_search(storage: str | Path | None, study_name: str) -> optuna.Study:
    """The search's Optuna study: loaded from the journal when it exists, else created.

    Trials still running or waiting were left by a process that died (one search writes
    one journal at a time), so they are marked failed and their point is searched again.
    """
    backend = journal_storage(storage) if storage is not None else None
    study = optuna.create_study(storage=backend, study_name=study_name, direction="maximize",
                                load_if_exists=True)
    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))
    for trial in stale:
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    return study


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
    storage: str | Path | None = None,
    study_name: str = "search",
) -> TuningResult:
    """Search ``space`` on the validation stage until ``budget.trials`` trials have finished.

    Each trial builds ``make_model({**fixed, **point})``, fits it on
    ``split.for_stage('valid')`` with ``seed`` and ``budget`` (the same seed in every trial,
    so trials differ only in their hyperparameters), records its per-epoch validation
    ``metric`` through ``on_epoch``, and ranks the validation targets. Trials finished in
    ``storage`` by an earlier, interrupted call count and are not run again. A grid
    smaller than the budget is searched whole. The best trial is the highest ``metric``,
    the earliest on ties.
    """
    check_space(space)
    protocol, name = parse_metric(metric)
    started = time.perf_counter()
    study = open_search(storage, study_name)
    study.set_user_attr("budget", budget.to_dict())
    study.set_user_attr("metric", metric)
    target = min(budget.trials, grid_size(space) or budget.trials)
    valid_split = split.for_stage("valid")

    def objective(trial: optuna.Trial) -> float:
        params = {**(fixed or {}), **suggest(trial, space)}
        cpu0, wall0 = time.process_time(), time.perf_counter()
        model = make_model(params)
        on_epoch = _validation_callback(model, split, protocol, name, seed)
        fit_log = model.fit(valid_split, seed=seed, budget=budget, on_epoch=on_epoch)
        result = evaluate(model, split, "valid", protocol, seed=seed)["aggregate"]
        trial.set_user_attr("params", params)
        trial.set_user_attr("metrics", {f"{protocol}/{k}": float(v) for k, v in result.items()})
        trial.set_user_attr("fit", _summary(fit_log))
        trial.set_user_attr("cpu_s", time.process_time() - cpu0)
        trial.set_user_attr("wall_s", time.perf_counter() - wall0)
        return float(result[name])

    grid = grid_points(space, seed) if is_grid(space) else None
    while (done := len(finished_trials(study))) < target:
        study.sampler = make_sampler(seed, done)
        if grid is not None:  # the grid's next point, in the seeded order
            study.enqueue_trial(grid[done])
        study.optimize(objective, n_trials=1)
    trials = finished_trials(study)
    return TuningResult(best_params=_best(trials)["params"], trials=trials, budget=budget,
                        metric=metric, seconds=time.perf_counter() - started,
                        storage=None if storage is None else str(storage),
                        study_name=study_name)


def finished_trials(study: optuna.Study) -> list[dict[str, Any]]:
    """The completed trials as plain records, numbered in the order they finished."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return [{"trial": number, "optuna_number": t.number, "params": t.user_attrs["params"],
             "value": t.value, "metrics": t.user_attrs["metrics"], "fit": t.user_attrs["fit"],
             "cpu_s": t.user_attrs["cpu_s"], "wall_s": t.user_attrs["wall_s"]}
            for number, t in enumerate(done)]


def _validation_callback(model, split, protocol, name, seed) -> Callable[[int, float], dict]:
    def on_epoch(epoch: int, seconds: float) -> dict[str, float]:
        value = evaluate(model, split, "valid", protocol, seed=seed)["aggregate"][name]
        return {f"valid/{protocol}/{name}": value}

    return on_epoch


def _summary(fit_log: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parts of a fit log worth keeping per trial (JSON-friendly)."""
    fit_log = dict(fit_log or {})
    return {key: fit_log.get(key) for key in ("epochs", "steps", "steps_per_epoch", "train_seconds",
                                             "curve")}


# --------------------------------------------------------------------------- final fit
def fit_and_test(
    make_model: Callable[[dict[str, Any]], Any],
    params: Mapping[str, Any],
    split: Any,
    budget: Budget,
    *,
    seed: int,
    protocols: Sequence[str] = ("full",),
    eval_seed: int | None = None,
    exclude_history: bool = True,
) -> dict[str, Any]:
    """Fit anew with ``params``, handed the test stage, and evaluate the test targets, once.

    The model decides what of the test stage it trains on (see the module docstring).

    No callback is passed to the trainer: nothing may look at test targets while training.
    ``exclude_history``: whether each user's history is taken out of the candidates.
    Returns ``{"model", "fit", "results": {protocol: evaluate(...)}, "exclude_history",
    "seconds"}``.
    """
    model = make_model(dict(params))
    started = time.perf_counter()
    fit_log = model.fit(split.for_stage("test"), seed=seed, budget=budget, on_epoch=None)
    fit_seconds = time.perf_counter() - started
    results = {}
    for protocol in protocols:
        results[protocol] = evaluate(model, split, "test", protocol,
                                     seed=seed if eval_seed is None else eval_seed,
                                     exclude_history=exclude_history)
    return {"model": model, "fit": _summary(fit_log), "fit_seconds": fit_seconds,
            "results": results, "exclude_history": exclude_history,
            "seconds": time.perf_counter() - started}


__all__ = ["Budget", "TuningResult", "check_space", "fit_and_test",
           "grid_points", "make_sampler", "open_search", "parse_metric", "suggest", "tune"]
