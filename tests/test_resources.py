"""Tests of replikit.run.resources: manifest needs and site settings become Snakemake resources."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from replikit.errors import ReplikitError
from replikit.run.resources import (
    RESOURCE_KEYS,
    RUN_DEFAULTS,
    SlurmSite,
    alike,
    gpus_needed,
    resource_getter,
    rule_resources,
    rule_threads,
    run_rule_resources,
    slurm_site,
)
from replikit.study import Study


def make_study(experiments: dict[str, dict[str, Any]], declared_gpus: int = 0) -> Study:
    """A minimal valid study with the given experiments (each one runner, one seed)."""
    exps = {
        name: {"description": name, "implementation": "reimplementation",
               "runner": "ours.py:run", "seeds": [0], **fields}
        for name, fields in experiments.items()
    }
    first = next(iter(exps))
    return Study.model_validate({
        "name": "toy",
        "summary": "A study made up for the resource tests.",
        "paper": {"title": "T", "authors": ["A"], "venue": "V 2020", "year": 2020},
        "hardware": {"declared": {"gpu": "a GPU as stated", "gpus": declared_gpus}},
        "experiments": exps,
        "claims": [{"id": "C1", "text": "t", "source": "Table 1", "metric": "m",
                    "reported": 1.0, "tolerance": {"absolute": 0.1},
                    "levels": {"re-implement": first}}],
    })


def test_stated_needs_become_resources() -> None:
    study = make_study({"big": {"resources": {"gpus": 2, "mem_mb": 32000, "runtime": 900,
                                              "threads": 8}}})
    assert rule_resources(study, "big") == {
        "gpu": 2, "mem_mb": 32000, "runtime": 900, "slurm_partition": "", "slurm_extra": "",
    }
    assert rule_threads(study, "big") == 8


def test_silent_cpu_experiment_stays_light() -> None:
    study = make_study({"small": {}}, declared_gpus=4)
    resources = rule_resources(study, "small")
    assert resources["gpu"] == 0
    assert resources["mem_mb"] == RUN_DEFAULTS["mem_mb"]
    assert resources["runtime"] == RUN_DEFAULTS["runtime"]
    assert set(resources) == set(RESOURCE_KEYS)


def test_original_code_inherits_the_declared_gpus_unless_stated() -> None:
    study = make_study({
        "original": {"implementation": "original"},
        "original-on-cpu": {"implementation": "original", "resources": {"gpus": 0}},
        "ours": {},
    }, declared_gpus=1)
    assert gpus_needed(study, study.experiments["original"]) == 1
    assert gpus_needed(study, study.experiments["original-on-cpu"]) == 0
    assert gpus_needed(study, study.experiments["ours"]) == 0


def test_gpu_jobs_go_to_the_gpu_partition_and_others_to_the_default() -> None:
    study = make_study({"gpu": {"resources": {"gpus": 1}}, "cpu": {}})
    site = SlurmSite(partition="short", gpu_partition="gpu", extra="--qos=normal",
                     gpu_extra="--constraint=a100")
    assert rule_resources(study, "gpu", site)["slurm_partition"] == "gpu"
    assert rule_resources(study, "gpu", site)["slurm_extra"] == "--constraint=a100"
    assert rule_resources(study, "cpu", site)["slurm_partition"] == "short"
    assert rule_resources(study, "cpu", site)["slurm_extra"] == "--qos=normal"


def test_gpu_settings_fall_back_to_the_general_ones() -> None:
    study = make_study({"gpu": {"resources": {"gpus": 1}}})
    resources = rule_resources(study, "gpu", SlurmSite(partition="all", extra="-A lab"))
    assert (resources["slurm_partition"], resources["slurm_extra"]) == ("all", "-A lab")


def test_slurm_site_reads_the_config_and_rejects_unknown_keys() -> None:
    assert slurm_site({"slurm": {"partition": "p"}}) == SlurmSite(partition="p")
    assert slurm_site(None) == SlurmSite()
    with pytest.raises(ReplikitError, match=r"(?s)config: slurm.*gpu_partiton"):
        slurm_site({"slurm": {"gpu_partiton": "gpu"}})


def test_unknown_experiment_names_the_known_ones() -> None:
    study = make_study({"a": {}})
    with pytest.raises(ReplikitError, match=r"(?s)no experiment 'b'.*\['a'\]"):
        rule_resources(study, "b")


def test_resource_getter_reads_the_wildcards() -> None:
    study = make_study({"a": {"resources": {"mem_mb": 500}}, "b": {"resources": {"gpus": 1}}})
    site = SlurmSite(gpu_partition="gpu")
    per_experiment = lambda name, experiment: rule_resources(study, experiment, site)  # noqa: E731
    getters = {key: resource_getter(key, per_experiment) for key in RESOURCE_KEYS}
    wildcards = SimpleNamespace(study="toy", experiment="a", seed="0")
    assert getters["mem_mb"](wildcards) == 500
    assert getters["slurm_partition"](SimpleNamespace(study="toy", experiment="b")) == "gpu"
    assert getters["gpu"].__name__ == "get_run_gpu"
    with pytest.raises(ReplikitError, match="unknown run resource 'gpus'"):
        resource_getter("gpus", per_experiment)


def test_the_run_rule_declares_a_callable_per_resource() -> None:
    calls = []

    def per_experiment(study: str, experiment: str) -> dict[str, int | str]:
        calls.append(experiment)
        return {"gpu": 1, "mem_mb": 10, "runtime": 5, "slurm_partition": "", "slurm_extra": "-x"}

    declared = run_rule_resources(per_experiment)
    assert set(declared) == set(RESOURCE_KEYS) and all(map(callable, declared.values()))
    # An empty partition still overrides the profile's default-resources (light rules only).
    assert declared["slurm_partition"](SimpleNamespace(study="toy", experiment="a")) == ""
    assert declared["mem_mb"](SimpleNamespace(study="toy", experiment="b")) == 10
    assert calls == ["a", "b"]


def test_what_every_experiment_asks_alike_is_found() -> None:
    study = make_study({"a": {"resources": {"mem_mb": 500}}, "b": {"resources": {"gpus": 1}},
                        "c": {"resources": {"mem_mb": 500}}})
    site = SlurmSite(gpu_partition="gpu", extra="-A lab")
    per_experiment = [rule_resources(study, name, site) for name in study.experiments]
    # b needs a GPU: its partition and memory differ; runtime and flags are everyone's.
    assert alike(per_experiment) == {"runtime": RUN_DEFAULTS["runtime"], "slurm_extra": "-A lab"}
    assert alike(per_experiment[::2]) == {**per_experiment[0]}
    assert alike([{"a": 1}, {"b": 1}]) == {}
