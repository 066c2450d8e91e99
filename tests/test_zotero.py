"""pyzotero against a local server that answers like the Zotero web API (tests/_zotero_server)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import yaml

from replikit.authors import zotero
from replikit.authors.zotero import ZoteroSettings, paper_fields, pull, push, settings_from_env
from replikit.errors import ReplikitError
from replikit.publish.zotero_note import study_outcome
from replikit.study.editing import update_paper_block
from tests._zotero_server import ZoteroLibrary, ZoteroServer

API_KEY = "s3cretTestKey0000000000a"  # fictional; must never reach a file or a URL
LIBRARY_ID = "4242"
DOI = "10.5555/example.2024.17"

MANIFEST = """\
# A fictional study used by the Zotero tests.
schema_version: 1
name: toy
summary: A toy study of a fictional paper.

paper:
  # the title as printed
  title: "Toy results on toy data"
  authors: [Ada Example]
  venue: Journal of Examples 2024
  year: 2024
  doi: {doi}

# the hardware the paper declares
hardware:
  declared: {{cpu: a laptop}}

experiments:
  ours:
    description: our run
    implementation: reimplementation
    runner: run.py:run
    seeds: 2

claims:
  - id: C1
    text: "Accuracy is 0.9"
    source: Table 1
    metric: accuracy
    reported: 0.9
    decimals: 2
    tolerance: {{absolute: 0.01}}
    levels: {{re-implement: ours}}
"""

LEDGER = """\
claim_id,level,experiment,metric,reported,n,mean,sd,ci_low,ci_high,verdict,reason
C1,re-implement,ours,accuracy,0.9,2,0.905,0.004,0.869,0.941,reproduced,within 0.01
C2,re-run,orig,accuracy,0.8,2,0.71,0.01,0.62,0.80,not reproduced,outside tolerance
"""


def paper_item() -> dict:
    return {"itemType": "journalArticle", "title": "Toy Results on Toy Data",
            "creators": [{"creatorType": "author", "firstName": "Ada", "lastName": "Example"},
                         {"creatorType": "author", "firstName": "Bo", "lastName": "Sample"}],
            "publicationTitle": "Journal of Examples", "volume": "3", "issue": "1",
            "pages": "1-10", "date": "2024-03-01", "DOI": DOI,
            "url": "https://example.org/toy"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    study = tmp_path / "studies" / "toy"
    study.mkdir(parents=True)
    (study / "study.yaml").write_text(MANIFEST.format(doi=DOI), encoding="utf-8")
    (tmp_path / "claims.csv").write_text(LEDGER, encoding="utf-8")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n% toy report\n" + bytes(range(256))
                                          + b"\n%%EOF\n")
    return tmp_path


@pytest.fixture
def library() -> ZoteroLibrary:
    lib = ZoteroLibrary(LIBRARY_ID, "group", api_key=API_KEY)
    lib.paper_key = lib.add_item(paper_item())
    lib.add_item({"itemType": "journalArticle", "title": "Unrelated",
                  "creators": [], "date": "2020", "DOI": "10.5555/other"})
    return lib


@pytest.fixture
def server(library: ZoteroLibrary):
    with ZoteroServer(library) as srv:
        yield srv


@pytest.fixture
def settings(server: ZoteroServer) -> ZoteroSettings:
    return ZoteroSettings(LIBRARY_ID, "group", API_KEY, endpoint=server.url)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zotero, "RETRY_BASE_DELAY_S", 0.01)


def _all_text(root: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- pull
def test_pull_by_doi_fills_missing_fields_keeps_comments_and_writes_bibtex(
        project, settings, library):
    result = pull("toy", project, settings)

    manifest = project / "studies/toy/study.yaml"
    text = manifest.read_text()
    paper = yaml.safe_load(text)["paper"]
    assert result.item_key == library.paper_key
    assert paper["zotero"] == library.paper_key
    assert paper["url"] == "https://example.org/toy"
    # fields the manifest already had are kept unless --overwrite
    assert paper["title"] == "Toy results on toy data"
    assert paper["authors"] == ["Ada Example"]
    assert any("kept" in c and "authors" in c for c in result.changes)
    assert "# the title as printed" in text and "# the hardware the paper declares" in text
    bib = (project / "studies/toy/references.bib").read_text()
    assert "@article{" in bib and f"doi = {{{DOI}}}" in bib
    assert "Example, Ada and Sample, Bo" in bib


def test_pull_overwrite_takes_zoteros_values_and_manifest_still_loads(project, settings):
    from replikit.study import load_study

    pull("toy", project, settings, overwrite=True)
    study = load_study("toy", project)
    assert study.paper.title == "Toy Results on Toy Data"
    assert study.paper.authors == ["Ada Example", "Bo Sample"]
    assert study.paper.venue == "Journal of Examples 2024"


def test_pull_by_key_then_by_stored_key(project, settings, library):
    pull("toy", project, settings, key=library.paper_key)
    library.requests.clear()
    pull("toy", project, settings)  # now paper.zotero is set: fetched by key, no search
    paths = [path for _, path, _ in library.requests]
    assert not any("q=" in p for p in paths)
    assert any(p.startswith(f"/groups/{LIBRARY_ID}/items/{library.paper_key}") for p in paths)


def test_pull_unknown_doi_says_so(project, settings):
    with pytest.raises(ReplikitError, match="no item with DOI 10.5555/missing"):
        pull("toy", project, settings, doi="10.5555/missing")


def test_api_key_travels_in_a_header_and_is_written_nowhere(project, settings, library):
    pull("toy", project, settings)
    push("toy", project, settings, project / "claims.csv", project / "report.pdf")
    api_requests = [r for r in library.requests if not r[1].startswith("/storage-upload")]
    assert all(headers.get("Authorization") == f"Bearer {API_KEY}"
               for _, _, headers in api_requests)
    assert not any(API_KEY in path for _, path, _ in library.requests)
    assert API_KEY not in _all_text(project)
    assert API_KEY not in repr(settings)


def test_wrong_key_is_a_clear_error(project, server):
    bad = ZoteroSettings(LIBRARY_ID, "group", "wrong", endpoint=server.url)
    with pytest.raises(ReplikitError, match="refused.*\n.*\n.*ZOTERO_API_KEY"):
        pull("toy", project, bad)


# --------------------------------------------------------------------------- push
def test_push_adds_note_uploads_pdf_and_tags(project, settings, library):
    result = push("toy", project, settings, project / "claims.csv", project / "report.pdf",
                  report_url="https://example.org/reports/toy", today=dt.date(2026, 1, 2))
    parent = library.items[library.paper_key]["data"]
    children = {c["key"]: c["data"] for c in library.children(library.paper_key)}

    assert result.outcome == "partial"
    assert [t["tag"] for t in parent["tags"]] == ["repro:partial"]
    note = children[result.note_key]
    assert note["itemType"] == "note" and {"tag": "replikit-report"} in note["tags"]
    assert "<td>C1</td>" in note["note"] and "<td>not reproduced</td>" in note["note"]
    assert 'href="https://example.org/reports/toy"' in note["note"]
    pdf = (project / "report.pdf").read_bytes()
    attachment = children[result.attachment_key]
    assert library.files[result.attachment_key] == pdf
    assert attachment["md5"] == hashlib.md5(pdf).hexdigest()
    assert attachment["filename"] == "report.pdf" and attachment["linkMode"] == "imported_file"


def test_second_push_updates_the_note_and_replaces_the_tag(project, settings, library):
    library.items[library.paper_key]["data"]["tags"] = [{"tag": "reading-group"},
                                                         {"tag": "repro:not-run"}]
    first = push("toy", project, settings, project / "claims.csv", None)
    (project / "claims.csv").write_text(LEDGER.splitlines()[0] + "\n" + LEDGER.splitlines()[1]
                                        + "\n")
    second = push("toy", project, settings, project / "claims.csv", None)

    notes = [c for c in library.children(library.paper_key) if c["data"]["itemType"] == "note"]
    assert len(notes) == 1 and second.note_key == first.note_key and second.note_updated
    assert "not reproduced" not in notes[0]["data"]["note"]
    tags = [t["tag"] for t in library.items[library.paper_key]["data"]["tags"]]
    assert tags == ["reading-group", "repro:reproduced"]


# --------------------------------------------------------------------------- failures
def test_rate_limits_and_network_errors_are_retried(project, settings, library):
    library.faults = [(429, {"Retry-After": "0"})] * 4 + ["drop", (503, {})]
    result = pull("toy", project, settings)
    assert result.item_key == library.paper_key
    assert library.faults == []


def test_persistent_failure_ends_in_a_clear_message(project, settings, library):
    library.faults = [(503, {})] * 10
    with pytest.raises(ReplikitError, match="after 4 attempts(.|\n)*wait a few minutes"):
        pull("toy", project, settings)


def test_unreachable_server_ends_in_a_clear_message(project):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = ZoteroSettings(LIBRARY_ID, "user", API_KEY, endpoint=f"http://127.0.0.1:{port}")
    with pytest.raises(ReplikitError, match="could not .* after 4 attempts"):
        pull("toy", project, gone)


# --------------------------------------------------------------------------- pieces
def test_settings_from_env():
    s = settings_from_env({"ZOTERO_LIBRARY_ID": "12", "ZOTERO_LIBRARY_TYPE": "Group",
                           "ZOTERO_API_KEY": "k", "ZOTERO_API_URL": "http://127.0.0.1:9"})
    assert (s.library_id, s.library_type, s.api_key, s.endpoint) == \
        ("12", "group", "k", "http://127.0.0.1:9")
    with pytest.raises(ReplikitError, match="ZOTERO_LIBRARY_ID"):
        settings_from_env({})
    with pytest.raises(ReplikitError, match="'user' or 'group'"):
        settings_from_env({"ZOTERO_LIBRARY_ID": "12", "ZOTERO_LIBRARY_TYPE": "team"})


@pytest.mark.parametrize(("verdicts", "outcome"), [
    (["reproduced", "reproduced", "not run"], "reproduced"),
    (["reproduced", "partially reproduced"], "partial"),
    (["reproduced", "not reproduced"], "partial"),
    (["not reproduced", "not run"], "not-reproduced"),
    (["not run"], "not-run"),
])
def test_study_outcome(verdicts, outcome):
    assert study_outcome([{"verdict": v} for v in verdicts]) == outcome


def test_paper_fields_reads_doi_from_extra_for_types_without_a_doi_field():
    item = {"key": "ABCD2345", "data": {"itemType": "conferencePaper", "title": "T",
                                        "creators": [{"name": "Example Consortium",
                                                      "creatorType": "author"},
                                                     {"firstName": "E", "lastName": "D",
                                                      "creatorType": "editor"}],
                                        "date": "May 2019", "proceedingsTitle": "Proc. X",
                                        "extra": "DOI: 10.5555/X.1"}}
    assert paper_fields(item) == {"title": "T", "authors": ["Example Consortium"],
                                  "doi": "10.5555/x.1", "zotero": "ABCD2345", "year": 2019,
                                  "venue": "Proc. X 2019"}


def test_update_paper_block_touches_only_the_changed_lines():
    text = MANIFEST.format(doi=DOI)
    new = update_paper_block(text, {"title": "New: title", "zotero": "ABCD2345"})
    old_lines, new_lines = text.splitlines(), new.splitlines()
    changed = [line for line in new_lines if line not in old_lines]
    assert changed == ["  title: 'New: title'", "  zotero: ABCD2345"]
    assert len(new_lines) == len(old_lines) + 1
    assert yaml.safe_load(new)["paper"]["zotero"] == "ABCD2345"


def test_pushing_again_replaces_the_report_file_instead_of_adding_one(project, settings,
                                                                     library):
    pdf = project / "report.pdf"
    first = push("toy", project, settings, project / "claims.csv", pdf)
    same = push("toy", project, settings, project / "claims.csv", pdf)
    pdf.write_bytes(b"%PDF-1.4\n% a newer report\n%%EOF\n")
    newer = push("toy", project, settings, project / "claims.csv", pdf)

    attachments = [c for c in library.children(library.paper_key)
                   if c["data"]["itemType"] == "attachment"]
    assert len(attachments) == 1
    assert first.attachment_key == same.attachment_key == newer.attachment_key
    assert library.files[newer.attachment_key] == pdf.read_bytes()
    assert attachments[0]["data"]["md5"] == hashlib.md5(pdf.read_bytes()).hexdigest()
