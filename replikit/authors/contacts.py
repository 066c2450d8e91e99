"""What a contact log with a paper's original authors tells: open questions, owed replies.

Reproductions succeed far more often when the original authors answer (Raff, NeurIPS 2019:
85 % of papers reproduced when the authors replied, 4 % when they did not). The log records
who the authors are and every message sent to or received from them, with the questions
asked (each tied to the claims it concerns) and the answers. From it come the report's
communication section, the MLRC draft's "Communication with original authors" paragraph and
the ``replikit contact`` commands.

A message is *sent* (by the study's team) or *received* (from an author). A sent message is
answered by a received message whose ``in_reply_to`` names it, and the other way round; a
question is open until a later message carries an answer to it. A message left unanswered
longer than the window (30 days by default, the time good practice gives authors) is flagged.

This module holds the questions one asks of a log (who owes a reply, which questions are
open, how long answers took) and the checked edits of the ``replikit contact`` commands; the
log's model and file are :mod:`replikit.study.contacts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from replikit.errors import ReplikitError
from replikit.study.contacts import (
    Answer,
    Contacts,
    Message,
    Question,
    check_references,
    save_contacts,
)
from replikit.study.loading import key_path


# --------------------------------------------------------------------------- analysis
def reply_to(contacts: Contacts, message: Message) -> Message | None:
    """The first message that answers ``message`` (by ``in_reply_to``), if any."""
    replies = [m for m in contacts.messages if m.in_reply_to == message.id]
    return min(replies, key=lambda m: m.date) if replies else None


def answers_to(contacts: Contacts) -> dict[str, tuple[Message, Answer]]:
    """The first answer to each question id, with the message that carries it."""
    found: dict[str, tuple[Message, Answer]] = {}
    for message in sorted(contacts.messages, key=lambda m: m.date):
        for answer in message.answers:
            found.setdefault(answer.question, (message, answer))
    return found


def open_questions(contacts: Contacts) -> list[tuple[Message, Question]]:
    """Questions no message has answered yet."""
    answered = answers_to(contacts)
    return [(m, q) for m, q in contacts.questions() if q.id not in answered]


def open_questions_by_claim(contacts: Contacts) -> dict[str, list[tuple[Message, Question]]]:
    """Open questions grouped by claim id; questions tied to no claim go under ``'(study)'``."""
    grouped: dict[str, list[tuple[Message, Question]]] = {}
    for message, question in open_questions(contacts):
        for claim in question.claims or ["(study)"]:
            grouped.setdefault(claim, []).append((message, question))
    return grouped


def owed_replies(
    contacts: Contacts, today: dt.date, window_days: int | None = None
) -> list[dict[str, Any]]:
    """Messages still waiting for a reply: who owes it, for how long, and whether overdue.

    A sent message without a reply is owed by the authors; a received one by the team.
    """
    window = window_days or contacts.window_days
    owed = []
    for message in contacts.messages:
        if reply_to(contacts, message) is not None:
            continue
        waited = (today - message.date).days
        owed.append({
            "message": message,
            "owed_by": "authors" if message.direction == "sent" else "study team",
            "days": waited,
            "overdue": waited > window,
        })
    return owed


def response_times(contacts: Contacts) -> list[tuple[Message, Message, int]]:
    """``(message, reply, days)`` for every message that was answered."""
    timed = []
    for message in contacts.messages:
        reply = reply_to(contacts, message)
        if reply is not None:
            timed.append((message, reply, (reply.date - message.date).days))
    return timed


@dataclass(frozen=True)
class ContactState:
    """Where a study stands with the authors, in one word and a few numbers.

    ``state`` is ``"none"`` (nothing sent yet), ``"awaiting"`` (a message of ours is
    unanswered; ``days`` since the oldest such message, ``overdue`` past the log's window)
    or ``"answered"`` (every message of ours has a reply).
    """

    state: Literal["none", "awaiting", "answered"]
    days: int | None
    overdue: bool
    open_questions: int
    last_message: dt.date | None


def contact_state(contacts: Contacts | None, today: dt.date) -> ContactState:
    """The state of a study's exchange with its authors as of ``today`` (None: no log)."""
    if contacts is None or not any(m.direction == "sent" for m in contacts.messages):
        last = max((m.date for m in contacts.messages), default=None) if contacts else None
        return ContactState("none", None, False, 0, last)
    waiting = [e for e in owed_replies(contacts, today) if e["owed_by"] == "authors"]
    last = max(m.date for m in contacts.messages)
    still_open = len(open_questions(contacts))
    if waiting:
        return ContactState("awaiting", max(e["days"] for e in waiting),
                            any(e["overdue"] for e in waiting), still_open, last)
    return ContactState("answered", None, False, still_open, last)


# --------------------------------------------------------------------------- editing
def next_id(prefix: str, taken: Iterable[str]) -> str:
    """The next free id with this prefix: ``m3`` after ``m1`` and ``m2``."""
    numbers = [int(t[len(prefix):]) for t in taken
               if t.startswith(prefix) and t[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def parse_question(spec: str, qid: str) -> Question:
    """``'C1,C2: text'`` or ``'text'`` (a question about the study as a whole)."""
    claims, sep, text = spec.partition(":")
    if sep and claims.strip() and " " not in claims.strip():
        return Question(id=qid, text=text.strip(),
                        claims=[c.strip() for c in claims.split(",") if c.strip()])
    return Question(id=qid, text=spec.strip())


def validated_save(contacts: Contacts, path: Path, claim_ids: list[str] | None) -> None:
    """Re-validate the edited log as a whole before anything is written."""
    try:
        contacts = Contacts.model_validate(contacts.model_dump())
    except ValidationError as exc:
        raise ReplikitError(
            "the new entry is not valid", where=str(path),
            found="; ".join(f"{key_path(list(e['loc']))}: {e['msg']}" for e in exc.errors()),
            fix="correct the command's options",
        ) from exc
    problems = check_references(contacts, claim_ids)
    if problems:
        raise ReplikitError(
            "the new entry breaks the log's references", where=str(path),
            found="; ".join(f"{key_path(loc)}: {msg}" for loc, msg in problems),
            fix="correct the ids given to the command",
        )
    save_contacts(contacts, path)
