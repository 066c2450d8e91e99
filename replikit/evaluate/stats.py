"""The statistics behind the verdicts: thin, named wrappers over scipy and statsmodels.

Every function takes plain sequences of numbers and returns a small frozen dataclass, so
the verdict rules (:mod:`replikit.evaluate.verdicts`) read like their written form and the tests can
check each number against the library that computes it.

Conventions
-----------
- Standard deviations are sample standard deviations (``ddof=1``).
- Confidence intervals are t-based and two-sided at level ``confidence``.
- A statistic that cannot be computed (one value, zero variance) is ``nan``, never an error;
  the caller decides what a missing statistic means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower
from statsmodels.stats.weightstats import DescrStatsW

NAN = float("nan")


def _array(values: Sequence[float], name: str = "values") -> np.ndarray:
    """Values as a 1-d float array; an empty or non-finite sample is a programming error."""
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        raise ValueError(f"{name}: expected at least one value, got none")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite numbers, got {array.tolist()}")
    return array


def _constant(array: np.ndarray) -> bool:
    """All values identical. Tested exactly: their computed sd may be 1e-17, not 0."""
    return bool(np.all(array == array[0]))


# --------------------------------------------------------------------------- description
@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation and t-based confidence interval of a sample."""

    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    confidence: float = 0.95


def summarize(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """Describe a sample: n, mean, sd (ddof=1) and the t-based CI of the mean.

    Parameters
    ----------
    values
        The sample (one value per seed, fold or paired unit).
    confidence
        Level of the two-sided interval.

    Returns
    -------
    Summary
        With one value, ``sd`` and the interval are ``nan``. With zero variance the interval
        collapses onto the mean.

    Examples
    --------
    >>> s = summarize([1.0, 2.0, 3.0])
    >>> s.n, s.mean, s.sd
    (3, 2.0, 1.0)
    >>> round(s.ci_low, 4), round(s.ci_high, 4)
    (-0.4841, 4.4841)
    """
    array = _array(values)
    n, mean = int(array.size), float(array.mean())
    if n == 1:
        return Summary(1, mean, NAN, NAN, NAN, confidence)
    sd = 0.0 if _constant(array) else float(array.std(ddof=1))
    half = float(sps.t.ppf(0.5 + confidence / 2, df=n - 1)) * sd / math.sqrt(n)
    return Summary(n, mean, sd, mean - half, mean + half, confidence)


# --------------------------------------------------------------------------- one sample
@dataclass(frozen=True)
class OneSampleTest:
    """Two-sided one-sample t-test of ``mean == reference``."""

    statistic: float
    p_value: float
    df: int


def one_sample_t(values: Sequence[float], reference: float) -> OneSampleTest:
    """Two-sided one-sample t-test against ``reference`` (``nan`` when n < 2 or sd == 0)."""
    array = _array(values)
    if array.size < 2 or _constant(array):
        return OneSampleTest(NAN, NAN, max(int(array.size) - 1, 0))
    result = sps.ttest_1samp(array, reference)
    return OneSampleTest(float(result.statistic), float(result.pvalue), int(array.size) - 1)


@dataclass(frozen=True)
class Tost:
    """Two one-sided tests (TOST) of ``low < mean < high``.

    ``p_value`` is the larger of the two one-sided p-values; equivalence is shown at level
    alpha when ``p_value < alpha``.
    """

    p_value: float
    p_lower: float
    p_upper: float
    t_lower: float
    t_upper: float
    df: int
    alpha: float

    @property
    def equivalent(self) -> bool:
        return bool(self.p_value < self.alpha)


def tost(values: Sequence[float], low: float, high: float, alpha: float = 0.05) -> Tost:
    """One-sample TOST against the equivalence band ``[low, high]`` (statsmodels' ttost_mean).

    Parameters
    ----------
    values
        The sample.
    low, high
        The band's edges (``low <= high``; a zero-width band can never show equivalence).
    alpha
        Level of each one-sided test.

    Returns
    -------
    Tost
        All statistics are ``nan`` when n < 2 or the sample has zero variance; such samples
        cannot show equivalence by a test (``equivalent`` is False).
    """
    if not low <= high:
        raise ValueError(f"the band needs low <= high, got [{low}, {high}]")
    array = _array(values)
    df = max(int(array.size) - 1, 0)
    if array.size < 2 or _constant(array):
        return Tost(NAN, NAN, NAN, NAN, NAN, df, alpha)
    p_value, (t_lower, p_lower, _), (t_upper, p_upper, _) = DescrStatsW(array).ttost_mean(
        low, high
    )
    return Tost(
        float(p_value), float(p_lower), float(p_upper), float(t_lower), float(t_upper), df,
        alpha,
    )


# --------------------------------------------------------------------------- power
def seeds_needed(
    sd: float,
    margin: float,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: str = "one-sided",
) -> int | None:
    """How many values (seeds, folds) a t-test needs to detect ``margin`` with ``power``.

    This answers "how many more seeds would settle it?": ``margin`` is the distance between
    the observed mean and the threshold the test must clear (a band edge, or zero for a
    paired difference), ``sd`` the observed standard deviation. The count assumes both stay
    as observed, which is the usual planning assumption, not a promise.

    Parameters
    ----------
    sd
        Standard deviation of one value (> 0).
    margin
        Distance to detect, in the metric's units.
    alpha
        Significance level of the test.
    power
        Probability of a decision when the true values are as observed.
    alternative
        ``"one-sided"`` (a band edge, as in TOST) or ``"two-sided"`` (a paired difference).

    Returns
    -------
    int or None
        The total sample size (at least 2), or None when no sample size can settle the case
        (``margin`` is zero, ``sd`` is not a positive number, or over 10**9 would be needed).
    """
    if alternative not in ("one-sided", "two-sided"):
        raise ValueError(f"alternative: expected 'one-sided' or 'two-sided', got {alternative!r}")
    if not (math.isfinite(sd) and sd > 0 and math.isfinite(margin) and margin != 0):
        return None
    effect = abs(margin) / sd
    test_power = TTestPower()
    tails = "larger" if alternative == "one-sided" else "two-sided"

    def reaches(n: int) -> bool:
        return float(test_power.power(effect, n, alpha, alternative=tails)) >= power

    # Power grows with n: double until it is reached, then bisect for the smallest n.
    # (statsmodels' solve_power gives up for very large or very small effects.)
    if reaches(2):
        return 2
    low, high = 2, 4
    while not reaches(high):
        if high > 10**9:
            return None
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if reaches(middle) else (middle, high)
    return high


# --------------------------------------------------------------------------- paired
def _paired(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """Differences ``a - b`` of two equally long samples."""
    first, second = _array(a, "a"), _array(b, "b")
    if first.size != second.size:
        raise ValueError(
            f"paired samples must have the same length, got {first.size} and {second.size}"
        )
    return first - second


@dataclass(frozen=True)
class PairedTest:
    """A two-sided paired test of ``a`` against ``b``."""

    name: str
    statistic: float
    p_value: float
    n: int


def paired_t(a: Sequence[float], b: Sequence[float]) -> PairedTest:
    """Two-sided paired t-test (scipy's ttest_rel); ``nan`` when n < 2 or no variation."""
    diff = _paired(a, b)
    if diff.size < 2 or _constant(diff):
        return PairedTest("paired t", NAN, NAN, int(diff.size))
    result = sps.ttest_rel(_array(a), _array(b))
    return PairedTest("paired t", float(result.statistic), float(result.pvalue), int(diff.size))


def wilcoxon(a: Sequence[float], b: Sequence[float]) -> PairedTest:
    """Two-sided Wilcoxon signed-rank test (scipy); ``nan`` when every difference is zero.

    scipy chooses the exact null distribution for small samples without ties and the normal
    approximation otherwise; zero differences are dropped (Wilcoxon's treatment).
    """
    diff = _paired(a, b)
    if not np.any(diff != 0) or diff.size < 2:
        return PairedTest("Wilcoxon signed-rank", NAN, NAN, int(diff.size))
    result = sps.wilcoxon(diff)
    return PairedTest(
        "Wilcoxon signed-rank", float(result.statistic), float(result.pvalue), int(diff.size)
    )


@dataclass(frozen=True)
class EffectSize:
    """A paired effect: the mean difference and Cohen's d_z, each with its CI."""

    n: int
    mean_diff: float
    sd_diff: float
    diff_ci_low: float
    diff_ci_high: float
    d_z: float
    d_z_ci_low: float
    d_z_ci_high: float
    confidence: float = 0.95


def paired_effect(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> EffectSize:
    """Mean of ``a - b`` with its t-based CI, and Cohen's d_z with an exact CI.

    d_z is the mean difference over the standard deviation of the differences. Its interval
    inverts the noncentral t distribution of ``t = d_z * sqrt(n)`` (the exact method for a
    one-sample standardized mean), so it is asymmetric where it should be.
    """
    diff = _paired(a, b)
    summary = summarize(diff, confidence)
    n = summary.n
    if n < 2 or summary.sd == 0.0:
        return EffectSize(n, summary.mean, summary.sd, summary.ci_low, summary.ci_high,
                          NAN, NAN, NAN, confidence)
    d_z = summary.mean / summary.sd
    low, high = _noncentral_ci(d_z * math.sqrt(n), n - 1, confidence)
    return EffectSize(
        n, summary.mean, summary.sd, summary.ci_low, summary.ci_high,
        d_z, low / math.sqrt(n), high / math.sqrt(n), confidence,
    )


def _noncentral_ci(t_obs: float, df: int, confidence: float) -> tuple[float, float]:
    """Noncentrality parameters whose t distributions put ``t_obs`` at the CI's tails."""
    tail = (1 - confidence) / 2

    def cdf(nc: float) -> float:
        # scipy's nct.cdf returns nan far in its tail; the survival function or the limit
        # (cdf -> 1 as nc -> -inf, -> 0 as nc -> +inf) stands in there.
        value = float(sps.nct.cdf(t_obs, df, nc))
        if math.isnan(value):
            value = 1.0 - float(sps.nct.sf(t_obs, df, nc))
        if math.isnan(value):
            value = 1.0 if nc < t_obs else 0.0
        return value

    def solve(target: float) -> float:
        # cdf(t_obs; nc) falls monotonically in nc; widen the bracket until it holds the root.
        span = 1.0
        while cdf(t_obs - span) < target or cdf(t_obs + span) > target:
            span *= 2
        return float(optimize.brentq(lambda nc: cdf(nc) - target, t_obs - span, t_obs + span,
                                     xtol=1e-12))

    return solve(1 - tail), solve(tail)


# --------------------------------------------------------------------------- multiplicity
@dataclass(frozen=True)
class Holm:
    """Holm-Bonferroni adjusted p-values (``nan`` stays ``nan``) and rejections at alpha."""

    p_adjusted: list[float]
    reject: list[bool]
    m: int
    alpha: float


def holm(pvalues: Sequence[float], alpha: float = 0.05) -> Holm:
    """Holm-Bonferroni step-down correction (statsmodels' multipletests, method 'holm').

    ``nan`` entries (tests that could not be run) are left out of the family: they neither
    count towards ``m`` nor get rejected.
    """
    values = np.asarray(pvalues, dtype=float).ravel()
    tested = ~np.isnan(values)
    adjusted = np.full(values.shape, NAN)
    reject = np.zeros(values.shape, dtype=bool)
    if tested.any():
        flags, corrected, _, _ = multipletests(values[tested], alpha=alpha, method="holm")
        adjusted[tested], reject[tested] = corrected, flags
    return Holm([float(p) for p in adjusted], [bool(r) for r in reject], int(tested.sum()),
                alpha)
