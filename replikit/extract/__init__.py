"""Candidate claims read from a paper's results tables (``replikit claims extract``).

One reader per source format (:mod:`.markdown`, :mod:`.latex`, :mod:`.pdf`) turns a file
into tables of printed cells (:mod:`.model`); :mod:`.candidates` makes candidate claims of
their numbers (:mod:`.layout` reads a corner cell that names the axes), and :mod:`.drafts`
adds what the text around a table says (:mod:`.context`): protocol, relation claims;
:mod:`.writer` writes them as a YAML block to review and says what changed
since a previous run. :mod:`.sources` finds the file, also inside a fetched artifact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from replikit.extract.candidates import Options, select, table_candidates, to_claims
from replikit.extract.drafts import add_context
from replikit.extract.sources import open_source, read_source_tables


def extract_claims(spec: str, options: Options | None = None, *, study: str | None = None,
                   root: str | Path = ".") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Candidate claim entries of the tables in ``spec``, and the source's provenance.

    ``spec`` is a file path or ``<artifact>:<path>`` (with ``study``). Each entry is
    ``{"claim": {...}, "comments": [...]}`` (see :func:`replikit.extract.candidates.to_claims`).
    """
    options = options or Options()
    with open_source(spec, study=study, root=Path(root)) as source:
        tables = read_source_tables(source)
        provenance = source.provenance
    candidates = [c for table in tables
                  for c in table_candidates(table, keep_printed_digits=options.keep_printed_digits)]
    return add_context(to_claims(select(candidates, options), options)), provenance


__all__ = ["Options", "extract_claims"]
