"""The RL Zoo's tuned hyperparameters (one YAML file per algorithm) as Stable-Baselines3 kwargs.

The Zoo writes a few values in its own shorthand, which its ExperimentManager expands before
building the model; we expand the ones the classic-control entries use, the same way:
``lin_<x>`` is a schedule falling linearly from x to 0 over training, ``policy_kwargs`` is a
Python ``dict(...)`` expression, ``normalize`` wraps the environments in VecNormalize, and
``n_envs``/``n_timesteps``/``policy`` are settings of the run rather than of the model.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_RUN_KEYS = {"n_envs", "n_timesteps", "policy", "normalize"}


@dataclass
class ZooEntry:
    policy: str
    timesteps: int
    n_envs: int
    normalize: dict[str, Any] | None
    kwargs: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """The entry as the Zoo's file writes it (JSON-safe), for the run record."""
        return {k: (str(v) if not isinstance(v, int | float | bool) else v)
                for k, v in self.raw.items()}


def load(path: Path, env_id: str) -> ZooEntry:
    """The Zoo's entry for ``env_id`` in the YAML file at ``path``."""
    table = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if env_id not in table:
        raise KeyError(f"the RL Zoo has no tuned entry for {env_id} in {Path(path).name}")
    raw = dict(table[env_id])
    kwargs = {k: _expand(k, v) for k, v in raw.items() if k not in _RUN_KEYS}
    normalize = raw.get("normalize", False)
    if normalize is True:
        normalize = {}
    elif isinstance(normalize, str):
        normalize = _dict_expression(normalize)
    return ZooEntry(policy=raw.get("policy", "MlpPolicy"), timesteps=int(raw["n_timesteps"]),
                    n_envs=int(raw.get("n_envs", 1)), normalize=normalize or None,
                    kwargs=kwargs, raw=raw)


def _expand(key: str, value: Any) -> Any:
    if isinstance(value, str) and value.startswith("lin_"):
        return _linear(float(value[len("lin_"):]))
    if key == "policy_kwargs" and isinstance(value, str):
        return _dict_expression(value)
    return value


def _linear(start: float):
    # SB3 calls a schedule with the remaining progress, 1 at the start and 0 at the end.
    return lambda progress_remaining: progress_remaining * start


def _dict_expression(text: str) -> dict[str, Any]:
    """``dict(a=1, b=[2])`` as a dict, for literal arguments only (no code is evaluated)."""
    call = ast.parse(text.strip(), mode="eval").body
    if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "dict"):
        raise ValueError(f"expected dict(...), got {text!r}")
    return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
