"""The results at a glance: reported next to measured (± spread) with the verdict, per level.

One row per claim, grouped under its id prefix (``100k-svd-rmse`` under ``100k``) when the
prefixes group the claims; one column per level holding the measured mean ± standard
deviation and the verdict as a mark (:data:`replikit.publish.figures.VERDICT_MARKS`, the
same marks as the verdict grid). Relational claims state no number: their "reported" cell
says what they state (a difference above zero, within a margin), their measured cell the
mean difference. Every number is the ledger's, printed with the claim's digits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.numbers import DASH, band_digits, fmt_number, is_missing
from replikit.publish.report.common import write_csv
from replikit.publish.text import Raw, code_span, markdown_table, md_escape
from replikit.publish.verdict_grid import VERDICT_MARKS, claim_groups
from replikit.results import Results
from replikit.study import Study
from replikit.study.claims import Claim
from replikit.vocabulary import VERDICTS


def reported_text(claim: Claim) -> str:
    """What the paper states, with its digits; for a relation, the relation itself."""
    if claim.kind == "equivalence":
        return f"|a − b| ≤ {fmt_number(claim.margin)}"
    if claim.kind in ("comparison", "best-of"):
        return "a − b > 0" if claim.higher_is_better else "a − b < 0"
    if claim.reported is None:
        return DASH
    text = fmt_number(claim.reported, claim.decimals)
    return text + (" s" if claim.kind == "time" else "")


def measured_text(row: pd.Series, decimals: int | None) -> str:
    """``'0.9336 ± 0.0018 ✓'``: the mean, its standard deviation, the verdict's mark."""
    mark = VERDICT_MARKS.get(row["verdict"], "")
    if is_missing(row["mean"]):
        return mark
    digits = band_digits(decimals)
    text = fmt_number(row["mean"], digits)
    if not is_missing(row["sd"]):
        text += f" ± {fmt_number(row['sd'], digits)}"
    return f"{text} {mark}"


def results_table(study: Study, ledger: pd.DataFrame) -> pd.DataFrame:
    """The table as text: group rows (claim empty) and claim rows, one column per level."""
    levels = list(dict.fromkeys(lv for lv in ledger["level"]))
    claims = {c.id: c for c in study.claims}
    rows = []
    for group, members in claim_groups(list(dict.fromkeys(ledger["claim_id"]))):
        if group:
            rows.append({"group": group, "claim": "", "reported": "",
                         **dict.fromkeys(levels, "")})
        for claim_id, label in members:
            claim = claims[claim_id]
            mine = ledger[ledger["claim_id"] == claim_id].set_index("level")
            rows.append({"group": group, "claim": label, "reported": reported_text(claim),
                         **{lv: measured_text(mine.loc[lv], claim.decimals)
                            if lv in mine.index else "" for lv in levels}})
    return pd.DataFrame(rows, columns=["group", "claim", "reported", *levels])


LEGEND = ", ".join(f"{mark} {verdict}" for verdict, mark in VERDICT_MARKS.items()
                   if verdict in VERDICTS)


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    table = results_table(study, results.ledger)
    source = write_csv(table, out / "tables" / "results_at_a_glance.csv")
    shown = pd.DataFrame({
        "claim": [Raw(f"**{md_escape(g)}**") if not c else code_span(c)
                  for g, c in zip(table["group"], table["claim"], strict=True)],
        **{col: table[col] for col in table.columns[2:]},
    })
    caption = (f"Reported and measured (mean ± standard deviation over seeds or folds) per "
               f"level; the mark is the verdict: {LEGEND}. Claims are grouped by the first "
               f"part of their id. Source: `{source}`.")
    return {"results_table": markdown_table(shown, caption,
                                            ["l", "r"] + ["r"] * (len(shown.columns) - 2))}
