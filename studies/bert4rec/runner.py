"""The bert4rec study's runner: one model, one dataset, one seed, every ranking protocol.

``run_experiment(ctx)`` (the contract of ``replikit/run/harness.py``)
reads the experiment's params::

    model:       bert4rec | sasrec | mostpop | itemknn   (or '<module>:<Class>' in this folder)
    dataset:     ml-1m | ml-100k          the artifact of that name (or params.artifact)
    source:      ratings | original       raw MovieLens ratings (default), or the original
                                          repository's preprocessed 'user item' file
    protocols:   [full, pop100, uni100]   default: all three
    profile:     quick | paper            picks the default budget (PROFILES)
    budget:      {trials, epochs, seconds}  overrides the profile's
    hyperparameters: {...}                fixed constructor arguments of the model
    space:       {...}                    searched on validation (replikit.ext.recsys.tuning)
    metric:      full/ndcg@10             what tuning maximises
    preprocessing: {min_user_interactions, min_item_interactions, min_rating}
    max_users:   n                        a fixed random subset of users (seed 0), for quick runs
    eval_seed:   s                        seeds the sampled negatives (default: the run's seed)
    threads:     n                        torch's intra-op threads for the neural models
                                          (1 lets two jobs share two cores without contention)
    label:       text                     the model's name in the report's tables (default:
                                          model), e.g. to tell two budgets of one model apart

With a ``space`` the model is tuned under the budget (chosen once on validation), fitted
anew with the best values and tested once (the baselines then also count each user's
validation item; the neural models train on the training items only, as while tuning);
without one it is fitted once with ``hyperparameters``. ``extra["curve"]`` is the best
trial's validation curve (what the trainer recorded per epoch, with the validation metric
from ``on_epoch``) when tuned, else the final fit's own log (no test metric is ever
computed during training). The neural models come from the other study files
(``bert4rec.py``, ``sasrec.py``), imported only when asked for, so the baselines run
without torch.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import platform
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from replikit.errors import ReplikitError
from replikit.ext.recsys import protocol as proto
from replikit.ext.recsys.ranking import PROTOCOLS
from replikit.ext.recsys.tuning import DEFAULT_METRIC, Budget, fit_and_test, tune

from .data import load_movielens, load_original_sequences, make_split

MODELS = {
    "mostpop": ("baselines", "MostPop"),
    "itemknn": ("baselines", "ItemKNN"),
    "bert4rec": ("bert4rec", "BERT4Rec"),
    "sasrec": ("sasrec", "SASRec"),
}
DATASETS = ("ml-1m", "ml-100k")
PROFILES = {
    # quick: minutes on a laptop CPU; paper: the budget a full comparison gives every model
    "quick": Budget(trials=2, epochs=2, seconds=120.0),
    "paper": Budget(trials=8, epochs=200, seconds=3600.0),
}
SOURCES = ("ratings", "original")
PARAMS = {"model", "dataset", "source", "artifact", "protocols", "profile", "budget",
          "hyperparameters", "space", "metric", "preprocessing", "max_users", "eval_seed",
          "threads", "label"}


def run_experiment(ctx: Any) -> dict[str, Any]:
    """Load, split, (tune,) fit, and rank the test targets under every protocol."""
    params, where = ctx.params, _where(ctx)
    _check_params(params, where)
    started = time.perf_counter()
    split, data_filter = _load_split(ctx, params, where)
    load_seconds = time.perf_counter() - started
    model_class = resolve_model(params["model"], where=f"{where}.model")
    _limit_threads(params.get("threads"))
    make_model = _factory(model_class)
    budget = _budget(params, where)
    fixed = dict(params.get("hyperparameters") or {})
    tuning = None
    if params.get("space"):
        tuning = tune(make_model, params["space"], split, budget, seed=ctx.seed,
                      metric=params.get("metric", DEFAULT_METRIC), fixed=fixed,
                      storage=journal_path(ctx), study_name=search_name(ctx, params))
        chosen = tuning.best_params
    else:
        chosen = fixed
    final = fit_and_test(make_model, chosen, split, budget, seed=ctx.seed,
                         protocols=_protocols(params),
                         eval_seed=params.get("eval_seed"))
    record = _record(split, final, tuning, chosen, budget,
                     {"load_s": load_seconds, "total_s": time.perf_counter() - started})
    record["extra"]["protocol"] = _protocols_measured(ctx, params, data_filter, budget,
                                                      tuning, final)
    return record


def _protocols_measured(ctx, params, data_filter, budget, tuning, final) -> dict[str, Any]:
    """Per metric key, what its figure was measured under (ext/recsys/protocol.py)."""
    data = proto.file_sha256(ctx.artifact(params.get("artifact", params["dataset"])))
    if tuning:
        selection = (f"hyperparameters: the best of {len(tuning.trials)} trials on "
                     f"validation {tuning.metric}; the weights after the last step")
    else:
        selection = "fixed hyperparameters, no validation; the weights after the last step"
    out = {}
    for ranking, result in final["results"].items():
        base = proto.ranking_protocol(
            data_sha256=data, filter=data_filter, ranking=ranking,
            exclude_history=final["exclude_history"], budget=proto.budget_text(budget),
            selection=selection)
        out.update({f"{ranking}/{name}": proto.metric_protocol(base, name)
                    for name in result["aggregate"]})
    return out


def journal_path(ctx: Any) -> Path:
    """``results/<study>/tuning/<experiment>/seed=<s>.journal``, beside the run's ``runs/``.

    The harness's run folder is ``results/<study>/runs/<experiment>/seed=<s>``; the journal
    lives outside it, as a study's tuning record. A run folder of another shape (a test's)
    keeps its journal inside.
    """
    workdir = Path(ctx.workdir)
    if workdir.parts[-3:] != ("runs", ctx.experiment_name, f"seed={ctx.seed}"):
        return workdir / "tuning.journal"
    return workdir.parents[2] / "tuning" / ctx.experiment_name / f"seed={ctx.seed}.journal"


def search_name(ctx: Any, params: Mapping[str, Any]) -> str:
    """The search's name in its journal: the experiment, seed and a digest of what it depends
    on (params and this study's code), so that changed settings or code start a new search
    instead of resuming trials made under the old ones."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return f"{ctx.experiment_name}/seed={ctx.seed}/{digest.hexdigest()[:16]}"


def resolve_model(name: str, *, where: str | None = None) -> type:
    """The class for a model name, imported on demand (``'module:Class'`` also accepted)."""
    spec = ":".join(MODELS[name]) if name in MODELS else str(name)
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise ReplikitError(f"unknown model {name!r}", where=where,
                            expected=" | ".join(MODELS) + " | '<module>:<Class>'",
                            found=repr(name))
    try:
        module = importlib.import_module(f".{module_name}", __package__)
    except ImportError as err:
        raise ReplikitError(f"cannot import the module of model {name!r}", where=where,
                            expected=f"{module_name}.py in the study folder",
                            found=str(err)) from err
    cls = getattr(module, class_name, None)
    if cls is None or not all(callable(getattr(cls, m, None)) for m in ("fit", "score")):
        raise ReplikitError(f"{module_name}.{class_name} is not a recommender", where=where,
                            expected="a class with fit(split, *, seed, budget, on_epoch) "
                            "and score(histories)", found=repr(cls))
    return cls


def _limit_threads(threads: int | None) -> None:
    """Set torch's thread count when a neural model imported torch (baselines never do)."""
    torch = sys.modules.get("torch")
    if threads and torch is not None:
        torch.set_num_threads(int(threads))


def _factory(model_class: type) -> Callable[[dict[str, Any]], Any]:
    """Hyperparameters become constructor keywords (or ``from_params`` when the class has it)."""
    build = getattr(model_class, "from_params", None)
    return (lambda params: build(dict(params))) if callable(build) else (
        lambda params: model_class(**params))


# --------------------------------------------------------------------------- params
def _where(ctx: Any) -> str:
    return f"{ctx.study.dir / 'study.yaml'}: experiments.{ctx.experiment_name}.params"


def _check_params(params: Mapping[str, Any], where: str) -> None:
    unknown = set(params) - PARAMS
    if unknown:
        raise ReplikitError(f"unknown param(s) {sorted(unknown)}", where=where,
                            expected=", ".join(sorted(PARAMS)))
    for key in ("model", "dataset"):
        if key not in params:
            raise ReplikitError(f"param {key!r} is missing", where=where,
                                expected="model and dataset")
    if params["dataset"] not in DATASETS:
        raise ReplikitError(f"unknown dataset {params['dataset']!r}", where=f"{where}.dataset",
                            expected=" | ".join(DATASETS), found=repr(params["dataset"]))
    protocols = _protocols(params)
    if not protocols or any(p not in PROTOCOLS for p in protocols):
        raise ReplikitError("unknown ranking protocol(s)", where=f"{where}.protocols",
                            expected=f"a non-empty list of {', '.join(PROTOCOLS)}",
                            found=repr(protocols))
    if params.get("source", "ratings") not in SOURCES:
        raise ReplikitError(f"unknown source {params['source']!r}", where=f"{where}.source",
                            expected=" | ".join(SOURCES), found=repr(params["source"]))
    if params.get("profile", "quick") not in PROFILES:
        raise ReplikitError(f"unknown profile {params['profile']!r}", where=f"{where}.profile",
                            expected=" | ".join(PROFILES), found=repr(params["profile"]))


def _protocols(params: Mapping[str, Any]) -> list[str]:
    protocols = params.get("protocols", list(PROTOCOLS))
    return [protocols] if isinstance(protocols, str) else list(protocols)


def _budget(params: Mapping[str, Any], where: str) -> Budget:
    base = PROFILES[params.get("profile", "quick")].to_dict()
    return Budget.from_dict({**base, **(params.get("budget") or {})}, where=f"{where}.budget")


def _load_split(ctx: Any, params: Mapping[str, Any], where: str):
    """The split, and its filter in words (for the run's protocol record)."""
    path = ctx.artifact(params.get("artifact", params["dataset"]))
    preprocessing = dict(params.get("preprocessing") or {})
    if params.get("source", "ratings") == "original":
        ratings = load_original_sequences(path)
        # the original file is filtered already: split it as it is unless told otherwise
        preprocessing = {"min_user_interactions": 1, "min_item_interactions": 1,
                         **preprocessing}
    else:
        ratings = load_movielens(path, kind=params["dataset"])
    try:
        split = make_split(ratings, **preprocessing)
    except TypeError as err:
        raise ReplikitError("bad preprocessing options", where=f"{where}.preprocessing",
                            expected="min_user_interactions, min_item_interactions, min_rating",
                            found=str(err)) from err
    used = {name: preprocessing.get(name, param.default)  # make_split's defaults otherwise
            for name, param in inspect.signature(make_split).parameters.items()
            if name != "ratings"}
    data_filter = proto.filter_text(used["min_user_interactions"],
                                    used["min_item_interactions"], used["min_rating"])
    if params.get("max_users"):
        split = split.subset(int(params["max_users"]), seed=0)
        data_filter += f"; {params['max_users']} users drawn at random (seed 0)"
    return split, data_filter


# --------------------------------------------------------------------------- the record
def _record(split, final, tuning, chosen, budget, timings) -> dict[str, Any]:
    metrics, per_user = {}, {"user": split.users.tolist()}
    for protocol, result in final["results"].items():
        for name, value in result["aggregate"].items():
            metrics[f"{protocol}/{name}"] = value
        for name, values in result["per_user"].items():
            per_user[f"{protocol}/{name}"] = values.tolist()
    metrics["train_s"] = final["fit_seconds"]
    curve = tuning.best_trial["fit"]["curve"] if tuning else final["fit"]["curve"]
    model = final["model"]
    device = str(getattr(model, "device", "cpu"))
    return {
        "metrics": metrics,
        "device": device,
        "extra": {
            "model": getattr(model, "name", type(model).__name__),
            "unit": "user", "per_unit": per_user,  # paired user by user in the ledger
            "curve": curve or [],
            "budget": {**budget.to_dict(), "trials_run": len(tuning.trials) if tuning else 0},
            "best_params": dict(chosen),
            "tuning": tuning.to_dict() if tuning else None,
            "final_fit": {k: v for k, v in final["fit"].items() if k != "curve"},
            "data": split.describe(),
            "timings": {**timings, "tune_s": tuning.seconds if tuning else 0.0,
                        "fit_s": final["fit_seconds"], "test_s": final["seconds"]},
            "device": device,
            "host_cpu": platform.processor() or platform.machine(),
        },
    }
