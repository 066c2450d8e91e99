"""Text for the formats outputs land in: numbers, Markdown, LaTeX.

Every output formats numbers and escapes strings through these helpers, so a string from a
manifest, a contacts log or a runner is escaped the same way wherever it appears.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from replikit.numbers import DASH, is_missing


def md_escape(text: Any) -> str:
    """Escape text for a Markdown paragraph or pipe-table cell (one line).

    Every character pandoc's Markdown gives a meaning to is backslash-escaped, so HTML
    (``<img onerror=...>``), math (``$``), LaTeX (``\\``), entities (``&``), citations
    and spans come out as the text itself in HTML, LaTeX, Typst and DOCX alike.
    """
    if is_missing(text):
        return ""
    text = " ".join(str(text).split())
    text = text.replace("\\", "\\\\")
    return re.sub(r"([`*_\[\]<>|$#@~^&{}\"])", r"\\\1", text)


def yaml_md(text: Any) -> str:
    """A YAML double-quoted string holding escaped Markdown (pandoc reads metadata as
    Markdown), for a report's or draft's front matter."""
    return json.dumps(md_escape(text), ensure_ascii=False)



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


