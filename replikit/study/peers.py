"""A study's peer figures (``report.peers``): read from the file the peer's bench wrote.

The manifest says where a figure is (file, matching fields, key), never the number itself,
so every peer figure in the report traces to a file a program wrote. Checked with the other
study files before any run (:mod:`replikit.study.check`), shown by the report
(:mod:`replikit.publish.report.peers`).
"""

from __future__ import annotations

from typing import Any

from replikit.errors import ReplikitError
from replikit.fileio import read_json
from replikit.study.model import Study


def peer_figures(study: Study) -> list[tuple[float, int]]:
    """Per ``report.peers`` entry: its figure and how many rows it is the mean of.

    Each file is read once, however many entries point into it.
    """
    files: dict[str, list[Any]] = {}
    figures = []
    for index, peer in enumerate(study.report.peers):
        where = f"{study.dir / 'study.yaml'}: report.peers[{index}]"
        if peer.file not in files:
            files[peer.file] = _rows(study, peer.file, peer.how, where)
        values = [row[peer.key] for row in files[peer.file] if isinstance(row, dict)
                  and peer.key in row and all(row.get(k) == v for k, v in peer.match.items())]
        if not values:
            raise ReplikitError(f"no row of {peer.file} matches", where=where,
                                expected=f"a row with {peer.match} and a {peer.key!r} field",
                                fix="correct 'match' or 'key', or run the bench again")
        figures.append((float(sum(values)) / len(values), len(values)))
    return figures


def _rows(study: Study, file: str, how: str, where: str) -> list[Any]:
    path = study.dir.parent.parent / file  # studies/<study>/ lies two below the root
    if not path.is_file():
        raise ReplikitError(f"the peer figures file {file} does not exist", where=where,
                            expected="the JSON rows the peer's bench wrote",
                            fix=f"run the command in 'how' ({how}) or correct 'file'")
    rows = read_json(path)
    if not isinstance(rows, list):
        raise ReplikitError("peer figures must be a JSON list of rows", where=str(path),
                            found=type(rows).__name__, fix="write it with the bench's --json")
    return rows
