"""A study's peer figures (``report.peers``): read from the file the peer's bench wrote.

The manifest says where a figure is (file, matching fields, key), never the number itself,
so every peer figure in the report traces to a file a program wrote. Each figure comes
with the ``protocol`` mapping its rows recorded (what it was measured under), which the
report compares with ours key by key before setting the two side by side. Checked with the
other study files before any run (:mod:`replikit.study.check`), shown by the report
(:mod:`replikit.publish.report.peers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from replikit.errors import ReplikitError
from replikit.fileio import read_json
from replikit.study.model import Study


@dataclass(frozen=True)
class PeerValue:
    """A peer figure: the mean of its rows' values, how many rows, and their protocol."""

    figure: float
    rows: int
    protocol: dict[str, Any] = field(default_factory=dict)


def peer_figures(study: Study) -> list[PeerValue]:
    """Per ``report.peers`` entry, its figure; each file is read once.

    The matched rows must record one and the same ``protocol`` mapping (none at all is an
    empty mapping, which the report shows as not comparable).
    """
    files: dict[str, list[Any]] = {}
    figures = []
    for index, peer in enumerate(study.report.peers):
        where = f"{study.dir / 'study.yaml'}: report.peers[{index}]"
        if peer.file not in files:
            files[peer.file] = _rows(study, peer.file, peer.how, where)
        matched = [row for row in files[peer.file] if isinstance(row, dict) and peer.key in row
                   and all(row.get(k) == v for k, v in peer.match.items())]
        if not matched:
            raise ReplikitError(f"no row of {peer.file} matches", where=where,
                                expected=f"a row with {peer.match} and a {peer.key!r} field",
                                fix="correct 'match' or 'key', or run the bench again")
        protocols = {repr(sorted((row.get("protocol") or {}).items())) for row in matched}
        if len(protocols) > 1:
            raise ReplikitError(f"the rows of {peer.file} that match record different protocols",
                                where=where, expected="one protocol per peer figure",
                                found=f"{len(protocols)} protocols among {len(matched)} rows",
                                fix="add the differing key (e.g. exclude_history) to 'match'")
        values = [float(row[peer.key]) for row in matched]
        figures.append(PeerValue(sum(values) / len(values), len(values),
                                 dict(matched[0].get("protocol") or {})))
    return figures


def _rows(study: Study, file: str, how: str, where: str) -> list[Any]:
    """The file's rows: a JSON list, or an object whose ``rows`` is one."""
    path = study.dir.parent.parent / file  # studies/<study>/ lies two below the root
    if not path.is_file():
        raise ReplikitError(f"the peer figures file {file} does not exist", where=where,
                            expected="the JSON rows the peer's bench wrote",
                            fix=f"run the command in 'how' ({how}) or correct 'file'")
    rows = read_json(path)
    if isinstance(rows, dict):
        rows = rows.get("rows")
    if not isinstance(rows, list):
        raise ReplikitError("peer figures must be a JSON list of rows (or {rows: [...]})",
                            where=str(path), found=type(rows).__name__,
                            fix="write it with the bench's --json")
    return rows
