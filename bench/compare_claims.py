"""Do two revisions give the same claims? Run the shipped studies at both and compare ledgers.

A change that should not move a result (a refactoring, a new output) must leave every
study's ``results/<study>/claims.csv`` as it was. This script clones the repository twice
into a temporary folder, checks out ``BASE`` and ``HEAD``, runs
``snakemake --cores N study=<study> results/<study>/claims.csv`` in each clone (both
sharing one artifact cache, ``$REPLIKIT_CACHE``, so nothing is downloaded twice), and
compares the two ledgers row by row (a row is one claim at one level).

Time claims measure wall time, which no two runs share: for them only the columns that do
not come from the measured seconds are compared (see :data:`MEASURED_TIME_COLUMNS`).

Usage, from the repository root (about 50 minutes for both studies on 2 cores)::

    python bench/compare_claims.py main            # main against the current HEAD
    python bench/compare_claims.py v1 v2 --studies surprise --cores 4 --keep

Exit status: 0 when every ledger is the same, 1 when a row differs, 2 when a run fails.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STUDIES = ("bert4rec", "surprise")
KEY = ("claim_id", "level")

#: Columns of a time claim that follow from the measured seconds, hence differ between any
#: two runs; the rest of its row (experiment, reported value, band, seeds...) must agree.
MEASURED_TIME_COLUMNS = frozenset({
    "mean", "sd", "ci_low", "ci_high", "drift_abs", "drift_rel", "p_value", "p_difference",
    "p_adjusted", "p_wilcoxon", "seeds_needed", "verdict", "reason", "mean_a", "mean_b",
    "effect_size", "effect_ci_low", "effect_ci_high",
})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the revision before the change (a commit, branch or tag)")
    parser.add_argument("head", nargs="?", default="HEAD", help="the revision after (HEAD)")
    parser.add_argument("--studies", nargs="+", default=list(STUDIES), help="studies to run")
    parser.add_argument("--cores", type=int, default=2, help="snakemake --cores (2)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the clones go (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the clones afterwards")
    return parser.parse_args(argv)


def resolve(revision: str, repo: Path = REPO) -> str:
    """The full commit hash of ``revision`` in ``repo``."""
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet",
                           f"{revision}^{{commit}}"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"compare_claims: {revision!r} is not a commit of {repo}")
    return done.stdout.strip()


def clone(commit: str, dest: Path, repo: Path = REPO) -> Path:
    """A fresh clone of ``repo`` at ``commit`` (committed files only, as CI sees them)."""
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(repo), str(dest)],
                   check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", "--detach", commit],
                   check=True)
    return dest


def snakemake_command() -> list[str]:
    """Snakemake of this Python environment (beside the interpreter), else the one on PATH."""
    beside = Path(sys.executable).with_name("snakemake")
    found = str(beside) if beside.exists() else shutil.which("snakemake")
    if found is None:
        raise SystemExit("compare_claims: snakemake not found; run 'make setup' first")
    return [found]


def run_study(checkout: Path, study: str, cores: int, cache: Path) -> Path:
    """Build ``results/<study>/claims.csv`` in ``checkout``; its path, or exit 2 on failure.

    ``PYTHONPATH`` points at the checkout, so its own ``replikit`` and ``studies`` are run
    rather than those of an editable install elsewhere.
    """
    target = f"results/{study}/claims.csv"
    env = dict(os.environ, PYTHONPATH=str(checkout), REPLIKIT_CACHE=str(cache))
    command = snakemake_command() + ["--cores", str(cores), f"study={study}", target]
    print(f"compare_claims: {checkout.name}: {' '.join(command[1:])}", flush=True)
    done = subprocess.run(command, cwd=checkout, env=env)
    if done.returncode != 0:
        print(f"compare_claims: the run of {study} failed in {checkout}", file=sys.stderr)
        raise SystemExit(2)
    return checkout / target


def read_rows(path: Path) -> tuple[list[str], dict[tuple[str, ...], dict[str, str]]]:
    """The ledger's header and its rows keyed by (claim_id, level)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = {tuple(row[k] for k in KEY): row for row in reader}
        return list(reader.fieldnames or []), rows


def compare(before: Path, after: Path) -> list[str]:
    """Every difference between two ledgers, one line each; empty when they agree.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> header = "claim_id,level,kind,mean,verdict\\n"
    >>> _ = (folder / "a.csv").write_text(header + "C1,re-run,value,0.5,reproduced\\n"
    ...                                   "T1,re-run,time,6.1,reproduced\\n")
    >>> _ = (folder / "b.csv").write_text(header + "C1,re-run,value,0.6,reproduced\\n"
    ...                                   "T1,re-run,time,5.9,not reproduced\\n")
    >>> compare(folder / "a.csv", folder / "a.csv")
    []
    >>> compare(folder / "a.csv", folder / "b.csv")
    ['C1 re-run: mean 0.5 -> 0.6']
    """
    header_a, rows_a = read_rows(before)
    header_b, rows_b = read_rows(after)
    differences = []
    if header_a != header_b:
        differences.append(f"columns: {header_a} -> {header_b}")
    for key in sorted(rows_a.keys() - rows_b.keys()):
        differences.append(f"{' '.join(key)}: only before")
    for key in sorted(rows_b.keys() - rows_a.keys()):
        differences.append(f"{' '.join(key)}: only after")
    for key in sorted(rows_a.keys() & rows_b.keys()):
        a, b = rows_a[key], rows_b[key]
        skip = MEASURED_TIME_COLUMNS if a.get("kind") == "time" else frozenset()
        for column in header_a:
            if column in skip or column in KEY or a.get(column) == b.get(column):
                continue
            differences.append(f"{' '.join(key)}: {column} {a.get(column)} -> {b.get(column)}")
    return differences


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    commits = {"base": resolve(args.base), "head": resolve(args.head)}
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="replikit-compare-"))
    cache = Path(os.environ.get("REPLIKIT_CACHE", Path.home() / ".cache" / "replikit"))
    print(f"compare_claims: base {commits['base'][:12]}, head {commits['head'][:12]}, "
          f"in {workdir}, cache {cache}", flush=True)
    try:
        checkouts = {label: clone(commit, workdir / label)
                     for label, commit in commits.items()}
        failed = False
        for study in args.studies:
            ledgers = {label: run_study(path, study, args.cores, cache)
                       for label, path in checkouts.items()}
            differences = compare(ledgers["base"], ledgers["head"])
            print(f"{study}: {'same claims' if not differences else 'DIFFERENT'}")
            for line in differences:
                print(f"  {line}")
            failed = failed or bool(differences)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
