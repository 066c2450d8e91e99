"""The time-claims section: whether measured times can be compared with the paper's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.numbers import fmt_number, fmt_percent
from replikit.publish.report.common import write_csv, yes_no
from replikit.publish.report.environment import hardware_rows
from replikit.publish.text import code_span, markdown_table, md_escape
from replikit.results import Results
from replikit.study import Study


def _time_table(ledger: pd.DataFrame) -> pd.DataFrame:
    rows = ledger[ledger["kind"] == "time"]
    return pd.DataFrame({
        "claim": [code_span(c) for c in rows["claim_id"]],
        "level": rows["level"].tolist(),
        "reported (s)": [fmt_number(v, 1) for v in rows["reported"]],
        "measured (s)": [fmt_number(v, 1) for v in rows["mean"]],
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


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    ledger = results.ledger
    table = _time_table(ledger)
    source = write_csv(table, out / "tables" / "time_claims.csv")
    return {
        "sources": {"time": source},
        "time_statement": time_statement(ledger, results.env),
        "time_table": markdown_table(table, f"Time claims. Source: `{source}`.")
        if (ledger["kind"] == "time").any() else "",
    }
