"""The contact log: schema errors, open questions, overdue replies, report sections, commands.

All people here are fictional, on example.org.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from replikit import cli
from replikit.authors.contacts import open_questions_by_claim, owed_replies, response_times
from replikit.errors import ReplikitError
from replikit.publish.communication import contacts_markdown, mlrc_communication_section
from replikit.study import load_study
from replikit.study.contacts import load_contacts

REPO = Path(__file__).resolve().parent.parent
CLAIMS = ["C1", "C2", "C3"]

LOG = """\
schema_version: 1
study: toy
authors:
  - name: Ada Example
    role: corresponding author
    email: ada@example.org
    affiliation: Example University
  - name: Bo Sample
    role: second author
messages:
  - id: m1
    date: 2026-01-05
    direction: sent
    authors: [Ada Example]
    subject: Questions about Table 1
    summary: Asked two questions; our address is team@example.org.
    questions:
      - {id: q1, text: "Which split does Table 1 use?", claims: [C1]}
      - {id: q2, text: "Was the learning rate tuned?", claims: [C1, C2]}
  - id: m2
    date: 2026-01-12
    direction: received
    authors: [Ada Example]
    subject: "Re: Questions about Table 1"
    summary: Answered the split question.
    in_reply_to: m1
    answers:
      - {question: q1, text: "The split with seed 0."}
  - id: m3
    date: 2026-01-20
    direction: sent
    authors: [Ada Example, Bo Sample]
    channel: email
    subject: Follow-up on the learning rate
    summary: Asked again, and asked for the training script.
    in_reply_to: m2
    questions:
      - {id: q3, text: "Could you share the training script?"}
"""


def write_log(tmp_path: Path, text: str = LOG) -> Path:
    path = tmp_path / "contacts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def log(tmp_path):
    return load_contacts(write_log(tmp_path), CLAIMS)


# --------------------------------------------------------------------------- validation
def test_valid_log_loads(log):
    assert [m.id for m in log.messages] == ["m1", "m2", "m3"]
    assert log.window_days == 30


@pytest.mark.parametrize(("change", "error"), [
    (("date: 2026-01-12", "date: 2026-13-40"), r"messages\[1\]\.date \(line 21\): expected"),
    (("in_reply_to: m1", "in_reply_to: m9"),
     r"messages\[1\]\.in_reply_to \(line 26\): replies to message 'm9', which does not exist"),
    (("in_reply_to: m2", "in_reply_to: m4"), r"replies to message 'm4', which does not exist"),
    (("{question: q1,", "{question: q7,"), r"answers question 'q7', which no earlier message"),
    (("claims: [C1, C2]", "claims: [C1, C9]"), r"unknown claim id 'C9' \(the study's claims"),
    (("authors: [Ada Example]\n    subject: Q", "authors: [Ada Exampel]\n    subject: Q"),
     r"names 'Ada Exampel', who is not among the authors"),
    (("id: m3", "id: m1"), r"message id 'm1' is used twice"),
    (("direction: received", "direction: incoming"), r"direction \(line 22\): expected"),
    (("email: ada@example.org", "email: ada-at-example"), r"an e-mail address like"),
    (("    summary: Answered", "    colour: blue\n    summary: Answered"), r"unknown key"),
])
def test_errors_name_the_key_line_and_problem(tmp_path, change, error):
    old, new = change
    assert old in LOG
    with pytest.raises(ReplikitError, match=error):
        load_contacts(write_log(tmp_path, LOG.replace(old, new, 1)), CLAIMS)


def test_reply_dated_before_its_message_is_an_error(tmp_path):
    with pytest.raises(ReplikitError, match=r"is dated 2026-01-01, before the message it "
                                            r"answers \(m1, 2026-01-05\)"):
        load_contacts(write_log(tmp_path, LOG.replace("date: 2026-01-12", "date: 2026-01-01")))


def test_missing_log_says_how_to_start_one(tmp_path):
    with pytest.raises(ReplikitError, match="replikit contact add-author"):
        load_contacts(tmp_path / "nope" / "contacts.yaml")


# --------------------------------------------------------------------------- analysis
def test_open_questions_per_claim(log):
    grouped = open_questions_by_claim(log)
    assert {claim: [q.id for _, q in entries] for claim, entries in grouped.items()} == \
        {"C1": ["q2"], "C2": ["q2"], "(study)": ["q3"]}


def test_owed_replies_and_overdue_window(log):
    owed = owed_replies(log, dt.date(2026, 2, 20))
    assert [(e["message"].id, e["owed_by"], e["days"], e["overdue"]) for e in owed] == \
        [("m3", "authors", 31, True)]
    assert not owed_replies(log, dt.date(2026, 2, 20), window_days=60)[0]["overdue"]
    assert [(m.id, r.id, d) for m, r, d in response_times(log)] == \
        [("m1", "m2", 7), ("m2", "m3", 8)]


# --------------------------------------------------------------------------- rendering
def test_markdown_timeline_response_times_open_questions_and_flags(log):
    text = contacts_markdown(log, CLAIMS, dt.date(2026, 2, 20))
    assert "| 2026-01-05 | m1 | sent | email | Ada Example | Questions about Table 1 |" in text
    assert "- m1 (2026-01-05, sent) answered by m2 on 2026-01-12: 7 day(s)" in text
    assert ("- m3 (2026-01-20, sent) awaits a reply from the authors: 31 day(s) so far "
            "**unanswered for more than 30 days**") in text
    assert "- **C1**\n    - q2 (asked 2026-01-05 in m1): Was the learning rate tuned?" in text
    assert "- **(study)**\n    - q3" in text
    assert "q1 (asked" not in text  # answered
    # addresses are withheld unless asked for
    assert "example.org" not in text and r"\[e-mail withheld\]" in text  # escaped Markdown
    shown = contacts_markdown(log, CLAIMS, dt.date(2026, 2, 20), redact_emails=False)
    assert r"ada\@example.org" in shown and r"team\@example.org" in shown  # escaped


def test_markdown_window_is_configurable(log):
    text = contacts_markdown(log, CLAIMS, dt.date(2026, 2, 20), window_days=60)
    assert "**unanswered for more than" not in text
    assert "Messages unanswered for more than 60 days are flagged." in text


def test_no_contact_yet(tmp_path):
    empty = LOG.split("messages:")[0] + "messages: []\n"
    log = load_contacts(write_log(tmp_path, empty), CLAIMS)
    text = contacts_markdown(log, CLAIMS, dt.date(2026, 2, 20))
    assert "**No contact yet.**" in text and "Timeline" not in text
    mlrc = mlrc_communication_section(log, CLAIMS, dt.date(2026, 2, 20))
    assert mlrc.startswith("We have not contacted the original authors (Ada Example and "
                           "Bo Sample) yet")


def test_mlrc_section_summarises_the_exchange_in_escaped_latex(tmp_path):
    text = LOG.replace('"Could you share the training script?"',
                       '"Could you share train_model.py & its 100% config?"')
    log = load_contacts(write_log(tmp_path, text), CLAIMS)
    latex = mlrc_communication_section(log, CLAIMS, dt.date(2026, 2, 20))
    assert "we sent 2 message(s) to Ada Example and Bo Sample and received 1" in latex
    assert "after a median of 7 day(s)" in latex
    assert "1 message(s) remained unanswered after 30 days (as of 2026-02-20)" in latex
    assert "We asked 3 question(s), of which 1 have been answered." in latex
    assert r"train\_model.py \& its 100\% config" in latex
    assert "example.org" not in latex


# --------------------------------------------------------------------------- the surprise study
def test_surprise_log_is_truthful():
    study = load_study("surprise", REPO)
    log = load_contacts(REPO / "studies/surprise/contacts.yaml", [c.id for c in study.claims])
    assert [a.name for a in log.authors] == study.paper.authors == ["Nicolas Hug"]
    assert log.messages == []  # nobody has written to him
    assert log.authors[0].email is None
    assert log.authors[0].preferred_channel == "github-issue"
    text = contacts_markdown(log, study.claims, dt.date(2026, 11, 22))
    assert "No contact yet" in text


# --------------------------------------------------------------------------- commands
@pytest.fixture
def project(tmp_path: Path) -> Path:
    study = tmp_path / "studies" / "toy"
    study.mkdir(parents=True)
    (study / "study.yaml").write_text("""\
schema_version: 1
name: toy
summary: toy
paper: {title: T, authors: [Ada Example], venue: J. Ex. 2024, year: 2024}
hardware: {declared: {cpu: laptop}}
experiments:
  ours: {description: d, implementation: reimplementation, runner: run.py:run, seeds: 1}
claims:
  - {id: C1, text: t, source: s, metric: m, reported: 1.0, tolerance: {absolute: 0.1},
     levels: {re-implement: ours}}
""")
    return tmp_path


def run(project: Path, *args: str) -> int:
    return cli.main(["--root", str(project), "contact", *args])


def test_commands_build_a_log_and_report_what_is_owed(project, capsys):
    assert run(project, "add-author", "toy", "--name", "Ada Example", "--email",
               "ada@example.org", "--role", "corresponding author") == 0
    assert run(project, "log", "toy", "--direction", "sent", "--date", "2026-01-05",
               "--subject", "Split?", "--summary", "Asked about the split.",
               "--question", "C1: Which split?", "--question", "Any script?") == 0
    assert run(project, "log", "toy", "--direction", "received", "--date", "2026-01-09",
               "--subject", "Re: Split?", "--summary", "Answered.", "--in-reply-to", "m1",
               "--answer", "q1=Seed 0.") == 0
    capsys.readouterr()

    assert run(project, "open", "toy") == 0
    assert capsys.readouterr().out == "(study)\n  q2 (asked 2026-01-05 in m1): Any script?\n"
    assert run(project, "owed", "toy", "--today", "2026-03-01") == 0
    assert "study team owe a reply to m2 (2026-01-09, 'Re: Split?'): 51 day(s)  OVERDUE" \
        in capsys.readouterr().out

    data = yaml.safe_load((project / "studies/toy/contacts.yaml").read_text())
    assert data["messages"][0]["questions"][0] == {"id": "q1", "text": "Which split?",
                                                   "claims": ["C1"]}
    assert run(project, "answer", "toy", "--question", "q2", "--message", "m2",
               "--text", "Not yet public.") == 0
    assert run(project, "open", "toy") == 0
    assert capsys.readouterr().out.endswith("no open questions\n")
    assert run(project, "show", "toy", "--today", "2026-03-01") == 0
    shown = capsys.readouterr().out
    assert "### Timeline" in shown and "ada@example.org" not in shown


def test_commands_refuse_entries_that_break_the_log(project, capsys):
    run(project, "add-author", "toy", "--name", "Ada Example")
    assert run(project, "log", "toy", "--direction", "sent", "--subject", "s",
               "--summary", "s", "--question", "C7: about a claim that does not exist") == 2
    assert "unknown claim id 'C7'" in capsys.readouterr().err
    assert run(project, "log", "toy", "--direction", "received", "--subject", "s",
               "--summary", "s", "--in-reply-to", "m5") == 2
    assert "replies to message 'm5', which does not exist" in capsys.readouterr().err
    assert yaml.safe_load((project / "studies/toy/contacts.yaml").read_text())["messages"] == []
