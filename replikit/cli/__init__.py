"""The ``replikit`` command line: study housekeeping around the Snakemake workflow.

Each command lives in a small function ``cmd_<name>(args) -> int``; feature modules that
bring their own commands register them in :data:`COMMANDS` (see ``_register``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from replikit import __version__, paths
from replikit.errors import ReplikitError
from replikit.fileio import write_text
from replikit.study import json_schema, list_studies, load_study

Command = Callable[[argparse.Namespace], int]
GUIDE = "docs/writing-a-study.md"


def cmd_validate(args: argparse.Namespace) -> int:
    for name in args.studies or list_studies(args.root):
        study = load_study(name, args.root)
        print(f"{study.name}: ok ({len(study.claims)} claims, "
              f"{len(study.experiments)} experiments, {len(study.artifacts)} artifacts)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for name in list_studies(args.root):
        study = load_study(name, args.root)
        print(f"{name:<16} {study.paper.venue:<40} {study.paper.title}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    folder = scaffold_study(args.name, Path(args.root), title=args.title, year=args.year)
    print(f"created {folder}/ from templates/study/; next: edit study.yaml, then "
          f"'replikit validate {args.name}' and 'snakemake -n study={args.name}'")
    print(f"the guide to writing a study: {GUIDE}")
    return 0


def scaffold_study(name: str, root: Path, *, title: str, year: int) -> Path:
    """Copy ``templates/study/`` to ``studies/<name>/``, filling in the name."""
    import jinja2

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise ReplikitError(
            "a study name is letters, digits, '.', '_' and '-'", found=repr(name),
            fix="choose a name like 'bert4rec' or 'resnet-cifar10'",
        )
    folder = root / "studies" / name
    if folder.exists():
        raise ReplikitError("the study exists already", where=str(folder),
                            fix="choose another name, or edit the existing study")
    templates = paths.templates("study")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    folder.mkdir(parents=True)
    for template in sorted(p.name for p in templates.iterdir() if p.is_file()):
        text = env.get_template(template).render(name=name, title=title, year=year)
        write_text(folder / template, text)
    return folder


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="replikit",
        description="Reproducibility studies of ML papers as Snakemake workflows. "
        "Run a whole study with: snakemake --cores 8 study=<name>",
    )
    parser.add_argument("--version", action="version", version=f"replikit {__version__}")
    parser.add_argument("--root", default=".", help="project folder holding studies/ (default: .)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check study manifests against the schema")
    p.add_argument("studies", nargs="*", help="study names (default: all)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("list", help="list the studies")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("new", help="start a study from templates/study/")
    p.add_argument("name", help="folder name under studies/")
    p.add_argument("--title", default="Title of the paper", help="the paper's title")
    p.add_argument("--year", type=int, default=dt.date.today().year,
                   help="the paper's year (default: this year)")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("schema", help="print the manifest's JSON Schema")
    p.set_defaults(func=cmd_schema)

    _register(sub)
    return parser


def _register(sub: argparse._SubParsersAction) -> None:
    """Let feature modules add their commands; each exposes ``add_commands(sub)``."""
    import importlib

    for module in _FEATURE_MODULES:
        importlib.import_module(module).add_commands(sub)


# Modules that contribute commands (each with an ``add_commands(subparsers)`` function).
_FEATURE_MODULES: list[str] = [
    "replikit.fetch.artifacts",
    "replikit.evaluate.ledger",
    "replikit.authors.contacts",
    "replikit.publish.letter",
    "replikit.authors.zotero",
]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ReplikitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

