"""Tables whose corner cell names their axes: ``Dataset/AUROC``, ``Dataset/Metric``, ``Metric (↑)``.

A paper's table often says in its top-left cell what its rows are and, after a slash, what
its columns or its cells are. The three axes are the data set, the method and the metric:

- ``Dataset/AUROC``: a data set per row, the methods as columns, every cell an AUROC;
- ``Dataset/Metric``: a data set per row, a metric per column (a label column headed
  ``Method`` gives each row its method);
- ``Metric (↑)``: a metric per row, the methods as columns, higher is better.

An arrow (↑, ↓) in the corner or a column's header says the direction. A label column
whose header is no axis (``Domain``) describes its row; it is noted, never put in an id.
A corner that names no axis (``Movielens 100k``) labels the table instead; such a table
is read by :mod:`replikit.extract.candidates` as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from replikit.extract.model import Candidate, Cell, Table, parse_number, strip_unit

AXES = {
    "dataset": {"dataset", "datasets", "data set", "data sets", "data", "task", "tasks",
                "benchmark", "benchmarks", "corpus"},
    "method": {"method", "methods", "model", "models", "algorithm", "algorithms",
               "approach", "approaches", "classifier", "classifiers", "system"},
    "metric": {"metric", "metrics", "measure", "measures", "score", "scores"},
}
_ARROWS = {"↑": True, "↓": False}


@dataclass(frozen=True)
class Layout:
    """What a table's rows and columns are, and what its corner says of every cell."""

    rows: str
    columns: str
    metric: str | None = None   # the cells' metric, when the corner names it (AUROC)
    higher: bool | None = None  # the corner's arrow


def axis(text: str) -> str | None:
    """The axis a label names (``Datasets`` -> ``dataset``), or None."""
    word = " ".join(re.sub(r"[^a-z ]+", " ", text.lower()).split())
    return next((name for name, words in AXES.items() if word in words), None)


def direction(text: str) -> tuple[str, bool | None]:
    """A label without its arrow, and the direction the arrow gives (None: no arrow)."""
    higher = next((up for arrow, up in _ARROWS.items() if arrow in text), None)
    cleaned = re.sub(r"\(\s*[↑↓]\s*\)|[↑↓]", "", text)
    return " ".join(cleaned.split()), higher


def read_corner(text: str, label_axes: list[str | None]) -> Layout | None:
    """The layout a corner cell gives, or None when it names no axis.

    ``label_axes`` are the axes the other label columns' headers name (None for one that
    names none), so the columns take the axis no label column holds.
    """
    cleaned, higher = direction(text)
    parts = [p for p in re.split(r"\s*[/\\]\s*", cleaned) if p]
    if not parts or axis(parts[0]) is None:
        return None
    rows = axis(parts[0])
    taken = {rows, *[a for a in label_axes if a]}
    if len(parts) > 1 and axis(parts[1]) is not None:
        return Layout(rows, axis(parts[1]), higher=higher)
    metric = parts[1] if len(parts) > 1 else None
    if metric:
        taken.add("metric")
    free = [a for a in ("method", "metric", "dataset") if a not in taken]
    return Layout(rows, free[0] if free else "method", metric, higher)


def label_columns(table: Table) -> int:
    """How many leading columns hold labels: those where no body cell is a number."""
    for column in range(table.width):
        if any(parse_number(cell(row, column).text) is not None for row in table.rows):
            return max(1, column)
    return 1


def cell(row: list[Cell], column: int) -> Cell:
    return row[column] if column < len(row) else Cell("")


def table_layout(table: Table) -> Layout | None:
    """The layout of ``table`` when its corner cell names its axes."""
    if not table.header or not table.header[0]:
        return None
    heads = [cell(table.header[-1], j).text for j in range(1, label_columns(table))]
    return read_corner(table.header[0][0].text, [axis(h) for h in heads])


def place(candidate: Candidate, layout: Layout, row: list[Cell], header: list[Cell],
          labels: int) -> None:
    """Set the candidate's data set, method, metric and direction from the layout."""
    coordinates = {layout.rows: cell(row, 0).text.strip()}
    for j in range(1, labels):
        named = axis(cell(header, j).text)
        text = cell(row, j).text.strip()
        if named and named not in coordinates:
            coordinates[named] = text
        elif text:
            candidate.notes.append(f"{cell(header, j).text.strip() or 'label'}: {text} "
                                   "(a label column that names no axis: not in the id)")
    column, higher = direction(candidate.column)
    coordinates.setdefault(layout.columns, column)
    if layout.metric and "metric" not in coordinates:
        coordinates["metric"], higher = direction(layout.metric)[0], layout.higher
    candidate.dataset = coordinates.get("dataset")
    candidate.method = coordinates.get("method")
    metric, arrow = direction(coordinates.get("metric") or "")
    candidate.metric = strip_unit(metric) or None
    candidate.higher = next((h for h in (arrow, higher, layout.higher) if h is not None), None)
