"""A draft study from a paper's code on the package index: ``replikit new <study> --from``.

The draft holds what can be read without a person: the paper's fields as given, the code
artifact pinned and locked (its sha256 in the manifest), candidate claims read from a results
table inside it (:mod:`replikit.extract`, each level declared "not run: no experiment yet"),
and the audit of the code (:mod:`replikit.audit`). ``replikit validate`` passes on it and its
report renders; the user then writes runners and names experiments at the claims' levels.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from replikit import paths
from replikit.audit import audit_artifact
from replikit.extract import Options, extract_claims
from replikit.extract.writer import render
from replikit.fetch.artifacts import fetch_artifact
from replikit.fileio import write_json, write_text
from replikit.study import load_study
from replikit.study.scaffold import scaffold_study

CODE = "original-code"  # the draft's name for the paper's code artifact
PLACEHOLDER_CLAIM = {"id": "placeholder", "text": "replaced by the claims read from the table",
                     "source": "replikit new --from", "metric": "none", "reported": 0.0,
                     "tolerance": {"absolute": 0.0},
                     "levels": {"re-run": {"not_run": "a placeholder while the draft is made"}}}


def draft_study(name: str, root: str | Path, *, requirement: str, claims_path: str,
                paper: dict[str, Any]) -> Path:
    """Write ``studies/<name>/`` as a draft; return its manifest's path."""
    root = Path(root)
    manifest = scaffold_study(name, root, title=paper["title"], year=paper["year"]) / "study.yaml"
    head = _manifest_head(name, paper, requirement)
    write_text(manifest, yaml.safe_dump({**head, "claims": [PLACEHOLDER_CLAIM]},
                                        sort_keys=False, allow_unicode=True))
    sha256 = _fetch_code(name, root)
    head["artifacts"][CODE]["sha256"] = sha256
    entries, provenance = extract_claims(f"{CODE}:{claims_path}", Options(), study=name,
                                         root=root)
    command = shlex.join(["replikit", "new", name, "--from", requirement,
                          "--claims", claims_path])
    write_text(manifest, yaml.safe_dump(head, sort_keys=False, allow_unicode=True)
               + render(entries, provenance, command))
    load_study(name, root)  # the draft must validate: fail here, not in the user's hands
    audit_artifact(name, CODE, root)
    return manifest


def _manifest_head(name: str, paper: dict[str, Any], requirement: str) -> dict[str, Any]:
    code = {"description": f"The paper's code as released on the package index ({requirement}),"
                           " its source distribution",
            "role": "code", "pypi": requirement, "sdist": True, "audit": True}
    return {"schema_version": 1, "name": name,
            "summary": f"A draft study of {paper['title']}: claims read from its results "
                       "table, no experiment yet.",
            "paper": {k: v for k, v in paper.items() if v is not None},
            "hardware": {"declared": {}, "source": "not read from the paper yet"},
            "artifacts": {CODE: code}, "experiments": {}}


def _fetch_code(name: str, root: Path) -> str:
    """Fetch the code artifact (pip, through the shared cache), write its record; its sha256."""
    study = load_study(name, root)
    record = fetch_artifact(study, CODE, root / paths.artifact_dest(name, CODE), strict=True)
    write_json(root / paths.artifact_record(name, CODE), record)
    return record["sha256"]
