"""Tables read from inside a fetched artifact: ``<artifact>:<path>``, with its provenance.

A small source distribution is built here and served by a package index on 127.0.0.1; the
project's artifact code fetches it with pip (``sdist: true``), and ``claims extract``
reads its README through the artifact's record.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from replikit.errors import ReplikitError
from replikit.extract import extract_claims
from replikit.extract.model import parse_number
from replikit.fetch.artifacts import fetch_artifact
from replikit.fileio import write_json
from tests._fetch_helpers import (
    build_sdist as build_tinypaper,
)
from tests._fetch_helpers import (
    file_sha256,
    make_study,
    publish_index,
    server,  # noqa: F401 - a fixture
    sha256,
    use_index,
)

README = b"""# tinypaper

| Data set | RMSE | Time |
|---|---|---|
| ML-100k | 0.934 | 0:00:06 |
"""


def build_sdist(folder: Path) -> Path:
    """tinypaper 1.0's source distribution: its README holds the table."""
    return build_tinypaper(folder, "tinypaper", "1.0",
                           {"README.md": README, "tinypaper/__init__.py": b""})


@pytest.fixture
def fetched(tmp_path, server, monkeypatch):  # noqa: F811 - the fixture
    sdist = build_sdist(tmp_path / "dist")
    use_index(monkeypatch, publish_index(server, sdist, "tinypaper"))
    # Build with this environment's setuptools (no isolated build env, so no index needed);
    # pip reads PIP_NO_BUILD_ISOLATION=0 as "--no-build-isolation given".
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")
    study = make_study(tmp_path, {
        "code": {"description": "the paper's code", "role": "code",
                 "pypi": "tinypaper==1.0", "sdist": True},
        "readme": {"description": "its README", "pypi": "tinypaper==1.0", "sdist": True,
                   "member": "tinypaper-1.0/README.md", "sha256": sha256(README)},
    })
    for name in ("code", "readme"):
        record = fetch_artifact(study, name, tmp_path / "resources/demo" / name,
                                cache_dir=tmp_path / "cache", strict=True)
        write_json(tmp_path / f"results/demo/artifacts/{name}.json", record)
    return tmp_path, sdist


def test_member_of_an_archive_artifact(fetched):
    root, sdist = fetched
    entries, provenance = extract_claims("code:tinypaper-1.0/README.md", study="demo",
                                         root=root)
    assert [(e["claim"]["id"], e["claim"]["reported"]) for e in entries] == [
        ("ml-100k-rmse", 0.934), ("ml-100k-time", 6)]
    assert provenance["artifact"] == "code"
    assert provenance["artifact_sha256"] == file_sha256(sdist)  # the sdist itself
    assert provenance["sha256"] == sha256(README)
    assert provenance["member"] == "tinypaper-1.0/README.md"
    assert entries[0]["claim"]["source"].startswith("tinypaper-1.0/README.md, tinypaper")


def test_a_member_named_from_the_package_root_or_listed(fetched):
    root, _ = fetched
    entries, provenance = extract_claims("code:README.md", study="demo", root=root)
    assert provenance["member"] == "tinypaper-1.0/README.md" and len(entries) == 2
    with pytest.raises(ReplikitError, match="has no file 'docs/results.md'") as err:
        extract_claims("code:docs/results.md", study="demo", root=root)
    assert err.value.found == "files with results tables: tinypaper-1.0/README.md"


def test_file_artifact_taken_from_an_sdist(fetched):
    root, _ = fetched
    entries, provenance = extract_claims("readme:README.md", study="demo", root=root)
    assert len(entries) == 2
    assert provenance["artifact_sha256"] == provenance["sha256"] == sha256(README)


def test_unfetched_artifact_says_how_to_fetch_it(tmp_path):
    make_study(tmp_path, {})
    with pytest.raises(ReplikitError, match="has not been fetched") as err:
        extract_claims("code:README.md", study="demo", root=tmp_path)
    assert "snakemake results/demo/artifacts/code.json study=demo" in err.value.fix


@pytest.mark.parametrize(("printed", "value", "decimals", "unit", "spread"), [
    ("0.934", 0.934, 3, "", None),
    ("−1.50", -1.5, 2, "", None),
    ("85.3%", 85.3, 1, "%", None),
    ("85.3 ± 0.4 %", 85.3, 1, "%", 0.4),
    ("0.482 +/- 0.003", 0.482, 3, "", 0.003),
    ("0.48 (0.01)", 0.48, 2, "", 0.01),
    ("0:41:06", 2466, 0, "s", None),
    ("1:39", 99, 0, "s", None),
    ("1:02:03.5", 3723.5, 1, "s", None),
    ("12.5 s", 12.5, 1, "s", None),
    ("250 ms", 0.25, 3, "s", None),
    ("1,234.5", 1234.5, 1, "", None),
    ("0.91*", 0.91, 2, "", None),
])
def test_printed_numbers(printed, value, decimals, unit, spread):
    number = parse_number(printed)
    assert (number.value, number.decimals, number.unit, number.spread) == pytest.approx(
        (value, decimals, unit, spread)) if spread else (value, decimals, unit, None)


@pytest.mark.parametrize("text", ["SVD", "-", "n/a", "0.9 / 0.8", "", "3 models"])
def test_text_that_is_not_one_number(text):
    assert parse_number(text) is None


def test_header_units_apply_to_bare_cells():
    assert parse_number("85.3", "%").unit == "%"
    assert parse_number("12", "s").value == 12 and parse_number("12", "s").unit == "s"
    assert parse_number("250", "ms").value == pytest.approx(0.25)
