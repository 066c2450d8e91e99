"""The claims ledger: one row per claim and declared level, with numbers and a verdict.

:func:`build_ledger` turns a study and its run records (``metrics.json`` written by
:func:`replikit.run.harness.execute`) into a :class:`pandas.DataFrame` whose columns,
types and file are owned by :mod:`replikit.evaluate.claims_table`. The rules that decide
each verdict live in :mod:`replikit.evaluate.verdicts`; which run values form a level's
sample, in :mod:`replikit.evaluate.samples`. This module only lays out the rows.
``replikit status <study>`` prints the ledger as a table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from replikit import paths
from replikit.evaluate.claims_table import COLUMNS, typed_frame
from replikit.evaluate.samples import (
    Runs,
    collect_runs,
    index_records,
    load_records,
    paired_samples,
    sample_of,
    unit_word,
)
from replikit.evaluate.stats import holm
from replikit.evaluate.verdicts import (
    DEFAULT_ALPHA,
    DEFAULT_POWER,
    Comparison,
    Verdict,
    compare,
    judge_comparison,
    judge_time,
    judge_value,
    make_band,
    not_run,
)
from replikit.fileio import read_json
from replikit.study import Claim, Pair, Study
from replikit.vocabulary import LEVELS, VERDICTS

NAN = float("nan")


# --------------------------------------------------------------------------- rows
def _base_row(claim: Claim, level: str, experiment: str, alpha: float) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        claim_id=claim.id, level=level, experiment=experiment, kind=claim.kind,
        metric=claim.metric, reported=claim.reported, decimals=claim.decimals,
        higher_is_better=claim.higher_is_better, claim_text=claim.text, source=claim.source,
        alpha=alpha, seeds=[], missing_seeds=[], causes=[], n=0,
    )
    band = _band(claim)
    if band is not None:
        row.update(tolerance=band.width, rounding=band.rounding, band_low=band.low,
                   band_high=band.high)
    return row


def _band(claim: Claim):
    """The claim's band, computed here once and written into its rows (None: no band)."""
    if claim.tolerance is None or claim.reported is None:
        return None
    return make_band(claim.reported, claim.tolerance, claim.decimals)


def _apply_verdict(row: dict[str, Any], verdict: Verdict) -> None:
    row.update(verdict=verdict.verdict, reason=verdict.reason, test=verdict.test,
               rule=verdict.rule, seeds_needed=verdict.seeds_needed)


def _missing_note(runs: Runs) -> str:
    return f"; not used: {runs.reason()}" if runs.missing else ""


def _value_row(claim: Claim, level: str, runs: Runs, *, comparable: bool, hardware_note: str,
               alpha: float, power: float) -> dict[str, Any]:
    row = _base_row(claim, level, runs.experiment, alpha)
    row["missing_seeds"] = sorted(runs.missing)
    row["causes"] = runs.cause_list()
    if claim.kind == "time":
        row["comparable"] = comparable
    if not runs.ok:
        _apply_verdict(row, not_run(runs.reason()))
        return row
    sample = sample_of(runs, claim.metric, folds_as_sample=False)
    values = list(sample.values.values())
    band = _band(claim)
    unit = unit_word(sample.unit)
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



def _comparison_row(study: Study, claim: Claim, level: str, pair: Pair,
                    indexed: dict[tuple[str, int], dict[str, Any]], alpha: float
                    ) -> dict[str, Any] | _PendingComparison:
    row = _base_row(claim, level, f"{pair.a}|{pair.b}", alpha)
    runs_a = collect_runs(study, indexed, pair.a)
    runs_b = collect_runs(study, indexed, pair.b)
    row["missing_seeds"] = sorted(set(runs_a.missing) | set(runs_b.missing))
    row["causes"] = runs_a.cause_list() + [
        c for c in runs_b.cause_list() if c not in runs_a.cause_list()]
    common = sorted(set(runs_a.ok) & set(runs_b.ok))
    if not common:
        reasons = [r.reason() for r in (runs_a, runs_b) if r.missing]
        reason = "; ".join(reasons) or "the two experiments share no seed"
        _apply_verdict(row, not_run(f"no seed ran for both {pair.a} and {pair.b}: {reason}"))
        return row
    a_values, b_values, unit, seeds, notes = paired_samples(runs_a, runs_b, claim.metric)
    comparison = compare(a_values, b_values, a=pair.a, b=pair.b,
                         higher_is_better=claim.higher_is_better, alpha=alpha,
                         unit=unit_word(unit),
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
    return typed_frame(plain)


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
    env_path = Path(results) / paths.env_record(study.name).relative_to(paths.RESULTS)
    env = read_json(env_path) if env_path.exists() else None
    comparable, note = hardware_comparability(env)
    return build_ledger(study, load_records(results, study.name), hardware_comparable=comparable,
                        hardware_note=note, alpha=alpha, power=power)

