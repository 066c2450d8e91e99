"""The peer-library section: our experiments' figures beside a peer library's on the same data.

A baseline is only worth beating if it is as good as the field's maintained library makes
it. The study names, under ``report: {peers: [...]}``, each figure a peer library reached
(:class:`replikit.study.model.PeerFigure`); the figure is read from the file the bench that
ran the peer wrote (never typed into the manifest), and set beside our mean over seeds and
its 95% interval, with whether ours reaches it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.evaluate.stats import summarize
from replikit.numbers import DASH, fmt_number
from replikit.publish.report.common import write_csv
from replikit.publish.text import markdown_table, md_escape
from replikit.results import Results
from replikit.study import Study
from replikit.study.model import PeerFigure
from replikit.study.peers import peer_figures

COLUMNS = ["experiment", "metric", "ours (mean)", "ours 95% CI", "seeds", "library",
           "peer figure", "peer rows", "ours reaches it", "how the peer ran"]


def peer_table(study: Study, results: Results) -> pd.DataFrame:
    """One row per peer figure: ours (mean, CI, seeds) beside the peer's figure."""
    rows = []
    for peer, (figure, n_rows) in zip(study.report.peers, peer_figures(study), strict=True):
        ours = _our_values(results, peer)
        summary = summarize(ours) if ours else None
        rows.append({
            "experiment": peer.experiment, "metric": peer.metric,
            "ours (mean)": fmt_number(summary.mean, significant=4) if summary else DASH,
            "ours 95% CI": _interval(summary) if summary else DASH,
            "seeds": len(ours), "library": peer.library,
            "peer figure": fmt_number(figure, significant=4), "peer rows": n_rows,
            "ours reaches it": _reaches(summary, figure, peer),
            "how the peer ran": peer.how,
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def _our_values(results: Results, peer: PeerFigure) -> list[float]:
    return [float(run["metrics"][peer.metric]) for run in results.runs
            if run.get("experiment") == peer.experiment and run.get("status") == "ok"
            and peer.metric in (run.get("metrics") or {})]


def _interval(summary) -> str:
    if summary.n < 2:
        return DASH
    low, high = (fmt_number(v, significant=4) for v in (summary.ci_low, summary.ci_high))
    return f"[{low}, {high}]"


def _reaches(summary, figure: float, peer: PeerFigure) -> str:
    """Whether our mean is at least as good as the peer's figure (no run: a dash)."""
    if summary is None:
        return DASH
    better = summary.mean >= figure if peer.higher_is_better else summary.mean <= figure
    return "yes" if better else "no"


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    if not study.report.peers:
        return {"peer_table": "", "peer_text": ""}
    table = peer_table(study, results)
    source = write_csv(table, out / "tables" / "peers.csv")
    short = table[table["ours reaches it"] == "no"]
    missed = [md_escape(f"{row['experiment']} ({row['metric']})") for _, row in short.iterrows()]
    text = ("Each of our experiments reaches its peer's figure." if not missed else
            "Ours falls short of the peer's figure for: " + ", ".join(missed) + ".")
    return {
        "sources": {"peers": source},
        "peer_text": text,
        "peer_table": markdown_table(table, f"Our experiments beside a peer library's figure "
                                     f"on the same data and protocol. Source: `{source}`."),
    }
