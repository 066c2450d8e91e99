"""The ``path`` source kind: a local file, relative to the study folder or absolute."""

from __future__ import annotations

from typing import Any

from replikit.fetch.job import FetchJob, Unreachable
from replikit.study import PathSource


def fetch_path(job: FetchJob, source: PathSource, expected: str | None) -> dict[str, Any]:
    local = source.local(job.study.dir)
    if not local.is_file():
        where = "" if source.shown() != source.path else " in the study folder"
        raise Unreachable(f"no file at {source.shown()}{where}")
    with job.cache.scratch() as work:
        return job.take_member(local, source, work, expected)
