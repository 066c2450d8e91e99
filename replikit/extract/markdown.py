"""Tables of a Markdown file (a repository's README), read with markdown-it-py.

A pipe table's top-left header cell usually names what the table is about (Surprise's
README: "Movielens 100k"), so it labels the table; when it is empty the heading above the
table does. The paragraphs of the table's section are its context (seeds, protocol, the
sentences that relate its methods). Links keep their text, and ``**bold**`` / ``<u>``
marks are kept on the cell.
"""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from replikit.extract.model import Cell, Table


def read_tables(path: Path, display_name: str | None = None) -> list[Table]:
    """Every pipe table of the Markdown file at ``path``."""
    text = path.read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    name = display_name or path.name
    tables: list[Table] = []
    section: str | None = None
    paragraphs: dict[int, list[str]] = {}  # by section number: the text around its tables
    sections = [0]
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            section = _plain(tokens[index + 1])
            sections.append(len(sections))
        elif token.type == "paragraph_open":
            paragraphs.setdefault(sections[-1], []).append(_plain(tokens[index + 1]))
        elif token.type == "table_open":
            end = _closing(tokens, index)
            tables.append(_table(tokens[index:end], name, section, len(tables) + 1, token))
            # The section's paragraphs so far; its later ones join the same list.
            tables[-1].context = paragraphs.setdefault(sections[-1], [])
            index = end
        index += 1
    return tables


def _closing(tokens: list[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(tokens)):
        depth += tokens[index].nesting if tokens[index].type.startswith("table_") else 0
        if depth == 0:
            return index
    return len(tokens) - 1


def _table(tokens: list[Token], file: str, section: str | None, number: int,
           opening: Token) -> Table:
    header: list[list[Cell]] = []
    rows: list[list[Cell]] = []
    in_head = False
    for token in tokens:
        if token.type in ("thead_open", "thead_close"):
            in_head = token.type == "thead_open"
        elif token.type == "tr_open":
            (header if in_head else rows).append([])
        elif token.type == "inline":
            (header if in_head else rows)[-1].append(_cell(token))
    corner = header[0][0].text.strip() if header and header[0] else ""
    line = f"line {opening.map[0] + 1}" if opening.map else None
    return Table(label=corner or section or f"Table {number}", header=header, rows=rows,
                 file=file, section=section, where=line)


def _cell(inline: Token) -> Cell:
    children = inline.children or []
    kinds = {child.type for child in children if child.type.endswith("_open")}
    html = "".join(child.content for child in children if child.type == "html_inline")
    return Cell(_plain(inline), bold="strong_open" in kinds or "<b>" in html,
                underline="<u>" in html)


def _plain(inline: Token) -> str:
    """The text a reader sees: link and mark syntax gone, code spans kept."""
    parts = [" " if child.type in ("softbreak", "hardbreak") else child.content
             for child in inline.children or []
             if child.type in ("text", "code_inline", "softbreak", "hardbreak")]
    return " ".join("".join(parts).split())
