"""Fixtures for the Surprise study's tests: synthetic rating files and run contexts."""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

import numpy as np
import surprise

from replikit.run.harness import RunContext, import_study, load_runner
from replikit.study import Experiment, load_study

ROOT = Path(__file__).resolve().parents[1]

#: The folder holding the installed ``surprise`` package: stands in for the pip --target
#: artifact, so the runner imports the very copy the tests compare against.
SURPRISE_SITE = Path(surprise.__file__).resolve().parents[1]

SEPARATORS = {"ml-100k": "\t", "ml-1m": "::"}


def low_rank_ratings(
    n_users: int, n_items: int, n_ratings: int, *, rank: int = 3, noise: float = 0.3,
    seed: int = 0, integer: bool = True, singletons: int = 0,
) -> list[tuple[int, int, float]]:
    """Ratings from a low-rank model with biases, on 1..5, each (user, item) pair once.

    Users and items are numbered from 1 as in MovieLens. ``singletons`` extra users and
    as many extra items get a single rating each, so that test folds hold users and items
    their training part never saw.
    """
    rng = np.random.default_rng(seed)
    user_bias = rng.normal(0, 0.5, n_users)
    item_bias = rng.normal(0, 0.5, n_items)
    p = rng.normal(0, 0.6, (n_users, rank))
    q = rng.normal(0, 0.6, (n_items, rank))
    cells = rng.choice(n_users * n_items, size=n_ratings, replace=False)
    users, items = np.divmod(cells, n_items)
    raw = 3.5 + user_bias[users] + item_bias[items] + np.einsum("kr,kr->k", p[users], q[items])
    raw = raw + rng.normal(0, noise, n_ratings)
    values = np.clip(np.rint(raw) if integer else raw, 1, 5)
    rows = [(int(u) + 1, int(i) + 1, float(r))
            for u, i, r in zip(users, items, values, strict=True)]
    for k in range(singletons):
        rows.insert(rng.integers(len(rows)), (n_users + 1 + k, 1 + k % n_items, 4.0))
        rows.insert(rng.integers(len(rows)), (1 + k % n_users, n_items + 1 + k, 2.0))
    return rows


def write_ratings(path: Path, rows: list[tuple[int, int, float]], dataset: str = "ml-100k") -> Path:
    """Write rows as MovieLens' u.data (tabs) or ratings.dat ('::'), with timestamps."""
    sep = SEPARATORS[dataset]
    lines = []
    for k, (user, item, rating) in enumerate(rows):
        value = str(int(rating)) if float(rating).is_integer() else repr(rating)
        lines.append(sep.join([str(user), str(item), value, str(874965758 + k)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@functools.cache
def surprise_study():
    """The study manifest, validated once per test session."""
    return load_study("surprise", root=ROOT)


def make_context(
    runner: str, params: dict[str, Any], seed: int, artifacts: dict[str, Path],
    workdir: Path,
) -> RunContext:
    """A RunContext for an ad-hoc experiment of the surprise study."""
    study = surprise_study()
    experiment = Experiment(
        description="test experiment",
        implementation="original" if runner.startswith("original") else "reimplementation",
        runner=runner, params=params, needs=sorted(artifacts), seeds=[seed],
    )
    records = {name: {"status": "ok", "path": str(path)} for name, path in artifacts.items()}
    return RunContext(study, "test-experiment", experiment, seed, records, workdir)


def run(runner: str, params: dict[str, Any], seed: int, artifacts: dict[str, Path],
        workdir: Path) -> dict[str, Any]:
    """Resolve ``runner`` as the harness does and call it with a fresh context."""
    context = make_context(runner, params, seed, artifacts, workdir)
    return load_runner(context.study, runner)(context)


def study_module(stem: str):
    """A module of studies/surprise, imported as a module of the package the harness makes."""
    package = import_study(surprise_study().dir)
    return importlib.import_module(f"{package.__name__}.{stem}")
