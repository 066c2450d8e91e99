"""Training speed of BERT4Rec and SASRec on MovieLens-100k.

Prints, for every model and thread count: training throughput (training sequences per
second, evaluation excluded), the validation NDCG@10 (full ranking, history items
excluded) after every epoch, and the training time until it first reaches ``--target``.

    PYTHONPATH=. python bench/bench_bert4rec.py /path/to/ml-100k/u.data \\
        --threads 1 2 --epochs 10 --target 0.03

The leave-one-out split is the study's own (``studies/bert4rec/data.py``), and NDCG@10 is
``replikit.ext.recsys.ranking``'s, the implementation tested against ir-measures.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from replikit.ext.recsys.ranking import metrics_from_ranks, rank_of_target
from replikit.ext.recsys.tuning import Budget
from studies.bert4rec.bert4rec import BERT4Rec
from studies.bert4rec.data import load_movielens, make_split
from studies.bert4rec.sasrec import SASRec


def load_split(path: Path):
    """The ML-100k leave-one-out split, exactly as the study builds it."""
    return make_split(load_movielens(path, kind="ml-100k"))


def ndcg_at_10(scores: np.ndarray, targets: np.ndarray, histories: list[np.ndarray]) -> float:
    """Mean NDCG@10 over users, full ranking, the user's history items excluded."""
    ranks = rank_of_target(scores, targets, histories, protocol="full")
    return float(metrics_from_ranks(ranks, ks=(10,))["ndcg@10"].mean())


MODELS = {"bert4rec": BERT4Rec, "sasrec": SASRec}


def bench_one(name: str, split, threads: int, args) -> dict:
    """Train one model, evaluating validation NDCG@10 after each epoch."""
    torch.set_num_threads(threads)
    model = MODELS[name](**args.overrides.get(name, {}))
    histories, targets = split.histories("valid"), split.targets("valid")
    reached = {}

    def on_epoch(epoch: int, seconds: float) -> dict:
        ndcg = ndcg_at_10(model.score(histories), targets, histories)
        if ndcg >= args.target and "seconds" not in reached:
            reached.update(seconds=seconds, epoch=epoch)
        print(f"  {name} threads={threads} epoch {epoch:3d}  train {seconds:7.1f} s  "
              f"valid NDCG@10 {ndcg:.4f}", flush=True)
        return {"ndcg@10": ndcg, "stop": args.stop_at_target and bool(reached)}

    started = time.perf_counter()
    log = model.fit(split, seed=args.seed, budget=Budget(epochs=args.epochs,
                                                          seconds=args.seconds),
                    on_epoch=on_epoch)
    return {"model": name, "threads": threads, "epochs": log["epochs"], "steps": log["steps"],
            "seq_per_s": log["sequences_per_second"], "train_s": log["train_seconds"],
            "eval_s": log["eval_seconds"], "wall_s": time.perf_counter() - started,
            "final_ndcg": log["curve"][-1]["metric"]["ndcg@10"],
            "to_target_s": reached.get("seconds"), "to_target_epoch": reached.get("epoch"),
            "device": log["device"]}


def profile_step(name: str, split, threads: int, rows: int = 20) -> None:
    """Print the operators that take the time in a few training steps."""
    torch.set_num_threads(threads)
    from torch.profiler import profile

    model = MODELS[name]()
    with profile() as prof:
        model.fit(split, seed=0, budget=Budget(epochs=None, seconds=5.0))
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def parse_overrides(items: list[str]) -> dict[str, dict]:
    """``["bert4rec.lr=1e-3"]`` -> ``{"bert4rec": {"lr": 0.001}}`` (numbers parsed)."""
    overrides: dict[str, dict] = {}
    for item in items:
        key, _, value = item.partition("=")
        model, _, field = key.partition(".")
        try:
            parsed = float(value) if any(c in value for c in ".e") else int(value)
        except ValueError:
            parsed = value
        overrides.setdefault(model, {})[field] = parsed
    return overrides


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ratings", type=Path, help="ML-100k u.data")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--target", type=float, default=0.03, help="validation NDCG@10")
    parser.add_argument("--stop-at-target", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="profile 5 s of each model")
    parser.add_argument("--set", nargs="+", default=[], metavar="MODEL.FIELD=VALUE",
                        help="config overrides, e.g. bert4rec.lr=1e-3 sasrec.batch_size=64")
    args = parser.parse_args(argv)
    args.overrides = parse_overrides(args.set)

    split = load_split(args.ratings)
    lengths = np.array([len(h) for h in split.histories("valid")])
    print(f"ML-100k: {len(lengths)} users, {split.n_items} items, train lengths "
          f"mean {lengths.mean():.0f} median {np.median(lengths):.0f} max {lengths.max()}")
    if args.profile:
        for name in args.models:
            profile_step(name, split, args.threads[0])
        return
    print(f"overrides: {args.overrides or 'none (original ML-1m settings)'}")
    results = [bench_one(name, split, threads, args)
               for threads in args.threads for name in args.models]
    print(f"\n{'model':9} {'threads':>7} {'epochs':>6} {'seq/s':>8} {'train s':>8} "
          f"{'eval s':>7} {'NDCG@10':>8} {'to ' + str(args.target):>10}  device")
    for r in results:
        to_target = "-" if r["to_target_s"] is None else (
            f"{r['to_target_s']:.1f}s/e{r['to_target_epoch']}")
        print(f"{r['model']:9} {r['threads']:7d} {r['epochs']:6d} {r['seq_per_s']:8.1f} "
              f"{r['train_s']:8.1f} {r['eval_s']:7.1f} {r['final_ndcg']:8.4f} {to_target:>10}"
              f"  {r['device']}")


if __name__ == "__main__":
    main()
