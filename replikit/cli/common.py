"""Small helpers the command groups share: dates given on the command line, required inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from replikit.errors import ReplikitError


def parse_today(text: str | None, option: str = "--today") -> dt.date:
    """``--today YYYY-MM-DD``, or today's date when not given; a date that is not one (a
    typo such as ``2026-99-99``) is an error naming the option."""
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ReplikitError(
            f"{option} is not a date", where=f"the command line: {option} {text}",
            expected="a calendar date written YYYY-MM-DD, e.g. 2026-01-31",
            found=f"{text!r} ({exc})", fix=f"give {option} a real date, or leave it out "
            "for today") from None


def require_output(path: Path, what: str, study: str) -> Path:
    """A file the workflow writes (the ledger, the PDF report); an error if it is missing."""
    if not path.exists():
        raise ReplikitError(
            f"the {what} is missing", where=str(path),
            fix=f"run snakemake study={study} first (or pass its path explicitly)",
        )
    return path
