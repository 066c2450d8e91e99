"""Which study files a run depends on: its runner's module and the study modules it imports.

A run is an input-output job: editing one runner must re-run the experiments that use it and
no others. The runner's module is read with the ``ast`` module (nothing is imported) and the
study-relative imports are followed (``from . import x``, ``from .x import y``, also inside
functions); modules a runner loads by name at run time are declared in the manifest
(``experiments.<name>.code``).

A study of E experiments x S seeds asks for these files once per run; each file is parsed
once per version (cached on its path, modification time and size), not once per run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from replikit.errors import ReplikitError


def runner_files(study_dir: Path, runner: str, declared: Iterable[str] = ()) -> list[Path]:
    """The study files a run of ``runner`` (``'<file>.py:<function>'``) depends on, sorted.

    A runner given as ``'module:function'`` (installed code) depends on no study file but
    the declared ones. The package's ``__init__.py`` counts when present.
    """
    target = runner.partition(":")[0]
    start = [study_dir / target] if target.endswith(".py") else []
    start += [study_dir / name for name in declared]
    for path in start:
        if not path.is_file():
            raise ReplikitError("a study file the run depends on does not exist",
                                where=str(path), fix="check the experiment's runner and code")
    found: set[Path] = set()
    pending = list(start)
    while pending:
        path = pending.pop()
        if path in found:
            continue
        found.add(path)
        pending += [p for p in _sibling_imports(path, study_dir) if p not in found]
    init = study_dir / "__init__.py"
    return sorted(found | ({init} if init.is_file() else set()))


def _sibling_imports(path: Path, study_dir: Path) -> list[Path]:
    """Study modules that ``path`` imports relatively (one level up is the study package)."""
    version = path.stat()
    names = _relative_imports(path, version.st_mtime_ns, version.st_size)
    return [study_dir / f"{name}.py" for name in names if (study_dir / f"{name}.py").is_file()]


@lru_cache(maxsize=1024)
def _relative_imports(path: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    """The module names ``path`` imports with ``from . import`` or ``from .x import``.

    ``mtime_ns`` and ``size`` key the cache: an edited file is parsed again.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                names.append(node.module.split(".")[0])
            else:
                names += [alias.name for alias in node.names]
    return tuple(names)
