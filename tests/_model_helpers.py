"""A minimal stand-in for ``studies.bert4rec.data.SequentialSplit`` and toy sequence data.

It follows BERT4REC_INTERFACES.md exactly, so the model tests do not depend on the data
loader being written at the same time. Once ``studies/bert4rec/data.py`` exists, tests may
use it instead; this helper stays a plain, checked implementation of the same contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch


@dataclass(frozen=True)
class ToySplit:
    """Leave-one-out split: ``train`` per user, then ``valid`` and ``test`` items."""

    n_items: int
    users: np.ndarray
    item_ids: np.ndarray
    train: list[np.ndarray]
    valid: np.ndarray
    test: np.ndarray

    def histories(self, stage: str) -> list[np.ndarray]:
        """'valid': train; 'test': train + [valid]."""
        if stage == "valid":
            return list(self.train)
        if stage == "test":
            return [np.append(h, v) for h, v in zip(self.train, self.valid, strict=True)]
        raise ValueError(f"stage must be 'valid' or 'test', got {stage!r}")

    def targets(self, stage: str) -> np.ndarray:
        return {"valid": self.valid, "test": self.test}[stage]

    def item_popularity(self, stage: str) -> np.ndarray:
        counts = np.zeros(self.n_items + 1, dtype=np.int64)
        for history in self.histories(stage):
            np.add.at(counts, history, 1)
        return counts


def split_from_sequences(sequences: list[np.ndarray], n_items: int) -> ToySplit:
    """Leave the last two items of each sequence out (valid, then test)."""
    return ToySplit(
        n_items=n_items,
        users=np.arange(len(sequences)),
        item_ids=np.arange(n_items + 1),
        train=[np.asarray(s[:-2], dtype=np.int64) for s in sequences],
        valid=np.array([s[-2] for s in sequences], dtype=np.int64),
        test=np.array([s[-1] for s in sequences], dtype=np.int64),
    )


def successor_split(n_users: int = 128, n_items: int = 30, *, min_len: int = 6,
                    max_len: int = 20, seed: int = 0) -> ToySplit:
    """Deterministic pattern: item i is always followed by i + 1 (wrapping at n_items).

    Each user starts at a random item and walks forward, so the next item is fully
    determined by the last one, while popularity alone says nothing (all items are
    about equally frequent).
    """
    rng = np.random.default_rng(seed)
    sequences = []
    for _ in range(n_users):
        start, length = rng.integers(0, n_items), rng.integers(min_len, max_len + 1)
        sequences.append((start + np.arange(length)) % n_items + 1)
    return split_from_sequences(sequences, n_items)


def ndcg_at_10(scores: np.ndarray, targets: np.ndarray, histories: list[np.ndarray] | None
               = None) -> float:
    """Mean NDCG@10 of full ranking; history items excluded when ``histories`` is given."""
    scores = scores.copy()
    if histories is not None:
        for row, history in enumerate(histories):
            scores[row, history] = -np.inf
            scores[row, targets[row]] = scores[row, targets[row]]  # keep the target
    target_scores = scores[np.arange(len(targets)), targets]
    ranks = (scores > target_scores[:, None]).sum(axis=1)
    return float(np.where(ranks < 10, 1 / np.log2(ranks + 2), 0.0).mean())


@dataclass(frozen=True)
class Budget:
    """Same fields as ``replikit.ext.recsys.tuning.Budget``."""

    trials: int = 1
    epochs: int | None = None
    seconds: float | None = None
    steps: int | None = None


@pytest.fixture(autouse=False)
def one_thread():
    """Run a test on one CPU thread: the toy models are too small to gain from more, and
    on a busy shared machine a second thread mostly waits (then restore the setting)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
