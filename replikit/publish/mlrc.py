"""An ML Reproducibility Challenge paper draft: ``reports/<study>/mlrc/main.tex``.

The draft is written from the same precomputed results as the report (the ledger, the run
records, the artifact records, ``env.json``, the contact log) and from the study's own
Markdown notes (``studies/<study>/notes/*.md``) for the parts only people can write. It
opens with the challenge's Reproducibility Summary (Scope of Reproducibility, Methodology,
Results, What was easy, What was difficult, Communication with original authors), then the
paper: claims, methods, a results table per level, the verification matrix, computational
requirements and the discussion.

The Markdown source (``main.md``, kept) goes through pandoc to a standalone LaTeX article
(``main.tex``) with a BibTeX file (``references.bib``, cited through natbib) and the
report's matrix figures copied into ``figures/``. Nothing is computed here: every number is
copied from a result file. A human-written part whose note is missing or empty is printed
as a visible "TO BE WRITTEN" box, never filled with invented text.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from replikit import paths
from replikit.errors import ReplikitError
from replikit.fileio import atomic_path, write_text
from replikit.numbers import DASH, fmt_number, fmt_percent
from replikit.publish.communication import mlrc_communication_section
from replikit.publish.exports import redact_text, study_contacts
from replikit.publish.facts import EXPERIMENT_MEANING, cost_sentence, mib, verdict_sentence
from replikit.publish.report import summary_paragraph, time_statement, verdict_counts
from replikit.publish.report.common import measured_digits
from replikit.publish.report.environment import hardware_rows, hardware_table
from replikit.publish.text import code_span, latex_escape, markdown_table, md_escape, yaml_md
from replikit.results import ReportDate, Results
from replikit.study import Study
from replikit.vocabulary import LEVELS

TEMPLATES = paths.templates("mlrc")
MARKER = "TO BE WRITTEN"
# The human-written parts: note file (studies/<study>/notes/<name>.md) -> what it is for.
NOTES = {
    "introduction": "why this paper was chosen and what a reader should take from the study",
    "easy": "what was easy in reproducing the paper",
    "difficult": "what was difficult in reproducing the paper",
    "discussion": "the study's interpretation of its results and their limits",
}
LEVEL_TITLES = {"re-run": "Re-running the original code",
                "re-implement": "Our re-implementation",
                "generalize": "Beyond the original setting (other seeds, splits or data)"}
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


# --------------------------------------------------------------------------- notes
def read_notes(notes_dir: str | Path | None) -> dict[str, str]:
    """The study's notes by name; a missing file, or one holding only comments, is ''.

    The notes templates explain themselves in HTML comments, so a file that still holds
    only its comment counts as not yet written.
    """
    folder = Path(notes_dir) if notes_dir is not None else None
    notes = {}
    for name in NOTES:
        path = folder / f"{name}.md" if folder is not None else None
        text = path.read_text(encoding="utf-8") if path is not None and path.is_file() else ""
        notes[name] = _COMMENT.sub("", text).strip()
    return notes


def to_be_written(name: str) -> str:
    """The visible marker standing in for an unwritten note."""
    return (f"::: {{.to-be-written}}\n**{MARKER}** by the study's authors: "
            f"{NOTES[name]} (`notes/{name}.md`).\n:::")


# --------------------------------------------------------------------------- tables
def level_results_table(ledger: pd.DataFrame, level: str) -> pd.DataFrame:
    """One row per claim checked at ``level``: reported, measured, drift, verdict."""
    rows = ledger[ledger["level"] == level]
    measured = []
    for _, row in rows.iterrows():
        digits = measured_digits(row["decimals"])
        text = fmt_number(row["mean"], digits)
        if not pd.isna(row["sd"]):
            text += f" ± {fmt_number(row['sd'], digits)}"
        if not pd.isna(row["mean"]) and not pd.isna(row["n"]):
            text += f" (n={int(row['n'])})"
        measured.append(text)
    return pd.DataFrame({
        "claim": rows["claim_id"].tolist(),
        "metric": rows["metric"].tolist(),
        "reported": [fmt_number(v, None if pd.isna(d) else int(d))
                     for v, d in zip(rows["reported"], rows["decimals"], strict=True)],
        "measured": measured,
        "drift": [fmt_percent(v) for v in rows["drift_rel"]],
        "verdict": rows["verdict"].tolist(),
    }, columns=["claim", "metric", "reported", "measured", "drift", "verdict"])


def compute_table(results: Results) -> pd.DataFrame:
    """Per experiment: runs, wall and CPU seconds, peak memory, device (the run costs the
    report shows, :attr:`replikit.results.Results.run_costs`)."""
    per_run = results.run_costs
    rows = []
    for name, part in per_run.groupby("experiment", sort=True):
        ran = part[part["status"] == "ok"]
        rows.append({
            "experiment": name, "runs": f"{len(ran)} of {len(part)}",
            "wall (s)": fmt_number(ran["wall_s"].sum(min_count=1), 1),
            "CPU (s)": fmt_number(ran["cpu_s"].sum(min_count=1), 1),
            "peak memory (MiB)": mib(ran["peak_rss_mb"].max()),
            "device": ", ".join(sorted(set(ran["device"].astype(str)))) or DASH,
        })
    return pd.DataFrame(rows, columns=["experiment", "runs", "wall (s)", "CPU (s)",
                                       "peak memory (MiB)", "device"])


# --------------------------------------------------------------------------- bibliography
def citation_key(study: Study) -> str:
    """``<first author's surname><year>``, lower case ASCII letters and digits."""
    surname = study.paper.authors[0].split()[-1]
    return re.sub(r"[^a-z0-9]", "", surname.lower()) + str(study.paper.year)


def bibtex_entry(study: Study) -> str:
    """The original paper as a BibTeX ``@misc`` entry (the venue is kept as printed)."""
    paper = study.paper
    fields = [("title", f"{{{latex_escape(paper.title)}}}"), ("author", " and ".join(
        latex_escape(a) for a in paper.authors)), ("howpublished", latex_escape(paper.venue)),
        ("year", str(paper.year))]
    if paper.doi:
        fields.append(("doi", paper.doi))
    if paper.url:
        fields.append(("url", paper.url))
    if paper.arxiv:
        fields += [("eprint", paper.arxiv), ("archiveprefix", "arXiv")]
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@misc{{{citation_key(study)},\n{body}\n}}\n"


# --------------------------------------------------------------------------- markdown
def _jinja() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters.update(md=md_escape, yaml_md=yaml_md)
    return env


def _experiment_lines(study: Study) -> list[str]:
    used = {name for claim in study.claims for name in claim.experiments()}
    lines = []
    for name, exp in study.experiments.items():
        if name not in used:
            continue
        params = ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in exp.params.items())
        seeds = ", ".join(str(s) for s in exp.seeds)
        code = "original code" if exp.implementation == "original" else "re-implementation"
        lines.append(f"- {code_span(name)} ({code}; seeds {seeds}): "
                     f"{md_escape(exp.description)}"
                     + (f" Parameters: {code_span(params)}." if params else ""))
    return lines


def _artifact_lines(study: Study, artifacts: list[dict[str, Any]]) -> list[str]:
    lines = []
    for record in artifacts:
        name = str(record.get("name"))
        declared = study.artifacts.get(name)
        source = record.get("source") or {}
        used = f"from {md_escape(source.get('kind'))} {code_span(source.get('ref'))}" \
            if source else ""
        status = record.get("status", DASH)
        text = f"- {code_span(name)}"
        if declared is not None:
            text += f" ({declared.role}): {md_escape(declared.description).rstrip('.')}."
        text += f" Status: {md_escape(status)}"
        text += f", {used}" if used else ""
        text += f"; sha256 {code_span(record['sha256'])}" if record.get("sha256") else ""
        text += f"; commit {code_span(record['commit'])}" if record.get("commit") else ""
        text += f"; {md_escape(record['reason'])}" if record.get("reason") else ""
        if declared is not None and declared.licence:
            text += f". Licence: {md_escape(declared.licence)}"
        lines.append(text + ".")
    return lines


def _scope_sentence(study: Study, ledger: pd.DataFrame) -> str:
    kinds = study.claims
    counts = {k: sum(c.kind == k for c in kinds) for k in ("value", "time", "comparison")}
    said = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    levels = [lv for lv in LEVELS if lv in set(ledger["level"])]
    source = f" Claims were read from: {md_escape(study.paper.claims_source)}." \
        if study.paper.claims_source else ""
    return (f"We check {len(kinds)} claims of the paper ({said}) at the levels "
            f"{', '.join(levels)}.{source}")


def _methodology_sentence(study: Study, results: Results) -> str:
    facts, env = results.facts, results.env
    kinds = [study.experiments[n].implementation if n in study.experiments else "other"
             for n in facts.experiment_names]
    original = sum(k == "original" for k in kinds)
    hardware = env.get("hardware") if isinstance(env.get("hardware"), dict) else {}
    cpu = hardware.get("cpu") or env.get("cpu")
    cores = hardware.get("cores") or env.get("cores")
    machine = f" on {md_escape(cpu)}" + (f" ({cores} cores)" if cores else "") if cpu else ""
    return (f"In all: {md_escape(cost_sentence(facts))} Here {md_escape(EXPERIMENT_MEANING)}; "
            f"{original} of the experiments run the original code and "
            f"{len(kinds) - original} our re-implementation or other code, "
            f"run{machine}.")


def draft_markdown(
    study: Study,
    results: Results,
    notes: dict[str, str],
    communication: str,
    figures: list[str],
    rules_markdown: str,
) -> str:
    """The draft's Markdown source (pandoc's dialect, with a YAML metadata block)."""
    ledger, when = results.ledger, results.when
    levels = list(results.facts.verdicts)
    counts = verdict_counts(results)
    context = {
        "study": study, "paper": study.paper, "key": citation_key(study),
        "title": f"[Re] {study.paper.title}", "date": when.date.isoformat(),
        "summary_text": md_escape(study.summary), "scope": _scope_sentence(study, ledger),
        "claims": [{"id": c.id, "text": md_escape(c.text), "source": md_escape(c.source)}
                   for c in study.claims],
        "methodology": _methodology_sentence(study, results),
        "experiments": _experiment_lines(study), "artifacts": _artifact_lines(study,
                                                                              results.artifacts),
        "deviations": [f"- {md_escape(d.what)} ({d.kind}): {md_escape(d.reason)}"
                       for d in study.deviations],
        "rules": rules_markdown.strip(),
        "results_summary": summary_paragraph(study, results),
        "verdict_sentence": md_escape(verdict_sentence(results.facts)),
        "counts_table": markdown_table(counts, "Verdicts per level.",
                                       ["l"] + ["r"] * len(counts.columns[1:])),
        "level_tables": [{"level": lv, "title": LEVEL_TITLES.get(lv, lv),
                          "table": markdown_table(level_results_table(ledger, lv),
                                                  f"Results at the {lv} level.")}
                         for lv in levels],
        "figures": figures,
        "time_statement": time_statement(ledger, results.env),
        "compute_table": markdown_table(compute_table(results), "Compute per experiment, "
                                        "summed over its runs (the larger of the run record "
                                        "and Snakemake's benchmark for each run).",
                                        ["l", "r", "r", "r", "r", "l"]),
        "cost_sentence": md_escape(cost_sentence(results.facts)),
        "hardware_table": markdown_table(hardware_table(results.env),
                                         "Declared and actual hardware.")
        if hardware_rows(results.env) else "",
        "hardware_source": md_escape(study.hardware.source or ""),
        "notes": {name: text or to_be_written(name) for name, text in notes.items()},
        "communication": communication.strip(),
    }
    text = _jinja().get_template("main.md.j2").render(context)
    return redact_text(study, text)


# --------------------------------------------------------------------------- writing
def communication_text(study: Study, contacts_file: str | Path | None, when: ReportDate) -> str:
    """The "Communication with original authors" prose, from the contact log."""
    contacts = study_contacts(study, contacts_file)
    if contacts is None:
        return (f"This study keeps no contact log (`studies/{study.name}/contacts.yaml`); "
                "nothing is recorded about contact with the original authors.")
    text = mlrc_communication_section(contacts, study.claims, when.date,
                                      window_days=contacts.window_days, fmt="markdown")
    return f"{text.strip()} {md_escape(when.sentence())}"


def copy_figures(figures_dir: str | Path, out: Path) -> list[str]:
    """Copy the report's verification-matrix figures into the draft's ``figures/``."""
    sources = sorted(Path(figures_dir).glob("matrix-*.png"),
                     key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    if not sources:
        raise ReplikitError(
            "the report's verification matrix figure is missing", where=str(figures_dir),
            expected="matrix-1.png (written with the report source)", found="no matrix-*.png",
            fix="write the report source first (rule write_report_source)",
        )
    target = out / "figures"
    if target.exists():
        shutil.rmtree(target)  # drop parts of an earlier, longer matrix
    target.mkdir(parents=True)
    for path in sources:
        shutil.copyfile(path, target / path.name)
    return [f"figures/{p.name}" for p in sources]


def markdown_to_latex(source: Path, target: Path) -> Path:
    """pandoc: Markdown to a standalone LaTeX article with natbib citations."""
    import pypandoc

    args = ["--standalone", "--natbib", "--number-sections",
            "--lua-filter", str(TEMPLATES / "markers.lua"),
            "--include-in-header", str(TEMPLATES / "header.tex")]
    with atomic_path(target) as tmp:
        try:
            # Absolute paths: pandoc runs in the draft's folder (cworkdir), where relative
            # paths from the project root would not resolve.
            pypandoc.convert_file(str(source.resolve()), "latex", format="markdown",
                                  extra_args=args, outputfile=str(tmp.resolve()),
                                  cworkdir=str(source.parent.resolve()))
        except (RuntimeError, OSError) as exc:
            raise ReplikitError(
                "pandoc could not turn the MLRC draft into LaTeX", where=str(source),
                expected="pandoc Markdown", found=str(exc)[-2000:],
                fix="read pandoc's message; main.md is kept for inspection",
            ) from exc
    return target


def write_mlrc_draft(
    study: Study,
    results: Results,
    figures_dir: str | Path,
    out_dir: str | Path,
    *,
    rules_markdown: str,
    notes_dir: str | Path | None = None,
) -> Path:
    """Write ``main.md``, ``main.tex``, ``references.bib`` and ``figures/`` under ``out_dir``.

    Parameters
    ----------
    study
        The validated study manifest.
    results
        The study's results, read once (:class:`replikit.results.Results`); its ``when``
        (the date the draft is as of) must be set, its ``contacts_file`` may be.
    figures_dir
        The report's ``figures/`` folder, holding ``matrix-*.png``.
    out_dir
        ``reports/<study>/mlrc``.
    rules_markdown
        The verdict rules, in Markdown.
    notes_dir
        ``studies/<study>/notes``; missing notes become "TO BE WRITTEN" markers.

    Returns
    -------
    Path
        The path of ``main.tex``.
    """
    out = Path(out_dir)
    figures = copy_figures(figures_dir, out)
    write_text(out / "references.bib", redact_text(study, bibtex_entry(study)))
    when = results.when
    markdown = draft_markdown(study, results, read_notes(notes_dir),
                              communication_text(study, results.contacts_file, when),
                              figures, rules_markdown)
    source = write_text(out / "main.md", markdown)
    return markdown_to_latex(source, out / "main.tex")


__all__ = ["MARKER", "NOTES", "bibtex_entry", "citation_key", "compute_table",
           "draft_markdown", "level_results_table", "read_notes",
           "write_mlrc_draft"]
