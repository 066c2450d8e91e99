"""Tests for replikit.publish.exports: the report's date, its contact section, e-mail redaction."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from _report_helpers import study_dict

from replikit.errors import ReplikitError
from replikit.publish.exports import communication_markdown, redact_text
from replikit.results import SOURCE_DATE_EPOCH, ReportDate, report_date
from replikit.study import Study, load_study
from replikit.workflow import contact_log, final_outputs, optional_file, study_notes


def _file_dated(path: Path, day: dt.date) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}", encoding="utf-8")
    stamp = dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC).timestamp()
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def no_epoch(monkeypatch):
    monkeypatch.delenv(SOURCE_DATE_EPOCH, raising=False)


def test_date_is_the_newest_run_record(tmp_path, no_epoch):
    runs = [_file_dated(tmp_path / f"r{i}.json", dt.date(2026, 3, d))
            for i, d in enumerate((4, 19, 7))]
    when = report_date(runs)
    assert when == ReportDate(dt.date(2026, 3, 19), "the day the newest run record was written")
    assert report_date(runs).date == when.date  # the same results, the same date


def test_configured_date_and_source_date_epoch_come_first(tmp_path, monkeypatch):
    runs = [_file_dated(tmp_path / "r.json", dt.date(2026, 3, 4))]
    monkeypatch.setenv(SOURCE_DATE_EPOCH, "1767225600")  # 2026-01-01 00:00 UTC
    assert report_date(runs).date == dt.date(2026, 1, 1)
    assert SOURCE_DATE_EPOCH in report_date(runs).origin
    assert report_date(runs, "2025-12-24").date == dt.date(2025, 12, 24)


def test_fallback_and_errors(tmp_path, monkeypatch, no_epoch):
    ledger = _file_dated(tmp_path / "claims.csv", dt.date(2026, 2, 2))
    assert report_date([tmp_path / "missing.json"], fallback=[ledger]).date == dt.date(2026, 2, 2)
    with pytest.raises(ReplikitError, match="no date to count waiting times against"):
        report_date([])
    with pytest.raises(ReplikitError, match="report_date.*\n.*YYYY-MM-DD"):
        report_date([], "22.11.2026")
    monkeypatch.setenv(SOURCE_DATE_EPOCH, "yesterday")
    with pytest.raises(ReplikitError, match="not a Unix timestamp"):
        report_date([ledger])


def test_surprise_says_no_contact_yet():
    study = load_study("surprise")
    section = communication_markdown(study, "studies/surprise/contacts.yaml",
                                     ReportDate(dt.date(2026, 11, 22), "a test date"))
    assert section.startswith("## Communication with the original authors")
    assert "**No contact yet.**" in section and "Nicolas Hug" in section
    assert "Waiting times are counted up to 2026-11-22, a test date." in section


def test_a_study_without_a_log_says_so(tmp_path):
    study = Study.model_validate(study_dict(1))
    section = communication_markdown(study, tmp_path / "contacts.yaml",
                                     ReportDate(dt.date(2026, 1, 1), "x"))
    assert "keeps no contact log" in section and "studies/fakestudy/contacts.yaml" in section


def test_redaction_follows_the_study():
    text = "write to ada@example.org"
    hidden = Study.model_validate(study_dict(1))
    shown = Study.model_validate({**study_dict(1), "report": {"redact_emails": False}})
    assert redact_text(hidden, text) == "write to [e-mail withheld]"
    assert redact_text(shown, text) == text


def test_workflow_targets_and_optional_inputs():
    assert final_outputs("surprise", ["html", "docx"], mlrc=True) == [
        "reports/surprise/report.html", "reports/surprise/report.docx",
        "reports/surprise/claims-detail.html", "reports/surprise/mlrc/main.tex"]
    assert final_outputs("surprise", ["pdf"]) == ["reports/surprise/report.pdf",
                                                  "reports/surprise/claims-detail.html"]
    assert contact_log("surprise") == ["studies/surprise/contacts.yaml"]
    assert contact_log("no-such-study") == []
    assert study_notes("surprise") == [f"studies/surprise/notes/{n}.md" for n in
                                       ("difficult", "discussion", "easy", "introduction")]
    assert optional_file([]) is None and optional_file("a.yaml") == "a.yaml"
    assert optional_file(["a.yaml"]) == "a.yaml"
