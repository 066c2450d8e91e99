"""``replikit contact ...``: keep the contact log with the paper's authors from the terminal."""

from __future__ import annotations

import argparse
from pathlib import Path

from replikit.authors.contacts import (
    next_id,
    open_questions_by_claim,
    owed_replies,
    parse_question,
    validated_save,
)
from replikit.cli.common import parse_today
from replikit.errors import ReplikitError
from replikit.publish.communication import contacts_markdown
from replikit.study import load_study, study_path
from replikit.study.contacts import (
    CHANNEL_LABELS,
    Answer,
    Author,
    Contacts,
    Message,
    contacts_path,
    load_contacts,
)


def _study_claim_ids(study: str, root: str | Path) -> list[str] | None:
    """Claim ids from the study manifest, or None if it cannot be read."""
    try:
        return [c.id for c in load_study(study, root).claims]
    except ReplikitError:
        return None


def _existing_study_log(args: argparse.Namespace) -> Path:
    """The contact log's path, once the study is known to exist (no folder made for a typo)."""
    study_path(args.study, args.root)
    return contacts_path(args.study, args.root)


def _load_for_command(args: argparse.Namespace) -> tuple[Contacts, Path]:
    path = _existing_study_log(args)
    return load_contacts(path, _study_claim_ids(args.study, args.root)), path


def cmd_add_author(args: argparse.Namespace) -> int:
    path = _existing_study_log(args)
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
    validated_save(contacts, path, _study_claim_ids(args.study, args.root))
    print(f"{path}: added author {author.name}")
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    contacts, path = _load_for_command(args)
    taken_q = [q.id for _, q in contacts.questions()]
    questions = []
    for spec in args.question or []:
        qid = next_id("q", taken_q)
        taken_q.append(qid)
        questions.append(parse_question(spec, qid))
    answers = [Answer(question=q, text=t.strip()) for q, _, t in
               (a.partition("=") for a in args.answer or [])]
    message = Message(
        id=next_id("m", [m.id for m in contacts.messages]),
        date=parse_today(args.date, "--date"),
        direction=args.direction, authors=args.author or [a.name for a in contacts.authors],
        channel=args.channel, subject=args.subject, summary=args.summary,
        in_reply_to=args.in_reply_to, url=args.url, questions=questions, answers=answers,
        attachments=args.attachment or [],
    )
    contacts.messages.append(message)
    validated_save(contacts, path, _study_claim_ids(args.study, args.root))
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
    validated_save(contacts, path, _study_claim_ids(args.study, args.root))
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
    today = parse_today(args.today)
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
    contacts, _ = _load_for_command(args)
    today = parse_today(args.today)
    claims = load_study(args.study, args.root).claims
    print(contacts_markdown(contacts, claims, today, args.window or contacts.window_days,
                            redact_emails=not args.show_emails), end="")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    contact = sub.add_parser("contact", help="the contact log with the paper's authors")
    csub = contact.add_subparsers(dest="contact_command", required=True, metavar="ACTION")

    p = csub.add_parser("add-author", help="add an author (creates the log if needed)")
    p.add_argument("study")
    p.add_argument("--name", required=True, help="as printed in the paper")
    p.add_argument("--role", default="author")
    p.add_argument("--email", help="only an address the author made public")
    p.add_argument("--affiliation")
    p.add_argument("--channel", choices=list(CHANNEL_LABELS),
                   help="the channel the author asks people to use")
    p.add_argument("--channel-url")
    p.add_argument("--notes")
    p.set_defaults(func=cmd_add_author)

    p = csub.add_parser("log", help="record a message sent or received")
    p.add_argument("study")
    p.add_argument("--direction", required=True, choices=["sent", "received"])
    p.add_argument("--date", help="YYYY-MM-DD (default: today)")
    p.add_argument("--author", action="append", help="author name (repeat; default: all)")
    p.add_argument("--channel", default="email", choices=list(CHANNEL_LABELS))
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
