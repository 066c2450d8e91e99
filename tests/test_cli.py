"""The replikit command line."""

import datetime
import subprocess
import sys
from pathlib import Path

import pytest

from replikit.cli import main
from replikit.study import load_study

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path):
    (tmp_path / "studies").mkdir()
    return tmp_path


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "replikit.cli", "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    for command in ("new", "validate", "list", "schema"):
        assert command in out


def test_new_scaffolds_a_study_that_validates(project, capsys):
    assert main(["--root", str(project), "new", "mystudy", "--title", "A paper"]) == 0
    study = load_study("mystudy", root=project)
    assert study.paper.title == "A paper"
    assert study.paper.year == datetime.date.today().year  # the year defaults to this one
    guide = "docs/writing-a-study.md"
    assert guide in capsys.readouterr().out and (ROOT / guide).is_file()
    assert (project / "studies" / "mystudy" / "runner.py").exists()
    assert main(["--root", str(project), "validate", "mystudy"]) == 0
    assert "mystudy: ok" in capsys.readouterr().out


def test_new_refuses_to_overwrite(project, capsys):
    main(["--root", str(project), "new", "mystudy"])
    assert main(["--root", str(project), "new", "mystudy"]) == 2
    assert "exists already" in capsys.readouterr().err


def test_new_refuses_bad_names(project, capsys):
    assert main(["--root", str(project), "new", "../evil"]) == 2
    assert "letters, digits" in capsys.readouterr().err


def test_validate_reports_errors_with_exit_code(project, capsys):
    main(["--root", str(project), "new", "mystudy"])
    manifest = project / "studies" / "mystudy" / "study.yaml"
    manifest.write_text(manifest.read_text().replace("metric: accuracy", "metrik: accuracy"))
    assert main(["--root", str(project), "validate", "mystudy"]) == 2
    assert "claims[0].metrik" in capsys.readouterr().err


def test_list_shows_the_shipped_studies(capsys):
    assert main(["--root", str(ROOT), "list"]) == 0
    assert "surprise" in capsys.readouterr().out


def test_a_reader_that_goes_away_gets_no_traceback():
    """`replikit list | true`: the reader is gone before the first write; no traceback."""
    command = f"'{Path(sys.executable).parent / 'replikit'}' list | true"
    done = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert "BrokenPipe" not in done.stderr and "Traceback" not in done.stderr, done.stderr
