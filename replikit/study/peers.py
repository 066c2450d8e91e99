"""A study's peer figures (``report.peers``): read from the file the peer's bench wrote.

The manifest says where a figure is (file, matching fields, key), never the number itself,
so every peer figure in the report traces to a file a program wrote. Checked with the other
study files before any run (:mod:`replikit.study.check`), shown by the report
(:mod:`replikit.publish.report.peers`).
"""

from __future__ import annotations

from pathlib import Path

from replikit.errors import ReplikitError
from replikit.fileio import read_json
from replikit.study.model import Study


def peer_figure(study: Study, index: int) -> tuple[float, int]:
    """The figure of ``report.peers[index]`` and how many rows it is the mean of."""
    peer = study.report.peers[index]
    where = f"{study.dir / 'study.yaml'}: report.peers[{index}]"
    path = study.dir.parent.parent / peer.file  # studies/<study>/ lies two below the root
    if not path.is_file():
        raise ReplikitError(f"the peer figures file {peer.file} does not exist", where=where,
                            expected="the JSON rows the peer's bench wrote",
                            fix=f"run the command in 'how' ({peer.how}) or correct 'file'")
    rows = read_json(path)
    if not isinstance(rows, list):
        raise ReplikitError("peer figures must be a JSON list of rows", where=str(path),
                            found=type(rows).__name__, fix="write it with the bench's --json")
    values = [row[peer.key] for row in rows if isinstance(row, dict) and peer.key in row
              and all(row.get(k) == v for k, v in peer.match.items())]
    if not values:
        raise ReplikitError(f"no row of {peer.file} matches", where=where,
                            expected=f"a row with {peer.match} and a {peer.key!r} field",
                            fix="correct 'match' or 'key', or run the bench again")
    return float(sum(values)) / len(values), len(values)


def check_peer_files(study: Study) -> list[Path]:
    """Read every peer figure once (raising on the first problem); the files read."""
    for index in range(len(study.report.peers)):
        peer_figure(study, index)
    return sorted({study.dir.parent.parent / p.file for p in study.report.peers})
