"""The time-claims section: whether measured times can be compared with the paper's, and
how each time was taken (alone or beside other jobs, over how many repeats, under whose load;
the run records' ``timing`` and ``load``, see :mod:`replikit.run.timing`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.numbers import fmt_number, fmt_percent
from replikit.publish.report.common import write_csv, yes_no
from replikit.publish.report.environment import hardware_rows
from replikit.publish.text import code_span, markdown_table, md_escape
from replikit.results import Results
from replikit.run.timing import timed_experiments
from replikit.study import Study


def _measured(row: pd.Series) -> str:
    """The median and min–max spread of a time judged over repeats, else the mean."""
    if row.get("sample") == "repeats":
        return (f"{fmt_number(row['median'], 1)} ({fmt_number(row['spread_low'], 1)}–"
                f"{fmt_number(row['spread_high'], 1)})")
    return fmt_number(row["mean"], 1)


def _time_table(ledger: pd.DataFrame) -> pd.DataFrame:
    rows = ledger[ledger["kind"] == "time"]
    return pd.DataFrame({
        "claim": [code_span(c) for c in rows["claim_id"]],
        "level": rows["level"].tolist(),
        "reported (s)": [fmt_number(v, 1) for v in rows["reported"]],
        "measured (s)": [_measured(r) for _, r in rows.iterrows()],
        "drift": [fmt_percent(v) for v in rows["drift_rel"]],
        "comparable": [yes_no(v) for v in rows["comparable"]],
        "verdict": rows["verdict"].tolist(),
        "reason": rows["reason"].fillna("").tolist(),
    })


def time_statement(ledger: pd.DataFrame, env: dict[str, Any]) -> str:
    """A plain statement on whether the time claims can be compared at all."""
    times = ledger[ledger["kind"] == "time"]
    if times.empty:
        return "The study has no time claims."
    mismatched = [r for r in hardware_rows(env) if r.get("match") is False]
    comparable = [yes_no(v) == "yes" for v in times["comparable"]]
    if all(comparable):
        return ("All time claims were measured on hardware the ledger judges comparable "
                "with the paper's; their verdicts can be read like the others.")
    hardware = "; ".join(f"{md_escape(r.get('item'))}: declared {md_escape(r.get('declared'))}"
                         f", actual {md_escape(r.get('actual'))}" for r in mismatched)
    lead = ("None of the time claims is comparable"
            if not any(comparable) else
            f"{len(comparable) - sum(comparable)} of {len(comparable)} time checks are not "
            "comparable")
    because = (f" because the hardware differs from the paper's ({hardware})"
               if hardware else " (see each row's reason)")
    return (f"{lead}{because}. Their measured times are reported for information only and "
            "are not evidence for or against the paper.")


def _how(record: dict[str, Any]) -> dict[str, Any]:
    timing, load = record.get("timing") or {}, record.get("load") or {}
    repeats = timing.get("repeats") or []
    times = [r.get("metrics", {}).get("time_s", r.get("wall_s")) for r in repeats]
    others = [r.get("others_cpus") for r in repeats if r.get("others_cpus") is not None]
    return {
        "experiment": code_span(record.get("experiment")), "seed": record.get("seed"),
        "taken": "alone" if timing.get("alone") else "beside other jobs",
        "repeats": f"{len(repeats)} after {timing.get('warmup', 0)} warm-up",
        "time (s)": (f"{fmt_number(min(times), 1)}–{fmt_number(max(times), 1)}"
                     if len(times) > 1 else fmt_number(times[0] if times else None, 1)),
        "other load (CPUs)": fmt_number(max(others), 2) if others else "not measured",
        "disturbed": load.get("reason") or "no",
        "same numbers each repeat": yes_no(timing.get("identical")),
    }


def taken_table(runs: list[dict[str, Any]], timed: set[str]) -> pd.DataFrame:
    """How each time a time claim uses was taken: one row per run of a timed experiment."""
    rows = [_how(r) for r in sorted(runs, key=lambda r: (r.get("experiment"), r.get("seed")))
            if r.get("experiment") in timed and r.get("status") == "ok" and r.get("timing")]
    return pd.DataFrame(rows, columns=["experiment", "seed", "taken", "repeats", "time (s)",
                                       "other load (CPUs)", "disturbed",
                                       "same numbers each repeat"])


def taken_statement(table: pd.DataFrame) -> str:
    """One sentence: how the times were taken, and how many runs others disturbed."""
    if table.empty:
        return ""
    alone = int((table["taken"] == "alone").sum())
    disturbed = int((table["disturbed"] != "no").sum())
    differ = int((table["same numbers each repeat"] == "no").sum())
    text = (f"Of {len(table)} timed runs, {alone} ran alone (no other job of the workflow "
            f"beside them), each timed over the repeats shown in the claims detail; "
            f"{disturbed} were disturbed by processes not of this workflow")
    if differ:
        text += f"; {differ} computed different numbers on different repeats"
    return text + "."


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    ledger = results.ledger
    table = _time_table(ledger)
    source = write_csv(table, out / "tables" / "time_claims.csv")
    taken = taken_table(results.runs, timed_experiments(study))
    taken_source = write_csv(taken, out / "tables" / "time_taken.csv")
    tables = []
    if (ledger["kind"] == "time").any():
        tables.append(markdown_table(table, f"Time claims. Source: `{source}`."))
    if not taken.empty:
        tables.append(markdown_table(taken, "How each time was taken (time: the repeats' "
                                     "min–max; other load: the most CPUs processes not of "
                                     f"this workflow used in one repeat). Source: "
                                     f"`{taken_source}`."))
    statement = " ".join(t for t in (time_statement(ledger, results.env),
                                     taken_statement(taken)) if t)
    return {
        "sources": {"time": source, "time_taken": taken_source},
        "time_statement": statement,
        "time_table": "\n\n".join(tables),
    }
