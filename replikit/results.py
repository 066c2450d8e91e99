"""Everything an output needs, read once: the ledger, samples, runs, artifacts, environment.

The report, the MLRC draft and the letter are outputs: they render results the earlier
stages wrote and compute none. :class:`Results` gathers those files once (through each
stage's own reader) and is handed to every output, so no output reads a results file itself.

It also holds the date the outputs are "as of" (:func:`report_date`): not the wall-clock day
of rendering, or the same results would give a different report tomorrow, but, in order, a
date the workflow sets (``report_date`` in its config), ``SOURCE_DATE_EPOCH`` (the
reproducible-builds convention), or the day the newest run record was written.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from replikit import paths
from replikit.errors import ReplikitError
from replikit.evaluate import cost
from replikit.evaluate.claims_table import REPORT_COLUMNS, as_ledger, read_ledger
from replikit.evaluate.samples import (
    SAMPLE_COLUMNS,
    measurement_samples,
    read_run_record,
    read_samples,
    run_record_files,
)
from replikit.fileio import read_json
from replikit.vocabulary import LEVELS, VERDICTS


@dataclass(frozen=True)
class Facts:
    """The counts and totals every output states, computed once from :class:`Results`.

    An output formats these; it never counts ledger rows or sums run records itself, so the
    report, the MLRC draft, the letter, ``replikit status``, the Zotero note and the site
    cannot disagree.

    Attributes
    ----------
    claims, checks
        Distinct claims in the ledger; ledger rows (one per claim and level).
    verdicts
        ``{level: {verdict: count}}`` over the ledger, levels and verdicts in vocabulary
        order, zero counts left out.
    experiments
        Experiments with at least one run record; ``experiments_ran``: of those, the ones
        with at least one run that completed.
    runs, runs_not_run
        Run records that completed, and those that could not run.
    cpu_hours, wall_hours, gpu_hours, peak_memory_mib
        Totals over every run (:func:`replikit.evaluate.cost.study_total`: the larger of
        the run record and Snakemake's benchmark for each run); None where nothing was
        measured.
    """

    claims: int
    checks: int
    verdicts: dict[str, dict[str, int]]
    experiments: int
    experiments_ran: int
    runs: int
    runs_not_run: int
    cpu_hours: float | None
    wall_hours: float | None
    gpu_hours: float | None
    peak_memory_mib: float | None
    #: The experiments counted in ``experiments``, sorted (an output splits them by kind).
    experiment_names: tuple[str, ...] = ()
    #: Runs on a GPU; runs timed by Snakemake's benchmark too; the largest GPU memory peak.
    gpu_runs: int = 0
    runs_from_benchmarks: int = 0
    peak_gpu_memory_mib: float | None = None

    def verdict_total(self, verdict: str) -> int:
        """Checks with this verdict, over every level."""
        return sum(counts.get(verdict, 0) for counts in self.verdicts.values())


@dataclass(frozen=True)
class Results:
    """A study's results as the outputs read them.

    Attributes
    ----------
    ledger
        The claims ledger, typed (:mod:`replikit.evaluate.claims_table`).
    samples
        The single measurements behind each value claim (``samples.csv``).
    runs, artifacts
        The run records (``metrics.json``) and artifact records.
    env
        The environment record, with the machine's facts also at the top level.
    when
        The date the outputs are as of (None when no output needs one).
    contacts_file
        ``studies/<study>/contacts.yaml``, or None when the study keeps none.
    benchmarks
        ``benchmarks/<study>`` (Snakemake's benchmark files), or None.
    audit
        ``audit.json``: the audit of the paper's code (:mod:`replikit.audit`), or None.
    """

    ledger: pd.DataFrame
    samples: pd.DataFrame
    runs: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    env: dict[str, Any] = field(default_factory=dict)
    when: ReportDate | None = None
    contacts_file: Path | None = None
    benchmarks: Path | None = None
    audit: dict[str, Any] | None = None
    last_run: dt.datetime | None = None

    @cached_property
    def facts(self) -> Facts:
        """The study's counts and totals (:class:`Facts`), computed once."""
        return study_facts(self.ledger, self.runs, self.benchmarks, self.run_costs)

    @cached_property
    def run_costs(self) -> pd.DataFrame:
        """Each run's cost (:func:`replikit.evaluate.cost.run_costs`), read once."""
        return cost.run_costs(self.runs, self.benchmarks)

    @classmethod
    def from_files(cls, ledger: str | Path, samples: str | Path,
                   runs: Iterable[str | Path] = (), artifacts: Iterable[str | Path] = (),
                   env: str | Path | None = None, **given: Any) -> Results:
        """Read each file through its stage's reader (the workflow passes the paths)."""
        runs = [Path(p) for p in runs]
        stamps = [p.stat().st_mtime for p in runs]
        given.setdefault("last_run", dt.datetime.fromtimestamp(max(stamps), tz=dt.UTC)
                         if stamps else None)
        return cls(read_ledger(ledger, REPORT_COLUMNS), read_samples(samples),
                   [read_run_record(p) for p in runs], [read_json(p) for p in artifacts],
                   environment(read_json(env) if env is not None else None), **given)

    @classmethod
    def from_dir(cls, results_dir: str | Path, **given: Any) -> Results:
        """Read ``results/<study>/`` as the workflow leaves it."""
        base = Path(results_dir)
        study = base.name
        env = base / paths.env_record(study).name
        benchmarks = base.parent.parent / paths.BENCHMARKS / study
        given.setdefault("benchmarks", benchmarks if benchmarks.is_dir() else None)
        return cls.from_files(
            base / paths.ledger(study).name, base / paths.samples(study).name,
            run_record_files(base / paths.runs_dir(study).name),
            sorted((base / "artifacts").glob("*.json")),
            env if env.exists() else None, **given)

    @classmethod
    def from_ledger(cls, ledger_csv: str | Path,
                    required: Iterable[str] = REPORT_COLUMNS, **given: Any) -> Results:
        """The ledger and the run records beside it (``results/<study>/runs``), with the
        study's benchmarks where the workflow left them; the samples where written.

        For outputs handed only the ledger's path (the letter, the Zotero note, the status
        printed after a workflow run): they state the same counts and totals as the report.
        """
        ledger_csv = Path(ledger_csv)
        base, study = ledger_csv.parent, ledger_csv.parent.name
        runs = sorted((base / paths.runs_dir(study).name).glob(paths.RUN_RECORD_GLOB))
        benchmarks = base.parent.parent / paths.BENCHMARKS / study
        given.setdefault("benchmarks", benchmarks if benchmarks.is_dir() else None)
        samples = base / paths.samples(study).name
        given.setdefault("samples", read_samples(samples) if samples.exists()
                         else pd.DataFrame(columns=SAMPLE_COLUMNS))
        stamps = [p.stat().st_mtime for p in runs]
        given.setdefault("last_run", dt.datetime.fromtimestamp(max(stamps), tz=dt.UTC)
                         if stamps else None)
        env = base / paths.env_record(study).name
        return cls(read_ledger(ledger_csv, tuple(required)), runs=[read_json(p) for p in runs],
                   env=environment(read_json(env) if env.exists() else None), **given)

    @classmethod
    def in_memory(cls, ledger: pd.DataFrame, runs: Iterable[dict[str, Any]] | None = None,
                  artifacts: Iterable[dict[str, Any]] | None = None,
                  env: dict[str, Any] | None = None, **given: Any) -> Results:
        """Results held in memory (tests, notebooks); samples are taken as the ledger stage
        takes them unless given."""
        ledger = as_ledger(ledger)
        runs = list(runs or [])
        given.setdefault("samples", measurement_samples(ledger, runs))
        return cls(ledger=ledger, runs=runs, artifacts=list(artifacts or []),
                   env=environment(env), **given)


def study_facts(ledger: pd.DataFrame, runs: list[dict[str, Any]],
                benchmarks: str | Path | None = None,
                per_run: pd.DataFrame | None = None) -> Facts:
    """Count the ledger's verdicts and total the runs' cost (see :class:`Facts`)."""
    levels = [lv for lv in LEVELS if lv in set(ledger["level"])]
    levels += sorted(set(ledger["level"]) - set(levels))
    verdicts = {}
    for level in levels:
        counts = ledger.loc[ledger["level"] == level, "verdict"].value_counts()
        named = [v for v in VERDICTS if counts.get(v, 0)]
        verdicts[level] = {v: int(counts[v]) for v in [*named, *sorted(
            set(counts.index) - set(VERDICTS))]}
    if per_run is None:
        per_run = cost.run_costs(runs, benchmarks)
    total = cost.study_total(per_run)
    ran = per_run[per_run["status"] == "ok"]
    return Facts(
        claims=int(ledger["claim_id"].nunique()), checks=int(len(ledger)),
        verdicts=verdicts, experiments=int(per_run["experiment"].nunique()),
        experiments_ran=int(ran["experiment"].nunique()), runs=int(len(ran)),
        runs_not_run=int(len(per_run) - len(ran)), cpu_hours=total["cpu_hours"],
        wall_hours=total["wall_hours"], gpu_hours=total["gpu_hours"],
        peak_memory_mib=total["peak_rss_mb"],
        experiment_names=tuple(sorted(per_run["experiment"].unique())),
        gpu_runs=total["gpu_runs"], runs_from_benchmarks=total["from_benchmarks"],
        peak_gpu_memory_mib=total["peak_gpu_mb"])


def environment(env: dict[str, Any] | None) -> dict[str, Any]:
    """``env.json`` with the machine's facts (cpu, cores, memory, gpu) also at the top.

    :func:`replikit.environment.capture` nests them under ``hardware``; outputs read them
    flat.
    """
    env = dict(env or {})
    machine = env.get("hardware")
    if isinstance(machine, dict):
        env.setdefault("cpu", machine.get("cpu"))
        env.setdefault("cores", machine.get("cores"))
        if machine.get("memory_gb") is not None:
            env.setdefault("memory", f"{machine['memory_gb']} GiB")
        env.setdefault("gpu", machine.get("gpu"))
    return env


SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"


@dataclass(frozen=True)
class ReportDate:
    """A report's date and, in words, where it comes from (printed next to it)."""

    date: dt.date
    origin: str

    def sentence(self) -> str:
        return f"Waiting times are counted up to {self.date.isoformat()}, {self.origin}."


def report_date(
    run_records: Iterable[str | Path] = (),
    configured: str | dt.date | None = None,
    fallback: Iterable[str | Path] = (),
) -> ReportDate:
    """The date a report is "as of", the same every time it is built from the same results.

    Parameters
    ----------
    run_records
        Paths of the study's ``metrics.json`` run records.
    configured
        A date set by the workflow (``report_date`` in its config), ``YYYY-MM-DD``.
    fallback
        Other result files (e.g. the ledger) used when there is no run record.

    Raises
    ------
    ReplikitError
        When the configured date or ``SOURCE_DATE_EPOCH`` cannot be read, or no file exists
        to take a date from.

    Examples
    --------
    >>> report_date(configured="2026-01-31").date
    datetime.date(2026, 1, 31)
    """
    if configured not in (None, ""):
        return ReportDate(_parse_date(configured), "the date set by the workflow's "
                          "'report_date' setting")
    epoch = os.environ.get(SOURCE_DATE_EPOCH)
    if epoch:
        try:
            day = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
        except (ValueError, OverflowError) as exc:
            raise ReplikitError(
                f"{SOURCE_DATE_EPOCH} is not a Unix timestamp", where="environment",
                expected="whole seconds since 1970-01-01, e.g. 1767225600",
                found=repr(epoch), fix=f"set {SOURCE_DATE_EPOCH} to an integer or unset it",
            ) from exc
        return ReportDate(day, f"the date given by {SOURCE_DATE_EPOCH}")
    for files, origin in ((run_records, "the day the newest run record was written"),
                          (fallback, "the day the newest result file was written")):
        stamps = [Path(p).stat().st_mtime for p in files if Path(p).exists()]
        if stamps:
            return ReportDate(dt.datetime.fromtimestamp(max(stamps), tz=dt.UTC).date(), origin)
    raise ReplikitError(
        "no date to count waiting times against", where="results/<study>/runs",
        expected="run records or a 'report_date' setting", found="neither",
        fix="run the workflow's experiments first, or set report_date=YYYY-MM-DD",
    )


def _parse_date(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ReplikitError(
            "the report date is not a date", where="config: report_date",
            expected="YYYY-MM-DD", found=repr(value), fix="e.g. report_date=2026-11-22",
        ) from exc
