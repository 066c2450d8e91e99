"""The reading group's portfolio: one static site over every study with results.

``replikit site`` (and ``snakemake site``) writes ``reports/site/``: an index page with a
card per study (paper, field, levels run, verdicts as a stacked bar, last run, the state of
the exchange with the authors, open questions, Zotero key and collection), a cross-study
view (share of checks reproduced per level and per field; the checks not comparable or not
run, with their causes), and a page per study linking its report, claims detail, letter and
MLRC draft. It works from ``file://`` and any static host, and fetches nothing when viewed.

:func:`~replikit.publish.site.portfolio.gather` reads the studies;
:mod:`~replikit.publish.site.view` turns them into what the pages show;
:func:`~replikit.publish.site.pages.write_site` writes the pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from replikit import paths
from replikit.authors.zotero_collection import CollectionView
from replikit.publish.site.pages import write_site
from replikit.publish.site.portfolio import Entry, Portfolio, gather
from replikit.study import Study

__all__ = ["Entry", "Portfolio", "build_site", "gather", "write_site"]


def build_site(root: str | Path = ".", out: str | Path | None = None, *,
               today: str | dt.date | None = None,
               zotero: Callable[[list[Study]], CollectionView] | None = None,
               ) -> tuple[Portfolio, list[Path]]:
    """Gather every study under ``root`` and write the site to ``out`` (``reports/site``).

    ``zotero``, given every study's manifest, reads the group's Zotero collection
    (:func:`replikit.authors.zotero_collection.collection_view`).
    """
    portfolio = gather(root, today=today)
    if zotero is not None:
        portfolio = replace(portfolio, zotero=zotero(portfolio.studies))
    out = Path(out) if out is not None else Path(root) / paths.SITE
    return portfolio, write_site(portfolio, out)
