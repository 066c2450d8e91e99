"""The Surprise study's runners and re-implementations, checked against the installed library.

Each test writes a small synthetic MovieLens-format file; the reference is scikit-surprise
itself (the same release the study pins).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest
from surprise import SVD as SurpriseSVD
from surprise import BaselineOnly as SurpriseBaselineOnly
from surprise import Dataset, Reader, accuracy
from surprise import NormalPredictor as SurpriseNormalPredictor
from surprise.model_selection import KFold, cross_validate
from surprise.prediction_algorithms.predictions import Prediction

from replikit.errors import ReplikitError
from replikit.fileio import read_json, write_json
from replikit.run.harness import execute
from tests._surprise_helpers import (
    ROOT,
    SURPRISE_SITE,
    low_rank_ratings,
    run,
    study_module,
    surprise_study,
    write_ratings,
)

folds = study_module("folds")
metrics = study_module("metrics")
models = study_module("models")
ratings = study_module("ratings")
ours = study_module("ours")


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    """900 ratings of 60 users on 40 items, in u.data format."""
    path = tmp_path_factory.mktemp("surprise") / "u.data"
    return write_ratings(path, low_rank_ratings(60, 40, 900, seed=1))


def surprise_data(path, dataset="ml-100k"):
    return Dataset.load_from_file(str(path), reader=Reader(dataset))


def data_and_fold(path, n_splits=5, seed=0, fold=0):
    data = ratings.load_ratings(path, "ml-100k")
    train, test = folds.kfold_indices(len(data), n_splits, seed)[fold]
    return data, train, test


def surprise_fold(path, n_splits=5, seed=0, fold=0):
    splits = KFold(n_splits=n_splits, random_state=seed).split(surprise_data(path))
    for k, (trainset, testset) in enumerate(splits):
        if k == fold:
            return trainset, testset
    raise AssertionError("fold not found")


def fit_ours(model, data, train):
    return model.fit(data.users[train], data.items[train], data.values[train],
                     n_users=data.n_users, n_items=data.n_items, scale=data.scale)


# --------------------------------------------------------------------------- ratings and folds
def test_ratings_are_read_in_surprise_order(small_file):
    data = ratings.load_ratings(small_file, "ml-100k")
    raw = surprise_data(small_file).raw_ratings
    assert len(data) == len(raw) == 900
    first_user = {}
    for code, (user, _, _, _) in zip(data.users, raw, strict=True):
        assert first_user.setdefault(user, code) == code
    assert data.values.tolist() == [r for (_, _, r, _) in raw]


def test_ml1m_format_is_read_like_ml100k(tmp_path):
    rows = low_rank_ratings(20, 15, 100, seed=2)
    tab = ratings.load_ratings(write_ratings(tmp_path / "u.data", rows), "ml-100k")
    colons = ratings.load_ratings(write_ratings(tmp_path / "r.dat", rows, "ml-1m"), "ml-1m")
    assert np.array_equal(tab.users, colons.users) and np.array_equal(tab.values, colons.values)


def test_malformed_rating_file_is_an_error(tmp_path):
    bad = tmp_path / "u.data"
    bad.write_text("1\t2\tfive\t0\n", encoding="utf-8")
    with pytest.raises(ReplikitError, match="is not a MovieLens rating file"):
        ratings.load_ratings(bad, "ml-100k")
    with pytest.raises(ReplikitError, match="unknown dataset 'ml-20m'"):
        ratings.load_ratings(bad, "ml-20m")


@pytest.mark.parametrize(("n_ratings", "n_splits", "seed"),
                         [(900, 5, 0), (900, 5, 3), (903, 5, 0), (101, 3, 7), (10, 10, 1)])
def test_folds_equal_surprise_kfold(tmp_path, n_ratings, n_splits, seed):
    path = write_ratings(tmp_path / "u.data", low_rank_ratings(50, 40, n_ratings, seed=seed))
    raw = surprise_data(path).raw_ratings
    position = {(u, i): k for k, (u, i, _, _) in enumerate(raw)}
    splits = KFold(n_splits=n_splits, random_state=seed).split(surprise_data(path))
    mine = folds.kfold_indices(n_ratings, n_splits, seed)
    for (trainset, testset), (train, test) in zip(splits, mine, strict=True):
        assert [position[(u, i)] for (u, i, _) in testset] == test.tolist()
        assert sorted(train.tolist()) == sorted(set(range(n_ratings)) - set(test.tolist()))
        # Surprise numbers users and items in order of first appearance in the train part:
        # equal orders mean our train positions come in Surprise's order.
        users_in_order = list(dict.fromkeys(raw[k][0] for k in train))
        items_in_order = list(dict.fromkeys(raw[k][1] for k in train))
        assert [trainset.to_raw_uid(u) for u in range(trainset.n_users)] == users_in_order
        assert [trainset.to_raw_iid(i) for i in range(trainset.n_items)] == items_in_order


def test_fold_sizes_and_bad_split_counts():
    assert folds.fold_sizes(100_000, 5) == [20_000] * 5
    assert folds.fold_sizes(7, 3) == [3, 2, 2]
    with pytest.raises(ReplikitError, match="cannot cut the ratings"):
        folds.kfold_indices(5, 1, 0)
    with pytest.raises(ReplikitError, match="needs an integer seed"):
        folds.kfold_indices(5, 2, None)


# --------------------------------------------------------------------------- metrics
def test_metrics_equal_surprise_accuracy():
    rng = np.random.default_rng(5)
    truth = rng.integers(1, 6, 500).astype(float)
    predicted = np.clip(truth + rng.normal(0, 0.9, 500), 1, 5)
    predictions = [Prediction(str(k), str(k), t, p, {})
                   for k, (t, p) in enumerate(zip(truth, predicted, strict=True))]
    assert metrics.rmse(truth, predicted) == accuracy.rmse(predictions, verbose=False)
    assert metrics.mae(truth, predicted) == accuracy.mae(predictions, verbose=False)
    with pytest.raises(ReplikitError, match="cannot score predictions"):
        metrics.rmse(truth, predicted[:-1])


# --------------------------------------------------------------------------- the original runner
def direct_benchmark(path, dataset, algo_class, kwargs, seed, n_splits=5):
    """The benchmark's protocol written out by hand against the installed library."""
    np.random.seed(seed)
    random.seed(seed)
    data = surprise_data(path, dataset)
    return cross_validate(algo_class(**kwargs), data, ["rmse", "mae"],
                          KFold(n_splits=n_splits, random_state=seed))


@pytest.mark.parametrize(("algorithm", "algo_class", "kwargs", "seed", "resolved"), [
    ("SVD", SurpriseSVD, {}, 0, {"random_state": 0}),
    ("SVD", SurpriseSVD, {"n_epochs": 5}, 4, {"random_state": 4, "n_epochs": 5}),
    ("BaselineOnly", SurpriseBaselineOnly, {}, 0, {}),
    ("NormalPredictor", SurpriseNormalPredictor, {}, 0, {}),
    ("NormalPredictor", SurpriseNormalPredictor, {}, 2, {}),
])
def test_rerun_equals_direct_cross_validate(tmp_path, small_file, algorithm, algo_class,
                                            kwargs, seed, resolved):
    # The benchmark's seeded algorithms get the run's seed as random_state.
    result = run("original.py:cross_validate_original",
                 {"algorithm": algorithm, "kwargs": kwargs, "dataset": "ml-100k", "folds": 5},
                 seed, {"scikit-surprise": SURPRISE_SITE, "ml-100k": small_file}, tmp_path)
    direct = direct_benchmark(small_file, "ml-100k", algo_class, resolved, seed)
    assert [f["rmse"] for f in result["folds"]] == direct["test_rmse"].tolist()
    assert [f["mae"] for f in result["folds"]] == direct["test_mae"].tolist()
    assert result["metrics"]["rmse"] == float(np.mean(direct["test_rmse"]))
    assert result["metrics"]["mae"] == float(np.mean(direct["test_mae"]))
    # ...hence also to every digit the README prints.
    assert f"{result['metrics']['rmse']:.3f}" == f"{np.mean(direct['test_rmse']):.3f}"
    assert result["metrics"]["time_s"] > 0
    assert result["extra"]["surprise_path"] == str(SURPRISE_SITE / "surprise")
    assert result["extra"]["kwargs"] == resolved


def test_rerun_reads_ml1m_format(tmp_path):
    path = write_ratings(tmp_path / "ratings.dat", low_rank_ratings(30, 30, 400, seed=3), "ml-1m")
    result = run("original.py:cross_validate_original",
                 {"algorithm": "BaselineOnly", "kwargs": {}, "dataset": "ml-1m", "folds": 3},
                 0, {"scikit-surprise": SURPRISE_SITE, "ml-1m": path}, tmp_path)
    direct = direct_benchmark(path, "ml-1m", SurpriseBaselineOnly, {}, 0, n_splits=3)
    assert [f["rmse"] for f in result["folds"]] == direct["test_rmse"].tolist()
    assert result["extra"]["n_ratings"] == 400


def test_rerun_refuses_an_artifact_without_surprise(tmp_path, small_file):
    with pytest.raises(ReplikitError, match="holds no 'surprise' package"):
        run("original.py:cross_validate_original",
            {"algorithm": "SVD", "kwargs": {}, "dataset": "ml-100k", "folds": 5},
            0, {"scikit-surprise": tmp_path, "ml-100k": small_file}, tmp_path)


def test_rerun_refuses_a_surprise_imported_from_elsewhere(tmp_path, small_file):
    other = tmp_path / "site"
    shutil.copytree(SURPRISE_SITE / "surprise", other / "surprise",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    with pytest.raises(ReplikitError, match="imported from outside the pinned artifact"):
        run("original.py:cross_validate_original",
            {"algorithm": "SVD", "kwargs": {}, "dataset": "ml-100k", "folds": 5},
            0, {"scikit-surprise": other, "ml-100k": small_file}, tmp_path)


PINNED_RUN = """
import json, sys
from pathlib import Path
from replikit.study import load_study
from replikit.run.harness import RunContext, load_runner
study = load_study("surprise")
experiment = study.experiments["rerun-baselineonly-100k"]
records = {"scikit-surprise": {"status": "ok", "path": sys.argv[1]},
           "ml-100k": {"status": "ok", "path": sys.argv[2]}}
context = RunContext(study, "rerun-baselineonly-100k", experiment, 0, records, Path("."))
result = load_runner(study, experiment.runner)(context)
print(json.dumps(result["extra"]))
"""


def test_rerun_imports_surprise_from_the_artifact_folder(tmp_path, small_file):
    # A fresh process, as under Snakemake: the copy in the artifact folder is the one used.
    site = tmp_path / "site"
    shutil.copytree(SURPRISE_SITE / "surprise", site / "surprise",
                    ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-c", PINNED_RUN, str(site), str(small_file)],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120, check=True)
    extra = json.loads(done.stdout.strip().splitlines()[-1])
    assert extra["surprise_path"] == str((site / "surprise").resolve())
    assert extra["surprise_version"] == "1.1.5"


def test_rerun_refuses_an_unknown_algorithm(tmp_path, small_file):
    with pytest.raises(ReplikitError, match="unknown algorithm 'ALS'"):
        run("original.py:cross_validate_original",
            {"algorithm": "ALS", "kwargs": {}, "dataset": "ml-100k", "folds": 5},
            0, {"scikit-surprise": SURPRISE_SITE, "ml-100k": small_file}, tmp_path)


# --------------------------------------------------------------------------- our models
def test_baselineonly_agrees_with_surprise(tmp_path):
    # Users and items rated once make some test users/items unknown to the train part.
    path = write_ratings(tmp_path / "u.data",
                         low_rank_ratings(120, 80, 1500, seed=6, singletons=10))
    unseen = 0
    for fold in range(5):
        trainset, testset = surprise_fold(path, fold=fold)
        reference = SurpriseBaselineOnly(verbose=False).fit(trainset).test(testset)
        data, train, test = data_and_fold(path, fold=fold)
        predicted = fit_ours(models.BaselineOnly(), data, train).predict(
            data.users[test], data.items[test])
        expected = np.array([p.est for p in reference])
        assert np.allclose(predicted, expected, rtol=0, atol=1e-9)
        unseen += np.sum(~np.isin(data.users[test], data.users[train])
                         | ~np.isin(data.items[test], data.items[train]))
    assert unseen > 0  # the unknown-user/item path was exercised


def test_baselineonly_handles_unknown_users_and_items():
    users = np.array([0, 0, 1, 1])
    items = np.array([0, 1, 0, 1])
    model = models.BaselineOnly().fit(users, items, np.array([5.0, 3.0, 4.0, 2.0]),
                                      n_users=3, n_items=3)
    # user 2 and item 2 have no training ratings: their biases count as zero.
    assert model.predict([2], [2])[0] == pytest.approx(3.5, abs=1e-15)
    assert model.predict([2], [0])[0] == pytest.approx(3.5 + model.bi[0], abs=1e-15)
    assert model.predict([0], [2])[0] == pytest.approx(3.5 + model.bu[0], abs=1e-15)
    assert model.predict([7], [0])[0] == pytest.approx(3.5 + model.bi[0], abs=1e-15)


def test_svd_reaches_surprise_accuracy_on_low_rank_data(tmp_path):
    path = write_ratings(tmp_path / "u.data",
                         low_rank_ratings(200, 150, 12_000, rank=3, noise=0.2, seed=7,
                                          integer=False))
    theirs, mine = [], []
    for fold in range(2):
        trainset, testset = surprise_fold(path, fold=fold)
        theirs.append(accuracy.rmse(SurpriseSVD(random_state=0).fit(trainset).test(testset),
                                    verbose=False))
        data, train, test = data_and_fold(path, fold=fold)
        predicted = fit_ours(models.SVD(random_state=0), data, train).predict(
            data.users[test], data.items[test])
        mine.append(metrics.rmse(data.values[test], predicted))
    # The visiting order differs (theirs: user by user; ours: the fold's shuffled order),
    # so the two SGD runs are not the same path, only the same model and budget.
    assert np.mean(mine) == pytest.approx(np.mean(theirs), abs=0.02)
    # and it learns: far better than the baseline-free constant predictor
    data, train, test = data_and_fold(path)
    constant = metrics.rmse(data.values[test], np.full(len(test), data.values[train].mean()))
    assert np.mean(mine) < 0.8 * constant


def test_svd_unknown_users_and_items_fall_back_to_biases():
    users = np.array([0, 0, 1, 1, 0])
    items = np.array([0, 1, 0, 1, 0])
    model = models.SVD(n_factors=4, random_state=1).fit(
        users, items, np.array([5.0, 3.0, 4.0, 2.0, 5.0]), n_users=3, n_items=3)
    mean = model.global_mean
    assert model.predict([2], [2])[0] == mean
    assert model.predict([2], [1])[0] == pytest.approx(mean + model.bi[1], abs=1e-15)
    assert model.predict([1], [2])[0] == pytest.approx(mean + model.bu[1], abs=1e-15)
    full = mean + model.bu[1] + model.bi[1] + model.pu[1] @ model.qi[1]
    assert model.predict([1], [1])[0] == pytest.approx(np.clip(full, 1, 5), abs=1e-12)


def test_svd_predictions_are_clipped_to_the_scale():
    users, items = np.arange(4), np.arange(4)
    model = models.SVD(n_factors=2, n_epochs=200, lr_all=0.05, random_state=0).fit(
        users, items, np.array([5.0, 5.0, 1.0, 1.0]), n_users=4, n_items=4, scale=(1, 5))
    model.bu[:2] += 10  # push estimates far outside the scale
    model.bu[2:] -= 10
    assert model.predict(users, items).tolist() == [5.0, 5.0, 1.0, 1.0]


def test_svd_defaults_are_surprises_documented_ones():
    config = models.SVD().config
    assert (config.n_factors, config.n_epochs, config.biased) == (100, 20, True)
    assert (config.init_mean, config.init_std_dev) == (0.0, 0.1)
    assert {config.lr_bu, config.lr_bi, config.lr_pu, config.lr_qi} == {0.005}
    assert {config.reg_bu, config.reg_bi, config.reg_pu, config.reg_qi} == {0.02}
    assert models.SVD(lr_bu=0.01).config.lr_bu == 0.01
    with pytest.raises(TypeError, match="lr_xx"):
        models.SVD(lr_xx=0.1)
    assert models.BaselineOnly().config == models.BaselineConfig(10, 10.0, 15.0)


def test_normalpredictor_uses_ml_mean_and_sd(small_file):
    data, train, _ = data_and_fold(small_file)
    model = fit_ours(models.NormalPredictor(random_state=0), data, train)
    values = data.values[train]
    assert model.global_mean == pytest.approx(values.mean(), rel=1e-15)
    assert model.sigma == pytest.approx(values.std(ddof=0), rel=1e-14)
    draws = model.predict(np.zeros(200_000, int), np.zeros(200_000, int))
    assert draws.min() >= 1 and draws.max() <= 5
    # the unclipped draws have the fitted moments
    raw = np.random.default_rng(0).normal(model.global_mean, model.sigma, 200_000)
    assert np.array_equal(draws, np.clip(raw, 1, 5))
    assert raw.mean() == pytest.approx(model.global_mean, abs=0.01)
    assert raw.std() == pytest.approx(model.sigma, abs=0.01)


@pytest.mark.parametrize("algorithm", ["SVD", "BaselineOnly", "NormalPredictor"])
def test_same_seed_gives_bit_identical_predictions(small_file, algorithm):
    data, train, test = data_and_fold(small_file)
    kwargs = {} if algorithm == "BaselineOnly" else {"random_state": 11}

    def predict(**extra):
        model = models.MODELS[algorithm](**{**kwargs, **extra})
        return fit_ours(model, data, train).predict(data.users[test], data.items[test])

    first, second = predict(), predict()
    assert np.array_equal(first, second)
    if algorithm != "BaselineOnly":
        assert not np.array_equal(first, predict(random_state=12))


# --------------------------------------------------------------------------- our runner
def test_ours_runner_cross_validates_on_the_benchmark_folds(tmp_path, small_file):
    params = {"algorithm": "BaselineOnly", "dataset": "ml-100k", "folds": 5}
    result = run("ours.py:cross_validate_ours", params, 0, {"ml-100k": small_file}, tmp_path)
    direct = direct_benchmark(small_file, "ml-100k", SurpriseBaselineOnly, {"verbose": False}, 0)
    assert np.allclose([f["rmse"] for f in result["folds"]], direct["test_rmse"], atol=1e-9)
    assert np.allclose([f["mae"] for f in result["folds"]], direct["test_mae"], atol=1e-9)
    assert [f["n_test"] for f in result["folds"]] == [180] * 5
    assert result["metrics"]["rmse"] == pytest.approx(np.mean(direct["test_rmse"]), abs=1e-9)
    assert result["metrics"]["time_s"] > 0


def test_ours_runner_repeats_bit_for_bit(tmp_path, small_file):
    params = {"algorithm": "SVD", "dataset": "ml-100k", "folds": 5}
    first = run("ours.py:cross_validate_ours", params, 3, {"ml-100k": small_file}, tmp_path)
    second = run("ours.py:cross_validate_ours", params, 3, {"ml-100k": small_file}, tmp_path)
    assert first["metrics"]["rmse"] == second["metrics"]["rmse"]
    assert [f["mae"] for f in first["folds"]] == [f["mae"] for f in second["folds"]]
    assert first["extra"]["kwargs"] == {"random_state": 3}


def test_ours_runner_refuses_unknown_algorithms_and_datasets(tmp_path, small_file):
    params = {"algorithm": "SVDpp", "dataset": "ml-100k", "folds": 5}
    with pytest.raises(ReplikitError, match="no re-implementation of 'SVDpp'"):
        run("ours.py:cross_validate_ours", params, 0, {"ml-100k": small_file}, tmp_path)
    params = {"algorithm": "SVD", "dataset": "netflix", "folds": 5}
    with pytest.raises(ReplikitError, match="unknown dataset 'netflix'"):
        run("ours.py:cross_validate_ours", params, 0, {"ml-100k": small_file}, tmp_path)


# --------------------------------------------------------------------------- through the harness
@pytest.mark.slow  # the harness seeds torch too, and importing torch takes seconds
def test_study_experiments_run_through_the_harness(tmp_path, small_file):
    records = []
    for name, path in (("ml-100k", small_file), ("scikit-surprise", SURPRISE_SITE)):
        records.append(write_json(tmp_path / f"{name}.json",
                                  {"name": name, "status": "ok", "path": str(path)}))
    study = surprise_study()
    outputs = {}
    for experiment in ("rerun-baselineonly-100k", "ours-baselineonly-100k"):
        execute(study, experiment, 0, records, tmp_path / experiment / "metrics.json")
        outputs[experiment] = read_json(tmp_path / experiment / "metrics.json")
    rerun, mine = outputs["rerun-baselineonly-100k"], outputs["ours-baselineonly-100k"]
    assert rerun["status"] == mine["status"] == "ok"
    assert len(rerun["folds"]) == len(mine["folds"]) == 5
    assert mine["metrics"]["rmse"] == pytest.approx(rerun["metrics"]["rmse"], abs=1e-9)
    assert mine["metrics"]["mae"] == pytest.approx(rerun["metrics"]["mae"], abs=1e-9)
