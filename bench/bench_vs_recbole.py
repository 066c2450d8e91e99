"""Our SASRec and BERT4Rec against RecBole 1.2.1's, measured in one run under one protocol.

Both libraries read the same ``u.data`` (5-core, every rating kept, leave-one-out in time
order) and are ranked by the same code: RecBole's trained model exports its full score
vector for every test user (``bench/recbole_side.py``), and the bench ranks those scores,
and ours, with :func:`replikit.ext.recsys.ranking.rank_of_target` (full ranking, ties
pessimistic, NDCG@10 and HR@10), once with each user's history excluded from the
candidates and once without (RecBole's own full-sort evaluation of a sequential model
excludes nothing). Every row carries that ``protocol`` mapping
(:mod:`replikit.ext.recsys.protocol`); a row of ours and a row of RecBole's with equal
mappings are comparable, key by key.

**Budget rule: equal optimiser steps** (``--steps``), each library with its own model
defaults, optimiser and loss (cross-entropy over all items for both), no validation and no
early stopping: the weights after the last step are scored. Batch sizes are each side's
own (ours: the bert4rec study's quick-profile settings, the first value of each searched
hyperparameter; RecBole: its defaults except ``train_batch_size``, ``--recbole-batch``,
lowered from 2048 so that a step fits this machine), so a step is not the same work on both
sides: RecBole trains on every prefix of every training sequence (about 96,000 rows on
ML-100k, one target each), ours on windows of up to 50 items (a target at every position).
Both sides train on the training part only (not on the validation item) and are given the
training part plus the validation item as the test-time input.

Both sides are timed in the same invocation, one after the other, each with ``--threads``
torch threads; each row records when it was measured, the 1-minute load average, and
wall seconds per optimiser step and per epoch (an epoch's time is the step time times the
steps an epoch would make). RecBole repeats its 5-core filter until stable where ours
filters once; the bench checks that both keep the same users and items, and names the
users whose test item differs (RecBole sorts by float timestamps).

RecBole is not a dependency of replikit; the bench installs it into a virtual environment
of its own (``--recbole-venv``, made with this Python's ``venv`` and ``pip`` at the pinned
versions in ``RECBOLE_PINS``: RecBole 1.2.1 needs numpy < 2). Run, after
``replikit fetch bert4rec ml-100k``::

    PYTHONPATH=. python bench/bench_vs_recbole.py --steps 40 --recbole-batch 128 \\
        --seeds 0,1,2 --json bench/results/vs_recbole.json

(one model per invocation with ``--models``, then ``--combine A.json B.json --json
C.json`` writes the invocations' rows and comparisons into one file, each row naming the
command that measured it; a comparison never spans two invocations).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from replikit.errors import ReplikitError
from replikit.ext.recsys import protocol as proto
from replikit.ext.recsys.ranking import metrics_from_ranks, rank_of_target
from replikit.ext.recsys.tuning import Budget, fit_and_test
from replikit.study import load_study
from studies.bert4rec.data import load_movielens, make_split
from studies.bert4rec.runner import resolve_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paired import paired_rows  # noqa: E402  (a helper beside this file)

ROOT = Path(__file__).resolve().parents[1]
RECBOLE_SIDE = ROOT / "bench" / "recbole_side.py"
RECBOLE_PINS = ["recbole==1.2.1", "torch==2.13.0", "numpy==1.26.4", "pandas==2.2.3",
                "scipy==1.13.1"]
MODELS = {"sasrec": "SASRec", "bert4rec": "BERT4Rec"}  # ours -> RecBole's model name
SELECTION = ("fixed hyperparameters (each library's own settings), no validation; the "
             "weights after the last step")


# --------------------------------------------------------------------------- RecBole's venv
def recbole_python(folder: Path) -> str:
    """The venv's python, made and filled with ``RECBOLE_PINS`` when missing or stale."""
    python, marker = folder / "bin" / "python", folder / "replikit-pins.txt"
    if python.exists() and marker.exists() and marker.read_text().split() == RECBOLE_PINS:
        return str(python)
    print(f"installing RecBole's venv in {folder} ({' '.join(RECBOLE_PINS)})", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *RECBOLE_PINS], check=True)
    marker.write_text("\n".join(RECBOLE_PINS))
    return str(python)


# --------------------------------------------------------------------------- one side each
@functools.cache
def study_settings(model: str) -> dict:
    """The quick profile's fixed hyperparameters plus the first value of each searched one.

    Read once per model and invocation, so that every seed runs the same settings.
    """
    params = load_study("bert4rec", ROOT).experiment_params(f"ml100k-{model}", "quick")
    first = {name: values[0] for name, values in (params.get("space") or {}).items()
             if isinstance(values, list)}
    return {**(params.get("hyperparameters") or {}), **first}


def stamp() -> dict:
    return {"measured": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_1min": os.getloadavg()[0]}


def run_ours(model: str, split, steps: int, seed: int) -> tuple[dict, np.ndarray]:
    """Train our model for ``steps`` steps; its row and its ``(users, items + 1)`` scores."""
    settings = study_settings(model)
    cls = resolve_model(model)
    cpu = time.process_time()
    final = fit_and_test(lambda p: cls(**p), settings, split, Budget(steps=steps),
                         seed=seed, protocols=[])
    fit = final["fit"]
    scores = np.asarray(final["model"].score(split.histories("test")))
    per_step = fit["train_seconds"] / fit["steps"]
    return {"library": "replikit", "model": model, "seed": seed, "settings": settings,
            "steps": fit["steps"], "steps_per_epoch": fit["steps_per_epoch"],
            "epochs": fit["steps"] / fit["steps_per_epoch"], "train_s": fit["train_seconds"],
            "s_per_step": per_step, "s_per_epoch": per_step * fit["steps_per_epoch"],
            "cpu_s": time.process_time() - cpu, **stamp()}, scores


def run_recbole(python: str, model: str, data: Path, steps: int, seed: int, threads: int,
                batch: int, split) -> tuple[dict, np.ndarray]:
    """Train RecBole's model in its venv; its row and its scores in our item order."""
    with tempfile.TemporaryDirectory(prefix="recbole-") as workdir:
        scores_path = Path(workdir) / "scores.npz"
        command = [python, str(RECBOLE_SIDE), "--data", str(data), "--model", MODELS[model],
                   "--steps", str(steps), "--seed", str(seed), "--threads", str(threads),
                   "--batch-size", str(batch), "--workdir", workdir,
                   "--scores", str(scores_path)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ReplikitError("RecBole's run failed", where=" ".join(command),
                                found="\n".join(done.stderr.strip().splitlines()[-5:]),
                                fix="run the command by hand to see RecBole's error")
        record = json.loads(done.stdout.strip().splitlines()[-1])
        exported = dict(np.load(scores_path))
    record.pop("scores")
    scores, differing = in_our_order(exported, split)
    return {**record, "model": model, "test_item_differs": differing, **stamp()}, scores


def in_our_order(exported: dict, split) -> tuple[np.ndarray, list[int]]:
    """RecBole's scores as ours are laid out (row per our user, column per our item index).

    Refuses other users or items than ours; returns the raw ids of the users whose test
    item differs from ours.
    """
    our_items = split.item_ids[1:]
    if set(exported["users"].tolist()) != set(split.users.tolist()) or (
            set(exported["items"].tolist()) != set(our_items.tolist())):
        raise ReplikitError(
            "RecBole kept other users or items than our split",
            expected=f"{len(split.users)} users and {len(our_items)} items",
            found=f"{len(exported['users'])} users and {len(exported['items'])} items",
            fix="check both filters (RecBole's *_inter_num_interval, our make_split)")
    rows = np.searchsorted(split.users, exported["users"])
    columns = np.searchsorted(our_items, exported["items"]) + 1
    scores = np.full((len(split.users), split.n_items + 1), -np.inf, dtype=np.float64)
    scores[rows[:, None], columns[None, :]] = exported["scores"]
    ours = split.item_ids[split.test][rows]
    return scores, sorted(int(u) for u in exported["users"][ours != exported["targets"]])


# --------------------------------------------------------------------------- ranking
def ranked_rows(row: dict, scores: np.ndarray, split, base: dict) -> tuple[list[dict], dict]:
    """One row per ``exclude_history`` setting, and the per-user NDCG@10 of each."""
    histories, targets = split.histories("test"), split.targets("test")
    rows, per_user = [], {}
    for exclude in (False, True):
        ranks = rank_of_target(scores, targets, histories, exclude_history=exclude)
        metrics = metrics_from_ranks(ranks, ks=(10,))
        protocol = {**base, "exclude_history": exclude}
        rows.append({**row, "exclude_history": exclude, "protocol": protocol,
                     "ndcg@10": float(metrics["ndcg@10"].mean()),
                     "hr@10": float(metrics["hr@10"].mean()), "users": len(targets)})
        per_user[exclude] = metrics["ndcg@10"]
    return rows, per_user


def base_protocol(data: Path, steps: int) -> dict:
    """Every key but ``exclude_history``: what both sides share by construction."""
    mapping = proto.ranking_protocol(
        data_sha256=proto.file_sha256(data), filter=proto.filter_text(5, 5), ranking="full",
        exclude_history=True, budget=proto.budget_text(SimpleNamespace(steps=steps)),
        selection=SELECTION)
    return proto.metric_protocol(mapping, "ndcg@10")


def print_table(rows: list[dict], paired: list[dict]) -> None:
    print(f"{'model':<9} {'library':<9} {'seed':>4} {'excl':>5} {'NDCG@10':>8} {'HR@10':>7} "
          f"{'steps':>5} {'s/step':>7} {'s/epoch':>8} {'load':>5}")
    for r in rows:
        print(f"{r['model']:<9} {r['library']:<9} {r['seed']:>4} {str(r['exclude_history']):>5} "
              f"{r['ndcg@10']:>8.4f} {r['hr@10']:>7.4f} {r['steps']:>5} {r['s_per_step']:>7.3f} "
              f"{r['s_per_epoch']:>8.1f} {r['load_1min']:>5.2f}")
    if rows:
        budget = rows[0]["protocol"]["budget"]
        print(f"Measured in this run: test NDCG@10, full ranking of each user's last ML-100k "
              f"item, ties pessimistic, budget {budget} (optimiser steps) per side, both "
              "libraries' scores ranked by replikit's code; exclude_history as shown (false "
              "is RecBole's own protocol):")
    for p in paired:
        print(f"{p['model']} exclude_history={p['exclude_history']}: ours {p['ours']:.4f} "
              f"RecBole {p['recbole']:.4f} diff {p['diff']:+.4f} 95% CI "
              f"[{p['ci_low']:+.4f}, {p['ci_high']:+.4f}] Wilcoxon p={p['wilcoxon_p']:.3g} "
              f"({p['users']} users, seeds {p['seeds']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=ROOT / "resources" / "bert4rec" / "ml-100k" / "u.data")
    parser.add_argument("--recbole-venv", type=Path, default=ROOT / ".venv-recbole")
    parser.add_argument("--models", default="sasrec,bert4rec")
    parser.add_argument("--steps", type=int, default=50, help="optimiser steps, both sides")
    parser.add_argument("--recbole-batch", type=int, default=256,
                        help="RecBole's train_batch_size (its default: 2048)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the rows and comparisons here")
    parser.add_argument("--combine", type=Path, nargs="+", metavar="JSON",
                        help="measure nothing: write the rows and comparisons of these "
                        "files (one invocation each, e.g. one per model) to --json, each row "
                        "with the command that measured it")
    args = parser.parse_args()
    if args.combine:
        args.json.write_text(json.dumps(combined(args.combine), indent=1) + "\n")
        return
    python = recbole_python(args.recbole_venv)
    torch.set_num_threads(args.threads)
    split = make_split(load_movielens(args.data, kind="ml-100k"))
    base = base_protocol(args.data, args.steps)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows, per_user = [], {}
    for model in args.models.split(","):
        for seed in seeds:
            for library in ("replikit", "recbole"):
                row, scores = (run_ours(model, split, args.steps, seed) if library == "replikit"
                               else run_recbole(python, model, args.data, args.steps, seed,
                                                args.threads, args.recbole_batch, split))
                ranked, users = ranked_rows(row, scores, split, base)
                rows += ranked
                per_user.update({(library, model, seed, ex): v for ex, v in users.items()})
                print(json.dumps(ranked), flush=True)
                if args.json:  # what is measured so far survives a killed run
                    write(args, rows, paired_rows(per_user, rows))
    paired = paired_rows(per_user, rows)
    print_table(rows, paired)
    if args.json:
        write(args, rows, paired)


def combined(paths: list[Path]) -> dict:
    """Several invocations' files as one: their commands, rows (each naming its command)
    and comparisons; a comparison never spans two invocations."""
    parts = [json.loads(path.read_text()) for path in paths]
    return {"runs": [{"file": str(path), "command": part["command"],
                      "budget_rule": part["budget_rule"]} for path, part in zip(paths, parts,
                                                                                strict=True)],
            "rows": [{**row, "command": part["command"]} for part in parts
                     for row in part["rows"]],
            "paired": [{**pair, "command": part["command"]} for part in parts
                       for pair in part["paired"]]}


def write(args: argparse.Namespace, rows: list[dict], paired: list[dict]) -> None:
    command = "PYTHONPATH=. python " + " ".join(shlex.quote(a) for a in sys.argv)
    budget_rule = (f"equal optimiser steps ({args.steps}), each library's own model defaults "
                   f"and batch size (RecBole's train_batch_size {args.recbole_batch}); no "
                   "early stopping, the last step's weights are scored")
    args.json.write_text(json.dumps({"command": command, "budget_rule": budget_rule,
                                     "rows": rows, "paired": paired}, indent=1) + "\n")


if __name__ == "__main__":
    main()
