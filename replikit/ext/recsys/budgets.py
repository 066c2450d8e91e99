"""The tuning budget each model was given and what it spent, read from the Optuna journals.

:func:`budget_rows` reads searches written by :func:`replikit.ext.recsys.tuning.tune`;
:func:`budget_table` is the report's table (one row per experiment, means over seeds),
fed from the journals where the runs' records name one and from the records otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from replikit.ext.recsys.tuning import finished_trials, grid_size, journal_storage


def budget_rows(storages: Mapping[str, tuple[str | Path, str]]) -> list[dict[str, Any]]:
    """What each search was allowed and spent, read from its Optuna journal.

    ``storages`` maps a label (a model or experiment) to ``(journal path, study name)``.
    One row per label: the budget's trials and epochs, the trials finished, the epochs
    each trial trained (one number when all agree), the CPU and wall seconds of all
    trials, and ``equal`` — whether every label got the same trials and epochs.
    """
    rows = []
    for label, (path, study_name) in storages.items():
        study = optuna.load_study(study_name=study_name, storage=journal_storage(path))
        budget = study.user_attrs.get("budget") or {}
        trials = finished_trials(study)
        epochs = sorted({t["fit"].get("epochs") for t in trials} - {None})
        rows.append({
            "model": label, "budget trials": budget.get("trials"),
            "budget epochs": budget.get("epochs"), "trials run": len(trials),
            "epochs per trial": epochs[0] if len(epochs) == 1 else (epochs or None),
            "tuning cpu s": sum(t["cpu_s"] for t in trials),
            "tuning wall s": sum(t["wall_s"] for t in trials),
        })
    same = {(r["budget trials"], r["budget epochs"]) for r in rows}
    for row in rows:
        row["equal"] = len(same) == 1
    return rows


def budget_table(runs: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Every experiment's budget and what it spent, averaged over its seeds (ranking runs).

    Columns: the budget (``trials``, ``epochs``, ``seconds`` per fit), the trials actually run
    and the tuning CPU seconds (read from the runs' Optuna journals by
    :func:`budget_rows` where they exist, else from the run
    records), the final fit's epochs and training seconds, the tuning seconds, the run's
    CPU seconds, how much of the search space was searched, and whether the tuned
    experiments' budgets are equal.
    """
    by_experiment: dict[str, list[dict[str, Any]]] = {}
    for record in runs:
        by_experiment.setdefault(str(record.get("experiment")), []).append(record)
    rows = []
    for experiment, records in sorted(by_experiment.items()):
        extras = [r.get("extra") or {} for r in records]
        budget = extras[0].get("budget") or {}
        spent = journal_spending(extras)
        params = records[0].get("params") or {}
        trials_run = spent.get("trials run", _mean(
            e.get("budget", {}).get("trials_run") for e in extras))
        rows.append({
            "experiment": experiment,
            "model": model_label(records[0]),
            "dataset": str(params.get("dataset") or "?"),
            "profile": records[0].get("profile") or "",
            "budget trials": budget.get("trials"), "budget epochs": budget.get("epochs"),
            "budget seconds": budget.get("seconds"),
            "trials run": trials_run,
            "space searched": space_searched(params.get("space"), trials_run),
            "tuning cpu s": spent.get("tuning cpu s", math.nan),
            "final epochs": _mean((e.get("final_fit") or {}).get("epochs") for e in extras),
            "final train s": _mean((e.get("timings") or {}).get("fit_s") for e in extras),
            "tuning s": _mean((e.get("timings") or {}).get("tune_s") for e in extras),
            "cpu s per run": _mean(r.get("cpu_s") for r in records),
            "seeds": len(records),
            "tuned": any(e.get("tuning") for e in extras),
        })
    frame = pd.DataFrame(rows)
    if not frame.empty:
        tuned = frame[frame["tuned"]]
        same = len({(t, e) for t, e in zip(tuned["budget trials"], tuned["budget epochs"],
                                           strict=True)}) <= 1
        frame["equal budget"] = frame["tuned"].map(lambda t: ("yes" if same else "no") if t
                                                  else "not tuned")
        frame = frame.drop(columns="tuned")
    return frame


def space_searched(space: Mapping[str, Any] | None, trials_run: float) -> str:
    """How much of a search space the trials covered, e.g. ``'2 of 4 grid points'``.

    >>> space_searched({"k": [1, 2], "d": [1.0, 0.8]}, 4.0)
    '4 of 4 grid points'
    >>> space_searched({"lr": {"loguniform": [1e-4, 1e-2]}}, 2.0)
    '2 points of a space with ranges (no end)'
    """
    if not space:
        return "not tuned"
    run = "?" if math.isnan(trials_run) else f"{trials_run:g}"
    size = grid_size(space)
    if size is None:
        return f"{run} points of a space with ranges (no end)"
    return f"{run} of {size} grid points"


def model_label(record: dict[str, Any]) -> str:
    """A run's model name in the report's tables: its ``label`` param, else its model."""
    params = record.get("params") or {}
    return str(params.get("label") or params.get("model")
               or (record.get("extra") or {}).get("model") or "?")


def journal_spending(extras: list[dict[str, Any]]) -> dict[str, float]:
    """Mean trials run and tuning CPU seconds over the seeds whose journal can be read."""
    journals = {}
    for number, extra in enumerate(extras):
        tuning = extra.get("tuning") or {}
        if tuning.get("storage") and Path(tuning["storage"]).is_file():
            journals[str(number)] = (tuning["storage"], tuning["study_name"])
    if not journals:
        return {}
    rows = budget_rows(journals)
    return {"trials run": _mean(r["trials run"] for r in rows),
            "tuning cpu s": _mean(r["tuning cpu s"] for r in rows)}


def _mean(values: Iterable[Any]) -> float:
    numbers = [float(v) for v in values if v is not None]
    return float(np.mean(numbers)) if numbers else math.nan
