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
from pathlib import Path
from typing import Any

import pandas as pd

from replikit import paths
from replikit.errors import ReplikitError
from replikit.evaluate.claims_table import REPORT_COLUMNS, as_ledger, read_ledger
from replikit.evaluate.samples import (
    measurement_samples,
    read_run_record,
    read_samples,
    run_record_files,
)
from replikit.fileio import read_json


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

    @classmethod
    def from_files(cls, ledger: str | Path, samples: str | Path,
                   runs: Iterable[str | Path] = (), artifacts: Iterable[str | Path] = (),
                   env: str | Path | None = None, **given: Any) -> Results:
        """Read each file through its stage's reader (the workflow passes the paths)."""
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
