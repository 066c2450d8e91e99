"""The peer-library section: our experiments' figures beside a peer library's, where comparable.

A baseline is only worth beating if it is as good as the field's maintained library makes
it. The study names, under ``report: {peers: [...]}``, each figure a peer library reached
(:class:`replikit.study.model.PeerFigure`); the figure is read from the file the bench that
ran the peer wrote (never typed into the manifest), with the ``protocol`` mapping it was
measured under. Ours is our mean over seeds and its 95% interval, with the mapping our runs
recorded for that metric (``extra.protocol``). The two are set against each other only
where the mappings are equal key by key (:func:`replikit.study.comparable.differing_keys`,
the rule the claims ledger applies to data set and protocol); otherwise the row says
"not comparable" and names the keys that differ.
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
from replikit.study.comparable import differing_keys
from replikit.study.model import PeerFigure
from replikit.study.peers import PeerValue, peer_figures

COLUMNS = ["experiment", "metric", "ours (mean)", "ours 95% CI", "seeds", "library",
           "peer figure", "peer rows", "ours reaches it", "how the peer ran"]
HOW = COLUMNS[-1]
NOT_COMPARABLE = "not comparable"


def peer_table(study: Study, results: Results) -> pd.DataFrame:
    """One row per peer figure: ours (mean, CI, seeds) beside the peer's, if comparable."""
    rows = []
    for peer, value in zip(study.report.peers, peer_figures(study), strict=True):
        runs = _our_runs(results, peer)
        ours = [float(run["metrics"][peer.metric]) for run in runs]
        summary = summarize(ours) if ours else None
        rows.append({
            "experiment": peer.experiment, "metric": peer.metric,
            "ours (mean)": fmt_number(summary.mean, significant=4) if summary else DASH,
            "ours 95% CI": _interval(summary) if summary else DASH,
            "seeds": len(ours), "library": peer.library,
            "peer figure": fmt_number(value.figure, significant=4), "peer rows": value.rows,
            "ours reaches it": _verdict(summary, value, peer, runs),
            "how the peer ran": peer.how,
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def _our_runs(results: Results, peer: PeerFigure) -> list[dict[str, Any]]:
    return [run for run in results.runs
            if run.get("experiment") == peer.experiment and run.get("status") == "ok"
            and peer.metric in (run.get("metrics") or {})]


def protocol_differences(runs: list[dict[str, Any]], metric: str, peer: PeerValue) -> list[str]:
    """The protocol keys on which any of our runs differs from the peer's figure."""
    keys: list[str] = []
    for run in runs:
        ours = ((run.get("extra") or {}).get("protocol") or {}).get(metric) or {}
        keys += [k for k in differing_keys(ours, peer.protocol) if k not in keys]
    return keys


def _verdict(summary, value: PeerValue, peer: PeerFigure, runs: list[dict[str, Any]]) -> str:
    """Whether our mean is at least as good as the peer's; a dash without runs of ours."""
    if summary is None:
        return DASH
    differ = protocol_differences(runs, peer.metric, value)
    if differ or not value.protocol:
        return f"{NOT_COMPARABLE}: " + (", ".join(differ) or "the peer records no protocol")
    better = summary.mean >= value.figure if peer.higher_is_better else (
        summary.mean <= value.figure)
    return "yes" if better else "no"


def _interval(summary) -> str:
    if summary.n < 2:
        return DASH
    low, high = (fmt_number(v, significant=4) for v in (summary.ci_low, summary.ci_high))
    return f"[{low}, {high}]"


def summary_text(table: pd.DataFrame) -> str:
    """Which comparable experiments fall short, and which comparisons were refused."""
    label = lambda row: md_escape(f"{row['experiment']} ({row['metric']})")  # noqa: E731
    verdicts = table["ours reaches it"]
    short = [label(row) for _, row in table[verdicts == "no"].iterrows()]
    refused = [label(row) for _, row in table[verdicts.str.startswith(NOT_COMPARABLE)]
               .iterrows()]
    comparable = int(verdicts.isin(["yes", "no"]).sum())
    parts = []
    if comparable:
        parts.append("Each comparable experiment reaches its peer's figure." if not short else
                     "Ours falls short of the peer's figure for: " + ", ".join(short) + ".")
    if refused:
        parts.append("Not compared, because the two were measured under different protocols "
                     "(the table names the keys): " + ", ".join(refused) + ".")
    return " ".join(parts)


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    if not study.report.peers:
        return {"peer_table": "", "peer_text": ""}
    table = peer_table(study, results)
    source = write_csv(table, out / "tables" / "peers.csv")
    return {
        "sources": {"peers": source},
        "peer_text": summary_text(table),
        "peer_table": markdown_table(table.drop(columns=[HOW]),
                                     f"Our experiments beside a peer library's figure; compared "
                                     f"only where both were measured under the same protocol, "
                                     f"key by key. Source: `{source}`."),
        "peer_how": how_text(table),
    }


def how_text(table: pd.DataFrame) -> str:
    """How each peer ran, said once for all the rows that share it (a bench command is long,
    and one bench usually gives every row)."""
    groups = list(table.reset_index(drop=True).groupby(HOW, sort=False))
    paragraphs = []
    for how, rows in groups:
        which = ("every row" if len(groups) == 1 else
                 "row " + ", ".join(str(i + 1) for i in rows.index))
        paragraphs.append(f"*How the peer ran ({which}):* {md_escape(how)}")
    return "\n\n".join(paragraphs)
