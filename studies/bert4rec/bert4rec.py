"""BERT4Rec: a bidirectional Transformer trained with the Cloze task, in PyTorch.

Paper: F. Sun, J. Liu, J. Wu, C. Pei, X. Lin, W. Ou, P. Jiang. "BERT4Rec: Sequential
Recommendation with Bidirectional Encoder Representations from Transformer". CIKM 2019,
arXiv:1904.06690. Section numbers below refer to that paper.

Reference implementations read (never copied):
- FeiSun/BERT4Rec (TensorFlow 1): ``modeling.py`` (the network), ``run.py`` (the output
  layer and loss), ``optimization.py`` (AdamW, warm-up, decay, clipping),
  ``gen_data_fin.py`` (the masking and the sliding windows), ``run_ml-1m.sh`` and
  ``bert_train/bert_config_ml-1m_64.json`` (the ML-1m configuration).
- asash/bert4rec_repro (A. Petrov and C. Macdonald, "A Systematic Review and Replicability
  Study of BERT4Rec for Sequential Recommendation", RecSys 2022, arXiv:2207.07483).

The file follows the paper's order: embeddings with learned positions (3.5), multi-head
self-attention (3.3), the position-wise feed-forward network with GELU (3.3), the
Transformer layer (3.3), and the model with its output layer tied to the item embeddings
(3.4); then the Cloze masking (3.6) and the :class:`BERT4Rec` recommender (fit/score).

Shapes: B batch, T sequence length, H hidden size, nh heads, hs = H / nh, V vocabulary
(``n_items + 2``: 0 padding, 1..n_items items, ``n_items + 1`` the [mask] token), M the
number of masked positions in a batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import train as trainer


@dataclass
class BERT4RecConfig:
    """Hyperparameters; the defaults are the original ML-1m setting (FeiSun/BERT4Rec,
    ``bert_train/bert_config_ml-1m_64.json`` and ``run_ml-1m.sh``)."""

    hidden_size: int = 64  # bert_config_ml-1m_64.json: hidden_size
    num_layers: int = 2  # num_hidden_layers
    num_heads: int = 2  # num_attention_heads
    intermediate_size: int = 256  # intermediate_size; hidden_act "gelu"
    hidden_dropout: float = 0.2  # hidden_dropout_prob
    attention_dropout: float = 0.2  # attention_probs_dropout_prob
    initializer_range: float = 0.02  # truncated normal std of every weight
    max_len: int = 200  # run_ml-1m.sh: max_seq_length (= max_position_embeddings)
    mask_prob: float = 0.2  # masked_lm_prob: share of a sequence's items masked
    max_predictions: int = 40  # max_predictions_per_seq: cap on masked items per sequence
    # gen_data_fin.py writes dupe_factor=10 randomly masked copies of every window plus one
    # copy whose last item alone is masked; we draw the mask-last kind with the same odds
    # (1 in 11) on the fly instead of materialising 11 copies.
    mask_last_prob: float = 1 / 11
    sliding_step: float = 0.5  # prop_sliding_window: windows over long histories
    batch_size: int = 256  # run_ml-1m.sh: batch_size
    lr: float = 1e-4  # run_ml-1m.sh: learning_rate
    weight_decay: float = 0.01  # optimization.py: weight_decay_rate
    warmup_steps: int = 100  # run_ml-1m.sh: num_warmup_steps; then linear decay to 0
    clip_norm: float = 5.0  # optimization.py: clip_by_global_norm(grads, 5.0)
    # The original trains for num_train_steps=400,000 steps and decays the rate to zero at
    # that step; here the decay ends with the epoch budget (see train.lr_factor).
    num_train_steps: int = 400_000
    layer_norm_eps: float = 1e-12  # BERT's TensorFlow layer_norm epsilon
    amp: str = "off"  # CUDA only: "bf16"/"fp16" autocast; off until shown to keep metrics
    device: str | None = None  # None: CUDA when present, else CPU

    def settings(self) -> trainer.TrainSettings:
        """The optimiser settings of the shared training loop."""
        return trainer.TrainSettings(
            batch_size=self.batch_size, lr=self.lr, weight_decay=self.weight_decay,
            betas=(0.9, 0.999), eps=1e-6,  # AdamWeightDecayOptimizer's betas and epsilon
            warmup_steps=self.warmup_steps, decay="linear", clip_norm=self.clip_norm,
            amp=self.amp)


# --------------------------------------------------------------------------- network


class Embeddings(nn.Module):
    """Item embedding plus a learned position embedding (3.5), LayerNorm and dropout.

    The original also adds BERT's token-type embedding, always of type 0 in BERT4Rec: a
    constant vector that LayerNorm's bias can absorb, so it is left out.
    """

    def __init__(self, vocab_size: int, config: BERT4RecConfig):
        super().__init__()
        self.items = nn.Embedding(vocab_size, config.hidden_size)
        self.positions = nn.Embedding(config.max_len, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = trainer.Dropout(config.hidden_dropout)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)  # (T,)
        x = self.items(tokens) + self.positions(positions)  # (B, T, H)
        return self.dropout(self.norm(x))


class MultiHeadSelfAttention(nn.Module):
    """softmax(Q K^T / sqrt(hs)) V per head, heads concatenated and projected (3.3)."""

    def __init__(self, config: BERT4RecConfig):
        super().__init__()
        self.num_heads = config.num_heads
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.hidden_size)
        self.attention_dropout = trainer.Dropout(config.attention_dropout)

    def forward(self, x: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        """``x``: (B, T, H); ``attend``: (B, 1, 1, T), True where a key is an item."""
        B, T, H = x.shape
        q, k, v = self.qkv(x).split(H, dim=2)  # 3 x (B, T, H)
        q, k, v = (t.view(B, T, self.num_heads, H // self.num_heads).transpose(1, 2)
                   for t in (q, k, v))  # (B, nh, T, hs)
        # Bidirectional: every position attends to every non-padding position.
        y = trainer.attention(q, k, v, attend, self.attention_dropout)  # (B, nh, T, hs)
        return self.out(y.transpose(1, 2).reshape(B, T, H))  # (B, T, H)


class PositionwiseFeedForward(nn.Module):
    """FFN(x) = GELU(x W1 + b1) W2 + b2, applied at every position alike (3.3)."""

    def __init__(self, config: BERT4RecConfig):
        super().__init__()
        self.up = nn.Linear(config.hidden_size, config.intermediate_size)
        self.down = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The exact (erf) GELU, as the original modeling.py.
        return self.down(F.gelu(self.up(x)))  # (B, T, H)


class TransformerLayer(nn.Module):
    """LN(x + Dropout(Sublayer(x))) around attention, then around the FFN (3.3, post-LN)."""

    def __init__(self, config: BERT4RecConfig):
        super().__init__()
        self.attention = MultiHeadSelfAttention(config)
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.ffn = PositionwiseFeedForward(config)
        self.ffn_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = trainer.Dropout(config.hidden_dropout)

    def forward(self, x: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        x = self.attention_norm(x + self.dropout(self.attention(x, attend)))  # (B, T, H)
        return self.ffn_norm(x + self.dropout(self.ffn(x)))  # (B, T, H)


class BERT4RecNetwork(nn.Module):
    """Embeddings, L Transformer layers, and the output layer of 3.4.

    The output layer is P(v) = softmax(GELU(h W_P + b_P) E^T + b_O): a GELU projection
    (followed, in the original ``run.py``, by a LayerNorm), then a dot product with the
    shared item embedding table E plus a per-item bias b_O.
    """

    def __init__(self, vocab_size: int, config: BERT4RecConfig):
        super().__init__()
        self.embeddings = Embeddings(vocab_size, config)
        self.layers = nn.ModuleList(TransformerLayer(config) for _ in range(config.num_layers))
        self.transform = nn.Linear(config.hidden_size, config.hidden_size)  # W_P, b_P
        self.transform_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.output_bias = nn.Parameter(torch.zeros(vocab_size))  # b_O
        self.apply(lambda module: _init_weights(module, config.initializer_range))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Hidden states ``(B, T, H)`` of a right-padded batch ``tokens`` ``(B, T)``."""
        attend = (tokens != 0)[:, None, None, :]  # (B, 1, 1, T)
        x = self.embeddings(tokens)
        for layer in self.layers:
            x = layer(x, attend)
        return x

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores ``(M, V)`` of every vocabulary entry at the given states ``(M, H)``."""
        h = self.transform_norm(F.gelu(self.transform(hidden)))  # (M, H)
        return h @ self.embeddings.items.weight.T + self.output_bias  # (M, V), E tied


def _init_weights(module: nn.Module, std: float) -> None:
    """BERT's initialisation: truncated normal (2 std) weights, zero biases, unit LayerNorm."""
    if isinstance(module, nn.Linear | nn.Embedding):
        nn.init.trunc_normal_(module.weight, std=std, a=-2 * std, b=2 * std)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


# --------------------------------------------------------------------------- Cloze task


def cloze_mask(rows: torch.Tensor, generator: torch.Generator, config: BERT4RecConfig,
               mask_token: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask items of right-padded sequences for the Cloze objective (3.6), batched.

    As ``gen_data_fin.py``: each sequence gets exactly ``round(length * mask_prob)`` masked
    items (at least 1, at most ``max_predictions``) at uniformly random positions, all
    replaced by [mask] (``mask_prob=1.0`` there: no BERT 80/10/10 split). With probability
    ``mask_last_prob`` a sequence instead has only its last item masked, which matches
    training to the prediction task (3.6: extra samples that mask only the last item).

    Returns
    -------
    inputs, masked
        ``(B, T)`` tokens with [mask] placed, and the ``(B, T)`` boolean mask.
    """
    valid = rows != 0  # (B, T)
    lengths = valid.sum(dim=1)  # (B,)
    # Python 2's round (the original's) rounds halves away from zero.
    n_masked = torch.floor(lengths * config.mask_prob + 0.5).long()
    n_masked = n_masked.clamp(min=1, max=config.max_predictions)  # (B,)
    keys = torch.rand(rows.shape, generator=generator, device=rows.device)
    keys = keys.masked_fill(~valid, 2.0)  # padding sorts last
    ranks = keys.argsort(dim=1).argsort(dim=1)  # (B, T) rank of each position's key
    masked = ranks < n_masked[:, None]  # (B, T), exactly n_masked per row
    last_only = torch.rand(rows.shape[0], generator=generator,
                           device=rows.device) < config.mask_last_prob  # (B,)
    is_last = torch.arange(rows.shape[1], device=rows.device) == (lengths - 1)[:, None]
    masked = torch.where(last_only[:, None], is_last, masked)
    return rows.masked_fill(masked, mask_token), masked


# --------------------------------------------------------------------------- recommender


class BERT4Rec:
    """The BERT4Rec recommender: ``fit`` on a split's histories, ``score`` histories.

    Parameters
    ----------
    config
        Hyperparameters (defaults: the original ML-1m setting).
    **overrides
        Fields of :class:`BERT4RecConfig` to change, e.g. ``hidden_size=32``.
    """

    name = "bert4rec"

    def __init__(self, config: BERT4RecConfig | None = None, **overrides):
        self.config = BERT4RecConfig(**{**asdict(config or BERT4RecConfig()), **overrides})
        self.network: BERT4RecNetwork | None = None
        self.n_items: int | None = None
        self.device = trainer.pick_device(self.config.device)

    @property
    def mask_token(self) -> int:
        return self.n_items + 1

    def fit(self, split, *, seed: int, budget, on_epoch: Callable | None = None,
            train_stage: str = "valid") -> dict:
        """Train from scratch on ``split.histories(train_stage)``.

        ``train_stage="valid"`` (the default, used for tuning and for the final fit alike)
        trains on the training part; ``"test"`` also on each user's validation item (no
        caller of this study passes it).
        Returns the training log of :func:`train.train` plus the config.
        """
        trainer.check_budget(budget)
        self.n_items = int(split.n_items)
        torch.manual_seed(seed)  # the initial weights
        self.network = BERT4RecNetwork(self.n_items + 2, self.config).to(self.device)
        examples = self._examples(split, train_stage)
        log = trainer.train(self.network, examples.to(self.device), self._batch_loss,
                            self.config.settings(), budget=budget, seed=seed,
                            device=self.device, on_epoch=on_epoch)
        return {**log, "model": self.name, "config": asdict(self.config)}

    def _examples(self, split, train_stage: str) -> torch.Tensor:
        """Right-padded training windows ``(N, max_len)`` of the non-empty histories."""
        histories = [h for h in split.histories(train_stage) if len(h) > 0]
        step = max(1, int(self.config.sliding_step * self.config.max_len))
        windows = trainer.sliding_windows(histories, self.config.max_len, step)
        return trainer.pad_sequences(windows, self.config.max_len, side="right")

    def epochs_for_steps(self, split, steps: int | None = None,
                         train_stage: str = "valid") -> int:
        """Epochs that make ``steps`` optimiser steps (default: the original 400,000).

        The original counts steps, our budget counts epochs; this converts, e.g. for the
        'paper' profile.
        """
        settings = self.config.settings()
        per_epoch = trainer.batches_per_epoch(len(self._examples(split, train_stage)),
                                              settings.batch_size, settings.bucket_factor)
        return math.ceil((steps or self.config.num_train_steps) / per_epoch)

    def _batch_loss(self, rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Cross-entropy over the whole vocabulary at the masked positions (3.6)."""
        rows = trainer.trim_padding(rows, side="right")  # (B, T<=max_len)
        inputs, masked = cloze_mask(rows, generator, self.config, self.mask_token)
        hidden = self.network(inputs)[masked]  # (M, H)
        logits = self.network.logits(hidden).float()  # (M, V); loss in fp32 under autocast
        return F.cross_entropy(logits, rows[masked])

    @torch.no_grad()
    def score(self, histories: list[np.ndarray], batch_size: int = 512) -> np.ndarray:
        """Scores ``(len(histories), n_items + 1)``; column 0 (padding) is -inf.

        Each history's last ``max_len - 1`` items are followed by [mask], and the output
        at [mask] scores every item (3.6, test). Users are batched by length so that
        batches carry little padding; the result is in the order of ``histories``.
        """
        if self.network is None:
            raise RuntimeError("BERT4Rec.score called before fit")
        self.network.eval()
        tokens = torch.cat([
            trainer.pad_sequences(list(histories), self.config.max_len - 1, side="right"),
            torch.zeros(len(histories), 1, dtype=torch.long)], dim=1)  # (U, max_len)
        lengths = (tokens != 0).sum(dim=1)  # (U,)
        tokens[torch.arange(len(tokens)), lengths] = self.mask_token
        scores = torch.empty(len(histories), self.n_items + 1)
        for users in lengths.argsort().split(batch_size):
            batch = trainer.trim_padding(tokens[users].to(self.device), side="right")
            hidden = self.network(batch)  # (b, T, H)
            at_mask = hidden[torch.arange(len(users)), lengths[users].to(self.device)]  # (b, H)
            scores[users] = self.network.logits(at_mask)[:, : self.n_items + 1].float().cpu()
        scores[:, 0] = -math.inf
        return scores.numpy()
