"""Is the original code complete? A checklist over the fetched code, and the ACM badges.

:func:`check_artifact` inspects one code artifact (a git checkout, an archive, or an
installed distribution, as recorded in ``results/<study>/artifacts/<name>.json``), its own
files only (:mod:`replikit.audit.files`), for the five
things a reader needs to reproduce a paper from its code: declared dependencies, training
code, evaluation code, pretrained models, and a README with the results table and the
commands that produce it. Each item is ``yes``, ``no`` or ``unknown``, with the files that
are the evidence. The checks look at file names and text only; nothing is imported or run.

:func:`acm_badges` decides the ACM badges from the artifact records, the checklist and the
claims ledger, each with the rule it applied and why (see :data:`BADGE_RULES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from replikit.audit.files import NotCode, distribution_name, own_files

ITEMS = ("dependencies", "training code", "evaluation code", "pretrained models",
         "results table and commands")
MAX_EVIDENCE = 4
MAX_TEXT_BYTES = 400_000  # a source file larger than this is not read for patterns

DEPENDENCY_FILES = ("requirements*.txt", "setup.py", "setup.cfg", "pyproject.toml",
                    "environment.yml", "environment.yaml", "Pipfile", "conda.yaml",
                    "poetry.lock", "uv.lock")
CODE_SUFFIXES = {".py", ".pyx", ".ipynb", ".sh", ".r", ".jl", ".lua", ".scala", ".java"}
# "train.py", "train_bert.py", "run-training.sh", but not "trainset.py" (a data structure).
TRAIN_NAME = re.compile(r"(^|[_\-/])(train|training|fit|finetune|pretrain)([_\-][\w\-]*)?"
                        r"\.\w+$", re.I)
# ``estimator.train(input_fn=...)`` trains; ``model.train()`` (no argument) only sets a mode.
TRAIN_TEXT = re.compile(r"def (fit|train)\w*\(|\.backward\(\)|optimizer\.step\(|\.fit\("
                        r"|\.train\([^)\s]|\.minimize\(|\.apply_gradients\(")
EVAL_NAME = re.compile(r"(^|[_\-/])(eval|evaluate|evaluation|benchmark|metrics?|accuracy)"
                       r"([_\-][\w\-]*)?\.\w+$", re.I)
EVAL_TEXT = re.compile(r"def (evaluate|cross_validate|rmse|mae|ndcg|recall|accuracy|"
                       r"precision)\w*\(|\.evaluate\([^)\s]|\b(ndcg|mrr|rmse)\w*\s*\+?=[^=]")
MODEL_SUFFIXES = {".pt", ".pth", ".ckpt", ".safetensors", ".h5", ".hdf5", ".onnx", ".pb",
                  ".npz", ".joblib", ".pkl", ".pickle", ".tflite"}
MODEL_DOC = re.compile(r"(pre-?trained|checkpoint)s?\b[^\n]{0,120}(download|https?://)"
                       r"|(download|https?://)[^\n]{0,120}(pre-?trained|checkpoint)", re.I)
PIPE_TABLE = re.compile(r"^\s*\|[^\n]*\|\s*\n\s*\|[\s:|-]+\|\s*$", re.M)
GRID_TABLE = re.compile(r"^\s*(\+[-=]+)+\+\s*$|^\s*=+(\s+=+)+\s*$", re.M)
COMMAND = re.compile(r"^\s*(\$ |python3? |pip install |bash |sh |make |\./)[^\n]+$|"
                     r"```(bash|sh|shell|console)|code-block:: (bash|sh|console)", re.M)


@dataclass
class Check:
    """One checklist item: ``yes``, ``no`` or ``unknown``, why, and the evidence files."""

    item: str
    status: str
    reason: str
    evidence: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- inspection
def _text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            return ""
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _rel(root: Path, paths: Iterable[Path]) -> list[str]:
    return [str(p.relative_to(root)) for p in list(paths)[:MAX_EVIDENCE]]


def _readmes(root: Path, files: list[Path]) -> list[Path]:
    """README files (shallowest first) and, for an installed distribution, its METADATA,
    whose body is the project's long description (usually the README)."""
    readmes = [p for p in files if p.name.lower().startswith("readme")]
    readmes.sort(key=lambda p: (len(p.relative_to(root).parts), str(p)))
    metadata = [p for p in files if p.name == "METADATA" and p.parent.name.endswith(
        ".dist-info")]
    return readmes + metadata


def check_dependencies(root: Path, files: list[Path]) -> Check:
    """Declared dependencies: a requirements/setup/pyproject/environment file, or an installed
    distribution's ``Requires-Dist`` lines."""
    # At most one folder deep, and not the documentation's own (doc/requirements.txt).
    declared = [p for p in files if any(p.match(g) for g in DEPENDENCY_FILES)
                and len(parts := p.relative_to(root).parts) <= 2
                and parts[0] not in ("doc", "docs")]
    for meta in (p for p in files if p.name == "METADATA"):
        if re.search(r"^Requires-Dist:", _text(meta), re.M):
            declared.append(meta)
    if declared:
        return Check("dependencies", "yes", "dependency declarations found", _rel(root, declared))
    return Check("dependencies", "no", "no requirements, setup, pyproject, environment or "
                 "Pipfile file, and no Requires-Dist metadata")


def _code_search(root: Path, files: list[Path], item: str, name: re.Pattern,
                 text: re.Pattern, what: str) -> Check:
    code = [p for p in files if p.suffix.lower() in CODE_SUFFIXES]
    by_name = [p for p in code if name.search(str(p.relative_to(root)))]
    if by_name:
        return Check(item, "yes", f"files named as {what} code", _rel(root, by_name))
    by_text = [p for p in code if text.search(_text(p))]
    if by_text:
        return Check(item, "yes", f"source files defining {what} functions",
                     _rel(root, by_text))
    return Check(item, "no", f"no file named or written as {what} code among "
                 f"{len(code)} source files")


def check_training(root: Path, files: list[Path]) -> Check:
    return _code_search(root, files, "training code", TRAIN_NAME, TRAIN_TEXT, "training")


def check_evaluation(root: Path, files: list[Path]) -> Check:
    return _code_search(root, files, "evaluation code", EVAL_NAME, EVAL_TEXT, "evaluation")


def check_models(root: Path, files: list[Path]) -> Check:
    """Pretrained models: checkpoint files in the artifact, or a documented download."""
    models = [p for p in files if p.suffix.lower() in MODEL_SUFFIXES]
    if models:
        return Check("pretrained models", "yes", "model files in the artifact",
                     _rel(root, models))
    documented = [p for p in _readmes(root, files) if MODEL_DOC.search(_text(p))]
    if documented:
        return Check("pretrained models", "yes", "the documentation points to a "
                     "download of pretrained models or checkpoints", _rel(root, documented))
    return Check("pretrained models", "no", "no checkpoint files and no documented download "
                 "(methods trained from scratch at each run may need none)")


def check_results_table(root: Path, files: list[Path]) -> Check:
    """A README holding a results table and commands to reproduce it."""
    readmes = _readmes(root, files)
    if not readmes:
        return Check("results table and commands", "no", "no README")
    tables = [p for p in readmes if PIPE_TABLE.search(t := _text(p)) or GRID_TABLE.search(t)]
    commands = [p for p in readmes if COMMAND.search(_text(p))]
    if tables and commands:
        return Check("results table and commands", "yes", "a README with a results table and "
                     "shell commands", _rel(root, dict.fromkeys(tables + commands)))
    missing = "commands" if tables else ("a results table" if commands else
                                        "a results table and commands")
    return Check("results table and commands", "no", f"the README lacks {missing}",
                 _rel(root, tables or commands or readmes))


CHECKS = (check_dependencies, check_training, check_evaluation, check_models,
          check_results_table)


def check_artifact(record: dict[str, Any]) -> list[Check]:
    """The five checklist items for one code artifact record.

    Parameters
    ----------
    record
        An artifact record (``results/<study>/artifacts/<name>.json``): ``status``,
        ``path``, ``reason``, and for a distribution its ``source`` or ``distribution``.

    Returns
    -------
    list of Check
        One per item of :data:`ITEMS`, judged on the artifact's own files
        (:func:`replikit.audit.files.own_files`: an archive unpacked, an installed
        distribution without its dependencies); all ``unknown`` when the artifact is
        unavailable, its path is missing, or it is one file that is not an archive.
    """
    path = Path(record["path"]) if record.get("path") else None
    if record.get("status") != "ok" or path is None or not path.exists():
        why = record.get("reason") or ("its folder is missing" if path else "not fetched")
        return [Check(item, "unknown", f"artifact unavailable: {why}") for item in ITEMS]
    try:
        with own_files(path, distribution_name(record)) as own:
            return checklist(own.root, own.files)
    except NotCode as exc:
        return [Check(item, "unknown", f"{exc}: there is no code to judge") for item in ITEMS]


def checklist(root: Path, files: list[Path]) -> list[Check]:
    """The five items for the files of one artifact (relative to ``root``)."""
    return [check(root, files) for check in CHECKS]


def is_original_code(record: dict[str, Any]) -> bool:
    """The paper's own code: role 'code' whose origin is 'original' (the default)."""
    return record.get("role") == "code" and (record.get("origin") or "original") == "original"


def other_code(artifacts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Code that is not the paper's (third-party packages, libraries): listed, not judged."""
    return [r for r in artifacts if r.get("role") == "code" and not is_original_code(r)]


def completeness_table(artifacts: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The checklist of the paper's code artifacts: artifact, item, status, reason, evidence.

    Third-party code and libraries are left out: they do not say how complete the paper's
    own code is.
    """
    rows = []
    for record in artifacts:
        if not is_original_code(record):
            continue
        for check in check_artifact(record):
            rows.append({"artifact": record.get("name"), **asdict(check),
                         "evidence": "; ".join(check.evidence)})
    return pd.DataFrame(rows, columns=["artifact", "item", "status", "reason", "evidence"])


# --------------------------------------------------------------------------- badges
BADGE_RULES = {
    "Artifacts Available": "awarded when every required artifact of the paper's own code "
    "(not third-party code or libraries) was fetched from a "
    "public source at a pinned version (a git commit, a package version or a file with its "
    "sha256). ACM asks for an archival repository with a DOI; a package index or a git host "
    "is public but not archival, which the reason says.",
    "Artifacts Evaluated — Functional": "awarded when the artifacts are available, the "
    "checklist finds declared dependencies and evaluation code, and every re-run check "
    "actually ran (none is 'not run').",
    "Results Reproduced": "awarded when every value and relational claim checked at the "
    "re-run level (the authors' code) is 'reproduced' or 'partially reproduced'; a check "
    "that did not run, was not comparable or was inconclusive withholds it. Time claims, "
    "absolute or as ratios, are left out: they depend on the machine.",
    "Results Replicated": "the same rule at the re-implement level (our own code).",
}
GOOD = ("reproduced", "partially reproduced")


@dataclass
class Badge:
    """One ACM badge: awarded or not, the rule applied, and why."""

    badge: str
    awarded: bool
    rule: str
    reason: str


def _pinned(record: dict[str, Any]) -> bool:
    source = record.get("source") or {}
    return bool(record.get("commit") or record.get("sha256") or "==" in str(source.get("ref")))


def _available(artifacts: list[dict[str, Any]]) -> Badge:
    code = [a for a in artifacts if is_original_code(a)]
    required = [a for a in code if not a.get("optional")] or code
    rule = BADGE_RULES["Artifacts Available"]
    if not required:
        return Badge("Artifacts Available", False, rule,
                     "the study lists no artifact of the paper's own code")
    missing = [a["name"] for a in required if a.get("status") != "ok" or not _pinned(a)]
    if missing:
        return Badge("Artifacts Available", False, rule,
                     f"not fetched or not pinned: {', '.join(missing)}")
    kinds = sorted({str((a.get("source") or {}).get("kind", "unknown")) for a in required})
    return Badge("Artifacts Available", True, rule,
                 f"{', '.join(a['name'] for a in required)} fetched and pinned (from "
                 f"{', '.join(kinds)}; public, not an archival repository)")


def _level_rows(ledger: pd.DataFrame, level: str) -> pd.DataFrame:
    rows = ledger[ledger["level"] == level]
    timed = rows["kind"].eq("time")
    if "metric" in rows.columns:   # a ratio of times, too, depends on the machine
        timed |= rows["metric"].fillna("").astype(str).str.contains("time")
    return rows[~timed]


def _functional(available: Badge, checklist: pd.DataFrame, ledger: pd.DataFrame) -> Badge:
    rule = BADGE_RULES["Artifacts Evaluated — Functional"]
    name = "Artifacts Evaluated — Functional"
    if not available.awarded:
        return Badge(name, False, rule, "the artifacts are not available")
    shown = set(checklist.loc[checklist["status"] == "yes", "item"])
    lacking = [item for item in ("dependencies", "evaluation code") if item not in shown]
    if lacking:
        return Badge(name, False, rule, f"no code artifact shows {' or '.join(lacking)}")
    rerun = ledger[ledger["level"] == "re-run"]
    if rerun.empty:
        return Badge(name, False, rule, "no claim was checked at the re-run level")
    not_run = rerun[rerun["verdict"] == "not run"]
    if len(not_run):
        return Badge(name, False, rule, f"{len(not_run)} of {len(rerun)} re-run checks did "
                     f"not run, e.g. {not_run['claim_id'].iloc[0]}: "
                     f"{not_run['reason'].iloc[0]}")
    return Badge(name, True, rule, f"dependencies and evaluation code found; all "
                 f"{len(rerun)} re-run checks ran")


def _results(name: str, level: str, ledger: pd.DataFrame) -> Badge:
    rule = BADGE_RULES[name if name == "Results Reproduced" else "Results Replicated"]
    rows = _level_rows(ledger, level)
    if rows.empty:
        return Badge(name, False, rule, f"no value or comparison claim was checked at the "
                     f"{level} level")
    counts = rows["verdict"].value_counts()
    said = ", ".join(f"{counts[v]} {v}" for v in counts.index)
    good = int(rows["verdict"].isin(GOOD).sum())
    if good == len(rows):
        return Badge(name, True, rule, f"all {len(rows)} {level} checks: {said}")
    return Badge(name, False, rule, f"{good} of {len(rows)} {level} checks are reproduced "
                 f"or partially reproduced ({said})")


def acm_badges(artifacts: Iterable[dict[str, Any]], checklist: pd.DataFrame,
               ledger: pd.DataFrame) -> list[Badge]:
    """The four ACM badges the evidence supports, each with its rule and reason.

    Parameters
    ----------
    artifacts
        Artifact records of the study.
    checklist
        :func:`completeness_table` of those records.
    ledger
        The claims ledger (columns claim_id, level, kind, verdict, reason).
    """
    artifacts = list(artifacts)
    available = _available(artifacts)
    return [available, _functional(available, checklist, ledger),
            _results("Results Reproduced", "re-run", ledger),
            _results("Results Replicated", "re-implement", ledger)]


def badge_table(badges: Iterable[Badge]) -> pd.DataFrame:
    return pd.DataFrame([{"badge": b.badge, "awarded": "yes" if b.awarded else "no",
                          "reason": b.reason} for b in badges],
                        columns=["badge", "awarded", "reason"])


__all__ = ["BADGE_RULES", "Badge", "Check", "ITEMS", "acm_badges", "badge_table",
           "check_artifact", "checklist", "completeness_table", "is_original_code", "other_code"]
