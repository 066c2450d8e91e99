"""Text for the formats outputs land in: numbers, Markdown, LaTeX.

Every output formats numbers and escapes strings through these helpers, so a string from a
manifest, a contacts log or a runner is escaped the same way wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

DASH = "\u2014"


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_number(value: Any, digits: int | None = None, *, significant: int = 4,
               missing: str = DASH) -> str:
    """A number with ``digits`` decimals (else ``significant`` digits); ``missing`` if none.

    >>> fmt_number(0.93612, 3), fmt_number(0.93612), fmt_number(None, missing="")
    ('0.936', '0.9361', '')
    """
    if is_missing(value):
        return missing
    value = float(value)
    if digits is None:
        return f"{value:.{significant}g}"
    return f"{value:.{max(int(digits), 0)}f}"


def to_float(value: Any) -> float | None:
    """A number from a cell that may be text, empty or missing; None when it holds none."""
    if is_missing(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def fmt_percent(value: Any) -> str:
    return DASH if is_missing(value) else f"{float(value) * 100:+.2f}%"


def fmt_p(p: float) -> str:
    """A p-value: two significant digits, scientific below 0.001, ``n/a`` when none."""
    return "n/a" if is_missing(p) else (f"{p:.2g}" if p >= 0.001 else f"{p:.1e}")


def fmt_share(share: float) -> str:
    """A share such as a confidence level or a power: ``0.95`` -> ``'95%'``."""
    return f"{share * 100:g}%"


def md_escape(text: Any) -> str:
    """Escape text for a Markdown paragraph or pipe-table cell."""
    if is_missing(text):
        return ""
    text = str(text).replace("\\", "\\\\")
    text = re.sub(r"([`*_\[\]<>|$#@~^])", r"\\\1", text)
    return text.replace("\n", " ").strip()


def markdown_table(frame: pd.DataFrame, caption: str | None = None,
                   align: Sequence[str] | None = None) -> str:
    """A pipe table with escaped cells; ``align`` holds 'l' or 'r' per column."""
    align = align or ["l"] * len(frame.columns)
    head = [md_escape(c) for c in frame.columns]
    body = [[str(v) if isinstance(v, Raw) else md_escape(v) for v in row]
            for row in frame.itertuples(index=False)]
    # When a table is wider than a line, pandoc sizes its columns by the dashes under the
    # header; giving each column as many dashes as its longest cell (within limits) keeps
    # short columns narrow and lets long reasons wrap in a wide column.
    widths = [min(max([len(h), 8, *(len(r[i]) for r in body)]), 40)
              for i, h in enumerate(head)]
    rule = "|" + "|".join((":" + "-" * w) if a == "l" else ("-" * w + ":")
                          for w, a in zip(widths, align, strict=True)) + "|"
    lines = ["| " + " | ".join(head) + " |", rule]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    table = "\n".join(lines)
    return table + (f"\n\n: {caption}" if caption else "")


class Raw(str):
    """A cell that is already Markdown (a link, a code span) and must not be escaped."""


def code_span(text: Any) -> Raw:
    return Raw(DASH if is_missing(text) or text == "" else f"`{str(text).replace('`', '')}`")



_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


