"""bench/compare_claims.py: two revisions' ledgers compared row by row."""

from __future__ import annotations

import doctest
import importlib.util
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "compare_claims.py"
_spec = importlib.util.spec_from_file_location("compare_claims", SCRIPT)
compare_claims = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_claims)

HEADER = "claim_id,level,kind,reported,mean,verdict,seeds\n"


def ledger(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def test_doctests():
    assert doctest.testmod(compare_claims).failed == 0


def test_the_same_ledger_has_no_difference(tmp_path):
    a = ledger(tmp_path / "a.csv", "C1,re-run,value,0.5,0.51,reproduced,0;1")
    assert compare_claims.compare(a, a) == []


def test_rows_and_columns_that_differ_are_each_named(tmp_path):
    a = ledger(tmp_path / "a.csv", "C1,re-run,value,0.5,0.51,reproduced,0;1",
               "C2,generalize,value,0.5,0.4,not reproduced,0")
    b = ledger(tmp_path / "b.csv", "C1,re-run,value,0.5,0.51,reproduced,0;1;2",
               "C3,generalize,value,0.5,0.4,not reproduced,0")
    assert compare_claims.compare(a, b) == [
        "C2 generalize: only before", "C3 generalize: only after", "C1 re-run: seeds 0;1 -> 0;1;2"]
    (tmp_path / "c.csv").write_text("claim_id,level,kind\nC1,re-run,value\n")
    assert compare_claims.compare(a, tmp_path / "c.csv")[0].startswith("columns: ")


def test_time_claims_ignore_the_measured_seconds_only(tmp_path):
    a = ledger(tmp_path / "a.csv", "T1,re-run,time,6.0,6.1,reproduced,0")
    b = ledger(tmp_path / "b.csv", "T1,re-run,time,6.0,9.9,not reproduced,0")
    assert compare_claims.compare(a, b) == []
    c = ledger(tmp_path / "c.csv", "T1,re-run,time,7.0,6.1,reproduced,0")
    assert compare_claims.compare(a, c) == ["T1 re-run: reported 6.0 -> 7.0"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def test_a_revision_is_cloned_as_committed(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet")
    for text in ("before", "after"):
        (repo / "file.txt").write_text(text)
        git(repo, "add", "file.txt")
        git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", text)
    base = compare_claims.resolve("HEAD~1", repo)
    assert len(base) == 40 and base != compare_claims.resolve("HEAD", repo)
    checkout = compare_claims.clone(base, tmp_path / "base", repo)
    assert (checkout / "file.txt").read_text() == "before"
    with pytest.raises(SystemExit, match="is not a commit"):
        compare_claims.resolve("no-such-branch", repo)
