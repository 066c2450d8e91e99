"""``replikit site``: the reading group's portfolio, a static site over every study."""

from __future__ import annotations

import argparse
from pathlib import Path

from replikit import paths
from replikit.authors.zotero import settings_from_env
from replikit.authors.zotero_collection import (
    COLLECTION_VARIABLE,
    CollectionView,
    collection_from_env,
    collection_view,
)


def cmd_site(args: argparse.Namespace) -> int:
    from replikit.publish.site import build_site  # matplotlib's colours: load only when used

    root = Path(args.root)
    reader = None
    if args.zotero:
        # Checked before anything is read or written: a missing setting fails at once.
        settings, collection = settings_from_env(), collection_from_env(args.collection)

        def reader(studies):
            return collection_view(settings, collection, studies)

    portfolio, written = build_site(root, args.out or root / paths.SITE, today=args.today,
                                    zotero=reader)
    print(f"wrote {written[0]} and {len(written) - 1} study page(s) "
          f"({len(portfolio.entries)} studies, as of {portfolio.as_of.date})")
    for name in portfolio.orphans:
        print(f"  skipped results/{name}: no studies/{name}/{paths.MANIFEST}")
    if portfolio.zotero is not None:
        print_not_started(portfolio.zotero)
    return 0


def print_not_started(view: CollectionView) -> None:
    """The papers claimed but not started: in the collection, with no study."""
    print(f"Zotero collection {view.name!r} ({view.key}): "
          f"{len(view.not_started)} paper(s) without a study")
    for paper in view.not_started:
        who = f" — {', '.join(paper.authors)}" if paper.authors else ""
        year = f" ({paper.year})" if paper.year else ""
        print(f"  {paper.key}  {paper.title}{who}{year}")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("site", help="build the portfolio site over every study with results")
    p.add_argument("--out", help=f"output folder (default: {paths.SITE})")
    p.add_argument("--today", help="date waiting times count to, YYYY-MM-DD (default: the "
                                   "day the newest run record was written)")
    p.add_argument("--zotero", action="store_true",
                   help="also read the group's Zotero collection: each study's collection, "
                        "and the papers in it without a study (ZOTERO_* settings)")
    p.add_argument("--collection", help=f"the collection's key or name (default: "
                                        f"${COLLECTION_VARIABLE})")
    p.set_defaults(func=cmd_site)
