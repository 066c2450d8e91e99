"""The one "comparable?" rule: the keys of two protocol mappings that differ."""

from __future__ import annotations

import doctest

import replikit.ext.recsys.budgets as budgets
import replikit.study.comparable as comparable
from replikit.ext.recsys import protocol
from replikit.study.comparable import differing_keys


def test_doctests():
    assert doctest.testmod(comparable).failed == 0
    assert doctest.testmod(budgets).failed == 0


def test_every_differing_or_unstated_key_is_named_once_in_order():
    ours = {"data": "a", "ranking": "full", "exclude_history": True, "budget": "steps=40"}
    theirs = {"data": "a", "ranking": "full", "exclude_history": False, "cutoff": 10}
    assert differing_keys(ours, theirs) == ["exclude_history", "budget", "cutoff"]
    assert differing_keys(ours, theirs, unstated_differs=False) == ["exclude_history"]
    assert differing_keys(ours, dict(ours)) == []


def test_false_is_a_stated_value_not_an_unstated_one():
    assert differing_keys({"exclude_history": False}, {"exclude_history": None}) == [
        "exclude_history"]
    assert differing_keys({"exclude_history": False}, {}, unstated_differs=False) == []


def test_protocol_mappings_carry_every_key_of_the_issue():
    base = protocol.ranking_protocol(data_sha256="ab", filter=protocol.filter_text(),
                                     ranking="pop100", exclude_history=False,
                                     budget="steps=40", selection="last step")
    mapping = protocol.metric_protocol(base, "hr@5")
    assert set(mapping) == {"data", "filter", "split", "ranking", "exclude_history", "ties",
                            "cutoff", "budget", "selection"}
    assert mapping["cutoff"] == 5 and mapping["exclude_history"] is False
    assert protocol.budget_text(budgets_like(epochs=10, seconds=120.0)) == (
        "epochs=10, seconds<=120")


def budgets_like(**values):
    from replikit.ext.recsys.tuning import Budget
    return Budget(**values)
