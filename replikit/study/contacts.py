"""The contact log's file, ``studies/<study>/contacts.yaml``: its model, loading and saving.

The log records who the paper's authors are and every message sent to or received from
them, with the questions asked (each tied to the claims it concerns) and the answers. Like
the manifest, it is loaded with the line number of every error
(:func:`replikit.study.loading.describe_error`). What is done with it (open questions, owed
replies) lives in :mod:`replikit.authors.contacts`; how it is shown, in
:mod:`replikit.publish.communication`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from replikit import paths, safe_yaml
from replikit.errors import ReplikitError
from replikit.fileio import write_text
from replikit.study.base import NAME, Strict
from replikit.study.loading import describe_error, key_path, line_of

DEFAULT_WINDOW_DAYS = 30
CHANNEL_LABELS = {"email": "e-mail", "github-issue": "GitHub issues", "other": "another channel"}
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def redact(text: str) -> str:
    """Replace every e-mail address in ``text`` by ``[e-mail withheld]``."""
    return EMAIL_RE.sub("[e-mail withheld]", text)


# --------------------------------------------------------------------------- schema
class Author(Strict):
    """One author of the paper, as listed in the paper."""

    name: str = Field(description="Name as printed in the paper")
    role: str = Field("author", description="e.g. 'first author', 'corresponding author'")
    email: str | None = Field(None, description="Only an address the author made public")
    affiliation: str | None = Field(None, description="Affiliation as printed in the paper")
    preferred_channel: Literal["email", "github-issue", "other"] | None = Field(
        None, description="The channel the author asks people to use, if stated"
    )
    channel_url: str | None = Field(None, description="Where to write on that channel")
    notes: str | None = Field(None, description="Anything that matters when writing to them")

    @field_validator("email")
    @classmethod
    def _email_form(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL_RE.fullmatch(value):
            raise ValueError(f"an e-mail address like 'name@example.org', got {value!r}")
        return value


class Question(Strict):
    id: NAME = Field(description="Unique in the file, e.g. 'q1'")
    text: str
    claims: list[str] = Field(default_factory=list, description="Claim ids it concerns")


class Answer(Strict):
    question: str = Field(description="Id of the question answered")
    text: str = Field(description="The answer, in a sentence or two")


class Message(Strict):
    id: NAME = Field(description="Unique in the file, e.g. 'm1'")
    # Read as text (see _DatesAsText) and parsed here, so a bad date gets a line number.
    date: dt.date = Field(strict=False)
    direction: Literal["sent", "received"] = Field(
        description="'sent' by the study's team, or 'received' from an author"
    )
    authors: list[str] = Field(min_length=1, description="Author names written to or from")
    channel: Literal["email", "github-issue", "other"] = "email"
    subject: str
    summary: str = Field(description="What the message says, in a few lines")
    in_reply_to: str | None = Field(None, description="Id of the message it answers")
    url: str | None = Field(None, description="Link to the message, e.g. a GitHub issue")
    questions: list[Question] = Field(default_factory=list)
    answers: list[Answer] = Field(default_factory=list)
    attachments: list[str] = Field(default_factory=list, description="File names attached")


class Contacts(Strict):
    """The whole contact log of one study."""

    model_config = Strict.model_config | {"frozen": False}

    schema_version: Literal[1] = 1
    study: NAME
    window_days: int = Field(
        DEFAULT_WINDOW_DAYS, ge=1, description="Days after which a message counts as unanswered"
    )
    authors: list[Author] = Field(min_length=1)
    messages: list[Message] = Field(default_factory=list)

    def message(self, message_id: str) -> Message:
        for message in self.messages:
            if message.id == message_id:
                return message
        raise KeyError(message_id)

    def questions(self) -> list[tuple[Message, Question]]:
        """Every question with the message that asked it, in file order."""
        return [(m, q) for m in self.messages for q in m.questions]


# --------------------------------------------------------------------------- loading
class _DatesAsText(safe_yaml.FAST_LOADER):
    """PyYAML turns ``2026-13-40`` into a crash, not an error with a line: leave dates as text
    and let the schema parse them, so a bad date is reported like any other bad value."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in safe_yaml.FAST_LOADER.yaml_implicit_resolvers.items()
}


def contacts_path(study: str, root: str | Path = ".") -> Path:
    """Path of a study's contact log (which may not exist yet)."""
    return Path(root) / paths.study_dir(study) / paths.CONTACTS


def load_contacts(
    path: str | Path, claim_ids: Iterable[str] | None = None
) -> Contacts:
    """Read and validate a contact log.

    Parameters
    ----------
    path
        The ``contacts.yaml`` file.
    claim_ids
        The claim ids of the study; when given, questions naming any other id are errors.

    Raises
    ------
    ReplikitError
        Naming the file, each bad key with its line, what was expected and what was found.
    """
    path = Path(path)
    if not path.exists():
        raise ReplikitError(
            "no contact log", where=str(path),
            fix=f"start one with 'replikit contact add-author {path.parent.name} --name ...'",
        )
    data, node = safe_yaml.load_file(path, _DatesAsText)
    try:
        contacts = Contacts.model_validate(data)
    except ValidationError as exc:
        raise ReplikitError(
            f"{exc.error_count()} problem(s) in the contact log", where=str(path),
            found="\n    " + "\n    ".join(describe_error(err, node) for err in exc.errors()),
            fix="correct the keys listed above",
        ) from exc
    problems = check_references(contacts, claim_ids)
    if problems:
        lines = []
        for loc, message in problems:
            line = line_of(node, loc)
            key = key_path(loc)
            lines.append(f"{key} (line {line}): {message}" if line else f"{key}: {message}")
        raise ReplikitError(
            f"{len(problems)} broken reference(s) in the contact log", where=str(path),
            found="\n    " + "\n    ".join(lines),
            fix="point replies, answers and claims at ids that exist (and come earlier)",
        )
    return contacts


def check_references(
    contacts: Contacts, claim_ids: Iterable[str] | None = None
) -> list[tuple[list[Any], str]]:
    """Cross-checks the schema cannot express; returns ``(key path, problem)`` pairs."""
    known_claims = set(claim_ids) if claim_ids is not None else None
    authors = {a.name for a in contacts.authors}
    problems: list[tuple[list[Any], str]] = []
    seen_messages: dict[str, Message] = {}
    asked: dict[str, dt.date] = {}
    for i, message in enumerate(contacts.messages):
        at = ["messages", i]
        if message.id in seen_messages:
            problems.append(([*at, "id"], f"message id {message.id!r} is used twice"))
        problems += _check_reply(message, seen_messages, contacts, at)
        for name in message.authors:
            if name not in authors:
                problems.append(([*at, "authors"], f"names {name!r}, who is not among the "
                                 f"authors (known: {sorted(authors)})"))
        for j, question in enumerate(message.questions):
            if question.id in asked:
                problems.append(([*at, "questions", j, "id"],
                                 f"question id {question.id!r} is used twice"))
            asked[question.id] = message.date
            for claim in question.claims:
                if known_claims is not None and claim not in known_claims:
                    problems.append(([*at, "questions", j, "claims"],
                                     f"unknown claim id {claim!r} (the study's claims: "
                                     f"{', '.join(sorted(known_claims))})"))
        for j, answer in enumerate(message.answers):
            if answer.question not in asked:
                problems.append(([*at, "answers", j, "question"],
                                 f"answers question {answer.question!r}, which no earlier "
                                 "message asks"))
            elif asked[answer.question] > message.date:
                problems.append(([*at, "answers", j, "question"],
                                 f"answers question {answer.question!r} before it was asked"))
        seen_messages[message.id] = message
    return problems


def _check_reply(
    message: Message, earlier: dict[str, Message], contacts: Contacts, at: list[Any]
) -> list[tuple[list[Any], str]]:
    if message.in_reply_to is None:
        return []
    where = [*at, "in_reply_to"]
    if message.in_reply_to not in earlier:
        later = any(m.id == message.in_reply_to for m in contacts.messages)
        why = "which comes later in the log" if later else "which does not exist"
        return [(where, f"replies to message {message.in_reply_to!r}, {why}")]
    original = earlier[message.in_reply_to]
    if original.date > message.date:
        return [(where, f"is dated {message.date}, before the message it answers "
                 f"({original.id}, {original.date})")]
    return []


def save_contacts(contacts: Contacts, path: str | Path) -> Path:
    """Write the log as YAML, atomically (comments in a hand-edited file are not kept)."""
    data = contacts.model_dump(mode="json", exclude_defaults=False)
    for author in data["authors"]:
        for key in [k for k, v in author.items() if v is None]:
            del author[key]
    for message in data["messages"]:
        for key in [k for k, v in message.items() if v is None or v == []]:
            del message[key]
    header = (f"# Contact log of the study '{contacts.study}' with the paper's authors.\n"
              "# Edited with 'replikit contact ...'; see docs/authors-and-zotero.md.\n")
    return write_text(path, header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                                                    width=92))
