"""Timings of the bert4rec study's data, baselines and ranking at MovieLens-1M scale.

ML-1m itself is fetched, never committed; this script writes a synthetic ``ratings.dat``
of the same shape (6,040 users, 3,706 items, about 1M ratings, Zipf-like popularity) to a
temporary folder, or times a real one given as the first argument::

    PYTHONPATH=. python bench/bench_bert4rec_baselines.py [path/to/ratings.dat]

It prints seconds for loading, splitting, fitting MostPop and ItemKNN on the test stage and
evaluating each protocol (scoring every user and ranking), plus NDCG@10.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from replikit.ext.recsys.ranking import PROTOCOLS, evaluate
from studies.bert4rec import baselines, data


def synthetic_ml1m(path: Path, seed: int = 0) -> Path:
    """~1M ratings in ML-1m's ``user::item::rating::timestamp`` format."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(4.6, 0.9, 6040), 20, 2300)
    lengths = np.maximum((lengths * 1_000_209 / lengths.sum()).astype(int), 20)
    weights = 1.0 / np.arange(1, 3707) ** 0.9
    weights /= weights.sum()
    lines = []
    for user, n in enumerate(lengths, start=1):
        items = rng.choice(3706, size=min(int(n), 3000), replace=False, p=weights) + 1
        stamps = 956_703_932 + np.sort(rng.integers(0, 10**7, size=items.size))
        ratings = rng.integers(1, 6, size=items.size)
        lines.extend(f"{user}::{i}::{r}::{t}" for i, r, t in zip(items, ratings, stamps,
                                                                  strict=True))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def timed(label: str, func):
    started = time.perf_counter()
    result = func()
    print(f"{label:<40s} {time.perf_counter() - started:7.2f} s", flush=True)
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(sys.argv[1]) if len(sys.argv) > 1 else synthetic_ml1m(Path(tmp) / "r.dat")
        ratings = timed(f"load_movielens ({path.name})", lambda: data.load_movielens(path))
        split = timed("make_split", lambda: data.make_split(ratings))
        print(split.describe())
        for model in (baselines.MostPop(), baselines.ItemKNN(neighbours=100, decay=0.8)):
            timed(f"{model.name}.fit (test stage)",
                  lambda m=model: m.fit(split.for_stage("test"), seed=0))
            for protocol in PROTOCOLS:
                out = timed(f"{model.name} evaluate {protocol}",
                            lambda m=model, p=protocol: evaluate(m, split, "test", p, seed=0))
                print(f"    ndcg@10 = {out['aggregate']['ndcg@10']:.4f}")


if __name__ == "__main__":
    main()
