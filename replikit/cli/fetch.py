"""``replikit fetch | lock``: a study's artifacts, and the hashes its manifest leaves out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from replikit import paths
from replikit.fetch.artifacts import fetch_artifact, lock_study
from replikit.fetch.cache import CACHE_ENV
from replikit.fetch.lock import lock_path
from replikit.study import load_study


def cmd_fetch(args: argparse.Namespace) -> int:
    study = load_study(args.study, args.root)
    names = args.names or list(study.artifacts)
    failed = 0
    for name in names:
        dest = Path(args.root) / paths.artifact_dest(study.name, name)
        result = fetch_artifact(study, name, dest, cache_dir=args.cache_dir, strict=args.strict)
        print(summary_line(result))
        failed += result["status"] != "ok" and not result["optional"]
    return 1 if failed else 0


def cmd_lock(args: argparse.Namespace) -> int:
    study = load_study(args.study, args.root)
    results = lock_study(study, args.artifact, root=args.root, cache_dir=args.cache_dir)
    for result in results.values():
        print(summary_line(result))
    if not results:
        print(f"{study.name}: every artifact's hash is already known")
    print(f"lock file: {lock_path(study)}")
    return 1 if any(r["status"] != "ok" and not r["optional"] for r in results.values()) else 0


def summary_line(result: dict[str, Any]) -> str:
    """One line per fetch record: the name, ok or unavailable, and where it came from."""
    if result["status"] != "ok":
        return f"{result['name']:<22} unavailable  {result['reason']}"
    source = result["source"] or {}
    via = source.get("ref", "")
    if source.get("member"):
        via += f" [{source['member']}]"
    if result["from_cache"]:
        via += " (cache)"
    return f"{result['name']:<22} ok  {via}  ->  {result['path']}"


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch", help="fetch a study's artifacts into resources/<study>/")
    p.add_argument("study")
    p.add_argument("names", nargs="*", metavar="NAME", help="artifacts (default: all)")
    p.add_argument("--strict", action="store_true",
                   help="fail when an artifact cannot be fetched (default: report it)")
    p.add_argument("--cache-dir", help=f"the shared cache (default: ${CACHE_ENV} or "
                   "~/.cache/replikit)")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("lock", help="fetch artifacts whose hash is unknown; record it in "
                       "studies/<study>/artifacts.lock")
    p.add_argument("study")
    p.add_argument("--artifact", action="append", metavar="NAME",
                   help="lock only this artifact (repeatable)")
    p.add_argument("--cache-dir", help="the shared cache")
    p.set_defaults(func=cmd_lock)
