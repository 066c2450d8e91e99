"""Relational claims are worded as what they state: a margin, a ratio band or pairs, never a
tolerance "around the reported value" they do not have; every band with the claim's digits."""

from __future__ import annotations

from test_relations import records, study_dict

from replikit.evaluate.ledger import build_ledger
from replikit.numbers import fmt_band
from replikit.publish.report.claims import tolerance_words
from replikit.publish.report.results_table import reported_text
from replikit.study import Study


def _words():
    study = Study.model_validate(study_dict())
    ledger = build_ledger(study, records(), hardware_comparable=False)
    return {c.id: (c, tolerance_words(c, ledger[ledger["claim_id"] == c.id]),
                   ledger[ledger["claim_id"] == c.id]) for c in study.claims}


def test_each_relation_says_what_it_is_judged_against():
    words = _words()
    equivalence = words["a-matches-b1"][1]
    assert equivalence.startswith("margin ±0.2 on the paired differences a − b")
    assert "no reported value" in equivalence and "around the reported" not in equivalence
    assert "paired test of a against each baseline" in words["a-best"][1]
    assert words["a-twice-b1"][1].startswith("±0.22 around the reported ratio 1.1")
    assert words["a-value"][1].startswith("±0.05 around the reported value 0.55 "
                                          "(band [0.495, 0.605]")
    assert reported_text(words["a-matches-b1"][0]) == "|a − b| ≤ 0.2"
    assert reported_text(words["a-best"][0]) == "a − b > 0"


def test_reasons_name_the_centre_of_the_band():
    rows = _words()["a-matches-b1"][2]
    reason = rows["reason"].iloc[0]
    assert reason.startswith("a - b1, margin ±0.2: ") and "reported value" not in reason


def test_a_band_keeps_the_digits_that_tell_its_edge():
    assert fmt_band(0.98953, 1.00047, 3) == "[0.9895, 1.0005]"
    assert fmt_band(0.495, 0.605, 2) == "[0.495, 0.605]"
