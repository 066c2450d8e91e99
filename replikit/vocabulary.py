"""The words every stage shares, each defined once: verification levels, verdicts, claim kinds.

A study's manifest, the ledger, the figures, the report and the letter all spell these
words; they import them from here instead of writing them again.
"""

from __future__ import annotations

from typing import Literal

# The three levels of verification, in the order a report shows them.
Level = Literal["re-run", "re-implement", "generalize"]
LEVELS: tuple[str, ...] = ("re-run", "re-implement", "generalize")
LEVEL_ORDER = {level: index for index, level in enumerate(LEVELS)}

# Verdicts, from best to worst, then the outcome of a level that could not run.
REPRODUCED = "reproduced"
PARTIAL = "partially reproduced"
INCONCLUSIVE = "inconclusive"
NOT_REPRODUCED = "not reproduced"
NOT_RUN = "not run"
VERDICTS: tuple[str, ...] = (REPRODUCED, PARTIAL, INCONCLUSIVE, NOT_REPRODUCED, NOT_RUN)

# What a claim states: a value, a time, or a relation between two experiments.
ClaimKind = Literal["value", "time", "comparison"]
CLAIM_KINDS: tuple[str, ...] = ("value", "time", "comparison")

# Why a run did not run: the ``kind`` of each cause a "not run" record carries
# (``causes: [{kind, name, detail}]``); the report counts them by kind and name.
ARTIFACT_UNAVAILABLE = "artifact-unavailable"   # name: the artifact
NEEDS_GPU = "needs-gpu"                         # name: the GPUs the experiment declares
NO_RUN_RECORD = "no-run-record"                 # name: the experiment
RUN_FAILED = "run-failed"                       # name: the experiment (a record without causes)
TIME_LIMIT = "time-limit"                       # name: the declared resources.runtime
CAUSE_KINDS: tuple[str, ...] = (ARTIFACT_UNAVAILABLE, NEEDS_GPU, NO_RUN_RECORD, RUN_FAILED,
                                TIME_LIMIT)
