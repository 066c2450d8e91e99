"""The seed-variance figure: each level's spread in units of the claim's tolerance.

It shares the claim-per-row layout and the palette of :mod:`replikit.publish.figures`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch

from replikit.publish.figures import (
    MAX_ROWS_PER_PANEL,
    REQUIRED_COLUMNS,
    ROW_INCHES,
    _check_columns,
    _claim_order,
    _claim_rows_axis,
    _empty_figure,
    _level_offsets,
    _level_palette,
    _ordered_levels,
    _save,
    balanced_chunks,
)


def seed_variance_figure(
    ledger: pd.DataFrame, path: str | Path, *, max_rows: int = MAX_ROWS_PER_PANEL
) -> Path:
    """Draw each level's standard deviation in units of the claim's tolerance half-width.

    A bar of 1 means the measurements scatter as widely as the tolerance allows: the
    verdict of such a claim could change with the seeds alone. Only rows with
    n >= 2 and a tolerance band are drawn.

    Parameters
    ----------
    ledger
        The claims ledger; needs claim_id, level, kind, n, sd, band_low, band_high.
    path
        Where the PNG goes; written atomically.
    max_rows
        Bars per panel.

    Returns
    -------
    Path
        ``path``.
    """
    _check_columns(ledger, REQUIRED_COLUMNS + ("n", "sd", "band_low", "band_high"), "ledger")
    rows = ledger[ledger["sd"].notna() & ledger["band_low"].notna() & ledger["band_high"].notna()
                  & (ledger["n"].fillna(0).astype(float) >= 2)].copy()
    half_width = (rows["band_high"].astype(float) - rows["band_low"].astype(float)) / 2
    rows = rows[half_width > 0]
    if rows.empty:
        return _empty_figure("No level has two or more measurements and a tolerance band.",
                             path)
    rows["ratio"] = rows["sd"].astype(float) / ((rows["band_high"].astype(float)
                                                 - rows["band_low"].astype(float)) / 2)
    claims = _claim_order(rows)
    levels = _ordered_levels(rows["level"].astype(str))
    palette = _level_palette(levels)
    panels = balanced_chunks(claims, max_rows)
    height = ROW_INCHES * max(len(p) for p in panels) + 1.5
    top = max(1.2, float(rows["ratio"].max()) * 1.08)
    sns.set_theme(style="whitegrid", context="paper", font_scale=0.9)
    fig, axes = plt.subplots(1, len(panels), figsize=(7.0 if len(panels) == 1 else
                                                      5.2 * len(panels), height),
                             squeeze=False, sharex=True)
    for ax, panel in zip(axes[0], panels, strict=True):
        _draw_variance_panel(ax, rows, panel, levels, palette, top)
    fig.supxlabel("standard deviation of the measurements / tolerance half-width "
                  "(dashed: equal)", fontsize=8)
    handles = [Patch(color=palette[lv], label=lv) for lv in levels]
    fig.legend(handles=handles, loc="upper center", ncol=len(levels), fontsize=7,
               frameon=False, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / height))
    return _save(fig, path)


def _draw_variance_panel(ax, rows, claims, levels, palette, top) -> None:
    offsets = _level_offsets(levels)
    for y, claim_id in enumerate(claims):
        for _, row in rows[rows["claim_id"].astype(str) == claim_id].iterrows():
            level = str(row["level"])
            ax.barh(y + offsets[level], row["ratio"], height=0.25, color=palette[level],
                    zorder=3)
    ax.axvline(1.0, color="#b22222", lw=0.9, ls="--", zorder=4)
    ax.set_xlim(0, top)
    _claim_rows_axis(ax, claims)
