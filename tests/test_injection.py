"""Strings from a manifest and a contact log come out escaped in every output.

The paper's title, venue and claim text (which ``replikit zotero pull`` may fill from a
remote library) and a contact summary carry HTML, a backslash, ``$``, braces, ``#`` and a
newline with an e-mail header. The report goes through the real pandoc render (HTML,
Typst PDF, LaTeX), the MLRC draft through pandoc's LaTeX writer, the letter into an
``.eml``, the portfolio site into its HTML pages (also with random titles and fields);
each must show the text, never execute or break on it.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import functools
import html
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from _report_helpers import RULES, build_results, study_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from replikit.publish.exports import communication_markdown
from replikit.publish.letter import write_letter
from replikit.publish.mlrc import write_mlrc_draft
from replikit.publish.render import render
from replikit.publish.report import write_report_from_results
from replikit.results import Results, report_date
from replikit.study import Study
from replikit.study.contacts import load_contacts

pytestmark = pytest.mark.slow  # one pandoc render of each format: ~20 s

HTML = "<img src=x onerror=alert(1)>"
TITLE = f"Deep {HTML} nets \\emph{{x}} cost $5 #1"
SUMMARY = f"They said {HTML} and C:\\path\\new $x$ {{y}}"
WHEN = report_date(configured="2026-03-01")

CONTACTS = """\
schema_version: 1
study: fakestudy
authors:
- name: A. Author
  email: a@example.org
messages:
- id: m1
  date: 2026-01-05
  direction: sent
  authors: [A. Author]
  subject: "Folds\\nBcc: victim@example.org"
  summary: {summary}
""".format(summary='"' + SUMMARY.replace("\\", "\\\\") + '"')


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("inject")
    results = build_results(root, 1)
    data = study_dict(1)
    data["paper"]["title"] = TITLE
    data["paper"]["venue"] = f"Venue {HTML}"
    data["claims"][0]["text"] = f"RMSE is {HTML} \\ $0.93$"
    study = Study.model_validate(data)
    contacts = root / "contacts.yaml"
    contacts.write_text(CONTACTS, encoding="utf-8")
    assert load_contacts(contacts).messages[0].summary == SUMMARY
    out = root / "reports" / "fakestudy"
    qmd = write_report_from_results(study, results["results"], RULES, out,
                                    communication=communication_markdown(study, contacts, WHEN))
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "quarto").exists()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", os.pathsep.join(keep))
        rendered = render(qmd, ("html", "pdf", "tex"))
        detail = render(qmd.parent / "claims-detail.qmd", ("html",))["html"]
    read = Results.from_dir(results["results"], when=WHEN, contacts_file=contacts)
    tex = write_mlrc_draft(study, read, out / "figures", out / "mlrc",
                           rules_markdown=RULES, notes_dir=None)
    eml, _ = write_letter(study, load_contacts(contacts), results["results"] / "claims.csv",
                          rendered["pdf"], root / "letter", today=WHEN.date)
    return {"html": rendered["html"], "detail": detail, "pdf": rendered["pdf"],
            "tex": rendered["latex"],
            "mlrc": tex, "eml": eml, "qmd": qmd}


def test_html_shows_the_markup_as_text(outputs):
    html = " ".join(outputs["html"].read_text(encoding="utf-8").split())  # undo wrapping
    assert "<img src=x" not in html and "onerror=alert(1)>" not in html.replace("&gt;", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "C:\\path\\new $x$ {y}" in html  # backslashes, dollars and braces as typed
    assert "\\emph{x} cost $5 #1" in html


def test_claims_detail_shows_the_title_as_text(outputs):
    page = " ".join(outputs["detail"].read_text(encoding="utf-8").split())
    assert "<img src=x" not in page
    assert "Deep &lt;img src=x onerror=alert(1)&gt; nets \\emph{x} cost $5 #1" in page


def test_pdf_is_rendered(outputs):
    assert outputs["pdf"].read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("key", ["tex", "mlrc"])
def test_latex_escapes_the_specials(outputs, key):
    tex = " ".join(outputs[key].read_text(encoding="utf-8").split())
    assert "\\textless img src=x onerror=alert(1)\\textgreater{}" in tex
    assert "\\emph{x}" not in tex.replace("\\textbackslash{}emph\\{x\\}", "")
    assert "\\$5 \\#1" in tex


def test_letter_headers_stay_one_line_each(outputs):
    message = email.message_from_bytes(outputs["eml"].read_bytes(), policy=email.policy.SMTP)
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"] and HTML in message["Subject"]


# --------------------------------------------------------------------------- the site
SITE_FIELDS = {"title": TITLE, "venue": f"Venue {HTML}", "field": f"field {HTML}",
               "authors": [f"A. {HTML}"]}


@pytest.fixture(scope="module")
def site_root(tmp_path_factory):
    """The fake study's results, a manifest with markup in every free-text field, a
    ``javascript:`` link, and markup in a ledger reason and an artifact record."""
    root = tmp_path_factory.mktemp("inject-site")
    results = build_results(root, 1)["results"]
    data = study_dict(1)
    data["paper"].update(SITE_FIELDS, url="javascript:alert(1)")
    data["summary"] = SUMMARY
    folder = root / "studies" / "fakestudy"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (folder / "contacts.yaml").write_text(CONTACTS, encoding="utf-8")
    ledger = pd.read_csv(results / "claims.csv")
    ledger.loc[0, ["verdict", "reason"]] = ["not run", f"broke on {HTML}"]
    ledger.to_csv(results / "claims.csv", index=False)
    record = results / "artifacts" / "ml-1m.json"
    record.write_text(record.read_text().replace("no source reachable offline", HTML))
    return root


def test_site_shows_the_markup_as_text(site_root):
    from replikit.publish.site import build_site

    _, written = build_site(site_root, today=WHEN.date)
    pages = {p.name: p.read_text(encoding="utf-8") for p in written}
    for name, page in pages.items():
        assert "<img src=x" not in page and "javascript:" not in page, name
    study = pages["fakestudy.html"]
    for text in (TITLE, "Venue " + HTML, "field " + HTML, "A. " + HTML, SUMMARY,
                 f"broke on {HTML}"):
        assert html.escape(text, quote=False) in study, text
    assert html.escape(HTML, quote=False) in pages["index.html"]
    assert f"<code>ml-1m</code>: {html.escape(HTML, quote=False)}" in study


def _tags(page: str) -> list[str]:
    found: list[str] = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: found.append(tag)
    parser.feed(page)
    return found


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(min_size=1, max_size=40),
       field=st.text(min_size=2, max_size=30).filter(lambda t: "\n" not in t))
def test_site_markup_does_not_change_with_the_text(site_root, tmp_path_factory, title, field):
    """Whatever a title or field holds, the pages have the same elements and show it."""
    from replikit.publish.site import write_site

    portfolio = _site_portfolio(site_root)
    entry = portfolio.entries[0]
    paper = entry.study.paper.model_copy(update={"title": title, "field": field})
    study = entry.study.model_copy(update={"paper": paper})
    changed = dataclasses.replace(portfolio, entries=[dataclasses.replace(entry, study=study)])
    out = tmp_path_factory.mktemp("fuzz-site")
    baseline = {p.name: _tags(p.read_text()) for p in write_site(portfolio, out / "a")}
    for page in write_site(changed, out / "b"):
        text = page.read_bytes().decode("utf-8")  # read_text would turn a "\r\n" into "\n"
        assert _tags(text) == baseline[page.name], page.name
        assert str(escape(title)) in text and str(escape(field)) in text


@functools.cache
def _site_portfolio(root):
    from replikit.publish.site import gather

    return gather(root, today=WHEN.date)
# --------------------------------------------------------------------------- as a user meets it
LATEX_TITLE = "\\input{/etc/passwd} and {an unbalanced brace"
LATEX_SUMMARY = "They sent \\input{/etc/passwd} and } {{ braces"


def test_a_latex_hostile_title_and_summary_go_through_the_workflow(tmp_path):
    """Issue 23: the workflow renders the report (HTML, PDF), its claims detail and the MLRC
    draft of a study whose title and contact summary hold LaTeX; the text is printed, never
    run or refused."""
    from test_workflow_report import _sandbox

    data = study_dict(2)
    data["paper"]["title"] = LATEX_TITLE
    contacts = CONTACTS.replace('"' + SUMMARY.replace("\\", "\\\\") + '"',
                                '"' + LATEX_SUMMARY.replace("\\", "\\\\") + '"')
    here = Path.cwd()
    try:
        root = _sandbox(tmp_path, data, contacts)
    finally:
        os.chdir(here)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--config",
                           "study=fakestudy", "mlrc=true", "--rerun-triggers", "mtime"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    out = root / "reports" / "fakestudy"
    tex = " ".join((out / "mlrc" / "main.tex").read_text(encoding="utf-8").split())
    assert "\\input{/etc" not in tex.replace("\\usepackage[utf8]{inputenc}", "")
    assert "\\textbackslash input\\{/etc/passwd\\} and \\{an unbalanced brace" in tex
    bib = (out / "mlrc" / "references.bib").read_text(encoding="utf-8")
    assert bib.count("{") == bib.count("}")  # BibTeX counts braces, escaped or not
    detail = (out / "claims-detail.html").read_text(encoding="utf-8")
    assert "\\input{/etc/passwd} and {an unbalanced brace: claims in detail" in detail
    report = " ".join((out / "report.html").read_text(encoding="utf-8").split())
    assert LATEX_SUMMARY in report  # the contact log's summary, in the timeline
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
