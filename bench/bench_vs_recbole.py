"""Our SASRec and BERT4Rec against RecBole 1.2.1's, side by side, on the same ML-100k file.

Both libraries get the same ``u.data``, the same protocol (5-core filter, leave-one-out in
time order, full ranking with the user's history excluded) and the same number of epochs,
in one run on this machine. Ours run with the bert4rec study's quick-profile settings
(``studies/bert4rec/study.yaml``, experiments ``ml100k-sasrec`` and ``ml100k-bert4rec``,
the first value of each searched hyperparameter) and train on training + validation
items, as the study's final fit does; RecBole runs with its own model defaults through its
own trainer (``bench/recbole_side.py``), trained on the training items and validated once
after the last epoch. Printed per model and library: test NDCG@10 and HR@10, wall and CPU
seconds (the whole process: loading, training, testing), and the time ratio.

RecBole is not a dependency of replikit. Install it in a virtual environment of its own
(RecBole 1.2.1 needs numpy < 2, since it uses ``np.float_``; pandas 2.2 and scipy 1.13
are the last it runs with)::

    python3 -m venv ../recbole-venv
    ../recbole-venv/bin/pip install torch==2.13.0 recbole==1.2.1 \\
        numpy==1.26.4 pandas==2.2.3 scipy==1.13.1

then, after ``replikit fetch bert4rec`` (which puts ML-100k under ``resources/``)::

    PYTHONPATH=. python bench/bench_vs_recbole.py --recbole-python ../recbole-venv/bin/python

(or set ``RECBOLE_PYTHON``). ``--threads 2`` (the default) gives each side two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from replikit.errors import ReplikitError
from replikit.ext.recsys.tuning import Budget, fit_and_test
from replikit.study import load_study
from studies.bert4rec.data import load_movielens, make_split
from studies.bert4rec.runner import resolve_model

ROOT = Path(__file__).resolve().parents[1]
RECBOLE_SIDE = ROOT / "bench" / "recbole_side.py"
MODELS = {"sasrec": "SASRec", "bert4rec": "BERT4Rec"}  # ours -> RecBole's model name


def study_settings(model: str) -> dict:
    """The quick profile's fixed hyperparameters plus the first value of each searched one."""
    params = load_study("bert4rec", ROOT).experiment_params(f"ml100k-{model}", "quick")
    first = {name: values[0] for name, values in (params.get("space") or {}).items()
             if isinstance(values, list)}
    return {**(params.get("hyperparameters") or {}), **first}


def run_ours(model: str, data: Path, epochs: int, seed: int) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    split = make_split(load_movielens(data, kind="ml-100k"))
    cls = resolve_model(model)
    settings = study_settings(model)
    final = fit_and_test(lambda p: cls(**p), settings, split,
                         Budget(epochs=epochs), seed=seed, protocols=["full"])
    result = final["results"]["full"]["aggregate"]
    return {"library": "replikit", "model": model, "seed": seed, "epochs": epochs,
            "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_1min": os.getloadavg()[0],
            "settings": settings,
            "ndcg@10": float(result["ndcg@10"]), "hr@10": float(result["hr@10"]),
            "users": len(split.users), "items": int(split.n_items),
            "wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}


def run_recbole(python: str, model: str, data: Path, epochs: int, seed: int,
                threads: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="recbole-") as workdir:
        command = [python, str(RECBOLE_SIDE), "--data", str(data), "--model", MODELS[model],
                   "--epochs", str(epochs), "--seed", str(seed), "--threads", str(threads),
                   "--workdir", workdir]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise ReplikitError("RecBole's run failed", where=" ".join(command),
                            found=done.stderr.strip().splitlines()[-1] if done.stderr else "",
                            fix="check RecBole's venv (see this file's docstring)")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    return {**record, "process_wall_s": wall, "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "load_1min": os.getloadavg()[0]}


def reused_rows(path: Path, run_now: list[str], models: list[str], epochs: int,
                seeds: set[int]) -> list[dict]:
    """The rows of ``path`` for the libraries not run now, the same models, epochs and seeds."""
    names = {model.lower() for model in models}
    return [row for row in json.loads(path.read_text())
            if row["library"] not in run_now and row["model"].lower() in names
            and row["epochs"] == epochs and row["seed"] in seeds]


def print_table(rows: list[dict]) -> None:
    print(f"{'model':<9} {'library':<9} {'seed':>4} {'users':>5} {'items':>5} "
          f"{'NDCG@10':>8} {'HR@10':>7} {'wall s':>8} {'cpu s':>8}")
    for row in rows:
        print(f"{row['model'].lower():<9} {row['library']:<9} {row['seed']:>4} "
              f"{row['users']:>5} {row['items']:>5} {row['ndcg@10']:>8.4f} {row['hr@10']:>7.4f} "
              f"{row['wall_s']:>8.1f} {row['cpu_s']:>8.1f}")
    for model in MODELS:
        ours = [r for r in rows if r["library"] == "replikit" and r["model"] == model]
        theirs = [r for r in rows if r["library"] == "recbole" and r["model"] == MODELS[model]]
        if ours and theirs:
            ratio = sum(r["wall_s"] for r in ours) / sum(r["wall_s"] for r in theirs)
            cpu = sum(r["cpu_s"] for r in ours) / sum(r["cpu_s"] for r in theirs)
            print(f"{model}: our wall time is {ratio:.3f} of RecBole's (CPU time {cpu:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=ROOT / "resources" / "bert4rec" / "ml-100k" / "u.data")
    parser.add_argument("--recbole-python", default=os.environ.get("RECBOLE_PYTHON"),
                        help="python of RecBole's venv (default: $RECBOLE_PYTHON)")
    parser.add_argument("--models", default="sasrec,bert4rec")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", default="0", help="comma-separated, e.g. 0,1,2")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--libraries", default="replikit,recbole",
                        help="which sides to run (one side alone: e.g. after changing a model)")
    parser.add_argument("--json", type=Path, help="also write every row to this file")
    parser.add_argument("--reuse", type=Path,
                        help="rows of an earlier --json run for the sides not run now (e.g. "
                        "RecBole's, which take hours on 2 cores); each reused row keeps its "
                        "'measured' time stamp")
    args = parser.parse_args()
    libraries = args.libraries.split(",")
    if "recbole" in libraries and not args.recbole_python:
        sys.exit("give --recbole-python or set RECBOLE_PYTHON (see this file's docstring)")
    torch.set_num_threads(args.threads)
    rows = []
    for model in args.models.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            if "replikit" in libraries:
                rows.append(run_ours(model, args.data, args.epochs, seed))
                print(json.dumps(rows[-1]), flush=True)
            if "recbole" in libraries:
                rows.append(run_recbole(args.recbole_python, model, args.data, args.epochs,
                                        seed, args.threads))
                print(json.dumps(rows[-1]), flush=True)
    if args.reuse:
        rows += reused_rows(args.reuse, libraries, args.models.split(","), args.epochs,
                            {int(s) for s in args.seeds.split(",")})
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
