"""The rules of the relational claim kinds beyond "a beats b" (:mod:`.verdicts` has that one).

- **equivalence** ("a matches b within m"): TOST on the paired differences a - b against
  the band [-m, m], by the value rules;
- **ratio** ("a takes k times b's time") and **improvement** ("a improves on b by r %"):
  the per-pair ratios a/b (or improvements in percent), judged by the value rules against
  the band around the reported number;
- **best-of** ("a beats each of b1..bn"): one paired comparison per baseline, all in the
  study's Holm family; reproduced only when every pair is, and the reason names the pairs
  that are not.

tests/test_relations.py walks tables of cases through these functions; the report prints
the same rules in prose (:mod:`replikit.evaluate.rules_text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from replikit.evaluate.verdicts import (
    DEFAULT_ALPHA,
    DEFAULT_POWER,
    Band,
    ValueJudgement,
    Verdict,
    judge_value,
)
from replikit.numbers import fmt_number
from replikit.vocabulary import INCONCLUSIVE, NOT_REPRODUCED, NOT_RUN, REPRODUCED


def _fmt(value: float) -> str:
    return fmt_number(value, significant=5, missing="n/a")


def equivalence_band(margin: float) -> Band:
    """The band [-m, m] the differences a - b must lie in (no rounding: m is the study's)."""
    return Band(0.0, float(margin), 0.0, centre="a zero difference")


def judge_equivalence(a_values: Sequence[float], b_values: Sequence[float], margin: float, *,
                      a: str, b: str, alpha: float = DEFAULT_ALPHA,
                      power: float = DEFAULT_POWER, unit: str = "seeds") -> ValueJudgement:
    """a ≈ b within ``margin``: the value rules on the paired differences a - b.

    Equivalence shown by TOST: reproduced; the differences' CI entirely outside [-m, m]
    with a significant difference: not reproduced; otherwise partial or inconclusive, as
    for values.
    """
    differences = [float(x) - float(y) for x, y in zip(a_values, b_values, strict=True)]
    judged = judge_value(differences, equivalence_band(margin), alpha=alpha, power=power,
                         unit=unit)
    verdict = judged.verdict
    reason = f"{a} - {b}, margin ±{_fmt(margin)}: {verdict.reason}"
    return replace(judged, verdict=replace(verdict, reason=reason))


def pair_ratios(a_values: Sequence[float], b_values: Sequence[float], kind: str,
                higher_is_better: bool) -> list[float]:
    """Per pair: a/b for a ratio claim; the improvement of a on b in percent otherwise.

    An improvement is (a/b - 1) × 100 where higher is better and (1 - a/b) × 100 where
    lower is better (a 7 % lower error is an improvement of 7).

    >>> pair_ratios([2.0, 3.0], [1.0, 1.0], "ratio", True)
    [2.0, 3.0]
    >>> [round(v, 6) for v in pair_ratios([0.93], [1.0], "improvement", False)]
    [7.0]
    """
    out = []
    for x, y in zip(a_values, b_values, strict=True):
        if float(y) == 0.0:
            raise ValueError(f"a ratio needs b != 0, got b = {y}")
        ratio = float(x) / float(y)
        if kind == "ratio":
            out.append(ratio)
        else:
            out.append((ratio - 1.0) * 100.0 if higher_is_better else (1.0 - ratio) * 100.0)
    return out


def judge_ratio(a_values: Sequence[float], b_values: Sequence[float], band: Band, *,
                kind: str, a: str, b: str, higher_is_better: bool,
                alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER,
                unit: str = "seeds") -> ValueJudgement:
    """"a is k × b" or "a improves on b by r %": the value rules on the per-pair ratios."""
    ratios = pair_ratios(a_values, b_values, kind, higher_is_better)
    band = replace(band, centre="the reported ratio" if kind == "ratio" else
                   "the reported improvement")
    judged = judge_value(ratios, band, alpha=alpha, power=power, unit=unit)
    what = f"{a} / {b}" if kind == "ratio" else f"improvement of {a} on {b} in %"
    verdict = judged.verdict
    return replace(judged, verdict=replace(verdict, reason=f"{what}: {verdict.reason}"))


def judge_best_of(a: str, pairs: Sequence[tuple[str, Verdict]]) -> Verdict:
    """a beats each of b1..bn: reproduced when every pair is; the reason names the others.

    Parameters
    ----------
    a
        The experiment the claim says is best.
    pairs
        ``(b, verdict)`` for each baseline, each verdict decided by the comparison rule with
        the Holm-adjusted p-value of its pair.

    One pair significantly the other way makes the claim not reproduced; a pair that did not
    run makes it not run (when none ran) or leaves it inconclusive; an unsettled pair leaves
    it inconclusive.
    """
    if not pairs:
        raise ValueError("a best-of claim needs at least one pair")
    failing = [(b, v) for b, v in pairs if v.verdict != REPRODUCED]
    said = "; ".join(f"{a} vs {b}: {v.verdict}" for b, v in failing)
    p_max = max((v.p_value for _, v in pairs), default=float("nan"))
    if not failing:
        return Verdict(REPRODUCED, f"{a} beats each of {', '.join(b for b, _ in pairs)} "
                       "(every pair significant after Holm, or decided on the point rule)",
                       rule="best-of", test="paired t per pair (Holm)", p_value=p_max)
    if all(v.verdict == NOT_RUN for _, v in pairs):
        return Verdict(NOT_RUN, f"no pair ran: {pairs[0][1].reason}", rule="not run", test="")
    worse = [b for b, v in failing if v.verdict == NOT_REPRODUCED]
    verdict = NOT_REPRODUCED if worse else INCONCLUSIVE
    held = [b for b, v in pairs if v.verdict == REPRODUCED]
    head = (f"{a} does not beat {', '.join(worse)}" if worse else
            "not every pair is settled")
    beaten = f"; it beats {', '.join(held)}" if held else ""
    return Verdict(verdict, f"{head}{beaten}. Failing pairs: {said}", rule="best-of",
                   test="paired t per pair (Holm)", p_value=p_max)
