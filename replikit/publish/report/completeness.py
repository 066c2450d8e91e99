"""The code-completeness checklist of the original artifacts, and the ACM badges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.audit import completeness as code_check
from replikit.audit.text import findings_markdown
from replikit.numbers import DASH
from replikit.publish.report.common import sentence, write_csv
from replikit.publish.text import Raw, code_span, markdown_table, md_escape
from replikit.results import Results
from replikit.study import Study


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    """The code-completeness checklist of the original code and the ACM badges."""
    tables, artifacts = out / "tables", results.artifacts
    checklist = code_check.completeness_table(artifacts)
    badges = code_check.acm_badges(artifacts, checklist, results.ledger)
    source_check = write_csv(checklist, tables / "code_completeness.csv")
    source_badges = write_csv(code_check.badge_table(badges), tables / "acm_badges.csv")
    shown = pd.DataFrame({
        "artifact": [code_span(a) for a in checklist["artifact"]], "item": checklist["item"],
        "status": checklist["status"], "why": checklist["reason"],
        "evidence": [Raw(", ".join(code_span(e) for e in str(v).split("; "))) if v else DASH
                     for v in checklist["evidence"]],
    })
    return {
        "completeness_table": markdown_table(shown, f"Code completeness of the original "
                                             f"artifacts. Source: `{source_check}`.")
        if len(checklist) else "",
        "badges": [{"badge": b.badge, "awarded": "awarded" if b.awarded else "not awarded",
                    "rule": md_escape(b.rule), "reason": md_escape(sentence(b.reason))}
                   for b in badges],
        "badges_source": source_badges,
        # Third-party code and libraries: listed here, never judged as the paper's code.
        "other_code": [f"{code_span(r.get('name'))} ({r.get('origin')})"
                       for r in code_check.other_code(artifacts)],
        "audit": _audit_markdown(results.audit),
    }


def _audit_markdown(audit: dict[str, Any] | None) -> str:
    """The audit's findings (file:line evidence per category), or why it did not run."""
    if audit is None:
        return ""
    if audit.get("status") != "ok":
        return (f"The audit of {code_span(audit.get('artifact'))} did not run: "
                f"{md_escape(audit.get('reason'))}.")
    return findings_markdown(audit, heading_level=3)
