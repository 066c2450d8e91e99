"""The report's section for ranking studies: results per model, budgets, curves, reordering.

A ranking study's runs (``studies/bert4rec/runner.py``) write metrics named
``<protocol>/<metric>`` (``full/ndcg@10``, ``pop100/hr@10``, ``uni100/ndcg@10``) and keep in
``extra`` the budget every model was given (``budget``), its tuning trials (``tuning``) and
the best trial's validation curve (``curve``). From those precomputed records alone this
module writes, for the report:

- the results table: every model under every protocol, mean ± sd and a 95% CI over seeds;
- the budget table: every model's tuning budget and what it spent, side by side (the point
  of Petrov & Macdonald, RecSys 2022: BERT4Rec's reported edge depended on training length);
- the training curve: validation NDCG@10 against training seconds, one line per seed;
- the reordering check: each protocol's ranking of the models, Kendall's tau between full
  ranking and each sampled protocol, and the pairs whose order flips (Krichene & Rendle,
  KDD 2020: sampled metrics can reorder models relative to full ranking);
- the budget profiles the manifest declares.

:func:`ranking_section` returns the Markdown that ``report.qmd.j2`` includes as
``{{ ranking_section }}``; it is empty when no run carries ranking metrics, so other studies'
reports are unchanged. Nothing here trains or evaluates a model.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from scipy import stats  # noqa: E402

from replikit.ext.recsys import budgets  # noqa: E402
from replikit.fileio import atomic_path  # noqa: E402
from replikit.publish.text import md_escape  # noqa: E402
from replikit.study import Study  # noqa: E402

PROTOCOLS = ("full", "pop100", "uni100")
PROTOCOL_NAMES = {"full": "full ranking", "pop100": "100 popularity-sampled negatives",
                  "uni100": "100 uniformly sampled negatives"}
TABLE_METRICS = ("ndcg@10", "hr@10")
CURVE_METRIC = "valid/full/ndcg@10"
DPI = 150


# --------------------------------------------------------------------------- records
def ranking_runs(runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The usable runs that carry ranking metrics (``<protocol>/<metric>`` keys)."""
    out = []
    for record in runs:
        metrics = record.get("metrics") or {}
        if record.get("status") == "ok" and any(
                key.split("/")[0] in PROTOCOLS for key in metrics if "/" in key):
            out.append(record)
    return out


def _dataset(record: dict[str, Any]) -> str:
    return str((record.get("params") or {}).get("dataset") or "?")


def _ci_half_width(values: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the t interval of the mean (NaN with fewer than two values)."""
    if len(values) < 2:
        return math.nan
    sd = float(np.std(values, ddof=1))
    return float(stats.t.ppf(0.5 + level / 2, len(values) - 1) * sd / math.sqrt(len(values)))


# --------------------------------------------------------------------------- results
def results_table(runs: Iterable[dict[str, Any]],
                  metrics: Sequence[str] = TABLE_METRICS,
                  protocols: Sequence[str] = PROTOCOLS) -> pd.DataFrame:
    """One row per experiment and protocol/metric: n seeds, mean, sd, 95% CI bounds.

    Examples
    --------
    >>> runs = [{"status": "ok", "experiment": "e", "seed": s, "params": {"model": "m",
    ...          "dataset": "d"}, "metrics": {"full/ndcg@10": v}} for s, v in [(0, .1), (1, .3)]]
    >>> row = results_table(runs, ["ndcg@10"], ["full"]).iloc[0]
    >>> int(row["n"]), round(float(row["mean"]), 3), round(float(row["sd"]), 4)
    (2, 0.2, 0.1414)
    """
    by_experiment: dict[str, list[dict[str, Any]]] = {}
    for record in ranking_runs(runs):
        by_experiment.setdefault(str(record.get("experiment")), []).append(record)
    rows = []
    for experiment, records in by_experiment.items():
        for protocol in protocols:
            for metric in metrics:
                key = f"{protocol}/{metric}"
                values = np.array([r["metrics"][key] for r in records if key in r["metrics"]],
                                  dtype=float)
                if not len(values):
                    continue
                mean, half = float(values.mean()), _ci_half_width(values)
                rows.append({
                    "experiment": experiment, "model": budgets.model_label(records[0]),
                    "dataset": _dataset(records[0]), "protocol": protocol, "metric": metric,
                    "n": len(values), "mean": mean,
                    "sd": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
                    "ci_low": mean - half, "ci_high": mean + half,
                    "history": _history(records, key),
                })
    return pd.DataFrame(rows, columns=["experiment", "model", "dataset", "protocol", "metric",
                                       "n", "mean", "sd", "ci_low", "ci_high", "history"])


def _history(records: list[dict[str, Any]], key: str) -> str:
    """Whether the runs excluded each user's history from the candidates, as they recorded
    it (``extra.protocol``); ``""`` when no run recorded it, ``"mixed"`` when they differ."""
    seen = {((r.get("extra") or {}).get("protocol") or {}).get(key, {}).get("exclude_history")
            for r in records} - {None}
    if len(seen) != 1:
        return "mixed" if seen else ""
    return "excluded" if seen.pop() else "not excluded"


def results_wide(results: pd.DataFrame) -> pd.DataFrame:
    """The results as one row per model and dataset, one ``mean ± sd`` column per measure."""
    if results.empty:
        return pd.DataFrame()
    cells = results.assign(
        column=results["protocol"] + " " + results["metric"],
        cell=[_mean_sd(m, s, n) for m, s, n in zip(results["mean"], results["sd"],
                                                   results["n"], strict=True)])
    wide = cells.pivot_table(index=["dataset", "model"], columns="column", values="cell",
                             aggfunc="first")
    order = [f"{p} {m}" for p in PROTOCOLS for m in TABLE_METRICS if f"{p} {m}" in wide]
    seeds = results.groupby(["dataset", "model"])["n"].max().rename("seeds")
    return wide[order].join(seeds).reset_index()


def results_ci_wide(results: pd.DataFrame, metric: str = "ndcg@10") -> pd.DataFrame:
    """One row per model and dataset, one ``[low, high]`` 95% CI column per protocol."""
    part = results[results["metric"] == metric]
    if part.empty:
        return pd.DataFrame()
    cells = part.assign(column=part["protocol"] + " " + metric + " 95% CI",
                        cell=[_interval(lo, hi) for lo, hi in zip(part["ci_low"], part["ci_high"],
                                                                  strict=True)])
    wide = cells.pivot_table(index=["dataset", "model"], columns="column", values="cell",
                             aggfunc="first")
    order = [f"{p} {metric} 95% CI" for p in PROTOCOLS if f"{p} {metric} 95% CI" in wide]
    return wide[order].reset_index()


def winners(results: pd.DataFrame, metric: str = "ndcg@10") -> list[str]:
    """One plain sentence per dataset and protocol: which model leads, with the 95% CIs.

    The leader is the model with the highest mean; the sentence names the runner-up and
    says whether the two intervals overlap (when they do, the order is not settled by these
    intervals; the claims' paired tests are the verdict). The protocol's name says whether
    the user's history was excluded from the candidates, as the runs recorded it; models
    recorded under different settings are not ranked against each other.
    """
    part = results[results["metric"] == metric]
    sentences = []
    for (dataset, protocol), group in part.groupby(["dataset", "protocol"], sort=False):
        ranked = group.sort_values("mean", ascending=False)
        first = ranked.iloc[0]
        history = set(group["history"]) if "history" in group else {""}
        where = f"{md_escape(dataset)}, {PROTOCOL_NAMES.get(protocol, protocol)}"
        if len(history) > 1 or "mixed" in history:
            sentences.append(f"{where}: not compared, because the models' runs differ in "
                             "whether the user's history was excluded.")
            continue
        if history - {""}:
            where += f" (history {history.pop()})"
        text = f"{where}: **{md_escape(first['model'])}** leads with {metric} {_estimate(first)}"
        if len(ranked) > 1:
            second = ranked.iloc[1]
            apart = first["ci_low"] > second["ci_high"]
            text += (f", ahead of {md_escape(second['model'])} ({_estimate(second)}); the "
                     "intervals "
                     + ("do not overlap." if apart else "overlap, so they alone do not "
                        "settle the order (a claim's paired test over users does)."))
        sentences.append(text + ("" if text.endswith(".") else "."))
    return sentences


def _estimate(row: pd.Series) -> str:
    interval = _interval(row["ci_low"], row["ci_high"])
    return f"{row['mean']:.4f}" + (f" {interval}" if interval else "")


def _interval(low: float, high: float) -> str:
    return "" if math.isnan(low) else f"[{low:.4f}, {high:.4f}]"


def _mean_sd(mean: float, sd: float, n: int) -> str:
    return f"{mean:.4f}" if n < 2 or math.isnan(sd) else f"{mean:.4f} ± {sd:.4f}"


# --------------------------------------------------------------------------- budgets
def budget_table(runs: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Every experiment's budget and what it spent (see :func:`budgets.budget_table`)."""
    return budgets.budget_table(ranking_runs(runs))


def _mean(values: Iterable[Any]) -> float:
    numbers = [float(v) for v in values if v is not None]
    return float(np.mean(numbers)) if numbers else math.nan


# --------------------------------------------------------------------------- curves
def curve_frame(runs: Iterable[dict[str, Any]], metric: str = CURVE_METRIC) -> pd.DataFrame:
    """The validation curves as a long table, one row per run and epoch."""
    rows = []
    for record in ranking_runs(runs):
        for point in (record.get("extra") or {}).get("curve") or []:
            value = (point.get("metric") or {}).get(metric)
            if value is None:
                continue
            rows.append({"experiment": record.get("experiment"),
                         "model": budgets.model_label(record),
                         "dataset": _dataset(record), "seed": record.get("seed"),
                         "epoch": point.get("epoch"), "seconds": point.get("seconds"),
                         "value": float(value)})
    return pd.DataFrame(rows, columns=["experiment", "model", "dataset", "seed", "epoch",
                                       "seconds", "value"])


def curve_figure(curves: pd.DataFrame, path: str | Path, metric: str = CURVE_METRIC) -> Path:
    """Validation metric against training seconds, one line per seed, one panel per dataset."""
    datasets = sorted(curves["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.2),
                             squeeze=False, sharey=True)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = curves[curves["dataset"] == dataset]
        sns.lineplot(data=part, x="seconds", y="value", hue="model", units="seed",
                     estimator=None, marker="o", markersize=3, linewidth=1, ax=ax)
        ax.set_title(dataset, fontsize=9)
        ax.set_xlabel("training seconds (best tuning trial)")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- reordering
def reordering_check(results: pd.DataFrame, metric: str = "ndcg@10",
                     reference: str = "full") -> pd.DataFrame:
    """Per dataset and sampled protocol: the model order, Kendall's tau with ``reference``, swaps.

    Models are ordered by their mean over seeds. A swap is a pair of models whose order
    under the sampled protocol is the opposite of their order under ``reference``.

    Examples
    --------
    >>> r = pd.DataFrame({"dataset": "d", "metric": "ndcg@10", "model": list("abab"),
    ...                   "protocol": ["full", "full", "pop100", "pop100"],
    ...                   "mean": [0.2, 0.1, 0.5, 0.6]})
    >>> row = reordering_check(r).iloc[0]
    >>> float(row["kendall_tau"]), row["swaps"]
    (-1.0, 'a/b')
    """
    rows = []
    part = results[results["metric"] == metric]
    for dataset, data in part.groupby("dataset", sort=True):
        means = data.pivot_table(index="model", columns="protocol", values="mean")
        if reference not in means:
            continue
        for protocol in [p for p in means.columns if p != reference]:
            both = means[[reference, protocol]].dropna()
            if len(both) < 2:
                continue
            tau = stats.kendalltau(both[reference], both[protocol]).statistic
            rows.append({
                "dataset": dataset, "protocol": protocol, "models": len(both),
                f"order under {reference}": _order(both[reference]),
                "order under protocol": _order(both[protocol]),
                "kendall_tau": float(tau), "swaps": ", ".join(_swaps(both, reference, protocol)),
            })
    return pd.DataFrame(rows)


def _order(values: pd.Series) -> str:
    return " > ".join(values.sort_values(ascending=False).index.astype(str))


def _swaps(both: pd.DataFrame, reference: str, protocol: str) -> list[str]:
    swaps = []
    for a, b in itertools.combinations(sorted(both.index), 2):
        ref = np.sign(both.at[a, reference] - both.at[b, reference])
        other = np.sign(both.at[a, protocol] - both.at[b, protocol])
        if ref * other < 0:
            swaps.append(f"{a}/{b}")
    return swaps


# --------------------------------------------------------------------------- profiles
def profiles_table(study: Study, chosen: Iterable[str | None] = ()) -> pd.DataFrame:
    """The manifest's budget profiles: name, default, used by these runs, description, overrides."""
    used = {c for c in chosen if c}
    rows = []
    for name, profile in study.profiles.items():
        overrides = "; ".join(f"{target}: {json.dumps(values)}"
                              for target, values in profile.params.items())
        rows.append({"profile": name, "default": "yes" if profile.default else "no",
                     "used here": "yes" if name in used else "no",
                     "description": " ".join(profile.description.split()),
                     "overrides": overrides})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- section
def ranking_section(study: Study, runs: Iterable[dict[str, Any]], out_dir: str | Path,
                    table_writer, markdown_table) -> str:
    """Write the tables and the curve figure under ``out_dir``; return the section's Markdown.

    ``table_writer(frame, path) -> relative path`` and ``markdown_table(frame, caption,
    align)`` are the report's own writers, so the section looks like the rest of the report.
    Returns ``""`` when no run carries ranking metrics.
    """
    runs = list(runs)
    ranked = ranking_runs(runs)
    if not ranked:
        return ""
    out = Path(out_dir)
    results = results_table(ranked)
    wide = results_wide(results)
    budgets = budget_table(ranked)
    reorder = reordering_check(results)
    profiles = profiles_table(study, [r.get("profile") for r in runs])
    sources = {
        "results": table_writer(results, out / "tables" / "ranking_results.csv"),
        "budgets": table_writer(budgets, out / "tables" / "budgets.csv"),
        "reorder": table_writer(reorder, out / "tables" / "reordering.csv"),
        "profiles": table_writer(profiles, out / "tables" / "profiles.csv"),
    }
    parts = ["## Ranking results, budgets and protocols", ""]
    parts += ["### Which model won", "", "Mean test NDCG@10 over seeds with its 95% confidence "
              "interval, per data set and protocol:", ""]
    parts += [f"- {sentence}" for sentence in winners(results)] + [""]
    parts += [_results_text(wide, sources["results"], markdown_table), ""]
    intervals = results_ci_wide(results)
    if not intervals.empty:
        parts += [markdown_table(intervals, f"95% confidence intervals of the mean NDCG@10 "
                                 f"over seeds (t distribution). Source: `{sources['results']}`.",
                                 ["l", "l"] + ["r"] * (len(intervals.columns) - 2)), ""]
    parts += [_budget_text(budgets, sources["budgets"], markdown_table), ""]
    parts += [_curve_text(ranked, out, table_writer), ""]
    parts += [_reorder_text(reorder, sources["reorder"], markdown_table), ""]
    parts += ["### Budget profiles", "",
              f"The study manifest declares {len(profiles)} budget profile(s); `--config "
              "profile=<name>` chooses one, and the default is marked. What each sets per "
              "experiment is in the source table.", "",
              markdown_table(_rounded(profiles.drop(columns=["overrides"])),
                             f"Budget profiles. Source: `{sources['profiles']}`."), ""]
    return "\n".join(parts)


def _rounded(frame: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    return frame.map(lambda v: "" if isinstance(v, float) and math.isnan(v) else (
        f"{v:.{digits}g}" if isinstance(v, float) else v))


def _results_text(wide: pd.DataFrame, source: str, markdown_table) -> str:
    text = ("### Every model under every protocol\n\nMean ± standard deviation over seeds of "
            "each model's test metrics (leave-one-out: each user's last item), then the 95% "
            "confidence intervals of NDCG@10 (t over seeds; every metric's are in the source "
            "table). Full ranking ranks "
            "the target among all items the user has not interacted with; the sampled "
            "protocols among 100 negatives.\n\n")
    return text + markdown_table(wide, f"Test metrics per model. Source: `{source}`.",
                                 ["l", "l"] + ["r"] * (len(wide.columns) - 2))


def _budget_text(budgets: pd.DataFrame, source: str, markdown_table) -> str:
    text = ("### Training budgets, side by side\n\nEvery model is tuned with the same number "
            "of trials and the same per-fit limit (epochs and seconds, whichever comes "
            "first); non-iterative baselines use no epochs. A grid smaller than the trial "
            "budget is searched whole; \"space searched\" says how much of each model's "
            "space its trials covered. The spent columns are means over seeds.\n\n")
    return text + markdown_table(_rounded(budgets), f"Budget given and spent per model. "
                                 f"Source: `{source}`.",
                                 ["l", "l", "l", "l"] + ["r"] * (len(budgets.columns) - 4))


def _curve_text(ranked: list[dict[str, Any]], out: Path, table_writer) -> str:
    curves = curve_frame(ranked)
    head = "### Training curves\n\n"
    if curves.empty:
        return head + "No run recorded a validation curve."
    source = table_writer(curves, out / "tables" / "training_curves.csv")
    curve_figure(curves, out / "figures" / "training-curve.png")
    return (head + "Validation NDCG@10 (full ranking) of the best tuning trial after each "
            "epoch, against its training seconds: where a curve is still rising at the end, "
            "the model is undertrained under this budget, the effect Petrov & Macdonald "
            "found for the original BERT4Rec configuration.\n\n"
            f"![Validation NDCG@10 against training time, one line per seed. Source: "
            f"`{source}`.](figures/training-curve.png){{#fig-training-curve width=\"95%\"}}")


def _reorder_text(reorder: pd.DataFrame, source: str, markdown_table) -> str:
    head = ("### Do sampled metrics reorder the models?\n\nKrichene & Rendle (KDD 2020) "
            "show that sampled metrics need not rank models as full ranking does. Each row "
            "orders the models by mean NDCG@10 under full ranking and under one sampled "
            "protocol, with Kendall's tau between the two orders and the pairs that swap.\n\n")
    if reorder.empty:
        return head + "Too few models were measured under both protocols to compare orders."
    flips = reorder[reorder["swaps"] != ""]
    verdict = ("No pair of models changes order." if flips.empty else
               "Sampled metrics reorder models here: " + "; ".join(
                   f"{r.dataset}, {PROTOCOL_NAMES.get(r.protocol, r.protocol)}: {r.swaps}"
                   for r in flips.itertuples()) + ".")
    return head + markdown_table(_rounded(reorder, 3), f"Model order per protocol. Source: "
                                 f"`{source}`.") + "\n\n" + verdict


#: The sections this extension adds to the report of a study that names it
#: (``report: {extensions: [recsys]}``), for :mod:`replikit.publish.report.sections`.
SECTIONS = {"ranking": ranking_section}
