"""Letters to a paper's authors: a courteous e-mail with the verdicts and the report attached.

``write_letter`` renders the Jinja2 templates in ``templates/letter/`` from the study
manifest, the claims ledger (``results/<study>/claims.csv``) and the contact log, and writes
two files: a standard ``.eml`` message (Python's :mod:`email` package) carrying the PDF
report, and a plain-text copy to read before anything is sent. ``send_letter`` sends the
``.eml`` through SMTP settings taken from the environment only, and records the message in
the contact log.

SMTP settings (never stored in the repository, the log or the report):

``REPLIKIT_SMTP_HOST`` (required), ``REPLIKIT_SMTP_PORT`` (default 587 with STARTTLS, else 25),
``REPLIKIT_SMTP_USER`` and ``REPLIKIT_SMTP_PASSWORD`` (optional login),
``REPLIKIT_SMTP_STARTTLS`` (``1``/``0``, default ``1``), ``REPLIKIT_SMTP_FROM`` (sender address).
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.policy
import email.utils
import os
import smtplib
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jinja2

from replikit import paths
from replikit.authors.contacts import (
    CHANNEL_LABELS,
    Contacts,
    Message,
    contacts_path,
    load_contacts,
    next_id,
    open_questions,
    save_contacts,
)
from replikit.errors import ReplikitError
from replikit.evaluate.claims_table import SUMMARY_COLUMNS, read_ledger, text_records
from replikit.fileio import atomic_path, write_text
from replikit.publish.text import fmt_number, to_float
from replikit.vocabulary import LEVEL_ORDER

TEMPLATES_DIR = paths.templates("letter")


# --------------------------------------------------------------------------- the ledger
def read_rows(path: str | Path) -> list[dict[str, str]]:
    """The ledger's rows as text, through the one reader of ``claims.csv``.

    Raises
    ------
    ReplikitError
        If the file is missing a column the letter shows, or has no rows.
    """
    rows = text_records(read_ledger(path, SUMMARY_COLUMNS))
    if not rows:
        raise ReplikitError("the claims ledger has no rows", where=str(path),
                            fix="rebuild it with 'snakemake study=<study>'")
    return rows


def format_measured(row: dict[str, Any], decimals: int | None) -> str:
    """``'0.9361 (sd 0.0021, 95% CI 0.9335 to 0.9387, n = 5)'``, or ``''`` when not run.

    Measured values carry one digit more than the paper prints, so a reader sees whether a
    difference lies beyond the paper's rounding.
    """
    mean = to_float(row.get("mean"))
    if mean is None:
        return ""
    digits = (decimals + 1) if decimals is not None else 4
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


def render_letter(
    study: Any, contacts: Contacts, rows: list[dict[str, str]], *, today: dt.date,
    attachment_name: str, sender_name: str, templates_dir: Path = TEMPLATES_DIR,
) -> tuple[str, str]:
    """Render ``(subject, body)`` from the templates; nothing is written."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
    )
    claims = _claims_context(study, rows)
    levels = sorted({r["level"] for r in rows}, key=lambda lv: LEVEL_ORDER.get(lv, 9))
    context = {
        "paper": study.paper, "summary": " ".join(study.summary.split()),
        "authors": contacts.authors, "salutation": _salutation(contacts),
        "claims": claims, "levels": levels,
        # A claim has results once one of its levels ran; "not run" rows are not results.
        "assessed": sum(1 for c in claims
                        if any(not r["verdict"].startswith("not run") for r in c["rows"])),
        "verdict_counts": sorted(Counter(r["verdict"] for r in rows).items()),
        "open_questions": [q for _, q in open_questions(contacts)],
        "attachment_name": attachment_name, "window_days": contacts.window_days,
        "reply_by": today + dt.timedelta(days=contacts.window_days),
        "sender_name": sender_name,
    }
    subject = env.get_template("subject.txt.j2").render(context).strip()
    body = env.get_template("body.txt.j2").render(context)
    return subject, _squeeze_blank_lines(body)


def _squeeze_blank_lines(text: str) -> str:
    """Templates with loops leave runs of blank lines; keep at most one."""
    out: list[str] = []
    for line in text.splitlines():
        if line.strip() or (out and out[-1].strip()):
            out.append(line.rstrip())
    return "\n".join(out).strip() + "\n"


@dataclass(frozen=True)
class Sender:
    name: str = "The replikit study team"
    address: str | None = None


def build_message(
    subject: str, body: str, contacts: Contacts, report_pdf: Path, attachment_name: str,
    sender: Sender, study_name: str, today: dt.date,
) -> EmailMessage:
    """The e-mail: plain-text body, the PDF report attached, recipients from the log."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = subject
    if sender.address:
        msg["From"] = email.utils.formataddr((sender.name, sender.address))
    recipients = [email.utils.formataddr((a.name, a.email)) for a in contacts.authors
                  if a.email]
    if recipients:
        msg["To"] = ", ".join(recipients)
    msg["Date"] = email.utils.format_datetime(
        dt.datetime.combine(today, dt.time(9, 0), tzinfo=dt.UTC))
    msg["Message-ID"] = email.utils.make_msgid(idstring=f"replikit.{study_name}",
                                               domain="replikit.invalid")
    msg["X-Replikit-Study"] = study_name
    msg.set_content(body)
    msg.add_attachment(report_pdf.read_bytes(), maintype="application", subtype="pdf",
                       filename=attachment_name)
    return msg


def _plain_copy(msg: EmailMessage, body: str, contacts: Contacts, attachment: str) -> str:
    """The text to read before sending: headers, how to deliver it, then the body."""
    head = [f"Subject: {msg['Subject']}", f"To: {msg['To'] or '(no e-mail address on record)'}",
            f"Attachment: {attachment}"]
    for author in contacts.authors:
        if author.preferred_channel and author.preferred_channel != "email":
            where = author.channel_url or author.preferred_channel
            head.append(f"Note: {author.name} asks to be reached through "
                        f"{CHANNEL_LABELS[author.preferred_channel]} ({where}); "
                        "deliver the letter there.")
    return "\n".join(head) + "\n" + "-" * 72 + "\n" + body


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
    attachment = f"{study.name}-report.pdf"
    rows = read_rows(ledger_csv)
    subject, body = render_letter(study, contacts, rows, today=today,
                                  attachment_name=attachment, sender_name=sender.name,
                                  templates_dir=Path(templates_dir))
    msg = build_message(subject, body, contacts, report_pdf, attachment, sender, study.name,
                        today)
    out_dir = Path(out_dir)
    eml_path, txt_path = out_dir / "letter.eml", out_dir / "letter.txt"
    with atomic_path(eml_path) as tmp:
        tmp.write_bytes(msg.as_bytes())
    write_text(txt_path, _plain_copy(msg, body, contacts, attachment))
    return eml_path, txt_path


# --------------------------------------------------------------------------- sending
@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool
    sender: str | None

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return (f"SmtpSettings(host={self.host!r}, port={self.port}, user={self.user!r}, "
                f"password={'***' if self.password else None}, starttls={self.starttls})")


def smtp_settings_from_env(environ: dict[str, str] | None = None) -> SmtpSettings:
    """Read the SMTP settings from ``REPLIKIT_SMTP_*`` environment variables."""
    env = os.environ if environ is None else environ
    host = env.get("REPLIKIT_SMTP_HOST")
    if not host:
        raise ReplikitError(
            "no SMTP server configured", where="environment: REPLIKIT_SMTP_HOST",
            expected="the host name of your outgoing mail server", found="unset",
            fix="export REPLIKIT_SMTP_HOST (and _PORT, _USER, _PASSWORD, _FROM as needed); "
                "settings are never read from files in the repository",
        )
    starttls = env.get("REPLIKIT_SMTP_STARTTLS", "1").strip().lower() not in ("0", "no", "false")
    port_text = env.get("REPLIKIT_SMTP_PORT", "587" if starttls else "25")
    if not port_text.isdigit():
        raise ReplikitError("the SMTP port is not a number",
                            where="environment: REPLIKIT_SMTP_PORT", found=repr(port_text),
                            fix="export REPLIKIT_SMTP_PORT=587 (or your server's port)")
    return SmtpSettings(host=host, port=int(port_text), user=env.get("REPLIKIT_SMTP_USER"),
                        password=env.get("REPLIKIT_SMTP_PASSWORD"), starttls=starttls,
                        sender=env.get("REPLIKIT_SMTP_FROM"))


def send_letter(
    eml_path: str | Path, settings: SmtpSettings, contacts_file: str | Path,
    *, today: dt.date | None = None, timeout: float = 30.0,
) -> Message:
    """Send a written letter and record it in the contact log; return the logged message."""
    eml_path = Path(eml_path)
    msg = email.message_from_bytes(eml_path.read_bytes(), policy=email.policy.SMTP)
    if not msg["To"]:
        raise ReplikitError(
            "the letter has no e-mail recipient", where=str(eml_path),
            expected="an author with a public e-mail address in the contact log",
            found="no author has one",
            fix="deliver the text of letter.txt through the author's preferred channel, then "
                "record it with 'replikit contact log <study> --direction sent ...'",
        )
    if not msg["From"]:
        if not settings.sender:
            raise ReplikitError("no sender address", where="environment: REPLIKIT_SMTP_FROM",
                                fix="export REPLIKIT_SMTP_FROM=you@your.institution")
        msg["From"] = settings.sender
    _deliver(msg, settings, timeout)
    contacts = load_contacts(contacts_file)
    logged = _record_sent(contacts, msg, today or dt.date.today())
    save_contacts(contacts, contacts_file)
    return logged


def _deliver(msg: EmailMessage, settings: SmtpSettings, timeout: float) -> None:
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise ReplikitError(
            "the letter could not be sent", where=f"SMTP {settings.host}:{settings.port}",
            found=f"{type(exc).__name__}: {exc}",
            fix="check REPLIKIT_SMTP_* (host, port, STARTTLS, login); nothing was logged",
        ) from exc


def _record_sent(contacts: Contacts, msg: EmailMessage, today: dt.date) -> Message:
    attachments = [part.get_filename() for part in msg.iter_attachments()]
    addressed = {addr for _, addr in email.utils.getaddresses([msg["To"]])}
    names = [a.name for a in contacts.authors if a.email in addressed]
    message = Message(
        id=next_id("m", [m.id for m in contacts.messages]), date=today, direction="sent",
        authors=names or [a.name for a in contacts.authors], channel="email",
        subject=str(msg["Subject"]),
        summary="Letter written by 'replikit letter': what was attempted, the verdict per "
                "claim with the measured numbers, the open questions, and an invitation to "
                f"respond within {contacts.window_days} days; the report attached.",
        attachments=[a for a in attachments if a],
    )
    contacts.messages.append(message)
    return message


# --------------------------------------------------------------------------- command
def _require(path: Path, what: str, study: str) -> Path:
    if not path.exists():
        raise ReplikitError(
            f"the {what} is missing", where=str(path),
            fix=f"run snakemake study={study} first (or pass its path explicitly)",
        )
    return path


def cmd_letter(args: argparse.Namespace) -> int:
    from replikit.study import load_study

    study = load_study(args.study, args.root)
    root = Path(args.root)
    ledger = _require(Path(args.ledger or root / "results" / args.study / "claims.csv"),
                      "claims ledger", args.study)
    report = _require(Path(args.report or root / "reports" / args.study / "report.pdf"),
                      "PDF report", args.study)
    log_file = contacts_path(args.study, args.root)
    contacts = load_contacts(log_file, [c.id for c in study.claims])
    out_dir = Path(args.out or root / "reports" / args.study / "letter")
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    sender = Sender(name=args.sender_name, address=args.sender_address
                    or os.environ.get("REPLIKIT_SMTP_FROM"))
    eml, txt = write_letter(study, contacts, ledger, report, out_dir, today=today, sender=sender)
    print(f"wrote {eml}\nwrote {txt} (read it before sending)")
    if args.send:
        logged = send_letter(eml, smtp_settings_from_env(), log_file, today=today)
        print(f"sent; recorded as {logged.id} in {log_file}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``replikit letter <study>`` to the command line."""
    p = sub.add_parser("letter", help="write (and optionally send) a letter to the authors")
    p.add_argument("study")
    p.add_argument("--ledger", help="claims ledger (default: results/<study>/claims.csv)")
    p.add_argument("--report", help="PDF report (default: reports/<study>/report.pdf)")
    p.add_argument("--out", help="output folder (default: reports/<study>/letter)")
    p.add_argument("--today", help="the letter's date, YYYY-MM-DD (default: today)")
    p.add_argument("--sender-name", default=Sender.name, help="name to sign with")
    p.add_argument("--sender-address", help="From address (default: $REPLIKIT_SMTP_FROM)")
    p.add_argument("--send", action="store_true",
                   help="send through REPLIKIT_SMTP_* and record it in the contact log")
    p.set_defaults(func=cmd_letter)
