"""The conda environments under envs/: small, pinned, and the ones the rules name exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ENVS = sorted((REPO / "envs").glob("*.yaml"))
CONDA_PIN = re.compile(r"^[A-Za-z0-9_.-]+=\d[\w.*]*$")
PIP_PIN = re.compile(r"^[A-Za-z0-9_.-]+==[\w.+!-]+$")
UNPINNED_TOOLS = {"pip", "c-compiler"}  # build tools, whose version does not shape results


def test_there_are_environments() -> None:
    assert ENVS, "no envs/*.yaml"


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_environment_is_pinned(path: Path) -> None:
    env = yaml.safe_load(path.read_text())
    assert set(env) == {"channels", "dependencies"}, f"{path.name}: unexpected keys"
    assert env["channels"], f"{path.name}: no channel"
    assert path.read_text().startswith("#"), f"{path.name}: say its one purpose in a comment"
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for requirement in dep["pip"]:
                assert PIP_PIN.match(requirement), f"{path.name}: pip {requirement!r} unpinned"
        elif dep not in UNPINNED_TOOLS:
            assert CONDA_PIN.match(dep), f"{path.name}: {dep!r} is not pinned"


def test_every_environment_a_rule_names_exists() -> None:
    named = set()
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for target in re.findall(r"conda:\s*\n\s*\"([^\"]+)\"", smk.read_text()):
            named.add((smk.parent / target).resolve())
    assert named, "no rule names a conda environment"
    missing = sorted(str(p.relative_to(REPO)) for p in named if not p.exists())
    assert not missing, f"rules name missing environments: {missing}"


@pytest.mark.parametrize("study", ["bert4rec", "surprise"])
def test_every_environment_an_experiment_names_exists(study, monkeypatch) -> None:
    # The run rule takes its environment from the experiment (`conda: get_run_env`).
    from replikit import workflow

    monkeypatch.chdir(REPO)
    for experiment in workflow.study(study).experiments:
        assert Path(workflow.run_env(study, experiment, REPO / "envs")).is_file()
