"""Letters to the authors: the .eml parsed back, and sending to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
from pathlib import Path

import pytest
import yaml

from replikit import cli
from replikit.authors.mail import Sender, SmtpSettings, send_letter, smtp_settings_from_env
from replikit.errors import ReplikitError
from replikit.publish.letter import format_measured, write_letter
from replikit.study import load_study
from replikit.study.contacts import load_contacts
from tests._smtp_helpers import smtp_server

REPO = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 3, 2)
PDF = b"%PDF-1.4\n% fixture report\n" + bytes(range(256)) + b"\n%%EOF\n"

MANIFEST = """\
schema_version: 1
name: toy
summary: >-
  We re-run the fictional paper's code and re-implement its model.
paper:
  title: "Toy results on toy data"
  authors: [Ada Example, Bo Sample]
  venue: Journal of Examples 2024
  year: 2024
hardware:
  declared: {cpu: a laptop}
experiments:
  orig: {description: the original code, implementation: original, runner: run.py:run, seeds: 1}
  ours: {description: our model, implementation: reimplementation, runner: run.py:run, seeds: 5}
claims:
  - id: C1
    text: "Accuracy is 0.90 on ToySet"
    source: Table 1
    metric: accuracy
    reported: 0.9
    decimals: 2
    tolerance: {absolute: 0.01}
    levels: {re-run: orig, re-implement: ours}
  - id: C2
    text: "Training takes 6 s"
    source: Table 2
    kind: time
    metric: time_s
    reported: 6
    decimals: 0
    tolerance: {relative: 0.5}
    levels: {re-run: orig}
"""

CONTACTS = """\
schema_version: 1
study: toy
authors:
  - {name: Ada Example, role: corresponding author, email: ada@example.org,
     affiliation: Example University}
  - {name: Bo Sample, role: second author, affiliation: Example Institute}
messages:
  - id: m1
    date: 2026-01-05
    direction: sent
    authors: [Ada Example]
    subject: Which split did Table 1 use?
    summary: Asked for the split of ToySet.
    questions:
      - {id: q1, text: "Which random split of ToySet does Table 1 use?", claims: [C1]}
"""

LEDGER = """\
claim_id,level,experiment,metric,reported,n,mean,sd,ci_low,ci_high,verdict,reason
C1,re-run,orig,accuracy,0.9,1,0.8991,,,,reproduced,within 0.01
C1,re-implement,ours,accuracy,0.9,5,0.8712,0.0043,0.8659,0.8771,not reproduced,0.029 below
C2,re-run,orig,time_s,6,1,,,,,not run,needs the paper's laptop
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    study = tmp_path / "studies" / "toy"
    study.mkdir(parents=True)
    (study / "study.yaml").write_text(MANIFEST)
    (study / "contacts.yaml").write_text(CONTACTS)
    (tmp_path / "results" / "toy").mkdir(parents=True)
    (tmp_path / "results" / "toy" / "claims.csv").write_text(LEDGER)
    (tmp_path / "reports" / "toy").mkdir(parents=True)
    (tmp_path / "reports" / "toy" / "report.pdf").write_bytes(PDF)
    return tmp_path


def _letter(project: Path, sender: Sender | None = None) -> tuple[Path, Path]:
    study = load_study("toy", project)
    contacts = load_contacts(project / "studies/toy/contacts.yaml", ["C1", "C2"])
    return write_letter(study, contacts, project / "results/toy/claims.csv",
                        project / "reports/toy/report.pdf", project / "out", today=TODAY,
                        sender=sender)


def _parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def _body(msg: email.message.EmailMessage) -> str:
    """The plain-text body with the wire's CRLF line ends turned into newlines."""
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_letter_parses_back_with_verdicts_numbers_questions_and_the_pdf(project):
    eml, txt = _letter(project, Sender("Carla Team", "carla@example.org"))
    msg = _parse(eml.read_bytes())

    assert msg["To"].addresses[0].addr_spec == "ada@example.org"
    assert len(msg["To"].addresses) == 1  # Bo Sample has no public address
    assert msg["From"].addresses[0].display_name == "Carla Team"
    assert msg["Subject"] == 'Reproducing "Toy results on toy data": results and questions'
    body = _body(msg)
    assert body.startswith("Dear Ada Example and Bo Sample,")
    # The letter: findings, the discrepancies that matter, the questions; one page at most.
    assert "What we found\n-------------\n- At the re-run level" in body
    assert ("- C1 (re-implement): reported 0.90, measured 0.871 "
            "(sd 0.004, 95% CI 0.866 to 0.877, n = 5).") in body
    assert "1. Which random split of ToySet does Table 1 use? (concerns C1)" in body
    assert "at least 30 days, until 2026-04-01" in body
    prose = body[:body.index("\nAttached:")]
    assert len(prose.split()) <= 500 and len(prose.splitlines()) <= 60
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["toy-report.pdf", "toy-claims.txt"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == PDF
    # The per-claim table is attached, not in the letter.
    table = attachments[1].get_content().replace("\r\n", "\n")
    assert "re-run (orig): reproduced; measured 0.899 (n = 1)" in table
    assert ("re-implement (ours): not reproduced; measured 0.871 "
            "(sd 0.004, 95% CI 0.866 to 0.877, n = 5) [0.029 below]") in table
    assert "C2: Training takes 6 s\n  reported: 6 s\n  - re-run (orig): not run" in table
    assert "re-run (orig)" not in body
    text = txt.read_text()
    assert "To: Ada Example <ada@example.org>" in text and body in text and table in text


def test_letter_without_open_questions_has_no_question_section(project):
    contacts = project / "studies/toy/contacts.yaml"
    data = yaml.safe_load(contacts.read_text())
    data["messages"].append({"id": "m2", "date": "2026-01-20", "direction": "received",
                             "authors": ["Ada Example"], "subject": "Re: split",
                             "summary": "Gave the split.", "in_reply_to": "m1",
                             "answers": [{"question": "q1", "text": "Seed 0."}]})
    contacts.write_text(yaml.safe_dump(data))
    body = _body(_parse(_letter(project)[0].read_bytes()))
    assert "Questions we could not settle" not in body


def test_format_measured_uses_one_more_digit_than_the_paper():
    row = {"mean": "0.93612", "sd": "0.0021", "ci_low": "0.93", "ci_high": "0.94", "n": "5"}
    assert format_measured(row, 3) == "0.9361 (sd 0.0021, 95% CI 0.9300 to 0.9400, n = 5)"
    assert format_measured({"mean": ""}, 3) == ""


def test_surprise_letter_via_cli_attaches_the_report(tmp_path, capsys):
    """`replikit letter surprise` on the real manifest and contact log, with fixture outputs."""
    (tmp_path / "studies").mkdir()
    shutil.copytree(REPO / "studies" / "surprise", tmp_path / "studies" / "surprise")
    ledger = tmp_path / "results" / "surprise" / "claims.csv"
    ledger.parent.mkdir(parents=True)
    ledger.write_text(
        "claim_id,level,experiment,metric,reported,n,mean,sd,ci_low,ci_high,verdict,reason\n"
        "100k-svd-rmse,re-run,rerun-svd-100k,rmse,0.934,1,0.9361,,,,reproduced,within 0.005\n")
    pdf = tmp_path / "reports" / "surprise" / "report.pdf"
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(PDF)

    assert cli.main(["--root", str(tmp_path), "letter", "surprise", "--today", "2026-11-22"]) == 0
    eml = tmp_path / "reports" / "surprise" / "letter" / "letter.eml"
    msg = _parse(eml.read_bytes())
    assert msg["To"] is None  # no address is on record for the author
    assert _body(msg).startswith("Dear Nicolas Hug,")
    attachment, table = msg.iter_attachments()
    assert attachment.get_filename() == "surprise-report.pdf"
    assert attachment.get_content() == PDF
    assert table.get_filename() == "surprise-claims.txt"
    text = (eml.parent / "letter.txt").read_text()
    assert "GitHub issues (https://github.com/NicolasHug/Surprise/issues)" in text


def test_letter_command_without_outputs_says_to_run_the_workflow(project, capsys):
    (project / "results/toy/claims.csv").unlink()
    assert cli.main(["--root", str(project), "letter", "toy"]) == 2
    assert "run snakemake study=toy first" in capsys.readouterr().err


# --------------------------------------------------------------------------- sending
def _smtp_env(monkeypatch, port: int, **extra: str) -> None:
    for key in ("USER", "PASSWORD", "FROM"):
        monkeypatch.delenv(f"REPLIKIT_SMTP_{key}", raising=False)
    monkeypatch.setenv("REPLIKIT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REPLIKIT_SMTP_PORT", str(port))
    monkeypatch.setenv("REPLIKIT_SMTP_STARTTLS", "0")
    for key, value in extra.items():
        monkeypatch.setenv(f"REPLIKIT_SMTP_{key}", value)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_send_delivers_the_letter_and_logs_it(project, monkeypatch, capsys):
    with smtp_server(user="carla", password="pw-not-stored") as (mailbox, port):
        _smtp_env(monkeypatch, port, USER="carla", PASSWORD="pw-not-stored",
                  FROM="carla@example.org")
        assert cli.main(["--root", str(project), "letter", "toy", "--today", "2026-03-02",
                         "--send"]) == 0

    assert mailbox.logins == ["carla"]
    (received,) = mailbox.messages
    assert received.mail_from == "carla@example.org"
    assert received.rcpt_tos == ["ada@example.org"]
    msg = _parse(received.content)
    attachment, table = msg.iter_attachments()
    assert attachment.get_content() == PDF
    assert "not reproduced; measured 0.871" in table.get_content()

    log_file = project / "studies/toy/contacts.yaml"
    contacts = load_contacts(log_file, ["C1", "C2"])
    sent = contacts.messages[-1]
    assert (sent.id, sent.direction, sent.channel, sent.date) == ("m2", "sent", "email", TODAY)
    assert sent.authors == ["Ada Example"]
    assert sent.attachments == ["toy-report.pdf", "toy-claims.txt"]
    out = capsys.readouterr()
    letter = project / "reports/toy/letter"
    for text in (log_file.read_text(), out.out, out.err, (letter / "letter.txt").read_text(),
                 (letter / "letter.eml").read_text()):
        assert "pw-not-stored" not in text


def test_send_refuses_a_letter_without_recipient(project, tmp_path):
    contacts = project / "studies/toy/contacts.yaml"
    contacts.write_text(CONTACTS.replace(", email: ada@example.org", ""))
    eml, _ = _letter(project)
    settings = SmtpSettings("127.0.0.1", 1, None, None, False, "carla@example.org")
    with pytest.raises(ReplikitError, match="no e-mail recipient(.|\n)*preferred channel"):
        send_letter(eml, settings, contacts)


def test_failed_send_logs_nothing(project):
    eml, _ = _letter(project, Sender("Carla Team", "carla@example.org"))
    with smtp_server() as (_, port):
        pass  # started and stopped: nothing listens on the port any more
    log_file = project / "studies/toy/contacts.yaml"
    before = log_file.read_text()
    settings = SmtpSettings("127.0.0.1", port, None, None, False, None)
    with pytest.raises(ReplikitError, match="could not be sent(.|\n)*nothing was logged"):
        send_letter(eml, settings, log_file, timeout=5)
    assert log_file.read_text() == before


def test_smtp_settings_from_env():
    with pytest.raises(ReplikitError, match="REPLIKIT_SMTP_HOST"):
        smtp_settings_from_env({})
    s = smtp_settings_from_env({"REPLIKIT_SMTP_HOST": "mail.example.org",
                                "REPLIKIT_SMTP_PASSWORD": "hunter2"})
    assert (s.port, s.starttls) == (587, True)
    assert "hunter2" not in repr(s)
    assert smtp_settings_from_env({"REPLIKIT_SMTP_HOST": "h",
                                   "REPLIKIT_SMTP_STARTTLS": "0"}).port == 25
    with pytest.raises(ReplikitError, match="not a number"):
        smtp_settings_from_env({"REPLIKIT_SMTP_HOST": "h", "REPLIKIT_SMTP_PORT": "x"})


def test_letter_asks_about_the_audit_findings_of_their_code(project):
    from replikit.audit import audit_record
    from replikit.fileio import write_json

    legacy = Path(__file__).parent / "data" / "audit" / "legacy"
    write_json(project / "results/toy/audit.json",
               audit_record("toy", {"name": "code", "status": "ok", "path": str(legacy)}))
    _, txt = _letter(project)
    text = txt.read_text(encoding="utf-8")
    body = text[:text.index("Questions we could not settle")] if "Questions we could not" \
        in text else text
    assert "Questions from reading your code" in body
    assert "train.py" in body


def test_a_timing_over_repeats_is_stated_by_its_median_and_spread():
    from replikit.publish.letter import format_measured

    row = {"mean": "1.9092", "sd": "0.0448", "ci_low": "1.82", "ci_high": "1.98", "n": "5",
           "median": "1.900251", "spread_low": "1.865004", "spread_high": "1.968691"}
    assert format_measured(row, 1) == "median 1.90 (min–max 1.87 to 1.97, 5 repeats)"
    plain = {k: v for k, v in row.items() if k not in ("median", "spread_low", "spread_high")}
    assert format_measured(plain, 1).startswith("1.91 (sd 0.04")
