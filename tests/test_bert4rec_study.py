"""The bert4rec study's manifest: it validates, every claim maps to declared experiments whose
runner accepts their params under every profile, and the original-code runner parses run.py."""

from __future__ import annotations

import sys

import pytest

from replikit.errors import ReplikitError
from replikit.ext.recsys.ranking import PROTOCOLS
from replikit.run.harness import load_runner
from replikit.study import Pair, load_study
from replikit.vocabulary import LEVELS


@pytest.fixture(scope="module")
def study():
    return load_study("bert4rec")


def test_manifest_validates_with_quick_as_default(study):
    assert study.default_profile() == "quick"
    assert set(study.profiles) == {"quick", "paper"}


def test_every_claim_maps_levels_to_declared_experiments(study):
    for claim in study.claims:
        assert claim.levels, claim.id
        assert set(claim.levels) <= set(LEVELS)
        for name in claim.experiments():
            assert name in study.experiments, (claim.id, name)
        protocol, _, metric = claim.metric.partition("/")
        assert protocol in PROTOCOLS and metric, claim.id


def test_comparison_claims_pair_bert4rec_with_its_baselines(study):
    comparisons = [c for c in study.claims if c.kind in ("comparison", "best-of")
                   and c.id != "pm-longer-training-helps"]
    assert len(comparisons) == 5
    for claim in comparisons:
        for pair in claim.levels.values():
            assert isinstance(pair, Pair)
            if pair.not_run:   # baselines of Table 2 the study does not implement
                assert "implements none of" in pair.not_run
                continue
            assert study.experiments[pair.a].params["model"] == "bert4rec"
            others = pair.b if isinstance(pair.b, list) else [pair.b]
            assert {study.experiments[b].params["model"] for b in others} <= {
                "sasrec", "mostpop", "itemknn"}


def test_the_generalize_level_tests_relations_and_leaves_ml1m_numbers_as_information(study):
    for claim in study.claims:
        check = claim.levels.get("generalize")
        if check is None:
            continue
        if claim.kind == "value":
            # The paper's ML-1m numbers are not judged on ML-100k.
            assert study.differences(claim, check) and check.not_comparable, claim.id
        else:
            assert claim.kind in ("comparison", "best-of"), claim.id
    best = study.claim("b4r-best-of-baselines").levels["generalize"]
    assert best.b == ["ml100k-sasrec", "ml100k-mostpop", "ml100k-itemknn"]


def test_every_claim_and_experiment_states_its_data_set_and_protocol(study):
    for item in [*study.claims, *study.experiments.values()]:
        assert item.dataset in ("ml-1m", "ml-100k") and item.protocol, item


def test_generalize_level_has_four_models_over_three_seeds(study):
    ml100k = {n: e for n, e in study.experiments.items() if e.params.get("dataset") == "ml-100k"}
    assert {e.params["model"] for e in ml100k.values()} == {"bert4rec", "sasrec", "mostpop",
                                                            "itemknn"}
    assert all(len(e.seeds) >= 3 for e in ml100k.values())


@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_runner_accepts_every_experiments_params(study, profile):
    runner = load_runner(study, "runner.py:run_experiment")
    module = sys.modules[runner.__module__]
    for name, experiment in study.experiments.items():
        if experiment.runner != "runner.py:run_experiment":
            continue
        params = study.experiment_params(name, profile)
        module._check_params(params, where=name)  # raises on a bad key or value
        module._budget(params, where=name)


def test_rerun_needs_the_original_code_and_a_gpu(study):
    rerun = study.experiments["original-ml1m"]
    assert rerun.implementation == "original"
    assert "bert4rec-original" in rerun.needs
    assert study.artifacts["bert4rec-original"].is_git
    assert rerun.resources.gpus == 1


def test_original_runner_parses_the_metrics_line(study):
    original = sys.modules[load_runner(study, "original.py:run_original").__module__]
    output = ("step 400000\nndcg@1:0.2863, hit@1:0.2863， ndcg@5:0.4432, hit@5:0.5876, "
              "ndcg@10:0.4818, hit@10:0.6970, ap:0.4254, valid_user:6040.0\n")
    metrics = original.parse_metrics(output)
    assert metrics["pop100/hr@10"] == pytest.approx(0.6970)
    assert metrics["pop100/mrr"] == pytest.approx(0.4254)
    with pytest.raises(ReplikitError, match="printed no metrics line"):
        original.parse_metrics("Traceback: out of memory")


def test_original_runner_passes_run_ml1m_settings(study):
    original = sys.modules[load_runner(study, "original.py:run_original").__module__]
    settings = original.ML1M_SETTINGS
    signature = original._signature(settings)
    assert signature == "-mp1.0-sw0.5-mlp0.2-df10-mpps40-msl200"
    flags = original.run_flags("ml-1m", settings, signature, study.dir / "ckpt")
    assert flags["num_train_steps"] == 400_000 and flags["learning_rate"] == 1e-4
    assert flags["bert_config_file"] == "./bert_train/bert_config_ml-1m_64.json"


def test_the_training_length_claim_changes_only_the_epochs(study):
    """Twice the epochs, same model and data; the longer side untuned, at the first values."""
    pair = study.claim("pm-longer-training-helps").levels["generalize"]
    for profile in study.profiles:
        longer = study.experiment_params(pair.a, profile)
        tuned = study.experiment_params(pair.b, profile)
        assert (longer["model"], longer["dataset"]) == (tuned["model"], tuned["dataset"])
        assert longer["budget"]["epochs"] == 2 * tuned["budget"]["epochs"], profile
        assert "space" not in longer
        first = {k: v[0] for k, v in tuned["space"].items()}
        assert longer["hyperparameters"] == {**tuned["hyperparameters"], **first}, profile
