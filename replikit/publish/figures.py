"""The report's figures, drawn from the claims ledger and the raw run values only.

Every figure here is a picture of numbers that were computed elsewhere (the ledger holds the
means, standard deviations, confidence intervals and verdicts); a figure never computes a
statistic. Output is deterministic: fixed sizes and resolution, the Agg backend, and no
software or time stamps in the PNG metadata, so the same ledger gives the same bytes.

Three figures:

* :func:`drift_figure` -- per claim, the measured values of each level against the reported
  value and its tolerance band, as a relative drift so that metrics of any scale share an axis;
* :func:`replikit.publish.verdict_grid.grid_figure` -- the verdict grid, claims by
  levels, coloured by verdict with the verdict's mark in each cell, in one figure;
* :func:`replikit.publish.variance_figure.seed_variance_figure` -- the spread of each
  level's measurements next to the claim's tolerance, which tells whether seed noise alone
  could decide a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from replikit.errors import ReplikitError  # noqa: E402
from replikit.fileio import atomic_path  # noqa: E402
from replikit.vocabulary import LEVELS, NOT_COMPARABLE  # noqa: E402

VERDICT_COLOURS = {
    "reproduced": "#7fc97f",
    "partially reproduced": "#fdd96a",
    "inconclusive": "#a6cee3",
    "not reproduced": "#f28e8e",
    # Grey-blue, never red: a number measured on other data or hardware is no failure.
    "not comparable": "#b8c4d6",
    "not run": "#d9d9d9",
}
NO_LEVEL_COLOUR = "#ffffff"
LEVEL_MARKERS = {"re-run": "o", "re-implement": "s", "generalize": "D"}
DPI = 150
ROW_INCHES = 0.28  # height of one claim row: two lines of 7-pt text with room to spare
MAX_ROWS_PER_PANEL = 36
CLIP_FACTOR = 8.0  # x-axis reaches at most this many widest tolerance bands from zero

REQUIRED_COLUMNS = ("claim_id", "level", "kind", "verdict")


# --------------------------------------------------------------------------- helpers
def _check_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReplikitError(
            f"the {what} lacks columns needed for the figure",
            expected=f"columns {list(columns)}",
            found=f"columns {list(frame.columns)} (missing {missing})",
            fix="pass the ledger read from results/<study>/claims.csv",
        )


def _level_palette(levels: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    colours = sns.color_palette("colorblind", n_colors=max(len(LEVELS), len(levels)))
    known = [lv for lv in LEVELS if lv in levels] + [lv for lv in levels if lv not in LEVELS]
    return {level: colours[LEVELS.index(level) if level in LEVELS else i]
            for i, level in enumerate(known)}


def _ordered_levels(levels: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(levels))
    return [lv for lv in LEVELS if lv in present] + [lv for lv in present if lv not in LEVELS]


def _claim_order(ledger: pd.DataFrame) -> list[str]:
    """Claims in ledger order (the manifest's order), each once."""
    return list(dict.fromkeys(ledger["claim_id"].astype(str)))


def balanced_chunks(items: list[str], size: int) -> list[list[str]]:
    """Split ``items`` into the fewest panels of at most ``size``, balanced in length."""
    if not items:
        return [[]]
    panels = math.ceil(len(items) / size)
    per = math.ceil(len(items) / panels)
    return [items[i:i + per] for i in range(0, len(items), per)]


def _save(fig: plt.Figure, path: str | Path) -> Path:
    """Write a PNG atomically with no metadata that changes from run to run."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def _relative(values: pd.Series | np.ndarray | float, reported: float) -> np.ndarray:
    """Signed distance from the reported value, in percent of it (display transform only)."""
    return (np.asarray(values, dtype=float) - reported) / abs(reported) * 100.0


def _empty_figure(message: str, path: str | Path) -> Path:
    with sns.axes_style("white"):
        fig, ax = plt.subplots(figsize=(6.5, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=9, wrap=True)
    return _save(fig, path)


# --------------------------------------------------------------------------- drift
def value_rows(ledger: pd.DataFrame) -> pd.DataFrame:
    """Rows of value claims with a reported number, for claims measured at some level.

    A level measured on other data or another protocol ("not comparable") has no drift
    from the reported value worth drawing, so it is left out; a claim with no comparable
    measured level would only add an empty band, so it is left out too; the report names
    the claims left out.
    """
    rows = ledger[(ledger["kind"] == "value") & ledger["reported"].notna()
                  & (ledger["verdict"] != NOT_COMPARABLE)]
    rows = rows[rows["reported"].astype(float) != 0.0]
    measured = set(rows.loc[rows["mean"].notna(), "claim_id"])
    return rows[rows["claim_id"].isin(measured)]


def drift_figure(
    ledger: pd.DataFrame,
    samples: pd.DataFrame,
    path: str | Path,
    *,
    max_rows: int = MAX_ROWS_PER_PANEL,
) -> Path:
    """Draw each value claim's measured values against the reported value and its band.

    One row per claim; the levels sit side by side within the row, each in its own colour
    and marker. Small dots are the individual measurements (per fold or per seed, as given
    in ``samples``); the large marker is the ledger's mean with its 95% confidence interval;
    the grey box is the tolerance band. The x axis is the drift from the reported value in
    percent of it, so claims on different metrics share one axis. Points beyond the axis
    are drawn at its edge as arrows and labelled with their value.

    Parameters
    ----------
    ledger
        The claims ledger (``results/<study>/claims.csv``): needs claim_id, level, kind,
        reported, mean, ci_low, ci_high, band_low, band_high, verdict.
    samples
        The individual measurements: columns claim_id, level, value (and optionally seed,
        fold). May be empty.
    path
        Where the PNG goes; written atomically.
    max_rows
        Claims per panel; more claims are laid out in panels side by side.

    Returns
    -------
    Path
        ``path``.
    """
    _check_columns(ledger, REQUIRED_COLUMNS + ("reported", "mean", "ci_low", "ci_high",
                                               "band_low", "band_high"), "ledger")
    rows = value_rows(ledger)
    if rows.empty:
        return _empty_figure("No value claim has a measured value to draw.", path)
    claims = _claim_order(rows)
    levels = _ordered_levels(rows["level"].astype(str))
    palette = _level_palette(levels)
    limit = _drift_limit(rows, samples)
    panels = balanced_chunks(claims, max_rows)
    height = ROW_INCHES * max(len(p) for p in panels) + 1.8
    width = 7.0 if len(panels) == 1 else 5.2 * len(panels)
    sns.set_theme(style="whitegrid", context="paper", font_scale=0.9)
    fig, axes = plt.subplots(1, len(panels), figsize=(width, height), squeeze=False,
                             sharex=True)
    for ax, panel in zip(axes[0], panels, strict=True):
        _draw_drift_panel(ax, rows, samples, panel, levels, palette, limit)
    axes[0][0].set_ylabel("")
    fig.supxlabel("drift from the reported value (% of the reported value)", fontsize=8)
    handles = _drift_legend(levels, palette)
    ncol = len(handles) if width >= 10 else math.ceil(len(handles) / 2)
    fig.legend(handles=handles, loc="upper center", ncol=ncol, fontsize=7, frameon=False,
               bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.3 if ncol == len(handles) else 0.5) / height))
    return _save(fig, path)


def _drift_limit(rows: pd.DataFrame, samples: pd.DataFrame) -> float:
    """Half-width of the x axis: everything, unless an outlier would squash the bands."""
    widths = [abs(v) for _, r in rows.iterrows()
              for v in _relative([r["band_low"], r["band_high"]], float(r["reported"]))
              if np.isfinite(v)]
    widest_band = max(widths, default=1.0) or 1.0
    values = [abs(v) for _, r in rows.iterrows()
              for v in _relative([r["mean"], r["ci_low"], r["ci_high"]], float(r["reported"]))
              if np.isfinite(v)]
    values += [abs(v) for v in _sample_drifts(rows, samples) if np.isfinite(v)]
    needed = max(values + [widest_band]) * 1.1
    return float(min(needed, CLIP_FACTOR * widest_band))


def _sample_drifts(rows: pd.DataFrame, samples: pd.DataFrame) -> list[float]:
    if samples is None or samples.empty:
        return []
    reported = rows.set_index(["claim_id", "level"])["reported"].astype(float)
    merged = samples.join(reported, on=["claim_id", "level"], how="inner")
    drift = (merged["value"].astype(float) - merged["reported"]) / merged["reported"].abs()
    return list(drift * 100.0)


def _draw_drift_panel(ax, rows, samples, claims, levels, palette, limit) -> None:
    offsets = _level_offsets(levels)
    for y, claim_id in enumerate(claims):
        claim_rows = rows[rows["claim_id"].astype(str) == claim_id]
        reported = float(claim_rows["reported"].iloc[0])
        band = claim_rows[["band_low", "band_high"]].dropna()
        if not band.empty:
            low, high = _relative(band.iloc[0].to_numpy(dtype=float), reported)
            ax.add_patch(plt.Rectangle((low, y - 0.42), high - low, 0.84, color="#bdbdbd",
                                       alpha=0.45, lw=0, zorder=1))
        for _, row in claim_rows.iterrows():
            level = str(row["level"])
            yy = y + offsets[level]
            _draw_samples(ax, samples, claim_id, level, reported, yy, palette[level], limit)
            _draw_mean(ax, row, reported, yy, palette[level], LEVEL_MARKERS.get(level, "^"),
                       limit)
    ax.axvline(0.0, color="#333333", lw=0.8, zorder=2)
    ax.set_xlim(-limit, limit)
    _claim_rows_axis(ax, claims)


def _claim_rows_axis(ax, claims: list[str]) -> None:
    """One row per claim, top to bottom, with thin separators between rows."""
    ax.set_ylim(len(claims) - 0.5, -0.5)
    ax.set_yticks(range(len(claims)), claims, fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="y", visible=False)
    for y in range(len(claims) - 1):
        ax.axhline(y + 0.5, color="#eeeeee", lw=0.6, zorder=0)


def _level_offsets(levels: list[str]) -> dict[str, float]:
    spread = 0.26 if len(levels) > 1 else 0.0
    centre = (len(levels) - 1) / 2
    return {level: (i - centre) * spread for i, level in enumerate(levels)}


def _draw_samples(ax, samples, claim_id, level, reported, y, colour, limit) -> None:
    if samples is None or samples.empty:
        return
    mine = samples[(samples["claim_id"].astype(str) == claim_id)
                   & (samples["level"].astype(str) == level)]
    if mine.empty:
        return
    x = _relative(mine["value"].to_numpy(dtype=float), reported)
    inside = np.abs(x) <= limit
    ax.scatter(x[inside], np.full(inside.sum(), y), s=7, color=colour, alpha=0.55, lw=0,
               zorder=3)
    _draw_clipped(ax, x[~inside], y, colour, limit, annotate=False)


def _draw_mean(ax, row, reported, y, colour, marker, limit) -> None:
    if pd.isna(row["mean"]):
        ax.text(0.0, y, "  not run" if row["verdict"] == "not run" else "  no value",
                fontsize=6, va="center", ha="left", color="#555555", zorder=4)
        return
    mean = float(_relative(float(row["mean"]), reported))
    if not pd.isna(row["ci_low"]) and not pd.isna(row["ci_high"]):
        low, high = _relative([float(row["ci_low"]), float(row["ci_high"])], reported)
        ax.plot([max(low, -limit), min(high, limit)], [y, y], color=colour, lw=1.4, zorder=4)
    if abs(mean) <= limit:
        ax.scatter([mean], [y], s=26, marker=marker, color=colour, edgecolor="black",
                   lw=0.6, zorder=5)
    else:
        _draw_clipped(ax, np.array([mean]), y, colour, limit, annotate=True)


def _draw_clipped(ax, x: np.ndarray, y: float, colour, limit: float, annotate: bool) -> None:
    """Points outside the axis: an arrow at the edge, optionally labelled with the value."""
    for value in x:
        edge = limit * 0.985 * np.sign(value)
        ax.scatter([edge], [y], marker=">" if value > 0 else "<", s=30, color=colour,
                   edgecolor="black", lw=0.5, zorder=5)
        if annotate:
            ax.text(edge - np.sign(value) * limit * 0.04, y, f"{value:+.1f}%", fontsize=6,
                    va="center", ha="right" if value > 0 else "left", zorder=6)


def _drift_legend(levels: list[str], palette) -> list:
    handles = [Line2D([], [], marker=LEVEL_MARKERS.get(lv, "^"), color=palette[lv],
                      markeredgecolor="black", lw=1.4, label=f"{lv}: mean, 95% CI")
               for lv in levels]
    handles.append(Line2D([], [], marker="o", color="#777777", lw=0, markersize=3,
                          label="single fold / seed"))
    handles.append(Patch(color="#bdbdbd", alpha=0.45, label="tolerance band"))
    return handles


# --------------------------------------------------------------------------- matrix
def verdict_matrix(ledger: pd.DataFrame) -> pd.DataFrame:
    """The verdicts as a claims-by-levels table; '' where a claim has no such level."""
    _check_columns(ledger, REQUIRED_COLUMNS, "ledger")
    levels = _ordered_levels(ledger["level"].astype(str))
    matrix = ledger.pivot_table(index="claim_id", columns="level", values="verdict",
                                aggfunc="first", sort=False)
    matrix = matrix.reindex(index=_claim_order(ledger), columns=levels).fillna("")
    matrix.index.name = "claim_id"
    matrix.columns.name = None
    return matrix
