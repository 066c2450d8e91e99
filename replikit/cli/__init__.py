"""The ``replikit`` command line: study housekeeping around the Snakemake workflow.

One module per command group (``study``, ``fetch``, ``status``, ``extract``, ``audit``,
``contacts``, ``letter``, ``zotero``, ``site``); each command is a small function
``cmd_<name>(args) -> int`` that calls the domain modules, and each group adds its
commands with ``add_commands(subparsers)``. Domain modules build no parser and import
nothing from here.
"""

from __future__ import annotations

import argparse
import os
import sys

from replikit import __version__
from replikit.cli import audit, contacts, extract, fetch, letter, site, status, study, zotero
from replikit.errors import ReplikitError

GROUPS = (study, fetch, status, extract, audit, contacts, letter, zotero, site)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="replikit",
        description="Reproducibility studies of ML papers as Snakemake workflows. "
        "Run a whole study with: snakemake --cores 8 study=<name>",
    )
    parser.add_argument("--version", action="version", version=f"replikit {__version__}")
    parser.add_argument("--root", default=".", help="project folder holding studies/ (default: .)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(sub)
    return parser


def check_root(root: str) -> None:
    """``--root`` must be a folder that exists: a typo must not look like an empty project."""
    if not os.path.isdir(root):
        raise ReplikitError(
            "the project folder does not exist", where=f"--root {root}",
            expected="a folder holding studies/", found="no folder at that path",
            fix="correct the path given to --root (or create the folder first)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_root(args.root)
        code = args.func(args)
        sys.stdout.flush()  # inside the try: a closed pipe shows here, not at exit
        return code
    except ReplikitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. `replikit status | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
