"""An audit as text: the report's code section and the letter's questions to the authors.

Both take the dict :func:`replikit.audit.audit_tree` returns (or ``audit.json`` read back).
Findings quote code, paths and regular expressions, so every cell goes through the
Markdown escaping of :mod:`replikit.publish.text`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from replikit.audit.model import CATEGORIES
from replikit.publish.text import code_span, markdown_table, md_escape

MAX_ROWS = 25  # per category in the report; audit.json keeps them all
MAX_PLACES = 3  # locations quoted in one question


def findings_markdown(audit: dict[str, Any], heading_level: int = 3) -> str:
    """The findings as Markdown: a summary line, then one table per category."""
    findings = audit["findings"]
    hashes = "#" * heading_level
    counts = ", ".join(f"{category} {audit['counts'].get(category, 0)}"
                       for category in CATEGORIES)
    lines = [f"{hashes} Audit of the original code", "",
             f"{len(findings)} findings in {audit['files']} files "
             f"({audit['python_files']} Python files): {counts}."]
    for category, meaning in CATEGORIES.items():
        rows = [f for f in findings if f["category"] == category]
        if not rows:
            continue
        shown = pd.DataFrame({"where": [code_span(_where(f)) for f in rows[:MAX_ROWS]],
                              "problem": [f["message"] for f in rows[:MAX_ROWS]],
                              "code": [code_span(f["evidence"]) if f["evidence"] else ""
                                       for f in rows[:MAX_ROWS]]})
        if len(rows) > MAX_ROWS:
            shown.loc[len(shown)] = ["…", f"{len(rows) - MAX_ROWS} more in audit.json", ""]
        lines += ["", f"{hashes}# {category.capitalize()}", "", f"*{md_escape(meaning)}*", "",
                  markdown_table(shown)]
    return "\n".join(lines) + "\n"


def _where(finding: dict[str, Any]) -> str:
    if finding["file"] is None:
        return "(whole tree)"
    return f"{finding['file']}:{finding['line']}" if finding["line"] else finding["file"]


def audit_questions(audit: dict[str, Any]) -> list[str]:
    """Questions for the authors, one per kind of problem found, with where it was seen."""
    by_check: dict[str, list[dict[str, Any]]] = {}
    for finding in audit["findings"]:
        by_check.setdefault(finding["check"], []).append(finding)
    questions = []
    for check, ask in QUESTIONS.items():
        found = [f for key, group in by_check.items() if key == check
                 or (check.endswith("*") and key.startswith(check[:-1])) for f in group]
        if found:
            places = ", ".join(_where(f) for f in found[:MAX_PLACES])
            more = f" and {len(found) - MAX_PLACES} more" if len(found) > MAX_PLACES else ""
            questions.append(f"{ask(found)} (seen at {places}{more})")
    return questions


def _names(found: list[dict[str, Any]]) -> str:
    # dependency messages start with the package's name: "numpy is not pinned ..."
    names = list(dict.fromkeys(f["message"].split(" ")[0].rstrip(":") for f in found))
    return ", ".join(names[:6]) + (" and others" if len(names) > 6 else "")


QUESTIONS: dict[str, Callable[[list[dict[str, Any]]], str]] = {
    "none-declared": lambda f: "Which packages, and which versions of them, does the code "
    "need? No file in the repository declares its dependencies.",
    "not-pinned": lambda f: f"Which exact versions of {_names(f)} produced the paper's "
    "results?",
    "conflicting": lambda f: "The repository declares incompatible versions of "
    f"{_names(f)}; which ones did you use?",
    "invalid-requirement": lambda f: "Some requirement lines cannot be parsed; what did "
    "they mean to install?",
    "python2": lambda f: "The code is written for Python 2; which Python and library "
    "versions produced the results, and is there a Python 3 version?",
    "python2-semantics": lambda f: "Some code behaves differently under Python 3 (e.g. "
    "map() used for its side effects); which Python version produced the results?",
    "not-python3": lambda f: "Some files do not parse as Python 3; which Python version "
    "does the code need?",
    "unseeded": lambda f: "Which random seeds produced the reported numbers? Some random "
    "generators are never seeded.",
    "seed-not-exposed": lambda f: "Are the reported numbers from the one seed fixed in the "
    "code, or averaged over several seeds? How much do they vary with the seed?",
    "nondeterministic": lambda f: "Were the results obtained with non-deterministic GPU "
    "settings (cuDNN benchmark mode), and how much do they vary between runs?",
    "unpinned-download": lambda f: "Which version of the data did you use? The code "
    "downloads it at run time without a checksum; could you share its checksum or a copy?",
    "absolute-path": lambda f: "Where do the files at machine-specific paths come from, "
    "and how were they prepared?",
    "missing-*": lambda f: "Could you share what the repository lacks: "
    + ", ".join(x["message"].split(":")[0] for x in f) + "?",
    "gpu-only": lambda f: "Which GPU (model, memory) did you use? The code needs CUDA; can "
    "it run on a CPU?",
    "device-count": lambda f: "How many GPUs did the experiments use? The code assumes "
    "several.",
}
