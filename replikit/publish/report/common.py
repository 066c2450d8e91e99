"""Helpers every report section shares: its tables' CSV copies and a few words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from replikit.fileio import atomic_path
from replikit.numbers import DASH, is_missing
from replikit.publish.text import Raw


def write_csv(frame: pd.DataFrame, path: Path) -> str:
    """Copy a table the report shows to ``tables/<name>.csv``; returns its report path."""
    clean = frame.map(lambda v: str(v) if isinstance(v, Raw) else v)
    clean = clean.rename(columns=lambda c: c or "quantity")
    with atomic_path(path) as tmp:
        clean.to_csv(tmp, index=False, lineterminator="\n")
    return f"tables/{path.name}"


def measured_digits(decimals: Any) -> int | None:
    """Print measurements two digits finer than the paper, so small drifts stay visible."""
    return None if is_missing(decimals) else int(decimals) + 2


def yes_no(value: Any) -> str:
    if is_missing(value):
        return DASH
    if isinstance(value, str):
        return "yes" if value.strip().lower() in ("true", "yes", "1") else "no"
    return "yes" if bool(value) else "no"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
