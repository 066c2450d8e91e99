"""What a ranking figure was measured under, as a mapping compared key by key.

A figure of ours and a peer library's are comparable only where every key below is equal
(:func:`replikit.study.comparable.differing_keys`); the run records of a study
(``extra.protocol``, one mapping per metric key, written by the study's runner) and the
rows of a peer bench both carry the mapping this module builds, so the two sides use the
same words by construction.

Keys: ``data`` (sha256 of the ratings file read), ``filter``, ``split``, ``ranking``
(``full`` or the sampled protocol with its sampler and number of negatives),
``exclude_history``, ``ties``, ``cutoff`` (of the metric), ``budget`` (epochs, optimiser
steps or seconds per fit) and ``selection`` (how hyperparameters and weights were chosen).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from replikit.ext.recsys.ranking import N_NEGATIVES

RANKINGS = {
    "full": "full (every item)",
    "pop100": f"sampled: {N_NEGATIVES} popularity-weighted negatives, without replacement",
    "uni100": f"sampled: {N_NEGATIVES} uniform negatives, with replacement",
}
SPLIT = "leave-one-out in time order (file order breaks timestamp ties)"
TIES = "pessimistic (an equal score ranks above the target)"


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def filter_text(min_user: int = 5, min_item: int = 5, min_rating: float | None = None) -> str:
    """The interaction filter in words: thresholds and the rating floor (none: every rating)."""
    rating = "every rating" if min_rating is None else f"ratings >= {min_rating}"
    return f"{rating}; users and items with >= {min_user} / {min_item} interactions"


def budget_text(budget: Any) -> str:
    """``'steps=50'``, ``'epochs=10, seconds<=120'``: the bounds a fit ran under."""
    parts = [f"{key}={getattr(budget, key)}" for key in ("epochs", "steps")
             if getattr(budget, key, None) is not None]
    if getattr(budget, "seconds", None) is not None:
        parts.append(f"seconds<={budget.seconds:g}")
    return ", ".join(parts)


def ranking_protocol(*, data_sha256: str, filter: str, ranking: str, exclude_history: bool,
                     budget: str, selection: str) -> dict[str, Any]:
    """The mapping without the metric's cut-off (one per ranking protocol of a run)."""
    return {"data": data_sha256, "filter": filter, "split": SPLIT,
            "ranking": RANKINGS[ranking], "exclude_history": bool(exclude_history),
            "ties": TIES, "budget": budget, "selection": selection}


def metric_protocol(base: Mapping[str, Any], metric: str) -> dict[str, Any]:
    """The mapping of one metric (``'ndcg@10'``, ``'mrr'``): its ranking's plus the cut-off."""
    _, _, cutoff = metric.partition("@")
    return {**base, "cutoff": int(cutoff) if cutoff.isdigit() else None}
