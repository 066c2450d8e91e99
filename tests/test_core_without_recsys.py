"""The core install has no torch and no numba (they are the `[recsys]` extra): every module of
replikit outside ext/ imports without them, and every shipped study's manifest loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# A finder ahead of all others makes `import torch` raise ImportError, as on a core install.
# (A None entry in sys.modules would not do: scipy reads sys.modules["torch"] as a module.)
WITHOUT_RECSYS = """
import importlib, pkgutil, sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("torch", "numba"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
import replikit
from replikit.study import list_studies, load_study

imported = []
for info in pkgutil.walk_packages(replikit.__path__, "replikit."):
    if info.name.startswith("replikit.ext") or info.name.endswith("__main__"):
        continue
    importlib.import_module(info.name)
    imported.append(info.name)
studies = list_studies(".")
for name in studies:
    load_study(name)
assert not {"torch", "numba"} & set(sys.modules)
print(len(imported), " ".join(studies))
"""


def test_core_modules_and_manifests_load_without_torch_or_numba():
    done = subprocess.run([sys.executable, "-c", WITHOUT_RECSYS], cwd=REPO, text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    count, studies = done.stdout.split(maxsplit=1)
    assert int(count) >= 30, done.stdout
    assert set(studies.split()) >= {"bert4rec", "surprise"}


def test_recsys_software_is_an_extra_not_a_core_dependency():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {dep.split("=")[0].split(">")[0].strip() for dep in project["dependencies"]}
    assert not names & {"torch", "numba"}
    recsys = project["optional-dependencies"]["recsys"]
    assert "torch==2.13.0" in recsys and any(d.startswith("numba") for d in recsys)
    assert ".[recsys,dev]" in (REPO / "Makefile").read_text()


def test_no_module_outside_the_extensions_imports_torch_or_numba():
    """Not even lazily inside a function: the core counts GPUs with nvidia-smi and reads
    torch's version from its metadata, so a core install never needs the recsys extra."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "replikit"
    offenders = []
    for path in package.rglob("*.py"):
        if "ext" in path.relative_to(package).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}:{node.lineno}" for n in names
                          if n.split(".")[0] in ("torch", "numba")]
    assert offenders == []
