"""The relational claim kinds, walked through tables of cases: rules, ledger rows, manifest."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from replikit.errors import ReplikitError
from replikit.evaluate.ledger import build_ledger
from replikit.evaluate.relations import (
    judge_best_of,
    judge_equivalence,
    judge_ratio,
    pair_ratios,
)
from replikit.evaluate.verdicts import Verdict, make_band, not_run
from replikit.study import Study, Tolerance, load_study
from replikit.vocabulary import (
    INCONCLUSIVE,
    NOT_COMPARABLE,
    NOT_REPRODUCED,
    NOT_RUN,
    PARTIAL,
    REPRODUCED,
)

BASE = [0.50, 0.52, 0.48, 0.51, 0.49]


def _plus(diffs):
    return [b + d for b, d in zip(BASE, diffs, strict=True)]


# --------------------------------------------------------------------------- equivalence
EQUIVALENCE_CASES = [
    # id, a, margin, verdict
    ("holds-within-margin", _plus([0.001, -0.002, 0.0015, -0.001, 0.0005]), 0.01, REPRODUCED),
    ("fails-far-outside-margin", _plus([0.05, 0.052, 0.049, 0.051, 0.05]), 0.01,
     NOT_REPRODUCED),
    ("inside-but-too-noisy", _plus([0.009, -0.009, 0.0095, 0.001, 0.008]), 0.01, PARTIAL),
    ("outside-but-ci-overlaps", _plus([0.02, -0.01, 0.03, 0.0, 0.025]), 0.01, INCONCLUSIVE),
    # sd = 0 over seeds: one measurement, decided on the point value.
    ("same-difference-every-seed", _plus([0.004] * 5), 0.01, REPRODUCED),
    ("one-pair-outside", [0.53], 0.01, NOT_REPRODUCED),
]


@pytest.mark.parametrize("case, a, margin, verdict", EQUIVALENCE_CASES,
                         ids=[c[0] for c in EQUIVALENCE_CASES])
def test_equivalence_rules(case, a, margin, verdict):
    b = BASE[:len(a)]
    judged = judge_equivalence(a, b, margin, a="ours", b="theirs")
    assert judged.verdict.verdict == verdict, judged.verdict.reason
    assert judged.verdict.reason.startswith(f"ours - theirs, margin ±{margin:g}: ")
    assert (judged.band.low, judged.band.high) == (-margin, margin)
    if case == "same-difference-every-seed":
        assert judged.summary.n == 1 and "the seed did not change the result" in \
            judged.verdict.reason


# --------------------------------------------------------------------------- ratio, improvement
SPEED_BAND = make_band(16.0, Tolerance(relative=0.3), None)     # [11.2, 20.8]
GAIN_BAND = make_band(7.0, Tolerance(absolute=2.0), 0)          # 7 % ± 2.5

RATIO_CASES = [
    # id, kind, a, b, higher_is_better, band, verdict
    ("ratio-one-run-inside", "ratio", [99.0], [6.2], False, SPEED_BAND, REPRODUCED),
    ("ratio-one-run-outside", "ratio", [40.0], [6.0], False, SPEED_BAND, NOT_REPRODUCED),
    ("ratio-over-seeds-equivalent", "ratio", [96.0, 97.5, 95.2, 96.8], [6.0, 6.1, 5.95, 6.05],
     False, SPEED_BAND, REPRODUCED),
    ("ratio-over-seeds-far-off", "ratio", [30.0, 31.0, 29.5], [6.0, 6.1, 5.9], False,
     SPEED_BAND, NOT_REPRODUCED),
    ("improvement-lower-is-better", "improvement", [0.93, 0.931, 0.929], [1.0, 1.0, 1.0],
     False, GAIN_BAND, REPRODUCED),
    ("improvement-too-small", "improvement", [0.99, 0.991, 0.989], [1.0, 1.0, 1.0], False,
     GAIN_BAND, NOT_REPRODUCED),
]


@pytest.mark.parametrize("case, kind, a, b, higher, band, verdict", RATIO_CASES,
                         ids=[c[0] for c in RATIO_CASES])
def test_ratio_and_improvement_rules(case, kind, a, b, higher, band, verdict):
    judged = judge_ratio(a, b, band, kind=kind, a="svdpp", b="svd", higher_is_better=higher)
    assert judged.verdict.verdict == verdict, judged.verdict.reason
    assert judged.summary.mean == pytest.approx(np.mean(pair_ratios(a, b, kind, higher)))
    word = "svdpp / svd" if kind == "ratio" else "improvement of svdpp on svd in %"
    assert judged.verdict.reason.startswith(word + ": ")


def test_a_ratio_needs_a_nonzero_denominator():
    with pytest.raises(ValueError, match="b != 0"):
        pair_ratios([1.0], [0.0], "ratio", True)


# --------------------------------------------------------------------------- best-of
def _v(verdict):
    return Verdict(verdict, f"{verdict} because", rule="paired", test="t", p_value=0.01)


BEST_OF_CASES = [
    # id, pair verdicts, verdict, named in the reason
    ("beats-all", [REPRODUCED, REPRODUCED, REPRODUCED], REPRODUCED, []),
    ("one-pair-fails", [REPRODUCED, NOT_REPRODUCED, REPRODUCED], NOT_REPRODUCED, ["b2"]),
    ("one-pair-unsettled", [REPRODUCED, INCONCLUSIVE, REPRODUCED], INCONCLUSIVE, ["b2"]),
    ("one-pair-not-run", [REPRODUCED, REPRODUCED, NOT_RUN], INCONCLUSIVE, ["b3"]),
    ("none-ran", [NOT_RUN, NOT_RUN, NOT_RUN], NOT_RUN, []),
]


@pytest.mark.parametrize("case, pairs, verdict, named", BEST_OF_CASES,
                         ids=[c[0] for c in BEST_OF_CASES])
def test_best_of_rules(case, pairs, verdict, named):
    judged = judge_best_of("a", [(f"b{i + 1}", _v(v)) for i, v in enumerate(pairs)])
    assert judged.verdict == verdict, judged.reason
    for b in named:
        assert f"a vs {b}: " in judged.reason
    held = [f"b{i + 1}" for i, v in enumerate(pairs) if v == REPRODUCED]
    if verdict in (NOT_REPRODUCED, INCONCLUSIVE) and held:
        assert f"it beats {', '.join(held)}" in judged.reason


# --------------------------------------------------------------------------- in the ledger
def _experiment(seeds, dataset="d1"):
    return {"description": "x", "implementation": "reimplementation", "runner": "run.py:run",
            "seeds": seeds, "dataset": dataset, "protocol": "p"}


def study_dict():
    value = {"text": "t", "source": "s", "metric": "m", "reported": 0.55, "decimals": 2,
             "tolerance": {"absolute": 0.05}, "dataset": "d1", "protocol": "p"}
    return {
        "name": "rel", "summary": "s", "hardware": {"declared": {}},
        "paper": {"title": "T", "authors": ["A"], "venue": "V", "year": 2020},
        "experiments": {"a": _experiment([0, 1, 2]), "b1": _experiment([0, 1, 2]),
                        "b2": _experiment([0, 1, 2]), "b3": _experiment([0, 1, 2]),
                        "other-data": _experiment([0, 1, 2], dataset="d2")},
        "claims": [
            {"id": "a-best", "text": "a beats every baseline", "source": "s", "kind": "best-of",
             "metric": "m", "levels": {"re-implement": {"a": "a", "b": ["b1", "b2", "b3"]}}},
            {"id": "a-matches-b1", "text": "a ≈ b1", "source": "s", "kind": "equivalence",
             "metric": "m", "margin": 0.2, "levels": {"re-implement": {"a": "a", "b": "b1"}}},
            {"id": "a-twice-b1", "text": "a is 1.1 × b1", "source": "s", "kind": "ratio",
             "metric": "m", "reported": 1.1, "tolerance": {"relative": 0.2},
             "levels": {"re-implement": {"a": "a", "b": "b1"}}},
            {**value, "id": "a-value",
             "levels": {"re-implement": "a",
                        "generalize": {"experiment": "other-data",
                                       "not_comparable": "another data set"},
                        "re-run": {"not_run": "the original code is private"}}},
            {**value, "id": "a-expected",
             "levels": {"generalize": {"experiment": "other-data",
                                       "expected": {"value": 0.3, "source": "Table 9"}}}},
        ],
    }


A = {0: 0.55, 1: 0.56, 2: 0.54}
B = {"b1": {0: 0.50, 1: 0.505, 2: 0.495}, "b2": {0: 0.60, 1: 0.61, 2: 0.59},
     "b3": {0: 0.40, 1: 0.41, 2: 0.39}}
OTHER = {0: 0.30, 1: 0.31, 2: 0.29}


def records():
    def ok(name, seed, value):
        return {"experiment": name, "seed": seed, "status": "ok", "metrics": {"m": value}}

    out = [ok("a", s, v) for s, v in A.items()] + [ok("other-data", s, v)
                                                   for s, v in OTHER.items()]
    return out + [ok(name, s, v) for name, table in B.items() for s, v in table.items()]


@pytest.fixture(scope="module")
def ledger():
    study = Study.model_validate(study_dict())
    return build_ledger(study, records(), hardware_comparable=False).set_index(
        ["claim_id", "level"])


def test_best_of_with_one_failing_pair_names_it(ledger):
    row = ledger.loc[("a-best", "re-implement")]
    assert row.verdict == NOT_REPRODUCED and row.rule == "best-of"
    assert row.experiment == "a|b1,b2,b3"
    assert "a does not beat b2" in row.reason and "it beats b1, b3" in row.reason


def test_equivalence_and_ratio_rows(ledger):
    row = ledger.loc[("a-matches-b1", "re-implement")]
    assert row.verdict == REPRODUCED and (row.band_low, row.band_high) == (-0.2, 0.2)
    assert row["mean"] == pytest.approx(0.05)
    row = ledger.loc[("a-twice-b1", "re-implement")]
    assert row["mean"] == pytest.approx(np.mean([A[s] / B["b1"][s] for s in A]))
    assert row.verdict == REPRODUCED and row.mean_a == pytest.approx(0.55)


def test_another_data_set_is_not_comparable_and_shows_the_value(ledger):
    row = ledger.loc[("a-value", "generalize")]
    assert row.verdict == NOT_COMPARABLE and row["mean"] == pytest.approx(0.30)
    assert row.reason.startswith("measured on data set d2, the claim's d1 (another data set)")
    assert "drift -45.5 %" in row.reason and "information" in row.reason
    assert ledger.loc[("a-value", "re-implement")].verdict == REPRODUCED


def test_a_level_with_its_own_expected_value_is_judged_against_it(ledger):
    row = ledger.loc[("a-expected", "generalize")]
    assert row.reported == 0.3 and row.verdict == REPRODUCED


def test_a_level_declared_not_runnable_is_not_run_with_its_reason(ledger):
    row = ledger.loc[("a-value", "re-run")]
    assert row.verdict == NOT_RUN and row.reason == ("declared not runnable: the original code "
                                                     "is private")
    assert row.causes == [{"kind": "declared-not-run", "name": "a-value at re-run",
                           "detail": "the original code is private"}]
    assert not_run("x").verdict == NOT_RUN


# --------------------------------------------------------------------------- the manifest
def _refused(data, tmp_path, match):
    folder = tmp_path / "studies" / data["name"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ReplikitError, match=match) as info:
        load_study(data["name"], root=tmp_path)
    return str(info.value)


def test_manifest_refuses_another_data_set_without_expected_or_a_why(tmp_path):
    data = copy.deepcopy(study_dict())
    data["claims"][3]["levels"]["generalize"] = "other-data"
    text = _refused(data, tmp_path, "data set d2, the claim's d1")
    assert "claims[3].levels.generalize (line " in text
    assert "expected: {value, source}" in text and "not_comparable" in text


@pytest.mark.parametrize("claim, words", [
    ({"kind": "comparison", "reported": 0.5, "tolerance": {"absolute": 0.1}},
     "does not use \\['reported', 'tolerance'\\]"),
    ({"kind": "best-of", "tolerance": {"absolute": 0.1}}, "does not use \\['tolerance'\\]"),
    ({"kind": "equivalence"}, "needs 'margin'"),
    ({"kind": "comparison", "margin": 0.1}, "does not use 'margin'"),
    ({"kind": "ratio"}, "needs 'reported' and 'tolerance'"),
])
def test_keys_a_kind_does_not_use_are_refused_not_ignored(tmp_path, claim, words):
    data = copy.deepcopy(study_dict())
    data["claims"] = [{"id": "x", "text": "t", "source": "s", "metric": "m",
                       "levels": {"re-implement": {"a": "a", "b": "b1"}}, **claim}]
    _refused(data, tmp_path, words)


def test_best_of_needs_a_list_and_a_pair_needs_one(tmp_path):
    data = copy.deepcopy(study_dict())
    data["claims"][0]["levels"]["re-implement"]["b"] = "b1"
    text = _refused(data, tmp_path, "best-of")
    assert "claims[0].levels.re-implement (line " in text


# --------------------------------------------------------------------------- shipped studies
def test_surprise_states_data_and_protocol_and_judges_relative_speeds():
    study = load_study("surprise")
    for item in [*study.claims, *study.experiments.values()]:
        assert item.dataset in ("ml-100k", "ml-1m") and item.protocol == "5-fold CV", item
    ratios = [c for c in study.claims if c.kind == "ratio"]
    assert len(ratios) == 18 and all(c.metric == "time_s" for c in ratios)
    svdpp = study.claim("100k-svdpp-nocache-time-ratio")
    assert svdpp.reported == pytest.approx(99 / 6, abs=1e-4)
    assert (svdpp.levels["re-run"].a, svdpp.levels["re-run"].b) == (
        "rerun-svdpp-nocache-100k", "rerun-svd-100k")
    # Every pair runs on one data set, the claim's: the ratio is judged, not information.
    assert all(not study.differences(c, c.levels["re-run"]) for c in ratios)


@pytest.mark.parametrize("a_time, loaded, verdict", [
    (16.0, False, REPRODUCED),
    (40.0, False, NOT_REPRODUCED),
    (40.0, True, INCONCLUSIVE),     # a time taken under load is no evidence against the claim
    (16.0, True, REPRODUCED),       # ... and a match stands, marked unreliable
])
def test_a_ratio_of_times_taken_on_a_loaded_machine(a_time, loaded, verdict):
    data = study_dict()
    data["claims"] = [{"id": "speed", "text": "a takes 16 × b's time", "source": "s",
                       "kind": "ratio", "metric": "time_s", "reported": 16.0,
                       "higher_is_better": False, "tolerance": {"relative": 0.3},
                       "levels": {"re-run": {"a": "slow", "b": "fast"}}}]
    data["experiments"] = {"slow": _experiment([0]), "fast": _experiment([0])}
    load = {"unreliable": loaded, "reason": "1-minute load average 12.7 on 2 CPUs" if loaded
            else ""}
    runs = [{"experiment": name, "seed": 0, "status": "ok", "metrics": {"time_s": t},
             "load": load} for name, t in (("slow", a_time), ("fast", 1.0))]
    row = build_ledger(Study.model_validate(data), runs, hardware_comparable=False).iloc[0]
    assert row.verdict == verdict, row.reason
    assert ("unreliable timing: 2 run(s) timed on a loaded machine (1-minute load average "
            "12.7 on 2 CPUs)" in row.reason) is loaded
