"""The report's source: ``reports/<study>/report.qmd`` with its figures and tables.

The report shows results computed elsewhere, handed over once as a
:class:`replikit.results.Results`: the ledger holds every mean, standard deviation,
confidence interval, drift, band and verdict; the samples file the single measurements; the
artifact records and ``env.json`` what was used and where. Each section (one module here,
listed in :data:`replikit.publish.report.sections.SECTIONS`) only selects, formats and lays
those out, and copies each table it shows to ``tables/*.csv`` so that every number in the
report can be traced to a file. Nothing here computes a statistic.

The ``.qmd`` is Quarto Markdown kept to the subset that pandoc reads too (callouts and
``@fig-`` references are translated by ``templates/report/quarto-compat.lua`` when Quarto
is absent), so :func:`replikit.publish.render.render` can produce HTML, PDF, DOCX and LaTeX
either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from replikit import paths
from replikit.errors import ReplikitError
from replikit.fileio import write_text
from replikit.publish.exports import redact_text
from replikit.publish.report import sections
from replikit.publish.report.summary import summary_paragraph, verdict_counts
from replikit.publish.report.time import time_statement
from replikit.publish.text import md_escape, yaml_md
from replikit.results import Results
from replikit.study import Study

TEMPLATES = paths.templates("report")
# The companion document with every claim's detail, so that the report itself stays short.
DETAIL = f"{paths.CLAIMS_DETAIL}.qmd"


def _jinja() -> jinja2.Environment:
    # ``{#`` opens a Jinja comment by default but is Quarto's figure-id syntax.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
        comment_start_string="{=#", comment_end_string="#=}", keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(md=md_escape, yaml_md=yaml_md)
    return env


def write_report_source(study: Study, results: Results, rules_markdown: str,
                        out_dir: str | Path, *, communication: str = "") -> Path:
    """Write ``report.qmd``, ``_quarto.yml``, ``figures/*.png`` and ``tables/*.csv``.

    Parameters
    ----------
    study
        The validated study manifest.
    results
        The study's results, read once (:class:`replikit.results.Results`).
    rules_markdown
        The verdict rules, in Markdown; shown verbatim.
    out_dir
        The report folder, ``reports/<study>``.
    communication
        The section on communication with the authors, in Markdown
        (:func:`replikit.publish.exports.communication_markdown`); left out when empty.

    Returns
    -------
    Path
        The path of ``report.qmd``.
    """
    out = Path(out_dir)
    _check_claims(study, results)
    context = _front_matter(study, rules_markdown)
    context.update(sections.context(study, results, out))
    context["communication"] = communication.strip()
    env_j = _jinja()
    write_text(out / "_quarto.yml", env_j.get_template("_quarto.yml.j2").render(context))
    write_text(out / "style.css", (TEMPLATES / "style.css").read_text(encoding="utf-8"))
    # Every public format is rendered from this one source, so withholding e-mail addresses
    # here withholds them everywhere (unless the study sets report.redact_emails: false).
    text = redact_text(study, env_j.get_template("report.qmd.j2").render(context))
    detail = redact_text(study, env_j.get_template(f"{DETAIL}.j2").render(context))
    write_text(out / DETAIL, detail)
    return write_text(out / "report.qmd", text)


def _front_matter(study: Study, rules_markdown: str) -> dict[str, Any]:
    paper = study.paper
    return {
        "title": study.report.title or f"Reproducibility report: {paper.title}",
        "subtitle": f"{', '.join(paper.authors)} – {paper.venue}",
        "study": study, "paper": paper, "summary_text": md_escape(study.summary),
        "rules": rules_markdown.strip(), "detail_name": DETAIL,
    }


def _check_claims(study: Study, results: Results) -> None:
    known = {c.id for c in study.claims}
    strangers = sorted(set(results.ledger["claim_id"]) - known)
    if strangers:
        raise ReplikitError(
            f"the ledger names claims that study {study.name!r} does not declare",
            where="claims.csv: claim_id", expected=f"ids among {sorted(known)[:5]}...",
            found=str(strangers[:5]), fix="rebuild the ledger for this study",
        )


def write_report_from_results(study: Study, results_dir: str | Path, rules_markdown: str,
                              out_dir: str | Path, *, communication: str = "") -> Path:
    """:func:`write_report_source` reading everything from ``results/<study>/``."""
    return write_report_source(study, Results.from_dir(results_dir), rules_markdown, out_dir,
                               communication=communication)


__all__ = ["summary_paragraph", "time_statement", "verdict_counts",
           "write_report_from_results", "write_report_source"]
