"""SASRec: self-attentive sequential recommendation (a causal Transformer), in PyTorch.

Paper: W.-C. Kang and J. McAuley. "Self-Attentive Sequential Recommendation". ICDM 2018,
arXiv:1808.09781. Section numbers below refer to that paper. BERT4Rec (Sun et al., 2019)
compares against it, and Petrov & Macdonald (RecSys 2022, arXiv:2207.07483) find that
SASRec trained as long as BERT4Rec often matches it.

Reference implementation read (never copied): kang205/SASRec (TensorFlow 1: ``model.py``,
``modules.py``, ``sampler.py``, ``main.py``), whose ML-1m settings are the defaults here.

The file follows the paper's order: embedding with learned positions (III-B), causal
self-attention (III-C), the point-wise feed-forward network (III-C), the block with its
LayerNorm, dropout and residual connections (III-D), the prediction layer with shared item
embeddings (III-E), the loss (III-E, changed: see below), and the :class:`SASRec`
recommender (fit/score).

Two departures from the original make the same epochs train far better: on ML-100k,
validation NDCG@10 (full ranking, trained on the training items only, 10 epochs, batch
128, seed 0) is 0.0390 with the paper's loss and 200-item windows and 0.0982 with both
departures (``bench/validation_sweep.py sasrec --fixed '{"batch_size": 128, "max_len":
200}' --space '{"loss": ["bce"]}'``, then ``max_len`` 50 and ``loss`` ``ce``). Each is
what a widely used reference does:

- **Loss: softmax cross-entropy over all items** (``loss="ce"``) instead of the paper's
  binary cross-entropy with one sampled negative per position (``loss="bce"`` keeps it).
  One negative carries almost no signal about the ~1,700 items a full ranking puts the
  target against; the full softmax does. Klenitskiy & Vasilev ("Turning Dross Into Gold
  Loss: is BERT4Rec really better than SASRec?", RecSys 2023, arXiv:2309.07602) show that
  SASRec trained this way beats BERT4Rec, and RecBole's SASRec (RUCAIBox/RecBole,
  ``recbole/model/sequential_recommender/sasrec.py``, ``loss_type: CE`` in
  ``properties/model/SASRec.yaml``) uses it by default. Unlike RecBole, which scores the
  last position of every prefix, we score every position of a window at once: causal
  attention makes position t see exactly the prefix up to t, so it is the same objective
  with one forward pass per window.
- **Shorter windows over whole histories** (``max_len=50``, ``sliding_step=0.5``) instead
  of each user's last 201 items: RecBole's ``MAX_ITEM_LIST_LENGTH`` default is 50, and
  with sliding windows (as BERT4Rec's ``gen_data_fin.py``) every interaction of a long
  history becomes a training target, not only the last 200; the shorter rows also cost
  far less attention and give more optimiser steps per epoch (28 instead of 8 on ML-100k).

Shapes: B batch, T sequence length, H hidden size, nh heads, hs = H / nh.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from replikit.errors import ReplikitError

from . import train as trainer

LOSSES = ("ce", "bce")


@dataclass
class SASRecConfig:
    """Hyperparameters; the defaults are the ML-1m setting of kang205/SASRec
    (``main.py`` defaults and the README's ML-1m command: dropout 0.2) except the loss and
    the windows (see the module docstring)."""

    hidden_size: int = 50  # hidden_units
    num_layers: int = 2  # num_blocks
    num_heads: int = 1  # num_heads
    dropout: float = 0.2  # dropout_rate (ML-1m; 0.5 for the sparse datasets)
    max_len: int = 50  # RecBole's MAX_ITEM_LIST_LENGTH (the original's ML-1m maxlen: 200)
    batch_size: int = 128  # batch_size
    lr: float = 1e-3  # lr; Adam with beta2 = 0.98 (model.py)
    weight_decay: float = 0.0  # l2_emb = 0.0: no regularisation
    num_epochs: int = 201  # num_epochs: the original's training length (a budget, not used here)
    max_resamples: int = 8  # negatives drawn again while they hit the sequence (see below)
    loss: str = "ce"  # "ce": softmax over all items; "bce": the original's one negative
    sliding_step: float = 0.5  # windows over histories longer than max_len + 1
    layer_norm_eps: float = 1e-8  # modules.normalize epsilon
    amp: str = "off"  # CUDA only: "bf16"/"fp16" autocast; off until shown to keep metrics
    device: str | None = None  # None: CUDA when present, else CPU

    def settings(self) -> trainer.TrainSettings:
        """Optimiser settings: plain Adam at a constant rate, no clipping (as the original)."""
        return trainer.TrainSettings(
            batch_size=self.batch_size, lr=self.lr, weight_decay=self.weight_decay,
            betas=(0.9, 0.98), eps=1e-8, warmup_steps=0, decay="none", clip_norm=None,
            amp=self.amp)


# --------------------------------------------------------------------------- network


class CausalSelfAttention(nn.Module):
    """Multi-head attention in which position t sees positions <= t only (III-C).

    As the original, queries come from the layer-normalised input and keys and values
    from the input itself, with no output projection after the heads.
    """

    def __init__(self, config: SASRecConfig):
        super().__init__()
        self.num_heads = config.num_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key_value = nn.Linear(config.hidden_size, 2 * config.hidden_size)
        self.dropout = trainer.Dropout(config.dropout)

    def forward(self, queries: torch.Tensor, x: torch.Tensor, attend: torch.Tensor):
        B, T, H = x.shape
        k, v = self.key_value(x).split(H, dim=2)  # 2 x (B, T, H)
        q = self.query(queries)  # (B, T, H)
        q, k, v = (t.view(B, T, self.num_heads, H // self.num_heads).transpose(1, 2)
                   for t in (q, k, v))  # (B, nh, T, hs)
        y = trainer.attention(q, k, v, attend, self.dropout)  # attend: (B, 1, T, T)
        return y.transpose(1, 2).reshape(B, T, H)  # (B, T, H)


class PointwiseFeedForward(nn.Module):
    """FFN(x) = ReLU(x W1 + b1) W2 + b2 at every position, with dropout (III-C)."""

    def __init__(self, config: SASRecConfig):
        super().__init__()
        self.up = nn.Linear(config.hidden_size, config.hidden_size)
        self.down = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = trainer.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.down(self.dropout(F.relu(self.up(x)))))  # (B, T, H)


class SelfAttentionBlock(nn.Module):
    """x + Dropout(g(LayerNorm(x))) around attention, then the FFN (III-D, pre-LN)."""

    def __init__(self, config: SASRecConfig):
        super().__init__()
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.attention = CausalSelfAttention(config)
        self.ffn_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.ffn = PointwiseFeedForward(config)

    def forward(self, x, attend, keep):
        queries = self.attention_norm(x)
        x = queries + self.attention(queries, x, attend)  # residual on the normalised input
        x = x + self.ffn(self.ffn_norm(x))
        return x * keep  # (B, T, H), padding positions zeroed as in the original


class SASRecNetwork(nn.Module):
    """Item and position embeddings, blocks, a final LayerNorm; items scored by E (III-E)."""

    def __init__(self, n_items: int, config: SASRecConfig):
        super().__init__()
        self.max_len = config.max_len
        self.items = nn.Embedding(n_items + 1, config.hidden_size, padding_idx=0)
        self.positions = nn.Embedding(config.max_len, config.hidden_size)
        self.dropout = trainer.Dropout(config.dropout)
        self.blocks = nn.ModuleList(SelfAttentionBlock(config) for _ in range(config.num_layers))
        self.final_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        for module in self.modules():  # the original's Xavier (Glorot) initialisation
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.xavier_uniform_(module.weight)
        with torch.no_grad():
            self.items.weight[0].zero_()

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """States ``(B, T, H)`` of a left-padded batch ``(B, T)``, ``T <= max_len``.

        Positions count so that the last column is always ``max_len - 1``, as in the
        original, also when a batch was trimmed of its all-padding columns.
        """
        B, T = tokens.shape
        keep = (tokens != 0).unsqueeze(-1)  # (B, T, 1)
        positions = torch.arange(self.max_len - T, self.max_len, device=tokens.device)  # (T,)
        x = self.items(tokens) * math.sqrt(self.items.embedding_dim) + self.positions(positions)
        x = self.dropout(x) * keep  # (B, T, H)
        causal = torch.ones(T, T, dtype=torch.bool, device=tokens.device).tril()  # (T, T)
        # A padding query may attend to itself, so that no row of the softmax is empty.
        attend = (causal & keep.transpose(1, 2)) | torch.eye(T, dtype=torch.bool,
                                                              device=tokens.device)
        attend = attend.unsqueeze(1)  # (B, 1, T, T)
        for block in self.blocks:
            x = block(x, attend, keep)
        return self.final_norm(x)  # (B, T, H)

    def item_logits(self, states: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """r = F_t . M_i for given items: states ``(..., H)``, items ``(...)`` (III-E)."""
        return (states * self.items(items)).sum(dim=-1)


# --------------------------------------------------------------------------- negatives


def sample_negatives(sequences: torch.Tensor, n_items: int, generator: torch.Generator,
                     max_resamples: int) -> torch.Tensor:
    """One random item per position ``(B, T)``, redrawn where it occurs in that row.

    The original draws, per position, an item outside the user's whole training history
    (``sampler.random_neq``); here "the row" (the last ``max_len + 1`` items) stands for
    the history, and redrawing stops after ``max_resamples`` rounds. Both differences only
    matter for users with more than ``max_len + 1`` items or tiny catalogues.
    """
    B, T = sequences.shape
    in_row = torch.zeros(B, n_items + 1, dtype=torch.bool, device=sequences.device)
    in_row.scatter_(1, sequences, True)  # (B, n_items + 1): the items of each row
    negatives = torch.randint(1, n_items + 1, (B, T), generator=generator,
                              device=sequences.device)
    for _ in range(max_resamples):
        hits = in_row.gather(1, negatives)  # (B, T)
        if not bool(hits.any()):
            break
        fresh = torch.randint(1, n_items + 1, (B, T), generator=generator,
                              device=sequences.device)
        negatives = torch.where(hits, fresh, negatives)
    return negatives


# --------------------------------------------------------------------------- recommender


class SASRec:
    """The SASRec recommender: ``fit`` on a split's histories, ``score`` histories.

    Parameters
    ----------
    config
        Hyperparameters (defaults: the original ML-1m setting).
    **overrides
        Fields of :class:`SASRecConfig` to change.
    """

    name = "sasrec"

    def __init__(self, config: SASRecConfig | None = None, **overrides):
        self.config = SASRecConfig(**{**asdict(config or SASRecConfig()), **overrides})
        if self.config.loss not in LOSSES:
            raise ReplikitError("unknown SASRec loss", expected=" | ".join(LOSSES),
                                found=repr(self.config.loss), fix="set loss to 'ce' or 'bce'")
        self.network: SASRecNetwork | None = None
        self.n_items: int | None = None
        self.device = trainer.pick_device(self.config.device)

    def fit(self, split, *, seed: int, budget, on_epoch: Callable | None = None,
            train_stage: str = "valid") -> dict:
        """Train from scratch on ``split.histories(train_stage)`` (see BERT4Rec.fit).

        Each user gives windows of ``max_len + 1`` items, ``sliding_step * max_len`` apart
        (one window when the history is short): inputs are all but the last, targets all but
        the first (``sampler.py``). An epoch passes over every window once; the original
        draws users with replacement instead.
        """
        trainer.check_budget(budget)
        self.n_items = int(split.n_items)
        torch.manual_seed(seed)  # the initial weights
        self.network = SASRecNetwork(self.n_items, self.config).to(self.device)
        histories = [h for h in split.histories(train_stage) if len(h) > 1]
        length = self.config.max_len + 1
        step = max(1, int(self.config.sliding_step * self.config.max_len))
        windows = trainer.sliding_windows(histories, length, step)
        examples = trainer.pad_sequences(windows, length, side="left")
        log = trainer.train(self.network, examples.to(self.device), self._batch_loss,
                            self.config.settings(), budget=budget, seed=seed,
                            device=self.device, on_epoch=on_epoch)
        return {**log, "model": self.name, "config": asdict(self.config)}

    def _batch_loss(self, rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        rows = trainer.trim_padding(rows, side="left")  # (B, T + 1)
        if self.config.loss == "ce":
            return self._softmax_loss(rows)
        return self._sampled_loss(rows, generator)

    def _softmax_loss(self, rows: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the next item against every item, at every position."""
        inputs, targets = rows[:, :-1], rows[:, 1:]  # (B, T) each
        counted = (inputs != 0) & (targets != 0)  # (B, T)
        states = self.network(inputs)[counted]  # (M, H)
        logits = (states @ self.network.items.weight[1:].T).float()  # (M, n_items)
        return F.cross_entropy(logits, targets[counted] - 1)

    def _sampled_loss(self, rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """-sum log sigma(r_pos) + log(1 - sigma(r_neg)) over positions with a target."""
        inputs, targets = rows[:, :-1], rows[:, 1:]  # (B, T) each
        negatives = sample_negatives(rows, self.n_items, generator, self.config.max_resamples)
        negatives = negatives[:, 1:]
        states = self.network(inputs)  # (B, T, H)
        counted = (inputs != 0) & (targets != 0)  # (B, T)
        positive = self.network.item_logits(states[counted], targets[counted]).float()
        negative = self.network.item_logits(states[counted], negatives[counted]).float()
        loss = (F.binary_cross_entropy_with_logits(positive, torch.ones_like(positive),
                                                   reduction="sum")
                + F.binary_cross_entropy_with_logits(negative, torch.zeros_like(negative),
                                                     reduction="sum"))
        return loss / counted.sum()

    @torch.no_grad()
    def score(self, histories: list[np.ndarray], batch_size: int = 512) -> np.ndarray:
        """Scores ``(len(histories), n_items + 1)`` from the state after the last item.

        Column 0 (padding) is -inf. Users are batched by length, as in BERT4Rec.score.
        """
        if self.network is None:
            raise RuntimeError("SASRec.score called before fit")
        self.network.eval()
        tokens = trainer.pad_sequences(list(histories), self.config.max_len, side="left")
        lengths = (tokens != 0).sum(dim=1)
        scores = torch.empty(len(histories), self.n_items + 1)
        for users in lengths.argsort().split(batch_size):
            batch = trainer.trim_padding(tokens[users].to(self.device), side="left")
            if batch.shape[1] == 0:  # only empty histories: score from position max_len-1
                batch = torch.zeros(len(users), 1, dtype=torch.long, device=self.device)
            last = self.network(batch)[:, -1]  # (b, H)
            scores[users] = (last @ self.network.items.weight.T).float().cpu()
        scores[:, 0] = -math.inf
        return scores.numpy()
