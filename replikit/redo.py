"""What the next workflow run makes again, found when it plans (its ``--forcerun`` targets).

Records that cannot be read, run records cut short, and artifacts recorded unavailable that
can be had now. Every record is read once per plan.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from replikit import paths
from replikit.workflow import artifact_record, artifact_records, study

log = logging.getLogger(__name__)

#: What every run record holds (:func:`replikit.run.harness.execute` writes them all); a
#: record without one was cut short or edited by hand.
RUN_RECORD_KEYS = ("study", "experiment", "seed", "status", "reason", "metrics")


def records_to_redo(study_name: str, *, offline: bool = False) -> list[str]:
    """Records the next run makes again.

    - An artifact recorded unavailable is fetched again only when it can now be had
      (:func:`replikit.fetch.probe.available_again`: its bytes are in the cache, or a source
      answers; with ``offline`` no source is asked), and the runs that need it, the ledger
      and the report follow; otherwise nothing changed and a re-run has nothing to do.
    - A record that is not a readable JSON mapping with a ``status`` is made again instead
      of failing the ledger.
    - A run record that reads but is not whole (:func:`run_record_problem`: a copy cut short
      and closed again can leave ``{"status": "ok"}``) is made again, or its seed would
      silently drop out of the ledger.

    The workflow hands these paths to Snakemake as ``--forcerun`` targets, so ``snakemake
    -n`` shows them.
    """
    redo, unavailable = [], []
    for path in map(Path, artifact_records(study_name)):
        record = _read_record(path)
        if record is None:
            redo.append(str(path))
        elif record is not _ABSENT and record["status"] != "ok":
            unavailable.append(path.stem)
    for name, experiment in study(study_name).experiments.items():
        for seed in experiment.seeds:
            path = paths.run_record(study_name, name, seed)
            record = _read_record(path)
            problem = run_record_problem(record, name, seed) if isinstance(record, dict) else ""
            if record is None or problem:
                if problem:
                    log.warning("%s is incomplete (%s); it is made again", path, problem)
                redo.append(str(path))
    again = _available_again(study_name, unavailable, offline) if unavailable else []
    if again:
        log.warning("artifact(s) %s recorded unavailable can be had now: fetching them again, "
                    "and rebuilding what depends on them", ", ".join(again))
    return redo + [artifact_record(study_name, name) for name in again]


def _available_again(study_name: str, unavailable: list[str], offline: bool) -> list[str]:
    # Imported only when an artifact is recorded unavailable: the fetching stack (pooch,
    # archives, git) costs a plan with nothing to look for ~0.09 s, a twentieth of a no-op.
    from replikit.fetch.probe import available_again

    return available_again(study(study_name), unavailable, offline=offline)


_ABSENT: Any = object()   # no record yet: Snakemake makes it anyway


def _read_record(path: Path) -> Any:
    """A record's content; None when it is unreadable or has no ``status``; ``_ABSENT``
    when there is no file."""
    if not path.exists():
        return _ABSENT
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        log.warning("%s is unreadable; it is made again", path)
        return None
    return record if isinstance(record, dict) and "status" in record else None


def run_record_problem(record: dict[str, Any], experiment: str, seed: int) -> str:
    """What makes a readable run record not whole ('' when it is whole)."""
    missing = [key for key in RUN_RECORD_KEYS if key not in record]
    if missing:
        return f"no {', '.join(missing)}"
    if (record["experiment"], record["seed"]) != (experiment, seed):
        return f"it is the record of {record['experiment']} seed {record['seed']}"
    if record["status"] == "ok" and not (isinstance(record["metrics"], dict)
                                         and record["metrics"] and "wall_s" in record):
        return "an ok run without its metrics or wall time"
    return ""
