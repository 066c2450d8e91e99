"""The study's counts and totals in words: the one way every output states them.

:class:`replikit.results.Facts` holds the numbers (computed once); this module only formats
them, so the report, its claims detail, the MLRC draft, the letter, ``replikit status`` and
the Zotero note print the same digits. The sentences are plain text; an output escapes
them for its format like any other text (they hold no claim id or user text).

What an "experiment" is, is said once here (:data:`EXPERIMENT_MEANING`) and printed where
the count first appears.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from replikit.numbers import DASH, fmt_number, is_missing
from replikit.results import Facts
from replikit.vocabulary import VERDICTS

EXPERIMENT_MEANING = ("an experiment is one entry of the study's experiments (a method, its "
                      "data and protocol) that has at least one run record; it runs once per "
                      "seed")


def hours(value: Any) -> str:
    """Hours with three significant digits (a dash when nothing was measured)."""
    return DASH if is_missing(value) else f"{float(value):.3g}"


def minutes(value_hours: Any) -> str:
    """The same time in minutes, for prose about short studies."""
    return DASH if is_missing(value_hours) else f"{float(value_hours) * 60:.3g}"


def mib(value: Any) -> str:
    """Memory in whole MiB."""
    return fmt_number(value, 0)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def cost_sentence(facts: Facts) -> str:
    """``'8 experiments, 40 runs completed (2 more could not run); 0.0569 CPU-hours,
    0 GPU-hours, 0.02 hours of wall time; largest peak memory of one run 581 MiB.'``"""
    not_run = f" ({facts.runs_not_run} more could not run)" if facts.runs_not_run else ""
    return (f"{_count(facts.experiments, 'experiment')}, {_count(facts.runs, 'run')} "
            f"completed{not_run}; {hours(facts.cpu_hours)} CPU-hours, "
            f"{hours(facts.gpu_hours or 0)} GPU-hours, {hours(facts.wall_hours)} hours of "
            f"wall time; largest peak memory of one run {mib(facts.peak_memory_mib)} MiB.")


def verdict_totals(facts: Facts) -> dict[str, int]:
    """Checks per verdict over every level, in vocabulary order, zero counts left out."""
    seen = [v for v in VERDICTS if facts.verdict_total(v)]
    others = sorted({v for counts in facts.verdicts.values() for v in counts} - set(VERDICTS))
    return {v: facts.verdict_total(v) for v in [*seen, *others]}


def verdict_sentence(facts: Facts) -> str:
    """``'114 checks of 66 claims: 80 reproduced, 10 partially reproduced, 24 not run.'``"""
    said = ", ".join(f"{n} {v}" for v, n in verdict_totals(facts).items())
    return (f"{_count(facts.checks, 'check')} of {_count(facts.claims, 'claim')}: "
            f"{said or 'none'}.")


def level_sentence(facts: Facts, level: str) -> str:
    """``'At the re-run level (40 checks): 31 reproduced, 9 not run.'``"""
    counts = facts.verdicts.get(level, {})
    said = ", ".join(f"{n} {v}" for v, n in counts.items())
    return f"At the {level} level ({_count(sum(counts.values()), 'check')}): {said}."


def verdict_table(facts: Facts) -> pd.DataFrame:
    """Checks per level and verdict, a row for all levels and a column of totals."""
    levels = list(facts.verdicts)
    rows = [{"level": lv, **{v: facts.verdicts[lv].get(v, 0) for v in VERDICTS}}
            for lv in levels]
    rows.append({"level": "all levels", **{v: facts.verdict_total(v) for v in VERDICTS}})
    table = pd.DataFrame(rows, columns=["level", *VERDICTS])
    table["checks"] = table[list(VERDICTS)].sum(axis=1)
    return table


__all__ = ["EXPERIMENT_MEANING", "cost_sentence", "hours", "level_sentence", "mib",
           "minutes", "verdict_sentence", "verdict_table", "verdict_totals"]
