"""The environment section: declared against actual hardware, software, the system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.numbers import DASH, is_missing
from replikit.publish.report.common import write_csv
from replikit.publish.text import Raw, code_span, markdown_table, md_escape
from replikit.results import Results
from replikit.study import Study


def hardware_rows(env: dict[str, Any]) -> list[dict[str, Any]]:
    """The declared-vs-actual table, whichever key the environment step stored it under."""
    for key in ("hardware", "declared_vs_actual", "hardware_table"):
        value = env.get(key)
        if isinstance(value, list):
            return value
        if isinstance(value, dict) and isinstance(value.get("table"), list):
            return value["table"]
    return []


def hardware_table(env: dict[str, Any]) -> pd.DataFrame:
    rows = hardware_rows(env)
    return pd.DataFrame({
        "item": [r.get("item", "") for r in rows],
        "declared (paper)": [DASH if is_missing(r.get("declared")) else r.get("declared")
                             for r in rows],
        "actual (this study)": [DASH if is_missing(r.get("actual")) else r.get("actual")
                                for r in rows],
        "match": [_match_word(r.get("match")) for r in rows],
    }, columns=["item", "declared (paper)", "actual (this study)", "match"])


def _match_word(value: Any) -> str:
    if value is None:
        return "not stated"
    if isinstance(value, str):
        return value
    return "yes" if value else "no"


def _software_table(study: Study, env: dict[str, Any]) -> pd.DataFrame:
    packages = env.get("packages") or {}
    if isinstance(packages, list):  # [{name, version}] is accepted too
        packages = {p.get("name"): p.get("version") for p in packages}
    declared = study.hardware.software
    # What the runs used first: the code artifacts' packages, then what the paper declares.
    installed = {n: (v, artifact) for artifact, found in (env.get("artifact_packages") or {})
                 .items() for n, v in found.items()}
    first = list(installed) + [n for n in declared if n not in installed]
    names = first + sorted(set(packages) - set(first))
    return pd.DataFrame({
        "package": [code_span(n) for n in names],
        "declared (paper)": [declared.get(n, DASH) for n in names],
        "used (this study)": [installed[n][0] if n in installed else packages.get(n, DASH)
                              for n in names],
        "installed from": [f"artifact {installed[n][1]}" if n in installed else
                           ("environment" if n in packages else DASH) for n in names],
    }, columns=["package", "declared (paper)", "used (this study)", "installed from"])


def _system_lines(env: dict[str, Any]) -> list[tuple[str, str]]:
    git = env.get("git") or {}
    items = [("Python", env.get("python")), ("Operating system", env.get("os")),
             ("CPU", env.get("cpu")), ("Cores", env.get("cores")),
             ("Memory", env.get("memory")), ("GPU", env.get("gpu") or "none"),
             ("Software deployment", env.get("software_deployment")),
             ("Cluster job", env.get("slurm_job_id")),
             ("replikit commit", Raw(code_span(git.get("commit")) + (
                 " (uncommitted changes)" if git.get("dirty") else ""))
              if git.get("commit") else None)]
    return [(k, v if isinstance(v, Raw) else md_escape(v)) for k, v in items
            if v not in (None, "")]


def actual_hardware(env: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = [("CPU", env.get("cpu")), ("cores", env.get("cores")),
             ("memory", env.get("memory")), ("GPU", env.get("gpu") or "none")]
    return [(k, str(v)) for k, v in pairs if not is_missing(v)]


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    env, tables = results.env, out / "tables"
    sources = {"hardware": write_csv(hardware_table(env), tables / "hardware.csv"),
               "software": write_csv(_software_table(study, env), tables / "software.csv")}
    return {
        "sources": sources,
        "hardware_table": markdown_table(hardware_table(env), f"Declared and actual "
                                         f"hardware. Source: `{sources['hardware']}`.")
        if hardware_rows(env) else "",
        "hardware_source": md_escape(study.hardware.source or ""),
        "software_table": markdown_table(_software_table(study, env), f"Software. Source: "
                                         f"`{sources['software']}`."),
        "system": _system_lines(env),
    }
