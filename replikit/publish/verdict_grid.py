"""The verdict grid: every claim's verdict at every level in one compact figure.

Rows are claims, grouped under the first part of their id (``100k-svd-rmse`` under
``100k``), columns are levels; a cell is coloured by its verdict and carries the verdict's
mark (:data:`VERDICT_MARKS`, the marks the report's results table uses too), so the grid
reads the same in black and white. Long studies flow into side-by-side columns of the same
figure, sized so that about 120 claims fit on one printed page.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from replikit.publish.figures import (
    DPI,
    NO_LEVEL_COLOUR,
    VERDICT_COLOURS,
    _empty_figure,
    _save,
    plt,
    sns,
    verdict_matrix,
)
from replikit.vocabulary import (
    INCONCLUSIVE,
    NOT_COMPARABLE,
    NOT_REPRODUCED,
    NOT_RUN,
    PARTIAL,
    REPRODUCED,
    VERDICTS,
)

VERDICT_MARKS = {REPRODUCED: "✓", PARTIAL: "≈", INCONCLUSIVE: "?", NOT_REPRODUCED: "✗",
                 NOT_COMPARABLE: "○", NOT_RUN: "–"}
ROW_INCHES = 0.15       # one claim row: 6-pt labels
ROWS_PER_COLUMN = 48    # then the grid flows into another column of the same figure
CELL_INCHES = 0.62      # width of one level's column


def claim_groups(claim_ids: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(group, [(claim id, label), ...]), ...]`` by the first part of the id.

    The ids are grouped only when that groups them (two groups or more, and on average two
    claims or more in each); otherwise one unnamed group holds every id as its own label.

    >>> claim_groups(["100k-svd-rmse", "1m-svd-rmse", "100k-svd-mae", "1m-svd-mae"])
    [('100k', [('100k-svd-rmse', 'svd-rmse'), ('100k-svd-mae', 'svd-mae')]), \
('1m', [('1m-svd-rmse', 'svd-rmse'), ('1m-svd-mae', 'svd-mae')])]
    >>> claim_groups(["a", "b"])
    [('', [('a', 'a'), ('b', 'b')])]
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    for claim_id in claim_ids:
        head, _, rest = claim_id.partition("-")
        groups.setdefault(head if rest else "", []).append((claim_id, rest or claim_id))
    if not 2 <= len(groups) <= len(claim_ids) / 2 or "" in groups:
        return [("", [(c, c) for c in claim_ids])]
    return list(groups.items())


def _layout(matrix: pd.DataFrame) -> list[list[tuple[str, str | None]]]:
    """Rows as (label, claim id or None for a group heading), flowed into columns."""
    rows: list[tuple[str, str | None]] = []
    for group, members in claim_groups(list(matrix.index)):
        if group:
            rows.append((group, None))
        rows += [(label, claim_id) for claim_id, label in members]
    columns = math.ceil(len(rows) / ROWS_PER_COLUMN)
    per = math.ceil(len(rows) / columns)
    return [rows[i:i + per] for i in range(0, len(rows), per)]


def grid_figure(ledger: pd.DataFrame, path: str | Path) -> Path:
    """Draw the verdict grid of the whole ledger as one PNG (see the module's docstring)."""
    matrix = verdict_matrix(ledger)
    if matrix.empty:
        return _empty_figure("The ledger has no claims.", path)
    levels = list(matrix.columns)
    columns = _layout(matrix)
    label_in = 0.055 * max(len(label) for col in columns for label, _ in col) + 0.15
    width = max((label_in + CELL_INCHES * len(levels)) * len(columns) + 0.2, 3.6)
    ncol = 6 if width >= 6.5 else 2
    legend_in = 0.14 * math.ceil(len(VERDICTS) / ncol) + 0.1
    height = ROW_INCHES * max(len(col) for col in columns) + 0.35 + legend_in
    codes = {v: i for i, v in enumerate(VERDICTS)}
    cmap = ListedColormap([VERDICT_COLOURS[v] for v in VERDICTS] + [NO_LEVEL_COLOUR])
    sns.set_theme(style="white", context="paper")
    fig, axes = plt.subplots(1, len(columns), figsize=(width, height), squeeze=False,
                             dpi=DPI)
    for ax, rows in zip(axes[0], columns, strict=True):
        cells = [[matrix.at[c, lv] if c is not None else None for lv in levels]
                 for _, c in rows]
        values = np.array([[codes.get(v, len(VERDICTS)) if v is not None else np.nan
                            for v in row] for row in cells], dtype=float)
        marks = np.array([[VERDICT_MARKS.get(v, "") if v else "" for v in row]
                          for row in cells], dtype=object)
        sns.heatmap(values, ax=ax, cmap=cmap, vmin=-0.5, vmax=len(VERDICTS) + 0.5,
                    cbar=False, annot=marks, fmt="", linewidths=0.6, linecolor="white",
                    annot_kws={"fontsize": 6, "color": "#222222"},
                    xticklabels=levels, yticklabels=[label for label, _ in rows])
        ax.xaxis.tick_top()
        ax.tick_params(length=0, labelsize=6)
        ax.set_xticklabels(levels, rotation=0, fontsize=6)
        for tick, (_, claim_id) in zip(ax.get_yticklabels(), rows, strict=True):
            tick.set_fontweight("bold" if claim_id is None else "normal")
            tick.set_fontsize(6.5 if claim_id is None else 6)
    handles = [Patch(facecolor=VERDICT_COLOURS[v], edgecolor="#888888",
                     label=f"{VERDICT_MARKS[v]} {v}") for v in VERDICTS]
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=6, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, legend_in / height, 1, 1))
    return _save(fig, path)


__all__ = ["VERDICT_MARKS", "claim_groups", "grid_figure"]
