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
# Measured, but on another data set, protocol or hardware than the paper's number: the
# measured value is information, not evidence for or against the claim.
NOT_COMPARABLE = "not comparable"
NOT_RUN = "not run"
VERDICTS: tuple[str, ...] = (REPRODUCED, PARTIAL, INCONCLUSIVE, NOT_REPRODUCED,
                             NOT_COMPARABLE, NOT_RUN)

# What a claim states: a value or a time (a number the paper prints), or a relation between
# experiments: a beats b ("comparison", superiority), a matches b within a margin
# ("equivalence"), a is k times b ("ratio"), a improves on b by r % ("improvement"), and
# a beats each of b1..bn ("best-of").
ClaimKind = Literal["value", "time", "comparison", "equivalence", "ratio", "improvement",
                    "best-of"]
CLAIM_KINDS: tuple[str, ...] = ("value", "time", "comparison", "equivalence", "ratio",
                                "improvement", "best-of")
#: Kinds judged against a number the paper prints (``reported`` with a ``tolerance``).
NUMBER_KINDS: tuple[str, ...] = ("value", "time", "ratio", "improvement")
#: Kinds that set two or more experiments against each other at a level.
RELATION_KINDS: tuple[str, ...] = ("comparison", "equivalence", "ratio", "improvement",
                                   "best-of")

# Why a run did not run: the ``kind`` of each cause a "not run" record carries
# (``causes: [{kind, name, detail}]``); the report counts them by kind and name.
ARTIFACT_UNAVAILABLE = "artifact-unavailable"   # name: the artifact
NEEDS_GPU = "needs-gpu"                         # name: the GPUs the experiment declares
NO_RUN_RECORD = "no-run-record"                 # name: the experiment
RUN_FAILED = "run-failed"                       # name: the experiment (a record without causes)
NOT_RUNNABLE = "not-runnable"                   # name: the experiment (its runner said so)
DECLARED_NOT_RUN = "declared-not-run"           # name: the claim level (the manifest says so)
TIME_LIMIT = "time-limit"                       # name: the declared resources.runtime
CAUSE_KINDS: tuple[str, ...] = (ARTIFACT_UNAVAILABLE, NEEDS_GPU, NO_RUN_RECORD, RUN_FAILED,
                                NOT_RUNNABLE, DECLARED_NOT_RUN, TIME_LIMIT)

# What code an artifact of role "code" is: the paper's own, another group's (a baseline's
# package, a replication), or a general library. Checklists and badges judge "original" only.
CodeOrigin = Literal["original", "third-party", "library"]
CODE_ORIGINS: tuple[str, ...] = ("original", "third-party", "library")
