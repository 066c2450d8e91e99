"""Papers' tables: corner cells that name the axes, the text around a table, the citation."""

from __future__ import annotations

import pytest

from replikit.extract import extract_claims
from replikit.extract.context import read_relations, read_setup
from replikit.extract.drafts import draft_experiments, runner_name, runner_stubs
from replikit.extract.layout import read_corner
from replikit.extract.paper import citation
from replikit.study import Claim

# The shape of interpret-core's README table: data sets by row, a Domain column, methods by
# column, every cell an AUROC with its sd.
INTERPRET = """# Results

Averaged over 5 random seeds; 80/20 train/test split.

| Dataset/AUROC | Domain | Logistic Regression | Random Forest | Explainable Boosting Machine |
|---|---|:-:|:-:|:-:|
| Adult Income | Finance | .907±.003 | .903±.002 | **.928±.002** |
| Heart Disease | Medical | .895±.030 | .890±.008 | **.898±.013** |

EBM is as accurate as Random Forest, and it is 3 times faster than Random Forest.
The Explainable Boosting Machine outperforms Logistic Regression.

# Another section

| Metric (↓) | LR | RF |
|---|---|---|
| Log loss | 0.30 | 0.25 |
"""


@pytest.fixture
def entries(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(INTERPRET, encoding="utf-8")
    return {e["claim"]["id"]: e for e in extract_claims(str(path))[0]}


@pytest.mark.parametrize(("corner", "labels", "split", "layout"), [
    ("Dataset/AUROC", [None], False, (("dataset",), "method", "AUROC", None)),
    ("Dataset/Metric", [], True, (("dataset", "metric"), "method", None, None)),
    ("Dataset / Metric", ["method"], False, (("dataset",), "metric", None, None)),
    ("Metric (↑)", [], False, (("metric",), "method", None, True)),
    ("Movielens 100k", [], False, None),
])
def test_corner_cells(corner, labels, split, layout):
    found = read_corner(corner, labels, split)
    assert (found and (found.rows, found.columns, found.metric, found.higher)) == layout


def test_methods_by_column_and_the_domain_column_kept_out_of_ids(entries):
    cell = entries["explainable-boosting-machine-adult-income-auroc"]
    claim = cell["claim"]
    assert (claim["dataset"], claim["metric"], claim["reported"]) == ("Adult Income", "auroc",
                                                                      0.928)
    assert claim["tolerance"] == {"absolute": 0.002}
    assert claim["protocol"] == "80/20 train/test split"
    assert "Domain: Finance (a label column that names no axis: not in the id)" in \
        cell["comments"]
    assert not any("finance" in ident for ident in entries)
    for entry in entries.values():
        Claim.model_validate(entry["claim"])


def test_an_arrow_in_the_corner_gives_the_direction(entries):
    loss = entries["rf-log-loss"]
    assert loss["claim"]["higher_is_better"] is False
    assert "higher_is_better: the table's arrow" in loss["comments"]


def test_relations_drafted_from_the_text(entries):
    same = entries["explainable-boosting-machine-equivalence-random-forest-heart-disease"]
    assert (same["claim"]["kind"], same["claim"]["margin"]) == ("equivalence", 0.013)
    faster = entries["random-forest-ratio-explainable-boosting-machine-adult-income"]["claim"]
    assert (faster["kind"], faster["reported"], faster["metric"]) == ("ratio", 3.0, "time_s")
    beats = entries["explainable-boosting-machine-comparison-logistic-regression-adult-income"]
    assert beats["claim"]["higher_is_better"] is True


def test_setup_read_from_the_text():
    setup = read_setup(["AUROC over 10 seeds, using 5-fold stratified cross-validation."])
    assert (setup.seeds, setup.protocol) == (10, "5-fold cross-validation")
    assert read_setup(["No numbers about runs here."]).seeds is None


def test_relations_need_two_named_methods():
    methods = ["Random Forest", "Boosted Trees"]
    assert read_relations(["It is as accurate as Random Forest."], methods) == []
    found = read_relations(["Boosted Trees beat Random Forest."], methods)
    assert [(r.kind, r.a, r.b) for r in found] == [("comparison", "Boosted Trees",
                                                     "Random Forest")]
    plural = read_relations(["This makes EBMs as accurate as random forests."],
                            ["Random Forest", "Explainable Boosting Machine"])
    assert [(r.kind, r.a, r.b) for r in plural] == [
        ("equivalence", "Explainable Boosting Machine", "Random Forest")]


def test_experiments_and_runner_stubs(entries):
    chosen = [e for e in entries.values() if e["claim"].get("dataset")]
    experiments = draft_experiments(chosen, needs=["original-package"])
    assert experiments["random-forest-heart-disease"]["seeds"] == 5
    assert experiments["random-forest-heart-disease"]["runner"] == \
        "runner.py:run_random_forest"
    relation = entries["explainable-boosting-machine-equivalence-random-forest-adult-income"]
    assert relation["claim"]["levels"] == {"re-run": {
        "a": "explainable-boosting-machine-adult-income", "b": "random-forest-adult-income"}}
    stubs = runner_stubs(chosen, "ebm")
    compile(stubs, "runner.py", "exec")
    assert "def run_explainable_boosting_machine(ctx):" in stubs
    assert runner_name("2-layer MLP") == "run_2_layer_mlp" and runner_name("XGBoost") == \
        "run_xgboost"


def test_the_citation_gives_the_paper_fields():
    found = citation("```\n@article{x,\n  title={{InterpretML}: A Unified Framework},\n"
                     "  author={Nori, Harsha and Jenkins, Samuel},\n  journal={arXiv},\n"
                     "  year={2019}\n}\n```")
    assert found == {"title": "InterpretML: A Unified Framework",
                     "authors": ["Harsha Nori", "Samuel Jenkins"], "year": 2019,
                     "venue": "arXiv 2019"}
    assert citation("no citation") == {}
