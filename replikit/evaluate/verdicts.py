"""The verdict rules: how measured numbers become "reproduced", "not reproduced", and so on.

The rules are written once, here, as small functions, and once as prose
(:mod:`replikit.evaluate.rules_text`) that the report prints verbatim. The tests
(tests/test_verdicts.py) walk tables of cases through the functions, so the prose and the
code are checked against the same examples.

Vocabulary (:data:`VERDICTS`): reproduced, partially reproduced, inconclusive,
not reproduced, not comparable, not run. The relational kinds (equivalence, ratio,
improvement, best-of) are in :mod:`replikit.evaluate.relations`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from replikit.evaluate.stats import (
    EffectSize,
    OneSampleTest,
    PairedTest,
    Summary,
    Tost,
    one_sample_t,
    paired_effect,
    paired_t,
    seeds_needed,
    summarize,
    tost,
    wilcoxon,
)
from replikit.numbers import fmt_band, fmt_number, fmt_p, fmt_share
from replikit.study import Tolerance
from replikit.vocabulary import (
    INCONCLUSIVE,
    NOT_COMPARABLE,
    NOT_REPRODUCED,
    NOT_RUN,
    PARTIAL,
    REPRODUCED,
    VERDICTS,
)

DEFAULT_ALPHA = 0.05
DEFAULT_POWER = 0.8


def _fmt(value: float) -> str:
    """A number for a one-line reason: five significant digits."""
    return fmt_number(value, significant=5, missing="n/a")


# --------------------------------------------------------------------------- the band
@dataclass(frozen=True)
class Band:
    """The equivalence band around a reported value.

    ``width`` is the tolerance's half-width; ``rounding`` is half a unit of the last digit
    the paper printed (0 when ``decimals`` is not known), added because the paper rounded.
    """

    reported: float
    width: float
    rounding: float
    #: The decimals the paper printed the value with: the band is printed with one more.
    decimals: int | None = None
    #: What the centre is, in a reason's words (a relation's band centres on no reported
    #: value: an equivalence band on a zero difference).
    centre: str = "the reported value"

    @property
    def half_width(self) -> float:
        return self.width + self.rounding

    @property
    def low(self) -> float:
        return self.reported - self.half_width

    @property
    def high(self) -> float:
        return self.reported + self.half_width

    def contains(self, value: float) -> bool:
        """Inclusive test; a relative 1e-12 guards edges against floating-point noise."""
        slack = 1e-12 * max(1.0, abs(self.reported))
        return self.low - slack <= value <= self.high + slack

    def describe(self) -> str:
        return fmt_band(self.low, self.high, self.decimals)


def make_band(reported: float, tolerance: Tolerance, decimals: int | None) -> Band:
    """The band ``reported ± (tolerance width + ½ unit of the last printed digit)``.

    Examples
    --------
    >>> b = make_band(0.944, Tolerance(absolute=0.005), 3)
    >>> round(b.low, 6), round(b.high, 6)
    (0.9385, 0.9495)
    """
    rounding = 0.5 * 10.0 ** (-decimals) if decimals is not None else 0.0
    return Band(float(reported), float(tolerance.width(reported)), rounding, decimals)


# --------------------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class Verdict:
    """A verdict, its one-line reason, and which rule and test decided it."""

    verdict: str
    reason: str
    rule: str
    test: str
    p_value: float = math.nan
    seeds_needed: int | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def not_run(reason: str) -> Verdict:
    """The verdict for a level whose runs are missing or could not run."""
    return Verdict(NOT_RUN, reason, rule="not run", test="")


def not_comparable(reason: str) -> Verdict:
    """The verdict for a number measured on another data set, protocol or hardware."""
    return Verdict(NOT_COMPARABLE, reason, rule="not comparable", test="")


# Values closer than this (relative to their size) are one value: different summation
# orders leave differences of 1e-16 that no seed made.
SAME_VALUE_RTOL = 1e-9


def seed_did_not_matter(values: Sequence[float]) -> bool:
    """Two or more values that are all the same number: the seed changed nothing.

    >>> seed_did_not_matter([0.25, 0.25, 0.25 + 1e-17]), seed_did_not_matter([1.0, 1.1])
    (True, False)
    """
    if len(values) < 2:
        return False
    low, high = min(values), max(values)
    return high - low <= SAME_VALUE_RTOL * max(1.0, abs(high), abs(low))


@dataclass(frozen=True)
class ValueJudgement:
    """Everything measured for a value or time claim at one level, and the verdict."""

    summary: Summary
    band: Band
    tost: Tost
    difference: OneSampleTest
    verdict: Verdict


def judge_value(
    values: Sequence[float],
    band: Band,
    *,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
    unit: str = "seeds",
) -> ValueJudgement:
    """Apply the value-claim rules to a sample.

    Parameters
    ----------
    values
        The sample: one value per seed, or per fold when there is one seed (see the rules).
    band
        The equivalence band (:func:`make_band`).
    alpha
        Significance level of TOST and of the difference test; the CI is at ``1 - alpha``.
    power
        Power the seed count for unsettled cases is planned for.
    unit
        What one value is ("seeds", "folds"), for the reason.
    """
    if seed_did_not_matter(values):
        # Copies of one number are one measurement, whatever their count: no test on them.
        same = len(values)
        values = [float(values[0])]
        unit = f"{unit} (all {same} gave the same value: the seed did not change the result)"
    summary = summarize(values, confidence=1 - alpha)
    equivalence = tost(values, band.low, band.high, alpha)
    difference = one_sample_t(values, band.reported)
    if summary.n < 2 or summary.sd == 0.0:
        verdict = _point_rule(summary, band, unit)
    else:
        verdict = _tested_rule(summary, band, equivalence, difference, alpha, power, unit)
    return ValueJudgement(summary, band, equivalence, difference, verdict)


def _point_rule(summary: Summary, band: Band, unit: str) -> Verdict:
    """n == 1 or zero variance: no test is possible, the measured value decides alone."""
    same = "the seed did not change the result" in unit
    why = (f"one measurement over {unit}" if same else
           "a single run (n = 1)" if summary.n < 2 else f"no variation over {summary.n} {unit}")
    inside = band.contains(summary.mean)
    where = "inside" if inside else ("above" if summary.mean > band.high else "below")
    reason = (f"{why}: measured {_fmt(summary.mean)} lies {where} the band {band.describe()}; "
              "decided on the point value, no test possible")
    test = ("point rule (seed did not change the result)" if same else
            "point rule (n = 1)" if summary.n < 2 else "point rule (zero variance)")
    return Verdict(REPRODUCED if inside else NOT_REPRODUCED, reason, rule="point", test=test)


def _tested_rule(
    summary: Summary, band: Band, equivalence: Tost, difference: OneSampleTest,
    alpha: float, power: float, unit: str,
) -> Verdict:
    """n >= 2 with variation: TOST for equivalence, the CI for a difference."""
    level = fmt_share(summary.confidence)
    mean, ci = _fmt(summary.mean), f"[{_fmt(summary.ci_low)}, {_fmt(summary.ci_high)}]"
    over = f"over {summary.n} {unit}"
    tost_text = f"TOST p = {fmt_p(equivalence.p_value)}"
    if equivalence.p_value < alpha:
        return Verdict(
            REPRODUCED,
            f"mean {mean} {over} lies within {band.describe()} and equivalence is shown "
            f"({tost_text} < {alpha:g})",
            rule="tost", test="TOST", p_value=equivalence.p_value,
        )
    above, below = summary.ci_low > band.high, summary.ci_high < band.low
    if (above or below) and difference.p_value < alpha:
        side = "above" if above else "below"
        return Verdict(
            NOT_REPRODUCED,
            f"mean {mean} {over}, {level} CI {ci} lies entirely {side} the band "
            f"{band.describe()} (t-test against {band.centre} p = "
            f"{fmt_p(difference.p_value)})",
            rule="tost", test="TOST", p_value=equivalence.p_value,
        )
    if band.contains(summary.mean):
        margin = min(summary.mean - band.low, band.high - summary.mean)
        needed = seeds_needed(summary.sd, margin, alpha, power, "one-sided")
        return Verdict(
            PARTIAL,
            f"mean {mean} {over} lies inside {band.describe()} but equivalence is not shown "
            f"({tost_text}); {_needed_text(needed, unit, 'show equivalence', power)}",
            rule="tost", test="TOST", p_value=equivalence.p_value, seeds_needed=needed,
        )
    side = "above" if summary.mean > band.high else "below"
    margin = summary.mean - (band.high if side == "above" else band.low)
    needed = seeds_needed(summary.sd, margin, alpha, power, "two-sided")
    return Verdict(
        INCONCLUSIVE,
        f"more {unit} needed: mean {mean} {over} lies {side} {band.describe()} but the {level} "
        f"CI {ci} overlaps it; {_needed_text(needed, unit, 'settle it', power)}",
        rule="tost", test="TOST", p_value=equivalence.p_value, seeds_needed=needed,
    )


def _needed_text(needed: int | None, unit: str, goal: str, power: float) -> str:
    if needed is None:
        return f"no number of {unit} would {goal} at this spread"
    return (f"about {needed} {unit} in all would {goal} ({fmt_share(power)} power, "
            "spread as observed)")


def judge_time(
    values: Sequence[float],
    band: Band,
    *,
    comparable: bool,
    hardware_note: str = "",
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
    unit: str = "seeds",
) -> ValueJudgement:
    """Time claims: the value rules on comparable hardware, else "not comparable".

    On other hardware an absolute time says nothing about the paper, so no test decides and
    no seed count is advised; the measured time is shown as information.
    """
    judged = judge_value(values, band, alpha=alpha, power=power, unit=unit)
    if comparable:
        return judged
    why = f" ({hardware_note})" if hardware_note else ""
    reason = (f"measured {_fmt(judged.summary.mean)} s against the reported "
              f"{_fmt(band.reported)} s on hardware that does not match the paper's declared "
              f"hardware{why}: an absolute time is information here, not evidence")
    return replace(judged, verdict=not_comparable(reason))


# --------------------------------------------------------------------------- comparisons
@dataclass(frozen=True)
class Comparison:
    """The paired measurements of a comparison claim ("a beats b") at one level."""

    a: str
    b: str
    higher_is_better: bool
    unit: str
    mean_a: float
    mean_b: float
    effect: EffectSize
    t_test: PairedTest
    wilcoxon: PairedTest
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.effect.n

    @property
    def improvement(self) -> float:
        """Mean advantage of a over b in the claimed direction (> 0: a is better)."""
        sign = 1.0 if self.higher_is_better else -1.0
        return sign * self.effect.mean_diff

    @property
    def testable(self) -> bool:
        return not math.isnan(self.t_test.p_value)


def compare(
    a_values: Sequence[float],
    b_values: Sequence[float],
    *,
    a: str,
    b: str,
    higher_is_better: bool,
    alpha: float = DEFAULT_ALPHA,
    unit: str = "seeds",
    notes: Sequence[str] = (),
) -> Comparison:
    """Measure a paired comparison: mean difference a - b, d_z, paired t and Wilcoxon."""
    a_summary, b_summary = summarize(a_values), summarize(b_values)
    return Comparison(
        a, b, higher_is_better, unit, a_summary.mean, b_summary.mean,
        paired_effect(a_values, b_values, confidence=1 - alpha),
        paired_t(a_values, b_values), wilcoxon(a_values, b_values), list(notes),
    )


def judge_comparison(
    comparison: Comparison,
    p_adjusted: float,
    *,
    family_size: int,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
) -> Verdict:
    """Decide a comparison claim from its Holm-adjusted paired t-test.

    Parameters
    ----------
    comparison
        From :func:`compare`.
    p_adjusted
        The Holm-adjusted p-value of its paired t-test within the study's family of
        comparisons (``nan`` when the test could not run).
    family_size
        How many comparisons the Holm family holds (plans the seed count at alpha / m).
    """
    better = "higher" if comparison.higher_is_better else "lower"
    effect = comparison.effect
    head = (f"{comparison.a} vs {comparison.b}: mean difference {_fmt(effect.mean_diff)} "
            f"over {comparison.n} {comparison.unit}")
    notes = "".join(f"; {note}" for note in comparison.notes)
    if not comparison.testable:
        why = ("a single pair (n = 1)" if comparison.n < 2
               else f"the same difference over all {comparison.n} {comparison.unit} (the "
               "seed did not change the result: one measurement)")
        wins = comparison.improvement > 0
        return Verdict(
            REPRODUCED if wins else NOT_REPRODUCED,
            f"{why}: {comparison.a} is {better if wins else 'not ' + better} than "
            f"{comparison.b} ({head}); decided on the point difference, no test possible{notes}",
            rule="point", test="point rule",
        )
    d_z = (f"d_z = {_fmt(effect.d_z)} [{_fmt(effect.d_z_ci_low)}, "
           f"{_fmt(effect.d_z_ci_high)}]")
    p_text = f"Holm-adjusted paired t p = {fmt_p(p_adjusted)}"
    if p_adjusted < alpha:
        wins = comparison.improvement > 0
        verdict = REPRODUCED if wins else NOT_REPRODUCED
        direction = (f"{comparison.a} is significantly better ({better})" if wins
                     else f"{comparison.a} is significantly worse, the other way")
        return Verdict(verdict, f"{direction}: {head}, {d_z}, {p_text}{notes}",
                       rule="paired", test="paired t (Holm)", p_value=p_adjusted)
    needed = seeds_needed(effect.sd_diff, effect.mean_diff, alpha / max(family_size, 1), power,
                          "two-sided")
    return Verdict(
        INCONCLUSIVE,
        f"no significant difference after Holm: {head}, {d_z}, {p_text}; "
        f"{_needed_text(needed, comparison.unit, 'settle the direction', power)}{notes}",
        rule="paired", test="paired t (Holm)", p_value=p_adjusted, seeds_needed=needed,
    )
