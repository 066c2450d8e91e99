"""The claims ledger: one row per claim and declared level, with numbers and a verdict.

:func:`build_ledger` turns a study and its run records (``metrics.json`` written by
:func:`replikit.run.harness.execute`) into a :class:`pandas.DataFrame`;
:func:`write_ledger` saves it as ``results/<study>/claims.csv`` and :func:`read_ledger`
reads it back with the same types. The rules that decide each verdict live in
:mod:`replikit.evaluate.verdicts`; this module only gathers each level's sample and lays
out the row. ``replikit status <study>`` prints the ledger as a table.

Which values form a level's sample (also stated in
:data:`replikit.evaluate.verdicts.RULES_MARKDOWN`):
one aggregate value per seed when the experiment has several seeds; the per-fold values when
it has one seed and its folds average to the aggregate; otherwise the single aggregate.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from replikit.errors import ReplikitError
from replikit.evaluate.stats import holm
from replikit.evaluate.verdicts import (
    DEFAULT_ALPHA,
    DEFAULT_POWER,
    VERDICTS,
    Comparison,
    Verdict,
    compare,
    judge_comparison,
    judge_time,
    judge_value,
    make_band,
    not_run,
)
from replikit.fileio import atomic_path, read_json
from replikit.study import Claim, Pair, Study
from replikit.vocabulary import LEVELS

NAN = float("nan")

#: Column name -> pandas dtype. The first 23 are the ledger's contract with the report; the
#: rest add what a report needs to explain comparisons and unsettled cases.
COLUMNS: dict[str, str] = {
    "claim_id": "string",
    "level": "string",
    "experiment": "string",          # the experiment, or "a|b" for a comparison's pair
    "kind": "string",
    "metric": "string",
    "reported": "float64",
    "decimals": "Int64",
    "n": "Int64",                    # size of the sample (pairs, for comparisons)
    "mean": "float64",               # comparisons: of the differences a - b
    "sd": "float64",
    "ci_low": "float64",             # CI at 1 - alpha
    "ci_high": "float64",
    "drift_abs": "float64",          # mean - reported
    "drift_rel": "float64",          # (mean - reported) / |reported|
    "tolerance": "float64",          # the declared tolerance's half-width
    "band_low": "float64",           # reported - (tolerance + rounding)
    "band_high": "float64",
    "p_value": "float64",            # of the deciding test: TOST, or the raw paired t
    "test": "string",
    "comparable": "boolean",         # time claims: actual hardware matches the declared
    "verdict": "string",
    "reason": "string",
    "seeds": "object",               # list of the seeds whose runs form the sample
    "sample": "string",              # seeds | folds | users | run
    "rule": "string",                # tost | point | paired | not run
    "rounding": "float64",           # half a unit of the last printed digit
    "p_difference": "float64",       # one-sample t-test against the reported value
    "p_adjusted": "float64",         # comparisons: Holm-adjusted paired t p-value
    "p_wilcoxon": "float64",         # comparisons: Wilcoxon signed-rank p-value
    "seeds_needed": "Int64",         # unsettled cases: sample size that would settle them
    "missing_seeds": "object",       # declared seeds with no usable run
    "higher_is_better": "boolean",
    "mean_a": "float64",
    "mean_b": "float64",
    "effect_size": "float64",        # Cohen's d_z of a - b
    "effect_ci_low": "float64",
    "effect_ci_high": "float64",
    "alpha": "float64",
    "claim_text": "string",
    "source": "string",
}
_LIST_COLUMNS = ("seeds", "missing_seeds")


# --------------------------------------------------------------------------- records
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
        elif record.get("status") != "ok":
            runs.missing[seed] = str(record.get("reason") or f"status {record.get('status')!r}")
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
        where=str(record.get("_path", f"results/<study>/runs/{experiment}/seed={seed}")),
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


def _unit_word(unit: str) -> str:
    """The word a reason counts the sample in; a single run counts as seeds."""
    return "seeds" if unit == "run" else unit


# --------------------------------------------------------------------------- rows
def _base_row(claim: Claim, level: str, experiment: str, alpha: float) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        claim_id=claim.id, level=level, experiment=experiment, kind=claim.kind,
        metric=claim.metric, reported=claim.reported, decimals=claim.decimals,
        higher_is_better=claim.higher_is_better, claim_text=claim.text, source=claim.source,
        alpha=alpha, seeds=[], missing_seeds=[], n=0,
    )
    if claim.tolerance is not None and claim.reported is not None:
        band = make_band(claim.reported, claim.tolerance, claim.decimals)
        row.update(tolerance=band.width, rounding=band.rounding, band_low=band.low,
                   band_high=band.high)
    return row


def _apply_verdict(row: dict[str, Any], verdict: Verdict) -> None:
    row.update(verdict=verdict.verdict, reason=verdict.reason, test=verdict.test,
               rule=verdict.rule, seeds_needed=verdict.seeds_needed)


def _missing_note(runs: Runs) -> str:
    return f"; not used: {runs.reason()}" if runs.missing else ""


def _value_row(claim: Claim, level: str, runs: Runs, *, comparable: bool, hardware_note: str,
               alpha: float, power: float) -> dict[str, Any]:
    row = _base_row(claim, level, runs.experiment, alpha)
    row["missing_seeds"] = sorted(runs.missing)
    if claim.kind == "time":
        row["comparable"] = comparable
    if not runs.ok:
        _apply_verdict(row, not_run(runs.reason()))
        return row
    sample = sample_of(runs, claim.metric, folds_as_sample=False)
    values = list(sample.values.values())
    band = make_band(claim.reported, claim.tolerance, claim.decimals)
    unit = _unit_word(sample.unit)
    if claim.kind == "time":
        judged = judge_time(values, band, comparable=comparable, hardware_note=hardware_note,
                            alpha=alpha, power=power, unit=unit)
    else:
        judged = judge_value(values, band, alpha=alpha, power=power, unit=unit)
    summary = judged.summary
    row.update(
        seeds=sample.seeds, sample=sample.unit, n=summary.n, mean=summary.mean, sd=summary.sd,
        ci_low=summary.ci_low, ci_high=summary.ci_high,
        drift_abs=summary.mean - claim.reported,
        drift_rel=(summary.mean - claim.reported) / abs(claim.reported)
        if claim.reported else NAN,
        p_value=judged.tost.p_value, p_difference=judged.difference.p_value,
    )
    verdict = judged.verdict
    _apply_verdict(row, verdict)
    row["reason"] = verdict.reason + _missing_note(runs)
    return row


@dataclass
class _PendingComparison:
    row: dict[str, Any]
    comparison: Comparison
    missing_note: str


def _paired_samples(runs_a: Runs, runs_b: Runs, metric: str
                    ) -> tuple[list[float], list[float], str, list[int], list[str]]:
    """Pair a and b: by user (per-user scores), else by seed, else by fold for one seed."""
    common = sorted(set(runs_a.ok) & set(runs_b.ok))
    notes: list[str] = []
    users_a = _per_user(runs_a, common, metric)
    users_b = _per_user(runs_b, common, metric)
    if users_a is not None and users_b is not None and len(users_a) == len(users_b):
        return users_a, users_b, "users", common, notes
    if users_a is not None and users_b is not None:
        notes.append(f"per-user scores not paired ({len(users_a)} vs {len(users_b)} users)")
    elif (users_a is None) != (users_b is None):
        has = runs_a.experiment if users_a is not None else runs_b.experiment
        notes.append(f"per-user scores only for {has}, so not paired by user")
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


def _per_user(runs: Runs, seeds: Sequence[int], metric: str) -> list[float] | None:
    """Each user's score averaged over ``seeds``; None unless every run has them, aligned."""
    lists = []
    for seed in seeds:
        scores = (runs.ok[seed].get("extra") or {}).get("per_user", {}).get(metric)
        if scores is None:
            return None
        lists.append(np.asarray(scores, dtype=float))
    if not lists or len({len(s) for s in lists}) != 1:
        return None
    return [float(v) for v in np.mean(np.vstack(lists), axis=0)]


def _comparison_row(study: Study, claim: Claim, level: str, pair: Pair,
                    indexed: dict[tuple[str, int], dict[str, Any]], alpha: float
                    ) -> dict[str, Any] | _PendingComparison:
    row = _base_row(claim, level, f"{pair.a}|{pair.b}", alpha)
    runs_a = collect_runs(study, indexed, pair.a)
    runs_b = collect_runs(study, indexed, pair.b)
    row["missing_seeds"] = sorted(set(runs_a.missing) | set(runs_b.missing))
    common = sorted(set(runs_a.ok) & set(runs_b.ok))
    if not common:
        reasons = [r.reason() for r in (runs_a, runs_b) if r.missing]
        reason = "; ".join(reasons) or "the two experiments share no seed"
        _apply_verdict(row, not_run(f"no seed ran for both {pair.a} and {pair.b}: {reason}"))
        return row
    a_values, b_values, unit, seeds, notes = _paired_samples(runs_a, runs_b, claim.metric)
    comparison = compare(a_values, b_values, a=pair.a, b=pair.b,
                         higher_is_better=claim.higher_is_better, alpha=alpha,
                         unit=_unit_word(unit),
                         notes=notes)
    effect = comparison.effect
    row.update(
        seeds=seeds, sample=unit, n=comparison.n, mean=effect.mean_diff, sd=effect.sd_diff,
        ci_low=effect.diff_ci_low, ci_high=effect.diff_ci_high,
        p_value=comparison.t_test.p_value, p_wilcoxon=comparison.wilcoxon.p_value,
        mean_a=comparison.mean_a, mean_b=comparison.mean_b, effect_size=effect.d_z,
        effect_ci_low=effect.d_z_ci_low, effect_ci_high=effect.d_z_ci_high,
    )
    note = "".join(f"; not used: {r.reason()}" for r in (runs_a, runs_b) if r.missing)
    return _PendingComparison(row, comparison, note)


def _judge_comparisons(pending: list[_PendingComparison], alpha: float, power: float) -> None:
    """Holm-Bonferroni across all the study's testable comparisons, then each verdict."""
    corrected = holm([p.comparison.t_test.p_value for p in pending], alpha)
    for item, p_adj in zip(pending, corrected.p_adjusted, strict=True):
        verdict = judge_comparison(item.comparison, p_adj, family_size=corrected.m,
                                   alpha=alpha, power=power)
        _apply_verdict(item.row, verdict)
        item.row["p_adjusted"] = p_adj
        item.row["reason"] = verdict.reason + item.missing_note
        if not math.isnan(p_adj):
            item.row["test"] = f"paired t over {item.comparison.unit} (Holm, m = {corrected.m})"


def build_ledger(
    study: Study,
    records: Iterable[dict[str, Any]],
    *,
    hardware_comparable: bool,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
    hardware_note: str = "",
) -> pd.DataFrame:
    """One row per claim and declared level, in the manifest's order.

    Parameters
    ----------
    study
        The validated study.
    records
        Run records (``metrics.json`` contents); records of undeclared experiments or seeds
        are ignored, so stale runs never leak into a verdict.
    hardware_comparable
        Whether the hardware used matches the paper's declared hardware (time claims).
    alpha, power
        Significance level of every test, and the power unsettled cases are planned for.
    hardware_note
        Why the hardware is not comparable, for the time claims' reasons.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, with their dtypes.
    """
    indexed = index_records(records)
    rows: list[dict[str, Any] | _PendingComparison] = []
    for claim in study.claims:
        for level in LEVELS:
            target = claim.levels.get(level)
            if target is None:
                continue
            if isinstance(target, Pair):
                rows.append(_comparison_row(study, claim, level, target, indexed, alpha))
            else:
                runs = collect_runs(study, indexed, target)
                rows.append(_value_row(claim, level, runs, comparable=hardware_comparable,
                                       hardware_note=hardware_note, alpha=alpha, power=power))
    _judge_comparisons([r for r in rows if isinstance(r, _PendingComparison)], alpha, power)
    plain = [r.row if isinstance(r, _PendingComparison) else r for r in rows]
    return _frame(plain)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column, dtype in COLUMNS.items():
        if dtype == "object":
            frame[column] = frame[column].astype(object)
        elif dtype in ("float64", "Int64"):
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype(dtype)
        elif dtype == "string":
            # Empty text, not <NA>: a CSV cannot tell the two apart, so neither does the frame.
            frame[column] = frame[column].astype(dtype).fillna("")
        else:
            frame[column] = frame[column].astype(dtype)
    return frame


# --------------------------------------------------------------------------- files
def write_ledger(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the ledger as CSV atomically; list columns become ``1;2;3``."""
    out = frame.copy()
    for column in _LIST_COLUMNS:
        out[column] = [";".join(str(v) for v in value) for value in out[column]]
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False)
    return Path(path)


def read_ledger(path: str | Path) -> pd.DataFrame:
    """Read a ledger written by :func:`write_ledger`, restoring types and list columns."""
    path = Path(path)
    if not path.exists():
        raise ReplikitError("no claims ledger", where=str(path),
                            fix="build it with the workflow (snakemake ... ledger) first")
    raw = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ReplikitError(
            "the claims ledger lacks columns", where=str(path),
            expected=f"the columns {list(COLUMNS)}", found=f"missing {missing}",
            fix="rebuild the ledger with this version of replikit",
        )
    rows = raw[list(COLUMNS)].to_dict("records")
    for row in rows:
        for column in _LIST_COLUMNS:
            text = row[column]
            row[column] = [] if not isinstance(text, str) or not text else [
                int(v) for v in text.split(";")]
        for column, dtype in COLUMNS.items():
            if dtype == "boolean" and isinstance(row[column], str):
                row[column] = {"True": True, "False": False}[row[column]]
    return _frame(rows)


def verdict_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many rows carry each verdict, in the vocabulary's order (zeros included)."""
    counts = frame["verdict"].value_counts()
    return {verdict: int(counts.get(verdict, 0)) for verdict in VERDICTS}


def summary_line(frame: pd.DataFrame) -> str:
    """E.g. ``40 claim levels: 31 reproduced, 2 partially reproduced, ... 7 not run``."""
    counts = verdict_counts(frame)
    parts = ", ".join(f"{count} {verdict}" for verdict, count in counts.items())
    return f"{len(frame)} claim levels: {parts}"


# --------------------------------------------------------------------------- results folder
def load_records(results: str | Path, study_name: str) -> list[dict[str, Any]]:
    """Every run record under ``<results>/<study>/runs/`` (any depth), sorted by path."""
    base = Path(results) / study_name / "runs"
    records = []
    for path in sorted(base.rglob("metrics.json")):
        try:
            record = read_json(path)
        except json.JSONDecodeError as exc:
            raise ReplikitError("is not valid JSON", where=str(path), found=str(exc),
                                fix="delete the file and re-run the experiment") from exc
        record["_path"] = str(path)
        records.append(record)
    return records


def hardware_comparability(env: dict[str, Any] | None) -> tuple[bool, str]:
    """Read ``env.json``: is the hardware comparable, and if not, why.

    Accepts ``{"hardware_comparable": bool, "hardware_note": str}``, or
    ``{"hardware": [{"item", "declared", "actual", "match"}, ...]}`` (comparable when every
    item matches). Without an environment record the times are not comparable.
    """
    if env is None:
        return False, "no environment record (env.json); the hardware was not compared"
    if isinstance(env.get("hardware_comparable"), bool):
        return env["hardware_comparable"], str(env.get("hardware_note") or "")
    items = env.get("hardware")
    if isinstance(items, list) and items:
        differs = [item for item in items if not item.get("match")]
        note = "; ".join(f"{item.get('item')}: {item.get('actual')} here, "
                         f"{item.get('declared')} declared" for item in differs)
        return not differs, note
    return False, "env.json does not say whether the hardware matches the declared"


def study_ledger(study: Study, results: str | Path = "results", *,
                 alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER) -> pd.DataFrame:
    """The ledger of a study from its results folder (run records and env.json)."""
    env_path = Path(results) / study.name / "env.json"
    env = read_json(env_path) if env_path.exists() else None
    comparable, note = hardware_comparability(env)
    return build_ledger(study, load_records(results, study.name), hardware_comparable=comparable,
                        hardware_note=note, alpha=alpha, power=power)
