"""Tests for replikit.publish.mlrc: the MLRC paper draft, and e-mail redaction in every export.

The draft is built from the two-claim fixture results of ``_report_helpers`` (the same files
the report reads). It is checked by parsing the LaTeX back with pandoc; compiling it with a
LaTeX engine is CI-optional (skipped, with the reason, where none is installed).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pandas as pd
import pypandoc
import pytest
from _report_helpers import RULES, build_results, study_dict

from replikit.errors import ReplikitError
from replikit.publish.exports import communication_markdown
from replikit.publish.mlrc import (
    MARKER,
    NOTES,
    bibtex_entry,
    citation_key,
    compute_table,
    level_results_table,
    markdown_to_latex,
    read_notes,
    write_mlrc_draft,
)
from replikit.publish.render import render
from replikit.publish.report import write_report_from_results
from replikit.results import Results, report_date
from replikit.study import Study

SUMMARY_SECTIONS = ["Reproducibility Summary", "Scope of Reproducibility", "Methodology",
                    "Results", "What was easy", "What was difficult",
                    "Communication with original authors"]
PAPER_SECTIONS = ["Introduction", "Scope of reproducibility", "Computational requirements",
                  "Results beyond the original paper", "Discussion"]
CONTACT_EMAIL = "a.author@example.org"
NOTE_EMAIL = "someone.else@example.net"
EASY_NOTE = f"The README states the protocol in full. Ask {NOTE_EMAIL} for the fold files.\n"
CONTACTS_YAML = f"""\
schema_version: 1
study: fakestudy
authors:
- name: A. Author
  role: sole author
  email: {CONTACT_EMAIL}
messages:
- id: m1
  date: 2026-09-01
  direction: sent
  authors: [A. Author]
  subject: The fold split
  summary: We asked which seed made the folds.
  questions:
  - id: q1
    text: Which seed made the folds?
    claims: [100k-svd-rmse]
"""
WHEN = report_date(configured="2026-11-22")
# The real verdict rules use symbols pdfLaTeX does not know without help (see header.tex).
DRAFT_RULES = RULES + "\nThe significance level is α = 0.05; ½ of the band; σ ≤ 1 − ε.\n"


def _make(root: Path, redact: bool = True, note: str | None = EASY_NOTE) -> dict:
    """Fixture results, a contact log, notes; the report source and the MLRC draft."""
    results = build_results(root, 1)
    data = study_dict(1)
    data["report"] = {"redact_emails": redact}
    study = Study.model_validate(data)
    contacts = root / "studies" / "fakestudy" / "contacts.yaml"
    contacts.parent.mkdir(parents=True, exist_ok=True)
    contacts.write_text(CONTACTS_YAML, encoding="utf-8")
    notes = root / "studies" / "fakestudy" / "notes"
    notes.mkdir()
    (notes / "difficult.md").write_text("<!-- only the template's comment -->\n")
    if note is not None:
        (notes / "easy.md").write_text(note, encoding="utf-8")
    out = root / "reports" / "fakestudy"
    qmd = write_report_from_results(study, results["results"], RULES, out,
                                    communication=communication_markdown(study, contacts, WHEN))
    read = Results.from_dir(results["results"], when=WHEN, contacts_file=contacts)
    tex = write_mlrc_draft(study, read, out / "figures", out / "mlrc",
                           rules_markdown=DRAFT_RULES, notes_dir=notes)
    return {**results, "study": study, "qmd": qmd, "tex": tex, "out": out, "notes": notes,
            "contacts": contacts}


def _results(draft, **given):
    return Results.in_memory(draft["ledger"], draft["runs"], draft["artifacts"], draft["env"],
                             when=WHEN, **given)


@pytest.fixture(scope="module")
def draft(tmp_path_factory):
    made = _make(tmp_path_factory.mktemp("mlrc"))
    made["text"] = made["tex"].read_text(encoding="utf-8")
    made["ast"] = json.loads(pypandoc.convert_file(str(made["tex"]), "json", format="latex"))
    return made


def _plain(inlines) -> str:
    """The text of a list of pandoc AST inlines."""
    parts = []
    for item in inlines:
        if item["t"] == "Str":
            parts.append(item["c"])
        elif item["t"] in ("Space", "SoftBreak", "LineBreak"):
            parts.append(" ")
        elif item["t"] == "Code":
            parts.append(item["c"][1])
        elif item["t"] in ("Emph", "Strong", "Underline", "SmallCaps"):
            parts.append(_plain(item["c"]))
        elif item["t"] in ("Span", "Link", "Quoted"):  # [attributes or kind, inlines, ...]
            parts.append(_plain(item["c"][1]))
    return "".join(parts)


def _walk(node, kind):
    """Every AST element of type ``kind`` below ``node``."""
    if isinstance(node, dict):
        if node.get("t") == kind:
            yield node
        for value in node.values():
            yield from _walk(value, kind)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, kind)


# --------------------------------------------------------------------------- the draft
def test_writes_tex_source_bibliography_and_figures(draft):
    mlrc = draft["out"] / "mlrc"
    for name in ["main.tex", "main.md", "references.bib", "figures/matrix-1.png"]:
        assert (mlrc / name).is_file(), name
    assert (mlrc / "figures/matrix-1.png").read_bytes() == \
        (draft["out"] / "figures/matrix-1.png").read_bytes()


def test_is_a_standalone_article_that_pandoc_reads_back(draft):
    text = draft["text"]
    assert re.search(r"\\documentclass\[[^]]*\]\{article\}", text)
    assert text.count("\\begin{document}") == 1 and text.rstrip().endswith("\\end{document}")
    assert "\\bibliography{references.bib}" in text
    assert f"\\citep{{{citation_key(draft['study'])}}}" in text
    assert "\\includegraphics" in text and "figures/matrix-1.png" in text
    headers = [_plain(h["c"][2]) for h in _walk(draft["ast"]["blocks"], "Header")]
    for section in SUMMARY_SECTIONS + PAPER_SECTIONS:
        assert section in headers, section
    summary = headers[:headers.index("Introduction")]
    assert summary == SUMMARY_SECTIONS


def test_unwritten_notes_are_marked_and_written_ones_are_used(draft):
    text = draft["text"]
    # introduction and discussion are missing, difficult holds only a comment: three markers.
    assert text.count(f"\\textbf{{{MARKER}}}") == 3
    assert f"\\author{{{MARKER}: the study's authors" in text  # not invented either
    for name in ("introduction", "difficult", "discussion"):
        assert f"notes/{name}.md" in text
    assert "notes/easy.md" not in text
    assert "The README states the protocol in full." in text
    assert "\\fcolorbox{red}" in text  # the marker is drawn as a red box, not hidden


def test_results_tables_per_level_hold_the_ledger_numbers(draft):
    tables = list(_walk(draft["ast"]["blocks"], "Table"))
    cells = [" ".join(_plain(b["c"]) for b in _walk(t, "Plain")) for t in tables]
    claim_tables = [c for c in cells if "100k-svd-rmse" in c]
    assert len(claim_tables) == 3  # re-run, re-implement, generalize
    ledger = draft["ledger"]
    row = ledger[(ledger["claim_id"] == "100k-svd-rmse") & (ledger["level"] == "re-run")].iloc[0]
    assert f"{row['mean']:.5f}" in draft["text"]
    assert any("time_s" in c or "time\\_s" in c for c in claim_tables)


def test_level_table_copies_and_formats_the_ledger(draft):
    table = level_results_table(draft["ledger"], "re-implement")
    assert table["claim"].tolist() == ["100k-svd-rmse"]
    assert table["verdict"].tolist() == ["inconclusive"]
    assert table["measured"].iloc[0].endswith("(n=5)")


def test_computational_requirements_come_from_the_run_records(draft):
    table = compute_table(_results(draft))
    seeds = table[table["experiment"] == "seeds-svd"].iloc[0]
    assert seeds["runs"] == "5 of 5"
    wall = sum(r["wall_s"] for r in draft["runs"] if r["experiment"] == "seeds-svd")
    assert seeds["wall (s)"] == f"{wall:.1f}"
    facts = _results(draft).facts
    said = " ".join(draft["text"].split())
    assert (f"{facts.experiments} experiments, {facts.runs} runs completed; "
            f"{facts.cpu_hours:.3g} "
            "CPU-hours") in said
    assert "largest peak memory of one run 310 MiB" in said
    assert "intel i5 11th Gen 2.60GHz" in draft["text"] and "AMD EPYC 7B13" in draft["text"]


def test_communication_comes_from_the_contact_log(draft):
    text = " ".join(draft["text"].split())
    assert "we sent 1 message(s) to A. Author and received 0" in text
    assert "Still open (claims 100k-svd-rmse): Which seed made the folds?" in text
    assert "Waiting times are counted up to 2026-11-22" in text


def test_bibliography_entry_names_the_paper(draft):
    bib = (draft["out"] / "mlrc" / "references.bib").read_text(encoding="utf-8")
    assert bib == bibtex_entry(draft["study"])
    assert bib.startswith("@misc{author2020,") and "doi = {10.0000/fake.1}" in bib


def test_shipped_notes_templates_count_as_unwritten():
    notes = read_notes(Path("studies/surprise/notes"))
    assert set(notes) == set(NOTES) and all(v == "" for v in notes.values())
    for name in NOTES:
        assert "TO BE WRITTEN" in Path(f"studies/surprise/notes/{name}.md").read_text()


def test_missing_matrix_figure_is_an_error(draft, tmp_path):
    with pytest.raises(ReplikitError, match="verification matrix figure is missing"):
        write_mlrc_draft(draft["study"], _results(draft), tmp_path / "nofigures",
                         tmp_path / "mlrc", rules_markdown=RULES)


def test_same_results_give_the_same_draft(draft, tmp_path):
    again = write_mlrc_draft(draft["study"], _results(draft, contacts_file=draft["contacts"]),
                             draft["out"] / "figures", tmp_path / "mlrc",
                             rules_markdown=DRAFT_RULES, notes_dir=draft["notes"])
    assert again.read_text(encoding="utf-8") == draft["text"]


# --------------------------------------------------------------------------- redaction
@pytest.fixture(scope="module")
def exports(draft, tmp_path_factory):
    """HTML, DOCX and LaTeX of the fixture study, with (the default) and without redaction."""
    made = {}
    for redact in (True, False):
        parts = draft if redact else _make(tmp_path_factory.mktemp("unredacted"), redact=False)
        outputs = render(parts["qmd"], ("html", "docx"), engine="pandoc")
        with zipfile.ZipFile(outputs["docx"]) as docx:
            body = docx.read("word/document.xml").decode("utf-8")
        made[redact] = {"html": outputs["html"].read_text(encoding="utf-8"), "docx": body,
                        "tex": parts["tex"].read_text(encoding="utf-8"),
                        "qmd": parts["qmd"].read_text(encoding="utf-8")}
    return made


def test_redacted_exports_hold_no_email_address(exports):
    redacted = exports[True]
    for fmt in ("qmd", "html", "docx", "tex"):
        assert CONTACT_EMAIL not in redacted[fmt], fmt
        assert NOTE_EMAIL not in redacted[fmt], fmt
    assert "e-mail withheld" in redacted["tex"] and "<td>withheld</td>" in redacted["html"]


def test_unredacted_exports_show_the_addresses(exports):
    shown = exports[False]
    assert CONTACT_EMAIL in shown["html"] and CONTACT_EMAIL in shown["docx"]
    assert NOTE_EMAIL in shown["tex"]


def test_docx_holds_the_verification_matrix_table(exports):
    body = exports[True]["docx"]
    tables = re.findall(r"<w:tbl>.*?</w:tbl>", body, flags=re.DOTALL)
    matrix = [t for t in tables if "100k-svd-time" in t and "re-implement" in t
              and "generalize" in t]
    assert matrix, "no table with the claims and the levels"
    texts = re.findall(r"<w:t[^>]*>([^<]*)</w:t>", matrix[0])
    assert "100k-svd-rmse" in texts and any(t.endswith(" ✓") for t in texts)


def test_report_shows_the_contact_section_with_its_date(exports):
    qmd = exports[True]["qmd"]
    assert "## Communication with the original authors" in qmd
    assert qmd.index("## Communication with the original authors") < qmd.index(
        "## Verdict rules")
    assert "Waiting times are counted up to 2026-11-22" in qmd


# --------------------------------------------------------------------------- compiling
def _engine() -> str | None:
    return next((e for e in ("pdflatex", "lualatex") if shutil.which(e)), None)


def test_draft_compiles_with_latex(draft, tmp_path):
    """CI-optional: needs a LaTeX engine (Debian: texlive-latex-recommended, lmodern)."""
    engine = _engine()
    if engine is None:
        pytest.skip("no pdflatex or lualatex on the PATH; install texlive-latex-base, "
                    "texlive-latex-recommended and lmodern to run this check")
    work = tmp_path / "mlrc"
    shutil.copytree(draft["out"] / "mlrc", work)
    started = time.perf_counter()
    commands = [[engine, "-interaction=nonstopmode", "-halt-on-error", "main.tex"]]
    if shutil.which("bibtex"):
        commands += [["bibtex", "main"], commands[0]]
    for command in [*commands, commands[0]]:
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=120,
                              errors="replace",
                              check=False)
        assert done.returncode == 0, done.stdout[-3000:]
    print(f"{engine} compiled the draft in {time.perf_counter() - started:.1f} s")
    log = (work / "main.log").read_text(errors="replace")
    assert (work / "main.pdf").stat().st_size > 10_000
    assert re.search(r"Citation `[^']*' .*undefined", log) is None


def test_report_date_is_stated_with_its_origin(draft):
    text = " ".join(draft["text"].split())
    assert "2026-11-22, the date set by the workflow" in text


def test_ledger_without_levels_still_gives_tables(draft):
    table = level_results_table(pd.DataFrame(columns=draft["ledger"].columns), "re-run")
    assert table.empty and list(table.columns)[0] == "claim"


def test_relative_paths_from_the_project_root_work(tmp_path, monkeypatch):
    """The workflow passes paths relative to the project root (reports/<study>/mlrc/...)."""
    folder = tmp_path / "reports" / "x" / "mlrc"
    folder.mkdir(parents=True)
    (folder / "main.md").write_text("# Scope of Reproducibility\n\nText.\n")
    monkeypatch.chdir(tmp_path)
    target = markdown_to_latex(Path("reports/x/mlrc/main.md"), Path("reports/x/mlrc/main.tex"))
    assert "\\section{Scope of Reproducibility}" in target.read_text()
