"""From a package on an index to a judged report: ``replikit new --from``, runners, workflow.

``tinytab`` 1.0 is served as an sdist and a wheel by a package index on 127.0.0.1. Its
README has a "Dataset/Metric" table of 3 methods on 2 data sets with printed ± spreads, one
"as accurate as" sentence and a BibTeX citation. From an empty project folder and an empty
cache, with no network beyond that index, `replikit new --from` drafts the study; the test
then only fills in the drafted runner stubs (never study.yaml) and runs the workflow: every
cell is judged with its ± as the tolerance, and the relation is judged.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from replikit.cli import main
from replikit.study import load_study
from tests._fetch_helpers import (  # noqa: F401 - pytest fixture
    build_sdist,
    build_wheel,
    publish_index,
    server,
    use_index,
)

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # pip builds the sdist's metadata, then a workflow run

README = """# tinytab

Three classifiers on two tabular data sets: AUROC, mean ± sd over 3 seeds of
5-fold cross-validation.

| Dataset/Metric | Logistic Regression | Random Forest | Boosted Trees |
|---|:-:|:-:|:-:|
| Iris / AUROC | 0.950 ± 0.010 | 0.960 ± 0.012 | **0.968 ± 0.011** |
| Wine / AUROC | 0.910 ± 0.020 | 0.930 ± 0.015 | **0.935 ± 0.010** |

Boosted Trees are as accurate as Random Forest.

## Citation

```bibtex
@inproceedings{tinytab2026,
  title = {Tiny Tables for Tabular Data},
  author = {Example, Ada and Sample, Bo},
  booktitle = {Proceedings of Nowhere},
  year = {2026}
}
```
"""
# The package's own numbers: each method's AUROC per data set, a seed moving it slightly.
MODULE = b'''AUROC = {("logistic_regression", "Iris"): 0.950, ("random_forest", "Iris"): 0.960,
         ("boosted_trees", "Iris"): 0.968, ("logistic_regression", "Wine"): 0.910,
         ("random_forest", "Wine"): 0.930, ("boosted_trees", "Wine"): 0.935}


def evaluate(method, dataset, seed):
    return AUROC[(method, dataset)] + 0.0004 * (seed - 1)
'''
METHODS = ("logistic_regression", "random_forest", "boosted_trees")


@pytest.fixture
def project(tmp_path, server, monkeypatch):  # noqa: F811
    """An empty project folder (the workflow linked in), an empty cache, the local index."""
    files = {"README.md": README.encode(), "tinytab/__init__.py": MODULE}
    sdist = build_sdist(tmp_path / "dist", "tinytab", "1.0", files)
    wheel = build_wheel(tmp_path / "dist", "tinytab", "1.0", {"tinytab/__init__.py": MODULE})
    use_index(monkeypatch, publish_index(server, [sdist, wheel], "tinytab"))
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # the sdist's metadata, built offline
    monkeypatch.setenv("REPLIKIT_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Snakefile", "workflow", "envs"):
        (root / name).symlink_to(REPO / name)
    return root


def test_from_a_package_to_a_judged_report(project, capsys):
    assert main(["--root", str(project), "new", "tiny", "--from", "tinytab==1.0",
                 "--claims", "README.md"]) == 0
    folder = project / "studies/tiny"
    manifest = (folder / "study.yaml").read_text(encoding="utf-8")
    assert "# command: replikit new tiny --from tinytab==1.0 --claims README.md" in manifest
    study = load_study("tiny", project)
    assert study.paper.venue == "Proceedings of Nowhere 2026"
    assert study.paper.authors == ["Ada Example", "Bo Sample"]
    assert study.artifacts["original-package"].sources[0].install
    assert sorted(study.experiments) == [f"{m.replace('_', '-')}-{d}" for m in sorted(METHODS)
                                         for d in ("iris", "wine")]
    experiment = study.experiments["random-forest-wine"]
    assert (experiment.runner, experiment.seeds, experiment.dataset, experiment.protocol) == (
        "runner.py:run_random_forest", [0, 1, 2], "Wine", "5-fold cross-validation")
    claims = {c.id: c for c in study.claims}
    assert claims["random-forest-iris-auroc"].tolerance.absolute == 0.012  # the printed ±
    relation = claims["boosted-trees-equivalence-random-forest-iris"]
    assert relation.margin == 0.012
    assert "as accurate as" in relation.text

    # The user's part: fill in each drafted runner stub (study.yaml is not touched).
    runner = folder / "runner.py"
    code = runner.read_text(encoding="utf-8")
    for method in METHODS:
        stub = re.search(rf"    raise NotRunnable\('the runner run_{method} is not written[^\n]*",
                         code)
        assert stub, method
        code = code.replace(stub.group(0), '    return {"metrics": {"auroc": tinytab.evaluate('
                            f'"{method}", ctx.params["dataset"], ctx.seed)}}}}')
    runner.write_text("import tinytab\n" + code, encoding="utf-8")
    assert (folder / "study.yaml").read_text(encoding="utf-8") == manifest

    html = render(project, "tiny")
    ledger = pd.read_csv(project / "results/tiny/claims.csv").set_index("claim_id")
    cells = [c for c in claims if c.endswith("-auroc")]
    assert len(cells) == 6
    assert (ledger.loc[cells, "verdict"] == "reproduced").all(), ledger.loc[cells, "verdict"]
    printed = [0.010, 0.012, 0.011, 0.020, 0.015, 0.010]  # the table's ±, row by row
    assert list(ledger.loc[cells, "tolerance"]) == printed
    for ident in ("boosted-trees-equivalence-random-forest-iris",
                  "boosted-trees-equivalence-random-forest-wine"):
        assert ledger.loc[ident, "verdict"] == "reproduced", ledger.loc[ident]
    # The report's results table groups claims by the first part of their id.
    assert "<code>trees-equivalence-random-forest-iris</code>" in html
    detail = (project / "reports/tiny/claims-detail.html").read_text(encoding="utf-8")
    assert "boosted-trees-equivalence-random-forest-iris" in detail
    assert "Boosted Trees are as accurate as Random Forest" in detail


def render(root: Path, study: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", f"study={study}", "formats=[html]",
         "mlrc=false"], cwd=root, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-3000:]
    return (root / f"reports/{study}/report.html").read_text(encoding="utf-8")


def test_without_claims_the_files_with_tables_are_listed(tmp_path, server,  # noqa: F811
                                                         monkeypatch, capsys):
    files = {"README.md": README.encode(), "docs/more.md": b"| Model | RMSE |\n|---|---|\n"
             b"| SVD | 0.934 |\n", "docs/notes.md": b"No table here.\n"}
    use_index(monkeypatch, publish_index(
        server, build_sdist(tmp_path / "dist", "tinytab", "1.0", files), "tinytab"))
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")
    monkeypatch.setenv("REPLIKIT_CACHE", str(tmp_path / "cache"))
    assert main(["--root", str(tmp_path), "new", "tiny", "--from", "tinytab==1.0"]) == 2
    error = capsys.readouterr().err
    assert "has 2 files with results tables" in error
    assert "tinytab-1.0/README.md (1 table: Dataset/Metric)" in error
    assert "tinytab-1.0/docs/more.md (1 table: Model)" in error
    assert "fix: replikit new tiny --from tinytab==1.0 --claims <one of those paths>" in error
    assert not (tmp_path / "studies/tiny").exists()  # nothing to clean up before a rerun
