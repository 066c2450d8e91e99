"""Helpers shared by the ranking, bert4rec data, baselines, tuning and runner tests.

The bert4rec study's modules live in the package ``studies/bert4rec/`` and import each other
relatively (``from .data import ...``); :func:`study_module` imports one as
``studies.bert4rec.<name>``.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import numpy as np
import pandas as pd

STUDY_DIR = Path(__file__).resolve().parents[1] / "studies" / "bert4rec"


def study_module(name: str):
    """Import ``studies/bert4rec/<name>.py`` as a module of the study's package."""
    module = importlib.import_module(f"studies.bert4rec.{name}")
    assert Path(module.__file__).resolve().parent == STUDY_DIR, (
        f"module {name!r} was imported from {module.__file__}, not from {STUDY_DIR}"
    )
    return module


def synthetic_ratings(n_users: int = 40, n_items: int = 30, *, seed: int = 0,
                      min_len: int = 6, max_len: int = 20) -> pd.DataFrame:
    """Ratings with sequential structure: each user walks forward through the item ids.

    A user starts at a random item and mostly steps to the next id (so the last items are
    predictable from the recent history), sometimes jumping at random. Timestamps increase
    per user, with some repeats (ties) to exercise the stable order.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, n_users + 1):
        length = int(rng.integers(min_len, max_len + 1))
        item = int(rng.integers(1, n_items + 1))
        stamp = 1_000_000 + int(rng.integers(0, 1000))
        seen = set()
        for _ in range(length):
            while item in seen:
                item = item % n_items + 1
            seen.add(item)
            rows.append((user, item, int(rng.integers(1, 6)), stamp))
            item = item % n_items + 1 if rng.random() < 0.8 else int(rng.integers(1, n_items + 1))
            stamp += int(rng.integers(0, 3))  # 0 gives a tie
    return pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])


def write_ratings(frame: pd.DataFrame, path: Path, kind: str) -> Path:
    """Write ratings as ML-1m ``ratings.dat`` ('::') or ML-100k ``u.data`` (tab)."""
    sep = "::" if kind == "ml-1m" else "\t"
    lines = [sep.join(str(v) for v in row) for row in frame[
        ["user", "item", "rating", "timestamp"]].itertuples(index=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class RecordingModel:
    """A protocol-following model for tests: popularity plus a per-item offset.

    It records which stage it was fitted on and calls ``on_epoch`` once per budgeted
    epoch, as a neural trainer would; ``bonus`` (a hyperparameter) adds to item 1's score.
    """

    name = "recording"
    fitted_stages: list[str] = []

    def __init__(self, bonus: float = 0.0, epochs: int = 3) -> None:
        self.bonus = bonus
        self.epochs = epochs
        self.popularity_ = None

    def fit(self, split, *, seed, budget, on_epoch=None):
        RecordingModel.fitted_stages.append(split.fit_stage)
        items = np.concatenate(split.fit_histories())
        self.popularity_ = np.bincount(items, minlength=split.n_items + 1).astype(np.float32)
        self.popularity_[1] += self.bonus
        epochs = min(self.epochs, budget.epochs or self.epochs)
        curve, started = [], time.perf_counter()
        for epoch in range(1, epochs + 1):
            point = {"step": epoch, "seconds": time.perf_counter() - started}
            if on_epoch is not None:
                point["metric"] = on_epoch(epoch, point["seconds"])
            curve.append(point)
        return {"epochs": epochs, "steps": epochs, "train_seconds": 0.0, "curve": curve}

    def score(self, histories):
        return np.tile(self.popularity_, (len(histories), 1))
