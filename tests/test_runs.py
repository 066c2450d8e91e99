"""The run harness: artifacts checked first, seeds, profiles, GPU needs, atomic records."""

import textwrap

import pytest

from replikit.errors import ReplikitError
from replikit.fileio import read_json, write_json
from replikit.run.harness import execute
from replikit.study import load_study

STUDY = """\
schema_version: 1
name: tiny
summary: s
paper: {title: T, authors: [A], venue: V, year: 2020}
hardware: {declared: {}}
artifacts:
  data: {description: d, path: data.txt, sha256: %s}
experiments:
  draw:
    description: draws numbers
    implementation: reimplementation
    runner: "runner.py:draw"
    params: {n: 3, scale: 1.0}
    needs: [data]
    seeds: [0, 1]
  gpu:
    description: needs a GPU
    implementation: reimplementation
    runner: "runner.py:draw"
    params: {n: 1, scale: 1.0}
    seeds: [0]
    resources: {gpus: 1}
profiles:
  quick: {description: small, default: true, params: {draw: {n: 2}}}
  paper: {description: large, params: {"*": {scale: 10.0}}}
claims:
  - {id: c, text: t, source: s, metric: total, reported: 1.0, tolerance: {absolute: 1},
     levels: {re-implement: draw, generalize: gpu}}
""" % ("a" * 64)

RUNNER = '''
import random

import numpy as np


def draw(ctx):
    data = ctx.artifact("data").read_text()
    values = np.random.random(ctx.params["n"]) * ctx.params["scale"]
    return {"metrics": {"total": float(values.sum()), "lines": len(data.splitlines()),
                        "py": random.random()}}
'''


@pytest.fixture
def study(tmp_path):
    folder = tmp_path / "studies" / "tiny"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY)
    (folder / "runner.py").write_text(textwrap.dedent(RUNNER))
    return load_study("tiny", root=tmp_path)


def artifact(tmp_path, status="ok"):
    data = tmp_path / "data.txt"
    data.write_text("a\nb\n")
    path = tmp_path / "artifact.json"
    write_json(path, {"name": "data", "status": status, "path": str(data),
                      "reason": "" if status == "ok" else "cannot reach example.org: offline?"})
    return path


def test_same_seed_same_numbers_bit_for_bit(study, tmp_path):
    a = execute(study, "draw", 1, [artifact(tmp_path)], tmp_path / "a.json")
    b = execute(study, "draw", 1, [artifact(tmp_path)], tmp_path / "b.json")
    c = execute(study, "draw", 0, [artifact(tmp_path)], tmp_path / "c.json")
    assert a["metrics"]["total"] == b["metrics"]["total"]
    assert a["metrics"]["py"] == b["metrics"]["py"]
    assert a["metrics"]["total"] != c["metrics"]["total"]
    assert read_json(tmp_path / "a.json")["metrics"]["lines"] == 2


def test_record_has_timing_memory_and_device(study, tmp_path):
    record = execute(study, "draw", 0, [artifact(tmp_path)], tmp_path / "r.json")
    assert record["status"] == "ok"
    assert record["wall_s"] > 0 and record["cpu_s"] >= 0 and record["peak_rss_mb"] > 0
    assert record["device"] == "cpu"
    assert record["metrics"]["time_s"] == record["wall_s"]


def test_missing_artifact_gives_not_run_with_reason(study, tmp_path):
    record = execute(study, "draw", 0, [artifact(tmp_path, "unavailable")], tmp_path / "r.json")
    assert record["status"] == "not-run"
    assert "artifact 'data' unavailable: cannot reach example.org" in record["reason"]
    assert record["causes"] == [{"kind": "artifact-unavailable", "name": "data",
                                 "detail": "cannot reach example.org: offline?"}]
    assert read_json(tmp_path / "r.json")["status"] == "not-run"


def test_gpu_experiment_is_not_run_without_a_gpu(study, tmp_path):
    record = execute(study, "gpu", 0, [], tmp_path / "r.json")
    assert record["status"] == "not-run"
    assert "needs 1 GPU(s)" in record["reason"]
    assert [(c["kind"], c["name"]) for c in record["causes"]] == [("needs-gpu", "1 GPU(s)")]


def test_profiles_override_params(study, tmp_path):
    quick = execute(study, "draw", 0, [artifact(tmp_path)], tmp_path / "q.json", profile="quick")
    paper = execute(study, "draw", 0, [artifact(tmp_path)], tmp_path / "p.json", profile="paper")
    assert quick["params"] == {"n": 2, "scale": 1.0}
    assert paper["params"] == {"n": 3, "scale": 10.0}
    assert quick["profile"] == "quick"
    assert study.default_profile() == "quick"


def test_unknown_profile_is_a_clear_error(study):
    with pytest.raises(ReplikitError, match="unknown profile 'huge'"):
        study.experiment_params("draw", "huge")


# --------------------------------------------------------------------------- not runnable
NOT_RUNNABLE_RUNNER = '''
from replikit.run import NotRunnable


def draw(ctx):
    raise NotRunnable("no maintained package implements this baseline")
'''


def test_a_runner_that_raises_not_runnable_gives_a_not_run_record(study, tmp_path):
    (study.dir / "runner.py").write_text(NOT_RUNNABLE_RUNNER)
    record = execute(study, "draw", 0, [artifact(tmp_path)], tmp_path / "r.json")
    assert record["status"] == "not-run"
    assert record["reason"] == ("the runner cannot run it: no maintained package implements "
                                "this baseline")
    assert record["causes"] == [{"kind": "not-runnable", "name": "draw",
                                 "detail": "no maintained package implements this baseline"}]
    assert read_json(tmp_path / "r.json") == record


def test_the_record_says_what_the_seed_controlled_and_how_loaded_the_machine_was(
        study, tmp_path):
    record = execute(study, "draw", 0, [artifact(tmp_path)], tmp_path / "r.json")
    seeding = record["seeding"]
    assert seeding["seeded"][:2] == ["random", "numpy"]
    # The runner draws from numpy's and Python's global generators, and from nothing else.
    assert set(seeding["drawn_from"]) == {"random", "numpy"}
    load = record["load"]
    assert len(load["load_average"]) == 3 and load["cpus"] >= 1 and load["cpus_used"] == 1
    assert load["others_cpus"] >= 0
    # A runner of milliseconds: the CPU counters (10 ms ticks) resolve its load only roughly.
    assert load["resolution_cpus"] > 0.1
    assert isinstance(load["unreliable"], bool)
    assert bool(load["reason"]) is load["unreliable"]


@pytest.mark.parametrize("others, cpus, used, resolution, unreliable", [
    (0.05, 4, 1, 0.0, False),
    (1.9, 2, 1, 0.0, True),            # others took both CPUs while the run needed one
    (1.0, 4, 1, 0.0, False),           # one other, room left
    (0.5, 2, 2, 0.0, True),            # the run took both CPUs: anything more competes
    (0.05, 2, 2, 0.0, False),          # daemons and the sampling itself are no load
    (2.7, 2, 1, 6.0, False),           # 2.7 CPUs over 10 ms of 10-ms ticks: a rounding
    (1.9, 2, 1, 0.5, True),            # over 10 s: beyond what the ticks can round
])
def test_load_judgement_counts_only_processes_not_ours(others, cpus, used, resolution,
                                                      unreliable):
    from replikit.run.load import judge_load

    flag, reason = judge_load(others, cpus, used, resolution)
    assert flag is unreliable and bool(reason) is unreliable
    if unreliable:
        assert f"{others:.1f} CPUs" in reason
