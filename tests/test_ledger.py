"""The claims ledger, built from a small hand-written study and run records."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from replikit import cli
from replikit.errors import ReplikitError
from replikit.evaluate.claims_table import COLUMNS, read_ledger, write_ledger
from replikit.evaluate.ledger import (
    build_ledger,
    hardware_comparability,
    study_ledger,
    summary_line,
    verdict_counts,
)
from replikit.evaluate.samples import Runs, load_records, sample_of
from replikit.study import Study

RMSE_FOLDS = [0.9321, 0.9376, 0.9344, 0.9302, 0.9365]
SEED_RMSE = {1: 0.9352, 2: 0.9331, 3: 0.9347, 4: 0.9338}
NDCG_A = {0: 0.412, 1: 0.405, 2: 0.418}
NDCG_B = {0: 0.398, 1: 0.396, 2: 0.401}
NDCG_C = {0: 0.399, 1: 0.402, 2: 0.397}
USERS_A = {0: [0.50, 0.20, 0.90, 0.40, 0.70, 0.30], 1: [0.52, 0.18, 0.88, 0.46, 0.66, 0.34]}
USERS_B = {0: [0.45, 0.21, 0.80, 0.35, 0.69, 0.20], 1: [0.47, 0.15, 0.84, 0.37, 0.61, 0.26]}
FOLDS_A = [0.611, 0.602, 0.620, 0.615, 0.608]
FOLDS_B = [0.598, 0.601, 0.604, 0.599, 0.600]
HARDWARE_NOTE = "cpu: AMD EPYC here, intel i5 declared"


def _experiment(seeds):
    return {"description": "x", "implementation": "original", "runner": "run.py:run",
            "seeds": seeds}


def study_dict():
    return {
        "name": "toy",
        "summary": "A toy study for the ledger tests.",
        "paper": {"title": "Toy", "authors": ["A. Author"], "venue": "JOSS 2020", "year": 2020},
        "hardware": {"declared": {"cpu": "intel i5 11th Gen 2.60GHz"}},
        "experiments": {
            "rerun-svd": _experiment([0]), "ours-svd": _experiment([0]),
            "seeds-svd": _experiment([1, 2, 3, 4, 5]),
            "model-a": _experiment([0, 1, 2]), "model-b": _experiment([0, 1, 2]),
            "model-c": _experiment([0, 1, 2]),
            "users-a": _experiment([0, 1]), "users-b": _experiment([0, 1]),
            "folds-a": _experiment([0]), "folds-b": _experiment([0]),
            "lost-a": _experiment([0]), "lost-b": _experiment([0]),
        },
        "claims": [
            {"id": "svd-rmse", "text": "SVD has RMSE 0.934", "source": "Table 1",
             "metric": "rmse", "reported": 0.934, "decimals": 3, "higher_is_better": False,
             "tolerance": {"absolute": 0.005},
             "levels": {"generalize": "seeds-svd", "re-run": "rerun-svd",
                        "re-implement": "ours-svd"}},
            {"id": "svd-time", "text": "SVD takes 0:00:06", "source": "Table 1", "kind": "time",
             "metric": "time_s", "reported": 6, "decimals": 0, "higher_is_better": False,
             "tolerance": {"relative": 0.5}, "levels": {"re-run": "rerun-svd"}},
            {"id": "a-beats-b", "text": "A beats B on NDCG@10", "source": "Table 2",
             "kind": "comparison", "metric": "ndcg@10",
             "levels": {"re-run": {"a": "model-a", "b": "model-b"},
                        "re-implement": {"a": "folds-a", "b": "folds-b"},
                        "generalize": {"a": "users-a", "b": "users-b"}}},
            {"id": "c-beats-b", "text": "C beats B on NDCG@10", "source": "Table 2",
             "kind": "comparison", "metric": "ndcg@10",
             "levels": {"re-run": {"a": "model-c", "b": "model-b"},
                        "generalize": {"a": "lost-a", "b": "lost-b"}}},
        ],
    }


def _ok(experiment, seed, metrics, folds=(), extra=None):
    return {"experiment": experiment, "seed": seed, "status": "ok", "reason": "",
            "metrics": dict(metrics), "folds": list(folds), "extra": extra or {},
            "wall_s": 1.0, "cpu_s": 1.0, "peak_rss_mb": 100.0, "device": "cpu"}


def records():
    out = [
        _ok("rerun-svd", 0, {"rmse": float(np.mean(RMSE_FOLDS)), "time_s": 7.9},
            [{"fold": i, "rmse": v, "fit_time": 1.2} for i, v in enumerate(RMSE_FOLDS)]),
        {"experiment": "ours-svd", "seed": 0, "status": "not-run", "metrics": {},
         "reason": "artifact 'ml-1m' unavailable: offline"},
        _ok("seeds-svd", 99, {"rmse": 0.5}),                 # an undeclared seed: ignored
        _ok("folds-a", 0, {"ndcg@10": float(np.mean(FOLDS_A))},
            [{"fold": i, "ndcg@10": v} for i, v in enumerate(FOLDS_A)]),
        _ok("folds-b", 0, {"ndcg@10": float(np.mean(FOLDS_B))},
            [{"fold": i, "ndcg@10": v} for i, v in enumerate(FOLDS_B)]),
        {"experiment": "lost-a", "seed": 0, "status": "not-run", "metrics": {},
         "reason": "needs a GPU"},
    ]
    out += [_ok("seeds-svd", s, {"rmse": v, "time_s": 8.0}) for s, v in SEED_RMSE.items()]
    for name, table in (("model-a", NDCG_A), ("model-b", NDCG_B), ("model-c", NDCG_C)):
        out += [_ok(name, s, {"ndcg@10": v}) for s, v in table.items()]
    for name, table in (("users-a", USERS_A), ("users-b", USERS_B)):
        out += [_ok(name, s, {"ndcg@10": float(np.mean(v))},
                    extra={"unit": "user", "per_unit": {"ndcg@10": v}})
                for s, v in table.items()]
    return out


@pytest.fixture(scope="module")
def study():
    return Study.model_validate(study_dict())


@pytest.fixture(scope="module")
def ledger(study):
    return build_ledger(study, records(), hardware_comparable=False,
                        hardware_note=HARDWARE_NOTE)


def _row(ledger, claim_id, level):
    rows = ledger[(ledger.claim_id == claim_id) & (ledger.level == level)]
    assert len(rows) == 1
    return rows.iloc[0]


# --------------------------------------------------------------------------- shape
def test_one_row_per_claim_and_declared_level_in_manifest_order(ledger):
    assert list(zip(ledger.claim_id, ledger.level, strict=True)) == [
        ("svd-rmse", "re-run"), ("svd-rmse", "re-implement"), ("svd-rmse", "generalize"),
        ("svd-time", "re-run"),
        ("a-beats-b", "re-run"), ("a-beats-b", "re-implement"), ("a-beats-b", "generalize"),
        ("c-beats-b", "re-run"), ("c-beats-b", "generalize"),
    ]
    assert list(ledger.columns) == list(COLUMNS)
    assert {str(ledger[c].dtype) for c in ("mean", "sd", "p_value")} == {"float64"}
    assert str(ledger["n"].dtype) == "Int64" and str(ledger["comparable"].dtype) == "boolean"


# --------------------------------------------------------------------------- value claim
def test_value_claim_with_one_seed_is_judged_on_the_run_aggregate(ledger):
    row = _row(ledger, "svd-rmse", "re-run")
    mean = np.mean(RMSE_FOLDS)
    assert row.experiment == "rerun-svd" and row.kind == "value" and row.metric == "rmse"
    assert row.reported == 0.934 and row.decimals == 3 and row.higher_is_better is np.False_
    assert row.n == 1 and row["sample"] == "run" and row.seeds == [0]
    assert row["mean"] == pytest.approx(mean, rel=1e-12)
    assert pd.isna(row.sd) and pd.isna(row.ci_low) and pd.isna(row.p_value)
    assert row.drift_abs == pytest.approx(mean - 0.934, abs=1e-15)
    assert row.drift_rel == pytest.approx((mean - 0.934) / 0.934, rel=1e-9)
    assert row.tolerance == 0.005 and row.rounding == pytest.approx(0.0005)
    assert (row.band_low, row.band_high) == pytest.approx((0.9285, 0.9395), abs=1e-12)
    assert pd.isna(row.comparable)
    assert row.verdict == "reproduced"
    assert row.missing_seeds == [] and pd.isna(row.p_adjusted) and row.alpha == 0.05
    assert row.claim_text == "SVD has RMSE 0.934" and row.source == "Table 1"


def test_value_claim_not_run_carries_the_runs_reason(ledger):
    row = _row(ledger, "svd-rmse", "re-implement")
    assert row.verdict == "not run" and row.rule == "not run"
    assert row.reason == "ours-svd seed(s) 0: artifact 'ml-1m' unavailable: offline"
    assert row.n == 0 and math.isnan(row["mean"]) and math.isnan(row.p_value)
    assert row.seeds == [] and row.missing_seeds == [0]
    assert row.band_low == pytest.approx(0.9285)     # the band is known even without runs


def test_value_claim_over_seeds_names_the_missing_seed(ledger):
    row = _row(ledger, "svd-rmse", "generalize")
    values = list(SEED_RMSE.values())
    assert row.n == 4 and row["sample"] == "seeds" and row.seeds == [1, 2, 3, 4]
    assert row["mean"] == pytest.approx(np.mean(values), rel=1e-12)
    assert row.missing_seeds == [5]
    assert row.verdict == "reproduced"
    assert row.reason.endswith("; not used: seeds-svd seed(s) 5: no run record")


# --------------------------------------------------------------------------- time claim
def test_time_claim_single_total_and_hardware_not_comparable(ledger):
    row = _row(ledger, "svd-time", "re-run")
    assert row.n == 1 and row["sample"] == "run" and row["mean"] == 7.9
    assert math.isnan(row.sd) and math.isnan(row.ci_low) and math.isnan(row.p_value)
    assert (row.band_low, row.band_high) == (2.5, 9.5)
    assert row.tolerance == 3.0 and row.comparable is np.False_
    # Other hardware: not comparable, never red, and the measured time shown as information.
    assert row.verdict == "not comparable" and row.rule == "not comparable"
    assert pd.isna(row.seeds_needed)
    assert row.reason.startswith("measured 7.9 s against the reported 6 s")
    assert f"the paper's declared hardware ({HARDWARE_NOTE})" in row.reason
    assert row.drift_rel == pytest.approx(1.9 / 6)


def test_time_claim_comparable_hardware_says_nothing_about_it(study):
    frame = build_ledger(study, records(), hardware_comparable=True)
    row = _row(frame, "svd-time", "re-run")
    assert row.comparable is np.True_ and "hardware" not in row.reason
    assert row.verdict == "reproduced" and row.test == "point rule (n = 1)"


# --------------------------------------------------------------------------- comparisons
def _holm_family():
    seeds = sps.ttest_rel(list(NDCG_A.values()), list(NDCG_B.values())).pvalue
    folds = sps.ttest_rel(FOLDS_A, FOLDS_B).pvalue
    users_a = np.mean([USERS_A[0], USERS_A[1]], axis=0)
    users_b = np.mean([USERS_B[0], USERS_B[1]], axis=0)
    users = sps.ttest_rel(users_a, users_b).pvalue
    c_vs_b = sps.ttest_rel(list(NDCG_C.values()), list(NDCG_B.values())).pvalue
    raw = [seeds, folds, users, c_vs_b]
    _, adjusted, _, _ = multipletests(raw, method="holm")
    return raw, list(adjusted), users_a, users_b


def test_comparison_over_seeds(ledger):
    row = _row(ledger, "a-beats-b", "re-run")
    raw, adjusted, _, _ = _holm_family()
    diff = np.subtract(list(NDCG_A.values()), list(NDCG_B.values()))
    ci = sps.ttest_rel(list(NDCG_A.values()), list(NDCG_B.values())).confidence_interval()
    assert row.experiment == "model-a|model-b" and row.kind == "comparison"
    assert row.n == 3 and row["sample"] == "seeds" and row.seeds == [0, 1, 2]
    assert row["mean"] == pytest.approx(diff.mean()) and row.sd == pytest.approx(
        diff.std(ddof=1))
    assert (row.ci_low, row.ci_high) == pytest.approx((ci.low, ci.high))
    assert row.mean_a == pytest.approx(np.mean(list(NDCG_A.values())))
    assert row.mean_b == pytest.approx(np.mean(list(NDCG_B.values())))
    assert row.effect_size == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert row.effect_ci_low < row.effect_size < row.effect_ci_high
    assert row.p_value == pytest.approx(raw[0]) and row.p_adjusted == pytest.approx(adjusted[0])
    assert row.test == "paired t over seeds (Holm, m = 4)"
    assert pd.isna(row.reported) and pd.isna(row.band_low) and pd.isna(row.drift_abs)
    assert row.verdict == ("reproduced" if adjusted[0] < 0.05 else "inconclusive")


def test_comparison_over_folds_of_one_seed(ledger):
    row = _row(ledger, "a-beats-b", "re-implement")
    raw, adjusted, _, _ = _holm_family()
    assert row.n == 5 and row["sample"] == "folds" and row.seeds == [0]
    assert row["mean"] == pytest.approx(np.mean(np.subtract(FOLDS_A, FOLDS_B)))
    assert row.p_value == pytest.approx(raw[1]) and row.p_adjusted == pytest.approx(adjusted[1])
    assert row.p_wilcoxon == pytest.approx(sps.wilcoxon(FOLDS_A, FOLDS_B).pvalue)
    assert row.test == "paired t over folds (Holm, m = 4)"


def test_comparison_over_users_averages_seeds_per_user(ledger):
    row = _row(ledger, "a-beats-b", "generalize")
    raw, adjusted, users_a, users_b = _holm_family()
    assert row.n == 6 and row["sample"] == "users" and row.seeds == [0, 1]
    assert row["mean"] == pytest.approx(np.mean(users_a - users_b))
    assert row.p_value == pytest.approx(raw[2]) and row.p_adjusted == pytest.approx(adjusted[2])
    assert row.test == "paired t over users (Holm, m = 4)"


def test_holm_family_spans_every_comparison_claim(ledger):
    raw, adjusted, _, _ = _holm_family()
    # The data are chosen so that Holm changes two decisions: significant alone, not together.
    assert raw[0] < 0.05 and raw[1] < 0.05 and adjusted[0] > 0.05 and adjusted[1] > 0.05
    assert _row(ledger, "a-beats-b", "re-run").verdict == "inconclusive"
    assert _row(ledger, "a-beats-b", "re-implement").verdict == "inconclusive"
    assert _row(ledger, "a-beats-b", "generalize").verdict == "reproduced"
    rows = ledger[ledger.kind == "comparison"].dropna(subset=["p_adjusted"])
    assert list(rows.p_adjusted) == pytest.approx(adjusted)
    for row, p in zip(rows.itertuples(), adjusted, strict=True):
        expected = "inconclusive" if p >= 0.05 else (
            "reproduced" if row.mean > 0 else "not reproduced")
        assert row.verdict == expected, row.reason


def test_comparison_not_run_when_no_seed_ran_for_both(ledger):
    row = _row(ledger, "c-beats-b", "generalize")
    assert row.verdict == "not run" and row.experiment == "lost-a|lost-b"
    assert "lost-a seed(s) 0: needs a GPU" in row.reason
    assert "lost-b seed(s) 0: no run record" in row.reason
    assert row.missing_seeds == [0] and pd.isna(row.p_adjusted)


# --------------------------------------------------------------------------- samples
def test_folds_are_the_sample_only_when_they_average_to_the_aggregate():
    folds = [{"fold": i, "time_s": t} for i, t in enumerate([1.0, 1.2, 1.1])]
    total = _ok("x", 0, {"time_s": 3.3}, folds)              # a total, not a mean
    sample = sample_of(Runs("x", {0: total}), "time_s")
    assert sample.unit == "run" and list(sample.values.values()) == [3.3]
    mean = _ok("x", 0, {"time_s": 1.1}, folds)
    sample = sample_of(Runs("x", {0: mean}), "time_s")
    assert sample.unit == "folds" and list(sample.values.values()) == [1.0, 1.2, 1.1]


def test_a_missing_metric_is_an_error_naming_the_run(study):
    broken = [r for r in records() if r["experiment"] != "model-b"]
    broken += [_ok("model-b", s, {"ndcg@20": 0.4}) for s in (0, 1, 2)]
    with pytest.raises(ReplikitError, match=r"experiment 'model-b' seed 0 has no value for "
                                            r"metric 'ndcg@10'(.|\n)*found:    metrics"):
        build_ledger(study, broken, hardware_comparable=True)


def test_two_records_for_one_run_are_an_error(study):
    doubled = records() + [_ok("rerun-svd", 0, {"rmse": 0.9})]
    with pytest.raises(ReplikitError, match="two run records for experiment 'rerun-svd' seed 0"):
        build_ledger(study, doubled, hardware_comparable=True)


# --------------------------------------------------------------------------- contract
def test_same_input_gives_identical_rows_for_every_claim_kind(study):
    """Contract: each claim kind, built twice from the same records, gives the same row."""
    given = records()
    untouched = copy.deepcopy(given)
    first = build_ledger(study, given, hardware_comparable=False, hardware_note=HARDWARE_NOTE)
    second = build_ledger(study, copy.deepcopy(untouched), hardware_comparable=False,
                          hardware_note=HARDWARE_NOTE)
    assert set(first.kind) == {"value", "time", "comparison"}
    assert set(first.verdict) >= {"reproduced", "not run"}
    pd.testing.assert_frame_equal(first, second)
    assert given == untouched                     # records are not modified


# --------------------------------------------------------------------------- files
def test_write_and_read_round_trip(ledger, tmp_path):
    path = write_ledger(ledger, tmp_path / "results" / "toy" / "claims.csv")
    assert path.exists() and not list(path.parent.glob(".*.part"))
    text = path.read_text().splitlines()
    assert text[0].startswith("claim_id,level,experiment,kind,metric,reported,decimals,n,")
    back = read_ledger(path)
    pd.testing.assert_frame_equal(back, ledger)


def test_read_ledger_errors(tmp_path):
    with pytest.raises(ReplikitError, match="claims ledger does not exist"):
        read_ledger(tmp_path / "absent.csv")
    (tmp_path / "old.csv").write_text("claim_id,level,verdict\nx,re-run,reproduced\n")
    with pytest.raises(ReplikitError, match="lacks columns"):
        read_ledger(tmp_path / "old.csv")


def test_verdict_counts_and_summary_line(ledger):
    counts = verdict_counts(ledger)
    assert list(counts) == ["reproduced", "partially reproduced", "inconclusive",
                            "not reproduced", "not comparable", "not run"]
    assert sum(counts.values()) == len(ledger) == 9
    assert counts["not run"] == 2
    assert summary_line(ledger).startswith(f"9 claim levels: {counts['reproduced']} reproduced")


# --------------------------------------------------------------------------- results folder
@pytest.mark.parametrize("env, comparable, note", [
    (None, False, "no environment record"),
    ({"hardware_comparable": True}, True, ""),
    ({"hardware_comparable": False, "hardware_note": "laptop vs server"}, False,
     "laptop vs server"),
    ({"hardware": [{"item": "cpu", "declared": "i5", "actual": "EPYC", "match": False},
                   {"item": "gpus", "declared": "0", "actual": "0", "match": True}]}, False,
     "cpu: EPYC here, i5 declared"),
    ({"hardware": [{"item": "gpus", "declared": "0", "actual": "0", "match": True}]}, True, ""),
    ({"python": "3.11"}, False, "does not say"),
])
def test_hardware_comparability_from_env(env, comparable, note):
    got, why = hardware_comparability(env)
    assert got is comparable and note in why


def _write_results(root):
    study_dir = root / "studies" / "toy"
    study_dir.mkdir(parents=True)
    (study_dir / "study.yaml").write_text(yaml.safe_dump(study_dict()), encoding="utf-8")
    results = root / "results"
    for record in records():
        folder = results / "toy" / "runs" / record["experiment"] / f"seed={record['seed']}"
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps(record), encoding="utf-8")
    env = {"hardware": [{"item": "cpu", "declared": "i5", "actual": "EPYC", "match": False}]}
    (results / "toy" / "env.json").write_text(json.dumps(env), encoding="utf-8")
    return results


def test_study_ledger_reads_the_results_folder(tmp_path, study, ledger):
    results = _write_results(tmp_path)
    assert len(load_records(results, "toy")) == len(records())
    frame = study_ledger(study, results)
    row = _row(frame, "svd-time", "re-run")
    assert "(cpu: EPYC here, i5 declared)" in row.reason
    columns = [c for c in COLUMNS if c != "reason"]
    pd.testing.assert_frame_equal(frame[columns], ledger[columns])


def test_status_command_prints_the_table_and_the_summary(tmp_path, capsys):
    results = _write_results(tmp_path)
    code = cli.main(["--root", str(tmp_path), "status", "toy", "--results", str(results),
                     "--reasons"])
    out = capsys.readouterr().out
    assert code == 0
    assert "toy: claims ledger" in out and "svd-rmse" in out and "a-beats-b" in out
    assert "svd-rmse re-implement: ours-svd seed(s) 0: artifact 'ml-1m' unavailable" in out
    lines = out.rstrip().splitlines()
    assert lines[-2].startswith("9 checks of ") and lines[-1].startswith("In all: ")


def test_status_command_without_runs_says_so(tmp_path, capsys):
    _write_results(tmp_path)
    code = cli.main(["--root", str(tmp_path), "status", "toy", "--results",
                     str(tmp_path / "elsewhere")])
    out = capsys.readouterr().out
    assert code == 0 and "no run records yet" in out
    assert ": 9 not run." in out and "0 experiments, 0 runs" in out


def test_status_command_unknown_study(tmp_path, capsys):
    (tmp_path / "studies").mkdir()
    assert cli.main(["--root", str(tmp_path), "status", "nope"]) == 2
    assert "no study named 'nope'" in capsys.readouterr().err


def _pair_study():
    data = study_dict()
    data["claims"] = [{"id": "x-beats-y", "text": "X beats Y", "source": "Table 3",
                       "kind": "comparison", "metric": "ndcg@10", "higher_is_better": True,
                       "levels": {"re-run": {"a": "model-a", "b": "model-b"}}}]
    return Study.model_validate(data)


def test_comparison_pairs_by_seed_when_only_one_side_has_per_user_scores():
    runs = [_ok("model-a", s, {"ndcg@10": v},
                extra={"unit": "user", "per_unit": {"ndcg@10": [v, v]}})
            for s, v in NDCG_A.items()]
    runs += [_ok("model-b", s, {"ndcg@10": v}) for s, v in NDCG_B.items()]
    row = build_ledger(_pair_study(), runs, hardware_comparable=True).iloc[0]
    assert row["sample"] == "seeds" and row.n == 3
    assert row.p_value == pytest.approx(
        sps.ttest_rel(list(NDCG_A.values()), list(NDCG_B.values())).pvalue)
    assert row.p_adjusted == pytest.approx(row.p_value)          # a family of one
    assert "per-user scores only for model-a, so not paired by user" in row.reason


def test_comparison_with_folds_on_one_side_only_pairs_the_runs():
    runs = [_ok("model-a", s, {"ndcg@10": v},
                [{"fold": 0, "ndcg@10": v - 0.01}, {"fold": 1, "ndcg@10": v + 0.01}])
            for s, v in NDCG_A.items() if s == 0]
    runs += [_ok("model-b", 0, {"ndcg@10": NDCG_B[0]})]
    row = build_ledger(_pair_study(), runs, hardware_comparable=True).iloc[0]
    assert row.n == 1 and row["sample"] == "run" and row.rule == "point"
    assert row.verdict == "reproduced"                           # 0.412 > 0.398
    assert row.missing_seeds == [1, 2] and "paired per run" in row.reason
    assert row.reason.startswith("a single pair (n = 1): model-a is higher than model-b")


def test_load_records_skips_the_last_good_copy_of_a_failed_job(tmp_path):
    from replikit import paths
    from replikit.evaluate.samples import load_records
    from replikit.fileio import write_json

    record = tmp_path / paths.run_record("s", "exp", 0)
    write_json(record, {"experiment": "exp", "seed": 0, "status": "ok", "metrics": {}})
    write_json(tmp_path / paths.last_good(str(paths.run_record("s", "exp", 0))),
               {"experiment": "exp", "seed": 0, "status": "ok", "metrics": {}})
    records = load_records(tmp_path / paths.RESULTS, "s")
    assert [r["_path"] for r in records] == [str(record)]
