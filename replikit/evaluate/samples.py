"""A level's sample: which run values a verdict is computed on, and the samples file.

The ledger (:mod:`replikit.evaluate.ledger`) sorts an experiment's declared seeds into usable
runs and missing ones (:func:`collect_runs`, keeping each missing run's structured causes),
and takes the level's sample from the usable ones (:func:`sample_of`,
:func:`paired_samples`). :func:`measurement_samples` lists the single measurements behind
each value claim of the ledger; the ledger stage writes them to ``results/<study>/samples.csv``
(:func:`write_samples`) so that the figures draw them without reading the runs again.

Which values form a level's sample (also stated in the verdict rules): one aggregate value
per seed when the experiment has several seeds; the per-fold values when it has one seed and
its folds average to the aggregate; otherwise the single aggregate.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from replikit import paths
from replikit.errors import ReplikitError
from replikit.fileio import atomic_path, read_json
from replikit.run.harness import cause
from replikit.study import Study
from replikit.vocabulary import NO_RUN_RECORD, RUN_FAILED


def _record_key(record: dict[str, Any]) -> tuple[str, int]:
    return str(record.get("experiment")), int(record.get("seed", -1))


def index_records(records: Iterable[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Records by (experiment, seed); two records for the same run are an error."""
    indexed: dict[tuple[str, int], dict[str, Any]] = {}
    for record in records:
        key = _record_key(record)
        if key in indexed:
            raise ReplikitError(
                f"two run records for experiment {key[0]!r} seed {key[1]}",
                where=str(record.get("_path", "run records")),
                expected="one metrics.json per experiment and seed",
                fix="delete the stale record (results/<study>/runs/...) and rebuild the ledger",
            )
        indexed[key] = record
    return indexed


@dataclass
class Runs:
    """The usable runs of one experiment, and why the others are missing."""

    experiment: str
    ok: dict[int, dict[str, Any]] = field(default_factory=dict)
    missing: dict[int, str] = field(default_factory=dict)   # seed -> reason
    causes: dict[int, list[dict[str, str]]] = field(default_factory=dict)  # seed -> causes

    def cause_list(self) -> list[dict[str, str]]:
        """The missing seeds' causes, each once, in seed order."""
        seen = {}
        for seed in sorted(self.causes):
            for item in self.causes[seed]:
                seen.setdefault(json.dumps(item, sort_keys=True), item)
        return list(seen.values())

    def reason(self) -> str:
        """One line: why seeds are missing (the runs' own reasons, each once)."""
        reasons = list(dict.fromkeys(self.missing.values()))
        seeds = ", ".join(str(s) for s in sorted(self.missing))
        return f"{self.experiment} seed(s) {seeds}: " + "; ".join(reasons)


def collect_runs(study: Study, indexed: dict[tuple[str, int], dict[str, Any]],
                 experiment: str) -> Runs:
    """Sort the experiment's declared seeds into usable runs and missing ones."""
    runs = Runs(experiment)
    for seed in study.experiments[experiment].seeds:
        record = indexed.get((experiment, seed))
        if record is None:
            runs.missing[seed] = "no run record"
            runs.causes[seed] = [cause(NO_RUN_RECORD, experiment, "no run record")]
        elif record.get("status") != "ok":
            runs.missing[seed] = str(record.get("reason") or f"status {record.get('status')!r}")
            runs.causes[seed] = list(record.get("causes") or [
                cause(RUN_FAILED, experiment, runs.missing[seed])])
        else:
            runs.ok[seed] = record
    return runs


def _aggregate(record: dict[str, Any], metric: str) -> float | None:
    value = record.get("metrics", {}).get(metric)
    return None if value is None else float(value)


def _fold_values(record: dict[str, Any], metric: str) -> dict[int, float]:
    folds = record.get("folds") or []
    if not folds or not all(metric in fold for fold in folds):
        return {}
    return {int(fold.get("fold", i)): float(fold[metric]) for i, fold in enumerate(folds)}


def _missing_metric(experiment: str, seed: int, record: dict[str, Any], metric: str):
    return ReplikitError(
        f"the run of experiment {experiment!r} seed {seed} has no value for metric {metric!r}",
        where=str(record.get("_path", f"runs/{experiment}/{paths.seed_folder(seed)}")),
        expected=f"'{metric}' under 'metrics' (or in every fold)",
        found=f"metrics {sorted(record.get('metrics', {}))}",
        fix="make the claim's 'metric' match a key the runner writes, or fix the runner",
    )


@dataclass(frozen=True)
class Sample:
    """The values a verdict is computed on, keyed so that two samples can be paired."""

    values: dict[Any, float]     # seed -> value, or fold -> value
    unit: str                    # "seeds", "folds" or "run"
    seeds: list[int]


def sample_of(runs: Runs, metric: str, *, folds_as_sample: bool = True) -> Sample:
    """A level's sample: per seed; per fold for one seed when the folds average to the value.

    With one seed, the folds are the sample only when ``folds_as_sample`` (pairing a
    comparison fold by fold) and their mean equals the run's aggregate (rel. 1e-9), i.e.
    when the aggregate is that mean; a quantity summed over folds (a total time) stays a
    single value. A value claim judged on one seed passes ``folds_as_sample=False``: the
    paper's number *is* the fold average of one deterministic run, so re-running it is a
    point comparison, not a sample of it.
    """
    seeds = sorted(runs.ok)
    if len(seeds) == 1:
        seed = seeds[0]
        record = runs.ok[seed]
        aggregate, folds = _aggregate(record, metric), _fold_values(record, metric)
        mean = float(np.mean(list(folds.values()))) if folds else None
        if folds_as_sample and folds and len(folds) > 1 and (
            aggregate is None or math.isclose(mean, aggregate, rel_tol=1e-9, abs_tol=1e-12)
        ):
            return Sample(folds, "folds", seeds)
        if aggregate is None:
            raise _missing_metric(runs.experiment, seed, record, metric)
        return Sample({seed: aggregate}, "run", seeds)
    return _aggregates(runs, metric)


def unit_word(unit: str) -> str:
    """The word a reason counts the sample in; a single run counts as seeds."""
    return "seeds" if unit == "run" else unit


def paired_samples(runs_a: Runs, runs_b: Runs, metric: str
                   ) -> tuple[list[float], list[float], str, list[int], list[str]]:
    """Pair a and b: by unit (the runs' per-unit scores), else by seed, else by fold."""
    common = sorted(set(runs_a.ok) & set(runs_b.ok))
    notes: list[str] = []
    units_a, units_b = _per_unit(runs_a, common, metric), _per_unit(runs_b, common, metric)
    if units_a is not None and units_b is not None and units_a[0] == units_b[0]:
        unit, scores_a, scores_b = units_a[0], units_a[1], units_b[1]
        if len(scores_a) == len(scores_b):
            return scores_a, scores_b, f"{unit}s", common, notes
        notes.append(f"per-{unit} scores not paired ({len(scores_a)} vs {len(scores_b)} "
                     f"{unit}s)")
    elif (units_a is None) != (units_b is None):
        has, (unit, _) = ((runs_a.experiment, units_a) if units_a is not None
                          else (runs_b.experiment, units_b))
        notes.append(f"per-{unit} scores only for {has}, so not paired by {unit}")
    only_a = Runs(runs_a.experiment, {s: runs_a.ok[s] for s in common})
    only_b = Runs(runs_b.experiment, {s: runs_b.ok[s] for s in common})
    sample_a, sample_b = sample_of(only_a, metric), sample_of(only_b, metric)
    if sample_a.unit != sample_b.unit or sorted(sample_a.values) != sorted(sample_b.values):
        # Folds on one side only, or different folds: pair the runs' aggregates instead.
        notes.append("folds do not match between the two experiments; paired per run")
        sample_a, sample_b = _aggregates(only_a, metric), _aggregates(only_b, metric)
    keys = sorted(sample_a.values)
    return ([sample_a.values[k] for k in keys], [sample_b.values[k] for k in keys],
            sample_a.unit, common, notes)


def _aggregates(runs: Runs, metric: str) -> Sample:
    """One aggregate value per usable seed, whatever the folds say."""
    values = {}
    for seed, record in sorted(runs.ok.items()):
        value = _aggregate(record, metric)
        if value is None:
            raise _missing_metric(runs.experiment, seed, record, metric)
        values[seed] = value
    return Sample(values, "seeds" if len(values) > 1 else "run", sorted(values))


def _per_unit(runs: Runs, seeds: Sequence[int], metric: str
              ) -> tuple[str, list[float]] | None:
    """Each unit's score averaged over ``seeds``; None unless every run has them, aligned.

    A runner that scores units one by one (items, documents, queries) records them under
    ``extra.per_unit[metric]``, naming the unit in ``extra.unit`` (singular).
    """
    lists, names = [], set()
    for seed in seeds:
        extra = runs.ok[seed].get("extra") or {}
        scores = (extra.get("per_unit") or {}).get(metric)
        if scores is None:
            return None
        names.add(str(extra.get("unit") or "unit"))
        lists.append(np.asarray(scores, dtype=float))
    if not lists or len({len(s) for s in lists}) != 1 or len(names) != 1:
        return None
    return names.pop(), [float(v) for v in np.mean(np.vstack(lists), axis=0)]


# --------------------------------------------------------------------------- files
def load_records(results: str | Path, study_name: str) -> list[dict[str, Any]]:
    """Every run record under ``<results>/<study>/runs/``, sorted by path
    (:func:`run_record_files`, read by :func:`read_run_record`)."""
    base = Path(results) / study_name / paths.runs_dir(study_name).name
    return [{**read_run_record(path), "_path": str(path)} for path in run_record_files(base)]


def run_record_files(runs_dir: str | Path) -> list[Path]:
    """Each run's record: its ``metrics.json``, or its last good copy when a failed rerun
    left none.

    A job that fails loses its output (Snakemake deletes it, so the next run tries again);
    the job kept a copy of the last good one in ``.last-good/``
    (:func:`replikit.workflow.keep_last_good`). Until the seed runs again, that copy stands
    for the seed, marked as kept (:func:`read_run_record`), rather than the seed going
    missing. A last good copy beside a record is not a run of its own.
    """
    runs_dir = Path(runs_dir)
    records = set(runs_dir.glob(paths.RUN_RECORD_GLOB))
    for kept in runs_dir.glob(f"*/seed=*/{paths.LAST_GOOD}/metrics.json"):
        if not (kept.parent.parent / kept.name).exists():
            records.add(kept)
    return sorted(records)


def read_run_record(path: str | Path) -> dict[str, Any]:
    """A run record; a last good copy also says when it was written (``kept_from``, UTC),
    which the ledger's reasons quote."""
    path = Path(path)
    try:
        record = read_json(path)
    except json.JSONDecodeError as exc:
        raise ReplikitError("is not valid JSON", where=str(path), found=str(exc),
                            fix="delete the file and re-run the experiment") from exc
    if path.parent.name == paths.LAST_GOOD:
        written = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        record["kept_from"] = written.strftime("%Y-%m-%d %H:%M UTC")
    return record


SAMPLE_COLUMNS = ["claim_id", "level", "experiment", "metric", "seed", "fold", "value"]


def measurement_samples(ledger: pd.DataFrame, runs: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The single measurements behind each value-claim row of the ledger.

    For each row, the run records of its experiment and of the seeds the ledger lists give
    one value per fold when the run recorded folds, else one per seed. These are copied,
    not summarised: the figures draw them next to the ledger's mean.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SAMPLE_COLUMNS`.
    """
    by_experiment: dict[str, list[dict[str, Any]]] = {}
    for record in runs:
        if record.get("status", "ok") == "ok":
            by_experiment.setdefault(str(record.get("experiment")), []).append(record)
    rows = []
    for _, row in ledger[ledger["kind"] == "value"].iterrows():
        wanted = set(row["seeds"])
        for record in sorted(by_experiment.get(str(row["experiment"]), []),
                             key=lambda r: r.get("seed", 0)):
            if wanted and int(record.get("seed", -1)) not in wanted:
                continue
            rows.extend(_record_values(row, record))
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS)


def _record_values(row: pd.Series, record: dict[str, Any]) -> list[dict[str, Any]]:
    metric = str(row["metric"])
    base = {"claim_id": row["claim_id"], "level": row["level"],
            "experiment": row["experiment"], "metric": metric, "seed": record.get("seed")}
    folds = [f for f in record.get("folds") or [] if metric in f]
    if folds:
        return [{**base, "fold": f.get("fold", i), "value": f[metric]}
                for i, f in enumerate(folds)]
    value = (record.get("metrics") or {}).get(metric)
    return [] if value is None else [{**base, "fold": None, "value": value}]


def write_samples(samples: pd.DataFrame, path: str | Path) -> Path:
    """Write the measurements file (``results/<study>/samples.csv``) atomically."""
    with atomic_path(path) as tmp:
        samples.to_csv(tmp, index=False, lineterminator="\n")
    return Path(path)


def read_samples(path: str | Path) -> pd.DataFrame:
    """Read the measurements file written by :func:`write_samples`."""
    path = Path(path)
    if not path.exists():
        raise ReplikitError("the measurements file does not exist", where=str(path),
                            fix="build it with the workflow's ledger step first")
    frame = pd.read_csv(path, dtype={"claim_id": str, "level": str, "experiment": str,
                                     "metric": str})
    missing = [c for c in SAMPLE_COLUMNS if c not in frame.columns]
    if missing:
        raise ReplikitError("the measurements file lacks columns", where=str(path),
                            expected=str(SAMPLE_COLUMNS), found=f"missing {missing}",
                            fix="rebuild it with the workflow's ledger step")
    frame["seed"] = frame["seed"].astype("Int64")
    frame["fold"] = frame["fold"].astype("Int64")
    return frame[SAMPLE_COLUMNS]
