"""What every public export of a study shares: its contact section and its redaction.

The report (HTML, PDF, DOCX) and the MLRC draft are built from the same precomputed
results (:class:`replikit.results.Results`, which also holds their date,
:func:`replikit.results.report_date`). Two things they need are decided here, once:

* :func:`communication_markdown`: the report's section on communication with the authors,
  from ``studies/<study>/contacts.yaml`` (:func:`replikit.publish.communication.contacts_markdown`).
* :func:`redact_text`: e-mail addresses withheld unless the study sets
  ``report.redact_emails: false``.
"""

from __future__ import annotations

from pathlib import Path

from replikit.publish.communication import contacts_markdown
from replikit.results import ReportDate
from replikit.study import Study
from replikit.study.contacts import Contacts, load_contacts, redact


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


__all__ = ["communication_markdown", "redact_text", "study_contacts"]
