"""``replikit status``: a study's claims ledger as a table in the terminal.

:func:`print_status` also closes a workflow run (``workflow/rules/common.smk``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from replikit import paths
from replikit.evaluate.ledger import study_ledger
from replikit.evaluate.samples import load_records
from replikit.evaluate.verdicts import DEFAULT_ALPHA
from replikit.numbers import fmt_band, fmt_number
from replikit.publish.facts import cost_sentence, verdict_sentence
from replikit.results import Facts, Results
from replikit.study import load_study
from replikit.vocabulary import VERDICTS

_STYLES = dict(zip(VERDICTS, ("green", "yellow", "cyan", "red", "blue", "dim"), strict=True))


def _num(value: Any, significant: int = 4) -> str:
    return fmt_number(value, significant=significant, missing="")


def render_table(frame: pd.DataFrame, title: str = "claims ledger"):
    """The ledger as a rich Table: one line per claim level, verdicts coloured."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for name, justify in (("claim", "left"), ("level", "left"), ("n", "right"),
                          ("measured", "right"), (f"{_pct_ci(frame)} CI", "right"),
                          ("reported", "right"), ("band", "right"), ("p", "right"),
                          ("verdict", "left")):
        table.add_column(name, justify=justify, no_wrap=True,
                         min_width=_min_width(frame, name))
    for row in frame.itertuples(index=False):
        band = (fmt_band(row.band_low, row.band_high, row.decimals)
                if not pd.isna(row.band_low) else "")
        ci = f"[{_num(row.ci_low)}, {_num(row.ci_high)}]" if not pd.isna(row.ci_low) else ""
        style = _STYLES.get(row.verdict, "")
        reported = fmt_number(row.reported, None if pd.isna(row.decimals)
                              else int(row.decimals), missing="")
        table.add_row(row.claim_id, row.level, str(row.n) if row.n else "", _num(row.mean),
                      ci, reported, band, _num(_deciding_p(row), 2),
                      f"[{style}]{row.verdict}[/{style}]" if style else row.verdict)
    return table


def _deciding_p(row: Any) -> float:
    """The p-value the verdict rests on: Holm-adjusted for comparisons, else the TOST p."""
    return row.p_adjusted if not pd.isna(row.p_adjusted) else row.p_value


def _min_width(frame: pd.DataFrame, column: str) -> int | None:
    """Claim ids and verdicts are never squeezed; the numbers give way first."""
    if column == "claim" and len(frame):
        return min(int(frame["claim_id"].str.len().max()), 32)
    return {"verdict": len("partially reproduced"), "level": len("re-implement")}.get(column)


def _pct_ci(frame: pd.DataFrame) -> str:
    alphas = frame["alpha"].dropna().unique() if len(frame) else []
    return f"{(1 - float(alphas[0])) * 100:g}%" if len(alphas) == 1 else "1-α"


def cmd_status(args: argparse.Namespace) -> int:
    """``replikit status <study>``: the ledger as it stands from the runs so far."""
    study = load_study(args.study, args.root)
    frame = study_ledger(study, args.results, alpha=args.alpha)
    console = _console()
    runs_dir = _in_results(args.results, paths.runs_dir(study.name))
    if not runs_dir.is_dir():
        console.print(f"note: no run records yet ({runs_dir} does not exist)", markup=False)
    console.print(render_table(frame, title=f"{study.name}: claims ledger"))
    if args.reasons:
        for row in frame.itertuples(index=False):
            console.print(f"{row.claim_id} {row.level}: {row.reason}", markup=False)
    benchmarks = Path(args.results).parent / paths.BENCHMARKS / study.name
    results = Results.in_memory(frame, load_records(args.results, study.name),
                                benchmarks=benchmarks if benchmarks.is_dir() else None)
    _print_facts(console, results.facts)
    return 0


def _print_facts(console, facts: Facts) -> None:
    """The study's counts and totals, worded as every other output words them."""
    console.print(verdict_sentence(facts), markup=False, soft_wrap=True)
    console.print(f"In all: {cost_sentence(facts)}", markup=False, soft_wrap=True)


def print_status(study_name: str, results: str | Path = "results") -> None:
    """Print a finished workflow's ledger (``results/<study>/claims.csv``) as a table."""
    path = _in_results(results, paths.ledger(study_name))
    if not path.exists():
        return
    results = Results.from_ledger(path)
    console = _console()
    console.print(render_table(results.ledger, title=f"{study_name}: claims ledger ({path})"))
    _print_facts(console, results.facts)


def _console():
    from rich.console import Console

    console = Console()
    # piped output: no terminal width to fit, keep rows whole
    return console if console.is_terminal else Console(width=160)


def _in_results(results: str | Path, path: Path) -> Path:
    """A layout path under ``results/``, moved to another results folder."""
    return Path(results) / path.relative_to(paths.RESULTS)


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="print a study's claims ledger from its runs so far")
    p.add_argument("study", help="study name or path to its study.yaml")
    p.add_argument("--results", default="results",
                   help="results folder holding <study>/runs (default: results)")
    p.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                   help=f"significance level (default: {DEFAULT_ALPHA})")
    p.add_argument("--reasons", action="store_true", help="also print each verdict's reason")
    p.set_defaults(func=cmd_status)
