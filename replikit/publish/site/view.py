"""The site's pages as plain data: cards, bars, cross-study tables, in words and numbers.

Every number is taken from a study's :class:`replikit.results.Facts` (or summed over
studies from them); the templates only lay these values out, and escape each string.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from replikit.authors.zotero_collection import CollectionView
from replikit.numbers import DASH, fmt_number
from replikit.publish.report.summary import not_run_causes
from replikit.publish.site.portfolio import Entry, Portfolio
from replikit.vocabulary import LEVELS, NOT_COMPARABLE, NOT_RUN, REPRODUCED, VERDICTS

UNSETTLED = (NOT_COMPARABLE, NOT_RUN)


def slug(verdict: str) -> str:
    """A verdict as a class name or attribute value: ``not run`` -> ``not-run``."""
    return verdict.replace(" ", "-")


def bar(counts: dict[str, int]) -> dict[str, Any]:
    """A stacked bar of verdict counts, in vocabulary order, widths in percent."""
    total = sum(counts.values())
    segments, x = [], 0.0
    for verdict in VERDICTS:
        n = counts.get(verdict, 0)
        if n:
            width = 100 * n / total
            segments.append({"verdict": verdict, "slug": slug(verdict), "n": n,
                             "x": f"{x:.3f}", "w": f"{width:.3f}"})
            x += width
    said = ", ".join(f"{s['n']} {s['verdict']}" for s in segments)
    return {"segments": segments, "total": total,
            "label": f"{total} check{'s' if total != 1 else ''}" + (f": {said}" if said
                                                                     else "")}


def totals(entry: Entry) -> dict[str, int]:
    """The study's checks per verdict over every level (from its facts)."""
    facts = entry.results.facts
    return {v: n for v in VERDICTS if (n := facts.verdict_total(v))}


def levels_run(entry: Entry) -> list[str]:
    """Levels at which at least one check ran (any verdict but "not run")."""
    return [level for level, counts in entry.results.facts.verdicts.items()
            if any(n for v, n in counts.items() if v != NOT_RUN)]


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else DASH


def contact_words(entry: Entry) -> str:
    state = entry.contact
    if state.state == "awaiting":
        day = "day" if state.days == 1 else "days"
        return (f"awaiting reply since {state.days} {day}"
                + (" (overdue)" if state.overdue else ""))
    return {"answered": "answered", "none": "none"}[state.state]


def safe_url(url: str | None) -> str | None:
    """An http(s) address, else None: a manifest's ``javascript:`` never becomes a link."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def paper_links(entry: Entry) -> list[dict[str, str]]:
    paper = entry.study.paper
    links = []
    if paper.doi:
        links.append({"label": f"doi:{paper.doi}",
                      "href": "https://doi.org/" + quote(paper.doi, safe="/")})
    if paper.arxiv:
        links.append({"label": f"arXiv:{paper.arxiv}",
                      "href": "https://arxiv.org/abs/" + quote(paper.arxiv, safe="/")})
    if safe_url(paper.url):
        links.append({"label": "paper or code", "href": safe_url(paper.url)})
    return links


def zotero_words(entry: Entry, view: CollectionView | None) -> dict[str, str]:
    key = entry.study.paper.zotero
    if view is None:
        collection = "not checked (replikit site --zotero)"
    elif entry.name in view.studies:
        collection = view.name
    else:
        collection = f"not in {view.name}"
    return {"key": key or DASH, "collection": collection}


def card(entry: Entry, view: CollectionView | None) -> dict[str, Any]:
    facts = entry.results.facts
    counts = totals(entry)
    last_run = entry.results.last_run
    activity = entry.last_activity
    return {
        "name": entry.name, "title": entry.study.paper.title,
        "authors": ", ".join(entry.study.paper.authors), "venue": entry.study.paper.venue,
        "field": entry.field, "bar": bar(counts), "claims": facts.claims,
        "checks": facts.checks, "levels": levels_run(entry),
        "verdicts": [slug(v) for v in counts],
        "attention": entry.attention, "contact": contact_words(entry),
        "contact_state": entry.contact.state, "overdue": entry.contact.overdue,
        "open_questions": entry.contact.open_questions,
        "last_run": last_run.date().isoformat() if last_run else DASH,
        "activity": activity.isoformat() if activity else "",
        "zotero": zotero_words(entry, view),
        "all_reproduced": bool(counts) and set(counts) == {REPRODUCED},
        "unavailable": len(entry.unavailable),
    }


def relative_href(target: Path, page_dir: Path) -> str:
    """A link from a page in ``page_dir`` to ``target`` that works from file:// and a host."""
    return quote(Path(os.path.relpath(target.resolve(), page_dir.resolve())).as_posix())


def study_page(entry: Entry, view: CollectionView | None, page_dir: Path) -> dict[str, Any]:
    """Everything a study's own page shows; ``page_dir`` is the folder it is written to."""
    facts = entry.results.facts
    return {
        **card(entry, view), "summary": entry.study.summary,
        "paper_links": paper_links(entry),
        "per_level": [{"level": level, "bar": bar(counts)}
                      for level, counts in facts.verdicts.items()],
        "facts": [("claims", facts.claims), ("checks (claim × level)", facts.checks),
                  ("experiments run / with a record",
                   f"{facts.experiments_ran} / {facts.experiments}"),
                  ("runs completed", facts.runs), ("runs that could not run",
                                                   facts.runs_not_run),
                  ("CPU-hours", fmt_number(facts.cpu_hours, 2)),
                  ("GPU-hours", fmt_number(facts.gpu_hours, 2)),
                  ("peak memory (MiB)", fmt_number(facts.peak_memory_mib, 0))],
        "unavailable": [{"name": r.get("name", "?"), "reason": r.get("reason") or DASH}
                        for r in entry.unavailable],
        "unsettled": unsettled([entry]),
        "outputs": [{"label": label, "href": relative_href(path, page_dir)}
                    for label, path in entry.outputs.items()],
    }


def by_level(entries: list[Entry]) -> list[dict[str, Any]]:
    """Checks per verdict at each level, summed over the studies' facts."""
    rows = []
    for level in [*LEVELS, *sorted({lv for e in entries for lv in e.results.facts.verdicts}
                                   - set(LEVELS))]:
        counts: Counter[str] = Counter()
        for entry in entries:
            counts.update(entry.results.facts.verdicts.get(level, {}))
        if counts:
            rows.append(_share_row(level, dict(counts),
                                   sum(level in e.results.facts.verdicts for e in entries)))
    return rows


def by_field(entries: list[Entry]) -> list[dict[str, Any]]:
    """Checks per verdict over every level, summed over the studies of each field."""
    rows = []
    for field in sorted({e.field for e in entries}):
        members = [e for e in entries if e.field == field]
        counts: Counter[str] = Counter()
        for entry in members:
            counts.update(totals(entry))
        rows.append(_share_row(field, dict(counts), len(members)))
    return rows


def _share_row(label: str, counts: dict[str, int], studies: int) -> dict[str, Any]:
    whole = sum(counts.values())
    done = counts.get(REPRODUCED, 0)
    return {"label": label, "studies": studies, "reproduced": done, "checks": whole,
            "share": share(done, whole), "bar": bar(counts)}


def unsettled(entries: list[Entry]) -> list[dict[str, Any]]:
    """The checks not comparable or not run, grouped by study, verdict and cause."""
    rows = []
    for entry in entries:
        ledger = entry.results.ledger
        for verdict in UNSETTLED:
            chosen = ledger[ledger["verdict"] == verdict]
            groups: dict[str, list[str]] = {}
            for position, (claim, level) in enumerate(zip(chosen["claim_id"],
                                                          chosen["level"], strict=True)):
                # The report's words for each cause, asked of one check at a time.
                for cause, _count, _claims in not_run_causes(chosen.iloc[[position]]):
                    groups.setdefault(cause, []).append(f"{claim} ({level})")
            rows += [{"study": entry.name, "verdict": verdict, "slug": slug(verdict),
                      "cause": cause, "checks": checks}
                     for cause, checks in sorted(groups.items(), key=lambda g: -len(g[1]))]
    return rows


def page(portfolio: Portfolio) -> dict[str, Any]:
    """Everything the index page shows."""
    entries = portfolio.entries
    view = portfolio.zotero
    cards = sorted((card(e, view) for e in entries), key=lambda c: c["name"])
    # The order the page's script sorts by: most recent activity first (as without it).
    cards.sort(key=lambda c: c["activity"], reverse=True)
    return {
        "as_of": portfolio.as_of, "cards": cards,
        "fields": sorted({e.field for e in entries}),
        "verdicts": [(slug(v), v) for v in VERDICTS],
        "by_level": by_level(entries), "by_field": by_field(entries),
        "unsettled": unsettled(entries), "without_results": portfolio.without_results,
        "orphans": portfolio.orphans, "zotero": view,
    }
