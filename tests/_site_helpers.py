"""A project folder for the site tests: the three shipped studies and a tiny one, with results.

Running the shipped studies takes hours, so their results here are made up, honestly so:
each shipped manifest (``studies/<name>/study.yaml``, copied as it is) gets run records
written by :func:`fake_runs` (every value at the claim's own reference number, moved by a
per-experiment factor, plus small noise), and the real ledger stage
(:func:`replikit.evaluate.ledger.build_ledger`) turns them into ``claims.csv``. The
verdicts are therefore the ledger's, but the measurements are fixtures, not results.

What each study is made to show (the site's "needs attention" filter keys on it):

- ``surprise``: ML-1M unavailable, so every 1M experiment is "not run" (artifacts
  unavailable); the 100k runs land on the paper's numbers. No messages to the author.
- ``bert4rec``: the original code needs a GPU (not run); our SASRec on ML-1m lands 30 %
  below, so claims about it are "not reproduced" (red).
- ``rlzoo``: everything lands on the paper's numbers; nothing needs attention.
- ``tiny``: one claim, reproduced, but a message to the authors unanswered for 90 days.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from replikit.evaluate.claims_table import write_ledger
from replikit.evaluate.ledger import build_ledger
from replikit.evaluate.samples import measurement_samples, write_samples
from replikit.fileio import write_json
from replikit.run.harness import cause
from replikit.study import Study, load_study
from replikit.vocabulary import ARTIFACT_UNAVAILABLE, NEEDS_GPU

REPO = Path(__file__).resolve().parent.parent
SHIPPED = ("surprise", "bert4rec", "rlzoo")
AS_OF = "2026-11-30"
#: Per study: artifacts recorded unavailable, and factors moving an experiment's values.
#: ``ran``: the day the run records are dated (their mtime, which ``last_run`` reads).
PLANS: dict[str, dict[str, Any]] = {
    "surprise": {"unavailable": {"ml-1m"}, "factor": {}, "ran": "2026-11-20"},
    "bert4rec": {"unavailable": set(), "factor": {"ours-ml1m-sasrec": 0.7},
                 "ran": "2026-11-25"},
    "rlzoo": {"unavailable": set(), "factor": {}, "ran": "2026-10-01"},
    "tiny": {"unavailable": set(), "factor": {}, "ran": "2026-11-10"},
}

TINY = """\
schema_version: 1
name: tiny
summary: A one-claim study of a made-up paper, for the site tests.
paper:
  title: "Tiny results on tiny data"
  authors: [Ada Example]
  venue: Journal of Examples 2024
  year: 2024
  zotero: TINY0001
hardware:
  declared: {cpu: a laptop}
experiments:
  ours:
    description: our run
    implementation: reimplementation
    runner: run.py:run
    seeds: 3
claims:
  - id: C1
    text: "Accuracy is 0.9"
    source: Table 1
    metric: accuracy
    reported: 0.9
    decimals: 2
    tolerance: {absolute: 0.05}
    levels: {re-implement: ours}
"""

TINY_CONTACTS = """\
schema_version: 1
study: tiny
authors:
- name: Ada Example
messages:
- id: m1
  date: 2026-09-01
  direction: sent
  authors: [Ada Example]
  subject: Folds of Table 1
  summary: We asked which folds Table 1 used.
  questions:
  - {id: q1, text: "Which folds does Table 1 use?", claims: [C1]}
"""


def references(study: Study) -> dict[tuple[str, str], float]:
    """The number each experiment's metric should land on: the level's own reference
    value, else the claim's reported value (first claim wins)."""
    found: dict[tuple[str, str], float] = {}
    for claim in study.claims:
        for check in claim.levels.values():
            target = check.expected.value if check.expected else claim.reported
            for name in check.names():
                if target is not None:
                    found.setdefault((name, claim.metric), float(target))
    return found


def metrics_of(study: Study) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for claim in study.claims:
        for check in claim.levels.values():
            for name in check.names():
                used.setdefault(name, set()).add(claim.metric)
    return used


def fake_runs(study: Study, plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One run record per declared experiment and seed, as the harness would write it."""
    targets, used = references(study), metrics_of(study)
    records = []
    for name, exp in study.experiments.items():
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        missing = [a for a in exp.needs if a in plan["unavailable"]]
        causes = [cause(ARTIFACT_UNAVAILABLE, a, "no source reachable offline")
                  for a in missing]
        if exp.resources.gpus:
            causes.append(cause(NEEDS_GPU, f"{exp.resources.gpus} GPU(s)",
                                "0 available on this machine"))
        for seed in exp.seeds:
            record = {"study": study.name, "experiment": name, "seed": seed,
                      "implementation": exp.implementation}
            if causes:
                record.update(status="not-run", reason="fixture", causes=causes, metrics={})
            else:
                factor = plan["factor"].get(name, 1.0)
                metrics = {m: targets.get((name, m), 0.5) * factor
                           * (1 + float(rng.normal(0, 0.0005))) for m in used.get(name, ())}
                record.update(status="ok", reason="", metrics=metrics, wall_s=60.0,
                              cpu_s=55.0, peak_rss_mb=300.0, device="cpu")
            records.append(record)
    return records


def write_study(root: Path, name: str) -> Path:
    """Copy (or, for ``tiny``, write) the study's files and write its results folder."""
    folder = root / "studies" / name
    folder.mkdir(parents=True, exist_ok=True)
    if name == "tiny":
        (folder / "study.yaml").write_text(TINY, encoding="utf-8")
        (folder / "contacts.yaml").write_text(TINY_CONTACTS, encoding="utf-8")
    else:
        for file in ("study.yaml", "contacts.yaml"):
            if (REPO / "studies" / name / file).exists():
                shutil.copy(REPO / "studies" / name / file, folder / file)
    study = load_study(name, root)
    plan = PLANS[name]
    results = root / "results" / name
    records = fake_runs(study, plan)
    stamp = dt.datetime.fromisoformat(plan["ran"] + "T12:00:00+00:00").timestamp()
    for record in records:
        path = write_json(results / "runs" / record["experiment"] / f"seed={record['seed']}"
                          / "metrics.json", record)
        os.utime(path, (stamp, stamp))
    for artifact in study.artifacts:
        down = artifact in plan["unavailable"]
        write_json(results / "artifacts" / f"{artifact}.json", {
            "name": artifact, "status": "unavailable" if down else "ok",
            "reason": "no source reachable offline" if down else None})
    env = {"hardware_comparable": False, "hardware_note": "fixture results, not measured"}
    write_json(results / "env.json", env)
    ledger = build_ledger(study, records, hardware_comparable=False,
                          hardware_note=env["hardware_note"])
    write_ledger(ledger, results / "claims.csv")
    write_samples(measurement_samples(ledger, records), results / "samples.csv")
    return results


def build_project(root: Path) -> Path:
    """The four studies with results under ``root``; returns ``root``."""
    for name in (*SHIPPED, "tiny"):
        write_study(root, name)
    return root
