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

PROTOCOL = {"data": "ab" * 32, "split": "5 folds", "exclude_history": True, "cutoff": None}
BENCH_ROWS = [
    {"library": "peerlib", "model": "SVD", "seed": 0, "rmse": 0.950, "protocol": PROTOCOL},
    {"library": "peerlib", "model": "SVD", "seed": 1, "rmse": 0.940, "protocol": PROTOCOL},
    {"library": "ours", "model": "SVD", "seed": 0, "rmse": 0.100,  # another side: not read
     "protocol": PROTOCOL},
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


def _results(tmp_path, protocol=PROTOCOL):
    """The fake study's runs, each recording ``protocol`` for its rmse."""
    fake = build_results(tmp_path / "run", 1)
    for run in fake["runs"]:
        run.setdefault("extra", {})["protocol"] = {"rmse": dict(protocol)}
    return fake, Results.in_memory(fake["ledger"], fake["runs"], fake["artifacts"], fake["env"])


def test_the_figure_is_the_mean_of_the_matching_rows_with_their_protocol(tmp_path):
    study = _write_study(tmp_path, [_peer()])
    [value] = peer_figures(study)
    assert value.rows == 2 and value.figure == pytest.approx(0.945)
    assert value.protocol == PROTOCOL


def test_rows_also_read_from_an_object_with_rows(tmp_path):
    study = _write_study(tmp_path, [_peer()], rows={"command": "x", "rows": BENCH_ROWS})
    assert peer_figures(study)[0].rows == 2


def test_the_report_sets_ours_beside_the_peer(tmp_path):
    study = _write_study(tmp_path, [_peer(), _peer(key="rmse", match={"library": "ours"})])
    fake, results = _results(tmp_path)
    out = tmp_path / "reports"
    part = peer_section.context(study, results, out)
    table = (out / "tables" / "peers.csv").read_text()
    ours = [r["metrics"]["rmse"] for r in fake["runs"] if r["experiment"] == "seeds-svd"]
    mean = sum(ours) / len(ours)
    assert mean < 0.945  # lower is better: ours (about 0.934) reaches the peer's 0.945
    assert "yes" in table.splitlines()[1] and "no" in table.splitlines()[2]
    assert f"{mean:.4g}" in part["peer_table"] and "0.945" in part["peer_table"]
    assert part["peer_text"] == "Ours falls short of the peer's figure for: seeds-svd (rmse)."
    # The bench command both rows share is said once, below the table; the CSV keeps it per row.
    assert part["peer_how"].startswith("*How the peer ran (every row):* python bench/bench")
    assert part["peer_how"].count("bench/results/peer.json") == 1
    assert "bench/results/peer.json" not in part["peer_table"] and table.count("bench_peer") == 2


def test_a_peer_measured_with_another_exclude_history_is_not_comparable(tmp_path):
    other = {**PROTOCOL, "exclude_history": False}
    rows = [{**row, "protocol": other} for row in BENCH_ROWS]
    study = _write_study(tmp_path, [_peer()], rows=rows)
    _, results = _results(tmp_path)
    part = peer_section.context(study, results, tmp_path / "reports")
    [row] = peer_section.peer_table(study, results).to_dict("records")
    assert row["ours reaches it"] == "not comparable: exclude_history"
    assert "not comparable: exclude\\_history" in part["peer_table"]  # Markdown-escaped
    assert part["peer_text"].startswith("Not compared, because the two were measured under "
                                        "different protocols")


def test_ours_without_a_recorded_protocol_is_not_comparable(tmp_path):
    study = _write_study(tmp_path, [_peer()])
    _, results = _results(tmp_path, protocol={})
    [row] = peer_section.peer_table(study, results).to_dict("records")
    assert row["ours reaches it"] == "not comparable: data, split, exclude_history"


def test_matched_rows_with_different_protocols_are_refused(tmp_path):
    rows = [BENCH_ROWS[0], {**BENCH_ROWS[1], "protocol": {**PROTOCOL, "split": "other"}}]
    _write_study(tmp_path, [_peer()], rows=rows)
    with pytest.raises(ReplikitError, match="record different protocols"):
        check_study_files("fakestudy", tmp_path)


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
