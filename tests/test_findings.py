"""The findings sentences that open the report and the letter: counts of ledger rows."""

from __future__ import annotations

import pandas as pd

from replikit.publish.findings import findings
from replikit.publish.report.summary import markdown_findings, not_run_causes

ROWS = [
    # claim_id, level, kind, verdict, drift_rel, test, reason, causes
    ("v1", "re-run", "value", "reproduced", 0.001, "point rule (n = 1)", "inside", []),
    ("v2", "re-run", "value", "reproduced", -0.002, "point rule (n = 1)", "inside", []),
    ("v3", "re-run", "value", "not reproduced", 0.031, "TOST", "above", []),
    ("t1", "re-run", "time", "not comparable", 0.5, "", "other hardware", []),
    ("t2", "re-run", "time", "not comparable", -0.3, "", "other hardware", []),
    ("r1", "re-run", "ratio", "reproduced", 0.1, "point rule (n = 1)",
     "a / b: inside; unreliable timing: 1 run(s) timed on a loaded machine (load 9)", []),
    ("v1", "generalize", "value", "not comparable", -0.6, "", "measured on data set d2", []),
    ("c1", "generalize", "best-of", "not reproduced", float("nan"), "", "a does not beat b2",
     []),
    ("c2", "generalize", "comparison", "reproduced", float("nan"),
     "point rule (seed did not change the result)", "the seed did not change the result", []),
    ("v4", "re-implement", "value", "not run", float("nan"), "", "offline",
     [{"kind": "artifact-unavailable", "name": "ml-1m", "detail": "offline"}]),
]


def _ledger():
    return pd.DataFrame(ROWS, columns=["claim_id", "level", "kind", "verdict", "drift_rel",
                                       "test", "reason", "causes"])


def test_findings_read_like_a_reviewers_sentences():
    said = findings(_ledger(), not_run_causes)
    assert said[0] == ("At the re-run level, of 3 value claims checked, 2 reproduced; not "
                       "reproduced: v3 (drift +3.10%).")
    assert "At the re-run level, the 1 ratio claim checked is reproduced." in said
    assert ("At the generalize level, of 2 relations checked, 1 reproduced; not reproduced: "
            "c1 (a does not beat b2).") in said
    assert any(s.startswith("1 check is not comparable: the experiment runs on another data "
                            "set or protocol") and "(v1)" in s for s in said)
    assert ("2 absolute times are not comparable: the hardware differs from the paper's, so "
            "the measured times are information, not evidence.") in said
    assert any(s.startswith("At 1 check the seed did not change the result") for s in said)
    assert "1 time check was measured on a loaded machine and is marked unreliable." in said
    assert said[-1] == ("1 check did not run because artifact 'ml-1m' is unavailable "
                        "(offline) (v4).")


def test_findings_in_markdown_set_claim_ids_as_code_and_escape_the_rest():
    ledger = _ledger()
    ledger.loc[9, "causes"] = [{"kind": "artifact-unavailable", "name": "a_b", "detail": "x*y"}]
    text = " ".join(markdown_findings(ledger))
    assert "not reproduced: `v3` (drift +3.10%)." in text
    assert r"artifact 'a\_b' is unavailable (x\*y)" in text


def test_not_run_findings_give_one_bullet_per_cause_with_its_count_and_claims():
    """The same cause recorded once per claim is one bullet; no cause is left out."""
    def declared(claim, detail):
        return [{"kind": "declared-not-run", "name": f"{claim} at re-run", "detail": detail}]

    adult = "Adult Income is not redistributable"
    rows = [(c, "re-run", "value", "not run", float("nan"), "", adult, declared(c, adult))
            for c in ("a1", "a2", "a3")]
    rows += [("h1", "re-run", "value", "not run", float("nan"), "", "x",
              declared("h1", "Higgs needs 40 GB")),
             ("g1", "re-run", "value", "not run", float("nan"), "", "x",
              [{"kind": "needs-gpu", "name": "1 GPU(s)", "detail": "0 available"}]),
             ("e1", "re-run", "value", "not run", float("nan"), "", "the job crashed", [])]
    ledger = pd.DataFrame(rows, columns=_ledger().columns)
    said = [s for s in findings(ledger, not_run_causes) if "did not run" in s]
    assert said == [
        f"3 checks did not run because {adult} (a1, a2, a3).",
        "1 check did not run because Higgs needs 40 GB (h1).",
        "1 check did not run because needs 1 GPU(s) (declared in its resources) (g1).",
        "1 check did not run because the job crashed (e1).",
    ]
