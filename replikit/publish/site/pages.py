"""Write the site: ``index.html`` and one page per study, self-contained HTML.

The templates (``replikit/templates/site/``) are rendered by Jinja2 with autoescaping on,
so every string from a manifest, a contact log, a ledger or Zotero is HTML-escaped where it
lands. Style and script are inlined, and a Content-Security-Policy allowing only those
inline blocks (by their hashes) keeps the browser from fetching anything at view time, from
``file://`` as from any static host.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from replikit import paths
from replikit.fileio import write_text
from replikit.publish.figures import VERDICT_COLOURS
from replikit.publish.site import view
from replikit.publish.site.portfolio import Portfolio

TEMPLATES = paths.templates("site")
STUDY_PAGES = "studies"


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def stylesheet() -> str:
    """The site's CSS with one class per verdict, in the report's verdict colours."""
    colours = "\n".join(f".v-{view.slug(v)} {{ fill: {c}; background: {c}; }}"
                        for v, c in VERDICT_COLOURS.items())
    return (TEMPLATES / "site.css").read_text(encoding="utf-8") + colours + "\n"


def policy(css: str, script: str | None) -> str:
    """Only the page's own inline style and script; no other source of anything."""
    scripts = _hash(script) if script else "'none'"
    return (f"default-src 'none'; style-src {_hash(css)}; script-src {scripts}; "
            "img-src data:; base-uri 'none'; form-action 'none'")


def render(template: str, context: dict[str, Any], script: str | None = None) -> str:
    css = stylesheet()
    return environment().get_template(template).render(
        **context, css=Markup(css), script=Markup(script) if script else None,
        csp=Markup(policy(css, script)))  # hashes and keywords only: nothing to escape


def write_site(portfolio: Portfolio, out: str | Path) -> list[Path]:
    """Write ``out/index.html`` and ``out/studies/<study>.html``; return the files written.

    Pages of studies no longer in the portfolio are removed, so the site never links a
    study it does not show.
    """
    out = Path(out)
    pages_dir = out / STUDY_PAGES
    script = (TEMPLATES / "site.js").read_text(encoding="utf-8")
    written = [write_text(out / "index.html",
                          render("index.html.j2", {**view.page(portfolio)}, script))]
    for entry in portfolio.entries:
        context = {"s": view.study_page(entry, portfolio.zotero, pages_dir),
                   "as_of": portfolio.as_of}
        written.append(write_text(pages_dir / f"{entry.name}.html",
                                  render("study.html.j2", context)))
    for stale in set(pages_dir.glob("*.html")) - set(written):
        stale.unlink()
    return written
