"""Support functions of the Snakemake workflow."""

import doctest
from pathlib import Path

import pytest

import replikit.workflow as rk
from replikit.errors import ReplikitError

REPO = Path(__file__).resolve().parents[1]


def test_doctests():
    assert doctest.testmod(rk).failed == 0


def test_shortform_leaves_paths_and_rule_names_alone():
    config, rest = rk.split_shortform(["all", "results/a=b/x.json", "study=surprise"])
    assert config == {"study": "surprise"}
    assert rest == ["all", "results/a=b/x.json"]


def test_shortform_parses_yaml_scalars():
    config, _ = rk.split_shortform(["strict=false", "formats=[html]"])
    assert config == {"strict": False, "formats": ["html"]}


def test_torch_experiments_run_in_the_torch_env(monkeypatch):
    # What the run rule's `conda: get_run_env` gives under --software-deployment-method conda.
    monkeypatch.chdir(REPO)
    envs = REPO / "envs"
    assert rk.run_env("bert4rec", "ml100k-bert4rec", envs) == str(envs / "torch.yaml")
    assert rk.run_env("bert4rec", "ours-ml1m-sasrec", envs) == str(envs / "torch.yaml")
    assert rk.run_env("bert4rec", "ml100k-mostpop", envs) == str(envs / "replikit.yaml")
    assert rk.run_env("surprise", "rerun-svd-100k", envs) == str(envs / "replikit.yaml")


def test_an_env_without_a_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    (tmp_path / "replikit.yaml").write_text("channels: [conda-forge]\n")
    with pytest.raises(ReplikitError, match="names the software environment 'torch'") as err:
        rk.run_env("bert4rec", "ml100k-bert4rec", tmp_path)
    assert "experiments.ml100k-bert4rec.env" in str(err.value)
    assert "['replikit']" in str(err.value)


def test_config_and_its_schema_agree_on_every_default():
    import yaml

    config = yaml.safe_load((REPO / "workflow" / "config.yaml").read_text())
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    for key, value in config.items():
        assert schema["properties"][key]["default"] == value, key
    assert config["study"] == "bert4rec"
