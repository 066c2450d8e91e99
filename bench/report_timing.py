"""Time the report for a Surprise-sized fake study (66 claims): source, HTML, PDF, DOCX, LaTeX.

Run from the repository root:
    PYTHONPATH=.:tests python bench/report_timing.py [n_algorithms=22] [--keep DIR]

Uses the fixture builder of tests/_report_helpers.py (22 algorithms x RMSE, MAE and time =
66 claims, 44 of them value claims with measurements). Prints seconds per step; the numbers
depend on the machine and are never asserted anywhere.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _report_helpers import RULES, build_results

from replikit.publish.render import render
from replikit.publish.report import write_report_from_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_algorithms", nargs="?", type=int, default=22)
    parser.add_argument("--keep", type=Path, help="write into this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        results = build_results(root, args.n_algorithms)
        started = time.perf_counter()
        qmd = write_report_from_results(results["study"], results["results"], RULES,
                                        root / "reports" / "fakestudy")
        source_s = time.perf_counter() - started
        timings: dict[str, float] = {}
        render(qmd, ("html", "pdf", "docx", "latex"), engine="pandoc", timings=timings)
        print(f"claims: {results['ledger']['claim_id'].nunique()}, "
              f"ledger rows: {len(results['ledger'])}")
        print(f"report source (qmd, figures, tables): {source_s:6.2f} s")
        for fmt, seconds in timings.items():
            print(f"render {fmt:<5}: {seconds:6.2f} s")


if __name__ == "__main__":
    main()
