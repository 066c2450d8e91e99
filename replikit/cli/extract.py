"""``replikit claims extract``: candidate claims from a results table, to review."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from replikit.errors import ReplikitError
from replikit.extract import Options, extract_claims
from replikit.extract.writer import diff, read_previous, render
from replikit.fileio import write_text


def add_commands(sub: argparse._SubParsersAction) -> None:
    claims = sub.add_parser("claims", help="work with a paper's claims")
    csub = claims.add_subparsers(dest="claims_command", required=True, metavar="ACTION")
    p = csub.add_parser(
        "extract", help="read results tables (Markdown, LaTeX, PDF) into candidate claims",
        description="Writes candidate claims as a YAML block to review; never edits "
        "study.yaml. Patterns are shell-style (SVD*) and ignore case.")
    p.add_argument("source", help="a .md, .tex or .pdf file, or <artifact>:<path inside it> "
                   "(with --study)")
    p.add_argument("--study", help="the study whose fetched artifact holds the source")
    p.add_argument("--out", type=Path, help="write the YAML here (default: print it); an "
                   "existing file is compared with the new candidates first")
    p.add_argument("--previous", type=Path, help="an earlier output to compare with")
    p.add_argument("--table", action="append", default=[], metavar="PATTERN",
                   help="keep only tables whose label matches (repeatable)")
    p.add_argument("--row", action="append", default=[], metavar="PATTERN",
                   help="keep only rows whose label matches (repeatable)")
    p.add_argument("--column", action="append", default=[], metavar="PATTERN",
                   help="keep only columns whose label matches (repeatable)")
    p.add_argument("--metric", action="append", default=[], metavar="COLUMN=NAME",
                   help="the metric key for a column label (repeatable)")
    p.add_argument("--name", action="append", default=[], metavar="LABEL=PART",
                   help="the id part for a table, row or column label (repeatable)")
    p.add_argument("--lower-is-better", action="append", default=[], metavar="METRIC")
    p.add_argument("--higher-is-better", action="append", default=[], metavar="METRIC")
    p.add_argument("--keep-printed-digits", action="store_true",
                   help="never raise a cell's digits to its column's")
    p.set_defaults(func=cmd_claims_extract)


def cmd_claims_extract(args: argparse.Namespace) -> int:
    options = Options(
        tables=args.table, rows=args.row, columns=args.column,
        metrics=_pairs(args.metric, "--metric"), names=_pairs(args.name, "--name"),
        lower_is_better=args.lower_is_better, higher_is_better=args.higher_is_better,
        keep_printed_digits=args.keep_printed_digits)
    entries, provenance = extract_claims(args.source, options, study=args.study,
                                         root=args.root)
    if not entries:
        raise ReplikitError("no numbers found in the chosen tables", where=args.source,
                            fix="check --table/--row/--column, or the file's tables")
    text = render(entries, provenance, _command(args))
    previous = args.previous or (args.out if args.out and args.out.is_file() else None)
    changes = diff(read_previous(previous), [e["claim"] for e in entries]) if previous else None
    if args.out:
        write_text(args.out, text)
        print(f"{len(entries)} candidate claims -> {args.out}")
    else:
        sys.stdout.write(text)
    if changes is not None:
        report = sys.stdout if args.out else sys.stderr
        print(f"changes since {previous}: {len(changes) or 'none'}", file=report)
        for line in changes:
            print(f"  {line}", file=report)
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command as given, every option that shapes the candidates included."""
    words = ["replikit", "claims", "extract", args.source]
    if args.study:
        words += ["--study", args.study]
    for option in ("table", "row", "column", "metric", "name", "lower_is_better",
                   "higher_is_better"):
        for value in getattr(args, option):
            words += [f"--{option.replace('_', '-')}", value]
    if args.keep_printed_digits:
        words.append("--keep-printed-digits")
    return shlex.join(words)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, name = value.rpartition("=")
        if not sep or not key or not name:
            raise ReplikitError(f"{option} takes LABEL=NAME", found=repr(value),
                                fix=f"e.g. {option} 'Movielens 100k=100k'")
        pairs[key] = name
    return pairs
