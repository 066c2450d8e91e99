"""Text for the formats outputs land in: Markdown, HTML and LaTeX, one function each.

Every string from a manifest, a contacts log, a runner, a fetched artifact or the audit is
escaped through these helpers, the same way wherever it appears:

* :func:`md_escape` -- Markdown inline text: a paragraph, a list item, a heading, a table
  cell. Every report and the MLRC draft are Markdown that pandoc (or Quarto) turns into
  HTML, Typst (the PDF), LaTeX and DOCX; text escaped here comes out as itself in each of
  them, so no separate Typst escaping exists (nothing writes Typst but pandoc).
* :func:`code_span` -- Markdown inline code (paths, commands, code quoted by the audit).
* :func:`yaml_md` -- a Markdown string in a document's YAML front matter (title, subtitle).
* :func:`markdown_table` -- a pipe table whose cells go through :func:`md_escape` unless
  they are already Markdown (:class:`Raw`, e.g. from :func:`code_span`).
* :func:`html_escape` -- HTML written directly (the Zotero note).
* :func:`latex_escape` -- LaTeX and BibTeX written directly (the MLRC draft's
  ``references.bib``, its communication paragraph).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from replikit.numbers import DASH, is_missing

# C0 controls (but the whitespace that is folded anyway), DEL and C1 controls: they carry
# no text, break XML (DOCX) and YAML, and could drive a terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters pandoc's Markdown gives a meaning to anywhere in a line. (Single quotes are
# left to pandoc's typography, which prints them curly: a change of glyph, not of text.)
_MD_SPECIAL = re.compile(r"([`*_\[\]<>|$#@~^&{}\"])")
# At the start of a line these open a block: a list item (- x, + x, 1. x, 1) x), a
# definition (: x) or a fenced div (:::), a setext heading's underline (===), a title block (%).
_MD_BLOCK_START = re.compile(r"^(?:[-+](?=\s|$)|:|\d+(?=[.)](?:\s|$))|=+$|%)")


def _plain(text: Any) -> str:
    """One line of text: missing values empty, control characters dropped, whitespace folded."""
    if is_missing(text):
        return ""
    return " ".join(_CONTROL.sub("", str(text)).split())


def md_escape(text: Any) -> str:
    """Escape text for Markdown inline content (paragraph, list item, pipe-table cell).

    Every character pandoc's Markdown gives a meaning to is backslash-escaped, so HTML
    (``<img onerror=...>``), math (``$``), LaTeX (``\\input``), entities (``&``), citations
    (``[@key]``), spans, Typst markup (``#``, ``@``) and table pipes come out as the text
    itself in HTML, LaTeX, Typst and DOCX alike. Runs of dashes stay dashes (not en or em
    dashes, nor a rule), and a line-opening marker (``-``, ``1.``, ``:``) opens no block.
    The text is folded to one line.
    """
    text = _plain(text).replace("\\", "\\\\")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"-(?=-)|(?<=-)-", r"\\-", text)
    if text.startswith("\\"):
        return text
    match = _MD_BLOCK_START.match(text)
    if match is None:
        return text
    if match.group().isdigit():  # 1. -> 1\.
        return text[:match.end()] + "\\" + text[match.end():]
    return "\\" + text


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
    """Markdown inline code showing ``text`` as typed (folded to one line).

    The fence is one backtick longer than the longest run of backticks inside, so code that
    holds backticks stays whole; a pipe inside stays inside its table cell.
    """
    text = _plain(text)
    if not text:
        return Raw(DASH)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Raw(f"{fence}{pad}{text}{pad}{fence}")


def html_escape(text: Any) -> str:
    """Escape text for HTML content or a quoted attribute value."""
    return "" if is_missing(text) else html.escape(_CONTROL.sub("", str(text)), quote=True)


# Each replacement is brace-balanced, so the result is safe in a BibTeX field too (BibTeX
# counts braces and ignores the backslash of ``\\{``).
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
                  "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def latex_escape(text: Any) -> str:
    """Escape text for LaTeX (and BibTeX): every special character becomes itself in print,
    so ``\\input{/etc/passwd}`` or an unbalanced brace is printed, never run or refused."""
    if is_missing(text):
        return ""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in _CONTROL.sub("", str(text)))
