"""The done-when test of `claims extract` and `audit`: Surprise's own source distribution.

scikit-surprise 1.1.5's sdist is fetched as an artifact through the project's pypi source
(``sdist: true``) from pip's configured package index, the index the dev extras install
from; without it the test skips, saying why. Its README's two benchmark tables must yield
candidates whose ids, values, digits and units equal all 66 claims of
studies/surprise/study.yaml, and the audit of the same sdist must find its known problems.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from replikit.audit import audit_artifact
from replikit.extract import Options, extract_claims
from replikit.fetch.artifacts import fetch_artifact
from replikit.fileio import read_json, write_json
from replikit.study import load_study
from tests._fetch_helpers import make_study

ROOT = Path(__file__).resolve().parents[1]
ARTIFACT = "scikit-surprise-sdist"
README = "scikit_surprise-1.1.5/README.md"

# The study's id parts for the README's labels (the others are the labels' own slugs).
NAMES = {
    "Movielens 100k": "100k", "Movielens 1M": "1m",
    "SVD++ (cache_ratings=False)": "svdpp-nocache", "SVD++ (cache_ratings=True)": "svdpp-cache",
    "Slope One": "slopeone", "k-NN": "knnbasic", "Centered k-NN": "knnwithmeans",
    "k-NN Baseline": "knnbaseline", "Co-Clustering": "coclustering",
    "Baseline": "baselineonly", "Random": "normalpredictor",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    study = make_study(root, {ARTIFACT: {
        "description": "Surprise's source distribution", "role": "code",
        "pypi": "scikit-surprise==1.1.5", "sdist": True}})
    record = fetch_artifact(study, ARTIFACT, root / "resources/demo" / ARTIFACT,
                            cache_dir=root / "cache")
    if record["status"] != "ok":
        pytest.skip(f"the package index is not reachable: {record['reason']}")
    write_json(root / f"results/demo/artifacts/{ARTIFACT}.json", record)
    return root


def test_readme_tables_give_the_66_claims_of_the_surprise_study(project):
    entries, provenance = extract_claims(f"{ARTIFACT}:{README}", Options(names=NAMES),
                                         study="demo", root=project)
    record = read_json(project / f"results/demo/artifacts/{ARTIFACT}.json")
    assert provenance["artifact_sha256"] == record["sha256"]
    assert Path(record["path"]).name == "scikit_surprise-1.1.5.tar.gz"
    found = {e["claim"]["id"]: e["claim"] for e in entries}
    # The table's own numbers; the study's ratio claims are derived from them, not printed.
    printed = [c for c in load_study("surprise", ROOT).claims if c.kind in ("value", "time")]
    assert len(printed) == 66
    assert sorted(found) == sorted(c.id for c in printed)
    for claim in printed:
        candidate = found[claim.id]
        assert candidate["reported"] == claim.reported, claim.id
        assert candidate["decimals"] == claim.decimals, claim.id
        assert candidate.get("kind", "value") == claim.kind, claim.id  # time: seconds
        assert candidate["metric"] == claim.metric, claim.id
        assert candidate["higher_is_better"] == claim.higher_is_better, claim.id
        assert candidate["tolerance"] == claim.tolerance.model_dump(exclude_none=True), claim.id


def test_audit_of_the_surprise_sdist(project):
    audit = read_json(audit_artifact("demo", ARTIFACT, project))
    found = {(f["check"], f["file"], f["line"]) for f in audit["findings"]}
    assert {
        ("unpinned-download", "surprise/builtin_datasets.py", 67),  # urlretrieve(dataset.url)
        ("seed-not-exposed", "examples/benchmark.py", 103),         # np.random.seed(0)
        ("seed-not-exposed", "examples/benchmark.py", 104),         # random.seed(0)
        ("not-pinned", "pyproject.toml", 24),                       # numpy>=1.24.1
    } <= found
    assert audit["counts"]["hardware"] == 0 and audit["python2_files"] == []
