"""``replikit new | validate | list | schema``: starting and checking study manifests."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
from pathlib import Path

from replikit.errors import ReplikitError
from replikit.study import json_schema, list_studies, load_study
from replikit.study.check import check_profiles, check_study_files
from replikit.study.scaffold import scaffold_study

GUIDE = "docs/writing-a-study.md"
TITLE = "Title of the paper"


def cmd_validate(args: argparse.Namespace) -> int:
    names = args.studies or list_studies(args.root)
    if not names:
        raise ReplikitError(
            "there is no study to validate", where=str(Path(args.root) / "studies"),
            expected="folders studies/<name>/ each with a study.yaml",
            found="none", fix="run replikit from the project folder (or give --root), "
            "or start a study with 'replikit new <name>'")
    for name in names:
        study = check_study_files(name, args.root)
        print(f"{study.name}: ok ({len(study.claims)} claims, "
              f"{len(study.experiments)} experiments, {len(study.artifacts)} artifacts; "
              "contact log, notes and lock file checked)")
    profiles = check_profiles(args.root)
    if profiles:
        print(f"profiles: ok ({', '.join(str(p) for p in profiles)})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for name in list_studies(args.root):
        study = load_study(name, args.root)
        print(f"{name:<16} {study.paper.venue:<40} {study.paper.title}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    if args.from_pypi:
        return _new_from(args)
    folder = scaffold_study(args.name, Path(args.root), title=args.title or TITLE,
                            year=args.year or dt.date.today().year)
    print(f"created {folder}/ from templates/study/; next: edit study.yaml, then "
          f"'replikit validate {args.name}' and 'snakemake -n study={args.name}'")
    print(f"the guide to writing a study: {GUIDE}")
    return 0


def _new_from(args: argparse.Namespace) -> int:
    from replikit.draft import draft_study

    paper = {"title": args.title, "authors": args.authors, "venue": args.venue,
             "year": args.year, "doi": args.doi, "arxiv": args.arxiv}
    manifest, notes = draft_study(args.name, Path(args.root), requirement=args.from_pypi,
                                  claims_path=args.claims, paper=paper,
                                  command=_new_command(args))
    print(f"wrote the draft {manifest} (code locked, candidate claims, experiments, audit)")
    for note in notes:
        print(f"  {note}")
    print(f"next: fill in the runners, review the claims, 'snakemake --cores 2 "
          f"study={args.name}'; the guide to writing a study: {GUIDE}")
    return 0


def _new_command(args: argparse.Namespace) -> str:
    """The command as given (its options in a fixed order), for the manifest's header."""
    words = ["replikit", "new", args.name, "--from", args.from_pypi]
    for option in ("claims", "title", "venue", "year", "doi", "arxiv"):
        value = getattr(args, option)
        if value is not None:
            words += [f"--{option}", str(value)]
    if args.authors:
        words += ["--authors", *args.authors]
    return shlex.join(words)


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate", help="check manifests, contact logs, notes, lock files and profiles")
    p.add_argument("studies", nargs="*", help="study names (default: all)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("list", help="list the studies")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "new", help="start a study from templates/study/, or draft one from a package",
        description="Without --from: a study folder from templates/study/. With --from: a "
        "draft from the paper's code on the package index (pip's configured index; the "
        "download lands in the cache, $REPLIKIT_CACHE or ~/.cache/replikit): the code "
        "locked as an sdist to read and audit and as an installed package for the runners, "
        "candidate claims from a results table, one experiment and runner stub per method, "
        "the audit. Paper fields not given are read from the package's README citation and "
        "metadata, else left as TODO.",
        epilog="example: replikit new ebm --from interpret-core==0.7.8 --claims README.md")
    p.add_argument("name", help="folder name under studies/")
    p.add_argument("--title", help=f"the paper's title (default: {TITLE!r}; with --from, "
                   "the README's citation)")
    p.add_argument("--year", type=int, help="the paper's year (default: this year; with "
                   "--from, the README's citation)")
    p.add_argument("--from", dest="from_pypi", metavar="NAME==VERSION",
                   help="draft the study from the paper's code on the package index: lock it, "
                   "read claims from --claims, draft experiments, audit it")
    p.add_argument("--claims", metavar="PATH", help="with --from: the file with the results "
                   "table, relative to the package's top folder (README.md, docs/results.md, "
                   "paper/main.tex); left out, the sdist's files with tables are listed (or "
                   "the only one is read)")
    p.add_argument("--authors", nargs="+", help="the paper's authors")
    p.add_argument("--venue", help="venue and year, e.g. 'NeurIPS 2021'")
    p.add_argument("--doi", help="the paper's DOI")
    p.add_argument("--arxiv", help="the paper's arXiv identifier")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("schema", help="print the manifest's JSON Schema")
    p.set_defaults(func=cmd_schema)
