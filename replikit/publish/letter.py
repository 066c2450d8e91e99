"""Letters to a paper's authors: a courteous e-mail with the verdicts and the report attached.

``write_letter`` renders the Jinja2 templates in ``templates/letter/`` from the study
manifest, the claims ledger (``results/<study>/claims.csv``) and the contact log, and writes
two files: a standard ``.eml`` message (Python's :mod:`email` package) carrying the PDF
report, and a plain-text copy to read before anything is sent.
:func:`replikit.authors.mail.send_letter` sends the ``.eml`` and records it in the contact log.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jinja2

from replikit import paths
from replikit.audit.text import audit_questions
from replikit.authors.contacts import open_questions
from replikit.authors.mail import Sender, build_message
from replikit.errors import ReplikitError
from replikit.evaluate.claims_table import SUMMARY_COLUMNS, text_records
from replikit.fileio import atomic_path, read_json, write_text
from replikit.numbers import fmt_number, to_float
from replikit.publish.facts import cost_sentence, verdict_sentence, verdict_totals
from replikit.publish.findings import discrepancies, findings
from replikit.publish.report.summary import not_run_causes
from replikit.results import Facts, Results
from replikit.study.contacts import CHANNEL_LABELS, Contacts
from replikit.vocabulary import LEVEL_ORDER

SHOWN_DISCREPANCIES = 6   # the letter names this many; the attached table has them all
MAX_CODE_QUESTIONS = 3    # from the audit of their code; audit.json and the report have all

TEMPLATES_DIR = paths.templates("letter")


# --------------------------------------------------------------------------- the ledger
#: A timing judged over repeats also has its median and spread (older ledgers do not).
_TIMING_COLUMNS = ("median", "spread_low", "spread_high")


def letter_records(ledger: Any) -> list[dict[str, str]]:
    """The ledger's rows as text: what a person reads first, and a timing's median."""
    timing = [c for c in _TIMING_COLUMNS if c in ledger.columns]
    return text_records(ledger, [*SUMMARY_COLUMNS, *timing])


def format_measured(row: dict[str, Any], decimals: int | None) -> str:
    """``'0.9361 (sd 0.0021, 95% CI 0.9335 to 0.9387, n = 5)'``, or ``''`` when not run.

    Measured values carry one digit more than the paper prints, so a reader sees whether a
    difference lies beyond the paper's rounding.
    """
    mean = to_float(row.get("mean"))
    if mean is None:
        return ""
    digits = (decimals + 1) if decimals is not None else 4
    median = to_float(row.get("median"))
    if median is not None:  # a timing judged over repeats: say what the verdict used
        low, high = to_float(row.get("spread_low")), to_float(row.get("spread_high"))
        spread = (f"min–max {fmt_number(low, digits)} to {fmt_number(high, digits)}, "
                  if low is not None and high is not None else "")
        repeats = f"{row['n']} repeats" if row.get("n") else "repeats"
        return f"median {fmt_number(median, digits)} ({spread}{repeats})"
    parts = []
    sd = to_float(row.get("sd"))
    if sd is not None:
        parts.append(f"sd {fmt_number(sd, digits)}")
    low, high = to_float(row.get("ci_low")), to_float(row.get("ci_high"))
    if low is not None and high is not None:
        parts.append(f"95% CI {fmt_number(low, digits)} to {fmt_number(high, digits)}")
    if row.get("n"):
        parts.append(f"n = {row['n']}")
    return fmt_number(mean, digits) + (f" ({', '.join(parts)})" if parts else "")


def _format_reported(claim: Any) -> str:
    if claim.reported is None:
        return "(a comparison, no single number)"
    text = (f"{claim.reported:.{claim.decimals}f}" if claim.decimals is not None
            else f"{claim.reported:g}")
    return text + (" s" if claim.kind == "time" else "")


def _claims_context(study: Any, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """One entry per claim, in the manifest's order, with its ledger rows by level."""
    by_claim: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_claim.setdefault(row["claim_id"], []).append(row)
    out = []
    for claim in study.claims:
        claim_rows = sorted(by_claim.pop(claim.id, []),
                            key=lambda r: LEVEL_ORDER.get(r["level"], 9))
        out.append({
            "id": claim.id, "text": claim.text,
            "reported": _format_reported(claim),
            "rows": [{"level": r["level"], "experiment": r["experiment"],
                      "verdict": r["verdict"], "reason": r.get("reason", "").strip(),
                      "measured": format_measured(r, claim.decimals)} for r in claim_rows],
        })
    for claim_id, claim_rows in by_claim.items():  # ledger rows the manifest does not name
        out.append({"id": claim_id, "text": "(not in the study manifest)",
                    "reported": claim_rows[0].get("reported", ""),
                    "rows": [{"level": r["level"], "experiment": r["experiment"],
                              "verdict": r["verdict"], "reason": r.get("reason", "").strip(),
                              "measured": format_measured(r, None)} for r in claim_rows]})
    return out


# --------------------------------------------------------------------------- rendering
def _salutation(contacts: Contacts) -> str:
    names = [a.name for a in contacts.authors]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Dear {joined}"


def _discrepancies(study: Any, ledger: Any, claims: list[dict[str, Any]]
                   ) -> list[dict[str, str]]:
    reported = {c["id"]: c["reported"] for c in claims}
    decimals = {c.id: c.decimals for c in study.claims}
    out = []
    for row in letter_records(discrepancies(ledger)):
        measured = format_measured(row, decimals.get(row["claim_id"])) or "no value"
        out.append({"id": row["claim_id"], "level": row["level"], "measured": measured,
                    "reported": reported.get(row["claim_id"], row.get("reported", ""))})
    return out


def render_letter(
    study: Any, contacts: Contacts, rows: list[dict[str, str]], *, today: dt.date,
    attachment_name: str, sender_name: str, templates_dir: Path = TEMPLATES_DIR,
    ledger: Any = None, table_name: str = "claims.txt", code_questions: list[str] = (),
    facts: Facts,
) -> tuple[str, str, str]:
    """Render ``(subject, body, per-claim table)`` from the templates; nothing is written.

    The body is the letter: findings, the discrepancies that matter, the questions, the
    attachments; the per-claim table is attached, not in the body.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
    )
    claims = _claims_context(study, rows)
    levels = sorted({r["level"] for r in rows}, key=lambda lv: LEVEL_ORDER.get(lv, 9))
    if ledger is not None:
        # A ledger cut to the summary columns still has every claim's kind in the manifest.
        kinds = {c.id: c.kind for c in study.claims}
        ledger = ledger.assign(kind=[k or kinds.get(c, "") for c, k in
                                     zip(ledger["claim_id"], ledger["kind"], strict=True)])
    found = _discrepancies(study, ledger, claims) if ledger is not None else []
    context = {
        "findings": findings(ledger, not_run_causes) if ledger is not None else [],
        "discrepancies": found[:SHOWN_DISCREPANCIES],
        "more_discrepancies": max(len(found) - SHOWN_DISCREPANCIES, 0),
        "table_name": table_name,
        "paper": study.paper, "summary": " ".join(study.summary.split()),
        "authors": contacts.authors, "salutation": _salutation(contacts),
        "claims": claims, "levels": levels,
        "verdict_counts": list(verdict_totals(facts).items()),
        # The study's counts and totals, as every other output states them.
        "facts_lines": [verdict_sentence(facts), f"In all: {cost_sentence(facts)}"],
        "open_questions": [q for _, q in open_questions(contacts)],
        # From the audit of their code: the few that keep the letter to one page.
        "code_questions": list(code_questions)[:MAX_CODE_QUESTIONS],
        "attachment_name": attachment_name, "window_days": contacts.window_days,
        "reply_by": today + dt.timedelta(days=contacts.window_days),
        "sender_name": sender_name,
    }
    subject = env.get_template("subject.txt.j2").render(context).strip()
    body = env.get_template("body.txt.j2").render(context)
    table = env.get_template("claims.txt.j2").render(context)
    return subject, _squeeze_blank_lines(body), _squeeze_blank_lines(table)


def _code_questions(results_dir: Path) -> list[str]:
    """Questions from ``audit.json`` beside the ledger, when the study audited the code."""
    audit_file = results_dir / paths.audit(results_dir.name).name
    if not audit_file.is_file():
        return []
    audit = read_json(audit_file)
    return audit_questions(audit) if audit.get("status") == "ok" else []


def _squeeze_blank_lines(text: str) -> str:
    """Templates with loops leave runs of blank lines; keep at most one."""
    out: list[str] = []
    for line in text.splitlines():
        if line.strip() or (out and out[-1].strip()):
            out.append(line.rstrip())
    return "\n".join(out).strip() + "\n"


def _plain_copy(msg: EmailMessage, body: str, contacts: Contacts, attachment: str,
                table: tuple[str, str]) -> str:
    """The text to read before sending: headers, how to deliver it, the body, the table."""
    head = [f"Subject: {msg['Subject']}", f"To: {msg['To'] or '(no e-mail address on record)'}",
            f"Attachments: {attachment}, {table[0]}"]
    for author in contacts.authors:
        if author.preferred_channel and author.preferred_channel != "email":
            where = author.channel_url or author.preferred_channel
            head.append(f"Note: {author.name} asks to be reached through "
                        f"{CHANNEL_LABELS[author.preferred_channel]} ({where}); "
                        "deliver the letter there.")
    return ("\n".join(head) + "\n" + "-" * 72 + "\n" + body + "\n" + "=" * 72 + "\n"
            + f"Attachment {table[0]}:\n\n" + table[1])


def write_letter(
    study: Any,
    contacts: Contacts,
    ledger_csv: str | Path,
    report_pdf: str | Path,
    out_dir: str | Path,
    *,
    today: dt.date | None = None,
    sender: Sender | None = None,
    templates_dir: str | Path = TEMPLATES_DIR,
) -> tuple[Path, Path]:
    """Write the letter to the authors as ``letter.eml`` and ``letter.txt`` in ``out_dir``.

    Parameters
    ----------
    study
        The study manifest (:class:`replikit.study.Study`): paper, summary, claims.
    contacts
        The contact log: recipients, open questions, the reply window.
    ledger_csv
        The claims ledger (``results/<study>/claims.csv``).
    report_pdf
        The PDF report to attach.
    out_dir
        Where to write the two files (created if needed).
    today
        The letter's date; the reply-by date is ``today + window_days``.
    sender
        Name and address to sign and send with.

    Returns
    -------
    (eml_path, txt_path)
    """
    today = today or dt.date.today()
    sender = sender or Sender()
    report_pdf = Path(report_pdf)
    attachment, table_name = f"{study.name}-report.pdf", f"{study.name}-claims.txt"
    results = Results.from_ledger(ledger_csv, SUMMARY_COLUMNS)
    rows = letter_records(results.ledger)
    if not rows:
        raise ReplikitError("the claims ledger has no rows", where=str(ledger_csv),
                            fix="rebuild it with 'snakemake study=<study>'")
    subject, body, table = render_letter(
        study, contacts, rows, today=today, attachment_name=attachment,
        sender_name=sender.name, templates_dir=Path(templates_dir),
        ledger=results.ledger, table_name=table_name,
        code_questions=_code_questions(Path(ledger_csv).parent), facts=results.facts)
    msg = build_message(subject, body, contacts, report_pdf, attachment, sender, study.name,
                        today, texts=((table_name, table),))
    out_dir = Path(out_dir)
    eml_path, txt_path = out_dir / "letter.eml", out_dir / "letter.txt"
    with atomic_path(eml_path) as tmp:
        tmp.write_bytes(msg.as_bytes())
    write_text(txt_path, _plain_copy(msg, body, contacts, attachment, (table_name, table)))
    return eml_path, txt_path
