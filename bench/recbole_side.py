"""RecBole's side of bench_vs_recbole.py: run inside RecBole's own virtual environment.

Usage (the bench calls it; by hand only to debug)::

    <recbole-venv>/bin/python bench/recbole_side.py --data u.data --model SASRec \
        --epochs 10 --seed 0 --threads 2 --workdir /tmp/rb

Reads MovieLens-100k ``u.data`` (tab-separated, no header), writes it in RecBole's atomic
format, runs RecBole's own trainer with its model defaults, and prints one JSON line:
test NDCG@10, HR@10, the number of users and items after filtering, and wall seconds.
Imports only RecBole and its dependencies, never replikit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"


def write_atomic(u_data: Path, workdir: Path) -> Path:
    """``workdir/ml-100k/ml-100k.inter``: u.data with RecBole's typed header line."""
    folder = workdir / "ml-100k"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "ml-100k.inter"
    target.write_text(HEADER + u_data.read_text())
    return workdir


def settings(args: argparse.Namespace, data_path: Path) -> dict:
    """The bench's protocol in RecBole's words; model hyperparameters stay RecBole's defaults.

    Leave-one-out in time order (``LS: valid_and_test``, ``order: TO``), full ranking with
    the user's history masked, 5-core filter, every rating kept, cross-entropy over all
    items (RecBole's default loss for both models, which needs no training negatives).
    Validation only after the last epoch (``eval_step = epochs``): the bench measures a
    fixed-epoch budget, not early stopping.
    """
    return {
        "data_path": str(data_path), "dataset": "ml-100k",
        "checkpoint_dir": str(data_path / "saved"),
        "load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]},
        "user_inter_num_interval": "[5,inf)", "item_inter_num_interval": "[5,inf)",
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full",
                      "group_by": "user"},
        "metrics": ["NDCG", "Hit"], "topk": [10], "valid_metric": "NDCG@10",
        "epochs": args.epochs, "eval_step": args.epochs, "stopping_step": args.epochs,
        "train_neg_sample_args": None, "seed": args.seed, "reproducibility": True,
        "use_gpu": False, "show_progress": False, "state": "WARNING", "worker": 0,
    }


def run(args: argparse.Namespace) -> dict:
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed

    torch.set_num_threads(args.threads)
    started, cpu_started = time.perf_counter(), time.process_time()
    data_path = write_atomic(Path(args.data).resolve(), Path(args.workdir).resolve())
    os.chdir(data_path)  # RecBole writes log/ and log_tensorboard/ into the current folder
    config = Config(model=args.model, dataset="ml-100k", config_dict=settings(args, data_path))
    init_seed(config["seed"], config["reproducibility"])
    logging.getLogger().setLevel(logging.WARNING)
    dataset = create_dataset(config)
    train, valid, test = data_preparation(config, dataset)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = get_model(config["model"])(config, train._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    fit_started = time.perf_counter()
    trainer.fit(train, valid, saved=False, show_progress=False)
    fit_seconds = time.perf_counter() - fit_started
    # saved=False: the model after the last epoch is tested (torch>=2.6 refuses RecBole's
    # pickled checkpoints under torch.load's weights_only default anyway).
    result = trainer.evaluate(test, load_best_model=False, show_progress=False)
    return {"library": "recbole", "model": args.model, "seed": args.seed,
            "epochs": args.epochs, "ndcg@10": float(result["ndcg@10"]),
            "hr@10": float(result["hit@10"]), "users": int(dataset.user_num - 1),
            "items": int(dataset.item_num - 1), "fit_s": fit_seconds,
            "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu_started, "threads": args.threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="MovieLens-100k u.data")
    parser.add_argument("--model", required=True, choices=["SASRec", "BERT4Rec"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", required=True, help="scratch folder for RecBole's files")
    print(json.dumps(run(parser.parse_args())))


if __name__ == "__main__":
    main()
