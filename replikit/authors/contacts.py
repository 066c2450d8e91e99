"""The contact log with a paper's original authors: ``studies/<study>/contacts.yaml``.

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
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from replikit.errors import ReplikitError
from replikit.fileio import write_text
from replikit.publish.text import latex_escape
from replikit.study.base import NAME, Strict
from replikit.study.loading import STUDIES_DIR, describe_error, key_path, line_of

CONTACTS = "contacts.yaml"
DEFAULT_WINDOW_DAYS = 30
CHANNEL_LABELS = {"email": "e-mail", "github-issue": "GitHub issues", "other": "another channel"}
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


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
    date: dt.date
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
class _DatesAsText(yaml.SafeLoader):
    """PyYAML turns ``2026-13-40`` into a crash, not an error with a line: leave dates as text
    and let the schema parse them, so a bad date is reported like any other bad value."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def contacts_path(study: str, root: str | Path = ".") -> Path:
    """Path of a study's contact log (which may not exist yet)."""
    return Path(root) / STUDIES_DIR / study / CONTACTS


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
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=_DatesAsText)
        data = yaml.load(text, Loader=_DatesAsText)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise ReplikitError(
            "is not valid YAML", where=str(path), found=str(exc).replace("\n", " "),
            fix="fix the YAML syntax at the line shown",
        ) from exc
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


# --------------------------------------------------------------------------- rendering
def redact(text: str) -> str:
    """Replace every e-mail address in ``text`` by ``[e-mail withheld]``."""
    return EMAIL_RE.sub("[e-mail withheld]", text)


def _claim_ids(claims: Iterable[Any]) -> list[str]:
    return [c if isinstance(c, str) else c.id for c in claims]


def _cell(text: str | None, redact_emails: bool) -> str:
    text = " ".join((text or "").split()).replace("|", "\\|")
    return redact(text) if redact_emails else text


def _authors_table(contacts: Contacts, redact_emails: bool) -> list[str]:
    lines = ["| Author | Role | Affiliation | E-mail | Preferred channel |",
             "|---|---|---|---|---|"]
    for a in contacts.authors:
        email = ("withheld" if redact_emails else a.email) if a.email else "not recorded"
        channel = CHANNEL_LABELS[a.preferred_channel] if a.preferred_channel else "not stated"
        if a.channel_url:
            channel += f" ({a.channel_url})"
        lines.append(f"| {a.name} | {a.role} | {a.affiliation or 'not recorded'} | {email} "
                     f"| {channel} |")
    notes = [f"- {a.name}: {_cell(a.notes, redact_emails)}" for a in contacts.authors if a.notes]
    return lines + ([""] + notes if notes else [])


def _timeline(contacts: Contacts, redact_emails: bool) -> list[str]:
    lines = ["| Date | Id | Direction | Channel | With | Subject | Summary | Reply to |",
             "|---|---|---|---|---|---|---|---|"]
    for m in sorted(contacts.messages, key=lambda m: m.date):
        lines.append(
            f"| {m.date} | {m.id} | {m.direction} | {m.channel} | {', '.join(m.authors)} "
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
        lines.append(f"- **{claim}**")
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
        return text + "\n"
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


# --------------------------------------------------------------------------- commands
def _study_claim_ids(study: str, root: str | Path) -> list[str] | None:
    """Claim ids from the study manifest, or None if it cannot be read."""
    from replikit.study import load_study

    try:
        return [c.id for c in load_study(study, root).claims]
    except ReplikitError:
        return None


def _load_for_command(args: argparse.Namespace) -> tuple[Contacts, Path]:
    path = contacts_path(args.study, args.root)
    return load_contacts(path, _study_claim_ids(args.study, args.root)), path


def next_id(prefix: str, taken: Iterable[str]) -> str:
    numbers = [int(t[len(prefix):]) for t in taken
               if t.startswith(prefix) and t[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def _parse_question(spec: str, qid: str) -> Question:
    """``'C1,C2: text'`` or ``'text'`` (a question about the study as a whole)."""
    claims, sep, text = spec.partition(":")
    if sep and claims.strip() and " " not in claims.strip():
        return Question(id=qid, text=text.strip(),
                        claims=[c.strip() for c in claims.split(",") if c.strip()])
    return Question(id=qid, text=spec.strip())


def _validated_save(contacts: Contacts, path: Path, claim_ids: list[str] | None) -> None:
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


def cmd_add_author(args: argparse.Namespace) -> int:
    path = contacts_path(args.study, args.root)
    author = Author(name=args.name, role=args.role, email=args.email,
                    affiliation=args.affiliation, preferred_channel=args.channel,
                    channel_url=args.channel_url, notes=args.notes)
    if path.exists():
        contacts, _ = _load_for_command(args)
        if any(a.name == author.name for a in contacts.authors):
            raise ReplikitError(f"author {author.name!r} is already listed", where=str(path),
                                fix="edit the entry in the file, or use another name")
        contacts.authors.append(author)
    else:
        contacts = Contacts(study=args.study, authors=[author])
    _validated_save(contacts, path, _study_claim_ids(args.study, args.root))
    print(f"{path}: added author {author.name}")
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    contacts, path = _load_for_command(args)
    taken_q = [q.id for _, q in contacts.questions()]
    questions = []
    for spec in args.question or []:
        qid = next_id("q", taken_q)
        taken_q.append(qid)
        questions.append(_parse_question(spec, qid))
    answers = [Answer(question=q, text=t.strip()) for q, _, t in
               (a.partition("=") for a in args.answer or [])]
    message = Message(
        id=next_id("m", [m.id for m in contacts.messages]),
        date=dt.date.fromisoformat(args.date) if args.date else dt.date.today(),
        direction=args.direction, authors=args.author or [a.name for a in contacts.authors],
        channel=args.channel, subject=args.subject, summary=args.summary,
        in_reply_to=args.in_reply_to, url=args.url, questions=questions, answers=answers,
        attachments=args.attachment or [],
    )
    contacts.messages.append(message)
    _validated_save(contacts, path, _study_claim_ids(args.study, args.root))
    asked = f" with questions {', '.join(q.id for q in questions)}" if questions else ""
    print(f"{path}: logged {message.id} ({message.direction}, {message.date}){asked}")
    return 0


def cmd_answer(args: argparse.Namespace) -> int:
    contacts, path = _load_for_command(args)
    try:
        message = contacts.message(args.message)
    except KeyError:
        raise ReplikitError(
            f"no message {args.message!r} in the log", where=str(path),
            expected=f"one of {[m.id for m in contacts.messages]}",
            fix="log the reply first with 'replikit contact log ... --direction received'",
        ) from None
    message.answers.append(Answer(question=args.question, text=args.text))
    _validated_save(contacts, path, _study_claim_ids(args.study, args.root))
    print(f"{path}: {args.question} answered in {message.id}")
    return 0


def cmd_open(args: argparse.Namespace) -> int:
    contacts, _ = _load_for_command(args)
    grouped = open_questions_by_claim(contacts)
    if not grouped:
        print("no open questions")
    for claim, entries in grouped.items():
        print(claim)
        for message, question in entries:
            print(f"  {question.id} (asked {message.date} in {message.id}): {question.text}")
    return 0


def cmd_owed(args: argparse.Namespace) -> int:
    contacts, _ = _load_for_command(args)
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    window = args.window or contacts.window_days
    owed = owed_replies(contacts, today, window)
    if not contacts.messages:
        print("no contact yet: no message has been sent or received")
    elif not owed:
        print("nobody owes a reply")
    for entry in owed:
        m = entry["message"]
        flag = f"  OVERDUE (> {window} days)" if entry["overdue"] else ""
        print(f"{entry['owed_by']} owe a reply to {m.id} ({m.date}, {m.subject!r}): "
              f"{entry['days']} day(s){flag}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from replikit.study import load_study

    contacts, _ = _load_for_command(args)
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    claims = load_study(args.study, args.root).claims
    print(contacts_markdown(contacts, claims, today, args.window or contacts.window_days,
                            redact_emails=not args.show_emails), end="")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``replikit contact ...`` to the command line."""
    contact = sub.add_parser("contact", help="the contact log with the paper's authors")
    csub = contact.add_subparsers(dest="contact_command", required=True, metavar="ACTION")

    p = csub.add_parser("add-author", help="add an author (creates the log if needed)")
    p.add_argument("study")
    p.add_argument("--name", required=True, help="as printed in the paper")
    p.add_argument("--role", default="author")
    p.add_argument("--email", help="only an address the author made public")
    p.add_argument("--affiliation")
    p.add_argument("--channel", choices=["email", "github-issue", "other"],
                   help="the channel the author asks people to use")
    p.add_argument("--channel-url")
    p.add_argument("--notes")
    p.set_defaults(func=cmd_add_author)

    p = csub.add_parser("log", help="record a message sent or received")
    p.add_argument("study")
    p.add_argument("--direction", required=True, choices=["sent", "received"])
    p.add_argument("--date", help="YYYY-MM-DD (default: today)")
    p.add_argument("--author", action="append", help="author name (repeat; default: all)")
    p.add_argument("--channel", default="email", choices=["email", "github-issue", "other"])
    p.add_argument("--subject", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--in-reply-to", help="id of the message this one answers")
    p.add_argument("--url", help="link to the message (e.g. a GitHub issue)")
    p.add_argument("--question", action="append",
                   help="'CLAIM[,CLAIM]: text' or 'text' (repeat)")
    p.add_argument("--answer", action="append", help="'QUESTION_ID=text' (repeat)")
    p.add_argument("--attachment", action="append", help="attached file name (repeat)")
    p.set_defaults(func=cmd_log)

    p = csub.add_parser("answer", help="record an answer carried by a logged message")
    p.add_argument("study")
    p.add_argument("--question", required=True, help="question id, e.g. q1")
    p.add_argument("--message", required=True, help="id of the message carrying the answer")
    p.add_argument("--text", required=True)
    p.set_defaults(func=cmd_answer)

    p = csub.add_parser("open", help="show the open questions per claim")
    p.add_argument("study")
    p.set_defaults(func=cmd_open)

    p = csub.add_parser("show", help="print the report's communication section (Markdown)")
    p.add_argument("study")
    p.add_argument("--today", help="YYYY-MM-DD (default: today)")
    p.add_argument("--window", type=int, help="days before a reply is overdue")
    p.add_argument("--show-emails", action="store_true", help="do not withhold addresses")
    p.set_defaults(func=cmd_show)

    p = csub.add_parser("owed", aliases=["owes"],
                        help="show who owes a reply, flagging overdue ones")
    p.add_argument("study")
    p.add_argument("--today", help="YYYY-MM-DD (default: today)")
    p.add_argument("--window", type=int, help="days before a reply is overdue")
    p.set_defaults(func=cmd_owed)
