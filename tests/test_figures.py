"""Tests for replikit.publish.figures: the ledger drawn, deterministically, legibly."""

from __future__ import annotations

import struct
import zlib

import pandas as pd
import pytest
from _report_helpers import build_results

from replikit.errors import ReplikitError
from replikit.evaluate.samples import measurement_samples
from replikit.publish import figures
from replikit.publish.variance_figure import seed_variance_figure
from replikit.publish.verdict_grid import claim_groups, grid_figure


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return build_results(tmp_path_factory.mktemp("small"), 1)


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    return build_results(tmp_path_factory.mktemp("large"), 22)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, payload) chunks of a PNG file."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        chunks.append((kind, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


def pixels_differ(a: bytes, b: bytes) -> bool:
    def raw(data):
        return zlib.decompress(b"".join(p for k, p in png_chunks(data) if k == b"IDAT"))
    return raw(a) != raw(b)


def test_drift_figure_is_a_deterministic_png_without_time_stamps(small, tmp_path):
    samples = measurement_samples(small["ledger"], small["runs"])
    first = figures.drift_figure(small["ledger"], samples, tmp_path / "a.png").read_bytes()
    second = figures.drift_figure(small["ledger"], samples, tmp_path / "b.png").read_bytes()
    assert first == second
    text_chunks = [k for k, _ in png_chunks(first) if k in (b"tEXt", b"iTXt", b"zTXt", b"tIME")]
    assert text_chunks == []


def test_drift_figure_draws_the_measurements(small, tmp_path):
    ledger = small["ledger"]
    samples = measurement_samples(ledger, small["runs"])
    with_points = figures.drift_figure(ledger, samples, tmp_path / "a.png").read_bytes()
    without = figures.drift_figure(ledger, samples.iloc[0:0], tmp_path / "b.png").read_bytes()
    assert pixels_differ(with_points, without)


def test_drift_figure_keeps_an_outlier_from_squashing_the_bands(small, tmp_path):
    ledger = small["ledger"].copy()
    samples = measurement_samples(ledger, small["runs"])
    far = samples.copy()
    far.loc[far.index[0], "value"] = 50.0  # 5000% off: drawn as an arrow at the edge
    near = figures.drift_figure(ledger, samples, tmp_path / "near.png").read_bytes()
    clipped = figures.drift_figure(ledger, far, tmp_path / "far.png").read_bytes()
    assert png_size(near) == png_size(clipped)
    assert figures._drift_limit(figures.value_rows(ledger), far) <= (
        figures.CLIP_FACTOR * 0.005 / 0.929 * 100 + 1e-9)


def test_matrix_lists_every_claim_and_level(small):
    matrix = figures.verdict_matrix(small["ledger"])
    assert list(matrix.index) == ["100k-svd-rmse", "100k-svd-time"]
    assert list(matrix.columns) == ["re-run", "re-implement", "generalize"]
    assert matrix.loc["100k-svd-rmse", "re-run"] == "reproduced"
    assert matrix.loc["100k-svd-time", "generalize"] == ""


def test_verdict_grid_for_154_checks_is_one_figure_within_a_page(large, tmp_path):
    assert large["ledger"]["claim_id"].nunique() == 66
    path = grid_figure(large["ledger"], tmp_path / "m.png")
    width, height = png_size(path.read_bytes())
    # 66 claims (and one group heading) flow into two columns: fits an A4 page's text area.
    assert width / figures.DPI <= 6.7 and height / figures.DPI <= 8.4
    few = large["ledger"][large["ledger"]["claim_id"].isin(["100k-svd-rmse", "100k-svd-mae"])]
    one_width, _ = png_size(grid_figure(few, tmp_path / "one.png").read_bytes())
    assert width > 1.5 * one_width


def test_claims_are_grouped_by_the_first_part_of_their_id():
    ids = ["100k-svd-rmse", "1m-svd-rmse", "100k-nmf-rmse", "1m-nmf-rmse"]
    assert claim_groups(ids) == [("100k", [("100k-svd-rmse", "svd-rmse"),
                                           ("100k-nmf-rmse", "nmf-rmse")]),
                                 ("1m", [("1m-svd-rmse", "svd-rmse"),
                                         ("1m-nmf-rmse", "nmf-rmse")])]
    assert claim_groups(["a-x", "b-y"]) == [("", [("a-x", "a-x"), ("b-y", "b-y")])]


def test_seed_variance_figure_and_its_empty_case(small, tmp_path):
    path = seed_variance_figure(small["ledger"], tmp_path / "s.png")
    assert png_size(path.read_bytes())[1] > 0
    single = small["ledger"].assign(n=1)
    empty = seed_variance_figure(single, tmp_path / "e.png").read_bytes()
    assert png_size(empty)[1] / figures.DPI == pytest.approx(1.2)


def test_balanced_chunks():
    assert figures.balanced_chunks(list("abcdefg"), 3) == [["a", "b", "c"], ["d", "e", "f"],
                                                          ["g"]]
    assert [len(c) for c in figures.balanced_chunks(list(range(66)), 22)] == [22, 22, 22]
    assert [len(c) for c in figures.balanced_chunks(list(range(44)), 36)] == [22, 22]


def test_missing_ledger_columns_are_named(tmp_path):
    with pytest.raises(ReplikitError, match=r"missing \['verdict'\]"):
        grid_figure(pd.DataFrame({"claim_id": ["a"], "level": ["re-run"],
                                            "kind": ["value"]}), tmp_path / "x.png")
