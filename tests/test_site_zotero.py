"""``replikit site --zotero`` against the local server that answers like the Zotero web API.

The group's collection holds the tiny study's paper (by item key), the Surprise paper (by
DOI: its manifest has no item key) and three papers nobody has started; another collection
and a note inside the group's collection must not be listed. The server pages by two items
so the listing has to follow the API's ``Link: rel="next"`` pages.
"""

from __future__ import annotations

import pytest
from _site_helpers import AS_OF, build_project

from replikit.authors import zotero
from replikit.authors.zotero import ZoteroSettings
from replikit.authors.zotero_collection import collection_view
from replikit.cli import main
from replikit.errors import ReplikitError
from replikit.study import load_study
from tests._zotero_server import ZoteroLibrary, ZoteroServer

API_KEY = "siteTestKey000000000000b"  # fictional
LIBRARY_ID = "5151"
NOT_STARTED = {
    "NEW00001": "Attention is all you need <script>alert(1)</script>",
    "NEW00002": "Deep residual learning",
    "NEW00003": "Adam: a method for stochastic optimization",
}


def _paper(title: str, collections: list[str], **more: str) -> dict:
    return {"itemType": "journalArticle", "title": title, "date": "2017",
            "creators": [{"creatorType": "author", "firstName": "Ann", "lastName": "Other"}],
            "collections": collections, **more}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return build_project(tmp_path_factory.mktemp("site-zotero"))


@pytest.fixture
def library() -> ZoteroLibrary:
    lib = ZoteroLibrary(LIBRARY_ID, "group", api_key=API_KEY)
    lib.max_page = 2
    group = lib.add_collection("Reading group", key="GROUP001")
    other = lib.add_collection("Someone else's", key="OTHER001")
    lib.add_item(_paper("Tiny results on tiny data", [group]), key="TINY0001")
    lib.add_item(_paper("Surprise: A Python library for recommender systems", [group],
                        DOI="10.21105/JOSS.02174"), key="SURPRISE")
    for key, title in NOT_STARTED.items():
        lib.add_item(_paper(title, [group]), key=key)
    lib.add_item(_paper("Filed elsewhere", [other]), key="ELSEWHER")
    lib.add_item({"itemType": "note", "note": "to read", "collections": [group]}, key="NOTE0001")
    return lib


@pytest.fixture
def server(library):
    with ZoteroServer(library) as srv:
        yield srv


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(zotero, "RETRY_BASE_DELAY_S", 0.01)


def test_collection_view_lists_the_papers_without_a_study(project, server, library):
    studies = [load_study(n, project) for n in ("surprise", "bert4rec", "rlzoo", "tiny")]
    settings = ZoteroSettings(LIBRARY_ID, "group", API_KEY, endpoint=server.url)
    view = collection_view(settings, "reading GROUP", studies)
    assert view.key == "GROUP001" and view.name == "Reading group"
    assert view.studies == {"tiny", "surprise"}
    assert [p.key for p in view.not_started] == sorted(
        NOT_STARTED, key=lambda k: NOT_STARTED[k].casefold())
    assert view.not_started[0].authors == ("Ann Other",) and view.not_started[0].year == 2017
    paged = [path for method, path, _ in library.requests if "items/top" in path]
    assert len(paged) == 3, paged  # five items, two per page


def test_unknown_collection_names_the_known_ones(project, server):
    settings = ZoteroSettings(LIBRARY_ID, "group", API_KEY, endpoint=server.url)
    with pytest.raises(ReplikitError, match="Reading group"):
        collection_view(settings, "No such shelf", [load_study("tiny", project)])


def test_cli_site_zotero_prints_and_shows_them(project, server, monkeypatch, capsys):
    for name, value in {"ZOTERO_LIBRARY_ID": LIBRARY_ID, "ZOTERO_LIBRARY_TYPE": "group",
                        "ZOTERO_API_KEY": API_KEY, "ZOTERO_API_URL": server.url,
                        "ZOTERO_COLLECTION": "GROUP001"}.items():
        monkeypatch.setenv(name, value)
    out = project / "site-zotero"
    assert main(["--root", str(project), "site", "--zotero", "--today", AS_OF,
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 paper(s) without a study" in printed
    for key in NOT_STARTED:
        assert key in printed
    assert "TINY0001" not in printed and "ELSEWHER" not in printed and "NOTE0001" not in printed
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count('<li data-key="NEW0000') == 3
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index and "<script>alert" not in index
    tiny = (out / "studies" / "tiny.html").read_text(encoding="utf-8")
    assert "TINY0001 · Reading group" in tiny
    assert "not in Reading group" in (out / "studies" / "rlzoo.html").read_text()
    assert API_KEY not in index + tiny


def test_cli_site_zotero_without_a_collection_fails_first(project, server, monkeypatch,
                                                          capsys):
    monkeypatch.setenv("ZOTERO_LIBRARY_ID", LIBRARY_ID)
    monkeypatch.delenv("ZOTERO_COLLECTION", raising=False)
    out = project / "site-none"
    assert main(["--root", str(project), "site", "--zotero", "--out", str(out)]) == 2
    assert "no Zotero collection given" in capsys.readouterr().err
    assert not out.exists()
