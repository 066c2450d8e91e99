"""Re-run of Surprise's benchmark with the pinned original library.

The protocol is the one of ``examples/benchmark.py`` in NicolasHug/Surprise, which produced
the README tables: Python's ``random`` and NumPy's global generator are seeded once, the
dataset is read with the built-in reader of its name, one ``KFold(random_state=seed)``
splits it into 5 folds (the same folds for every algorithm), and the time of one call to
``cross_validate(algo, data, ["rmse", "mae"], kf)`` is the algorithm's time. Algorithms get
their default parameters, plus ``random_state`` where the benchmark passes one.

The library is imported from the study's ``scikit-surprise`` artifact (a folder holding the
installed package), never from wherever Python would find it first, so the numbers come from
the pinned release and the record says which files produced them.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from replikit.errors import ReplikitError

#: The algorithms of the benchmark, by the class name Surprise exports them under.
ALGORITHMS = (
    "SVD", "SVDpp", "NMF", "SlopeOne", "KNNBasic", "KNNWithMeans", "KNNBaseline",
    "CoClustering", "BaselineOnly", "NormalPredictor",
)

#: Built-in reader names of Surprise, one per dataset artifact of the study.
READERS = {"ml-100k": "ml-100k", "ml-1m": "ml-1m"}

#: The algorithms the benchmark builds with ``random_state``: they get the run's seed.
SEEDED = ("SVD", "SVDpp", "NMF", "CoClustering")


def cross_validate_original(ctx) -> dict[str, Any]:
    """Run the pinned Surprise's ``cross_validate`` as ``examples/benchmark.py`` does.

    Parameters
    ----------
    ctx : replikit.run.harness.RunContext
        ``ctx.params`` holds ``algorithm`` (a Surprise class name), ``kwargs`` (its keyword
        arguments), ``dataset`` (``ml-100k`` or ``ml-1m``, also the artifact's name) and
        ``folds``. ``ctx.seed`` seeds the global generators, the fold split and, for the
        :data:`SEEDED` algorithms, the model's ``random_state``.

    Returns
    -------
    dict
        ``metrics``: mean ``rmse`` and ``mae`` over the folds and ``time_s``, the wall time
        of ``cross_validate``; ``folds``: per-fold ``rmse``, ``mae``, ``fit_time`` and
        ``test_time``; ``extra``: the library's version and location, the resolved keyword
        arguments and the dataset's size.
    """
    params = ctx.params
    algorithm = params.get("algorithm")
    dataset = params.get("dataset")
    n_folds = int(params.get("folds", 5))
    where = f"studies/surprise/study.yaml: experiments.{ctx.experiment_name}.params"
    _check_choice("algorithm", algorithm, ALGORITHMS, where)
    _check_choice("dataset", dataset, tuple(READERS), where)
    kwargs = resolve_kwargs(algorithm, params.get("kwargs") or {}, ctx.seed)

    site = ctx.artifact("scikit-surprise")
    surprise = import_pinned_surprise(site)
    from surprise.model_selection import KFold, cross_validate

    # Exactly the benchmark's seeding: NormalPredictor draws from NumPy's global generator.
    np.random.seed(ctx.seed)
    random.seed(ctx.seed)
    reader = surprise.Reader(READERS[dataset])
    data = surprise.Dataset.load_from_file(str(ctx.artifact(dataset)), reader=reader)
    folds = KFold(n_splits=n_folds, random_state=ctx.seed)
    algo = getattr(surprise, algorithm)(**kwargs)

    start = time.time()
    out = cross_validate(algo, data, ["rmse", "mae"], folds)
    elapsed = time.time() - start

    return {
        "metrics": {
            "rmse": float(np.mean(out["test_rmse"])),
            "mae": float(np.mean(out["test_mae"])),
            "time_s": elapsed,
        },
        "folds": [
            {"fold": k, "rmse": float(out["test_rmse"][k]), "mae": float(out["test_mae"][k]),
             "fit_time": float(out["fit_time"][k]), "test_time": float(out["test_time"][k])}
            for k in range(n_folds)
        ],
        "extra": {
            "surprise_version": surprise.__version__,
            "surprise_path": str(Path(surprise.__file__).resolve().parent),
            "numpy_version": np.__version__,
            "algorithm": algorithm,
            "kwargs": kwargs,
            "dataset": dataset,
            "n_ratings": len(data.raw_ratings),
            "n_folds": n_folds,
            "fold_seed": ctx.seed,
            "protocol": "examples/benchmark.py: np.random.seed, random.seed, "
                        "KFold(random_state=seed), cross_validate(algo, data, "
                        "['rmse', 'mae'], kf); time.time() around cross_validate",
        },
    }


def resolve_kwargs(algorithm: str, kwargs: dict[str, Any], seed: int) -> dict[str, Any]:
    """The algorithm's keyword arguments: a :data:`SEEDED` one gets ``random_state=seed``.

    Examples
    --------
    >>> resolve_kwargs("SVDpp", {"cache_ratings": True}, 3)
    {'random_state': 3, 'cache_ratings': True}
    >>> resolve_kwargs("SlopeOne", {}, 3)
    {}
    """
    seeded = {"random_state": seed} if algorithm in SEEDED else {}
    return {**seeded, **kwargs}


def import_pinned_surprise(site: Path) -> ModuleType:
    """Import ``surprise`` from the artifact folder ``site`` and nowhere else.

    Parameters
    ----------
    site : Path
        A folder that holds the installed package (``site/surprise/__init__.py``), as
        ``pip install --target`` makes it.

    Raises
    ------
    ReplikitError
        If the folder holds no ``surprise`` package, or ``surprise`` was already imported
        from another place (a second copy cannot be loaded into the same process), or the
        import ends up elsewhere.
    """
    site = Path(site).resolve()
    if not (site / "surprise" / "__init__.py").is_file():
        raise ReplikitError(
            "the scikit-surprise artifact holds no 'surprise' package",
            where=str(site), expected=f"{site / 'surprise' / '__init__.py'}",
            found=", ".join(sorted(p.name for p in site.iterdir())[:10]) if site.is_dir()
            else "no such folder",
            fix="re-fetch the artifact: replikit fetch surprise",
        )
    loaded = sys.modules.get("surprise")
    if loaded is None:
        loaded = _import_package("surprise", site / "surprise")
    location = Path(loaded.__file__).resolve()
    if not location.is_relative_to(site):
        raise ReplikitError(
            "surprise was imported from outside the pinned artifact",
            where=str(location), expected=f"a file under {site}", found=str(location),
            fix="run the experiment in a fresh process (replikit run / snakemake) so the "
                "pinned copy is the first one imported",
        )
    return loaded


def _import_package(name: str, folder: Path) -> ModuleType:
    """Import the package in ``folder`` as ``name``, without putting its parent on sys.path."""
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        spec.loader.exec_module(package)
    except BaseException:
        del sys.modules[name]
        raise
    return package


def _check_choice(key: str, value: Any, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        raise ReplikitError(
            f"unknown {key} {value!r}", where=f"{where}.{key}",
            expected=f"one of {list(allowed)}", found=repr(value),
            fix=f"use one of the {key}s of Surprise's benchmark",
        )
