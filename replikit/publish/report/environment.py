"""The environment section: declared against actual hardware, software, the system."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path
from typing import Any

import pandas as pd

from replikit.errors import ReplikitError
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


def study_imports(study: Study) -> list[str]:
    """The distributions the study's own code imports (its folder's ``*.py``, parsed).

    A study loaded from no folder (built in memory) imports nothing of its own.
    """
    try:
        folder = study.dir
    except ReplikitError:
        return []
    modules: set[str] = set()
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    owners = importlib.metadata.packages_distributions()
    return sorted({d.lower() for m in modules for d in owners.get(m, [])})


def _installed(env: dict[str, Any]) -> dict[str, str]:
    packages = env.get("packages") or {}
    if isinstance(packages, list):  # [{name, version}] is accepted too
        packages = {p.get("name"): p.get("version") for p in packages}
    return {str(n).lower(): v for n, v in packages.items()}


def _software_table(study: Study, env: dict[str, Any], names: list[str] | None = None
                    ) -> pd.DataFrame:
    """Packages: the ones the runs used first (code artifacts', the paper's, the study's
    imports, replikit), then, unless ``names`` is given, everything else installed."""
    packages = _installed(env)
    declared = {n.lower(): v for n, v in study.hardware.software.items()}
    installed = {n.lower(): (v, artifact) for artifact, found in
                 (env.get("artifact_packages") or {}).items() for n, v in found.items()}
    first = list(dict.fromkeys([*installed, *declared]))
    names = (names if names is not None else
             first + sorted(set(packages) - set(first)))
    return pd.DataFrame({
        "package": [code_span(n) for n in names],
        "declared (paper)": [declared.get(n, DASH) for n in names],
        "used (this study)": [installed[n][0] if n in installed else packages.get(n, DASH)
                              for n in names],
        "installed from": [f"artifact {installed[n][1]}" if n in installed else
                           ("environment" if n in packages else DASH) for n in names],
    }, columns=["package", "declared (paper)", "used (this study)", "installed from"])


def used_packages(study: Study, env: dict[str, Any]) -> list[str]:
    """The packages the study's experiments import: the code artifacts' packages, those the
    paper declares, the study code's imports and replikit (which runs them)."""
    artifact = [n.lower() for found in (env.get("artifact_packages") or {}).values()
                for n in found]
    declared = [n.lower() for n in study.hardware.software]
    imported = [n for n in study_imports(study) if n in _installed(env)]
    harness = ["replikit"] if "replikit" in _installed(env) else []
    return list(dict.fromkeys([*artifact, *declared, *imported, *harness]))


def _system_lines(env: dict[str, Any]) -> list[tuple[str, str]]:
    """The system beyond the hardware table (which, when the record has one, states the
    machine once: CPU, cores, memory, GPU and OS are not repeated here)."""
    git = env.get("git") or {}
    machine = [] if hardware_rows(env) else [
        ("Operating system", env.get("os")), ("CPU", env.get("cpu")),
        ("Cores", env.get("cores")), ("Memory", env.get("memory")),
        ("GPU", env.get("gpu") or "none")]
    items = [("Python", env.get("python")), *machine,
             ("Software deployment", env.get("software_deployment")),
             ("Cluster job", env.get("slurm_job_id")),
             ("replikit commit", Raw(code_span(git.get("commit")) + (
                 " (uncommitted changes)" if git.get("dirty") else ""))
              if git.get("commit") else None)]
    return [(k, v if isinstance(v, Raw) else md_escape(v)) for k, v in items
            if v not in (None, "")]


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    env, tables = results.env, out / "tables"
    used = _software_table(study, env, used_packages(study, env))
    sources = {"hardware": write_csv(hardware_table(env), tables / "hardware.csv"),
               "software": write_csv(used, tables / "software.csv"),
               "freeze": write_csv(_software_table(study, env), tables / "software-freeze.csv")}
    return {
        "sources": sources,
        "hardware_table": markdown_table(hardware_table(env), f"Declared and actual "
                                         f"hardware. Source: `{sources['hardware']}`.")
        if hardware_rows(env) else "",
        "hardware_source": md_escape(study.hardware.source or ""),
        "hardware_notes": md_escape(study.hardware.declared.notes or ""),
        "software_table": markdown_table(used, f"The packages the study's experiments "
                                         f"import (its code, the paper's code and replikit). "
                                         f"Source: `{sources['software']}`; every installed "
                                         f"package: `{sources['freeze']}`."),
        "system": _system_lines(env),
    }
