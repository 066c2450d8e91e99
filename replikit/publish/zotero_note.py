"""The note a ``replikit zotero push`` leaves on the paper's item: outcome and verdict table.

An HTML fragment, as Zotero stores notes; every value from the ledger is escaped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from replikit.errors import ReplikitError
from replikit.evaluate.claims_table import SUMMARY_COLUMNS, text_records
from replikit.publish.facts import cost_sentence, verdict_sentence
from replikit.publish.text import html_escape
from replikit.results import Facts, Results
from replikit.vocabulary import NOT_REPRODUCED, NOT_RUN, REPRODUCED


def study_outcome(rows: list[dict[str, str]]) -> str:
    """``reproduced``, ``partial``, ``not-reproduced`` or ``not-run``, from the ledger.

    Claims not run do not count. Every assessed claim reproduced gives ``reproduced``; none
    reproduced (not even partially) gives ``not-reproduced``; anything between, ``partial``.
    """
    verdicts = [r["verdict"].strip().lower() for r in rows]
    assessed = [v for v in verdicts if not v.startswith(NOT_RUN)]
    if not assessed:
        return "not-run"
    if all(v == REPRODUCED for v in assessed):
        return "reproduced"
    if all(v == NOT_REPRODUCED for v in assessed):
        return "not-reproduced"
    return "partial"


def verdict_note_html(study_name: str, title: str, rows: list[dict[str, str]],
                      report_url: str | None, today: dt.date, facts: Facts) -> str:
    """The child note: outcome, the study's counts and totals (as every output states
    them), the table per claim and level, the link."""
    esc = html_escape
    head = (f"<h1>Reproducibility study: {esc(title)}</h1>"
            f"<p>Study <code>{esc(study_name)}</code>, updated {today}. Outcome: "
            f"<b>{esc(study_outcome(rows))}</b>. {esc(verdict_sentence(facts))}</p>"
            f"<p>In all: {esc(cost_sentence(facts))}</p>")
    link = (f'<p>Report: <a href="{esc(report_url)}">{esc(report_url)}</a></p>'
            if report_url else "<p>The PDF report is attached to this item.</p>")
    cells = ["claim_id", "level", "metric", "reported", "mean", "sd", "n", "verdict"]
    table = ["<table><tr>" + "".join(f"<th>{c}</th>" for c in cells) + "</tr>"]
    for row in rows:
        table.append("<tr>" + "".join(f"<td>{esc(row.get(c, ''))}</td>" for c in cells)
                     + "</tr>")
    table.append("</table>")
    return head + link + "".join(table)


@dataclass(frozen=True)
class StudyNote:
    """The note's HTML and the study's outcome (for the item's ``repro:`` tag)."""

    html: str
    outcome: str


def study_note(study_name: str, title: str, ledger_csv: str | Path, report_url: str | None,
               today: dt.date) -> StudyNote:
    """The note for a study, from its ledger and the run records beside it (one read)."""
    results = Results.from_ledger(ledger_csv, SUMMARY_COLUMNS)
    rows = text_records(results.ledger)
    if not rows:
        raise ReplikitError("the claims ledger has no rows", where=str(ledger_csv),
                            fix="rebuild it with 'snakemake study=<study>'")
    return StudyNote(verdict_note_html(study_name, title, rows, report_url, today,
                                       results.facts), study_outcome(rows))
