"""The training loop shared by the neural sequential recommenders (BERT4Rec, SASRec).

A model hands the loop three things: its ``torch.nn.Module``, a tensor of training
sequences built once before training (``examples``, shape ``(N, L)``, padded), and a
``batch_loss(rows, generator)`` function that turns a batch of rows into a scalar loss
(BERT4Rec masks items there, SASRec samples negatives there). Everything random is drawn
from seeded ``torch.Generator`` objects or the global torch generator seeded at the start,
so that on a CPU the same seed gives the same weights and scores bit for bit.

The data pipeline is tensors only: the padded examples live on the training device, an
epoch is a seeded permutation of their row indices, and a batch is one ``index_select``.
There is no ``DataLoader`` and no Python loop over items or users inside an epoch.

Optimisation follows the original BERT4Rec code (FeiSun/BERT4Rec, ``optimization.py``):
AdamW with decoupled weight decay (not applied to biases and LayerNorm weights), a linear
warm-up followed by a linear decay to zero, and gradient clipping by global norm.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from replikit.errors import ReplikitError

BatchLoss = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
EpochCallback = Callable[[int, float], dict | None]


class BudgetLike(Protocol):
    """What the loop reads from a ``replikit.ext.recsys.tuning.Budget``: epochs, steps, seconds."""

    epochs: int | None
    seconds: float | None
    steps: int | None


@dataclass(frozen=True)
class TrainSettings:
    """Optimiser and loop settings; each model fills them from its own config."""

    batch_size: int
    lr: float
    weight_decay: float
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-6
    warmup_steps: int = 0
    decay: str = "linear"  # "linear": to zero at the end of an epoch budget; "none": constant
    clip_norm: float | None = None
    amp: str = "off"  # "off" | "bf16" | "fp16"; only ever used on CUDA
    # Batches of similar length (bucket_batches): far less padding, so far less attention
    # work; the original draws batches at random. 0 turns bucketing off.
    bucket_factor: int = 16


# --------------------------------------------------------------------------- devices


def pick_device(requested: str | None = None) -> torch.device:
    """The device to train on: ``requested`` if given, else CUDA when present, else CPU."""
    if requested is not None:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name(device: torch.device) -> str:
    """A human-readable device name for the run record (GPU model or CPU threads)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


# --------------------------------------------------------------------------- batches


def pad_sequences(seqs: list[np.ndarray], length: int, *, side: str = "right") -> torch.Tensor:
    """Keep the last ``length`` items of every sequence and pad with 0 to ``length``.

    Vectorised: one concatenation and one scatter, no loop over items.

    Parameters
    ----------
    seqs
        Item-index sequences (1-based items; 0 is padding).
    length
        Width of the result.
    side
        ``"right"`` puts the items first (BERT4Rec, as in the original ``gen_data_fin.py``),
        ``"left"`` puts them last (SASRec, as in the original ``sampler.py``).

    Returns
    -------
    torch.Tensor
        ``(len(seqs), length)`` int64.

    Examples
    --------
    >>> pad_sequences([np.array([1, 2, 3]), np.array([4])], 2, side="left").tolist()
    [[2, 3], [0, 4]]
    """
    if side not in ("left", "right"):
        raise ReplikitError("unknown padding side", expected="'left' or 'right'",
                            found=repr(side), fix="pass side='left' or side='right'")
    lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    ends = np.cumsum(lengths)
    kept = np.minimum(lengths, length)
    flat = np.concatenate(seqs).astype(np.int64) if len(seqs) and ends[-1] else np.zeros(0, int)
    rows = np.repeat(np.arange(len(seqs)), kept)
    within = np.arange(kept.sum()) - np.repeat(np.cumsum(kept) - kept, kept)
    source = np.repeat(ends - kept, kept) + within
    cols = within if side == "right" else within + np.repeat(length - kept, kept)
    out = np.zeros((len(seqs), length), dtype=np.int64)
    out[rows, cols] = flat[source]
    return torch.from_numpy(out)


def sliding_windows(seqs: list[np.ndarray], length: int, step: int) -> list[np.ndarray]:
    """Cut sequences longer than ``length`` into windows ``step`` apart, the last one flush.

    As the original BERT4Rec data generation (``prop_sliding_window``): windows start at
    ``n - length, n - length - step, ...`` and a window at 0 is always added. Shorter
    sequences are kept whole. Windows are views, so this copies nothing.
    """
    windows = []
    for seq in seqs:
        if len(seq) <= length:
            windows.append(seq)
            continue
        starts = list(range(len(seq) - length, 0, -step)) + [0]
        windows.extend(seq[s:s + length] for s in reversed(starts))
    return windows


def bucket_batches(lengths: torch.Tensor, batch_size: int, factor: int,
                   generator: torch.Generator) -> list[torch.Tensor]:
    """Row indices of one epoch's batches, each holding sequences of similar length.

    A seeded permutation is cut into chunks of ``factor * batch_size`` rows; each chunk is
    sorted by length and cut into batches; the batches are then shuffled. Every row is used
    exactly once, and the order depends only on the generator. ``factor=0`` gives plain
    random batches.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> batches = bucket_batches(torch.tensor([1, 9, 2, 8]), 2, 2, g)
    >>> sorted(sorted(b.tolist()) for b in batches)
    [[0, 2], [1, 3]]
    """
    order = torch.randperm(len(lengths), generator=generator)
    if factor <= 0:
        return list(order.split(batch_size))
    batches = []
    for chunk in order.split(batch_size * factor):
        by_length = chunk[lengths[chunk].argsort(stable=True)]
        batches.extend(by_length.split(batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffled]


def batches_per_epoch(n_rows: int, batch_size: int, factor: int) -> int:
    """How many batches :func:`bucket_batches` makes of ``n_rows`` rows.

    Examples
    --------
    >>> batches_per_epoch(10, 3, 0), batches_per_epoch(10, 3, 2)
    (4, 4)
    """
    if factor <= 0:
        return math.ceil(n_rows / batch_size)
    chunk = batch_size * factor
    return (n_rows // chunk) * factor + math.ceil((n_rows % chunk) / batch_size)


def trim_padding(rows: torch.Tensor, side: str) -> torch.Tensor:
    """Drop the columns that are padding in every row of the batch (saves attention work)."""
    used = (rows != 0).any(dim=0).nonzero()  # (columns with an item, 1)
    if side == "left":
        start = int(used.min()) if len(used) else rows.shape[1]
        return rows[:, start:]
    return rows[:, : int(used.max()) + 1 if len(used) else 0]


# --------------------------------------------------------------------------- layers


class Dropout(nn.Module):
    """Inverted dropout, as ``nn.Dropout``, drawn with ``torch.rand`` instead of Bernoulli.

    On a CPU ``nn.Dropout``'s Bernoulli sampling is the most expensive operator of a
    BERT4Rec step (a fifth of it on ML-100k); uniform draws compared to ``p`` give the same
    distribution at about a third of the cost. Draws come from the global generator.
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        dropped = torch.rand(x.shape, device=x.device) < self.p
        return x.masked_fill(dropped, 0.0) * (1.0 / (1.0 - self.p))


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, attend: torch.Tensor,
              dropout: Dropout) -> torch.Tensor:
    """softmax(q k^T / sqrt(hs)) v over the allowed keys, with dropout on the weights.

    ``q, k, v``: ``(B, nh, T, hs)``; ``attend``: boolean, broadcastable to
    ``(B, nh, T, T)``, True where a query may attend to a key (each query needs one).
    Without dropout, PyTorch's fused kernel computes the same thing faster.
    """
    if not dropout.training or dropout.p == 0.0:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attend)
    weights = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))  # (B, nh, T, T)
    weights = weights.masked_fill(~attend, -math.inf).softmax(dim=-1)
    return dropout(weights) @ v  # (B, nh, T, hs)


# --------------------------------------------------------------------------- optimiser


def make_optimizer(network: nn.Module, settings: TrainSettings) -> torch.optim.AdamW:
    """AdamW whose weight decay touches matrices (and embedding tables) only.

    The original BERT optimiser excludes ``LayerNorm`` and ``bias`` parameters from weight
    decay; 1-D parameters are exactly those here.
    """
    decay = [p for p in network.parameters() if p.ndim >= 2]
    no_decay = [p for p in network.parameters() if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": settings.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=settings.lr, betas=settings.betas, eps=settings.eps)


def lr_factor(step: int, warmup_steps: int, total_steps: int | None) -> float:
    """Linear warm-up to 1 over ``warmup_steps``, then linear decay to 0 at ``total_steps``.

    With ``total_steps=None`` (a budget in seconds only, whose end is unknown in steps)
    the rate stays at 1 after the warm-up.

    Examples
    --------
    >>> [round(lr_factor(s, 2, 10), 3) for s in (0, 1, 2, 6, 10)]
    [0.5, 1.0, 1.0, 0.5, 0.0]
    """
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if total_steps is None:
        return 1.0
    remaining = total_steps - step
    return max(0.0, remaining / max(1, total_steps - warmup_steps))


def _autocast(device: torch.device, amp: str):
    if device.type != "cuda" or amp == "off":
        return torch.autocast(device.type, enabled=False)
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16}
    if amp not in dtypes:
        raise ReplikitError("unknown mixed-precision mode", expected="'off', 'bf16' or 'fp16'",
                            found=repr(amp), fix="set amp in the model config")
    return torch.autocast("cuda", dtype=dtypes[amp])


# --------------------------------------------------------------------------- loop


def check_budget(budget: BudgetLike) -> None:
    """Refuse a budget with no epochs, steps or seconds (training would never stop)."""
    if all(getattr(budget, key, None) is None for key in ("epochs", "steps", "seconds")):
        raise ReplikitError("training budget has no epochs, steps or seconds",
                            expected="Budget(epochs=..., steps=..., seconds=...) with one set",
                            found=repr(budget), fix="set epochs, steps or seconds")


def train(
    network: nn.Module,
    examples: torch.Tensor,
    batch_loss: BatchLoss,
    settings: TrainSettings,
    *,
    budget: BudgetLike,
    seed: int,
    device: torch.device,
    on_epoch: EpochCallback | None = None,
) -> dict[str, Any]:
    """Train ``network`` in place on the rows of ``examples`` within ``budget``.

    Parameters
    ----------
    network
        The model, already on ``device``.
    examples
        ``(N, L)`` int64 padded training sequences, on ``device``.
    batch_loss
        ``batch_loss(rows, generator) -> scalar loss``; draws its randomness (masks,
        negatives) from ``generator`` only.
    settings
        Optimiser and loop settings.
    budget
        ``epochs`` (whole passes over ``examples``), ``steps`` (optimiser steps; the last
        epoch is cut there) and/or ``seconds`` of training time (evaluation time in
        ``on_epoch`` excluded); training stops at whichever comes first. Only an epoch or
        step budget is bit-for-bit repeatable.
    seed
        Seeds the dropout (global torch generator), the epoch order and ``batch_loss``.
    on_epoch
        Called after every epoch as ``on_epoch(epoch, train_seconds)``; the dict it returns
        (e.g. ``{"ndcg@10": 0.1}``) goes into the curve. A returned ``"stop": True`` ends
        training early.

    Returns
    -------
    dict
        ``epochs``, ``steps``, ``train_seconds``, ``eval_seconds``, ``curve`` (one entry per
        epoch: ``epoch``, ``step``, ``seconds``, ``loss``, ``metric``), ``sequences``,
        ``sequences_per_second``, ``device``, ``threads``, ``amp``, ``seed``,
        ``steps_per_epoch``.
    """
    check_budget(budget)
    torch.manual_seed(seed)  # dropout draws from the global generator
    order_generator = torch.Generator(device="cpu").manual_seed(seed)
    loss_generator = torch.Generator(device=device).manual_seed(seed + 1)
    optimizer = make_optimizer(network, settings)
    n_rows = examples.shape[0]
    lengths = (examples != 0).sum(dim=1).cpu()
    steps_per_epoch = batches_per_epoch(n_rows, settings.batch_size, settings.bucket_factor)
    total_steps = _total_steps(budget, steps_per_epoch) if settings.decay == "linear" else None
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, settings.warmup_steps, total_steps))

    log: dict[str, Any] = {"epochs": 0, "steps": 0, "train_seconds": 0.0, "eval_seconds": 0.0,
                           "curve": [], "sequences": 0, "device": device_name(device),
                           "threads": torch.get_num_threads(), "amp": _amp_used(device, settings),
                           "seed": seed, "steps_per_epoch": steps_per_epoch}
    network.train()
    while budget.epochs is None or log["epochs"] < budget.epochs:
        started = time.perf_counter()
        loss_sum, steps, out_of_time = _run_epoch(
            network, examples, lengths, batch_loss, settings, optimizer, schedule, order_generator,
            loss_generator, device, log, deadline=_deadline(budget, log, started),
            max_steps=getattr(budget, "steps", None))
        log["train_seconds"] += time.perf_counter() - started
        log["epochs"] += 1
        stop = _record_epoch(network, on_epoch, log, loss_sum / max(steps, 1))
        if stop or out_of_time:
            break
    log["sequences_per_second"] = log["sequences"] / max(log["train_seconds"], 1e-9)
    network.eval()
    return log


def _total_steps(budget: BudgetLike, steps_per_epoch: int) -> int | None:
    """Where the learning rate reaches zero: the first of the epoch and step budgets."""
    bounds = [b for b in (budget.epochs and budget.epochs * steps_per_epoch,
                          getattr(budget, "steps", None)) if b]
    return min(bounds) if bounds else None


def _amp_used(device: torch.device, settings: TrainSettings) -> str:
    return settings.amp if device.type == "cuda" else "off"


def _deadline(budget: BudgetLike, log: dict[str, Any], started: float) -> float | None:
    if budget.seconds is None:
        return None
    return started + budget.seconds - log["train_seconds"]


def _run_epoch(network, examples, lengths, batch_loss, settings, optimizer, schedule,
               order_generator, loss_generator, device, log, *, deadline, max_steps=None):
    """One pass over the examples in a seeded order; returns (summed loss, steps, stop).

    ``stop``: the time or the step budget ran out within the pass.
    """
    batches = bucket_batches(lengths, settings.batch_size, settings.bucket_factor,
                             order_generator)
    loss_sum = torch.zeros((), device=device)
    steps = 0
    for batch_index in batches:
        rows = examples.index_select(0, batch_index.to(device))
        with _autocast(device, settings.amp):
            loss = batch_loss(rows, loss_generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if settings.clip_norm is not None:
            nn.utils.clip_grad_norm_(network.parameters(), settings.clip_norm)
        optimizer.step()
        schedule.step()
        loss_sum += loss.detach().float()
        steps += 1
        log["steps"] += 1
        log["sequences"] += rows.shape[0]
        if (deadline is not None and time.perf_counter() >= deadline) or (
                max_steps is not None and log["steps"] >= max_steps):
            return float(loss_sum), steps, True
    return float(loss_sum), steps, False


def _record_epoch(network, on_epoch, log, mean_loss) -> bool:
    """Evaluate through ``on_epoch`` (time not counted as training) and log the point."""
    point = {"epoch": log["epochs"], "step": log["steps"],
             "seconds": log["train_seconds"], "loss": mean_loss, "metric": {}}
    stop = False
    if on_epoch is not None:
        started = time.perf_counter()
        network.eval()
        result = dict(on_epoch(log["epochs"], log["train_seconds"]) or {})
        network.train()
        log["eval_seconds"] += time.perf_counter() - started
        stop = bool(result.pop("stop", False))
        point["metric"] = result
    log["curve"].append(point)
    return stop
