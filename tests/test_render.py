"""Tests for replikit.publish.render: the pandoc + typst route without Quarto, and the Quarto route.

Quarto is kept off the PATH for the fallback tests; the Quarto route is proven with a fake
``quarto`` executable that records its arguments and writes the output it was asked for.
"""

from __future__ import annotations

import html.parser
import os
import re
import shutil
import stat
import sys
import zipfile
from pathlib import Path

import pytest
from _report_helpers import RULES, build_results

from replikit.errors import ReplikitError
from replikit.publish.render import render
from replikit.publish.report import write_report_from_results

CLAIM = "100k-svd-rmse"


def path_without_quarto() -> str:
    """The current PATH minus every folder holding a ``quarto`` executable."""
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "quarto").exists()]
    return os.pathsep.join(keep)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The two-claim fixture report rendered once, through pandoc and typst, in all formats."""
    root = tmp_path_factory.mktemp("render")
    results = build_results(root, 1)
    qmd = write_report_from_results(results["study"], results["results"], RULES,
                                    root / "reports" / "fakestudy")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", path_without_quarto())
        assert shutil.which("quarto") is None
        outputs = render(qmd, ("html", "pdf", "docx", "tex"))
    return {"qmd": qmd, "outputs": outputs}


class _Links(html.parser.HTMLParser):
    """Collects every src and href, and counts embedded PNG images."""

    def __init__(self) -> None:
        super().__init__()
        self.src: list[str] = []
        self.href: list[str] = []
        self.stylesheets = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "src" in attrs:
            self.src.append(attrs["src"])
        if "href" in attrs:
            self.href.append(attrs["href"])
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.stylesheets += 1


def test_fallback_writes_every_format(rendered):
    outputs = rendered["outputs"]
    assert set(outputs) == {"html", "pdf", "docx", "latex"}
    folder = rendered["qmd"].parent
    assert {p.name for p in outputs.values()} == {"report.html", "report.pdf", "report.docx",
                                                  "report.tex"}
    assert not list(folder.glob("*.part")), "temporary files were left behind"


def test_html_is_self_contained_with_matrix_and_figures(rendered):
    page = rendered["outputs"]["html"].read_text(encoding="utf-8")
    links = _Links()
    links.feed(page)
    assert links.src, "no images at all"
    assert all(s.startswith("data:") for s in links.src), links.src
    assert links.stylesheets == 0
    # Links may point into the page or out to the web (the DOI); never to a local file.
    assert all(h.startswith(("#", "https://", "http://", "data:")) for h in links.href)
    assert sum(s.startswith("data:image/png;base64,") for s in links.src) >= 3
    assert '<nav id="TOC"' in page
    assert '<div class="callout callout-note">' in page
    assert "Figure 1: Verdict per claim and level" in page
    assert 'href="#fig-matrix-1">Figure 1</a>' in " ".join(page.split())  # resolved
    glance = page[:page.index('id="the-study"')]  # reported beside measured, up front
    assert re.search(r"<code>100k-svd-rmse</code></td>\s*<td[^>]*>0.934</td>\s*"
                     r"<td[^>]*>0.9336 ± 0.0018 ✓</td>", glance)


def test_pdf_has_pages_and_names_the_claims(rendered):
    data = rendered["outputs"]["pdf"].read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", data))
    assert pages >= 2
    # Typst writes headings into the PDF outline as plain strings.
    assert b"Verification matrix" in data
    import typst

    typ = rendered["qmd"].with_suffix(".typ")
    images = typst.compile(str(typ), root=str(typ.parent), format="png", ppi=12)
    assert len(images) == pages
    assert CLAIM in typ.read_text(encoding="utf-8")   # in the matrix as text


def test_docx_is_a_word_document(rendered):
    with zipfile.ZipFile(rendered["outputs"]["docx"]) as docx:
        names = docx.namelist()
        body = docx.read("word/document.xml").decode("utf-8")
    assert "word/document.xml" in names
    assert sum(n.startswith("word/media/") for n in names) >= 3
    assert CLAIM in body and "Findings" in body


def test_latex_is_a_standalone_document(rendered):
    tex = rendered["outputs"]["latex"].read_text(encoding="utf-8")
    assert "\\begin{document}" in tex and "\\tableofcontents" in tex
    assert "figures/drift-1.png" in tex
    assert CLAIM in tex


def test_typst_failure_names_the_format_and_keeps_the_old_pdf(rendered, tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(rendered["qmd"].parent, folder)
    qmd = folder / "report.qmd"
    old = (folder / "report.pdf").read_bytes()
    qmd.write_text(qmd.read_text() + "\n```{=typst}\n#no-such-function()\n```\n")
    with pytest.raises(ReplikitError, match=r"rendering pdf failed in typst[\s\S]*no-such"):
        render(qmd, ["pdf"], engine="pandoc")
    assert (folder / "report.pdf").read_bytes() == old
    assert not list(folder.glob(".report.pdf.*"))


def test_a_typst_failure_quotes_the_offending_text_and_its_section(tmp_path, monkeypatch):
    # A reference Markdown did not escape: typst reads @class as a citation of a label.
    monkeypatch.setenv("PATH", path_without_quarto())
    qmd = tmp_path / "doc.qmd"
    qmd.write_text("---\ntitle: t\n---\n\n# Audit of the original code\n\n"
                   "```{=typst}\nThe XPath [@class='gr'] is a citation here.\n```\n")
    with pytest.raises(ReplikitError) as err:
        render(qmd, ["pdf"], engine="pandoc")
    found = err.value.found
    assert "label `<class>` does not exist" in found and "None" not in found
    assert "in section 'Audit of the original code', doc.typ line" in found
    assert "The XPath [@class='gr'] is a citation here." in found


def test_a_pandoc_failure_quotes_the_offending_front_matter_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", path_without_quarto())
    qmd = tmp_path / "doc.qmd"
    qmd.write_text('---\nlang: en\ntitle: "\\input{/etc/passwd}"\n---\n\nText.\n')
    with pytest.raises(ReplikitError) as err:
        render(qmd, ["html"], engine="pandoc")
    assert "in front-matter key 'title', doc.qmd line 3: " \
        'title: "\\input{/etc/passwd}"' in err.value.found


def test_unknown_format_and_missing_source_are_errors(rendered, tmp_path):
    with pytest.raises(ReplikitError, match="unknown report format 'odt'"):
        render(rendered["qmd"], ["odt"])
    with pytest.raises(ReplikitError, match="report source does not exist"):
        render(tmp_path / "nothing.qmd")


def test_forcing_quarto_without_quarto_is_an_error(rendered, monkeypatch):
    monkeypatch.setenv("PATH", path_without_quarto())
    with pytest.raises(ReplikitError, match="quarto is not on the PATH"):
        render(rendered["qmd"], ["html"], engine="quarto")


# --------------------------------------------------------------------------- quarto route
FAKE_QUARTO = """#!{python}
# A stand-in for Quarto: records its arguments, writes the file --output names.
import sys
from pathlib import Path
args = sys.argv[1:]
with open({log!r}, "a", encoding="utf-8") as log:
    log.write(" ".join(args) + "\\n")
if {fail!r}:
    sys.stderr.write("ERROR: quarto fell over\\n")
    sys.exit(1)
target = Path(args[args.index("--output") + 1])
to = args[args.index("--to") + 1]
content = {{"html": "<html>from fake quarto</html>", "typst": "%PDF-1.7 fake"}}.get(to, to)
target.write_text(content)
"""


def install_fake_quarto(folder: Path, log: Path, fail: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "quarto"
    script.write_text(FAKE_QUARTO.format(python=sys.executable, log=str(log), fail=fail))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_quarto_is_used_when_on_the_path(rendered, tmp_path, monkeypatch):
    folder = tmp_path / "r"
    shutil.copytree(rendered["qmd"].parent, folder)
    log = tmp_path / "quarto-calls.log"
    install_fake_quarto(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{path_without_quarto()}")
    outputs = render(folder / "report.qmd", ("html", "pdf"))
    calls = log.read_text().splitlines()
    assert len(calls) == 2
    assert re.fullmatch(r"render report\.qmd --to html --output \.report\.html\.\S+\.part",
                        calls[0])
    assert calls[1].startswith("render report.qmd --to typst --output .report.pdf.")
    assert outputs["html"].read_text() == "<html>from fake quarto</html>"
    assert outputs["pdf"].read_text() == "%PDF-1.7 fake"
    assert not list(folder.glob("*.part"))


def test_quarto_failure_names_the_format_and_quotes_quarto(rendered, tmp_path, monkeypatch):
    folder = tmp_path / "r"
    shutil.copytree(rendered["qmd"].parent, folder)
    old = (folder / "report.html").read_bytes()
    install_fake_quarto(tmp_path / "bin", tmp_path / "log", fail=True)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{path_without_quarto()}")
    with pytest.raises(ReplikitError, match=r"rendering html failed in quarto[\s\S]*fell over"):
        render(folder / "report.qmd", ["html"])
    assert (folder / "report.html").read_bytes() == old


def test_quarto_only_syntax_degrades_gracefully(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", path_without_quarto())
    qmd = tmp_path / "doc.qmd"
    qmd.write_text(
        "---\ntitle: Syntax\n---\n\n"
        "::: {.callout-warning}\n## Heads up\nThe body.\n:::\n\n"
        "{{< pagebreak >}}\n\nSee @fig-dot.\n\n"
        "![A dot.](dot.png){#fig-dot width=\"20%\"}\n", encoding="utf-8")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0], [0], "o")
    fig.savefig(tmp_path / "dot.png", metadata={"Software": None})
    plt.close(fig)
    outputs = render(qmd, ("html", "pdf"))
    page = outputs["html"].read_text(encoding="utf-8")
    assert '<div class="callout callout-warning">' in page
    assert '<div class="callout-title">\nHeads up\n</div>' in page
    assert "<h2" not in page  # the callout's heading became its title, not a section
    assert "pagebreak" not in page
    assert 'href="#fig-dot">Figure 1</a>' in page and "Figure 1: A dot." in page
    typ = qmd.with_suffix(".typ").read_text(encoding="utf-8")
    assert "#pagebreak()" in typ and "#block(width: 100%" in typ
    assert len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", outputs["pdf"].read_bytes())) == 2
