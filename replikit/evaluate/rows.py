"""One ledger row's parts: its base columns, its band, its numbers and its verdict.

:mod:`replikit.evaluate.ledger` lays out the rows; these helpers fill them, the same way
for every kind of claim.
"""

from __future__ import annotations

from typing import Any

from replikit.evaluate.claims_table import COLUMNS
from replikit.evaluate.relations import equivalence_band
from replikit.evaluate.samples import Runs
from replikit.evaluate.verdicts import ValueJudgement, Verdict, make_band, not_comparable
from replikit.numbers import fmt_number
from replikit.study import Claim, LevelCheck, Study
from replikit.vocabulary import INCONCLUSIVE, NOT_REPRODUCED, PARTIAL

NAN = float("nan")
UNRELIABLE = "unreliable timing"


def base_row(claim: Claim, level: str, experiment: str, alpha: float,
              check: LevelCheck | None = None) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        claim_id=claim.id, level=level, experiment=experiment, kind=claim.kind,
        metric=claim.metric, reported=level_reference(claim, check), decimals=claim.decimals,
        higher_is_better=claim.higher_is_better, claim_text=claim.text, source=claim.source,
        alpha=alpha, seeds=[], missing_seeds=[], causes=[], n=0,
    )
    band = level_band(claim, check)
    if band is not None:
        row.update(tolerance=band.width, rounding=band.rounding, band_low=band.low,
                   band_high=band.high)
    return row

def level_reference(claim: Claim, check: LevelCheck | None) -> float | None:
    """The number a level is judged against: its own expected value, else the paper's."""
    if check is not None and check.expected is not None:
        return check.expected.value
    return claim.reported

def level_band(claim: Claim, check: LevelCheck | None = None):
    """The level's band, computed here once and written into its rows (None: no band)."""
    if claim.kind == "equivalence":
        return equivalence_band(claim.margin)
    reference = level_reference(claim, check)
    if claim.tolerance is None or reference is None:
        return None
    return make_band(reference, claim.tolerance, claim.decimals)

def apply_verdict(row: dict[str, Any], verdict: Verdict) -> None:
    row.update(verdict=verdict.verdict, reason=verdict.reason, test=verdict.test,
               rule=verdict.rule, seeds_needed=verdict.seeds_needed)

def missing_note(runs: Runs) -> str:
    """Seeds not used, and seeds whose record was kept from an earlier run (a rerun failed)."""
    kept = [f"seed {seed} kept from an earlier run at {record['kept_from']} (its latest run "
            "failed; the next workflow run tries it again)"
            for seed, record in sorted(runs.ok.items()) if record.get("kept_from")]
    note = "".join(f"; {runs.experiment} {text}" for text in kept)
    return note + (f"; not used: {runs.reason()}" if runs.missing else "")

def load_note(claim: Claim, *runs: Runs) -> str:
    """Times taken while others used the machine are unreliable: say so, and by how much."""
    if not claim.is_timing:
        return ""
    reasons = [str((r.get("load") or {}).get("reason")) for each in runs
               for r in each.ok.values() if (r.get("load") or {}).get("unreliable")]
    if not reasons:
        return ""
    return (f"; {UNRELIABLE}: {len(reasons)} run(s) timed on a loaded machine "
            f"({reasons[0]})")

def repeats_note(claim: Claim, *runs: Runs) -> str:
    """Timed repeats that computed different numbers are not one run timed again: say so."""
    if not claim.is_timing:
        return ""
    differ = [r for each in runs for r in each.ok.values()
              if (r.get("timing") or {}).get("identical") is False]
    if not differ:
        return ""
    keys = ", ".join(differ[0]["timing"].get("differs") or ["?"])
    return (f"; the repeats of {len(differ)} run(s) computed different numbers ({keys}): "
            "the runner draws randomness from somewhere the seed does not control")

def information(study: Study, claim: Claim, check: LevelCheck) -> str:
    """Why a level's number is information only ('' when it is judged)."""
    if check.expected is not None:
        return ""
    differs = study.differences(claim, check)
    if not differs:
        return ""
    why = f" ({check.not_comparable})" if check.not_comparable else ""
    return f"measured on {'; '.join(differs)}{why}"

def not_comparable_text(info: str, judged: ValueJudgement, reported: float) -> str:
    summary = judged.summary
    drift = (summary.mean - reported) / abs(reported) * 100 if reported else float("nan")
    return (f"{info}: mean {fmt_number(summary.mean, significant=5)} (n = {summary.n}) "
            f"against the paper's {fmt_number(reported, significant=5)} (drift {drift:+.1f} %) "
            "is information, not a test of the paper's number")

def number_columns(row: dict[str, Any], judged: ValueJudgement, reported: float,
                    **extra: Any) -> None:
    summary = judged.summary
    row.update(
        n=summary.n, mean=summary.mean, sd=summary.sd, ci_low=summary.ci_low,
        ci_high=summary.ci_high, drift_abs=summary.mean - reported,
        drift_rel=(summary.mean - reported) / abs(reported) if reported else NAN,
        p_value=judged.tost.p_value, **extra)

def finish(row: dict[str, Any], judged: ValueJudgement, info: str, reported: float,
            notes: str) -> None:
    verdict = judged.verdict
    if info:
        verdict = not_comparable(not_comparable_text(info, judged, reported))
    elif UNRELIABLE in notes and verdict.verdict in (NOT_REPRODUCED, PARTIAL):
        verdict = under_load(verdict)
    apply_verdict(row, verdict)
    row["reason"] = verdict.reason + notes


def under_load(verdict: Verdict) -> Verdict:
    """A time taken on a loaded machine is no evidence against the claim: inconclusive."""
    return Verdict(INCONCLUSIVE, f"{verdict.reason}; but the time was taken on a loaded "
                   f"machine, so the {verdict.verdict} verdict does not stand: re-time on an "
                   "idle machine", rule="load", test=verdict.test, p_value=verdict.p_value)
