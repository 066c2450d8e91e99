"""The summary section: what was checked and what came out, the counts and the matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.publish import figures
from replikit.publish.facts import cost_sentence, level_sentence, verdict_sentence, verdict_table
from replikit.publish.findings import findings
from replikit.publish.report.common import plural, write_csv, yes_no
from replikit.publish.text import code_span, markdown_table, md_escape
from replikit.results import Results
from replikit.study import Study
from replikit.vocabulary import (
    ARTIFACT_UNAVAILABLE,
    LEVELS,
    NEEDS_GPU,
    NOT_REPRODUCED,
    NOT_RUN,
)


def verdict_counts(results: Results) -> pd.DataFrame:
    """How many claim-level checks got each verdict, per level and in total (a tally)."""
    return verdict_table(results.facts)


def summary_paragraph(study: Study, results: Results) -> str:
    """One paragraph a busy reader can trust: what was checked and what came out, per level.

    Every count in it is one of :attr:`replikit.results.Results.facts` (also in
    ``tables/verdict_counts.csv``).
    """
    ledger, facts = results.ledger, results.facts
    parts = [f"We checked {plural(facts.claims, 'claim')} of *{md_escape(study.paper.title)}* "
             f"({md_escape(study.paper.venue)}) in {plural(facts.checks, 'check')} "
             "(one per claim and level)."]
    parts += [level_sentence(facts, level) for level in facts.verdicts]
    failed = ledger.loc[ledger["verdict"] == NOT_REPRODUCED, "claim_id"].unique().tolist()
    if failed:
        shown = ", ".join(f"`{c}`" for c in failed[:6]) + (" and others" if len(failed) > 6
                                                          else "")
        parts.append(f"Not reproduced at one level or more: {shown} "
                     f"({plural(len(failed), 'claim')}).")
    not_run = ledger[ledger["verdict"] == NOT_RUN]
    if len(not_run):
        causes = not_run_causes(not_run)
        said = "; ".join(f"{n} because {md_escape(cause)}" for cause, n, _ in causes)
        several = sum(n for _, n, _ in causes) > len(not_run)
        parts.append(f"{plural(len(not_run), 'check')} could not run"
                     + (" (some for more than one reason)" if several else "")
                     + f": {said}.")
    times = ledger[ledger["kind"] == "time"]
    if len(times):
        comparable = sum(yes_no(v) == "yes" for v in times["comparable"])
        parts.append(f"Of {plural(len(times), 'time check')}, {comparable} "
                     f"{'is' if comparable == 1 else 'are'} comparable with the paper's "
                     "hardware; the others are information only (not comparable).")
    return " ".join(parts)


_OPEN, _CLOSE = "\x02", "\x03"   # claim ids in a finding, until the text is escaped


def markdown_findings(ledger: pd.DataFrame) -> list[str]:
    """The findings (:mod:`replikit.publish.findings`) as Markdown, claim ids as code."""
    out = []
    for sentence in findings(ledger, not_run_causes, code=lambda c: f"{_OPEN}{c}{_CLOSE}"):
        parts = []
        for piece in sentence.split(_OPEN):
            name, _, text = piece.rpartition(_CLOSE)
            # md_escape trims the text; the spaces around a claim id must stay.
            lead, trail = text[:len(text) - len(text.lstrip())], text[len(text.rstrip()):]
            escaped = lead + md_escape(text) + trail if text.strip() else text
            parts.append((str(code_span(name)) if name else "") + escaped)
        out.append("".join(parts))
    return out


def _cause_words(cause: dict[str, str]) -> str:
    """A cause of "not run" (``{kind, name, detail}`` from the run record) in words."""
    if cause["kind"] == ARTIFACT_UNAVAILABLE:
        return f"artifact '{cause['name']}' is unavailable ({cause['detail']})"
    if cause["kind"] == NEEDS_GPU:
        return f"needs {cause['name']} (declared in its resources)"
    return cause["detail"] or cause["kind"]


def not_run_causes(rows: pd.DataFrame) -> list[tuple[str, int, list[str]]]:
    """The distinct causes behind "not run" checks: ``(cause in words, checks, claim ids)``.

    Causes are told apart by what they say, so the same cause recorded under many names
    (one per claim, say) is one cause. Each check counts each of its causes once, however
    many of its experiments and seeds it stopped; a check that recorded none counts its
    reason. Most frequent first.

    >>> frame = pd.DataFrame({"claim_id": ["a", "b"], "reason": ["x", "y"], "causes": [
    ...     [{"kind": "needs-gpu", "name": "1 GPU(s)", "detail": "0 available"}],
    ...     [{"kind": "needs-gpu", "name": "1 GPU(s)", "detail": "0 available"}]]})
    >>> not_run_causes(frame)
    [('needs 1 GPU(s) (declared in its resources)', 2, ['a', 'b'])]
    """
    claims: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    ids = rows["claim_id"] if "claim_id" in rows else [""] * len(rows)
    for claim_id, reason, causes in zip(ids, rows["reason"], rows["causes"], strict=True):
        said = {_cause_words(cause) for cause in causes or []}
        if not said:
            said = {str(reason) if not pd.isna(reason) and str(reason) else
                    "no reason recorded"}
        for words in said:
            counts[words] = counts.get(words, 0) + 1
            named = claims.setdefault(words, [])
            if claim_id and claim_id not in named:
                named.append(str(claim_id))
    return sorted(((w, counts[w], claims[w]) for w in counts), key=lambda c: (-c[1], c[0]))


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    ledger = results.ledger
    tables = out / "tables"
    matrix = figures.verdict_matrix(ledger)
    counts = verdict_counts(results)
    sources = {
        "ledger": write_csv(ledger, tables / "ledger.csv"),
        "counts": write_csv(counts, tables / "verdict_counts.csv"),
        "matrix": write_csv(matrix.reset_index(), tables / "verdict_matrix.csv"),
        "samples": write_csv(results.samples, tables / "measurements.csv"),
    }
    return {
        "sources": sources,
        "findings": markdown_findings(ledger),
        "verdict_summary": summary_paragraph(study, results),
        "facts_line": md_escape(f"{verdict_sentence(results.facts)} In all: "
                                f"{cost_sentence(results.facts)}"),
        "counts_table": markdown_table(counts, f"Verdicts per level. Source: "
                                       f"`{sources['counts']}`.",
                                       ["l"] + ["r"] * (len(counts.columns) - 1)),
        "levels_text": ", ".join(lv for lv in LEVELS if lv in set(ledger["level"])),
    }
