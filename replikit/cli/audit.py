"""``replikit audit <study> <artifact>``: audit the original code, write audit.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from replikit import paths
from replikit.audit import audit_artifact, audit_path
from replikit.audit.text import findings_markdown
from replikit.errors import ReplikitError
from replikit.fileio import read_json, write_json


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="audit a study's original code for reproducibility "
                       "problems; writes results/<study>/audit.json")
    p.add_argument("study", help="the study (or, with --path, a name for the output)")
    p.add_argument("artifact", nargs="?", help="the code artifact, as fetched by the workflow")
    p.add_argument("--path", type=Path, help="audit this folder or archive (sdist, wheel) "
                   "instead of a fetched artifact")
    p.add_argument("--markdown", action="store_true", help="print the findings as Markdown")
    p.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if args.path is not None:
        out = write_json(root / paths.audit(args.study),
                         {**audit_path(args.path), "study": args.study,
                          "path": str(args.path)})
    else:
        if not args.artifact:
            raise ReplikitError("nothing to audit", expected="an artifact name or --path",
                                fix=f"replikit audit {args.study} <artifact>")
        out = audit_artifact(args.study, args.artifact, root)
    audit = read_json(out)
    if args.markdown:
        print(findings_markdown(audit))
    counts = ", ".join(f"{k} {v}" for k, v in audit["counts"].items())
    print(f"{len(audit['findings'])} findings ({counts}) -> {out}")
    return 0
