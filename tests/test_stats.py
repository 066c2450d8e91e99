"""replikit.evaluate.stats against scipy and statsmodels, on fixed data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import DescrStatsW

from replikit.evaluate.stats import (
    holm,
    one_sample_t,
    paired_effect,
    paired_t,
    seeds_needed,
    summarize,
    tost,
    wilcoxon,
)

RMSE = [0.9391, 0.9437, 0.9362, 0.9405, 0.9418]           # five seeds of an RMSE
A = [0.512, 0.498, 0.530, 0.507, 0.521, 0.515, 0.502]      # model a, seven seeds
B = [0.501, 0.497, 0.512, 0.500, 0.509, 0.516, 0.494]      # model b, same seeds


# --------------------------------------------------------------------------- summarize
@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99])
def test_summarize_matches_scipy_t_interval(confidence):
    s = summarize(RMSE, confidence)
    sem = sps.sem(RMSE)
    low, high = sps.t.interval(confidence, len(RMSE) - 1, loc=np.mean(RMSE), scale=sem)
    assert s.n == 5
    assert s.mean == pytest.approx(np.mean(RMSE), rel=1e-15)
    assert s.sd == pytest.approx(np.std(RMSE, ddof=1), rel=1e-15)
    assert (s.ci_low, s.ci_high) == pytest.approx((low, high), rel=1e-12)
    assert s.confidence == confidence


def test_summarize_matches_statsmodels_descrstats():
    d = DescrStatsW(np.array(RMSE), ddof=1)
    low, high = d.tconfint_mean(alpha=0.05)
    s = summarize(RMSE)
    assert (s.ci_low, s.ci_high) == pytest.approx((low, high), rel=1e-12)
    assert s.sd == pytest.approx(d.std, rel=1e-12)


def test_summarize_one_value_has_no_spread():
    s = summarize([0.93])
    assert s.n == 1 and s.mean == 0.93
    assert math.isnan(s.sd) and math.isnan(s.ci_low) and math.isnan(s.ci_high)


def test_summarize_zero_variance_collapses_the_interval():
    s = summarize([2.0, 2.0, 2.0])
    assert s.sd == 0.0 and s.ci_low == 2.0 and s.ci_high == 2.0


@pytest.mark.parametrize("bad, match", [([], "at least one value"),
                                        ([1.0, float("nan")], "finite numbers")])
def test_summarize_rejects_empty_and_nan(bad, match):
    with pytest.raises(ValueError, match=match):
        summarize(bad)


# --------------------------------------------------------------------------- one sample
def test_one_sample_t_matches_scipy():
    result = one_sample_t(RMSE, 0.944)
    ref = sps.ttest_1samp(RMSE, 0.944)
    assert result.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert result.df == 4


@pytest.mark.parametrize("values", [[0.9], [0.9, 0.9, 0.9]])
def test_one_sample_t_undefined_without_spread(values):
    assert math.isnan(one_sample_t(values, 0.944).p_value)


# --------------------------------------------------------------------------- TOST
@pytest.mark.parametrize("low, high", [(0.9385, 0.9495), (0.935, 0.945), (0.94, 0.95)])
def test_tost_matches_two_scipy_one_sided_tests(low, high):
    result = tost(RMSE, low, high)
    lower = sps.ttest_1samp(RMSE, low, alternative="greater")
    upper = sps.ttest_1samp(RMSE, high, alternative="less")
    assert result.p_lower == pytest.approx(lower.pvalue, rel=1e-10)
    assert result.p_upper == pytest.approx(upper.pvalue, rel=1e-10)
    assert result.t_lower == pytest.approx(lower.statistic, rel=1e-10)
    assert result.t_upper == pytest.approx(upper.statistic, rel=1e-10)
    assert result.p_value == pytest.approx(max(lower.pvalue, upper.pvalue), rel=1e-10)
    assert result.df == 4


def test_tost_matches_statsmodels_ttost_mean():
    p, (t1, p1, _), (t2, p2, _) = DescrStatsW(np.array(RMSE)).ttost_mean(0.935, 0.946)
    result = tost(RMSE, 0.935, 0.946)
    assert (result.p_value, result.p_lower, result.p_upper) == (p, p1, p2)
    assert result.equivalent is True


def test_tost_fails_to_show_equivalence_for_a_shifted_sample():
    shifted = [v + 0.008 for v in RMSE]
    result = tost(shifted, 0.9385, 0.9495)
    assert result.p_value > 0.05 and result.equivalent is False


def test_tost_undefined_without_spread_and_rejects_an_inverted_band():
    assert math.isnan(tost([0.94], 0.93, 0.95).p_value)
    assert tost([0.94, 0.94], 0.93, 0.95).equivalent is False
    with pytest.raises(ValueError, match="low <= high"):
        tost(RMSE, 0.95, 0.93)


# --------------------------------------------------------------------------- power
def _power(n: int, effect: float, alpha: float, two_sided: bool) -> float:
    """Exact power of a one-sample t-test from the noncentral t distribution (scipy)."""
    df, nc = n - 1, effect * math.sqrt(n)
    if two_sided:
        crit = sps.t.ppf(1 - alpha / 2, df)
        return float(sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc))
    return float(sps.nct.sf(sps.t.ppf(1 - alpha, df), df, nc))


@pytest.mark.parametrize("sd, margin, alpha, power, alternative", [
    (0.004, 0.002, 0.05, 0.8, "one-sided"),
    (0.004, 0.002, 0.05, 0.8, "two-sided"),
    (1.0, 0.3, 0.05, 0.9, "one-sided"),
    (0.01, 0.004, 0.025, 0.8, "two-sided"),
    (2.0, -1.0, 0.05, 0.8, "two-sided"),      # the sign of the margin does not matter
])
def test_seeds_needed_is_the_smallest_n_reaching_the_power(sd, margin, alpha, power,
                                                           alternative):
    n = seeds_needed(sd, margin, alpha, power, alternative)
    effect, two = abs(margin) / sd, alternative == "two-sided"
    assert _power(n, effect, alpha, two) >= power - 1e-6
    assert _power(n - 1, effect, alpha, two) < power


def test_seeds_needed_normal_approximation_is_a_lower_bound():
    n = seeds_needed(1.0, 0.5, 0.05, 0.8)
    z = sps.norm.ppf(0.95) + sps.norm.ppf(0.8)
    assert n >= (z / 0.5) ** 2 and n == 27


@pytest.mark.parametrize("sd, margin", [(0.0, 0.1), (float("nan"), 0.1), (0.1, 0.0),
                                        (-1.0, 0.1)])
def test_seeds_needed_none_when_nothing_can_settle_it(sd, margin):
    assert seeds_needed(sd, margin) is None


def test_seeds_needed_never_below_two_and_checks_alternative():
    assert seeds_needed(0.001, 1.0) == 2
    with pytest.raises(ValueError, match="alternative"):
        seeds_needed(1.0, 1.0, alternative="greater")


# --------------------------------------------------------------------------- paired
def test_paired_t_matches_scipy_ttest_rel():
    result = paired_t(A, B)
    ref = sps.ttest_rel(A, B)
    assert result.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert result.n == 7


def test_wilcoxon_matches_scipy():
    result = wilcoxon(A, B)
    ref = sps.wilcoxon(A, B)
    assert result.statistic == ref.statistic
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-12)


def test_paired_tests_undefined_without_variation_or_with_one_pair():
    assert math.isnan(paired_t([1.0], [0.0]).p_value)
    assert math.isnan(paired_t([1.0, 2.0], [0.5, 1.5]).p_value)     # constant difference
    assert math.isnan(wilcoxon([1.0, 2.0], [1.0, 2.0]).p_value)     # all differences zero


def test_paired_tests_reject_unequal_lengths():
    with pytest.raises(ValueError, match="same length"):
        paired_t([1.0, 2.0], [1.0])


def test_paired_effect_mean_difference_ci_matches_scipy():
    effect = paired_effect(A, B)
    ci = sps.ttest_rel(A, B).confidence_interval(0.95)
    diff = np.subtract(A, B)
    assert effect.mean_diff == pytest.approx(diff.mean(), rel=1e-12)
    assert effect.sd_diff == pytest.approx(diff.std(ddof=1), rel=1e-12)
    assert (effect.diff_ci_low, effect.diff_ci_high) == pytest.approx((ci.low, ci.high),
                                                                      rel=1e-10)


def test_paired_effect_d_z_and_its_exact_interval():
    effect = paired_effect(A, B)
    diff = np.subtract(A, B)
    n = diff.size
    assert effect.d_z == pytest.approx(diff.mean() / diff.std(ddof=1), rel=1e-12)
    t_obs = sps.ttest_rel(A, B).statistic
    # The bounds are the noncentralities that put t_obs at the 97.5% and 2.5% quantiles.
    assert sps.nct.cdf(t_obs, n - 1, effect.d_z_ci_low * math.sqrt(n)) == pytest.approx(0.975)
    assert sps.nct.cdf(t_obs, n - 1, effect.d_z_ci_high * math.sqrt(n)) == pytest.approx(0.025)
    assert effect.d_z_ci_low < effect.d_z < effect.d_z_ci_high


def test_paired_effect_d_z_interval_near_normal_approximation_for_many_pairs():
    rng = np.random.default_rng(3)
    a = rng.normal(0.3, 1.0, 400)
    b = np.zeros(400)
    effect = paired_effect(a, b)
    se = math.sqrt(1 / 400 + effect.d_z**2 / (2 * 400))
    assert effect.d_z_ci_low == pytest.approx(effect.d_z - 1.96 * se, abs=0.01)
    assert effect.d_z_ci_high == pytest.approx(effect.d_z + 1.96 * se, abs=0.01)


def test_paired_effect_without_variation_has_no_d_z():
    effect = paired_effect([1.0, 2.0], [0.5, 1.5])
    assert effect.mean_diff == 0.5 and math.isnan(effect.d_z)


# --------------------------------------------------------------------------- Holm
def test_holm_matches_statsmodels_and_hand_computation():
    pvalues = [0.01, 0.04, 0.03, 0.2]
    result = holm(pvalues)
    reject, corrected, _, _ = multipletests(pvalues, alpha=0.05, method="holm")
    assert result.p_adjusted == pytest.approx(list(corrected))
    assert result.reject == list(reject)
    # By hand: sorted 0.01*4, 0.03*3, 0.04*2, 0.2*1, then made monotone.
    assert result.p_adjusted == pytest.approx([0.04, 0.09, 0.09, 0.2])
    assert result.reject == [True, False, False, False] and result.m == 4


def test_holm_leaves_untested_comparisons_out_of_the_family():
    result = holm([0.02, float("nan"), 0.03])
    assert result.m == 2
    assert result.p_adjusted[0] == pytest.approx(0.04)
    assert math.isnan(result.p_adjusted[1]) and result.reject[1] is False
    assert result.p_adjusted[2] == pytest.approx(0.04)


def test_holm_of_nothing():
    assert holm([]).m == 0 and holm([]).p_adjusted == []
    only_nan = holm([float("nan")])
    assert only_nan.m == 0 and math.isnan(only_nan.p_adjusted[0])
