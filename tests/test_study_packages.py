"""Studies are packages: the harness imports a study folder by its path, under a module name
made from the folder's name, without touching sys.path; study modules import siblings
relatively."""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from pathlib import Path

import pytest

from replikit.run.harness import import_study, load_runner, study_package_name
from replikit.study import load_study

REPO = Path(__file__).resolve().parents[1]

HELPER = "FACTOR = {factor}\n"
RUNNER = """
from . import helper
from .helper import FACTOR


def run(ctx):
    return {{"metrics": {{"value": ctx.seed * FACTOR, "same": helper.FACTOR == FACTOR}},
            "extra": {{"package": __package__, "tag": "{tag}"}}}}
"""


def write_study(root: Path, name: str, factor: int, *, init: bool = True) -> Path:
    folder = root / "studies" / name
    folder.mkdir(parents=True)
    if init:
        (folder / "__init__.py").write_text('"""A test study."""\n')
    (folder / "helper.py").write_text(HELPER.format(factor=factor))
    (folder / "runner.py").write_text(RUNNER.format(tag=name))
    return folder


class FakeStudy:
    """What load_runner reads of a study: its folder."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder


@pytest.mark.parametrize("name", ["my-study.v2", "plain", "2nd-try"])
@pytest.mark.parametrize("init", [True, False], ids=["package", "namespace"])
def test_a_runner_imports_its_siblings_relatively(tmp_path, name, init):
    folder = write_study(tmp_path, name, 7, init=init)
    path_before = list(sys.path)
    runner = load_runner(FakeStudy(folder), "runner.py:run")
    assert sys.path == path_before
    result = runner(type("Ctx", (), {"seed": 3})())
    assert result["metrics"] == {"value": 21, "same": True}
    assert result["extra"]["package"] == study_package_name(folder)
    assert runner.__module__ == f"{study_package_name(folder)}.runner"
    assert study_package_name(folder).isidentifier()


def test_two_folders_with_the_same_module_name_do_not_mix(tmp_path):
    # 'a-b' and 'a.b' both become replikit_study_a_b: the second import replaces the first.
    first = write_study(tmp_path / "one", "a-b", 2)
    second = write_study(tmp_path / "two", "a.b", 5)
    assert study_package_name(first) == study_package_name(second)
    ctx = type("Ctx", (), {"seed": 1})()
    assert load_runner(FakeStudy(first), "runner.py:run")(ctx)["metrics"]["value"] == 2
    assert load_runner(FakeStudy(second), "runner.py:run")(ctx)["metrics"]["value"] == 5
    assert load_runner(FakeStudy(first), "runner.py:run")(ctx)["metrics"]["value"] == 2


def test_an_imported_study_is_reused(tmp_path):
    folder = write_study(tmp_path, "reused", 1)
    assert import_study(folder) is import_study(folder)


@pytest.mark.parametrize("study", ["bert4rec", "surprise"])
def test_every_module_of_a_shipped_study_imports_as_part_of_its_package(study):
    folder = load_study(study, root=REPO).dir
    path_before = list(sys.path)
    package = import_study(folder)
    names = [m.name for m in pkgutil.iter_modules([str(folder)])]
    assert "runner" in names or "ours" in names
    for name in names:
        module = importlib.import_module(f"{package.__name__}.{name}")
        assert Path(module.__file__).parent == folder.resolve()
    assert sys.path == path_before


def test_no_study_module_imports_by_plain_name_or_edits_sys_path():
    for path in sorted((REPO / "studies").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"sys\.path\.(insert|append|extend)|sys\.path\s*\+?=", text), (
            f"{path} edits sys.path")
        fallback = re.search(r"except ImportError[^\n]*\n\s+import ", text)
        assert not fallback, f"{path} falls back to a plain import"


def test_a_new_study_from_the_template_is_a_package(tmp_path):
    from replikit.cli import main

    assert main(["--root", str(tmp_path), "new", "my-new.study"]) == 0
    folder = tmp_path / "studies" / "my-new.study"
    assert (folder / "__init__.py").is_file()
    study = load_study("my-new.study", root=tmp_path)
    runner = load_runner(study, study.experiments["ours"].runner)
    assert runner.__module__ == "replikit_study_my_new_study.runner"
