"""Tests for replikit.audit.completeness: the code checklist on small folders, the ACM badges."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from replikit.audit.completeness import (
    BADGE_RULES,
    ITEMS,
    acm_badges,
    badge_table,
    check_artifact,
    completeness_table,
    other_code,
)

README = """\
# FancyRec

| model | NDCG@10 |
|:------|--------:|
| ours  |   0.612 |

To reproduce the table:

```bash
python train.py --config configs/ml1m.yaml
python evaluate.py --checkpoint runs/best.pt
```

Pretrained checkpoints: download from https://example.org/fancyrec-ckpt.tar
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _record(path: Path | None, name: str = "code", **extra) -> dict:
    record = {"name": name, "role": "code", "status": "ok", "path": str(path) if path else None,
              "sha256": None, "commit": "0123abcd" * 5, "source": {"kind": "git"},
              "reason": None, "optional": False}
    record.update(extra)
    return record


def _by_item(checks) -> dict:
    return {c.item: c for c in checks}


@pytest.fixture
def complete(tmp_path) -> Path:
    return _write(tmp_path / "fancyrec", {
        "README.md": README, "requirements.txt": "torch==2.3\n",
        "src/train.py": "def main():\n    loss.backward()\n",
        "src/evaluate.py": "def evaluate(model):\n    return 0\n",
        ".git/config": "[core]\n",
    })


def test_a_complete_repository_says_yes_with_evidence(complete):
    checks = _by_item(check_artifact(_record(complete)))
    assert [c.status for c in checks.values()] == ["yes"] * 5
    assert checks["dependencies"].evidence == ["requirements.txt"]
    assert checks["training code"].evidence == ["src/train.py"]
    assert checks["evaluation code"].evidence == ["src/evaluate.py"]
    assert "download" in checks["pretrained models"].reason
    assert checks["results table and commands"].evidence == ["README.md"]


def test_a_bare_repository_says_no(tmp_path):
    root = _write(tmp_path / "bare", {"README.md": "# Model\n\nSome words.\n",
                                      "model.py": "class Model:\n    pass\n"})
    checks = _by_item(check_artifact(_record(root)))
    assert {k: c.status for k, c in checks.items()} == dict.fromkeys(ITEMS, "no")
    assert checks["results table and commands"].reason == ("the README lacks a results "
                                                           "table and commands")


def test_code_is_found_by_its_text_when_names_say_nothing(tmp_path):
    root = _write(tmp_path / "lib", {
        "pkg/trainset.py": "class Trainset:\n    pass\n",  # a data structure, not training
        "pkg/algo.py": "class SVD:\n    def fit(self, data):\n        return self\n",
        "pkg/acc.py": "def rmse(predictions):\n    return 0.0\n",
        "weights/model.safetensors": "x"})
    checks = _by_item(check_artifact(_record(root)))
    assert checks["training code"].evidence == ["pkg/algo.py"]
    assert checks["evaluation code"].evidence == ["pkg/acc.py"]
    assert checks["pretrained models"].evidence == ["weights/model.safetensors"]


def test_an_installed_distribution_is_read_through_its_metadata(tmp_path):
    metadata = ("Metadata-Version: 2.1\nName: fancyrec\nRequires-Dist: numpy>=1.24\n\n"
                + README)
    root = _write(tmp_path / "site", {"fancyrec-1.0.dist-info/METADATA": metadata,
                                      "fancyrec/__init__.py": ""})
    checks = _by_item(check_artifact(_record(root)))
    assert checks["dependencies"].evidence == ["fancyrec-1.0.dist-info/METADATA"]
    assert checks["results table and commands"].status == "yes"


def test_an_installed_distribution_is_judged_without_its_dependencies(tmp_path):
    # install: true puts the artifact and its dependency closure in one site folder; only
    # the files its RECORD lists are the paper's (scikit-learn's trainers are not).
    metadata = "Metadata-Version: 2.1\nName: fancyrec\nRequires-Dist: numpy>=1.24\n\n# x\n"
    own = {"fancyrec-1.0.dist-info/METADATA": metadata, "fancyrec/__init__.py": "",
           "fancyrec/model.py": "class Model:\n    pass\n"}
    root = _write(tmp_path / "site", {
        **own, "fancyrec-1.0.dist-info/RECORD": "".join(f"{n},,\n" for n in own),
        "sklearn/semi_supervised/_self_training.py": "def fit(self, X):\n    return self\n",
        "sklearn/metrics/_ranking.py": "def ndcg_score(y, s):\n    return 1\n"})
    record = _record(root, source={"kind": "pypi", "ref": "fancyrec==1.0"})
    checks = _by_item(check_artifact(record))
    assert checks["training code"].status == "no"
    assert checks["evaluation code"].status == "no"
    assert checks["dependencies"].evidence == ["fancyrec-1.0.dist-info/METADATA"]
    # Without the distribution's name the whole folder is judged, as before.
    assert _by_item(check_artifact(_record(root)))["training code"].status == "yes"


def test_an_sdist_is_unpacked_before_it_is_judged(tmp_path, complete):
    import tarfile

    archive = tmp_path / "fancyrec-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(complete, arcname="fancyrec-1.0")
    checks = _by_item(check_artifact(_record(archive)))
    assert [c.status for c in checks.values()] == ["yes"] * 5
    assert checks["training code"].evidence == ["src/train.py"]  # inside the top folder
    single = tmp_path / "weights.bin"
    single.write_bytes(b"x")
    assert check_artifact(_record(single))[0].reason == (
        "weights.bin is a single file, not an archive or a folder: there is no code to judge")


def test_unavailable_artifacts_are_unknown_with_the_reason(tmp_path):
    checks = check_artifact(_record(None, status="unavailable", reason="host unreachable"))
    assert {c.status for c in checks} == {"unknown"}
    assert checks[0].reason == "artifact unavailable: host unreachable"
    gone = check_artifact(_record(tmp_path / "deleted"))
    assert gone[0].reason == "artifact unavailable: its folder is missing"


def test_the_table_covers_code_artifacts_only(complete):
    data = {"name": "ml-100k", "role": "data", "status": "ok", "path": str(complete)}
    table = completeness_table([_record(complete), data])
    assert list(table["artifact"].unique()) == ["code"]
    assert list(table["item"]) == list(ITEMS)


# --------------------------------------------------------------------------- badges
def _ledger(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["claim_id", "level", "kind", "verdict"]).assign(
        reason="offline")


GOOD_LEDGER = _ledger([("a", "re-run", "value", "reproduced"),
                       ("b", "re-run", "value", "partially reproduced"),
                       ("t", "re-run", "time", "not reproduced"),
                       ("a", "re-implement", "value", "not reproduced")])


def _badges(artifacts, ledger):
    badges = acm_badges(artifacts, completeness_table(artifacts), ledger)
    return {b.badge: b for b in badges}


def test_badges_follow_the_evidence(complete):
    badges = _badges([_record(complete)], GOOD_LEDGER)
    assert badges["Artifacts Available"].awarded
    assert "not an archival repository" in badges["Artifacts Available"].reason
    assert badges["Artifacts Evaluated — Functional"].awarded
    # The time claim's failure does not count: time depends on the hardware.
    assert badges["Results Reproduced"].awarded
    assert badges["Results Reproduced"].reason == ("all 2 re-run checks: 1 reproduced, "
                                                   "1 partially reproduced")
    assert not badges["Results Replicated"].awarded
    assert "0 of 1 re-implement checks" in badges["Results Replicated"].reason
    assert {b.rule for b in badges.values()} <= set(BADGE_RULES.values())


def test_a_check_that_did_not_run_withholds_functional_and_reproduced(complete):
    ledger = _ledger([("a", "re-run", "value", "reproduced"),
                      ("b", "re-run", "value", "not run")])
    badges = _badges([_record(complete)], ledger)
    assert not badges["Artifacts Evaluated — Functional"].awarded
    assert badges["Artifacts Evaluated — Functional"].reason.startswith(
        "1 of 2 re-run checks did not run, e.g. b: offline")
    assert not badges["Results Reproduced"].awarded


def test_unavailable_or_unpinned_code_withholds_availability(complete, tmp_path):
    missing = _record(None, status="unavailable", reason="404")
    badges = _badges([missing], GOOD_LEDGER)
    assert badges["Artifacts Available"].reason == "not fetched or not pinned: code"
    assert badges["Artifacts Evaluated — Functional"].reason == "the artifacts are not available"
    unpinned = _record(complete, commit=None, source={"kind": "url"})
    assert not _badges([unpinned], GOOD_LEDGER)["Artifacts Available"].awarded
    # An optional artifact that failed does not count when a required one is there.
    both = [_record(complete), _record(None, name="extra", status="unavailable",
                                       optional=True)]
    assert _badges(both, GOOD_LEDGER)["Artifacts Available"].awarded


def test_functional_needs_dependencies_and_evaluation_code(tmp_path):
    root = _write(tmp_path / "bare", {"model.py": "x = 1\n"})
    badges = _badges([_record(root)], GOOD_LEDGER)
    assert badges["Artifacts Evaluated — Functional"].reason == (
        "no code artifact shows dependencies or evaluation code")


def test_badge_table():
    table = badge_table(_badges([], GOOD_LEDGER).values())
    assert list(table.columns) == ["badge", "awarded", "reason"]
    assert table.loc[0, "reason"] == "the study lists no artifact of the paper's own code"
    assert list(table["awarded"]) == ["no", "no", "yes", "no"]


def test_report_section_lists_the_checklist_and_every_badge(tmp_path, complete):
    import json

    from _report_helpers import RULES, build_results

    from replikit.publish.report import write_report_from_results

    results = build_results(tmp_path, 1)
    (results["results"] / "artifacts" / "code.json").write_text(
        json.dumps(_record(complete)), encoding="utf-8")
    qmd = write_report_from_results(results["study"], results["results"], RULES,
                                    tmp_path / "reports" / "fakestudy")
    section = qmd.read_text(encoding="utf-8").split("## Code completeness and ACM badges")[1]
    section = section.split("\n## ")[0]
    assert "| `code` | training code | yes |" in section
    assert "`src/train.py`" in section
    for badge in BADGE_RULES:
        assert f"**{badge}:" in section
    # Re-run: the RMSE claim reproduced (the time claim does not count); re-implement:
    # inconclusive.
    badges = pd.read_csv(qmd.parent / "tables" / "acm_badges.csv")
    assert list(badges["awarded"]) == ["yes", "yes", "yes", "no"]


# --------------------------------------------------------------------------- code origins
@pytest.mark.parametrize("origin", ["library", "third-party"])
def test_code_that_is_not_the_papers_does_not_affect_checklist_or_badges(complete, tmp_path,
                                                                         origin):
    # An unpinned, unavailable library: it would withhold every badge if it were judged.
    other = _record(tmp_path / "missing", name="scikit-learn", origin=origin, commit=None,
                    status="unavailable", reason="offline")
    alone = _badges([_record(complete)], GOOD_LEDGER)
    both = _badges([_record(complete), other], GOOD_LEDGER)
    assert {k: (b.awarded, b.reason) for k, b in both.items()} == {
        k: (b.awarded, b.reason) for k, b in alone.items()}
    table = completeness_table([_record(complete), other])
    assert list(table["artifact"].unique()) == ["code"]
    assert [r["name"] for r in other_code([_record(complete), other])] == ["scikit-learn"]


def test_without_the_papers_code_no_badge_for_availability(tmp_path):
    library = _record(tmp_path, name="numpy", origin="library")
    badges = _badges([library], GOOD_LEDGER)
    assert not badges["Artifacts Available"].awarded
    assert "paper's own code" in badges["Artifacts Available"].reason
