"""Tables whose corner cell names their axes: ``Dataset/AUROC``, ``Dataset/Metric``, ``Metric (↑)``.

A paper's table often says in its top-left cell what its rows are and, after a slash, what
its columns or its cells are. The three axes are the data set, the method and the metric:

- ``Dataset/AUROC``: a data set per row, the methods as columns, every cell an AUROC;
- ``Dataset/Metric``: row labels such as ``Adult / AUROC`` (a data set and a metric per
  row, the methods as columns); or, when the row labels hold no slash, a data set per row
  and a metric per column (a label column headed ``Method`` gives each row its method);
- ``Metric (↑)``: a metric per row, the methods as columns, higher is better.

An arrow (↑, ↓) in the corner or a column's header says the direction. A label column
whose header is no axis (``Domain``) describes its row; it is noted, never put in an id.
A corner that names no axis (``Movielens 100k``) labels the table instead; such a table
is read by :mod:`replikit.extract.candidates` as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from replikit.extract.model import (
    Candidate,
    Cell,
    Table,
    header_unit,
    parse_number,
    strip_unit,
)

AXES = {
    "dataset": {"dataset", "datasets", "data set", "data sets", "data", "task", "tasks",
                "benchmark", "benchmarks", "corpus"},
    "method": {"method", "methods", "model", "models", "algorithm", "algorithms",
               "approach", "approaches", "classifier", "classifiers", "system"},
    "metric": {"metric", "metrics", "measure", "measures", "score", "scores"},
}
_ARROWS = {"↑": True, "↓": False}
#: Words that make a column header a metric's name, when the corner does not say.
METRIC_WORDS = {"rmse", "mae", "mse", "acc", "accuracy", "auc", "auroc", "auprc", "f1", "ndcg",
                "hr", "recall", "precision", "map", "mrr", "bleu", "rouge", "loss", "error",
                "time", "runtime", "perplexity", "ppl", "fid", "wer", "cer", "r2", "score"}


@dataclass(frozen=True)
class Layout:
    """What a table's rows and columns are, and what its corner says of every cell."""

    rows: tuple[str, ...]  # the axes of a row label's parts (split at "/")
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


def read_corner(text: str, label_axes: list[str | None], split_rows: bool = False,
                metric_columns: bool = False) -> Layout | None:
    """The layout a corner cell gives, or None when it names no axis.

    ``label_axes`` are the axes the other label columns' headers name (None for one that
    names none), so the columns take the axis no label column holds. ``split_rows``: the
    row labels have as many "/"-parts as the corner, each part on the corner's axis.
    ``metric_columns``: every value column's header looks like a metric (RMSE, Time (s)).
    """
    cleaned, higher = direction(text)
    parts = [p for p in _split(cleaned) if p]
    if not parts or axis(parts[0]) is None:
        return None
    axes = [axis(p) for p in parts]
    if split_rows and len(parts) > 1 and all(axes) and len(set(axes)) == len(axes):
        free = [a for a in ("method", "metric", "dataset") if a not in axes]
        return Layout(tuple(axes), free[0] if free else "method", higher=higher)
    rows = (axes[0],)
    taken = {axes[0], *[a for a in label_axes if a]}
    if len(parts) > 1 and axes[1] is not None:
        return Layout(rows, axes[1], higher=higher)
    metric = parts[1] if len(parts) > 1 else None
    if metric or (metric_columns and "metric" not in taken):
        taken.add("metric")
        if not metric:
            return Layout(rows, "metric", higher=higher)
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
    corner = table.header[0][0].text
    parts = len(_split(direction(corner)[0]))
    split_rows = bool(table.rows) and all(len(_split(cell(row, 0).text)) == parts
                                          for row in table.rows)
    values = [cell(table.header[-1], j).text for j in range(label_columns(table), table.width)]
    metric_columns = bool(values) and all(looks_like_metric(v) for v in values)
    return read_corner(corner, [axis(h) for h in heads], split_rows, metric_columns)


def looks_like_metric(label: str) -> bool:
    """Whether a column header names a metric (``RMSE``, ``NDCG@10``, ``Time (s)``)."""
    if header_unit(label) or "@" in label:
        return True
    words = set(re.findall(r"[a-z0-9]+", direction(label)[0].lower()))
    return bool(words & METRIC_WORDS)


def _split(label: str) -> list[str]:
    return re.split(r"\s*[/\\]\s*", label.strip())


def row_label(row: list[Cell], header: list[Cell], labels: int) -> str:
    """The row's label: its first cell and those of the label columns that name an axis."""
    parts = [cell(row, 0).text.strip()]
    parts += [cell(row, j).text.strip() for j in range(1, labels) if axis(cell(header, j).text)]
    return " / ".join(dict.fromkeys(p for p in parts if p)) or "(unlabelled row)"


def place(candidate: Candidate, layout: Layout, row: list[Cell], header: list[Cell],
          labels: int) -> None:
    """Set the candidate's data set, method, metric and direction from the layout."""
    label = cell(row, 0).text.strip()
    values = _split(label) if len(layout.rows) > 1 else [label]
    coordinates = dict(zip(layout.rows, values, strict=True))
    for j in range(1, labels):
        named = axis(cell(header, j).text)
        text = cell(row, j).text.strip()
        if named and named not in coordinates:
            coordinates[named] = text
        elif text:
            candidate.notes.append(f"{cell(header, j).text.strip() or 'label'}: {text} "
                                   "(a label column that names no axis: not in the id)")
    header_text = candidate.metric_label if layout.columns == "metric" else candidate.column
    column, higher = direction(header_text or candidate.column)
    coordinates.setdefault(layout.columns, column)
    if layout.metric and "metric" not in coordinates:
        coordinates["metric"], higher = direction(layout.metric)[0], layout.higher
    candidate.dataset = coordinates.get("dataset")
    candidate.method = coordinates.get("method")
    metric, arrow = direction(coordinates.get("metric") or "")
    candidate.metric = strip_unit(metric) or None
    candidate.higher = next((h for h in (arrow, higher, layout.higher) if h is not None), None)
