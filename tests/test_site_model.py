"""The site's inputs from the stages that own them: the manifest's field, the contact state."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from _site_helpers import TINY, TINY_CONTACTS

from replikit.authors.contacts import contact_state
from replikit.errors import ReplikitError
from replikit.study import load_study
from replikit.study.contacts import Contacts

TODAY = dt.date(2026, 11, 30)
REPLY = {"id": "m2", "date": "2026-09-20", "direction": "received", "authors": ["Ada Example"],
         "subject": "Re: folds", "summary": "The default ones.", "in_reply_to": "m1",
         "answers": [{"question": "q1", "text": "KFold(random_state=0)"}]}


def _log(*extra: dict) -> Contacts:
    data = yaml.safe_load(TINY_CONTACTS)
    data["messages"] += list(extra)
    return Contacts.model_validate(data)


def test_contact_state_none_awaiting_answered():
    assert contact_state(None, TODAY).state == "none"
    empty = Contacts.model_validate({**yaml.safe_load(TINY_CONTACTS), "messages": []})
    assert contact_state(empty, TODAY).state == "none"
    waiting = contact_state(_log(), TODAY)
    assert (waiting.state, waiting.days, waiting.overdue, waiting.open_questions) == (
        "awaiting", 90, True, 1)
    assert not contact_state(_log(), dt.date(2026, 9, 20)).overdue  # 19 days: within 30
    answered = contact_state(_log(REPLY), TODAY)
    assert (answered.state, answered.days, answered.open_questions, answered.last_message) \
        == ("answered", None, 0, dt.date(2026, 9, 20))


@pytest.mark.parametrize("field", ["", "x", "two\nlines", "y" * 61])
def test_a_bad_field_is_one_clear_error(tmp_path, field):
    folder = tmp_path / "studies" / "tiny"
    folder.mkdir(parents=True)
    data = yaml.safe_load(TINY)
    data["paper"]["field"] = field
    (folder / "study.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ReplikitError, match=r"paper\.field \(line \d+\)"):
        load_study("tiny", tmp_path)


def test_the_shipped_studies_name_their_field():
    fields = {name: load_study(name).paper.field
              for name in ("surprise", "bert4rec", "rlzoo")}
    assert fields == {"surprise": "recommender systems", "bert4rec": "recommender systems",
                      "rlzoo": "reinforcement learning"}
