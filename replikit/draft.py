"""A draft study from a paper's code on the package index: ``replikit new <study> --from``.

The draft holds what can be read without a person: the paper's fields as given or as the
package states them (:mod:`replikit.extract.paper`; a ``TODO`` for what it does not), the
code twice, as its sdist to read and audit (:data:`CODE`) and installed with its locked
dependencies for the runners (:data:`PACKAGE`), candidate claims read from a results table
inside it (:mod:`replikit.extract`), one experiment per method of a table whose corner
names its axes with a runner stub per method in ``runner.py``, and the audit of the code
(:mod:`replikit.audit`). ``replikit validate`` passes on it and its report renders (each
unwritten runner says "not run"); the user fills in the runners and runs the workflow.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from replikit import paths
from replikit.audit import audit_artifact
from replikit.errors import ReplikitError
from replikit.extract import Options, extract_claims
from replikit.extract.drafts import draft_experiments, runner_stubs
from replikit.extract.paper import TODO, package_paper
from replikit.extract.sources import archive_tables, member_path
from replikit.extract.writer import render
from replikit.fetch.artifacts import fetch_artifact, lock_study
from replikit.fetch.cache import Cache
from replikit.fetch.pypi import distribution
from replikit.fileio import write_json, write_text
from replikit.study import Study, load_study
from replikit.study.scaffold import scaffold_study

CODE = "original-code"  # the draft's name for the paper's code artifact: its sdist
PACKAGE = "original-package"  # the same release, installed for the runners
PLACEHOLDER_CLAIM = {"id": "placeholder", "text": "replaced by the claims read from the table",
                     "source": "replikit new --from", "metric": "none", "reported": 0.0,
                     "tolerance": {"absolute": 0.0},
                     "levels": {"re-run": {"not_run": "a placeholder while the draft is made"}}}


def draft_study(name: str, root: str | Path, *, requirement: str, claims_path: str | None,
                paper: dict[str, Any], command: str) -> tuple[Path, list[str]]:
    """Write ``studies/<name>/`` as a draft; return its manifest's path and notes to show."""
    root = Path(root)
    sdist, _ = distribution(Cache.at(None), requirement, sdist=True)
    member, notes = table_file(sdist, claims_path, command)
    paper = paper_fields(paper, package_paper(sdist, member), f"{member} of {requirement}")
    folder = scaffold_study(name, root, title=paper["title"], year=paper["year"])
    manifest = folder / "study.yaml"
    head = _manifest_head(name, paper, requirement)
    write_text(manifest, yaml.safe_dump({**head, "claims": [PLACEHOLDER_CLAIM]},
                                        sort_keys=False, allow_unicode=True))
    head["artifacts"][CODE]["sha256"] = _fetch_code(name, root)
    entries, provenance = extract_claims(f"{CODE}:{member}", Options(), study=name, root=root)
    head["experiments"] = draft_experiments(entries, needs=[PACKAGE])
    if head["experiments"]:
        write_text(folder / "runner.py", runner_stubs(entries, name))
        notes.append(f"{len(head['experiments'])} experiments drafted; fill in the runner "
                     f"stubs in {folder / 'runner.py'}")
    write_text(manifest, yaml.safe_dump(head, sort_keys=False, allow_unicode=True)
               + render(entries, provenance, command))
    study = load_study(name, root)  # the draft must validate: fail here, not in the user's hands
    notes += _install_package(study, root)
    audit_artifact(name, CODE, root)
    notes += [f"paper.{key}: {value}" for key, value in paper.items()
              if str(value).startswith("TODO")]
    return manifest, notes


def _install_package(study: Study, root: Path) -> list[str]:
    """Lock and install the package for the runners; a note when that cannot be done now."""
    try:
        record = lock_study(study, [PACKAGE], root=root).get(PACKAGE, {})
    except ReplikitError as exc:  # the draft stands; the workflow's fetch says it again
        return [f"{PACKAGE} could not be installed: {exc}"]
    if record.get("status", "ok") != "ok":
        return [f"{PACKAGE} is not installed yet ({record.get('reason')}); "
                f"`replikit lock {study.name}` tries again"]
    return []


def table_file(sdist: Path, claims_path: str | None, command: str) -> tuple[str, list[str]]:
    """The sdist member to read claims from: the one given, else the only one with tables."""
    if claims_path:
        return member_path(sdist, claims_path), []
    found = archive_tables(sdist)
    if len(found) == 1:
        return found[0][0], [f"claims read from {found[0][0]}, the one file of {sdist.name} "
                             "with results tables"]
    listing = "; ".join(f"{member} ({len(tables)} table{'s' * (len(tables) > 1)}: "
                        + ", ".join(t.label for t in tables[:3]) + ")"
                        for member, tables in found)
    raise ReplikitError(
        f"--claims not given, and {sdist.name} has {len(found) or 'no'} files with results "
        "tables", where=str(sdist), found=listing or "no Markdown, LaTeX or PDF table",
        fix=f"{command} --claims <one of those paths>" if found else
        "give a table's file from elsewhere with `replikit claims extract <file>`")


def paper_fields(given: dict[str, Any], stated: dict[str, Any], source: str) -> dict[str, Any]:
    """What the user gave, else what the package states, else a TODO for the user."""
    paper = {key: given.get(key) if given.get(key) is not None else stated.get(key)
             for key in ("title", "authors", "venue", "year", "doi", "arxiv")}
    paper["title"] = paper["title"] or TODO.format(what="the paper's title")
    paper["authors"] = paper["authors"] or [TODO.format(what="the paper's authors")]
    paper["venue"] = paper["venue"] or TODO.format(what="the paper's venue and year")
    paper["year"] = paper["year"] or dt.date.today().year
    paper["claims_source"] = source
    return {k: v for k, v in paper.items() if v is not None}


def _manifest_head(name: str, paper: dict[str, Any], requirement: str) -> dict[str, Any]:
    code = {"description": f"The paper's code as released on the package index ({requirement}),"
                           " its source distribution, to read and audit",
            "role": "code", "pypi": requirement, "sdist": True, "audit": True}
    package = {"description": f"The same release ({requirement}) installed with its locked "
                              "dependencies, for the runners",
               "role": "code", "pypi": requirement, "install": True}
    return {"schema_version": 1, "name": name,
            "summary": f"A draft study of {paper['title']}: claims read from its results "
                       "table, experiments drafted from its methods.",
            "paper": paper, "hardware": {"declared": {}, "source": "not read from the paper yet"},
            "artifacts": {CODE: code, PACKAGE: package}, "experiments": {}}


def _fetch_code(name: str, root: Path) -> str:
    """Fetch the code artifact (pip, through the shared cache), write its record; its sha256."""
    study = load_study(name, root)
    record = fetch_artifact(study, CODE, root / paths.artifact_dest(name, CODE), strict=True)
    write_json(root / paths.artifact_record(name, CODE), record)
    return record["sha256"]
