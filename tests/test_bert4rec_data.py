"""MovieLens loading and the BERT4Rec leave-one-out split (studies/bert4rec/data.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _rank_helpers import study_module, synthetic_ratings, write_ratings

from replikit.errors import ReplikitError

data = study_module("data")


def _frame(rows):
    return pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])


# --------------------------------------------------------------------------- loading
@pytest.mark.parametrize("kind", ["ml-1m", "ml-100k"])
def test_load_movielens_reads_both_formats_in_file_order(tmp_path, kind):
    frame = synthetic_ratings(n_users=5, seed=1)
    path = write_ratings(frame, tmp_path / "ratings", kind)
    loaded = data.load_movielens(path, kind=kind)
    assert list(loaded.columns) == ["user", "item", "rating", "timestamp"]
    pd.testing.assert_frame_equal(loaded, frame.astype(np.int64))


def test_load_movielens_errors(tmp_path):
    with pytest.raises(ReplikitError, match="ratings file not found"):
        data.load_movielens(tmp_path / "missing.dat")
    with pytest.raises(ReplikitError, match="unknown MovieLens kind 'ml-20m'"):
        data.load_movielens(tmp_path / "x", kind="ml-20m")
    bad = tmp_path / "u.data"
    bad.write_text("1\t2\tthree\t4\n", encoding="utf-8")
    with pytest.raises(ReplikitError, match="cannot read the file as ml-100k ratings"):
        data.load_movielens(bad, kind="ml-100k")
    wrong_kind = write_ratings(synthetic_ratings(n_users=2), tmp_path / "r.dat", "ml-1m")
    with pytest.raises(ReplikitError, match="cannot read the file as ml-100k"):
        data.load_movielens(wrong_kind, kind="ml-100k")


def test_original_sequences_keep_the_file_order(tmp_path):
    path = tmp_path / "ml-1m.txt"
    path.write_text("1 5\n1 3\n1 4\n1 9\n2 3\n2 5\n2 4\n", encoding="utf-8")
    frame = data.load_original_sequences(path)
    split = data.make_split(frame, min_user_interactions=1, min_item_interactions=1)
    assert split.item_ids[split.histories("test")[0]].tolist() == [5, 3, 4]
    assert split.item_ids[split.test].tolist() == [9, 4]
    bad = tmp_path / "bad.txt"
    bad.write_text("1 x\n", encoding="utf-8")
    with pytest.raises(ReplikitError, match="cannot read the file as 'user item' lines"):
        data.load_original_sequences(bad)
    with pytest.raises(ReplikitError, match="sequence file not found"):
        data.load_original_sequences(tmp_path / "none.txt")


# --------------------------------------------------------------------------- the split
def test_leave_one_out_in_time_order_with_stable_ties():
    # user 7: times 3, 1, 1, 2, 5 in file order -> items ordered 20, 30 (tie: file order), 40,
    # 10, 50; then test = 50, valid = 10, train = 20, 30, 40
    rows = [(7, 10, 5, 3), (7, 20, 5, 1), (7, 30, 5, 1), (7, 40, 5, 2), (7, 50, 5, 5)]
    split = data.make_split(_frame(rows), min_user_interactions=1, min_item_interactions=1)
    to_ids = split.item_ids
    assert to_ids[split.train[0]].tolist() == [20, 30, 40]
    assert to_ids[split.valid].tolist() == [10] and to_ids[split.test].tolist() == [50]
    swapped = [rows[0], rows[2], rows[1], rows[3], rows[4]]
    split2 = data.make_split(_frame(swapped), min_user_interactions=1, min_item_interactions=1)
    assert split2.item_ids[split2.train[0]].tolist() == [30, 20, 40]


def test_one_pass_filter_like_sasrec():
    # users 1-5 rate items 1-5; item 99 has 2 ratings and goes; user 6 rates 1-4 and 99:
    # 5 raw ratings pass the user threshold, 4 remain, and (one pass, as SASRec) user 6 stays
    rows = [(u, i, 4, 10 * u + i) for u in range(1, 6) for i in range(1, 6)]
    rows += [(1, 99, 4, 100)] + [(6, i, 4, 200 + i) for i in (1, 2, 3, 4, 99)]
    split = data.make_split(_frame(rows))
    assert 99 not in split.item_ids
    assert split.users.tolist() == [1, 2, 3, 4, 5, 6]
    assert len(split.histories("test")[5]) == 3  # 4 items: 2 train, valid, test
    assert len(split.histories("test")[0]) == 4  # user 1 lost item 99 too
    assert data.make_split(_frame(rows), min_user_interactions=6).users.tolist() == [1]


def test_users_need_three_interactions_and_min_rating_filters():
    rows = [(1, 1, 5, 1), (1, 2, 5, 2), (2, 1, 5, 1), (2, 2, 1, 2), (2, 3, 5, 3)]
    split = data.make_split(_frame(rows), min_user_interactions=1, min_item_interactions=1)
    assert split.users.tolist() == [2]
    with pytest.raises(ReplikitError, match="no user is left after filtering"):
        data.make_split(_frame(rows), min_user_interactions=1, min_item_interactions=1,
                        min_rating=4)


def test_split_views_and_popularity():
    split = data.make_split(synthetic_ratings(seed=2), min_user_interactions=5,
                            min_item_interactions=1)
    valid_h, test_h = split.histories("valid"), split.histories("test")
    for t, h_valid, h_test, v in zip(split.train, valid_h, test_h, split.valid, strict=True):
        assert np.array_equal(h_valid, t)
        assert np.array_equal(h_test, np.append(t, v))
    assert np.array_equal(split.targets("valid"), split.valid)
    assert np.array_equal(split.targets("test"), split.test)
    pop = split.item_popularity("test")
    assert pop.shape == (split.n_items + 1,) and pop[0] == 0
    assert pop.sum() == sum(len(h) for h in test_h)
    assert split.for_stage("test").fit_histories()[0].tolist() == test_h[0].tolist()
    assert split.fit_stage == "valid"
    assert split.describe()["interactions"] == pop.sum() + len(split.users)
    with pytest.raises(ReplikitError, match="unknown stage 'train'"):
        split.histories("train")


def test_items_are_numbered_by_original_id_and_every_user_keeps_all_items():
    frame = synthetic_ratings(seed=3)
    split = data.make_split(frame, min_user_interactions=1, min_item_interactions=1)
    assert np.all(np.diff(split.item_ids[1:]) > 0) and split.item_ids[0] == 0
    for user, h in zip(split.users, split.histories("test"), strict=True):
        full = np.append(h, split.test[split.users.tolist().index(user)])
        raw = frame[frame.user == user].sort_values("timestamp", kind="stable").item
        assert split.item_ids[full].tolist() == raw.tolist()


def test_subset_is_deterministic_and_keeps_the_catalogue():
    split = data.make_split(synthetic_ratings(seed=4), min_item_interactions=1)
    a, b = split.subset(10, seed=0), split.subset(10, seed=0)
    assert a.users.tolist() == b.users.tolist() and len(a.users) == 10
    assert a.n_items == split.n_items
    assert split.subset(10_000) is split


def test_split_is_deterministic():
    frame = synthetic_ratings(seed=5)
    a, b = data.make_split(frame), data.make_split(frame.copy())
    assert np.array_equal(a.test, b.test) and np.array_equal(a.valid, b.valid)
    assert all(np.array_equal(x, y) for x, y in zip(a.train, b.train, strict=True))


def test_missing_columns_are_named():
    with pytest.raises(ReplikitError, match="ratings lack columns"):
        data.make_split(pd.DataFrame({"user": [1], "item": [2]}))
