"""What the workflow computes once per experiment and plan, and when it reads again."""

from __future__ import annotations

import os
from pathlib import Path

from snakemake.common import get_function_params

from replikit import workflow as rk
from replikit.run import code
from replikit.run.code import runner_files


def write(path: Path, text: str) -> None:
    """Write ``text`` and move the file's time on, as an edit a second later would."""
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_runner_is_parsed_once_per_version(tmp_path, monkeypatch):
    write(tmp_path / "runner.py", "from . import data\n")
    write(tmp_path / "data.py", "X = 1\n")
    write(tmp_path / "model.py", "Y = 2\n")
    parses = []
    real_parse = code.ast.parse
    monkeypatch.setattr(code.ast, "parse", lambda text, **kw: parses.append(kw) or
                        real_parse(text, **kw))
    for _ in range(3):
        assert runner_files(tmp_path, "runner.py:run") == [tmp_path / "data.py",
                                                            tmp_path / "runner.py"]
    assert len(parses) == 2  # runner.py and data.py, once each
    write(tmp_path / "runner.py", "from . import data, model\n")
    assert tmp_path / "model.py" in runner_files(tmp_path, "runner.py:run")


def test_a_plan_computes_once_per_experiment_and_the_next_plan_reads_again(monkeypatch):
    loads = []
    real_load = rk.load_study
    monkeypatch.setattr(rk, "load_study", lambda name: loads.append(name) or real_load(name))
    rk.new_plan()
    first = rk.study_code("surprise", "rerun-svd-100k")
    for _ in range(5):
        assert rk.study_code("surprise", "rerun-svd-100k") == first
        rk.run_records("surprise")
    assert loads == ["surprise"]
    rk.new_plan()
    rk.run_records("surprise")
    assert loads == ["surprise", "surprise"]


def test_a_cached_list_handed_to_snakemake_is_a_fresh_copy():
    rk.new_plan()
    records = rk.run_records("surprise")
    records.clear()
    assert rk.run_records("surprise")


def test_signature_once_states_the_parameters_snakemake_reads():
    def get_thing(wildcards, attempt=1):
        return attempt

    assert rk.signature_once(get_thing) is get_thing
    assert list(get_function_params(get_thing)) == ["wildcards", "attempt"]
