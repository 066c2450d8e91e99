"""The figures section: draw every figure, one image per printed page, and size it."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import pandas as pd

from replikit.publish import figures
from replikit.publish.variance_figure import seed_variance_figure
from replikit.publish.verdict_grid import grid_figure
from replikit.results import Results
from replikit.study import Study

CLAIMS_PER_FIGURE = 22  # keeps a one-panel figure legible within one A4 page
TEXT_WIDTH_IN = 6.7  # A4 with 2 cm margins, as set in _quarto.yml and by render.py
MAX_FIGURE_HEIGHT_IN = 8.4


def _png_size_inches(path: Path) -> tuple[float, float]:
    """Width and height of a PNG in inches at the figures' resolution (from its header)."""
    with path.open("rb") as handle:
        header = handle.read(24)
    width, height = struct.unpack(">II", header[16:24])
    return width / figures.DPI, height / figures.DPI


def _figure_width(path: Path) -> str:
    """The width attribute that keeps a figure within one printed page."""
    width, height = _png_size_inches(path)
    shown = min(TEXT_WIDTH_IN, width)
    if shown / width * height > MAX_FIGURE_HEIGHT_IN:
        shown = MAX_FIGURE_HEIGHT_IN / height * width
    return f"{round(shown / TEXT_WIDTH_IN * 100)}%"


def _draw_figures(ledger: pd.DataFrame, samples: pd.DataFrame, out: Path) -> dict[str, list]:
    """Draw every figure, splitting long claim lists over several images (one per page)."""
    made: dict[str, list] = {"matrix": [], "drift": [], "seed_variance": []}
    value_claims = list(dict.fromkeys(figures.value_rows(ledger)["claim_id"]))
    value_groups = figures.balanced_chunks(value_claims, CLAIMS_PER_FIGURE)
    # One grid for every claim: it flows into columns rather than onto more pages.
    path = grid_figure(ledger, out / "figures" / "matrix-1.png")
    made["matrix"].append(_figure_entry(path, 1, 1, []))
    for i, group in enumerate(value_groups, 1):
        part = ledger[ledger["claim_id"].isin(group)]
        path = out / "figures" / f"drift-{i}.png"
        figures.drift_figure(part, samples[samples["claim_id"].isin(group)], path,
                             max_rows=CLAIMS_PER_FIGURE)
        made["drift"].append(_figure_entry(path, i, len(value_groups), group))
        path = out / "figures" / f"seed-variance-{i}.png"
        seed_variance_figure(part, path, max_rows=CLAIMS_PER_FIGURE)
        made["seed_variance"].append(_figure_entry(path, i, len(value_groups), group))
    _remove_stale_figures(out / "figures", {e["path"] for kind in made.values() for e in kind})
    return made


def _remove_stale_figures(folder: Path, current: set[str]) -> None:
    """Drop figure parts left by an earlier, longer report (e.g. matrix-3.png of 3)."""
    for path in folder.glob("*.png"):
        if re.fullmatch(r"(matrix|drift|seed-variance)-\d+\.png", path.name) and \
                f"figures/{path.name}" not in current:
            path.unlink()


def _figure_entry(path: Path, index: int, total: int, group: list[str]) -> dict[str, str]:
    span = (f" (part {index} of {total}: `{group[0]}` to `{group[-1]}`)"
            if total > 1 and group else "")
    return {"path": f"figures/{path.name}", "id": path.stem, "width": _figure_width(path),
            "part": span}


def unmeasured_value_claims(ledger: pd.DataFrame) -> list[str]:
    """Value claims with no measured mean at any level (left out of the drift figures)."""
    values = ledger[ledger["kind"] == "value"]
    shown = set(figures.value_rows(ledger)["claim_id"])
    return [c for c in dict.fromkeys(values["claim_id"]) if c not in shown]


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    return {"figures": _draw_figures(results.ledger, results.samples, out),
            "unmeasured": unmeasured_value_claims(results.ledger)}
