"""The verdict rules, walked through tables of cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from replikit.evaluate.rules_text import RULES_MARKDOWN, render_rules
from replikit.evaluate.stats import holm, seeds_needed, summarize, tost
from replikit.evaluate.verdicts import (
    INCONCLUSIVE,
    NOT_COMPARABLE,
    NOT_REPRODUCED,
    NOT_RUN,
    PARTIAL,
    REPRODUCED,
    VERDICTS,
    Band,
    Verdict,
    compare,
    judge_comparison,
    judge_time,
    judge_value,
    make_band,
    not_run,
)
from replikit.study import Tolerance
from replikit.vocabulary import CLAIM_KINDS

# Surprise's SVD row: RMSE 0.944 printed with 3 decimals, tolerance ±0.005.
RMSE_BAND = make_band(0.944, Tolerance(absolute=0.005), 3)      # [0.9385, 0.9495]


def _sample(mean: float, sd: float, n: int) -> list[float]:
    """n values with exactly this mean and sample standard deviation."""
    z = np.linspace(-1.0, 1.0, n)
    z = (z - z.mean()) / z.std(ddof=1)
    return list(mean + sd * z)


# --------------------------------------------------------------------------- the band
@pytest.mark.parametrize("reported, tolerance, decimals, low, high", [
    (0.944, {"absolute": 0.005}, 3, 0.9385, 0.9495),        # + half of 0.001
    (0.944, {"absolute": 0.005}, None, 0.939, 0.949),       # decimals unknown: no rounding
    (0.4818, {"relative": 0.05}, 4, 0.4818 - 0.02409 - 0.00005, 0.4818 + 0.02409 + 0.00005),
    (6.0, {"relative": 0.5}, 0, 2.5, 9.5),                  # a time: ±3 s, ±0.5 s rounding
    (0.5, {"absolute": 0.01, "relative": 0.05}, 2, 0.47, 0.53),   # relative is larger
    (0.1, {"absolute": 0.01, "relative": 0.05}, 2, 0.085, 0.115),  # absolute is larger
    (-2.0, {"relative": 0.1}, 1, -2.25, -1.75),             # negative reported value
])
def test_band_is_tolerance_plus_half_a_printed_unit(reported, tolerance, decimals, low, high):
    band = make_band(reported, Tolerance(**tolerance), decimals)
    assert (band.low, band.high) == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize("value, inside", [
    (0.9385, True), (0.9495, True), (0.944, True), (0.93849, False), (0.94951, False),
    (0.9385 - 1e-15, True),   # floating-point noise at the edge is not a verdict
])
def test_band_edges_are_inclusive(value, inside):
    assert RMSE_BAND.contains(value) is inside


# --------------------------------------------------------------------------- value claims
SAME = "point rule (seed did not change the result)"
TIGHT = [0.9441, 0.9436, 0.9445, 0.9439, 0.9442]         # sd 0.00035 around 0.944
FAR = [0.9601, 0.9612, 0.9598, 0.9605]                    # well above the band

VALUE_CASES = [
    # id, values, band, verdict, test
    ("n1-inside", [0.944], RMSE_BAND, REPRODUCED, "point rule (n = 1)"),
    ("n1-inside-only-by-rounding", [0.9493], RMSE_BAND, REPRODUCED, "point rule (n = 1)"),
    ("n1-outside-without-rounding", [0.9493], make_band(0.944, Tolerance(absolute=0.005), None),
     NOT_REPRODUCED, "point rule (n = 1)"),
    ("n1-on-the-edge", [0.9495], RMSE_BAND, REPRODUCED, "point rule (n = 1)"),
    ("n1-above", [0.9501], RMSE_BAND, NOT_REPRODUCED, "point rule (n = 1)"),
    ("n1-below", [0.9300], RMSE_BAND, NOT_REPRODUCED, "point rule (n = 1)"),
    # sd = 0 over seeds: the seed did not change the result, so the copies are one value.
    ("zero-variance-inside", [0.944] * 5, RMSE_BAND, REPRODUCED, SAME),
    ("zero-variance-outside", [0.95] * 3, RMSE_BAND, NOT_REPRODUCED, SAME),
    ("same-value-up-to-summation-noise", [0.944, 0.944 + 1e-16, 0.944 - 1e-16], RMSE_BAND,
     REPRODUCED, SAME),
    ("equivalent", TIGHT, RMSE_BAND, REPRODUCED, "TOST"),
    ("equivalent-though-different-from-reported",
     [0.9469, 0.9470, 0.9471, 0.9470, 0.9470], RMSE_BAND, REPRODUCED, "TOST"),
    ("clearly-above", FAR, RMSE_BAND, NOT_REPRODUCED, "TOST"),
    ("clearly-below", [v - 0.03 for v in FAR], RMSE_BAND, NOT_REPRODUCED, "TOST"),
    ("inside-but-noisy", [0.947, 0.949, 0.944], RMSE_BAND, PARTIAL, "TOST"),
    ("inside-two-seeds", [0.940, 0.946], RMSE_BAND, PARTIAL, "TOST"),
    ("outside-but-ci-overlaps", [0.950, 0.948, 0.956], RMSE_BAND, INCONCLUSIVE, "TOST"),
    ("below-but-ci-overlaps", [0.935, 0.940, 0.931], RMSE_BAND, INCONCLUSIVE, "TOST"),
    ("folds-of-one-run", [0.9398, 0.9427, 0.9441, 0.9455, 0.9430], RMSE_BAND, REPRODUCED,
     "TOST"),
    ("relative-tolerance-equivalent", [0.47, 0.49, 0.48, 0.475, 0.485],
     make_band(0.4818, Tolerance(relative=0.05), 4), REPRODUCED, "TOST"),
    ("same-values-absolute-tolerance-too-tight", [0.47, 0.49, 0.48, 0.475, 0.485],
     make_band(0.4818, Tolerance(absolute=0.005), 4), PARTIAL, "TOST"),
    ("zero-width-band-cannot-show-equivalence", [0.4, 0.41, 0.39],
     Band(0.4, 0.0, 0.0), PARTIAL, "TOST"),
]


@pytest.mark.parametrize("case, values, band, verdict, test", VALUE_CASES,
                         ids=[c[0] for c in VALUE_CASES])
def test_value_rules(case, values, band, verdict, test):
    judged = judge_value(values, band)
    assert judged.verdict.verdict == verdict, judged.verdict.reason
    assert judged.verdict.test == test
    assert judged.summary.n == (1 if test == SAME else len(values))
    assert ("the seed did not change the result" in judged.verdict.reason) is (test == SAME)
    assert "\n" not in judged.verdict.reason and judged.verdict.reason


@pytest.mark.parametrize("case, values, band, verdict, test", VALUE_CASES,
                         ids=[c[0] for c in VALUE_CASES])
def test_value_verdicts_agree_with_the_written_conditions(case, values, band, verdict, test):
    """Re-derive each case from the rule text's conditions, independently of the code."""
    s = summarize(values, 0.95)
    if s.n < 2 or s.sd == 0:
        expected = REPRODUCED if band.low - 1e-12 <= s.mean <= band.high + 1e-12 else (
            NOT_REPRODUCED)
    elif tost(values, band.low, band.high).p_value < 0.05:
        expected = REPRODUCED
    elif s.ci_low > band.high or s.ci_high < band.low:
        expected = NOT_REPRODUCED
    elif band.low - 1e-12 <= s.mean <= band.high + 1e-12:
        expected = PARTIAL
    else:
        expected = INCONCLUSIVE
    assert expected == verdict


def test_point_rule_says_so_in_the_reason():
    reason = judge_value([0.944], RMSE_BAND).verdict.reason
    assert reason.startswith("a single run (n = 1)")
    assert "no test possible" in reason and "[0.9385, 0.9495]" in reason
    reason = judge_value([0.95] * 3, RMSE_BAND).verdict.reason
    assert reason.startswith("one measurement over seeds (all 3 gave the same value: the seed "
                             "did not change the result)") and "above" in reason


def test_reproduced_reason_gives_the_tost_p_value():
    judged = judge_value(TIGHT, RMSE_BAND)
    assert judged.verdict.p_value == judged.tost.p_value < 0.05
    assert f"TOST p = {judged.tost.p_value:.1e}" in judged.verdict.reason


def test_not_reproduced_needs_a_significant_difference_and_the_ci_outside():
    judged = judge_value(FAR, RMSE_BAND)
    assert judged.difference.p_value < 0.05
    assert judged.summary.ci_low > RMSE_BAND.high
    assert "entirely above the band" in judged.verdict.reason


@pytest.mark.parametrize("values, verdict", [
    ([0.947, 0.949, 0.944], PARTIAL), ([0.950, 0.948, 0.956], INCONCLUSIVE),
])
def test_unsettled_cases_name_a_seed_count_that_would_settle_them(values, verdict):
    judged = judge_value(values, RMSE_BAND, unit="seeds")
    needed = judged.verdict.seeds_needed
    assert judged.verdict.verdict == verdict and needed > len(values)
    assert f"about {needed} seeds in all" in judged.verdict.reason
    # With that many seeds at the same mean and spread, the verdict is decided.
    bigger = judge_value(_sample(judged.summary.mean, judged.summary.sd, needed), RMSE_BAND)
    assert bigger.verdict.verdict == (REPRODUCED if verdict == PARTIAL else NOT_REPRODUCED)


def test_partial_seed_count_is_planned_against_the_nearer_edge():
    values = [0.947, 0.949, 0.944]
    judged = judge_value(values, RMSE_BAND)
    s = judged.summary
    assert judged.verdict.seeds_needed == seeds_needed(s.sd, RMSE_BAND.high - s.mean, 0.05,
                                                       0.8, "one-sided")


def test_alpha_changes_the_decision_and_the_ci_level():
    values = [0.9445, 0.9470, 0.9430, 0.9460]
    strict, loose = judge_value(values, RMSE_BAND, alpha=0.001), judge_value(values, RMSE_BAND,
                                                                           alpha=0.2)
    assert strict.verdict.verdict == PARTIAL and loose.verdict.verdict == REPRODUCED
    assert strict.summary.confidence == pytest.approx(0.999)


def test_folds_unit_appears_in_the_reason():
    reason = judge_value([0.947, 0.949, 0.944], RMSE_BAND, unit="folds").verdict.reason
    assert "over 3 folds" in reason and "folds in all" in reason


# --------------------------------------------------------------------------- time claims
TIME_BAND = make_band(6.0, Tolerance(relative=0.5), 0)          # [2.5, 9.5]

TIME_CASES = [
    ("one-run-inside", [7.9], True, REPRODUCED),
    ("one-run-inside-other-hardware", [7.9], False, NOT_COMPARABLE),
    ("one-run-too-slow-other-hardware", [10.8], False, NOT_COMPARABLE),
    ("one-run-too-slow", [10.8], True, NOT_REPRODUCED),
    ("one-run-too-fast", [2.2], True, NOT_REPRODUCED),
    ("seeds-equivalent", [6.1, 5.8, 6.4, 6.0, 5.9], True, REPRODUCED),
    ("seeds-equivalent-other-hardware", [6.1, 5.8, 6.4, 6.0, 5.9], False, NOT_COMPARABLE),
    ("seeds-far-slower-other-hardware", [14.2, 14.9, 13.8], False, NOT_COMPARABLE),
    ("seeds-far-slower", [14.2, 14.9, 13.8], True, NOT_REPRODUCED),
    ("one-run-too-fast-other-hardware", [2.2], False, NOT_COMPARABLE),
    ("seeds-noisy-near-edge", [8.0, 9.4, 6.5], True, PARTIAL),
]


@pytest.mark.parametrize("case, values, comparable, verdict", TIME_CASES,
                         ids=[c[0] for c in TIME_CASES])
def test_time_rules(case, values, comparable, verdict):
    judged = judge_time(values, TIME_BAND, comparable=comparable,
                        hardware_note="cpu: AMD EPYC here, intel i5 declared")
    assert judged.verdict.verdict == verdict
    plain = judge_value(values, TIME_BAND)
    if comparable:
        assert judged.verdict == plain.verdict          # comparable hardware: the value rules
    else:
        # Other hardware: information, never red, and no seed count that could not settle it.
        assert judged.verdict.seeds_needed is None and "seeds" not in judged.verdict.reason
        assert "information here, not evidence" in judged.verdict.reason
        assert "(cpu: AMD EPYC here, intel i5 declared)" in judged.verdict.reason


def test_time_rules_without_a_note_still_say_why():
    reason = judge_time([7.9], TIME_BAND, comparable=False).verdict.reason
    assert "does not match the paper's declared hardware:" in reason


# --------------------------------------------------------------------------- comparisons
BASE = [0.50, 0.52, 0.48, 0.51, 0.49]


def _shifted(diffs):
    return [b + d for b, d in zip(BASE, diffs, strict=True)]


COMPARISON_CASES = [
    # id, a, b, higher_is_better, verdict, rule
    ("a-clearly-higher", _shifted([0.03, 0.031, 0.029, 0.03, 0.032]), BASE, True, REPRODUCED,
     "paired"),
    ("a-clearly-higher-but-lower-is-better", _shifted([0.03, 0.031, 0.029, 0.03, 0.032]), BASE,
     False, NOT_REPRODUCED, "paired"),
    ("a-clearly-lower-and-lower-is-better", _shifted([-0.03, -0.031, -0.029, -0.03, -0.032]),
     BASE, False, REPRODUCED, "paired"),
    ("a-clearly-lower-but-higher-is-better", _shifted([-0.03, -0.031, -0.029, -0.03, -0.032]),
     BASE, True, NOT_REPRODUCED, "paired"),
    ("noise", _shifted([0.01, -0.02, 0.015, -0.005, 0.002]), BASE, True, INCONCLUSIVE,
     "paired"),
    ("noise-leaning-the-wrong-way", _shifted([-0.01, -0.02, 0.015, -0.005, -0.002]), BASE, True,
     INCONCLUSIVE, "paired"),
    ("one-pair-a-better", [0.53], [0.50], True, REPRODUCED, "point"),
    ("one-pair-a-worse", [0.47], [0.50], True, NOT_REPRODUCED, "point"),
    ("one-pair-tie", [0.50], [0.50], True, NOT_REPRODUCED, "point"),
    ("constant-difference", _shifted([0.01] * 5), BASE, True, REPRODUCED, "point"),
    ("constant-difference-wrong-way", _shifted([0.01] * 5), BASE, False, NOT_REPRODUCED,
     "point"),
]


@pytest.mark.parametrize("case, a, b, higher, verdict, rule", COMPARISON_CASES,
                         ids=[c[0] for c in COMPARISON_CASES])
def test_comparison_rules_alone_in_their_family(case, a, b, higher, verdict, rule):
    comparison = compare(a, b, a="bert4rec", b="sasrec", higher_is_better=higher)
    p = holm([comparison.t_test.p_value]).p_adjusted[0]
    judged = judge_comparison(comparison, p, family_size=1)
    assert judged.verdict == verdict, judged.reason
    assert judged.rule == rule
    assert judged.reason.startswith(("bert4rec is", "no significant", "a single pair",
                                     "the same difference over all"))
    assert "bert4rec vs sasrec" in judged.reason


def test_comparison_reports_effect_size_with_its_interval():
    comparison = compare(_shifted([0.03, 0.031, 0.029, 0.03, 0.032]), BASE, a="a", b="b",
                         higher_is_better=True)
    judged = judge_comparison(comparison, comparison.t_test.p_value, family_size=1)
    e = comparison.effect
    assert e.d_z_ci_low < e.d_z < e.d_z_ci_high
    assert f"d_z = {e.d_z:.5g} [{e.d_z_ci_low:.5g}, {e.d_z_ci_high:.5g}]" in judged.reason
    assert comparison.improvement == pytest.approx(0.0304)


# Two comparisons each significant alone (raw p 0.040 and 0.047), neither after Holm.
HOLM_PAIR = [_shifted([0.02, 0.01, 0.03, 0.0, 0.015]), _shifted([0.01, 0.03, 0.02, 0.0, 0.04])]


def test_holm_turns_two_raw_wins_into_inconclusive():
    comparisons = [compare(a, BASE, a=f"m{i}", b="base", higher_is_better=True)
                   for i, a in enumerate(HOLM_PAIR)]
    raw = [c.t_test.p_value for c in comparisons]
    assert raw == pytest.approx([0.0399, 0.0474], abs=5e-4)
    alone = [judge_comparison(c, c.t_test.p_value, family_size=1) for c in comparisons]
    assert [v.verdict for v in alone] == [REPRODUCED, REPRODUCED]
    corrected = holm(raw)
    together = [judge_comparison(c, p, family_size=2)
                for c, p in zip(comparisons, corrected.p_adjusted, strict=True)]
    assert [v.verdict for v in together] == [INCONCLUSIVE, INCONCLUSIVE]
    assert together[0].p_value == pytest.approx(2 * raw[0])
    assert "no significant difference after Holm" in together[0].reason
    # Seed counts for the family are planned at alpha / m.
    effect = comparisons[0].effect
    assert together[0].seeds_needed == seeds_needed(effect.sd_diff, effect.mean_diff, 0.025,
                                                    0.8, "two-sided")


def test_comparison_notes_are_carried_into_the_reason():
    comparison = compare([0.53], [0.50], a="a", b="b", higher_is_better=True,
                         notes=["per-user scores not paired (3 vs 4 users)"])
    reason = judge_comparison(comparison, math.nan, family_size=0).reason
    assert reason.endswith("; per-user scores not paired (3 vs 4 users)")


# --------------------------------------------------------------------------- vocabulary, prose
def test_vocabulary_and_not_run():
    assert VERDICTS == ("reproduced", "partially reproduced", "inconclusive", "not reproduced",
                        "not comparable", "not run")
    verdict = not_run("artifact 'ml-1m' unavailable: offline")
    assert verdict.verdict == NOT_RUN and verdict.reason.startswith("artifact")
    with pytest.raises(ValueError, match="verdict must be one of"):
        Verdict("sort of reproduced", "", "x", "y")


def test_rules_markdown_states_every_verdict_and_the_sample():
    text = RULES_MARKDOWN
    for word in VERDICTS:
        assert f"**{word}**" in text.lower() or f"**{word[0].upper() + word[1:]}**" in text
    assert "α = 0.05" in text and "95%" in text
    assert "one value per\nseed" in text and "judged on that run's aggregate alone" in text
    assert "Holm" in text and "TOST" in text and "½ unit of the last printed digit" in text
    assert "information, not evidence" in text
    for kind in CLAIM_KINDS:
        assert f"**{kind[0].upper() + kind[1:]} claims" in text, kind


def test_render_rules_uses_the_studys_alpha():
    text = render_rules(alpha=0.01, power=0.9)
    assert "α = 0.01" in text and "99%" in text and "90% power" in text
    assert "0.05" not in text
    with pytest.raises(ValueError, match="alpha and power"):
        render_rules(alpha=1.5)


def test_the_rules_printed_are_those_of_the_studys_kinds_of_claim():
    from replikit.study import load_study

    text = render_rules(claims=load_study("bert4rec").claims)
    assert "**Comparison claims**" in text and "**Best-of claims**" in text
    assert "**Value claims.**" in text and "**Not run**" in text
    assert "How times are taken" not in text and "**Equivalence claims**" not in text
    assert text.rstrip().endswith("This study makes no time, ratio, improvement or "
                                  "equivalence claims, so the rules for those kinds are not "
                                  "printed here.")
    # A ratio of times needs the timing rules and the pairing of comparisons.
    surprise = render_rules(claims=load_study("surprise").claims)
    assert "How times are taken" in surprise and "**Comparison claims**" in surprise
    assert render_rules(claims=None) == RULES_MARKDOWN
