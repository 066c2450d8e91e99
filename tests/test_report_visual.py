"""Visual checks of the rendered report: the HTML in headless Chromium, the PDF page by page.

The fixture study's report is rendered to HTML and PDF (pandoc and typst; Quarto is kept off
the PATH). Chromium opens the HTML twice: once to dump the DOM after a small script has
recorded each image's natural and laid-out size and each table's box, once to take a
screenshot of the whole page. The screenshot must not be blank, and the verification
matrix's image must show the colour of every verdict the ledger holds. pdftoppm turns every
PDF page into an image, and none may be blank.

The tests skip, saying why, when ``chromium`` or ``pdftoppm`` are missing
(Debian: ``apt-get install -y chromium poppler-utils``).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from _browser import chromium as _chromium
from _report_helpers import RULES, build_results
from PIL import Image

from replikit.fileio import write_json
from replikit.publish.figures import VERDICT_COLOURS
from replikit.publish.render import render
from replikit.publish.report import write_report_from_results

pytestmark = pytest.mark.slow  # rendering and two browser runs take about 15 s

PDFTOPPM = shutil.which("pdftoppm")
WIDTH = 1280
PROBE = """
<script>
window.addEventListener("load", () => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height,
            shown: getComputedStyle(e).display !== "none"
                   && getComputedStyle(e).visibility !== "hidden"}; };
  const found = {
    height: document.documentElement.scrollHeight,
    images: [...document.images].map((i) => ({alt: i.alt, natural: [i.naturalWidth,
             i.naturalHeight], ...box(i)})),
    tables: [...document.querySelectorAll("table")].map((t) => ({
             text: t.innerText.slice(0, 4000), ...box(t)})),
  };
  const out = document.createElement("pre");
  out.id = "visual-probe";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
});
</script>
"""


def _path_without_quarto() -> str:
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d) / "quarto").exists()]
    return os.pathsep.join(keep)


def _add_original_code(root: Path, results: Path) -> None:
    """A small original-code checkout and its artifact record, for the completeness section."""
    code = root / "resources" / "fakestudy" / "fake-code"
    for name, text in {"README.md": "| model | RMSE |\n|---|---:|\n| SVD | 0.934 |\n\n"
                       "```bash\npython benchmark.py\n```\n",
                       "requirements.txt": "numpy\n", "benchmark.py": "def rmse(p):\n"
                       "    return 0\n"}.items():
        (code / name).parent.mkdir(parents=True, exist_ok=True)
        (code / name).write_text(text, encoding="utf-8")
    write_json(results / "artifacts" / "fake-code.json", {
        "name": "fake-code", "role": "code", "status": "ok", "path": str(code),
        "commit": "0" * 40, "sha256": None, "source": {"kind": "git"}, "reason": None})


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("visual")
    results = build_results(root, 3)
    _add_original_code(root, results["results"])
    qmd = write_report_from_results(results["study"], results["results"], RULES,
                                    root / "reports" / "fakestudy")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", _path_without_quarto())
        outputs = render(qmd, ("html", "pdf"))
    return {"root": root, "ledger": results["ledger"], **outputs}


@pytest.fixture(scope="module")
def browser(rendered):
    """The probe's findings and a full-page screenshot of the HTML report."""
    page = rendered["html"].with_name("report-probed.html")
    source = rendered["html"].read_text(encoding="utf-8")
    page.write_text(source.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    # Measured at the screenshot's width, so the positions match the screenshot's.
    dom = _chromium(rendered["root"], page, f"--window-size={WIDTH},2000", "--dump-dom").stdout
    match = re.search(r'<pre id="visual-probe">(.*?)</pre>', dom, re.S)
    assert match, "the probe script did not run: " + dom[-500:]
    probe = json.loads(html.unescape(match.group(1)))
    height = min(int(probe["height"]) + 20, 16000)
    shot = rendered["root"] / "report.png"
    _chromium(rendered["root"], rendered["html"], f"--window-size={WIDTH},{height}",
              f"--screenshot={shot}")
    return {"probe": probe, "screenshot": shot}


def _not_blank(image: Image.Image) -> tuple[float, float]:
    """Grey-level standard deviation and the share of pixels darker than the paper."""
    grey = np.asarray(image.convert("L"), dtype=float)
    return float(grey.std()), float((grey < 200).mean())


def _colour_share(pixels: np.ndarray, colour: str, slack: int = 8) -> float:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    close = (np.abs(pixels[..., :3].astype(int) - rgb) <= slack).all(axis=-1)
    return float(close.mean())


def test_screenshot_is_not_blank(browser):
    image = Image.open(browser["screenshot"])
    assert image.width == WIDTH and image.height > 3000
    spread, ink = _not_blank(image)
    assert spread > 20 and ink > 0.02, (spread, ink)


def test_results_table_is_laid_out_with_every_claim(browser, rendered):
    tables = [t for t in browser["probe"]["tables"]
              if t["text"].startswith("Reported and measured") and "claim" in t["text"]]
    assert len(tables) == 1, [t["text"][:40] for t in browser["probe"]["tables"]]
    matrix = tables[0]
    assert matrix["shown"] and matrix["w"] > 200 and matrix["h"] > 50
    for claim in rendered["ledger"]["claim_id"].unique():
        assert claim in matrix["text"]


def test_every_figure_is_loaded_and_visible(browser):
    images = browser["probe"]["images"]
    kinds = ["Verdict per claim and level", "Measured values against",
             "Spread of the measurements"]
    for kind in kinds:
        assert any(i["alt"].startswith(kind) for i in images), (kind, [i["alt"] for i in images])
    for image in images:
        assert image["shown"] and min(image["natural"]) > 100, image
        assert image["w"] > 300 and image["h"] > 80, image


def test_matrix_in_the_screenshot_shows_each_verdict_colour(browser, rendered):
    matrix = next(i for i in browser["probe"]["images"]
                  if i["alt"].startswith("Verdict per claim and level"))
    shot = np.asarray(Image.open(browser["screenshot"]).convert("RGB"))
    x, y = int(matrix["x"]), int(matrix["y"])
    region = shot[y:y + int(matrix["h"]), x:x + int(matrix["w"])]
    assert region.size, matrix
    for verdict in rendered["ledger"]["verdict"].unique():
        assert _colour_share(region, VERDICT_COLOURS[verdict]) > 0.005, verdict


def test_every_pdf_page_has_content(rendered, tmp_path):
    if PDFTOPPM is None:
        pytest.skip("pdftoppm is not installed (apt-get install -y poppler-utils)")
    subprocess.run([PDFTOPPM, "-r", "40", "-png", str(rendered["pdf"]), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    print(f"{rendered['pdf'].name}: {len(pages)} pages")
    assert len(pages) >= 4
    for page in pages:
        spread, ink = _not_blank(Image.open(page))
        assert spread > 5 and ink > 0.003, (page.name, spread, ink)
    # The verification matrix, coloured by verdict, is in the PDF too.
    coloured = [_colour_share(np.asarray(Image.open(p).convert("RGB")),
                              VERDICT_COLOURS["reproduced"]) for p in pages]
    assert max(coloured) > 0.002
