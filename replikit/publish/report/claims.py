"""The claims section: one table per claim, quantities down and levels across."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.numbers import DASH, fmt_band, fmt_number, fmt_percent, is_missing
from replikit.publish.report.common import measured_digits
from replikit.publish.text import Raw, code_span, markdown_table, md_escape
from replikit.results import Results
from replikit.study import Study
from replikit.study.claims import Claim


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
                fmt_band(row["band_low"], row["band_high"], row["decimals"]))
        test = DASH if is_missing(row["test"]) else (
            f"{row['test']} ({fmt_number(row['p_value'], None)})")
        cells[str(row["level"])] = [code_span(row["experiment"]), rep, measured, ci, drift,
                                    band, test, Raw(f"**{md_escape(row['verdict'])}**"),
                                    row["reason"] if not is_missing(row["reason"]) else ""]
    return pd.DataFrame(cells)


def tolerance_words(claim: Claim, claim_rows: pd.DataFrame) -> str:
    """What the claim is judged against, in words: a tolerance around the reported value,
    a margin on the differences, a ratio band, or paired tests; bands with its digits."""
    bands = claim_rows.dropna(subset=["band_low", "band_high"])
    band = (fmt_band(bands["band_low"].iloc[0], bands["band_high"].iloc[0], claim.decimals)
            if len(bands) else DASH)
    if claim.kind == "equivalence":
        return (f"margin ±{fmt_number(claim.margin)} on the paired differences a − b "
                f"(band {band}); there is no reported value")
    if claim.kind in ("comparison", "best-of"):
        pairs = "each baseline" if claim.kind == "best-of" else "b"
        return (f"a paired test of a against {pairs} (Holm-corrected over the study's "
                "comparisons); no band, no reported value")
    widths = claim_rows["tolerance"].dropna()
    if widths.empty:
        return DASH
    what = {"ratio": "ratio", "improvement": "improvement"}.get(claim.kind, "value")
    return (f"±{fmt_number(widths.iloc[0])} around the reported {what} "
            f"{fmt_number(claim.reported, claim.decimals)} (band {band}, with the paper's "
            "rounding; per level below)")


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    ledger = results.ledger
    claims = []
    for claim in study.claims:
        rows = ledger[ledger["claim_id"] == claim.id]
        claims.append({
            "id": claim.id, "text": md_escape(claim.text), "source": md_escape(claim.source),
            "kind": claim.kind, "metric": code_span(claim.metric),
            "direction": "higher is better" if claim.higher_is_better else "lower is better",
            "tolerance": md_escape(tolerance_words(claim, rows)),
            "table": markdown_table(_claim_detail_table(rows)) if len(rows) else "",
            # Deviations naming this claim; those for all claims are listed once, below.
            "deviations": [md_escape(d.what) for d in study.deviations if claim.id in d.claims],
        })
    return {"claims": claims}
