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

import numpy as np
import pandas as pd

from replikit import paths
from replikit.evaluate.claims_table import typed_frame
from replikit.evaluate.relations import (
    judge_best_of,
    judge_equivalence,
    judge_ratio,
)
from replikit.evaluate.rows import (
    apply_verdict,
    base_row,
    finish,
    information,
    level_band,
    load_note,
    missing_note,
    number_columns,
    repeats_note,
)
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
from replikit.evaluate.timings import (
    finish_repeats,
    judge_ratio_repeats,
    judge_time_repeats,
    repeat_values,
)
from replikit.evaluate.verdicts import (
    DEFAULT_ALPHA,
    DEFAULT_POWER,
    Comparison,
    Verdict,
    compare,
    judge_comparison,
    judge_time,
    judge_value,
    not_run,
)
from replikit.fileio import read_json
from replikit.run.harness import cause
from replikit.study import Claim, LevelCheck, Study
from replikit.vocabulary import DECLARED_NOT_RUN, LEVELS, VERDICTS

NAN = float("nan")


# --------------------------------------------------------------------------- rows


def _declared_not_run(claim: Claim, level: str, check: LevelCheck, alpha: float
                      ) -> dict[str, Any]:
    row = base_row(claim, level, ",".join(check.names()) or "-", alpha, check)
    row["causes"] = [cause(DECLARED_NOT_RUN, f"{claim.id} at {level}", str(check.not_run))]
    apply_verdict(row, not_run(f"declared not runnable: {check.not_run}"))
    return row


def _value_row(study: Study, claim: Claim, level: str, check: LevelCheck, runs: Runs, *,
               comparable: bool, hardware_note: str, alpha: float, power: float
               ) -> dict[str, Any]:
    row = base_row(claim, level, runs.experiment, alpha, check)
    row["missing_seeds"] = sorted(runs.missing)
    row["causes"] = runs.cause_list()
    if claim.kind == "time":
        row["comparable"] = comparable
    if not runs.ok:
        apply_verdict(row, not_run(runs.reason()))
        return row
    band = level_band(claim, check)
    repeats = repeat_values(runs, claim.metric) if claim.is_timing else None
    if repeats is not None:
        info = information(study, claim, check)
        if claim.kind == "time" and not comparable:
            info = info or ("measured on hardware that does not match the paper's declared "
                            f"hardware ({hardware_note or 'see the environment record'})")
        finish_repeats(row, judge_time_repeats(repeats, band, alpha=alpha), band.reported,
                       info, missing_note(runs) + load_note(claim, runs)
                       + repeats_note(claim, runs))
        row["seeds"] = sorted(runs.ok)
        return row
    sample = sample_of(runs, claim.metric, folds_as_sample=False)
    values = list(sample.values.values())
    unit = unit_word(sample.unit)
    if claim.kind == "time":
        judged = judge_time(values, band, comparable=comparable, hardware_note=hardware_note,
                            alpha=alpha, power=power, unit=unit)
    else:
        judged = judge_value(values, band, alpha=alpha, power=power, unit=unit)
    number_columns(row, judged, band.reported, p_difference=judged.difference.p_value)
    row.update(seeds=sample.seeds, sample=sample.unit)
    finish(row, judged, information(study, claim, check), band.reported,
            missing_note(runs) + load_note(claim, runs))
    return row






@dataclass
class _PendingComparison:
    row: dict[str, Any]
    comparison: Comparison
    missing_note: str
    verdict: Verdict | None = None


@dataclass
class _PendingBestOf:
    row: dict[str, Any]
    a: str
    pairs: list[tuple[str, _PendingComparison | Verdict]]


def _pair_runs(study: Study, indexed: dict[tuple[str, int], dict[str, Any]], a: str, b: str,
               row: dict[str, Any]) -> tuple[Runs, Runs, str | None]:
    """Both sides' runs, their missing seeds and causes in the row; why none pairs, if so."""
    runs_a, runs_b = collect_runs(study, indexed, a), collect_runs(study, indexed, b)
    row["missing_seeds"] = sorted(set(runs_a.missing) | set(runs_b.missing))
    row["causes"] = runs_a.cause_list() + [
        c for c in runs_b.cause_list() if c not in runs_a.cause_list()]
    if set(runs_a.ok) & set(runs_b.ok):
        return runs_a, runs_b, None
    reasons = "; ".join(r.reason() for r in (runs_a, runs_b) if r.missing)
    return runs_a, runs_b, (f"no seed ran for both {a} and {b}: "
                            f"{reasons or 'the two experiments share no seed'}")


def _comparison_row(study: Study, claim: Claim, level: str, a: str, b: str,
                    indexed: dict[tuple[str, int], dict[str, Any]], alpha: float
                    ) -> dict[str, Any] | _PendingComparison:
    row = base_row(claim, level, f"{a}|{b}", alpha)
    runs_a, runs_b, none = _pair_runs(study, indexed, a, b, row)
    if none:
        apply_verdict(row, not_run(none))
        return row
    a_values, b_values, unit, seeds, notes = paired_samples(runs_a, runs_b, claim.metric)
    comparison = compare(a_values, b_values, a=a, b=b,
                         higher_is_better=claim.higher_is_better, alpha=alpha,
                         unit=unit_word(unit), notes=notes)
    effect = comparison.effect
    row.update(
        seeds=seeds, sample=unit, n=comparison.n, mean=effect.mean_diff, sd=effect.sd_diff,
        ci_low=effect.diff_ci_low, ci_high=effect.diff_ci_high,
        p_value=comparison.t_test.p_value, p_wilcoxon=comparison.wilcoxon.p_value,
        mean_a=comparison.mean_a, mean_b=comparison.mean_b, effect_size=effect.d_z,
        effect_ci_low=effect.d_z_ci_low, effect_ci_high=effect.d_z_ci_high,
    )
    return _PendingComparison(row, comparison, missing_note(runs_a) + missing_note(runs_b))


def _measured_relation_row(study: Study, claim: Claim, level: str, check: LevelCheck,
                           indexed: dict[tuple[str, int], dict[str, Any]], alpha: float,
                           power: float) -> dict[str, Any]:
    """Equivalence, ratio and improvement: the value rules on paired differences or ratios."""
    a, b = str(check.a), str(check.b)
    row = base_row(claim, level, f"{a}|{b}", alpha, check)
    runs_a, runs_b, none = _pair_runs(study, indexed, a, b, row)
    if none:
        apply_verdict(row, not_run(none))
        return row
    band = level_band(claim, check)
    if claim.kind != "equivalence" and claim.is_timing:
        timed = _timed_relation_row(study, claim, check, row, runs_a, runs_b, band, alpha)
        if timed is not None:
            return timed
    a_values, b_values, unit, seeds, notes = paired_samples(runs_a, runs_b, claim.metric)
    common = dict(a=a, b=b, alpha=alpha, power=power, unit=unit_word(unit))
    if claim.kind == "equivalence":
        judged = judge_equivalence(a_values, b_values, claim.margin, **common)
    else:
        judged = judge_ratio(a_values, b_values, band, kind=claim.kind,
                             higher_is_better=claim.higher_is_better, **common)
    number_columns(row, judged, band.reported, p_difference=judged.difference.p_value,
                    mean_a=float(np.mean(a_values)), mean_b=float(np.mean(b_values)))
    row.update(seeds=seeds, sample=unit)
    if claim.kind == "equivalence":
        row.update(reported=None, drift_abs=None, drift_rel=None)
    missing = missing_note(runs_a) + missing_note(runs_b)
    extra = "".join(f"; {n}" for n in notes) + missing + load_note(claim, runs_a, runs_b)
    info = "" if claim.kind == "equivalence" else information(study, claim, check)
    finish(row, judged, info, band.reported, extra)
    return row


def _timed_relation_row(study: Study, claim: Claim, check: LevelCheck, row: dict[str, Any],
                        runs_a: Runs, runs_b: Runs, band, alpha: float
                        ) -> dict[str, Any] | None:
    """A ratio of times judged over both sides' repeats; None when a side has none."""
    a_values = repeat_values(runs_a, claim.metric)
    b_values = repeat_values(runs_b, claim.metric)
    if a_values is None or b_values is None:
        return None
    a, b = str(check.a), str(check.b)
    judged = judge_ratio_repeats(a_values, b_values, band, kind=claim.kind, a=a, b=b,
                                 higher_is_better=claim.higher_is_better, alpha=alpha)
    missing = "".join(f"; not used: {r.reason()}" for r in (runs_a, runs_b) if r.missing)
    finish_repeats(row, judged, band.reported, information(study, claim, check),
                   missing + load_note(claim, runs_a, runs_b)
                   + repeats_note(claim, runs_a, runs_b))
    row.update(seeds=sorted(set(runs_a.ok) & set(runs_b.ok)),
               mean_a=float(np.mean(a_values)), mean_b=float(np.mean(b_values)))
    return row


def _best_of_row(study: Study, claim: Claim, level: str, check: LevelCheck,
                 indexed: dict[tuple[str, int], dict[str, Any]], alpha: float
                 ) -> _PendingBestOf:
    a, others = str(check.a), list(check.b)
    row = base_row(claim, level, f"{a}|{','.join(others)}", alpha)
    pairs: list[tuple[str, _PendingComparison | Verdict]] = []
    causes: list[dict[str, str]] = []
    for b in others:
        pair = _comparison_row(study, claim, level, a, b, indexed, alpha)
        part = pair.row if isinstance(pair, _PendingComparison) else pair
        causes += [c for c in part["causes"] if c not in causes]
        pairs.append((b, pair if isinstance(pair, _PendingComparison)
                      else not_run(part["reason"])))
    row["causes"] = causes
    return _PendingBestOf(row, a, pairs)


def _judge_comparisons(pending: list[_PendingComparison], best_of: list[_PendingBestOf],
                       alpha: float, power: float) -> None:
    """Holm-Bonferroni across all the study's testable comparisons (best-of pairs included),
    then each verdict."""
    family = pending + [p for group in best_of for _, p in group.pairs
                        if isinstance(p, _PendingComparison)]
    corrected = holm([p.comparison.t_test.p_value for p in family], alpha)
    for item, p_adj in zip(family, corrected.p_adjusted, strict=True):
        verdict = judge_comparison(item.comparison, p_adj, family_size=corrected.m,
                                   alpha=alpha, power=power)
        item.verdict = verdict
        apply_verdict(item.row, verdict)
        item.row["p_adjusted"] = p_adj
        item.row["reason"] = verdict.reason + item.missing_note
        if not math.isnan(p_adj):
            item.row["test"] = f"paired t over {item.comparison.unit} (Holm, m = {corrected.m})"
    for group in best_of:
        _finish_best_of(group)


def _finish_best_of(group: _PendingBestOf) -> None:
    verdicts = [(b, p.verdict if isinstance(p, _PendingComparison) else p)
                for b, p in group.pairs]
    verdict = judge_best_of(group.a, verdicts)
    apply_verdict(group.row, verdict)
    ran = [p for _, p in group.pairs if isinstance(p, _PendingComparison)]
    if ran:
        weakest = min(ran, key=lambda p: p.comparison.improvement)
        group.row.update({k: weakest.row[k] for k in (
            "seeds", "sample", "n", "mean", "sd", "ci_low", "ci_high", "p_value",
            "p_wilcoxon", "mean_a", "mean_b", "effect_size", "effect_ci_low",
            "effect_ci_high")})
        group.row["p_adjusted"] = max(p.row["p_adjusted"] for p in ran)


def _row(study: Study, claim: Claim, level: str, check: LevelCheck,
         indexed: dict[tuple[str, int], dict[str, Any]], *, comparable: bool,
         hardware_note: str, alpha: float, power: float):
    if check.not_run is not None:
        return _declared_not_run(claim, level, check, alpha)
    if claim.kind == "comparison":
        return _comparison_row(study, claim, level, str(check.a), str(check.b), indexed, alpha)
    if claim.kind == "best-of":
        return _best_of_row(study, claim, level, check, indexed, alpha)
    if check.is_pair:
        return _measured_relation_row(study, claim, level, check, indexed, alpha, power)
    runs = collect_runs(study, indexed, str(check.experiment))
    return _value_row(study, claim, level, check, runs, comparable=comparable,
                      hardware_note=hardware_note, alpha=alpha, power=power)


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
    rows: list[Any] = []
    for claim in study.claims:
        for level in LEVELS:
            check = claim.levels.get(level)
            if check is not None:
                rows.append(_row(study, claim, level, check, indexed,
                                 comparable=hardware_comparable, hardware_note=hardware_note,
                                 alpha=alpha, power=power))
    _judge_comparisons([r for r in rows if isinstance(r, _PendingComparison)],
                       [r for r in rows if isinstance(r, _PendingBestOf)], alpha, power)
    plain = [r.row if isinstance(r, _PendingComparison | _PendingBestOf) else r for r in rows]
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

