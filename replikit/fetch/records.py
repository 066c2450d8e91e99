"""What a fetch reports: the JSON-able record of one artifact, and how a source is named in it.

The workflow writes each record to ``results/<study>/artifacts/<name>.json``
(:func:`replikit.paths.artifact_record`); the runs, the environment record and the report
read it from there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from replikit.study import Artifact, GitSource, PathSource, PypiSource, source_kind


def describe_source(source: Any) -> dict[str, Any]:
    """A short JSON-able description of a source: its kind, reference and member if any.

    Examples
    --------
    >>> from replikit.study import PypiSource
    >>> describe_source(PypiSource(pypi="recbole==1.2.1", member="a/b.inter", strip_header=1))
    {'kind': 'pypi', 'ref': 'recbole==1.2.1', 'member': 'a/b.inter', 'strip_header': 1}
    """
    kind = source_kind(source)
    if isinstance(source, GitSource):
        return {"kind": kind, "ref": f"{source.git}@{source.commit}"}
    if isinstance(source, PathSource):  # never this machine's folders
        return {"kind": kind, "ref": source.shown()}
    out: dict[str, Any] = {"kind": kind, "ref": getattr(source, kind)}
    if source.member:
        out["member"] = source.member
    if source.strip_header:
        out["strip_header"] = source.strip_header
    if isinstance(source, PypiSource) and source.install:
        out["install"] = True
    return out


def fetch_record(name: str, artifact: Artifact, status: str, tried: list[dict[str, Any]],
                 **values: Any) -> dict[str, Any]:
    """The record of one fetch, every key present (``None`` where it does not apply).

    Keys: ``name``, ``status`` (``"ok"`` or ``"unavailable"``), ``path`` (the file, or the
    folder of a git checkout or an installed distribution), ``sha256``, ``source``
    (:func:`describe_source` of the source used), ``source_index``, ``commit`` (git),
    ``distribution`` (``{"file", "sha256"}``, pypi), ``tried`` (``[{"source", "error"}]``
    for each unreachable source), ``reason``, ``size_bytes``, ``from_cache``, ``role``,
    ``optional`` and ``fetched_at``; an installed code artifact adds ``import_path`` (put on
    the runner's import path) and ``packages`` (``{name: version}`` installed there).
    """
    record: dict[str, Any] = {
        "name": name, "status": status, "path": None, "sha256": None,
        "source": None, "source_index": None, "commit": None, "distribution": None,
        "tried": tried, "reason": None, "size_bytes": None, "from_cache": False,
        "role": artifact.role, "origin": artifact.code_origin, "optional": artifact.optional,
        "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    record.update(values)
    return record


def lock_entry(record: dict[str, Any]) -> dict[str, Any]:
    """What the lock file keeps of a successful fetch: a commit, distributions or a sha256."""
    if record["commit"]:
        return {"commit": record["commit"]}
    if record["distribution"] and not record["source"].get("member"):
        dist = record["distribution"]
        return {"distributions": {dist["file"]: dist["sha256"]}}
    return {"sha256": record["sha256"]} if record["sha256"] else {}


def unavailable(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fetch records of artifacts that could not be had (status other than ``"ok"``)."""
    return [record for record in records if record.get("status") != "ok"]
