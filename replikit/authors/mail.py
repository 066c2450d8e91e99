"""E-mail to a paper's authors: the message with the report attached, and sending it by SMTP.

:func:`build_message` makes a standard e-mail (Python's :mod:`email` package);
:func:`send_letter` sends a written ``.eml`` through SMTP settings taken from the
environment only, and records the message in the contact log.

SMTP settings (never stored in the repository, the log or the report):

``REPLIKIT_SMTP_HOST`` (required), ``REPLIKIT_SMTP_PORT`` (default 587 with STARTTLS, else 25),
``REPLIKIT_SMTP_USER`` and ``REPLIKIT_SMTP_PASSWORD`` (optional login),
``REPLIKIT_SMTP_STARTTLS`` (``1``/``0``, default ``1``), ``REPLIKIT_SMTP_FROM`` (sender address).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from replikit.authors.contacts import next_id
from replikit.errors import ReplikitError
from replikit.study.contacts import Contacts, Message, load_contacts, save_contacts


@dataclass(frozen=True)
class Sender:
    """Who signs the letter, and the address it is sent from (if known)."""

    name: str = "The replikit study team"
    address: str | None = None


def one_line(text: str | None) -> str:
    """``text`` on one line: in an e-mail header a newline would start another header."""
    return " ".join(str(text or "").split())


def build_message(
    subject: str, body: str, contacts: Contacts, report_pdf: Path, attachment_name: str,
    sender: Sender, study_name: str, today: dt.date,
    texts: tuple[tuple[str, str], ...] = (),
) -> EmailMessage:
    """The e-mail: plain-text body, the PDF report attached, recipients from the log.

    ``texts`` are further plain-text attachments, ``(file name, text)``.
    """
    msg = EmailMessage(policy=email.policy.SMTP)
    # Headers on one line each: a newline in a title or a name must not start a header.
    msg["Subject"] = one_line(subject)
    if sender.address:
        msg["From"] = email.utils.formataddr((one_line(sender.name), sender.address))
    recipients = [email.utils.formataddr((one_line(a.name), a.email)) for a in contacts.authors
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
    for name, text in texts:
        msg.add_attachment(text, subtype="plain", filename=name)
    return msg


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
