"""What a runner returns, checked before anything is written: the runner contract enforced.

A runner returns ``{"metrics": {name: number}, "folds": [{...}], "extra": {...}}``
(:mod:`replikit.run.harness`). A missing mapping, a metric that is not a finite number or a
value JSON cannot hold is a :class:`ReplikitError` naming the runner, the experiment and the
seed, raised before the run record is written. NumPy scalars and arrays become plain
Python numbers and lists, so a record never stores ``"0.93"`` as a string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from replikit.errors import ReplikitError

_MAX_DEPTH = 32


def checked_result(result: Any, runner: str, experiment: str, seed: int) -> dict[str, Any]:
    """``result`` as plain JSON data, or a ReplikitError saying what is wrong and where."""
    where = f"runner {runner} (experiment {experiment}, seed {seed})"
    if not isinstance(result, Mapping):
        raise ReplikitError(
            "the runner returned no mapping", where=where,
            expected="a dict such as {'metrics': {'rmse': 0.93}, 'folds': [...]}",
            found=_kind(result), fix="return the metrics in a dict from the runner")
    metrics = result.get("metrics", {})
    if not isinstance(metrics, Mapping):
        raise ReplikitError("'metrics' is not a mapping", where=where,
                            expected="{name: number}", found=_kind(metrics))
    plain = {key: plain_json(value, f"{key}", where) for key, value in result.items()}
    for name, value in plain.get("metrics", {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ReplikitError(
                f"metric {name!r} is not a number", where=where, expected="a finite number",
                found=_kind(value), fix="return float(value) for every metric")
    folds = plain.get("folds", [])
    if not isinstance(folds, list) or not all(isinstance(f, dict) for f in folds):
        raise ReplikitError("'folds' is not a list of mappings", where=where,
                            expected="[{'fold': 0, 'rmse': ...}, ...]", found=_kind(folds))
    return plain


def plain_json(value: Any, key: str, where: str, depth: int = 0) -> Any:
    """``value`` with NumPy types made plain; non-finite numbers and odd types refused."""
    if depth > _MAX_DEPTH:
        raise ReplikitError(f"{key!r} is nested too deeply", where=where)
    if hasattr(value, "tolist") and type(value).__module__ == "numpy":
        value = value.tolist()  # numpy scalar -> int/float/bool, array -> list
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ReplikitError(
                f"{key!r} is {value}", where=where, expected="a finite number",
                fix="find why the runner produced it (a division by zero, a diverged model?)")
        return value
    if isinstance(value, Mapping):
        return {str(k): plain_json(v, f"{key}.{k}", where, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v, f"{key}[{i}]", where, depth + 1) for i, v in enumerate(value)]
    raise ReplikitError(f"{key!r} holds a {type(value).__name__}", where=where,
                        expected="numbers, strings, lists and mappings (JSON)",
                        fix="convert it to plain Python values in the runner")


def _kind(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}" if value is not None else "None"
