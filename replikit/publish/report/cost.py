"""The computational-requirements section: cost per run, experiment, claim and in all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.evaluate import cost
from replikit.numbers import fmt_number
from replikit.publish.facts import EXPERIMENT_MEANING, cost_sentence, hours, mib, minutes
from replikit.publish.report.common import write_csv
from replikit.publish.text import code_span, markdown_table, md_escape
from replikit.results import Results
from replikit.study import Study


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    """The "Computational requirements" section: cost per claim and in all (the hardware is
    the environment section's). Costs come from :mod:`replikit.evaluate.cost`."""
    tables = out / "tables"
    per_run = results.run_costs
    per_experiment = cost.experiment_costs(per_run)
    per_claim = cost.claim_costs(study, per_run)
    facts = results.facts
    write_csv(per_run, tables / "cost_runs.csv")
    source_exp = write_csv(per_experiment, tables / "cost_experiments.csv")
    source_claim = write_csv(per_claim, tables / "cost_claims.csv")
    source_total = write_csv(pd.DataFrame([cost.study_total(per_run)]),
                             tables / "cost_total.csv")
    shown = pd.DataFrame({
        "claim": [code_span(c) for c in per_claim["claim_id"]],
        "runs": per_claim["runs"],
        "CPU-hours": [hours(v) for v in per_claim["cpu_hours"]],
        "GPU-hours": [hours(v) for v in per_claim["gpu_hours"]],
        "peak memory (MiB)": [fmt_number(v, 0) for v in per_claim["peak_rss_mb"]],
    })
    experiments = pd.DataFrame({
        "experiment": [code_span(e) for e in per_experiment["experiment"]],
        "runs": per_experiment["runs"],
        "wall (s)": [fmt_number(v, 1) for v in per_experiment["wall_s"]],
        "CPU (s)": [fmt_number(v, 1) for v in per_experiment["cpu_s"]],
        "GPU (s)": [fmt_number(v, 1) for v in per_experiment["gpu_s"]],
        "peak memory (MiB)": [fmt_number(v, 0) for v in per_experiment["peak_rss_mb"]],
        "peak GPU memory (MiB)": [fmt_number(v, 0) for v in per_experiment["peak_gpu_mb"]],
    })
    if not facts.gpu_runs:
        # A CPU-only study: columns of zeros would only hide the numbers that matter.
        shown = shown.drop(columns=["GPU-hours"])
        experiments = experiments.drop(columns=["GPU (s)", "peak GPU memory (MiB)"])
    return {
        "facts": facts,
        "cost_sentence": md_escape(cost_sentence(facts)),
        "cost_minutes": {"cpu": minutes(facts.cpu_hours), "wall": minutes(facts.wall_hours)},
        "cost_total_gpu_peak": mib(facts.peak_gpu_memory_mib),
        "experiment_meaning": md_escape(EXPERIMENT_MEANING),
        "cost_total_source": source_total,
        "cost_claim_table": markdown_table(shown, f"Compute cost per claim. Source: "
                                           f"`{source_claim}`.",
                                           ["l"] + ["r"] * (len(shown.columns) - 1))
        if len(per_claim) else "",
        "cost_experiment_table": markdown_table(experiments, f"Compute cost per experiment "
                                                f"(all seeds). Source: `{source_exp}`.",
                                                ["l"] + ["r"] * (len(experiments.columns) - 1))
        if len(per_experiment) else "",
    }
