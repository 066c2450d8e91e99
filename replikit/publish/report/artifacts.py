"""The artifacts section: what was used, from where, with which hashes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from replikit.numbers import DASH
from replikit.paths import project_relative
from replikit.publish.report.common import write_csv
from replikit.publish.text import code_span, markdown_table, md_escape
from replikit.results import Results
from replikit.study import Study


def _artifact_table(artifacts: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for record in artifacts:
        source = record.get("source") or {}
        rows.append({
            "artifact": code_span(record.get("name")),
            "status": record.get("status", DASH),
            "source used": (f"{source.get('kind')}: {source.get('ref')}" if source else DASH),
            "sha256": code_span((record.get("sha256") or "")[:16] + "…"
                            if record.get("sha256") else ""),
            "commit": code_span((record.get("commit") or "")[:12]),
        })
    return pd.DataFrame(rows, columns=["artifact", "status", "source used", "sha256", "commit"])


def _artifact_details(artifacts: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Full hashes and the sources tried, for the list under the artifact table."""
    out = []
    for record in artifacts:
        dist = record.get("distribution") or {}
        out.append({
            "name": md_escape(record.get("name")),
            "sha256": record.get("sha256") or "",
            "commit": record.get("commit") or "",
            "distribution": (f"{md_escape(dist.get('file'))} (sha256 `{dist.get('sha256')}`)"
                             if dist else ""),
            "path": md_escape(record.get("path") or ""),
            "reason": md_escape(record.get("reason") or ""),
            "tried": [md_escape(t) for t in record.get("tried") or []],
        })
    return out


def _flatten(value: Any) -> Any:
    """Nested artifact fields (source, distribution, tried) as JSON text in the CSV."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def _without_machine_paths(record: dict[str, Any]) -> dict[str, Any]:
    """The record as a reader may see it: a path inside the project relative to it, any
    other (the shared cache, a home folder) as the artifact's name alone."""
    shown = dict(record)
    for key in ("path", "import_path"):
        if shown.get(key):
            shown[key] = project_relative(shown[key], fallback=f"<{record.get('name')}>")
    return shown


def context(study: Study, results: Results, out: Path) -> dict[str, Any]:
    artifacts = [_without_machine_paths(r) for r in results.artifacts]
    source = write_csv(pd.DataFrame(artifacts).map(_flatten), out / "tables" / "artifacts.csv")
    return {
        "sources": {"artifacts": source},
        "artifact_table": markdown_table(_artifact_table(artifacts), f"Artifacts used. "
                                         f"Source: `{source}`.") if artifacts else "",
        "artifact_details": _artifact_details(artifacts),
    }
