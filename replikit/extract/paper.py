"""The paper's fields as a package states them: its citation in the README, its metadata.

A README often ends with the BibTeX entry to cite (title, authors, venue, year); an sdist's
``PKG-INFO`` names its authors. What neither states is left for the user with a ``TODO``
that says so, never a made-up value such as "Unknown venue".
"""

from __future__ import annotations

import re
import tempfile
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from replikit.fetch.archives import extract_member, list_entries

TODO = "TODO: {what} (not found in the package's README or metadata)"
_ENTRY = re.compile(r"@\w+\s*\{[^,]*,(?P<body>.*?)\n\s*\}", re.S)
_FIELD = re.compile(r"(?P<key>\w+)\s*=\s*(?:\{(?P<braced>(?:[^{}]|\{[^{}]*\})*)\}|"
                    r"\"(?P<quoted>[^\"]*)\"|(?P<bare>\d+))", re.S)


def package_paper(archive: Path, readme: str | None) -> dict[str, Any]:
    """The paper fields the sdist states: ``title``, ``authors``, ``venue``, ``year``."""
    files = {e.name for e in list_entries(archive) if e.kind == "file"}
    top = {name.split("/", 1)[0] for name in files}
    found: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="replikit-paper-") as work:
        info = f"{top.pop()}/PKG-INFO" if len(top) == 1 else None
        if info in files:
            found.update(_metadata(_read(archive, info, Path(work) / "PKG-INFO")))
        if readme and readme in files:
            found.update(citation(_read(archive, readme, Path(work) / "README")))
    return found


def citation(text: str) -> dict[str, Any]:
    """Title, authors, venue and year of the first BibTeX entry in ``text``."""
    match = _ENTRY.search(text)
    if not match:
        return {}
    fields = {m["key"].lower(): " ".join((m["braced"] or m["quoted"] or m["bare"] or "")
                                         .replace("{", "").replace("}", "").split())
              for m in _FIELD.finditer(match["body"])}
    out: dict[str, Any] = {}
    if fields.get("title"):
        out["title"] = fields["title"]
    if fields.get("author"):
        out["authors"] = [_first_last(a) for a in re.split(r"\s+and\s+", fields["author"])]
    venue = fields.get("booktitle") or fields.get("journal")
    if fields.get("year", "").isdigit():
        out["year"] = int(fields["year"])
    if venue:
        out["venue"] = f"{venue} {fields.get('year', '')}".strip()
    return out


def _metadata(text: str) -> dict[str, Any]:
    headers = HeaderParser().parsestr(text)
    author = headers.get("Author") or re.sub(r"\s*<[^>]*>", "", headers.get("Author-email")
                                             or "")
    names = [a.strip().strip('"') for a in re.split(r",|\band\b", author) if a.strip()]
    return {"authors": names} if names else {}


def _first_last(name: str) -> str:
    last, comma, first = name.partition(",")
    return f"{first.strip()} {last.strip()}" if comma else name.strip()


def _read(archive: Path, member: str, target: Path) -> str:
    extract_member(archive, member, target)
    return target.read_text(encoding="utf-8", errors="replace")
