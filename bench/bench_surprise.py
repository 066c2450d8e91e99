"""Time and accuracy of our re-implementations against the original Surprise, same folds.

Usage::

    PYTHONPATH=. python bench/bench_surprise.py path/to/u.data [--dataset ml-100k]
        [--folds 5] [--seed 0] [--algorithms SVD BaselineOnly NormalPredictor]
        [--surprise-site FOLDER]

For each algorithm, runs the study's two runners (``original.py:cross_validate_original``
and ``ours.py:cross_validate_ours``) on the ratings file and prints the mean RMSE and MAE
over the folds and the wall time of the whole cross-validation. ``--surprise-site`` is the
folder holding the installed ``surprise`` package (default: the one Python imports).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from replikit.run.harness import RunContext, load_runner
from replikit.study import Experiment, load_study

ROOT = Path(__file__).resolve().parents[1]

RUNNERS = {"original": "original.py:cross_validate_original", "ours": "ours.py:cross_validate_ours"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ratings", type=Path, help="u.data (ml-100k) or ratings.dat (ml-1m)")
    parser.add_argument("--dataset", choices=["ml-100k", "ml-1m"], default=None,
                        help="file format; default: ml-1m for *.dat files, else ml-100k")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--algorithms", nargs="+",
                        default=["SVD", "BaselineOnly", "NormalPredictor"])
    parser.add_argument("--surprise-site", type=Path, default=None,
                        help="folder holding the installed 'surprise' package")
    return parser.parse_args(argv)


def default_surprise_site() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("surprise")
    if spec is None or spec.origin is None:
        raise SystemExit("surprise is not installed here: pass --surprise-site FOLDER")
    return Path(spec.origin).resolve().parents[1]


def run_one(study, implementation: str, params: dict, seed: int, artifacts: dict) -> dict:
    """Call one runner as the harness would, with an ad-hoc experiment."""
    spec = RUNNERS[implementation]
    experiment = Experiment(
        description=f"bench: {implementation} {params['algorithm']}",
        implementation="original" if implementation == "original" else "reimplementation",
        runner=spec, params=params, needs=sorted(artifacts), seeds=[seed],
    )
    records = {name: {"status": "ok", "path": str(path)} for name, path in artifacts.items()}
    context = RunContext(study, f"bench-{implementation}", experiment, seed, records,
                         Path.cwd())
    return load_runner(study, spec)(context)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    dataset = args.dataset or ("ml-1m" if args.ratings.suffix == ".dat" else "ml-100k")
    site = args.surprise_site or default_surprise_site()
    study = load_study("surprise", root=ROOT)
    artifacts = {dataset: args.ratings.resolve(), "scikit-surprise": site}
    print(f"{dataset} from {args.ratings}, {args.folds}-fold CV, seed {args.seed}; "
          f"original from {site}")
    header = f"{'algorithm':<16} {'code':<9} {'RMSE':>8} {'MAE':>8} {'time_s':>8}  extra"
    print(header)
    print("-" * len(header))
    for algorithm in args.algorithms:
        for implementation in ("original", "ours"):
            params = {"algorithm": algorithm, "dataset": dataset, "folds": args.folds}
            if implementation == "original":
                params["kwargs"] = {}  # the runner seeds the benchmark's seeded algorithms
            result = run_one(study, implementation, params, args.seed, artifacts)
            m = result["metrics"]
            note = ""
            if implementation == "ours" and result["extra"].get("compile_s"):
                note = f"numba compile {result['extra']['compile_s']:.2f}s (not timed)"
            print(f"{algorithm:<16} {implementation:<9} {m['rmse']:>8.4f} {m['mae']:>8.4f} "
                  f"{m['time_s']:>8.2f}  {note}", flush=True)


if __name__ == "__main__":
    main()
