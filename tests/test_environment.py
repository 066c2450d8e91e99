"""Environment capture and the declared-vs-actual comparison."""

from replikit.environment import capture, compare, timing_comparable
from replikit.study import HardwareSpec


def actual(cpu="11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz", cores=8, gpu=None):
    return {"hardware": {"cpu": cpu, "cores": cores, "memory_gb": 16.0, "gpu": gpu,
                         "gpus": 1 if gpu else 0}, "os": "Linux 6.1"}


def test_capture_reads_this_machine():
    env = capture()
    assert env["python"].count(".") == 2
    assert env["hardware"]["cores"] >= 1
    assert env["hardware"]["cpu"]
    assert "pandas" in env["packages"]
    assert set(env["git"]) == {"commit", "dirty"}


def test_loose_cpu_match_needs_every_declared_word():
    rows = compare(HardwareSpec(cpu="Intel Core i7"), actual(cpu="Intel(R) Core(TM) i5-1135G7"))
    assert rows[0]["match"] is False
    rows = compare(HardwareSpec(cpu="Intel i5 1135G7"), actual(cpu="Intel(R) Core(TM) i5-1135G7"))
    assert rows[0]["match"] is True


def test_silent_paper_gives_no_verdict_and_no_timing_comparison():
    rows = compare(HardwareSpec(), actual())
    assert {r["item"]: r["match"] for r in rows}["CPU"] is None
    assert timing_comparable(rows) is False


def test_gpu_count_mismatch_breaks_comparability():
    rows = compare(HardwareSpec(cpu="Intel i5 1135G7", gpu="V100", gpus=1),
                   actual(cpu="Intel(R) Core(TM) i5-1135G7"))
    assert {r["item"]: r["match"] for r in rows}["GPU"] is False
    assert timing_comparable(rows) is False
