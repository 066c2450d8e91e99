"""The report's sections by name, and the sections a study's extensions add.

Every report has the built-in sections of :data:`SECTIONS` (each a plain callable
``context(study, results, out) -> dict`` of template values), in this order. A study adds
an extension's sections by naming the extension in its manifest (``report: {extensions:
[<name>]}``): the module ``replikit.ext.<name>.report_section`` then offers
``SECTIONS``, a dict of name -> ``section(study, runs, out, write_csv, markdown_table)``
returning Markdown. A study that names no extension gets none of them.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from replikit import ext
from replikit.errors import ReplikitError
from replikit.publish.report import (
    artifacts,
    claims,
    completeness,
    cost,
    deviations,
    environment,
    figure_files,
    peers,
    results_table,
    summary,
    time,
)
from replikit.publish.report.common import write_csv
from replikit.publish.text import markdown_table
from replikit.results import Results
from replikit.study import Study

Section = Callable[[Study, Results, Path], dict[str, Any]]

# The figures come before any extension section: drawing them removes stale figure files.
SECTIONS: dict[str, Section] = {
    "summary": summary.context,
    "results_table": results_table.context,
    "figures": figure_files.context,
    "claims": claims.context,
    "time": time.context,
    "artifacts": artifacts.context,
    "environment": environment.context,
    "deviations": deviations.context,
    "peers": peers.context,
    "cost": cost.context,
    "completeness": completeness.context,
}


def known_extensions() -> list[str]:
    """The extensions installed under ``replikit.ext`` that offer report sections."""
    return sorted(m.name for m in pkgutil.iter_modules(ext.__path__)
                  if importlib.util.find_spec(f"replikit.ext.{m.name}.report_section"))


def extension_sections(study: Study) -> dict[str, Callable[..., str]]:
    """The sections of the extensions the study names, in the manifest's order."""
    found: dict[str, Callable[..., str]] = {}
    for name in study.report.extensions:
        if name not in known_extensions():
            raise ReplikitError(
                f"unknown report extension {name!r}",
                where=f"{study.dir / 'study.yaml'}: report.extensions",
                expected=f"must be one of {known_extensions()}", found=repr(name),
                fix="name an extension under replikit/ext/ or remove it",
            )
        module = importlib.import_module(f"replikit.ext.{name}.report_section")
        found.update(module.SECTIONS)
    return found


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    """Every section's template values; their table sources merged under ``sources``."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for section in SECTIONS.values():
        part = section(study, results, out)
        sources.update(part.pop("sources", {}))
        values.update(part)
    values["sources"] = sources
    values["extension_sections"] = [
        text for section in extension_sections(study).values()
        if (text := section(study, results.runs, out, write_csv, markdown_table))]
    return values
