"""Tables of a PDF, found and read with pdfplumber.

pdfplumber finds a table from its ruling lines and gives each cell's box; a merged cell is
a box spanning several positions, the others being empty (None). Each such position takes
the text of the box that covers it, so a group header stands over each of its columns and a
merged label (a data set over its models) on each of its rows. A cell is
bold when its digits are set in a bold font, underlined when a rule runs under its text
inside the cell. The caption (a "Table N: ..." line next to the table) labels the table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber

from replikit.errors import ReplikitError
from replikit.extract.model import Cell, Table, parse_number

CAPTION = re.compile(r"^(Table|Tab\.)\s*(\d+)\s*[:.]\s*(.*)$")
CAPTION_DISTANCE = 60.0  # points between a table and its caption, at most


def read_tables(path: Path, display_name: str | None = None) -> list[Table]:
    """Every ruled table of the PDF at ``path``, page by page."""
    name = display_name or path.name
    try:
        pdf = pdfplumber.open(path)
    except Exception as exc:  # pdfminer raises many kinds for a broken file
        raise ReplikitError("cannot open the PDF", where=str(path), found=str(exc),
                            fix="check that the file is a PDF") from exc
    found: list[Table] = []
    with pdf:
        for page in pdf.pages:
            lines = page.extract_text_lines()
            for index, table in enumerate(page.find_tables(), start=1):
                found.append(_table(page, table, lines, name, index))
    return found


def _table(page, table, lines, name: str, index: int) -> Table:
    boxes = [(box, _cell(page, box)) for row in table.rows for box in row.cells if box]
    spans = [column.bbox for column in table.columns]
    grid = [[_covering(boxes, row.bbox, spans[k], box) for k, box in enumerate(row.cells)]
            for row in table.rows]
    split = next((k for k, row in enumerate(grid)
                  if any(parse_number(c.text) is not None for c in row[1:])), len(grid))
    where = f"page {page.page_number}"
    label = _caption(table.bbox, lines) or f"{where} table {index}"
    return Table(label=label, header=grid[:split], rows=grid[split:], file=name, where=where)


def _covering(boxes, row_box, column_box, box) -> Cell:
    """The cell at a position; for a merged position, the cell whose box covers it."""
    if box:
        return next(cell for b, cell in boxes if b == box)
    x, y = (column_box[0] + column_box[2]) / 2, (row_box[1] + row_box[3]) / 2
    for b, cell in boxes:
        if b[0] <= x <= b[2] and b[1] <= y <= b[3]:
            return cell
    return Cell("")


def _cell(page, box) -> Cell:
    region = page.within_bbox(box)
    text = " ".join((region.extract_text() or "").split())
    glyphs = [c for c in region.chars if c["text"].strip()]
    digits = [c for c in glyphs if c["text"].isdigit()] or glyphs
    bold = bool(digits) and "bold" in digits[0]["fontname"].lower()  # the value, not its ±
    return Cell(text, bold=bold, underline=_underlined(region, box, glyphs))


def _underlined(region, box, glyphs) -> bool:
    """A thin horizontal rule inside the cell, under its text (not a cell border)."""
    if not glyphs:
        return False
    left = min(c["x0"] for c in glyphs) - 1
    right = max(c["x1"] for c in glyphs) + 1
    baseline = max(c["bottom"] for c in glyphs)
    for rule in region.lines + region.rects:
        thin = abs(rule["bottom"] - rule["top"]) < 2
        inside = box[1] + 1 < rule["top"] < box[3] - 1
        under = rule["top"] >= baseline - 3 and rule["x0"] >= left and rule["x1"] <= right
        if thin and inside and under:
            return True
    return False


def _caption(bbox, lines) -> str | None:
    """The nearest "Table N: ..." line above or below the table, its first sentence."""
    best: tuple[float, str] | None = None
    for line in lines:
        match = CAPTION.match(line["text"].strip())
        if not match:
            continue
        distance = min(abs(line["top"] - bbox[3]), abs(bbox[1] - line["bottom"]))
        if distance <= CAPTION_DISTANCE and (best is None or distance < best[0]):
            text = match.group(3).split(". ")[0].rstrip(".")
            best = (distance, text or f"Table {match.group(2)}")
    return best[1] if best else None
