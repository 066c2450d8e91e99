"""The verdict rules in prose, as the report prints them (the code is :mod:`.verdicts`).

tests/test_verdicts.py and tests/test_relations.py walk the same cases through the functions
of :mod:`replikit.evaluate.verdicts` and :mod:`replikit.evaluate.relations` that this text
describes.
"""

from __future__ import annotations

from collections.abc import Iterable

from replikit.evaluate.verdicts import DEFAULT_ALPHA, DEFAULT_POWER
from replikit.numbers import fmt_share
from replikit.study.claims import Claim
from replikit.study.model import Timing

TIMING = Timing()  # the default warm-up and repeats of a timed experiment

#: The rules in prose, one part per kind of claim they judge; the general part and the
#: last (not run) hold for every study.
_PARTS: dict[str, str] = {
    "general": """\
Every claim is judged separately at each level it declares (re-run, re-implement,
generalize), with one of six verdicts: **reproduced**, **partially reproduced**,
**inconclusive**, **not reproduced**, **not comparable**, **not run**. The significance level is
α = {alpha}; confidence intervals are two-sided t intervals at {confidence}; seed counts
for unsettled cases are planned for {power} power.

**The sample.** When an experiment ran with several seeds, the sample is one value per
seed: that run's aggregate metric. When it ran with one seed, a value or time claim is
judged on that run's aggregate alone (n = 1): with the paper's own seed, data and folds the
run is deterministic, so its fold average *is* the number to compare, and the spread over
folds (shown in the report) says nothing about whether re-running reproduces it. A
comparison with one seed on each side pairs the two runs fold by fold, when both record
per-fold values whose mean equals their aggregate. Declared seeds whose runs are missing are named
in the reason; runs of seeds the study does not declare are ignored. When every seed gives
the same value (up to a relative 10⁻⁹), the seed did not change the result: the copies
count as **one measurement**, the point rule decides, and the reason says so.

**The band.** A value or time claim is checked against the band
reported ± (tolerance + ½ unit of the last printed digit). The tolerance is the study's
declared one (the larger of its absolute and relative forms); the half unit is added
because the paper rounded: a printed 0.944 stands for anything in [0.9435, 0.9445). A band
is printed with one digit more than the paper prints its value, so that half unit shows.

**Value claims.**

0. **Not comparable** when the level's experiment runs on another data set or protocol than
   the one the claim states (both declared in the manifest): its mean and drift are shown
   as information, not as a test of the paper's number. A level that gives its own
   reference value with a source (`expected`) is judged against that value instead.
1. *n = 1, or no variation across the sample* (point rule): **reproduced** when the
   measured value lies inside the band, **not reproduced** when it lies outside. No test is
   possible, and the reason says so.
2. **Reproduced** when equivalence to the band is shown: two one-sided t-tests (TOST)
   against its edges, each at α = {alpha}.
3. **Not reproduced** when the difference from the reported value is significant (one-sample
   t-test, p < {alpha}) and the {confidence} CI of the mean lies entirely outside the band.
4. **Partially reproduced** when the mean lies inside the band but equivalence is not shown.
   The reason gives about how many seeds (or folds) would show it if the spread stayed as
   observed (one-sided t-test power against the nearer edge).
5. **Inconclusive — more seeds needed** otherwise: the mean lies outside the band but its
   CI overlaps the band. The reason gives about how many seeds would settle it.

""",
    "timing": """\
**How times are taken.** An experiment that a time, ratio-of-times or throughput claim uses
is timed: its runs run alone (no other job of the workflow beside them), and the runner is
called untimed {warmup} time(s) (a warm-up), then timed {repeats} times (the manifest may
declare other counts); the record keeps every repeat. Each run also records how many CPUs
processes *not of this workflow* used while it was timed. A time taken while they used more
CPUs than the run left free, by more than the CPU counters resolve (10 ms ticks), is
unreliable: the reason says so and by how much, and a time or
ratio-of-times verdict that would be not reproduced or partially reproduced becomes
**inconclusive**.

**Time claims** are judged on the median over the repeats, with their min–max spread, and a
seeded percentile bootstrap of the median: **reproduced** when its {equivalence} interval
lies inside the band, **not reproduced** when its {confidence} interval lies entirely
outside, **partially reproduced** when the median lies inside but the interval does not,
**inconclusive** otherwise. (A run faster than the band is outside it just as a slower one
is: the claim is the number.) Runs without repeats follow the value rules on the measured
seconds. This holds only when the hardware used matches the paper's declared hardware;
otherwise an absolute time is **not comparable**: information, not evidence.

""",
    "ratio": """\
**Ratio claims** ("a takes k times b's time") and **Improvement claims** ("a improves on b
by r %") on times are judged on the ratio of a's median to b's median over their repeats
(improvements: (a/b − 1) × 100, or (1 − a/b) × 100 where lower is better), by the same
bootstrap rules (a's and b's repeats resampled independently) against the band around the
reported ratio; a Mann–Whitney U test of a's repeats against k × b's gives the p-value of a
difference. Other ratios, and runs without repeats, are judged on the per-pair ratios a/b,
paired as comparisons are, by the value rules. Both sides run on one machine, so a time
ratio is judged whatever the hardware.

""",
    "equivalence": """\
**Equivalence claims** ("a matches b within m") state no value: they apply the value rules
to the paired differences a − b against the band [−m, m] given by the claim's margin m (no
rounding added): TOST shows equivalence (**reproduced**), a difference CI entirely outside
the band with a significant t-test against a zero difference is **not reproduced**.

""",
    "comparison": """\
**Comparison claims** ("a beats b"; better means higher or lower as the claim declares) pair
a's and b's values seed by seed (fold by fold for one seed), or unit by unit (item by item,
say) where the runs record per-unit scores (each unit's score averaged over the seeds), and
apply a two-sided paired t-test. The p-values of all the study's comparisons are corrected
together with the Holm–Bonferroni method.

1. **Reproduced** when the corrected p < {alpha} and a is better in the claimed direction.
2. **Not reproduced** when the corrected p < {alpha} and a is worse.
3. **Inconclusive** otherwise; the reason gives about how many pairs would settle the
   direction (two-sided, at α divided by the number of comparisons).
4. With one pair, or no variation in the differences, the point rule decides: reproduced
   when a is better, not reproduced otherwise.

The mean difference with its CI, Cohen's d_z (mean difference over the standard deviation of
the differences) with an exact noncentral-t CI, and a Wilcoxon signed-rank p-value are
reported beside each comparison.

""",
    "best-of": """\
**Best-of claims** ("a beats each of b1..bn") make one comparison per baseline, each in the
Holm family: **reproduced** when every pair is, **not reproduced** when a is significantly
worse than one baseline, **inconclusive** otherwise; the reason names the failing pairs.

""",
    "not-run": """\
**Not run** is given when a level's runs are missing or could not run, when the runner
declared the run impossible, or when the manifest declares the level not runnable; the
reason is theirs (for example an artifact that could not be fetched offline).
""",
}

#: Which parts a kind of claim needs (a timing claim also needs "timing", see
#: :func:`parts_for`).
_NEEDS: dict[str, tuple[str, ...]] = {
    "value": (), "time": ("timing",), "equivalence": ("equivalence",),
    "ratio": ("ratio", "comparison"), "improvement": ("ratio", "comparison"),
    "comparison": ("comparison",), "best-of": ("comparison", "best-of"),
}


def parts_for(claims: Iterable[Claim] | None) -> list[str]:
    """The parts of the rules that judge ``claims`` (every part for ``None``), in order."""
    if claims is None:
        return list(_PARTS)
    needed = {"general", "not-run"}
    for claim in claims:
        needed.update(_NEEDS[claim.kind])
        if claim.is_timing:
            needed.add("timing")
    return [part for part in _PARTS if part in needed]


def render_rules(alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER,
                 claims: Iterable[Claim] | None = None) -> str:
    """The verdict rules as Markdown paragraphs and lists, with the study's alpha filled in.

    With ``claims`` (a study's), only the rules that judge their kinds, and a sentence naming
    the kinds left out: a report on rankings need not explain how times are judged. The text
    has no heading of its own, so the report can place it under its own.
    """
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must lie in (0, 1), got {alpha} and {power}")
    chosen = parts_for(claims)
    text = "".join(_PARTS[part] for part in chosen)
    left_out = [name for part in _PARTS if part not in chosen for name in _KIND_NAMES[part]]
    if left_out:
        names = ", ".join(left_out[:-1]) + " or " * (len(left_out) > 1) + left_out[-1]
        text += (f"\nThis study makes no {names} claims, so the rules for those kinds are "
                 "not printed here.\n")
    return text.format(alpha=f"{alpha:g}", confidence=fmt_share(1 - alpha),
                       equivalence=fmt_share(1 - 2 * alpha), power=fmt_share(power),
                       warmup=TIMING.warmup, repeats=TIMING.repeats)


#: The kinds of claim each optional part judges, as a sentence names them.
_KIND_NAMES = {"timing": ("time",), "ratio": ("ratio", "improvement"),
               "equivalence": ("equivalence",), "comparison": ("comparison",),
               "best-of": ("best-of",)}


RULES_MARKDOWN = render_rules()
