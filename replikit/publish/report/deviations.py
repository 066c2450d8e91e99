"""The deviations section: where this study departs from the paper, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.publish.report.common import write_csv
from replikit.publish.text import markdown_table
from replikit.results import Results
from replikit.study import Study


def _deviation_table(study: Study) -> pd.DataFrame:
    return pd.DataFrame({
        "what": [d.what for d in study.deviations],
        "kind": [d.kind for d in study.deviations],
        "why": [d.reason for d in study.deviations],
        "claims": [", ".join(d.claims) if d.claims else "all" for d in study.deviations],
    }, columns=["what", "kind", "why", "claims"])


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    source = write_csv(_deviation_table(study), out / "tables" / "deviations.csv")
    return {
        "sources": {"deviations": source},
        "deviation_table": markdown_table(_deviation_table(study), f"Deviations from the "
                                          f"paper. Source: `{source}`.")
        if study.deviations else "",
    }
