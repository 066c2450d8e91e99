"""The claims section: one table per claim, quantities down and levels across."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.numbers import DASH, fmt_number, fmt_percent, is_missing
from replikit.publish.report.common import measured_digits
from replikit.publish.text import Raw, code_span, markdown_table, md_escape
from replikit.results import Results
from replikit.study import Study


def _claim_detail_table(claim_rows: pd.DataFrame) -> pd.DataFrame:
    """Quantities down, levels across: narrow enough for a printed page."""
    cells: dict[str, list[Any]] = {"": [
        "experiment", "reported", "measured (mean ± sd, n)", "95% CI", "drift",
        "tolerance band", "test (p)", "verdict", "reason"]}
    for _, row in claim_rows.iterrows():
        digits = measured_digits(row["decimals"])
        rep = fmt_number(row["reported"], None if is_missing(row["decimals"])
                         else int(row["decimals"]))
        measured = fmt_number(row["mean"], digits)
        if not is_missing(row["mean"]) and not is_missing(row["sd"]):
            measured += f" ± {fmt_number(row['sd'], digits)}"
        if not is_missing(row["mean"]) and not is_missing(row["n"]):
            measured += f" (n = {int(row['n'])})"
        ci = (DASH if is_missing(row["ci_low"]) else
              f"[{fmt_number(row['ci_low'], digits)}, {fmt_number(row['ci_high'], digits)}]")
        drift = (DASH if is_missing(row["drift_abs"]) else
                 f"{float(row['drift_abs']):+.{digits if digits is not None else 4}f} "
                 f"({fmt_percent(row['drift_rel'])})")
        band = (DASH if is_missing(row["band_low"]) else
                f"[{fmt_number(row['band_low'], digits)}, {fmt_number(row['band_high'], digits)}]")
        test = DASH if is_missing(row["test"]) else (
            f"{row['test']} ({fmt_number(row['p_value'], None)})")
        cells[str(row["level"])] = [code_span(row["experiment"]), rep, measured, ci, drift,
                                    band, test, Raw(f"**{md_escape(row['verdict'])}**"),
                                    row["reason"] if not is_missing(row["reason"]) else ""]
    return pd.DataFrame(cells)


def tolerance_words(claim_rows: pd.DataFrame) -> str:
    """The claim's tolerance as the ledger computed it (its half-width, before rounding)."""
    widths = claim_rows["tolerance"].dropna()
    if widths.empty:
        return DASH
    return f"±{fmt_number(widths.iloc[0])} around the reported value (bands per level below)"


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    ledger = results.ledger
    claims = []
    for claim in study.claims:
        rows = ledger[ledger["claim_id"] == claim.id]
        claims.append({
            "id": claim.id, "text": md_escape(claim.text), "source": md_escape(claim.source),
            "kind": claim.kind, "metric": code_span(claim.metric),
            "direction": "higher is better" if claim.higher_is_better else "lower is better",
            "tolerance": tolerance_words(rows),
            "table": markdown_table(_claim_detail_table(rows)) if len(rows) else "",
            # Deviations naming this claim; those for all claims are listed once, below.
            "deviations": [md_escape(d.what) for d in study.deviations if claim.id in d.claims],
        })
    return {"claims": claims}
