"""BERT4Rec: configuration, shapes, Cloze masking, scoring, learning and determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from replikit.errors import ReplikitError
from studies.bert4rec.bert4rec import BERT4Rec, BERT4RecConfig, BERT4RecNetwork, cloze_mask
from tests._model_helpers import Budget, ndcg_at_10, successor_split
from tests._model_helpers import one_thread as _one_thread  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("_one_thread")

# A small, quick setting for the toy data (the defaults are for ML-1m).
TOY = dict(hidden_size=32, num_heads=1, batch_size=16, lr=5e-3, warmup_steps=10,
           hidden_dropout=0.0, attention_dropout=0.0, mask_prob=0.4, max_len=16)


def test_config_defaults_are_the_original_ml1m_setting():
    config = BERT4RecConfig()
    assert (config.hidden_size, config.num_layers, config.num_heads) == (64, 2, 2)
    assert config.intermediate_size == 256
    assert (config.hidden_dropout, config.attention_dropout) == (0.2, 0.2)
    assert (config.mask_prob, config.max_len, config.max_predictions) == (0.2, 200, 40)
    assert (config.lr, config.weight_decay, config.clip_norm) == (1e-4, 0.01, 5.0)
    assert (config.batch_size, config.warmup_steps, config.num_train_steps) == (256, 100, 400_000)
    assert config.initializer_range == 0.02
    settings = config.settings()
    assert settings.decay == "linear" and settings.betas == (0.9, 0.999)


def test_network_shapes_and_tied_output():
    config = BERT4RecConfig(max_len=12)
    network = BERT4RecNetwork(vocab_size=22, config=config)
    tokens = torch.tensor([[3, 4, 5, 21, 0, 0], [1, 2, 3, 4, 5, 21]])
    hidden = network(tokens)
    assert hidden.shape == (2, 6, 64)
    assert network.logits(hidden[tokens == 21]).shape == (2, 22)
    # The output layer has no item matrix of its own: it reuses the input embedding table.
    names = [name for name, _ in network.named_parameters()]
    assert sum("items" in name for name in names) == 1


def test_cloze_mask_masks_the_original_share_of_each_sequence():
    config = BERT4RecConfig(mask_last_prob=0.0)
    lengths = torch.tensor([1, 2, 3, 7, 10, 52, 200, 200])
    rows = (torch.arange(200) < lengths[:, None]) * torch.randint(1, 50, (8, 200))
    inputs, masked = cloze_mask(rows, torch.Generator().manual_seed(0), config, mask_token=99)
    expected = torch.tensor([1, 1, 1, 1, 2, 10, 40, 40])  # round(0.2 n), >= 1, <= 40
    assert torch.equal(masked.sum(dim=1), expected)
    assert not masked[rows == 0].any(), "padding must never be masked"
    assert torch.equal(inputs[masked], torch.full((int(expected.sum()),), 99))
    assert torch.equal(inputs[~masked], rows[~masked])


def test_cloze_mask_positions_are_uniform_and_last_only_rows_have_the_set_rate():
    config = BERT4RecConfig(mask_last_prob=1 / 11)
    rows = torch.randint(1, 50, (22_000, 10))
    _, masked = cloze_mask(rows, torch.Generator().manual_seed(1), config, mask_token=99)
    last_only = (masked.sum(dim=1) == 1) & masked[:, -1]  # 2 random masks otherwise
    assert abs(last_only.float().mean().item() - 1 / 11) < 0.01
    per_position = masked[~last_only].float().mean(dim=0)  # 2 of 10 -> 0.2 everywhere
    assert torch.allclose(per_position, torch.full((10,), 0.2), atol=0.015)


def test_score_shape_padding_column_and_order():
    split = successor_split(n_users=40, n_items=30, seed=3)
    model = BERT4Rec(**TOY)
    model.fit(split, seed=0, budget=Budget(epochs=1))
    histories = split.histories("valid")
    scores = model.score(histories)
    assert scores.shape == (40, 31) and scores.dtype == np.float32
    assert np.all(scores[:, 0] == -np.inf) and np.isfinite(scores[:, 1:]).all()
    reversed_scores = model.score(histories[::-1])  # length batching must keep the order
    np.testing.assert_allclose(reversed_scores[::-1], scores, rtol=1e-5, atol=1e-5)


def test_score_uses_the_last_max_len_minus_one_items():
    split = successor_split(n_users=8, n_items=30, seed=4)
    model = BERT4Rec(**TOY)
    model.fit(split, seed=0, budget=Budget(epochs=1))
    long = np.arange(1, 31)
    np.testing.assert_array_equal(model.score([long]), model.score([long[-(16 - 1):]]))


def test_learns_that_item_i_is_followed_by_i_plus_one():
    split = successor_split(n_users=256, n_items=30, min_len=6, max_len=12)
    model = BERT4Rec(**TOY)
    model.fit(split, seed=0, budget=Budget(epochs=12))
    ndcg = ndcg_at_10(model.score(split.histories("valid")), split.valid)
    chance = sum(1 / math.log2(r + 2) for r in range(10)) / 30  # random ranking: 0.15
    assert ndcg > 2.5 * chance


def test_same_seed_gives_bit_identical_weights_and_scores_on_cpu():
    split = successor_split(n_users=48, n_items=20, seed=5)
    config = dict(TOY, hidden_dropout=0.2, attention_dropout=0.2)  # dropout must repeat too
    runs = []
    for _ in range(2):
        model = BERT4Rec(**config)
        model.fit(split, seed=7, budget=Budget(epochs=2))
        runs.append((model.network.state_dict(), model.score(split.histories("test"))))
    (state_a, scores_a), (state_b, scores_b) = runs
    assert state_a.keys() == state_b.keys()
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    assert torch.equal(torch.from_numpy(scores_a), torch.from_numpy(scores_b))
    other = BERT4Rec(**config)
    other.fit(split, seed=8, budget=Budget(epochs=2))
    assert not torch.equal(other.network.state_dict()["output_bias"], state_a["output_bias"])


def test_fit_returns_the_training_log_with_a_curve():
    split = successor_split(n_users=32, n_items=20, max_len=12, seed=6)
    model = BERT4Rec(**TOY)
    log = model.fit(split, seed=0, budget=Budget(epochs=3),
                    on_epoch=lambda epoch, seconds: {"ndcg@10": float(epoch)})
    assert log["epochs"] == 3 and log["steps"] == 3 * 2
    assert [p["metric"]["ndcg@10"] for p in log["curve"]] == [1.0, 2.0, 3.0]
    assert log["model"] == "bert4rec" and log["config"]["hidden_size"] == 32
    assert log["device"].startswith("cpu") and log["amp"] == "off"


def test_train_stage_test_adds_the_validation_item():
    split = successor_split(n_users=16, n_items=20, max_len=12, seed=7)
    seen = []
    model = BERT4Rec(**TOY)
    original = model._batch_loss
    model._batch_loss = lambda rows, g: (seen.append(int((rows != 0).sum())), original(rows, g))[1]
    model.fit(split, seed=0, budget=Budget(epochs=1), train_stage="test")
    assert sum(seen) == sum(len(h) for h in split.histories("test"))


def test_score_before_fit_and_empty_budget_are_refused():
    with pytest.raises(RuntimeError, match="before fit"):
        BERT4Rec().score([np.array([1, 2])])
    with pytest.raises(ReplikitError, match="no epochs, steps or seconds"):
        BERT4Rec(**TOY).fit(successor_split(n_users=4), seed=0, budget=Budget())


def test_epochs_for_steps_converts_the_original_step_count():
    split = successor_split(n_users=40, n_items=20, max_len=12, seed=8)  # 40 windows
    model = BERT4Rec(**TOY)  # batch 16, buckets of 16 x 16 rows: 3 batches per epoch
    assert model.epochs_for_steps(split, steps=30) == 10
    assert model.epochs_for_steps(split) == 400_000 // 3 + 1
