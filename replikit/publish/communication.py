"""The communication with the original authors, as the report and the MLRC draft show it.

:func:`contacts_markdown` is the report's section (authors, timeline, response times, open
questions per claim); :func:`mlrc_communication_section` is the MLRC draft's paragraph.
Both are written from the contact log (:mod:`replikit.study.contacts`) alone, and withhold
e-mail addresses unless told otherwise.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from typing import Any, Literal

from replikit.authors.contacts import (
    answers_to,
    open_questions,
    open_questions_by_claim,
    owed_replies,
    response_times,
)
from replikit.publish.text import latex_escape, md_escape
from replikit.study.contacts import (
    CHANNEL_LABELS,
    DEFAULT_WINDOW_DAYS,
    Contacts,
    redact,
)


def _claim_ids(claims: Iterable[Any]) -> list[str]:
    return [c if isinstance(c, str) else c.id for c in claims]


def _cell(text: str | None, redact_emails: bool) -> str:
    """One table cell or list item: on one line, e-mails withheld, Markdown escaped."""
    text = " ".join((text or "").split())
    return md_escape(redact(text) if redact_emails else text)


def _authors_table(contacts: Contacts, redact_emails: bool) -> list[str]:
    lines = ["| Author | Role | Affiliation | E-mail | Preferred channel |",
             "|---|---|---|---|---|"]
    for a in contacts.authors:
        email = ("withheld" if redact_emails else a.email) if a.email else "not recorded"
        channel = CHANNEL_LABELS[a.preferred_channel] if a.preferred_channel else "not stated"
        if a.channel_url:
            channel += f" ({md_escape(a.channel_url)})"
        lines.append(f"| {md_escape(a.name)} | {md_escape(a.role)} | "
                     f"{md_escape(a.affiliation or 'not recorded')} | {md_escape(email)} "
                     f"| {channel} |")
    notes = [f"- {md_escape(a.name)}: {_cell(a.notes, redact_emails)}"
             for a in contacts.authors if a.notes]
    return lines + ([""] + notes if notes else [])


def _timeline(contacts: Contacts, redact_emails: bool) -> list[str]:
    lines = ["| Date | Id | Direction | Channel | With | Subject | Summary | Reply to |",
             "|---|---|---|---|---|---|---|---|"]
    for m in sorted(contacts.messages, key=lambda m: m.date):
        lines.append(
            f"| {m.date} | {m.id} | {m.direction} | {m.channel} "
            f"| {md_escape(', '.join(m.authors))} "
            f"| {_cell(m.subject, redact_emails)} | {_cell(m.summary, redact_emails)} "
            f"| {m.in_reply_to or ''} |"
        )
    return lines


def _response_lines(contacts: Contacts, today: dt.date, window: int) -> list[str]:
    lines = []
    for message, reply, days in response_times(contacts):
        lines.append(f"- {message.id} ({message.date}, {message.direction}) answered by "
                     f"{reply.id} on {reply.date}: {days} day(s)")
    for entry in owed_replies(contacts, today, window):
        m = entry["message"]
        flag = f" **unanswered for more than {window} days**" if entry["overdue"] else ""
        lines.append(f"- {m.id} ({m.date}, {m.direction}) awaits a reply from the "
                     f"{entry['owed_by']}: {entry['days']} day(s) so far{flag}")
    days = [d for _, _, d in response_times(contacts)]
    if days:
        lines.append(f"- median response time: {statistics.median(days):g} day(s) "
                     f"over {len(days)} answered message(s)")
    return lines


def _open_question_lines(contacts: Contacts, claim_ids: list[str], redact_emails: bool
                         ) -> list[str]:
    grouped = open_questions_by_claim(contacts)
    if not grouped:
        return ["No open questions."]
    lines = []
    for claim in [c for c in claim_ids if c in grouped] + \
            [c for c in grouped if c not in claim_ids]:
        lines.append(f"- **{md_escape(claim)}**")
        for message, question in grouped[claim]:
            lines.append(f"    - {question.id} (asked {message.date} in {message.id}): "
                         f"{_cell(question.text, redact_emails)}")
    return lines


def contacts_markdown(
    contacts: Contacts,
    claims: Iterable[Any],
    today: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    redact_emails: bool = True,
) -> str:
    """The report's section on communication with the original authors, as Markdown.

    Parameters
    ----------
    contacts
        The study's contact log.
    claims
        The study's claims (objects with ``.id``) or claim ids, in the report's order.
    today
        The date against which waiting times are counted.
    window_days
        Days after which an unanswered message is flagged.
    redact_emails
        Withhold e-mail addresses (the default for anything published).

    Examples
    --------
    >>> from replikit.study.contacts import Author
    >>> log = Contacts(study="x", authors=[Author(name="Ada Example")])
    >>> print(contacts_markdown(log, ["C1"], dt.date(2026, 1, 1)).splitlines()[0])
    ## Communication with the original authors
    """
    claim_ids = _claim_ids(claims)
    out = ["## Communication with the original authors", "", *_authors_table(
        contacts, redact_emails), ""]
    if not contacts.messages:
        out += ["**No contact yet.** Nobody working on this study has written to the "
                "authors, and no message has been received from them.", ""]
        return "\n".join(out).rstrip() + "\n"
    sent = sum(m.direction == "sent" for m in contacts.messages)
    out += [f"{len(contacts.messages)} message(s): {sent} sent, "
            f"{len(contacts.messages) - sent} received. Messages unanswered for more than "
            f"{window_days} days are flagged.", "",
            "### Timeline", "", *_timeline(contacts, redact_emails), "",
            "### Response times", "", *_response_lines(contacts, today, window_days), "",
            "### Open questions per claim", "",
            *_open_question_lines(contacts, claim_ids, redact_emails), ""]
    return "\n".join(out).rstrip() + "\n"


def mlrc_communication_section(
    contacts: Contacts,
    claims: Iterable[Any],
    today: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    fmt: Literal["latex", "markdown"] = "latex",
) -> str:
    """The body of the MLRC draft's "Communication with original authors" section.

    Plain prose, written from the log alone, without the heading (the draft's template owns
    it). E-mail addresses are always withheld: the draft is meant for publication.
    """
    names = [a.name for a in contacts.authors]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
    sentences = []
    if not contacts.messages:
        sentences.append(f"We have not contacted the original author{'s' * (len(names) > 1)} "
                         f"({who}) yet, and have received no message from them.")
        channels = [a for a in contacts.authors if a.preferred_channel]
        for a in channels:
            where = f" ({a.channel_url})" if a.channel_url else ""
            sentences.append(f"{a.name} asks to be reached through "
                             f"{CHANNEL_LABELS[a.preferred_channel]}{where}.")
    else:
        sentences += _exchange_sentences(contacts, who, today, window_days)
    text = " ".join(redact(s) for s in sentences)
    if fmt == "markdown":
        return md_escape(text) + "\n"
    return latex_escape(text) + "\n"


def _exchange_sentences(contacts: Contacts, who: str, today: dt.date, window: int) -> list[str]:
    ordered = sorted(contacts.messages, key=lambda m: m.date)
    sent = [m for m in ordered if m.direction == "sent"]
    received = [m for m in ordered if m.direction == "received"]
    out = [f"Between {ordered[0].date} and {ordered[-1].date} we sent {len(sent)} message(s) "
           f"to {who} and received {len(received)}."]
    days = [d for m, _, d in response_times(contacts) if m.direction == "sent"]
    if days:
        out.append(f"The authors replied to {len(days)} of our messages, after a median of "
                   f"{statistics.median(days):g} day(s).")
    overdue = [e for e in owed_replies(contacts, today, window)
               if e["owed_by"] == "authors" and e["overdue"]]
    if overdue:
        out.append(f"{len(overdue)} message(s) remained unanswered after {window} days "
                   f"(as of {today}).")
    questions = contacts.questions()
    if questions:
        still_open = open_questions(contacts)
        out.append(f"We asked {len(questions)} question(s), of which "
                   f"{len(questions) - len(still_open)} have been answered.")
        for _, question in still_open:
            about = f" (claims {', '.join(question.claims)})" if question.claims else ""
            out.append(f"Still open{about}: {question.text.rstrip('.?')}?")
    for message, answer in answers_to(contacts).values():
        out.append(f"On {message.date} the authors answered: {answer.text.rstrip('.')}.")
    return out
