"""Support functions of the Snakemake workflow."""

import doctest

import replikit.workflow as rk


def test_doctests():
    assert doctest.testmod(rk).failed == 0


def test_shortform_leaves_paths_and_rule_names_alone():
    config, rest = rk.split_shortform(["all", "results/a=b/x.json", "study=surprise"])
    assert config == {"study": "surprise"}
    assert rest == ["all", "results/a=b/x.json"]


def test_shortform_parses_yaml_scalars():
    config, _ = rk.split_shortform(["strict=false", "formats=[html]"])
    assert config == {"strict": False, "formats": ["html"]}
