"""Every path of a study's layout, named once.

The workflow's rules, the stages that write files and the outputs that read them all take
their paths from here; nothing else spells ``seed=`` or ``results/<study>``. Paths are
relative to the project folder (where Snakemake runs), so they can appear in reports and
records without naming the machine.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path("results")
REPORTS = Path("reports")
RESOURCES = Path("resources")
LOGS = Path("logs")
BENCHMARKS = Path("benchmarks")
STUDIES = Path("studies")
MANIFEST = "study.yaml"
CONTACTS = "contacts.yaml"
ARTIFACTS_LOCK = "artifacts.lock"
TEMPLATES = Path(__file__).resolve().parent / "templates"


#: The reading group's portfolio site over every study (``replikit site``).
SITE = REPORTS / "site"


def study_dir(study: str) -> Path:
    return STUDIES / study


def results_dir(study: str) -> Path:
    return RESULTS / study


def reports_dir(study: str) -> Path:
    return REPORTS / study


def artifact_record(study: str, artifact: str) -> Path:
    return RESULTS / study / "artifacts" / f"{artifact}.json"


def artifact_dest(study: str, artifact: str) -> Path:
    """Where a fetched artifact is placed for the runs (a file or a folder)."""
    return RESOURCES / study / artifact


def runs_dir(study: str) -> Path:
    return RESULTS / study / "runs"


def seed_folder(seed: int) -> str:
    """The one spelling of a seed in a path: ``seed=<s>``."""
    return f"seed={seed}"


def run_record(study: str, experiment: str, seed: int) -> Path:
    return runs_dir(study) / experiment / seed_folder(seed) / "metrics.json"


RUN_RECORD_GLOB = "*/seed=*/metrics.json"  # run records below runs_dir(study)


def run_benchmark(benchmarks: str | Path, experiment: str, seed: int) -> Path:
    """Snakemake's ``benchmark:`` file of one run, below ``benchmarks/<study>``."""
    return Path(benchmarks) / "runs" / experiment / f"{seed_folder(seed)}.tsv"


def env_record(study: str) -> Path:
    return RESULTS / study / "env.json"


def audit(study: str) -> Path:
    """Findings of ``replikit audit`` on the study's original code."""
    return RESULTS / study / "audit.json"


def ledger(study: str) -> Path:
    return RESULTS / study / "claims.csv"


def samples(study: str) -> Path:
    """The single measurements behind each value claim, written with the ledger."""
    return RESULTS / study / "samples.csv"


def report(study: str, fmt: str) -> Path:
    return REPORTS / study / f"report.{fmt}"


#: The report's companion page with every claim's numbers, beside ``report.qmd``.
CLAIMS_DETAIL = "claims-detail"


def claims_detail(study: str, fmt: str) -> Path:
    """``reports/<study>/claims-detail.<fmt>`` (``qmd`` for the source)."""
    return reports_dir(study) / f"{CLAIMS_DETAIL}.{fmt}"


def mlrc_draft(study: str) -> Path:
    return REPORTS / study / "mlrc" / "main.tex"


LAST_GOOD = ".last-good"


def last_good(output: str | Path) -> Path:
    """Where a workflow job keeps a copy of its output once it succeeds: a failing rerun
    (whose outputs Snakemake deletes) never takes the last good result with it."""
    output = Path(output)
    return output.parent / LAST_GOOD / output.name


def project_relative(path: str | Path, fallback: str) -> str:
    """``path`` relative to the project folder (where Snakemake runs), or ``fallback`` when it
    lies elsewhere: outputs never name the machine's folders."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return fallback


def templates(kind: str) -> Path:
    """A folder of package templates: ``report``, ``mlrc``, ``letter`` or ``study``."""
    return TEMPLATES / kind
