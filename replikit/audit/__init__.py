"""A reproducibility audit of a paper's original code (``replikit audit <study> <artifact>``).

Each check module looks at the code with real parsers (ast, parso for Python 2, packaging
for requirement specifiers, tomllib, configparser, PyYAML) and returns findings, each tied
to one problem category of :data:`replikit.audit.model.CATEGORIES` and pointing at a file
and line. :func:`audit_artifact` audits a fetched artifact and writes
``results/<study>/audit.json``; :mod:`replikit.audit.text` turns an audit into the report's
code section and the questions of the letter to the authors.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from replikit import paths
from replikit.audit import data, dependencies, documentation, hardware, randomness
from replikit.audit.files import NotCode, distribution_name, own_files
from replikit.audit.model import CATEGORIES, Finding, sort_findings
from replikit.audit.pysource import load_tree
from replikit.audit.text import audit_questions, findings_markdown
from replikit.errors import ReplikitError
from replikit.fileio import read_json, write_json

CHECKS = (dependencies, randomness, data, documentation, hardware)


def audit_tree(root: str | Path, files: list[Path] | None = None) -> dict[str, Any]:
    """Audit the code under ``root`` (only ``files`` when given); a JSON-able dict with
    the findings and counts."""
    root = Path(root).resolve()
    tree = load_tree(root, None if files is None else [Path(f).resolve() for f in files])
    findings: list[Finding] = []
    for module in CHECKS:
        findings += module.check(tree)
    findings = sort_findings(findings)
    counts = {category: sum(f.category == category for f in findings)
              for category in CATEGORIES}
    return {"categories": CATEGORIES, "counts": counts, "files": len(tree.files),
            "python_files": len(tree.python),
            "python2_files": sorted({f.file for f in findings if f.check == "python2"}),
            "findings": [f.as_dict() for f in findings]}


def audit_artifact(study: str, artifact: str, root: str | Path = ".") -> Path:
    """Audit a fetched artifact of ``study``; write and return ``results/<study>/audit.json``.

    The artifact's record (``results/<study>/artifacts/<artifact>.json``) gives its folder,
    archive or installed distribution; only its own files are audited (:func:`audit_path`).
    """
    root = Path(root)
    record_path = root / paths.artifact_record(study, artifact)
    if not record_path.is_file():
        raise ReplikitError(
            f"artifact {artifact!r} of study {study!r} has not been fetched",
            where=str(record_path),
            fix=f"run `snakemake results/{study}/artifacts/{artifact}.json study={study}` first")
    audit = audit_record(study, read_json(record_path))
    if audit["status"] != "ok":
        raise ReplikitError(f"artifact {artifact!r} is unavailable", where=str(record_path),
                            found=audit["reason"],
                            fix="fetch it again when its source is reachable")
    return write_json(root / paths.audit(study), audit)


def audit_record(study: str, record: dict[str, Any]) -> dict[str, Any]:
    """The audit of the artifact an artifact record describes, ready for ``audit.json``.

    An artifact that could not be fetched gives ``status: not-run`` with the record's
    reason, so a study whose original code is out of reach still reports, and says why.
    """
    artifact = record.get("name")
    path = Path(record.get("path") or "")
    if record.get("status") != "ok" or not path.exists():
        return {"status": "not-run", "study": study, "artifact": artifact,
                "reason": str(record.get("reason") or "its path is missing")}
    audit = audit_path(path, distribution_name(record))
    audit.update({"status": "ok", "study": study, "artifact": artifact,
                  "artifact_sha256": record.get("sha256"), "commit": record.get("commit"),
                  "source": (record.get("source") or {}).get("ref"),
                  "audited_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    return audit


def audit_path(path: str | Path, distribution: str | None = None) -> dict[str, Any]:
    """Audit the own files of a folder, an archive (unpacked first) or, with
    ``distribution``, an installed distribution in a site folder
    (:func:`replikit.audit.files.own_files`)."""
    try:
        with own_files(path, distribution) as own:
            return {**audit_tree(own.root, own.files), "audited": own.origin}
    except NotCode as exc:
        raise ReplikitError("the artifact is one file, not code to audit", where=str(path),
                            expected="a folder (git checkout, installed distribution) or "
                            "an archive (sdist, wheel, zip)", found=exc.path.name) from None


__all__ = ["CATEGORIES", "Finding", "audit_artifact", "audit_path", "audit_questions",
           "audit_record", "audit_tree", "findings_markdown"]
