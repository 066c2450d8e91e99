"""SASRec: configuration, causality, negatives, scoring, learning and determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from studies.bert4rec.sasrec import SASRec, SASRecConfig, SASRecNetwork, sample_negatives
from tests._model_helpers import Budget, ndcg_at_10, successor_split
from tests._model_helpers import one_thread as _one_thread  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("_one_thread")

TOY = dict(hidden_size=32, batch_size=32, lr=3e-3, max_len=20)


def test_config_defaults_are_the_original_ml1m_setting_with_a_softmax_loss():
    config = SASRecConfig()
    assert (config.hidden_size, config.num_layers, config.num_heads) == (50, 2, 1)
    assert (config.dropout, config.max_len, config.batch_size) == (0.2, 50, 128)
    assert (config.loss, config.sliding_step) == ("ce", 0.5)
    assert (config.lr, config.weight_decay) == (1e-3, 0.0)
    settings = config.settings()
    assert settings.betas == (0.9, 0.98) and settings.decay == "none"
    assert settings.clip_norm is None and settings.warmup_steps == 0


def test_network_is_causal_and_shapes_hold():
    network = SASRecNetwork(n_items=30, config=SASRecConfig(max_len=10)).eval()
    tokens = torch.tensor([[0, 0, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]])
    states = network(tokens)
    assert states.shape == (2, 6, 50)
    changed = tokens.clone()
    changed[:, 4:] = torch.tensor([29, 30])
    later = network(changed)
    torch.testing.assert_close(later[:, :4], states[:, :4])  # the future is not seen
    assert not torch.allclose(later[:, 4:], states[:, 4:])


def test_negatives_avoid_the_row_items():
    rows = torch.arange(1, 9).repeat(500, 1)  # items 1..8 of 10 are in every row
    negatives = sample_negatives(rows, 10, torch.Generator().manual_seed(0), max_resamples=50)
    assert set(negatives.unique().tolist()) == {9, 10}
    assert 0.45 < (negatives == 9).float().mean().item() < 0.55


def test_score_shape_padding_column_and_order():
    split = successor_split(n_users=40, n_items=30, seed=3)
    model = SASRec(**TOY)
    model.fit(split, seed=0, budget=Budget(epochs=1))
    histories = split.histories("valid")
    scores = model.score(histories)
    assert scores.shape == (40, 31) and scores.dtype == np.float32
    assert np.all(scores[:, 0] == -np.inf) and np.isfinite(scores[:, 1:]).all()
    np.testing.assert_allclose(model.score(histories[::-1])[::-1], scores, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("loss", ["ce", "bce"])
def test_learns_that_item_i_is_followed_by_i_plus_one(loss):
    split = successor_split(n_users=128, n_items=30)
    model = SASRec(**TOY, loss=loss)
    model.fit(split, seed=0, budget=Budget(epochs=15))
    ndcg = ndcg_at_10(model.score(split.histories("valid")), split.valid)
    chance = sum(1 / math.log2(r + 2) for r in range(10)) / 30
    assert ndcg > 2.5 * chance


@pytest.mark.parametrize("loss", ["ce", "bce"])
def test_same_seed_gives_bit_identical_weights_and_scores_on_cpu(loss):
    split = successor_split(n_users=48, n_items=20, seed=5)
    runs = []
    for _ in range(2):
        model = SASRec(**TOY, loss=loss)
        model.fit(split, seed=3, budget=Budget(epochs=2))
        runs.append((model.network.state_dict(), model.score(split.histories("test"))))
    (state_a, scores_a), (state_b, scores_b) = runs
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    assert torch.equal(torch.from_numpy(scores_a), torch.from_numpy(scores_b))


def test_score_before_fit_is_refused():
    with pytest.raises(RuntimeError, match="before fit"):
        SASRec().score([np.array([1, 2])])
