"""Bad input, unit level: bounded YAML, strict types, check first, runner results, time limits.

Each test reproduces a case of the hostile-input probe of issue 12 (a raw traceback, a
silent coercion, an alias bomb) and asserts a ReplikitError naming file, key and line.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from replikit.errors import ReplikitError
from replikit.fileio import read_json
from replikit.run.harness import execute
from replikit.safe_yaml import load_text
from replikit.study import load_study
from replikit.study.check import check_study_files
from replikit.study.scaffold import scaffold_study

BOMB = "".join(
    [f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9) + "]\n"
     if i else 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
     for i in range(9)])

STUDY = """\
schema_version: 1
name: tiny
summary: s
paper: {title: T, authors: [A], venue: V, year: 2020}
hardware: {declared: {}}
experiments:
  e:
    description: d
    implementation: reimplementation
    runner: "runner.py:run"
    seeds: [0, 1]
claims:
  - {id: c, text: t, source: s, metric: m, reported: 1.0, tolerance: {absolute: 1},
     levels: {re-implement: e}}
"""

CONTACTS = """\
schema_version: 1
study: tiny
authors:
- name: A
messages:
- id: m1
  date: 2026-01-05
  direction: sent
  authors: [A]
  subject: s
  summary: hello
"""


def write_study(root: Path, text: str = STUDY, runner: str = "") -> Path:
    folder = root / "studies" / "tiny"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yaml").write_text(text)
    (folder / "runner.py").write_text(runner or "def run(ctx):\n    return {'metrics': {}}\n")
    return folder


def refused(root: Path, fragment: str, check=load_study) -> str:
    with pytest.raises(ReplikitError) as info:
        check("tiny", root)
    assert fragment in str(info.value), str(info.value)
    return str(info.value)


# --------------------------------------------------------------------------- bounded YAML
def test_alias_bomb_is_refused_fast_and_small(tmp_path):
    assert len(BOMB) < 400
    write_study(tmp_path, STUDY.replace("seeds: [0, 1]", "seeds: [0, 1]\n    params: {x: 1}")
                + BOMB.replace(": &", ": &").replace("\n", "\n", 1))
    started = time.perf_counter()
    message = refused(tmp_path, "expand to more than")
    assert time.perf_counter() - started < 1
    assert "lol" not in message  # the expanded input is never quoted


def test_alias_bomb_inside_params_is_refused(tmp_path):
    nested = BOMB.replace("\n", "\n      ").rstrip()
    write_study(tmp_path, STUDY.replace("seeds: [0, 1]", "seeds: [0, 1]\n    params:\n      "
                                        + nested))
    refused(tmp_path, "aliases")


@pytest.mark.parametrize("text, fragment", [
    ("a: 1\na: 2\n", "appears twice"),
    ("a: &x [*x]\n", "refers to the node it is in"),
    ("[" * 5000 + "]" * 5000, "nesting depth|nested too deeply"),
    ("a: [1, 2\n", "is not valid YAML"),
])
def test_hostile_yaml_is_a_clear_error(text, fragment):
    with pytest.raises(ReplikitError, match=fragment):
        load_text(text, "x.yaml")


def test_a_few_aliases_still_load():
    data, _ = load_text("base: &b {k: 1}\nuse: {<<: *b, z: 2}\nagain: *b\n", "x.yaml")
    assert data["use"] == {"k": 1, "z": 2} and data["again"] == {"k": 1}


def test_duplicate_key_in_manifest_names_both_lines(tmp_path):
    write_study(tmp_path, STUDY.replace("summary: s\n", "summary: s\nsummary: t\n"))
    assert "lines 3 and 4" in refused(tmp_path, "'summary' appears twice")


def test_non_utf8_manifest_names_file_and_line(tmp_path):
    folder = write_study(tmp_path)
    (folder / "study.yaml").write_bytes(STUDY.replace("summary: s", "summary: caf\xe9")
                                        .encode("latin-1"))
    assert "study.yaml: line 3" in refused(tmp_path, "is not UTF-8")


def test_oversized_manifest_is_refused_before_reading(tmp_path):
    folder = write_study(tmp_path)
    (folder / "study.yaml").write_text(STUDY + "#" * (5 * 2**20))
    refused(tmp_path, "too large")


# --------------------------------------------------------------------------- strict types
@pytest.mark.parametrize("old, new, fragment", [
    ("year: 2020", "year: '2020'", "paper.year (line 4)"),
    ("reported: 1.0", "reported: .nan", "claims[0].reported"),
    ("reported: 1.0", "reported: .inf", "claims[0].reported"),
    ("reported: 1.0", "reported: '1.0'", "claims[0].reported"),
    ("absolute: 1", "absolute: '1'", "claims[0].tolerance.absolute"),
    ("seeds: [0, 1]", "seeds: [0, 0]", "each seed once"),
    ("seeds: [0, 1]", "seeds: [-1, 1]", "seeds of 0 or more"),
    ("seeds: [0, 1]", "seeds: ['0', 1]", "experiments.e.seeds[0]"),
    ("seeds: [0, 1]", "seeds: [0, 1]\n    resources: {gpus: 'yes'}", "resources.gpus"),
])
def test_no_silent_coercion(tmp_path, old, new, fragment):
    write_study(tmp_path, STUDY.replace(old, new))
    refused(tmp_path, fragment)


def test_booleans_are_not_strings(tmp_path):
    write_study(tmp_path, STUDY.replace("metric: m,", "metric: m, higher_is_better: 'no',"))
    refused(tmp_path, "higher_is_better")


# --------------------------------------------------------------------------- check first
def test_contacts_typo_is_found_by_validate_with_its_line(tmp_path):
    folder = write_study(tmp_path)
    (folder / "contacts.yaml").write_text(CONTACTS.replace("2026-01-05", "2026-13-05"))
    assert "messages[0].date (line 7)" in refused(tmp_path, "contact log", check_study_files)


def test_non_utf8_contacts_and_notes_are_found(tmp_path):
    folder = write_study(tmp_path)
    (folder / "contacts.yaml").write_bytes(CONTACTS.replace("hello", "h\xe9").encode("latin-1"))
    (folder / "notes").mkdir()
    (folder / "notes" / "easy.md").write_bytes("r\xe9sum\xe9".encode("latin-1"))
    message = refused(tmp_path, "2 files", check_study_files)
    assert "contacts.yaml: line 11" in message and "easy.md: line 1" in message


def test_valid_files_pass(tmp_path):
    folder = write_study(tmp_path)
    (folder / "contacts.yaml").write_text(CONTACTS)
    assert check_study_files("tiny", tmp_path).name == "tiny"


def test_new_study_with_a_quote_in_the_title_is_valid_yaml(tmp_path):
    title = 'The "best" model: it\'s #1 \\ {really}'
    scaffold_study("quoted", tmp_path, title=title, year=2021)
    assert load_study("quoted", tmp_path).paper.title == title


# --------------------------------------------------------------------------- runner results
@pytest.mark.parametrize("body, fragment", [
    ("return None", "returned no mapping"),
    ("return {'metrics': {'m': float('nan')}}", "'metrics.m' is nan"),
    ("return {'metrics': {'m': float('inf')}}", "'metrics.m' is inf"),
    ("return {'metrics': {'m': '0.9'}}", "metric 'm' is not a number"),
    ("return {'metrics': [1]}", "'metrics' is not a mapping"),
    ("return {'metrics': {}, 'extra': {'x': object()}}", "holds a object"),
])
def test_runner_results_are_checked_with_the_runner_named(tmp_path, body, fragment):
    write_study(tmp_path, runner=f"def run(ctx):\n    {body}\n")
    out = tmp_path / "metrics.json"
    with pytest.raises(ReplikitError) as info:
        execute(load_study("tiny", tmp_path), "e", 1, [], out)
    assert fragment in str(info.value)
    assert "runner runner.py:run (experiment e, seed 1)" in str(info.value)
    assert not out.exists()


def test_numpy_values_are_stored_as_numbers(tmp_path):
    write_study(tmp_path, runner="import numpy as np\ndef run(ctx):\n    return {'metrics': "
                "{'m': np.float32(0.5), 'n': np.int64(3)}, 'extra': {'a': np.arange(2)}}\n")
    record = execute(load_study("tiny", tmp_path), "e", 0, [], tmp_path / "metrics.json")
    stored = read_json(tmp_path / "metrics.json")
    assert stored["metrics"]["m"] == 0.5 and stored["metrics"]["n"] == 3
    assert stored["extra"]["a"] == [0, 1] and record["metrics"]["m"] == 0.5
    assert not isinstance(np.float32(0.5), float) and math.isfinite(stored["metrics"]["m"])


def test_a_runner_past_its_time_limit_gets_a_not_run_record(tmp_path):
    write_study(tmp_path, runner="import time\ndef run(ctx):\n    time.sleep(60)\n")
    started = time.perf_counter()
    record = execute(load_study("tiny", tmp_path), "e", 0, [], tmp_path / "m.json",
                     time_limit_s=0.5)
    assert time.perf_counter() - started < 10
    assert record["status"] == "not-run" and record["causes"][0]["kind"] == "time-limit"
    assert "time limit" in read_json(tmp_path / "m.json")["reason"]


def test_a_limited_run_ends_when_its_runner_returns_though_a_worker_lives_on(tmp_path):
    write_study(tmp_path, runner="import os, time\ndef run(ctx):\n    if os.fork() == 0:\n"
                "        time.sleep(30)\n        os._exit(0)\n    return {'metrics': {'m': 1.0}}\n")
    record = execute(load_study("tiny", tmp_path), "e", 0, [], tmp_path / "m.json",
                     time_limit_s=3)
    assert record["status"] == "ok" and record["metrics"]["m"] == 1.0


def test_a_runner_whose_process_ends_is_named(tmp_path):
    write_study(tmp_path, runner="import os\ndef run(ctx):\n    os._exit(3)\n")
    with pytest.raises(ReplikitError) as info:
        execute(load_study("tiny", tmp_path), "e", 0, [], tmp_path / "m.json", time_limit_s=30)
    assert "runner.py: run(): the runner runner.py:run exited without returning a result" in str(
        info.value)
    assert "found:    its process ended (exit status 3)" in str(info.value)


def test_runtime_in_the_manifest_is_the_default_limit(tmp_path):
    write_study(tmp_path, STUDY.replace("seeds: [0, 1]", "seeds: [0, 1]\n    resources: "
                                        "{runtime: 1}"))
    from replikit.run import harness  # an untimed run makes one call: the limit is 1 min

    seen = []
    original = harness.run_limited
    harness.run_limited = lambda call, seconds: (seen.append(seconds), original(call, seconds))[1]
    try:
        execute(load_study("tiny", tmp_path), "e", 0, [], tmp_path / "m.json")
    finally:
        harness.run_limited = original
    assert seen == [60]


def test_a_damaged_record_names_its_file(tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text('{"status": "ok", "metr')
    with pytest.raises(ReplikitError, match=r"metrics.json: line 1: is not readable JSON"):
        read_json(bad)
