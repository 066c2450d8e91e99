"""Validation NDCG@10 of one model over a few hyperparameter values: how the bert4rec
study's quick-profile values were chosen (its deviations cite this script's figures).

Trains on the training items only and ranks each user's validation item (never the test
item), with the study's own tuning code (an Optuna search without storage), one torch
thread, for the given epochs and seed::

    PYTHONPATH=. python bench/validation_sweep.py bert4rec \\
        --fixed '{"max_len": 50, "lr": 2e-3, "mask_prob": 0.4}' --space '{"batch_size": [16, 64]}'
    PYTHONPATH=. python bench/validation_sweep.py sasrec --space '{"batch_size": [32, 128]}'

Prints one line per point: the hyperparameters, validation NDCG@10 and wall seconds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from replikit.ext.recsys.tuning import Budget, grid_size, tune
from studies.bert4rec.data import load_movielens, make_split
from studies.bert4rec.runner import resolve_model

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=["bert4rec", "sasrec"])
    parser.add_argument("--fixed", type=json.loads, default={}, help="JSON: fixed values")
    parser.add_argument("--space", type=json.loads, required=True,
                        help='JSON: name -> list of values, e.g. {"batch_size": [32, 128]}')
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path,
                        default=ROOT / "resources" / "bert4rec" / "ml-100k" / "u.data")
    args = parser.parse_args()
    torch.set_num_threads(1)
    split = make_split(load_movielens(args.data, kind="ml-100k"))
    cls = resolve_model(args.model)
    budget = Budget(trials=grid_size(args.space), epochs=args.epochs)
    result = tune(lambda params: cls(**params), args.space, split, budget, seed=args.seed,
                  fixed=args.fixed)
    for trial in result.trials:
        print(json.dumps({"model": args.model, "params": trial["params"],
                          "valid full/ndcg@10": round(trial["value"], 4),
                          "wall_s": round(trial["wall_s"], 1)}), flush=True)


if __name__ == "__main__":
    main()
