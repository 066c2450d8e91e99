"""The audit of original code: each problem found at the right file and line.

The fixture repositories under tests/data/audit/ each hold known problems: ``legacy`` is
Python 2 code, ``mlrepo`` a PyTorch project with unpinned and conflicting requirements,
unseeded NumPy, cuDNN benchmark mode, a run-time download, an absolute path and GPU-only
code, ``bare`` a script with no declared dependencies. ``library`` is an installed wheel
holding look-alikes of every false alarm the audit used to raise on real packages (a
platform probe, a URL and a regular expression with slashes, a ping, ``six.iteritems``, a
comparison with ``torch.device("cuda")``, dependencies declared in METADATA only) beside the
machine paths it must still find.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from replikit.audit import (
    audit_artifact,
    audit_path,
    audit_questions,
    audit_tree,
    findings_markdown,
)
from replikit.audit.model import Finding
from replikit.audit.pysource import python2_constructs
from replikit.cli import main
from replikit.errors import ReplikitError
from replikit.fileio import write_json

DATA = Path(__file__).parent / "data" / "audit"


def located(audit: dict, category: str | None = None) -> set[tuple[str, str | None, int | None]]:
    return {(f["check"], f["file"], f["line"]) for f in audit["findings"]
            if category is None or f["category"] == category}


def test_python2_code_is_found_by_syntax_and_by_semantics():
    audit = audit_tree(DATA / "legacy")
    assert located(audit, "dependencies") == {
        ("python2", "train.py", 7),             # except IOError, err:
        ("python2", "train.py", 8),             # print "cannot read", path
        ("python2", "train.py", 15),            # print "rows:", len(rows)
        ("python2-semantics", "helpers.py", 3),  # map(out.append, rows) as a statement
        # helpers.py parses as Python 3: its .iteritems() and xrange are names, not evidence
        ("python2", "environment.yml", 3),      # python=2.7
        ("not-pinned", "environment.yml", 5),   # scipy (numpy=1.16.6 is pinned)
    }
    assert audit["python2_files"] == ["environment.yml", "train.py"]
    messages = {f["line"]: f["message"] for f in audit["findings"] if f["file"] == "train.py"}
    assert messages[7] == "Python 2 only: 'except X, y' syntax"
    assert messages[8] == "Python 2 only: print statement"


@pytest.mark.parametrize(("code", "construct"), [
    ("exec 'x = 1'\n", "exec statement"),
    ("y = `x`\n", "backtick repr"),
    ("if a <> b:\n    pass\n", "'<>' operator"),
    ("n = 0777\n", "octal literal without 0o"),
    ("n = 10L\n", "long integer suffix"),
    ("s = ur'x'\n", "ur'' string prefix"),
    ("raise ValueError, 'bad'\n", "'raise X, y' syntax"),
    ("def f((a, b)):\n    return a\n", "tuple parameters"),
])
def test_each_python2_construct_is_named(code, construct):
    assert python2_constructs(code) == [(code.count("\n", 0, code.find(code.split()[0])) + 1,
                                         construct)]


def test_python3_code_has_no_python2_constructs():
    assert python2_constructs("print('x')\nexec('y = 1')\nprint = 3\nx = 0o777\n") == []


def test_ml_repository_problems_point_to_their_lines():
    audit = audit_tree(DATA / "mlrepo")
    assert located(audit, "dependencies") == {
        ("not-pinned", "requirements.txt", 3),   # numpy>=1.20
        ("not-pinned", "requirements.txt", 4),   # scipy
        ("not-pinned", "setup.py", 6),           # torch>=1.6
        ("not-pinned", "setup.py", 7),           # numpy>=1.19 (compatible with >=1.20)
        ("conflicting", "setup.py", 6),          # torch>=1.6 against torch==1.4.0
    }
    assert located(audit, "randomness") == {
        ("seed-not-exposed", "train.py", 20),    # torch.manual_seed(0), no --seed option
        ("nondeterministic", "train.py", 21),    # cudnn.benchmark = True
        ("unseeded", "train.py", 22),            # np.random.permutation, numpy never seeded
    }
    assert located(audit, "data") == {
        ("absolute-path", "train.py", 9),
        ("unpinned-download", "train.py", 13),
    }
    # src/model.py checks for a GPU before .cuda() and "cuda": no finding there.
    assert located(audit, "hardware") == {
        ("gpu-only", "train.py", 23),
        ("device-count", "train.py", 24),
    }
    conflict = next(f for f in audit["findings"] if f["check"] == "conflicting")
    assert conflict["evidence"] == "torch>=1.6"
    assert "requirements.txt:2" in conflict["message"]


def test_documentation_reuses_the_completeness_checklist():
    audit = audit_tree(DATA / "mlrepo")
    # The README has a results table and a command; training code exists (train.py), so
    # the checklist's "no pretrained models" is no finding: the code trains its own.
    assert located(audit, "documentation") == {("missing-evaluation-code", None, None)}
    bare = audit_tree(DATA / "bare")
    assert ("missing-results-table-and-commands", None, None) in located(bare, "documentation")


def test_no_declared_dependencies_points_to_the_first_third_party_import():
    audit = audit_tree(DATA / "bare")
    assert located(audit, "dependencies") == {("none-declared", "run.py", 4)}
    finding = next(f for f in audit["findings"] if f["check"] == "none-declared")
    assert finding["evidence"] == "import pandas as pd"


def test_seeded_entry_point_with_a_seed_option_has_no_randomness_finding(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    (tmp_path / "run.py").write_text(
        "import argparse\nimport numpy as np\n\nparser = argparse.ArgumentParser()\n"
        "parser.add_argument('--seed', type=int, default=0)\nargs = parser.parse_args()\n"
        "np.random.seed(args.seed)\nprint(np.random.rand(2))\n")
    assert located(audit_tree(tmp_path), "randomness") == set()
    assert located(audit_tree(tmp_path), "dependencies") == set()


def test_seeding_through_a_helper_of_the_repository_counts(tmp_path):
    (tmp_path / "utils.py").write_text(
        "import random\nimport numpy as np\n\ndef set_seed(s):\n    random.seed(s)\n"
        "    np.random.seed(s)\n")
    (tmp_path / "main.py").write_text(
        "import numpy as np\nfrom utils import set_seed\n\nif __name__ == '__main__':\n"
        "    set_seed(3)\n    print(np.random.rand(1))\n    rng = np.random.default_rng()\n")
    audit = audit_tree(tmp_path)
    # Seeded through set_seed; but default_rng() without a seed draws from OS entropy.
    assert located(audit, "randomness") == {("unseeded", "main.py", 7)}


def test_audit_artifact_unpacks_an_sdist_and_writes_audit_json(tmp_path):
    archive = tmp_path / "mlrepo-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(DATA / "mlrepo", arcname="mlrepo-1.0")
    write_json(tmp_path / "results/demo/artifacts/code.json",
               {"name": "code", "status": "ok", "path": str(archive), "sha256": "a" * 64,
                "source": {"kind": "pypi", "ref": "mlrepo==1.0"}})
    out = audit_artifact("demo", "code", tmp_path)
    assert out == tmp_path / "results/demo/audit.json"
    audit = json.loads(out.read_text())
    assert audit["artifact_sha256"] == "a" * 64 and audit["source"] == "mlrepo==1.0"
    # Paths are relative to the sdist's top folder, as in the repository.
    assert located(audit) == located(audit_tree(DATA / "mlrepo"))


def test_audit_artifact_not_fetched_says_how_to_fetch(tmp_path):
    with pytest.raises(ReplikitError, match="has not been fetched") as err:
        audit_artifact("demo", "code", tmp_path)
    assert "snakemake results/demo/artifacts/code.json" in err.value.fix


def test_findings_markdown_and_questions():
    audit = audit_tree(DATA / "mlrepo")
    text = findings_markdown(audit)
    assert "#### Randomness" in text and "#### Hardware" in text
    assert "| `train.py:21` | cuDNN benchmark mode" in text
    assert "`torch.backends.cudnn.benchmark = True`" in text
    questions = audit_questions(audit)
    assert any(q.startswith("Which exact versions of numpy, scipy, torch") for q in questions)
    assert any("cuDNN" in q and "train.py:21" in q for q in questions)
    assert any(q.startswith("How many GPUs") and "train.py:24" in q for q in questions)
    assert len(questions) == len({f["check"] if not f["check"].startswith("missing-")
                                  else "missing" for f in audit["findings"]})


def test_cli_audit_with_a_path_writes_audit_json(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "audit", "demo", "--path",
                 str(DATA / "bare"), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "imports pandas, but no requirements" in out
    assert (tmp_path / "results/demo/audit.json").is_file()


def test_a_finding_has_a_known_category():
    with pytest.raises(ValueError, match="unknown category"):
        Finding("style", "x", "y")


def test_audit_record_of_an_unavailable_artifact_says_not_run():
    from replikit.audit import audit_record

    audit = audit_record("demo", {"name": "code", "status": "unavailable",
                                  "reason": "cannot reach the package index"})
    assert audit == {"status": "not-run", "study": "demo", "artifact": "code",
                     "reason": "cannot reach the package index"}


def test_the_report_shows_the_audit_or_why_it_did_not_run(tmp_path):
    from replikit.audit import audit_record
    from replikit.publish.report.completeness import _audit_markdown

    shown = _audit_markdown(audit_record("demo", {"name": "legacy", "status": "ok",
                                                  "path": str(DATA / "legacy")}))
    assert "### Audit of the original code" in shown and "train.py" in shown
    missing = _audit_markdown({"status": "not-run", "artifact": "code", "reason": "offline"})
    assert missing == "The audit of `code` did not run: offline."
    assert _audit_markdown(None) == ""


def test_only_a_code_artifact_may_be_audited():
    from pydantic import ValidationError

    from replikit.study.model import Artifact

    with pytest.raises(ValidationError, match="role 'code' only"):
        Artifact.model_validate({"description": "d", "url": "https://x.org/a.csv",
                                 "audit": True})


# --------------------------------------------------------------------------- false alarms
def test_a_wheels_metadata_declares_its_dependencies():
    audit = audit_tree(DATA / "library")
    assert located(audit, "dependencies") == {
        # numpy>=1.24 and both torch lines; six==1.16.0 is pinned, plotly is an extra.
        ("not-pinned", "libpkg-1.0.dist-info/METADATA", 4),
        ("not-pinned", "libpkg-1.0.dist-info/METADATA", 6),
        ("not-pinned", "libpkg-1.0.dist-info/METADATA", 7),
    }  # no "none declared"; torch>=2.0 and torch<2.0 hold for different Pythons: no conflict


def test_only_strings_used_as_paths_are_machine_paths():
    audit = audit_tree(DATA / "library")
    # platforms.py: an existence probe, a URL in an f-string, a regular expression, a
    # sentence naming a folder: none is a path the code depends on.
    assert located(audit, "data") == {("absolute-path", "libpkg/paths.py", 7),    # read_csv
                                      ("absolute-path", "libpkg/paths.py", 10),   # np.load
                                      ("absolute-path", "libpkg/paths.py", 16)}   # --out
    messages = {f["line"]: f["message"] for f in audit["findings"] if f["check"] ==
                "absolute-path"}
    assert "'/home/bob/runs' (the default of an option)" in messages[16]


def test_python2_needs_a_parse_failure_not_a_method_name():
    audit = audit_tree(DATA / "library")
    assert not [f for f in audit["findings"] if f["check"].startswith("python2")]


def test_a_device_comparison_and_a_ping_are_no_findings():
    audit = audit_tree(DATA / "library")
    assert located(audit, "hardware") == set()
    assert not [f for f in audit["findings"] if f["check"] == "unpinned-download"]


def test_an_installed_distribution_is_audited_without_its_dependencies(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(DATA / "library", site)
    own = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    (site / "libpkg-1.0.dist-info" / "RECORD").write_text(
        "".join(f"{name},,\n" for name in own) + "libpkg-1.0.dist-info/RECORD,,\n")
    (site / "otherdep").mkdir()
    (site / "otherdep" / "train.py").write_text("import os\nopen('/home/carol/x/y.csv')\n")
    audit = audit_path(site, "libpkg")
    assert audit["audited"] == "distribution libpkg (RECORD)"
    assert not [f for f in audit["findings"] if (f["file"] or "").startswith("otherdep")]
    assert located(audit) == located(audit_tree(DATA / "library"))


def test_a_finding_with_pipes_dollars_and_citations_keeps_the_table_whole():
    import pypandoc

    findings = [{"category": "data", "check": "absolute-path", "file": "a.py", "line": n,
                 "message": message, "evidence": evidence} for n, (message, evidence) in
                enumerate([("the path '/?(.+?)(/|$)' is odd", 're.compile(r"/?(.+?)(/|$)")'),
                           ("xpath [@class='gr'] and $x", "find('[@class=\\'gr\\']')"),
                           ("a `tick` | pipe", "a = b | c  # `x`")], start=1)]
    audit = {"findings": findings, "counts": {"data": 3}, "files": 1, "python_files": 1}
    text = findings_markdown(audit)
    page = pypandoc.convert_text(text, "html", format="markdown")
    assert page.count("<tr") == 4  # the header and one row per finding
    assert "xpath [@class=" in page and "(/|$)" in page  # text, not a citation or math
    assert "<code>a = b | c # `x`</code>" in page
