"""Small helpers the command groups share: dates given on the command line, required inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from replikit.errors import ReplikitError


def parse_today(text: str | None) -> dt.date:
    """``--today YYYY-MM-DD``, or today's date when not given."""
    return dt.date.fromisoformat(text) if text else dt.date.today()


def require_output(path: Path, what: str, study: str) -> Path:
    """A file the workflow writes (the ledger, the PDF report); an error if it is missing."""
    if not path.exists():
        raise ReplikitError(
            f"the {what} is missing", where=str(path),
            fix=f"run snakemake study={study} first (or pass its path explicitly)",
        )
    return path
