"""What every public export of a study shares: its date, its contact section, its redaction.

The report (HTML, PDF, DOCX) and the MLRC draft are built from the same precomputed
results. Three things they need are decided here, once:

* :func:`report_date`: the date against which waiting times in the contact log are counted.
  It must not be the wall-clock day of rendering, or the same results would give a different
  report tomorrow. It is, in order: a date the workflow sets (``report_date`` in its config),
  ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention), or the day the newest run
  record was written. The report says which.
* :func:`communication_markdown`: the report's section on communication with the authors,
  from ``studies/<study>/contacts.yaml`` (:func:`replikit.publish.communication.contacts_markdown`).
* :func:`redact_text`: e-mail addresses withheld unless the study sets
  ``report.redact_emails: false``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from replikit.errors import ReplikitError
from replikit.publish.communication import contacts_markdown
from replikit.study import Study
from replikit.study.contacts import Contacts, load_contacts, redact

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
    for paths, origin in ((run_records, "the day the newest run record was written"),
                          (fallback, "the day the newest result file was written")):
        stamps = [Path(p).stat().st_mtime for p in paths if Path(p).exists()]
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


def study_contacts(study: Study, contacts_file: str | Path | None) -> Contacts | None:
    """The study's contact log, checked against its claims; None when it keeps none."""
    if contacts_file is None or not Path(contacts_file).exists():
        return None
    return load_contacts(contacts_file, [c.id for c in study.claims])


def communication_markdown(
    study: Study, contacts_file: str | Path | None, when: ReportDate
) -> str:
    """The report's "Communication with the original authors" section, as Markdown.

    A study without a contact log says so; one whose log has no messages says "no contact
    yet" (both honestly, never as a blank). The date the waiting times count up to is named.
    """
    contacts = study_contacts(study, contacts_file)
    if contacts is None:
        return ("## Communication with the original authors\n\n"
                f"This study keeps no contact log (`studies/{study.name}/contacts.yaml`), so "
                "nothing is known here about contact with the authors.\n")
    section = contacts_markdown(contacts, study.claims, when.date,
                                window_days=contacts.window_days,
                                redact_emails=study.report.redact_emails)
    return section.rstrip() + "\n\n" + when.sentence() + "\n"


def redact_text(study: Study, text: str) -> str:
    """``text`` with e-mail addresses withheld, unless the study publishes them."""
    return redact(text) if study.report.redact_emails else text


__all__ = ["ReportDate", "communication_markdown", "redact_text", "report_date",
           "study_contacts"]
