"""Time and ratio-of-times claims judged over a timed run's repeats (:mod:`replikit.run.timing`).

A timed experiment's record keeps every timed repeat. Where both sides of a claim have at
least :data:`MIN_REPEATS` repeats, the claim is judged on the **median** over the repeats
(pooled over the level's seeds), its **min–max spread**, and a seeded percentile bootstrap
of the median (a time claim) or of the ratio of the two medians (a ratio or improvement
claim; a's and b's repeats resampled independently):

- **reproduced** when the bootstrap's ``1 − 2α`` interval lies inside the band (the
  bootstrap form of TOST);
- **not reproduced** when its ``1 − α`` interval lies entirely outside the band;
- **partially reproduced** when the median lies inside the band but the interval does not;
- **inconclusive** otherwise (more repeats, or a quieter machine, may settle it).

For a ratio, a Mann–Whitney U test of a's repeats against k × b's (k the reported ratio)
gives the p-value of a difference from the claim (information beside the interval). Records
without repeats are judged by the value rules, as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from replikit.evaluate.rows import UNRELIABLE, apply_verdict, under_load
from replikit.evaluate.samples import Runs
from replikit.evaluate.verdicts import DEFAULT_ALPHA, Band, Verdict, not_comparable
from replikit.numbers import fmt_number, fmt_p, fmt_share
from replikit.vocabulary import INCONCLUSIVE, NOT_REPRODUCED, PARTIAL, REPRODUCED

MIN_REPEATS = 2          # fewer repeats than this are a single measurement: the value rules
RESAMPLES = 10_000       # bootstrap resamples
BOOTSTRAP_SEED = 0       # the bootstrap is seeded: the same records give the same ledger
TEST = f"bootstrap of the median over repeats ({RESAMPLES:,} resamples, seed {BOOTSTRAP_SEED})"


def _fmt(value: float) -> str:
    return fmt_number(value, significant=5, missing="n/a")


def repeat_values(runs: Runs, metric: str) -> list[float] | None:
    """The timed repeats of ``metric`` over the usable seeds; None unless every run has
    :data:`MIN_REPEATS` of them."""
    values: list[float] = []
    for _, record in sorted(runs.ok.items()):
        repeats = (record.get("timing") or {}).get("repeats") or []
        got = [r["metrics"][metric] for r in repeats if metric in (r.get("metrics") or {})]
        if len(got) < MIN_REPEATS:
            return None
        values += [float(v) for v in got]
    return values or None


@dataclass(frozen=True)
class RepeatJudgement:
    """A time or ratio claim judged over repeats: the statistic, its spread, the verdict."""

    n: int                 # repeats (the smaller side's, for a ratio)
    median: float          # the statistic judged: median, or ratio of medians
    low: float             # min–max spread of the repeats (of the per-repeat ratios a / median b)
    high: float
    mean: float
    sd: float
    ci_low: float          # bootstrap interval at 1 − α
    ci_high: float
    p_difference: float
    verdict: Verdict


def _bootstrap(samples: Sequence[np.ndarray], statistic: Callable[..., np.ndarray]
               ) -> np.ndarray:
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    drawn = [np.median(s[rng.integers(0, s.size, (RESAMPLES, s.size))], axis=1)
             for s in samples]
    return statistic(*drawn)


def _decide(value: float, boot: np.ndarray, band: Band, alpha: float, what: str,
            spread: str) -> tuple[Verdict, float, float]:
    eq_low, eq_high = np.quantile(boot, [alpha, 1 - alpha])
    ci_low, ci_high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    level = fmt_share(1 - 2 * alpha)
    head = f"{what} {_fmt(value)} ({spread})"
    if band.contains(eq_low) and band.contains(eq_high):
        return (Verdict(REPRODUCED, f"{head} lies within {band.describe()}, and so does its "
                        f"{level} bootstrap interval [{_fmt(eq_low)}, {_fmt(eq_high)}]",
                        rule="repeats", test=TEST), ci_low, ci_high)
    if ci_low > band.high or ci_high < band.low:
        side = "above" if ci_low > band.high else "below"
        return (Verdict(NOT_REPRODUCED, f"{head}: its {fmt_share(1 - alpha)} bootstrap "
                        f"interval [{_fmt(ci_low)}, {_fmt(ci_high)}] lies entirely {side} the "
                        f"band {band.describe()}", rule="repeats", test=TEST), ci_low, ci_high)
    interval = f"{level} bootstrap interval [{_fmt(eq_low)}, {_fmt(eq_high)}]"
    if band.contains(value):
        return (Verdict(PARTIAL, f"{head} lies inside {band.describe()} but its {interval} "
                        "does not: more repeats may show it", rule="repeats", test=TEST),
                ci_low, ci_high)
    side = "above" if value > band.high else "below"
    return (Verdict(INCONCLUSIVE, f"{head} lies {side} {band.describe()} but its {interval} "
                    "overlaps it: more repeats may settle it", rule="repeats", test=TEST),
            ci_low, ci_high)


def _spread(values: np.ndarray, unit: str) -> str:
    low, high = _fmt(values.min()), _fmt(values.max())
    return f"median of {values.size} repeats, spread {low}–{high}{unit}"


def judge_time_repeats(values: Sequence[float], band: Band, *, alpha: float = DEFAULT_ALPHA
                       ) -> RepeatJudgement:
    """A time claim over repeats: the median's bootstrap interval against the band."""
    array = np.asarray(values, dtype=float)
    median = float(np.median(array))
    verdict, ci_low, ci_high = _decide(median, _bootstrap([array], lambda m: m), band, alpha,
                                       "measured", _spread(array, " s"))
    p = float(sps.wilcoxon(array - band.reported).pvalue) if np.any(
        array != band.reported) else math.nan
    return RepeatJudgement(array.size, median, float(array.min()), float(array.max()),
                           float(array.mean()), float(array.std(ddof=1)), ci_low, ci_high, p,
                           verdict)


def judge_ratio_repeats(a_values: Sequence[float], b_values: Sequence[float], band: Band, *,
                        kind: str, a: str, b: str, higher_is_better: bool,
                        alpha: float = DEFAULT_ALPHA) -> RepeatJudgement:
    """A ratio (or improvement) of times over repeats: median a / median b, bootstrapped."""
    xa, xb = np.asarray(a_values, dtype=float), np.asarray(b_values, dtype=float)

    def transform(ratio):
        if kind == "ratio":
            return ratio
        return (ratio - 1.0) * 100.0 if higher_is_better else (1.0 - ratio) * 100.0

    value = float(transform(np.median(xa) / np.median(xb)))
    per_repeat = transform(xa / np.median(xb))
    what = f"{a} / {b}" if kind == "ratio" else f"improvement of {a} on {b} in %"
    spread = (f"ratio of medians over {xa.size} and {xb.size} repeats; a's repeats over b's "
              f"median spread {_fmt(per_repeat.min())}–{_fmt(per_repeat.max())}")
    boot = _bootstrap([xa, xb], lambda ma, mb: transform(ma / mb))
    verdict, ci_low, ci_high = _decide(value, boot, band, alpha, what, spread)
    p = math.nan
    if kind == "ratio":
        p = float(sps.mannwhitneyu(xa, band.reported * xb, alternative="two-sided").pvalue)
        verdict = Verdict(verdict.verdict, f"{verdict.reason}; Mann–Whitney U of a against "
                          f"{_fmt(band.reported)} × b p = {fmt_p(p)}", rule=verdict.rule,
                          test=verdict.test)
    return RepeatJudgement(min(xa.size, xb.size), value, float(per_repeat.min()),
                           float(per_repeat.max()), float(per_repeat.mean()),
                           float(per_repeat.std(ddof=1)), ci_low, ci_high, p, verdict)


def finish_repeats(row: dict[str, Any], judged: RepeatJudgement, reported: float, info: str,
                   notes: str) -> None:
    """Fill a ledger row judged over repeats; ``info`` makes it information only."""
    drift = judged.median - reported
    row.update(n=judged.n, mean=judged.mean, sd=judged.sd, ci_low=judged.ci_low,
               ci_high=judged.ci_high, median=judged.median, spread_low=judged.low,
               spread_high=judged.high, drift_abs=drift,
               drift_rel=drift / abs(reported) if reported else math.nan,
               p_value=math.nan, p_difference=judged.p_difference, sample="repeats")
    verdict = judged.verdict
    if info:
        verdict = not_comparable(
            f"{info}: median {_fmt(judged.median)} over {judged.n} repeats (spread "
            f"{_fmt(judged.low)}–{_fmt(judged.high)}) against the paper's {_fmt(reported)} "
            f"(drift {drift / abs(reported) * 100 if reported else math.nan:+.1f} %) is "
            "information, not a test of the paper's number")
    elif UNRELIABLE in notes and verdict.verdict in (NOT_REPRODUCED, PARTIAL):
        verdict = under_load(verdict)
    apply_verdict(row, verdict)
    row["reason"] = verdict.reason + notes
