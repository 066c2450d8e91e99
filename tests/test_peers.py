"""Peer figures (``report.peers``): read from the bench's file, set beside ours, checked early."""

from __future__ import annotations

import json

import pytest
import yaml
from _report_helpers import build_results, study_dict

from replikit.errors import ReplikitError
from replikit.publish.report import peers as peer_section
from replikit.results import Results
from replikit.study import load_study
from replikit.study.check import check_study_files
from replikit.study.peers import peer_figures

BENCH_ROWS = [
    {"library": "peerlib", "model": "SVD", "seed": 0, "rmse": 0.950},
    {"library": "peerlib", "model": "SVD", "seed": 1, "rmse": 0.940},
    {"library": "ours", "model": "SVD", "seed": 0, "rmse": 0.100},  # another side: not read
]


def _peer(**changes):
    peer = {"experiment": "seeds-svd", "metric": "rmse", "library": "PeerLib 1.0",
            "file": "bench/results/peer.json", "match": {"library": "peerlib", "model": "SVD"},
            "key": "rmse", "how": "python bench/bench_peer.py --json bench/results/peer.json",
            "higher_is_better": False}
    return {**peer, **changes}


def _write_study(root, peers, rows=BENCH_ROWS):
    data = study_dict(1)
    data["report"] = {"peers": peers}
    folder = root / "studies" / "fakestudy"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    if rows is not None:
        (root / "bench" / "results").mkdir(parents=True)
        (root / "bench" / "results" / "peer.json").write_text(json.dumps(rows))
    return load_study("fakestudy", root)


def test_the_figure_is_the_mean_of_the_matching_rows(tmp_path):
    study = _write_study(tmp_path, [_peer()])
    [(figure, rows)] = peer_figures(study)
    assert rows == 2 and figure == pytest.approx(0.945)


def test_the_report_sets_ours_beside_the_peer(tmp_path):
    study = _write_study(tmp_path, [_peer(), _peer(key="rmse", match={"library": "ours"})])
    fake = build_results(tmp_path / "run", 1)
    results = Results.in_memory(fake["ledger"], fake["runs"], fake["artifacts"], fake["env"])
    out = tmp_path / "reports"
    part = peer_section.context(study, results, out)
    table = (out / "tables" / "peers.csv").read_text()
    ours = [r["metrics"]["rmse"] for r in fake["runs"] if r["experiment"] == "seeds-svd"]
    mean = sum(ours) / len(ours)
    assert mean < 0.945  # lower is better: ours (about 0.934) reaches the peer's 0.945
    assert "yes" in table.splitlines()[1] and "no" in table.splitlines()[2]
    assert f"{mean:.4g}" in part["peer_table"] and "0.945" in part["peer_table"]
    assert part["peer_text"] == "Ours falls short of the peer's figure for: seeds-svd (rmse)."


def test_no_peers_no_section(tmp_path):
    study = _write_study(tmp_path, [], rows=None)
    fake = build_results(tmp_path / "run", 1)
    results = Results.in_memory(fake["ledger"], fake["runs"])
    assert peer_section.context(study, results, tmp_path) == {"peer_table": "", "peer_text": ""}


@pytest.mark.parametrize(("peers", "rows", "message"), [
    ([_peer()], None, "the peer figures file bench/results/peer.json does not exist"),
    ([_peer(match={"library": "nobody"})], BENCH_ROWS, "no row of bench/results/peer.json"),
    ([_peer()], {"not": "a list"}, "must be a JSON list of rows"),
])
def test_a_bad_peer_file_is_caught_before_any_run(tmp_path, peers, rows, message):
    _write_study(tmp_path, peers, rows)
    with pytest.raises(ReplikitError, match=message) as caught:
        check_study_files("fakestudy", tmp_path)
    assert "report.peers[0]" in str(caught.value) or "peer.json" in str(caught.value)


@pytest.mark.parametrize(("change", "message"), [
    ({"experiment": "nowhere"}, "names experiment 'nowhere', which is not declared"),
    ({"file": "/etc/passwd"}, "a path inside the repository"),
    ({"file": "../outside.json"}, "a path inside the repository"),
])
def test_a_bad_peer_entry_is_a_manifest_error(tmp_path, change, message):
    with pytest.raises(ReplikitError, match=message) as caught:
        _write_study(tmp_path, [_peer(**change)])
    assert "report" in str(caught.value) and "line" in str(caught.value)
