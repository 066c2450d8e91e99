"""The ``path`` source kind: a local file, relative to the study folder or absolute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from replikit.fetch.job import FetchJob, Unreachable
from replikit.study import PathSource


def fetch_path(job: FetchJob, source: PathSource, expected: str | None) -> dict[str, Any]:
    local = Path(source.path).expanduser()
    if not local.is_absolute():
        local = job.study.dir / local
    if not local.is_file():
        raise Unreachable(f"no file at {local}")
    with job.cache.scratch() as work:
        return job.take_member(local, source, work, expected)
