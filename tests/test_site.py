"""The portfolio site in headless Chromium: cards, counts, filters, and nothing fetched.

The site is built for the three shipped studies and a tiny one (fixture results made by
the real ledger stage from made-up run records: see ``tests/_site_helpers.py``). Chromium
opens a copy of ``index.html`` with a probe script added (and allowed by the page's
Content-Security-Policy through its hash) that records the cards, clicks the filters and
writes what it saw into the DOM, which ``--dump-dom`` returns. Chromium runs with every
http(s) request sent through a local proxy that records each request's host: a page that
fetched anything from outside ``file://`` would show there, beyond the Google services
Chromium calls for an empty page too (recorded by a run on a blank page). Without scripts
the DOM is the file as written, checked to hold every card in order with the filter form
hidden. A screenshot of the index page is taken (copied to ``docs/images/site-index.png``
when ``REPLIKIT_SCREENSHOTS`` is set).

The tests skip, saying why, when ``chromium`` is missing (Debian: ``apt-get install -y
chromium``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import socket
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _browser import chromium
from _site_helpers import AS_OF, SHIPPED, build_project
from PIL import Image

from replikit.publish.site import build_site
from replikit.vocabulary import NOT_COMPARABLE, NOT_REPRODUCED, NOT_RUN

pytestmark = pytest.mark.slow  # four fixture ledgers and three browser runs: about 20 s

STUDIES = (*SHIPPED, "tiny")
WIDTH = 1280
PROBE = """
(function () {
  var cards = function () {
    return Array.prototype.map.call(document.querySelectorAll("li.card"), function (c) {
      var counts = {};
      c.querySelectorAll(".counts li").forEach(function (li) {
        counts[li.dataset.verdict] = Number(li.querySelector(".n").textContent);
      });
      return {study: c.dataset.study, shown: !c.hidden && c.offsetHeight > 0,
              counts: counts, text: c.innerText};
    });
  };
  var shownNames = function () {
    return cards().filter(function (c) { return c.shown; }).map(function (c) {
      return c.study; });
  };
  var choose = function (id, value) {
    var select = document.getElementById(id);
    select.value = value;
    select.dispatchEvent(new Event("change"));
  };
  var found = {form: !document.getElementById("filters").hidden, cards: cards(),
               order: shownNames()};
  var button = document.getElementById("f-attention");
  button.focus();
  found.focusable = document.activeElement === button;
  button.click();
  found.attention = {pressed: button.getAttribute("aria-pressed"), shown: shownNames(),
                     status: document.getElementById("shown").textContent};
  button.click();
  found.attention_off = shownNames();
  choose("f-field", "reinforcement learning");
  found.field = shownNames();
  choose("f-field", "");
  choose("f-verdict", "not-reproduced");
  found.verdict = shownNames();
  choose("f-verdict", "");
  choose("f-sort", "name");
  found.by_name = shownNames();
  found.levels = Array.prototype.map.call(
    document.querySelectorAll("#by-level tbody tr"), function (tr) {
      return {level: tr.dataset.key,
              reproduced: Number(tr.querySelector(".reproduced").textContent),
              checks: Number(tr.querySelector(".checks").textContent)}; });
  found.unsettled = Array.prototype.map.call(
    document.querySelectorAll("table.unsettled tbody tr"), function (tr) {
      return Array.prototype.map.call(tr.cells, function (td) { return td.innerText; }); });
  found.resources = performance.getEntriesByType("resource").map(function (e) {
    return e.name; });
  found.location = location.href;
  var out = document.createElement("pre");
  out.id = "site-probe";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
}());
"""


#: Google services Chromium itself calls (component updates, sign-in, network time) even
#: for an empty page and despite --disable-background-networking; not the page's requests.
BROWSER_SERVICES = {"update.googleapis.com", "accounts.google.com", "clients2.google.com"}


class Recorder:
    """Chromium's proxy for every http(s) request: records each request's host, answers
    nothing."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.hosts: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                line = conn.recv(4096).split(b"\r\n")[0].decode("latin-1")
            except OSError:
                line = "? (no request line)"
            # "CONNECT host:443 HTTP/1.1" or "GET http://host/path HTTP/1.1"
            target = line.split(" ")[1] if " " in line else line
            self.hosts.append(re.sub(r"^\w+://", "", target).split("/")[0].split(":")[0])
            conn.close()

    def flags(self) -> tuple[str, ...]:
        return (f"--proxy-server=http://127.0.0.1:{self.port}",
                "--proxy-bypass-list=<-loopback>")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = build_project(tmp_path_factory.mktemp("site"))
    portfolio, written = build_site(root, today=AS_OF)
    return {"root": root, "index": written[0], "portfolio": portfolio}


def _chromium(root: Path, page: Path, *args: str) -> str:
    return chromium(root, page, *args).stdout


def _with_probe(index: Path) -> Path:
    """A copy of the page with the probe, its hash added to the page's script-src."""
    digest = base64.b64encode(hashlib.sha256(PROBE.encode()).digest()).decode()
    source = index.read_text(encoding="utf-8")
    assert "script-src 'sha256-" in source
    source = source.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
    probed = index.with_name("index-probed.html")
    probed.write_text(source.replace("</body>", f"<script>{PROBE}</script></body>"),
                      encoding="utf-8")
    return probed


@pytest.fixture(scope="module")
def browser(site):
    empty, recorder = Recorder(), Recorder()
    blank = site["root"] / "blank.html"
    blank.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    _chromium(site["root"], blank, "--dump-dom", *empty.flags())
    dom = _chromium(site["root"], _with_probe(site["index"]), "--dump-dom", *recorder.flags())
    match = re.search(r'<pre id="site-probe">(.*?)</pre>', dom, re.S)
    assert match, "the probe did not run: " + dom[-800:]
    return {"probe": json.loads(html.unescape(match.group(1))), "hosts": set(recorder.hosts),
            "browser_own": set(empty.hosts) | BROWSER_SERVICES}


def _ledger(site, name: str) -> pd.DataFrame:
    return pd.read_csv(site["root"] / "results" / name / "claims.csv")


def test_one_card_per_study_with_the_ledgers_counts(browser, site):
    cards = {c["study"]: c for c in browser["probe"]["cards"]}
    assert set(cards) == set(STUDIES)
    for name in STUDIES:
        ledger = _ledger(site, name)
        assert cards[name]["counts"] == ledger["verdict"].value_counts().to_dict(), name
        checks = "check" if len(ledger) == 1 else "checks"
        assert f"{ledger['claim_id'].nunique()} ({len(ledger)} {checks})" in cards[name]["text"]


def test_cards_say_field_contact_state_and_last_run(browser):
    cards = {c["study"]: c["text"] for c in browser["probe"]["cards"]}
    assert "reinforcement learning" in cards["rlzoo"]
    assert "recommender systems" in cards["bert4rec"] and "unfiled" in cards["tiny"]
    assert "awaiting reply since 90 days (overdue)" in cards["tiny"]
    assert "Open questions\t1" in cards["tiny"] or "Open questions\n1" in cards["tiny"]
    assert "2026-11-25" in cards["bert4rec"] and "2026-10-01" in cards["rlzoo"]


def test_needs_attention_hides_studies_with_nothing_pressing(browser, site):
    probe = browser["probe"]
    assert probe["form"] and probe["focusable"]
    assert probe["attention"]["pressed"] == "true"
    expected = set()
    for entry in site["portfolio"].entries:
        ledger = _ledger(site, entry.name)
        if (ledger["verdict"] == NOT_REPRODUCED).any() or entry.contact.overdue \
                or entry.unavailable:
            expected.add(entry.name)
    assert expected == {"bert4rec", "surprise", "tiny"}  # the fixtures' plan
    assert set(probe["attention"]["shown"]) == expected
    assert probe["attention"]["status"] == f"{len(expected)} of 4 studies shown"
    assert set(probe["attention_off"]) == set(STUDIES)


def test_field_and_verdict_filters_and_sorting(browser):
    probe = browser["probe"]
    assert probe["field"] == ["rlzoo"]
    assert probe["verdict"] == ["bert4rec"]
    assert probe["order"] == ["bert4rec", "surprise", "tiny", "rlzoo"]  # last activity
    assert probe["by_name"] == sorted(STUDIES)


def test_cross_study_view_sums_the_ledgers(browser, site):
    ledgers = pd.concat([_ledger(site, n) for n in STUDIES])
    for row in browser["probe"]["levels"]:
        at = ledgers[ledgers["level"] == row["level"]]
        assert row["checks"] == len(at) and row["reproduced"] == (
            at["verdict"] == "reproduced").sum(), row
    listed: dict[str, set[str]] = {}
    for study, verdict, _cause, checks in browser["probe"]["unsettled"]:
        listed.setdefault(study, set()).update(f"{verdict}|{c}" for c in checks.split(", "))
    for name in STUDIES:
        ledger = _ledger(site, name)
        unsettled = ledger[ledger["verdict"].isin([NOT_COMPARABLE, NOT_RUN])]
        assert listed.get(name, set()) == {f"{v}|{c} ({lv})" for v, c, lv in zip(
            unsettled["verdict"], unsettled["claim_id"], unsettled["level"], strict=True)}


def test_nothing_is_requested_outside_file(browser, site):
    probe = browser["probe"]
    assert probe["location"].startswith("file://")
    assert all(url.startswith("file://") for url in probe["resources"]), probe["resources"]
    assert browser["hosts"] <= browser["browser_own"], browser["hosts"]
    for page in site["index"].parent.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"""(src|@import|url\()\s*=?\s*["']?(https?:)?//""", text), page


def test_without_scripts_every_card_shows_in_order(site):
    """Without scripts the DOM is the file as written: every card, by last activity, and
    the filter form (useless then) hidden."""
    source = site["index"].read_text(encoding="utf-8")
    assert re.findall(r'<li class="card[^"]*"\s+data-study="([^"]+)"', source) == [
        "bert4rec", "surprise", "tiny", "rlzoo"]
    assert re.search(r'<form id="filters"[^>]* hidden', source)
    assert not re.search(r'<li class="card[^>]*hidden', source)


def test_study_pages_link_their_outputs(site, tmp_path):
    root = site["root"]
    (root / "reports" / "tiny" / "letter").mkdir(parents=True, exist_ok=True)
    (root / "reports" / "tiny" / "report.html").write_text("<p>report</p>")
    (root / "reports" / "tiny" / "letter" / "letter.txt").write_text("Dear")
    _, written = build_site(root, tmp_path / "elsewhere", today=AS_OF)
    page = (tmp_path / "elsewhere" / "studies" / "tiny.html").read_text(encoding="utf-8")
    links = dict(re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', page))
    for href, label in links.items():
        assert (tmp_path / "elsewhere" / "studies" / href).resolve().exists(), (label, href)
    assert set(links.values()) == {"report", "letter to the authors"}
    assert len(written) == 5


def test_screenshot_of_the_index(site):
    shot = site["root"] / "site-index.png"
    _chromium(site["root"], site["index"], f"--window-size={WIDTH},1500",
              f"--screenshot={shot}")
    image = Image.open(shot).convert("RGB")
    grey = np.asarray(image.convert("L"), dtype=float)
    assert image.width == WIDTH and grey.std() > 20 and (grey < 200).mean() > 0.02
    keep = os.environ.get("REPLIKIT_SCREENSHOTS")
    if keep:
        small = image.resize((WIDTH * 3 // 4, image.height * 3 // 4), Image.LANCZOS)
        small.quantize(colors=96, dither=Image.Dither.NONE).save(
            Path(keep) / "site-index.png", optimize=True)
