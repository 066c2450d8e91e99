"""The lab's Zotero library: pull a paper's metadata in, push a study's outcome back.

Reading groups keep their papers in Zotero. ``pull`` fetches the paper's item (by item key
or DOI) through pyzotero, fills the ``paper:`` block of the study manifest and writes the
study's bibliography (``studies/<study>/references.bib``, BibTeX as Zotero exports it).
``push`` adds a child note with the verdict table and a link to the report, attaches the
PDF report, and tags the item ``repro:<outcome>`` so the library shows where every paper
stands.

Credentials come from the environment, or from the system keyring, never from the manifest,
logs or reports:

``ZOTERO_LIBRARY_ID`` and ``ZOTERO_LIBRARY_TYPE`` (``user`` or ``group``);
``ZOTERO_API_KEY``, or a keyring entry (service ``replikit-zotero``, user name = the library
id) when the optional ``keyring`` package is installed; ``ZOTERO_API_URL`` to talk to another
server speaking the Zotero web API (a self-hosted one, or the tests' local server).

Rate limits (HTTP 429 with ``Backoff``/``Retry-After``) are first waited out by pyzotero;
what still fails with a rate limit, a server error (5xx) or a network error is retried here
with exponential backoff, and ends in a :class:`ReplikitError` that says what to do.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from replikit.errors import ReplikitError, first_line
from replikit.fileio import write_text
from replikit.publish.zotero_note import study_note
from replikit.study import load_study, study_path
from replikit.study.editing import merge_paper, update_paper_block, write_validated_manifest

KEYRING_SERVICE = "replikit-zotero"
NOTE_TAG = "replikit-report"
OUTCOME_PREFIX = "repro:"
BIBLIOGRAPHY = "references.bib"
T = TypeVar("T")

if TYPE_CHECKING:  # pyzotero is imported when used: it costs the command line 0.4 s to load
    from pyzotero import zotero


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class ZoteroSettings:
    """Where the library is and how to authenticate; the key never appears in its repr."""

    library_id: str
    library_type: str
    api_key: str | None = field(default=None, repr=False)
    endpoint: str | None = None


def settings_from_env(environ: dict[str, str] | None = None) -> ZoteroSettings:
    """Read :class:`ZoteroSettings` from ``ZOTERO_*`` variables (and the keyring for the key)."""
    env = os.environ if environ is None else environ
    library_id = env.get("ZOTERO_LIBRARY_ID", "").strip()
    library_type = env.get("ZOTERO_LIBRARY_TYPE", "user").strip().lower()
    if not library_id.isdigit():
        raise ReplikitError(
            "no Zotero library given", where="environment: ZOTERO_LIBRARY_ID",
            expected="the numeric id of a user or group library",
            found=repr(library_id) if library_id else "unset",
            fix="export ZOTERO_LIBRARY_ID=<id> (zotero.org/settings/keys shows your user id; "
                "a group's id is in its URL)",
        )
    if library_type not in ("user", "group"):
        raise ReplikitError("unknown library type", where="environment: ZOTERO_LIBRARY_TYPE",
                            expected="'user' or 'group'", found=repr(library_type),
                            fix="export ZOTERO_LIBRARY_TYPE=user (or group)")
    api_key = env.get("ZOTERO_API_KEY") or _key_from_keyring(library_id)
    return ZoteroSettings(library_id=library_id, library_type=library_type, api_key=api_key,
                          endpoint=env.get("ZOTERO_API_URL") or None)


def _key_from_keyring(library_id: str) -> str | None:
    """The API key stored with ``keyring set replikit-zotero <library id>``, if any."""
    try:
        import keyring  # optional: only where the user installed it
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, library_id)
    except Exception:  # a locked or absent keyring backend: behave as if no key is stored
        return None


def connect(settings: ZoteroSettings) -> zotero.Zotero:
    """A pyzotero client for the library, pointed at ``settings.endpoint`` when given.

    pyzotero keeps the API's base URL in the client's ``endpoint`` attribute and builds
    every request (reads, writes, the upload handshake) from it, so setting it is enough to
    talk to another server that speaks the web API.
    """
    from pyzotero import zotero

    client = zotero.Zotero(settings.library_id, settings.library_type, settings.api_key)
    if settings.endpoint:
        client.endpoint = settings.endpoint.rstrip("/")
    return client


# --------------------------------------------------------------------------- retries
def _retryable(exc: BaseException) -> bool:
    import httpx2
    from pyzotero import errors as zerrors

    if isinstance(exc, httpx2.TransportError | zerrors.TooManyRetriesError
                  | zerrors.TooManyRequestsError):
        return True
    return isinstance(exc, zerrors.HTTPError) and bool(re.search(r"Code: 5\d\d", str(exc)))


RETRY_ATTEMPTS = 4
RETRY_BASE_DELAY_S = 1.0


def with_retries(
    action: Callable[[], T], what: str, *, attempts: int | None = None,
    base_delay: float | None = None, sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``action``, retrying rate limits, server and network errors with backoff.

    The delays double from ``base_delay`` (1, 2, 4 s by default). Errors that a retry cannot
    fix (no such item, no permission) end at once.
    """
    from pyzotero import errors as zerrors

    attempts = attempts or RETRY_ATTEMPTS
    base_delay = RETRY_BASE_DELAY_S if base_delay is None else base_delay
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except zerrors.UserNotAuthorisedError as exc:
            raise ReplikitError(
                f"Zotero refused to {what}", found="the API key is missing or lacks access",
                fix="check ZOTERO_API_KEY (or the keyring entry) and the key's permissions "
                    "for this library (reading, and writing for push)",
            ) from exc
        except zerrors.ResourceNotFoundError as exc:
            raise ReplikitError(f"Zotero could not find what was needed to {what}",
                                found="HTTP 404",
                                fix="check the item key and ZOTERO_LIBRARY_ID/TYPE") from exc
        except Exception as exc:
            if not _retryable(exc):
                raise
            if attempt == attempts:
                raise ReplikitError(
                    f"could not {what} after {attempts} attempts",
                    found=f"{type(exc).__name__}: {first_line(exc)}",
                    fix="the Zotero server is rate-limiting, failing or unreachable; "
                        "wait a few minutes and run the command again",
                ) from exc
            sleep(base_delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- pull
def find_paper(client: zotero.Zotero, *, key: str | None = None, doi: str | None = None
               ) -> dict[str, Any]:
    """The paper's item, by item key or else by DOI (searching every field)."""
    if key:
        return with_retries(lambda: client.item(key), f"fetch item {key}")
    if not doi:
        raise ReplikitError("no item to look for",
                            fix="give --key, --doi, or set paper.zotero / paper.doi")
    found = with_retries(lambda: client.items(q=doi, qmode="everything", limit=50),
                         f"search for doi {doi}")
    matches = [item for item in found if _item_doi(item) == doi.lower()]
    if not matches:
        raise ReplikitError(
            f"no item with DOI {doi} in the Zotero library",
            found=f"{len(found)} search hit(s), none with that DOI",
            fix="add the paper to the library (or give its item key with --key)",
        )
    return matches[0]


def _item_doi(item: dict[str, Any]) -> str:
    data = item.get("data", {})
    if data.get("DOI"):
        return data["DOI"].strip().lower()
    match = re.search(r"^DOI:\s*(\S+)", data.get("extra", ""), flags=re.M | re.I)
    return match.group(1).lower() if match else ""


def paper_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``paper:`` fields that a Zotero item can fill."""
    data = item["data"]
    authors = [_creator_name(c) for c in data.get("creators", [])
               if c.get("creatorType", "author") == "author"]
    fields: dict[str, Any] = {"title": data.get("title") or None, "authors": authors or None,
                              "doi": _item_doi(item) or None, "url": data.get("url") or None,
                              "zotero": item["key"]}
    year = re.search(r"\b(1[89]\d\d|20\d\d|2100)\b", data.get("date", ""))
    fields["year"] = int(year.group(1)) if year else None
    venue = data.get("publicationTitle") or data.get("proceedingsTitle") \
        or data.get("conferenceName")
    if venue and year:
        fields["venue"] = f"{venue} {year.group(1)}"
    return {k: v for k, v in fields.items() if v is not None}


def _creator_name(creator: dict[str, str]) -> str:
    if creator.get("name"):
        return creator["name"]
    return f"{creator.get('firstName', '')} {creator.get('lastName', '')}".strip()


def fetch_bibtex(client: zotero.Zotero, key: str) -> str:
    """The item as Zotero exports it to BibTeX."""
    import bibtexparser

    database = with_retries(lambda: client.item(key, format="bibtex"),
                            f"export item {key} as BibTeX")
    if not database.entries:
        raise ReplikitError(f"Zotero returned no BibTeX entry for item {key}",
                            fix="check that the item is a bibliographic item, not a note")
    return bibtexparser.dumps(database)


@dataclass
class PullResult:
    item_key: str
    changes: list[str]
    bibliography: Path


def pull(study: str, root: str | Path, settings: ZoteroSettings, *, key: str | None = None,
         doi: str | None = None, overwrite: bool = False, client: zotero.Zotero | None = None
         ) -> PullResult:
    """Fetch the paper from Zotero, fill the manifest's paper block, write the bibliography.

    The new manifest is validated before it replaces the old one; nothing is written if
    the result would not load.
    """
    manifest = study_path(study, root)
    loaded = load_study(study, root)
    client = client or connect(settings)
    item = find_paper(client, key=key or loaded.paper.zotero,
                      doi=doi or (None if key or loaded.paper.zotero else loaded.paper.doi))
    current = loaded.paper.model_dump(exclude_none=True)
    merged, changes = merge_paper(current, paper_fields(item), overwrite)
    updates = {k: v for k, v in merged.items() if current.get(k) != v}
    text = manifest.read_text(encoding="utf-8")
    new_text = update_paper_block(text, updates) if updates else text
    bib_path = manifest.parent / BIBLIOGRAPHY
    bibtex = fetch_bibtex(client, item["key"])
    if new_text != text:
        write_validated_manifest(manifest, new_text)
    write_text(bib_path, f"% {loaded.name}: the paper, exported from Zotero item {item['key']}"
                         f"\n{bibtex}")
    return PullResult(item_key=item["key"], changes=changes, bibliography=bib_path)


# --------------------------------------------------------------------------- push
# --------------------------------------------------------------------------- push
@dataclass
class PushResult:
    item_key: str
    outcome: str
    note_key: str
    attachment_key: str | None
    note_updated: bool


def push(study: str, root: str | Path, settings: ZoteroSettings, ledger_csv: str | Path,
         report_pdf: str | Path | None, *, report_url: str | None = None,
         today: dt.date | None = None, client: zotero.Zotero | None = None) -> PushResult:
    """Write the study's outcome to the paper's Zotero item: note, PDF, ``repro:`` tag.

    A note written by an earlier push (tagged ``replikit-report``) is updated rather than
    duplicated; earlier ``repro:`` tags are replaced.
    """
    loaded = load_study(study, root)
    note = study_note(loaded.name, loaded.paper.title, ledger_csv, report_url,
                      today or dt.date.today())
    client = client or connect(settings)
    item = find_paper(client, key=loaded.paper.zotero,
                      doi=None if loaded.paper.zotero else loaded.paper.doi)
    key = item["key"]
    note_key, updated = _put_note(client, key, note.html)
    attachment_key = _attach_report(client, key, Path(report_pdf), loaded.name) \
        if report_pdf else None
    _set_outcome_tag(client, key, note.outcome)
    return PushResult(item_key=key, outcome=note.outcome, note_key=note_key,
                      attachment_key=attachment_key, note_updated=updated)


def _put_note(client: zotero.Zotero, parent: str, note_html: str) -> tuple[str, bool]:
    children = with_retries(lambda: client.children(parent), f"list the children of {parent}")
    for child in children:
        data = child.get("data", {})
        if data.get("itemType") == "note" and any(
                t.get("tag") == NOTE_TAG for t in data.get("tags", [])):
            data["note"] = note_html
            with_retries(lambda data=data: client.update_item(data),
                         f"update note {child['key']}")
            return child["key"], True
    template = with_retries(lambda: client.item_template("note"), "get the note template")
    template["note"] = note_html
    template["tags"] = [{"tag": NOTE_TAG}]
    created = with_retries(lambda: client.create_items([template], parentid=parent),
                           f"add a note to {parent}")
    return _created_key(created, "note"), False


def _created_key(response: dict[str, Any], what: str) -> str:
    if response.get("success"):
        return next(iter(response["success"].values()))
    raise ReplikitError(f"Zotero did not create the {what}",
                        found=str(response.get("failed") or response))


def _attach_report(client: zotero.Zotero, parent: str, pdf: Path, study: str) -> str:
    """Upload the PDF as a child attachment, replacing the file of an earlier push."""
    if not pdf.exists():
        raise ReplikitError("the PDF report is missing", where=str(pdf),
                            fix=f"run snakemake study={study} first")
    title = f"Reproducibility report ({study})"
    children = with_retries(lambda: client.children(parent), f"list the children of {parent}")
    earlier = next((c for c in children if c["data"].get("itemType") == "attachment"
                    and c["data"].get("linkMode") == "imported_file"
                    and c["data"].get("title") == title), None)
    if earlier is not None:
        # the file goes to the existing item; an unchanged file is recognised by its md5
        payload = [{"key": earlier["key"], "filename": str(pdf),
                    "md5": earlier["data"].get("md5") or None}]
        result = with_retries(lambda: client.upload_attachments(payload),
                              f"replace the report on {earlier['key']}")
    else:
        result = with_retries(lambda: client.attachment_both([(title, str(pdf))],
                                                             parentid=parent),
                              f"attach {pdf.name} to {parent}")
    done = result.get("success", []) + result.get("unchanged", [])
    if not done:
        raise ReplikitError(f"Zotero did not store {pdf.name}",
                            found=str(result.get("failure")))
    return done[0]["key"]


def _set_outcome_tag(client: zotero.Zotero, key: str, outcome: str) -> None:
    item = with_retries(lambda: client.item(key), f"fetch item {key}")
    data = item["data"]
    tags = [t for t in data.get("tags", []) if not t["tag"].startswith(OUTCOME_PREFIX)]
    data["tags"] = [*tags, {"tag": OUTCOME_PREFIX + outcome}]
    with_retries(lambda: client.update_item(data), f"tag item {key}")
