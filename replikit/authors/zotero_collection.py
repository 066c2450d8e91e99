"""The reading group's Zotero collection: which papers have a study, which are not started.

A group files the papers it means to reproduce in one collection of its Zotero library
(named by ``ZOTERO_COLLECTION``, or ``replikit site --collection``). A study belongs to a
collection item when its manifest's ``paper.zotero`` is the item's key, or, without a key,
when both give the same DOI (as ``replikit zotero pull`` finds the item). Items of the
collection that no study belongs to are the papers claimed but not started.

The library is read through :func:`replikit.authors.zotero.connect` and
:func:`replikit.authors.zotero.with_retries`, with the same settings and retries as
``replikit zotero pull | push``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from replikit.authors.zotero import ZoteroSettings, connect, paper_fields, with_retries
from replikit.errors import ReplikitError
from replikit.study import Study

if TYPE_CHECKING:
    from pyzotero import zotero

COLLECTION_VARIABLE = "ZOTERO_COLLECTION"
_NOT_PAPERS = ("note", "attachment", "annotation")


@dataclass(frozen=True)
class Paper:
    """One bibliographic item of the collection, as the site and the command line show it."""

    key: str
    title: str
    authors: tuple[str, ...]
    year: int | None
    doi: str | None


@dataclass(frozen=True)
class CollectionView:
    """The collection, the studies filed in it, and its papers without a study."""

    key: str
    name: str
    studies: frozenset[str]
    not_started: tuple[Paper, ...]


def collection_from_env(given: str | None = None,
                        environ: dict[str, str] | None = None) -> str:
    """The collection's key or name: ``given``, else ``ZOTERO_COLLECTION``."""
    env = os.environ if environ is None else environ
    wanted = (given or env.get(COLLECTION_VARIABLE, "")).strip()
    if not wanted:
        raise ReplikitError(
            "no Zotero collection given", where=f"--collection or {COLLECTION_VARIABLE}",
            expected="the key or name of the group's collection", found="neither",
            fix=f"export {COLLECTION_VARIABLE}='Reading group' (or pass --collection)")
    return wanted


def find_collection(client: zotero.Zotero, wanted: str) -> dict[str, Any]:
    """The collection whose key, or else whose name (any case), is ``wanted``."""
    found = with_retries(lambda: client.everything(client.collections()),
                         "list the library's collections")
    for match in (lambda c: c["key"] == wanted,
                  lambda c: c["data"].get("name", "").casefold() == wanted.casefold()):
        hits = [c for c in found if match(c)]
        if hits:
            return hits[0]
    names = sorted(c["data"].get("name", "") for c in found)
    raise ReplikitError(
        "no such Zotero collection", where=COLLECTION_VARIABLE,
        expected=f"a key or name among: {', '.join(map(repr, names)) or '(none)'}",
        found=repr(wanted), fix="give the collection's key or its name as Zotero shows it")


def collection_papers(client: zotero.Zotero, key: str) -> list[dict[str, Any]]:
    """Every top-level bibliographic item of the collection (all pages)."""
    items = with_retries(lambda: client.everything(client.collection_items_top(key)),
                         f"list the items of collection {key}")
    return [i for i in items if i["data"].get("itemType") not in _NOT_PAPERS]


def study_of(item: dict[str, Any], studies: Iterable[Study]) -> str | None:
    """The study whose paper is this item: by item key, else by DOI."""
    fields = paper_fields(item)
    doi = (fields.get("doi") or "").lower()
    for study in studies:
        if study.paper.zotero == item["key"]:
            return study.name
        if not study.paper.zotero and doi and (study.paper.doi or "").lower() == doi:
            return study.name
    return None


def as_paper(item: dict[str, Any]) -> Paper:
    fields = paper_fields(item)
    return Paper(key=item["key"], title=fields.get("title") or "(untitled)",
                 authors=tuple(fields.get("authors") or ()), year=fields.get("year"),
                 doi=fields.get("doi"))


def collection_view(settings: ZoteroSettings, collection: str, studies: Iterable[Study], *,
                    client: zotero.Zotero | None = None) -> CollectionView:
    """Read the group's collection and set it against the studies."""
    studies = list(studies)
    client = client or connect(settings)
    found = find_collection(client, collection)
    filed: set[str] = set()
    not_started = []
    for item in collection_papers(client, found["key"]):
        name = study_of(item, studies)
        if name is None:
            not_started.append(as_paper(item))
        else:
            filed.add(name)
    not_started.sort(key=lambda p: (p.title.casefold(), p.key))
    return CollectionView(key=found["key"], name=found["data"].get("name", found["key"]),
                          studies=frozenset(filed), not_started=tuple(not_started))
