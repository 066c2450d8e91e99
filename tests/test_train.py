"""The shared training loop: vectorised batches, schedule, budget, curve, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from replikit.errors import ReplikitError
from studies.bert4rec import train
from tests._model_helpers import Budget


def test_pad_sequences_right_and_left_with_truncation():
    seqs = [np.array([1, 2, 3, 4]), np.array([5]), np.array([], dtype=np.int64)]
    right = train.pad_sequences(seqs, 3, side="right")
    left = train.pad_sequences(seqs, 3, side="left")
    assert right.tolist() == [[2, 3, 4], [5, 0, 0], [0, 0, 0]]
    assert left.tolist() == [[2, 3, 4], [0, 0, 5], [0, 0, 0]]
    assert right.dtype == torch.int64
    with pytest.raises(ReplikitError, match="padding side"):
        train.pad_sequences(seqs, 3, side="middle")


def test_sliding_windows_follow_the_original_steps():
    windows = train.sliding_windows([np.arange(1, 11), np.arange(1, 4)], length=4, step=2)
    assert [w.tolist() for w in windows] == [
        [1, 2, 3, 4], [3, 4, 5, 6], [5, 6, 7, 8], [7, 8, 9, 10], [1, 2, 3]]


def test_bucket_batches_use_every_row_once_and_repeat_with_the_seed():
    lengths = torch.randint(1, 200, (1000,))
    first = train.bucket_batches(lengths, 32, 4, torch.Generator().manual_seed(5))
    again = train.bucket_batches(lengths, 32, 4, torch.Generator().manual_seed(5))
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert sorted(torch.cat(first).tolist()) == list(range(1000))
    assert len(first) == train.batches_per_epoch(1000, 32, 4)
    spread = np.mean([float(lengths[b].max() - lengths[b].min()) for b in first])
    plain = train.bucket_batches(lengths, 32, 0, torch.Generator().manual_seed(5))
    plain_spread = np.mean([float(lengths[b].max() - lengths[b].min()) for b in plain])
    assert spread < plain_spread / 2  # batches hold similar lengths


def test_trim_padding_keeps_only_used_columns():
    rows = torch.tensor([[0, 0, 1, 2], [0, 0, 0, 3]])
    assert train.trim_padding(rows, "left").tolist() == [[1, 2], [0, 3]]
    assert train.trim_padding(rows.flip(1), "right").tolist() == [[2, 1], [3, 0]]
    assert train.trim_padding(torch.zeros(2, 3, dtype=torch.long), "left").shape == (2, 0)


def test_lr_factor_warms_up_then_decays_linearly():
    factors = [train.lr_factor(s, 4, 12) for s in range(13)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0]
    assert factors[8] == 0.5 and factors[12] == 0.0
    assert train.lr_factor(10_000, 4, None) == 1.0


def test_weight_decay_skips_biases_and_norms():
    network = nn.Sequential(nn.Linear(3, 3), nn.LayerNorm(3))
    settings = train.TrainSettings(batch_size=2, lr=0.1, weight_decay=0.01)
    groups = train.make_optimizer(network, settings).param_groups
    assert [len(g["params"]) for g in groups] == [1, 3]
    assert [g["weight_decay"] for g in groups] == [0.01, 0.0]


class _Regression:
    """A tiny model whose loss uses the generator, as masking and negatives do."""

    def __init__(self):
        torch.manual_seed(0)
        self.network = nn.Sequential(nn.Embedding(20, 4), nn.Dropout(0.5), nn.Linear(4, 1))

    def loss(self, rows, generator):
        noise = torch.rand(rows.shape, generator=generator)
        return ((self.network(rows).squeeze(-1) - noise) ** 2).mean()


def _run(budget, on_epoch=None, seed=0):
    model = _Regression()
    examples = torch.randint(1, 20, (50, 6))
    settings = train.TrainSettings(batch_size=8, lr=0.01, weight_decay=0.0, warmup_steps=2,
                                   clip_norm=1.0)
    log = train.train(model.network, examples, model.loss, settings, budget=budget, seed=seed,
                      device=torch.device("cpu"), on_epoch=on_epoch)
    return model, log


def test_train_logs_epochs_steps_and_curve():
    calls = []
    model, log = _run(Budget(epochs=3), on_epoch=lambda e, s: calls.append((e, s)) or {"m": e})
    assert (log["epochs"], log["steps"], log["sequences"]) == (3, 21, 150)
    assert [c[0] for c in calls] == [1, 2, 3]
    assert [p["metric"] for p in log["curve"]] == [{"m": 1}, {"m": 2}, {"m": 3}]
    assert all(p["seconds"] <= log["train_seconds"] for p in log["curve"])
    assert log["sequences_per_second"] > 0 and not model.network.training


def test_train_stops_when_on_epoch_says_stop_and_when_time_is_up():
    _, log = _run(Budget(epochs=10), on_epoch=lambda e, s: {"stop": e == 2})
    assert log["epochs"] == 2 and "stop" not in log["curve"][-1]["metric"]
    _, log = _run(Budget(epochs=None, seconds=0.0))
    assert log["epochs"] == 1 and log["steps"] == 1


def test_a_step_budget_cuts_the_last_epoch_and_ends_the_rate_there():
    _, log = _run(Budget(epochs=None, steps=10))  # 7 batches per epoch
    assert (log["epochs"], log["steps"]) == (2, 10)
    assert train._total_steps(Budget(epochs=3, steps=10), 7) == 10
    assert train._total_steps(Budget(epochs=1, steps=10), 7) == 7


def test_train_repeats_bit_for_bit_and_depends_on_the_seed():
    state_a = _run(Budget(epochs=2))[0].network.state_dict()
    state_b = _run(Budget(epochs=2))[0].network.state_dict()
    state_c = _run(Budget(epochs=2), seed=1)[0].network.state_dict()
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    assert not all(torch.equal(state_a[k], state_c[k]) for k in state_a)


def test_budget_without_epochs_or_seconds_is_refused():
    with pytest.raises(ReplikitError, match="no epochs, steps or seconds"):
        _run(Budget())


def test_device_helpers_name_the_cpu():
    assert train.pick_device("cpu").type == "cpu"
    assert train.device_name(torch.device("cpu")).startswith("cpu (")


def test_dropout_keeps_the_expected_value_and_turns_off_in_eval():
    torch.manual_seed(0)
    layer = train.Dropout(0.2)
    out = layer(torch.ones(200_000))
    assert abs((out == 0).float().mean().item() - 0.2) < 0.005
    assert set(out.unique().tolist()) == {0.0, 1.25}
    x = torch.randn(5)
    assert torch.equal(layer.eval()(x), x)


def test_attention_with_dropout_path_matches_the_fused_kernel():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, 2, 5, 4).unbind(0)
    attend = torch.tensor([True, True, False, True, False])[None, None, None, :]
    fused = train.attention(q, k, v, attend, train.Dropout(0.0))
    explicit = train.attention(q, k, v, attend, train.Dropout(1e-12))  # the dropout path
    torch.testing.assert_close(explicit, fused)
