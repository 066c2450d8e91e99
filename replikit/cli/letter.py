"""``replikit letter <study>``: write (and optionally send) the letter to the paper's authors."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from replikit import paths
from replikit.authors.mail import Sender, send_letter, smtp_settings_from_env
from replikit.cli.common import parse_today, require_output
from replikit.publish.letter import write_letter
from replikit.study import load_study
from replikit.study.contacts import contacts_path, load_contacts


def cmd_letter(args: argparse.Namespace) -> int:
    today = parse_today(args.today)
    study = load_study(args.study, args.root)
    root = Path(args.root)
    ledger = require_output(Path(args.ledger or root / paths.ledger(args.study)),
                            "claims ledger", args.study)
    report = require_output(Path(args.report or root / paths.report(args.study, "pdf")),
                            "PDF report", args.study)
    log_file = contacts_path(args.study, args.root)
    contacts = load_contacts(log_file, [c.id for c in study.claims])
    out_dir = Path(args.out or root / paths.reports_dir(args.study) / "letter")
    sender = Sender(name=args.sender_name, address=args.sender_address
                    or os.environ.get("REPLIKIT_SMTP_FROM"))
    eml, txt = write_letter(study, contacts, ledger, report, out_dir, today=today, sender=sender)
    print(f"wrote {eml}\nwrote {txt} (read it before sending)")
    if args.send:
        logged = send_letter(eml, smtp_settings_from_env(), log_file, today=today)
        print(f"sent; recorded as {logged.id} in {log_file}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("letter", help="write (and optionally send) a letter to the authors")
    p.add_argument("study")
    p.add_argument("--ledger", help="claims ledger (default: results/<study>/claims.csv)")
    p.add_argument("--report", help="PDF report (default: reports/<study>/report.pdf)")
    p.add_argument("--out", help="output folder (default: reports/<study>/letter)")
    p.add_argument("--today", help="the letter's date, YYYY-MM-DD (default: today)")
    p.add_argument("--sender-name", default=Sender.name, help="name to sign with")
    p.add_argument("--sender-address", help="From address (default: $REPLIKIT_SMTP_FROM)")
    p.add_argument("--send", action="store_true",
                   help="send through REPLIKIT_SMTP_* and record it in the contact log")
    p.set_defaults(func=cmd_letter)
