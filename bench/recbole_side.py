"""RecBole's side of bench_vs_recbole.py: run inside RecBole's own virtual environment.

Usage (the bench calls it; by hand only to debug)::

    <recbole-venv>/bin/python bench/recbole_side.py --data u.data --model SASRec \
        --steps 100 --batch-size 2048 --seed 0 --threads 2 --workdir /tmp/rb \
        --scores /tmp/rb/scores.npz

Reads MovieLens-100k ``u.data`` (tab-separated, no header), writes it in RecBole's atomic
format, trains with RecBole's own trainer and model defaults for ``--steps`` optimiser
steps (its last epoch cut there; no validation, no early stopping: the model after the
last step is the one scored), and
writes, for every test user, RecBole's full score vector over its item catalogue to
``--scores`` (``.npz``: ``users``, ``items`` and ``targets`` as the raw ids of ``u.data``,
``scores`` ``(users, items)`` float32). The bench ranks those scores with replikit's own
code, so both libraries are measured by one ranking rule. Prints one JSON line: the
counts, the optimiser steps, and wall/CPU seconds per epoch and per step.
Imports only RecBole and its dependencies, never replikit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import numpy as np

# Not "ml-100k": under that name RecBole 1.2.1 reads the copy bundled in its wheel and
# ignores data_path (Config._set_default_parameters), whatever file the bench gives it.
DATASET = "bench-ml100k"
HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"


def write_atomic(u_data: Path, workdir: Path) -> Path:
    """``workdir/<DATASET>/<DATASET>.inter``: u.data with RecBole's typed header line.

    The timestamp column becomes each row's rank in time order, ties kept in file order
    (a stable sort, the order replikit's split and SASRec's ``DataProcessing.py`` use).
    RecBole stores a float field as float32 (64-second steps at ML-100k's timestamps) and
    sorts without keeping ties in file order, which moved the test item of about 150 of
    943 users in a first try; ranks below 2**24 are exact in float32 and never tie.
    """
    rows = np.loadtxt(u_data, dtype=np.int64, delimiter="\t", ndmin=2)
    rank = np.empty(len(rows), dtype=np.int64)
    rank[np.argsort(rows[:, 3], kind="stable")] = np.arange(len(rows))
    rows[:, 3] = rank
    folder = workdir / DATASET
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{DATASET}.inter"
    np.savetxt(target, rows, fmt="%d", delimiter="\t", header=HEADER.rstrip("\n"),
               comments="")
    return workdir


def settings(args: argparse.Namespace, data_path: Path) -> dict:
    """The bench's data and split in RecBole's words; model hyperparameters stay RecBole's.

    Leave-one-out in time order (``LS: valid_and_test``, ``order: TO``), 5-core filter,
    every rating kept, cross-entropy over all items (RecBole's default loss for both
    models, which needs no training negatives). RecBole's own full-sort evaluation of a
    sequential model passes no history to mask (its test loader returns
    ``history_index=None``), so its own figures rank the history items too; the bench does
    not use them, it ranks the exported scores itself.
    """
    return {
        "data_path": str(data_path), "dataset": DATASET,
        "checkpoint_dir": str(data_path / "saved"),
        "load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]},
        "user_inter_num_interval": "[5,inf)", "item_inter_num_interval": "[5,inf)",
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full",
                      "group_by": "user"},
        "metrics": ["NDCG", "Hit"], "topk": [10], "valid_metric": "NDCG@10",
        # an upper bound: step_budget() ends training after --steps (at least one per epoch)
        "epochs": args.steps, "train_batch_size": args.batch_size,
        "train_neg_sample_args": None, "seed": args.seed,
        "reproducibility": True, "use_gpu": False, "show_progress": False,
        "state": "WARNING", "worker": 0,
    }


class Capped:
    """A training loader that yields at most ``limit`` batches (RecBole's own otherwise)."""

    def __init__(self, loader, limit: int):
        self.loader, self.limit = loader, limit

    def __iter__(self):
        for index, batch in enumerate(self.loader):
            if index >= self.limit:
                return
            yield batch

    def __len__(self) -> int:
        return min(len(self.loader), self.limit)

    def __getattr__(self, name):
        return getattr(self.loader, name)


def step_budget(trainer, steps: int) -> list[tuple[int, float]]:
    """Stop ``trainer`` after ``steps`` optimiser steps; ``(steps, seconds)`` per epoch run.

    RecBole's trainer counts epochs only; its last epoch is cut at the step budget, and the
    epochs after it do nothing.
    """
    epochs: list[tuple[int, float]] = []  # (steps, wall seconds) of each epoch run
    train_epoch = trainer._train_epoch

    def capped(train_data, *args, **kwargs):
        left = steps - sum(done for done, _ in epochs)
        if left <= 0:
            return 0.0
        started = time.perf_counter()
        result = train_epoch(Capped(train_data, left), *args, **kwargs)
        epochs.append((min(len(train_data), left), time.perf_counter() - started))
        return result

    trainer._train_epoch = capped
    return epochs


def export_scores(model, test, dataset, path: Path) -> int:
    """RecBole's full score vector of every test user (its model input, its catalogue)."""
    import torch

    users, targets, rows = [], [], []
    model.eval()
    with torch.no_grad():
        for interaction, _, _, positive_items in test:
            rows.append(model.full_sort_predict(interaction).view(len(positive_items), -1))
            users.append(interaction["user_id"].numpy())
            targets.append(positive_items.numpy())
    tokens = lambda field, ids: np.asarray(dataset.id2token(field, ids)).astype(np.int64)  # noqa: E731
    scores = torch.cat(rows).numpy().astype(np.float32)
    np.savez(path, users=tokens("user_id", np.concatenate(users)),
             targets=tokens("item_id", np.concatenate(targets)),
             items=tokens("item_id", np.arange(1, dataset.item_num)), scores=scores[:, 1:])
    return len(scores)


def run(args: argparse.Namespace) -> dict:
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed

    torch.set_num_threads(args.threads)
    started, cpu_started = time.perf_counter(), time.process_time()
    data_path = write_atomic(Path(args.data).resolve(), Path(args.workdir).resolve())
    scores_path = Path(args.scores).resolve()
    os.chdir(data_path)  # RecBole writes log/ and log_tensorboard/ into the current folder
    config = Config(model=args.model, dataset=DATASET, config_dict=settings(args, data_path))
    init_seed(config["seed"], config["reproducibility"])
    logging.getLogger().setLevel(logging.WARNING)
    dataset = create_dataset(config)
    train, _, test = data_preparation(config, dataset)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = get_model(config["model"])(config, train._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    epochs = step_budget(trainer, args.steps)
    fit_started, fit_cpu = time.perf_counter(), time.process_time()
    # no validation data: no early stopping and no checkpoint; the last step is scored
    trainer.fit(train, None, saved=False, show_progress=False)
    fit_seconds, fit_cpu = time.perf_counter() - fit_started, time.process_time() - fit_cpu
    steps, train_seconds = sum(n for n, _ in epochs), sum(s for _, s in epochs)
    users = export_scores(model, test, dataset, scores_path)
    return {"library": "recbole", "model": args.model, "seed": args.seed,
            "steps": steps, "epochs": steps / len(train), "steps_per_epoch": len(train),
            "batch_size": config["train_batch_size"],
            "training_sequences": int(train.sample_size), "users": users,
            "items": int(dataset.item_num - 1), "train_s": train_seconds,
            "train_cpu_s": fit_cpu, "s_per_step": train_seconds / steps,
            "s_per_epoch": train_seconds / steps * len(train), "fit_s": fit_seconds,
            "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu_started, "threads": args.threads,
            "scores": str(scores_path)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="MovieLens-100k u.data")
    parser.add_argument("--model", required=True, choices=["SASRec", "BERT4Rec"])
    parser.add_argument("--steps", type=int, required=True, help="optimiser steps to train")
    parser.add_argument("--batch-size", type=int, default=2048,
                        help="train_batch_size (RecBole's default: 2048)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", required=True, help="scratch folder for RecBole's files")
    parser.add_argument("--scores", required=True, help="where to write the scores (.npz)")
    print(json.dumps(run(parser.parse_args())))


if __name__ == "__main__":
    main()
