"""What the site shows, gathered once: every study with results, its facts and its state.

Each study's numbers come from its :class:`replikit.results.Results` (``facts``, ``ledger``,
``artifacts``, ``last_run``); the exchange with its authors from
:func:`replikit.authors.contacts.contact_state`; unavailable artifacts from
:func:`replikit.fetch.records.unavailable`. Nothing here counts ledger rows or reads a run
record itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from replikit import paths
from replikit.authors.contacts import ContactState, contact_state
from replikit.authors.zotero_collection import CollectionView
from replikit.errors import ReplikitError
from replikit.fetch.records import unavailable
from replikit.results import ReportDate, Results, report_date
from replikit.study import Study, load_study
from replikit.study.contacts import contacts_path, load_contacts
from replikit.vocabulary import NOT_REPRODUCED

#: The field of a study whose manifest names none (``paper.field``).
UNFILED = "unfiled"


@dataclass(frozen=True)
class Entry:
    """One study on the site: its manifest, results, contact state and outputs."""

    study: Study
    results: Results
    contact: ContactState
    outputs: dict[str, Path]  # label -> file in reports/<study>/, where it exists

    @property
    def name(self) -> str:
        return self.study.name

    @property
    def field(self) -> str:
        return self.study.paper.field or UNFILED

    @property
    def unavailable(self) -> list[dict]:
        return unavailable(self.results.artifacts)

    @property
    def attention(self) -> list[str]:
        """Why the group should look at this study now (empty: nothing pressing)."""
        why = []
        red = self.results.facts.verdict_total(NOT_REPRODUCED)
        if red:
            why.append(f"{red} check{'s' if red != 1 else ''} {NOT_REPRODUCED}")
        if self.contact.overdue:
            why.append(f"authors' reply overdue ({self.contact.days} days)")
        if self.unavailable:
            n = len(self.unavailable)
            why.append(f"{n} artifact{'s' if n != 1 else ''} unavailable")
        return why

    @property
    def last_activity(self) -> dt.date | None:
        """The newest of its last run and its last message to or from the authors."""
        days = [d for d in (self.results.last_run.date() if self.results.last_run else None,
                            self.contact.last_message) if d is not None]
        return max(days, default=None)


@dataclass(frozen=True)
class Portfolio:
    """The studies with results (``entries``), every study's manifest, the date waiting
    times count to, and (with ``--zotero``) the group's Zotero collection."""

    entries: list[Entry]
    as_of: ReportDate
    studies: list[Study] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)   # results with no manifest
    zotero: CollectionView | None = None

    @property
    def without_results(self) -> list[str]:
        shown = {e.name for e in self.entries}
        return [s.name for s in self.studies if s.name not in shown]


#: Where each of a study's outputs lies, below ``reports/<study>/`` (first match wins).
OUTPUTS = {
    "report": ["report.html", "report.pdf"],
    "claims detail": [f"{paths.CLAIMS_DETAIL}.html"],
    "letter to the authors": ["letter/*.txt", "letter/*.eml"],
    "MLRC draft": ["mlrc/main.pdf", "mlrc/main.tex"],
}


def study_outputs(reports: Path) -> dict[str, Path]:
    """The outputs the workflow and ``replikit letter`` left in ``reports/<study>/``."""
    found = {}
    for label, patterns in OUTPUTS.items():
        for pattern in patterns:
            hits = sorted(reports.glob(pattern))
            if hits:
                found[label] = hits[0]
                break
    return found


def gather(root: str | Path = ".", *, today: str | dt.date | None = None) -> Portfolio:
    """Every study under ``root/studies`` and ``root/results``, read once.

    ``today`` is the date waiting times count to; by default, as for a report
    (:func:`replikit.results.report_date`), the day the newest run record was written.
    """
    root = Path(root)
    manifests = {p.parent.name for p in (root / paths.STUDIES).glob(f"*/{paths.MANIFEST}")}
    with_results = {p.parent.name for p in (root / paths.RESULTS).glob(
        f"*/{paths.ledger('x').name}")}
    names = sorted(manifests & with_results)
    if not names:
        raise ReplikitError(
            "no study has results to show", where=str(root / paths.RESULTS),
            expected=f"results/<study>/{paths.ledger('x').name} for a study in "
                     f"{paths.STUDIES}/", found=f"{len(manifests)} manifest(s), no ledger",
            fix="run a study first: snakemake --cores 2 study=<name>")
    records = [p for name in names for p in
               (root / paths.runs_dir(name)).glob(paths.RUN_RECORD_GLOB)]
    as_of = report_date(records, today,
                        fallback=[root / paths.ledger(name) for name in names])
    studies = {name: load_study(name, root) for name in sorted(manifests)}
    entries = [_entry(root, studies[name], as_of.date) for name in names]
    return Portfolio(entries=entries, as_of=as_of, studies=list(studies.values()),
                     orphans=sorted(with_results - manifests))


def _entry(root: Path, study: Study, today: dt.date) -> Entry:
    name = study.name
    log = contacts_path(name, root)
    contacts = load_contacts(log, [c.id for c in study.claims]) if log.exists() else None
    results = Results.from_dir(root / paths.results_dir(name),
                               contacts_file=log if log.exists() else None)
    return Entry(study=study, results=results, contact=contact_state(contacts, today),
                 outputs=study_outputs(root / paths.reports_dir(name)))
