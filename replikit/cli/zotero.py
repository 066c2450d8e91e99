"""``replikit zotero pull | push``: paper metadata from, and a study's outcome to, Zotero."""

from __future__ import annotations

import argparse
from pathlib import Path

from replikit import paths
from replikit.authors.zotero import OUTCOME_PREFIX, pull, push, settings_from_env
from replikit.cli.common import require_output


def cmd_pull(args: argparse.Namespace) -> int:
    result = pull(args.study, args.root, settings_from_env(), key=args.key, doi=args.doi,
                  overwrite=args.overwrite)
    print(f"Zotero item {result.item_key}")
    for change in result.changes or ["paper block already up to date"]:
        print(f"  {change}")
    print(f"wrote {result.bibliography}")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    root = Path(args.root)
    ledger = require_output(Path(args.ledger or root / paths.ledger(args.study)),
                            "claims ledger", args.study)
    report = None if args.no_pdf else require_output(
        Path(args.report or root / paths.report(args.study, "pdf")), "PDF report", args.study)
    result = push(args.study, args.root, settings_from_env(), ledger, report,
                  report_url=args.report_url)
    verb = "updated" if result.note_updated else "added"
    print(f"Zotero item {result.item_key}: {verb} note {result.note_key}, "
          f"tagged {OUTCOME_PREFIX}{result.outcome}"
          + (f", attached the report as {result.attachment_key}" if result.attachment_key
             else ""))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    z = sub.add_parser("zotero", help="pull paper metadata from / push outcomes to Zotero")
    zsub = z.add_subparsers(dest="zotero_command", required=True, metavar="ACTION")

    p = zsub.add_parser("pull", help="fill the paper block and write references.bib")
    p.add_argument("study")
    p.add_argument("--key", help="Zotero item key (default: paper.zotero)")
    p.add_argument("--doi", help="find the item by DOI (default: paper.doi)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace paper fields that differ (default: fill missing ones only)")
    p.set_defaults(func=cmd_pull)

    p = zsub.add_parser("push", help="note, PDF report and repro: tag on the paper's item")
    p.add_argument("study")
    p.add_argument("--ledger", help="claims ledger (default: results/<study>/claims.csv)")
    p.add_argument("--report", help="PDF report (default: reports/<study>/report.pdf)")
    p.add_argument("--no-pdf", action="store_true", help="do not attach the PDF")
    p.add_argument("--report-url", help="public link to the report, shown in the note")
    p.set_defaults(func=cmd_push)
