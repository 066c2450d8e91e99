"""MovieLens loaders and the leave-one-out split of BERT4Rec (Sun et al., CIKM 2019).

The paper's repository (FeiSun/BERT4Rec, commit b5a1c2e) ships ``data/ml-1m.txt`` already
preprocessed (``user item`` lines, one user's items in time order) and no script that makes
it from ``ratings.dat``. We rebuild it from the raw file following what we read:

1. **Implicit feedback, every rating kept.** The paper (Sec. 4.1) turns every rating into an
   interaction; ``min_rating`` is off by default. (asash/bert4rec_repro's own
   ``movielens100k.py`` keeps ratings >= 4 — not BERT4Rec's protocol; pass ``min_rating=4``
   to follow it.)
2. **5-core filter, one pass.** The repository's ``ml-1m.txt`` is SASRec's (kang205/SASRec),
   whose ``data/DataProcessing.py`` counts interactions per user and per item over the raw
   file once and drops every interaction whose user *or* item has fewer than 5 — a single
   pass, not repeated until stable. Every ML-1m user has at least 20 ratings, so only items
   can go. The paper's Table 1 reports 6,040 users and 3,416 items (and the README's
   ``bert_config_ml-1m_64.json`` a vocabulary of 3,420 = 3,416 items + 4 special tokens);
   whether this filter gives exactly that on ``ratings.dat`` is checked when ML-1m is
   fetched (the tests run offline on files they write).
3. **Chronological order, stable ties.** ``DataProcessing.py`` sorts each user's
   ``[time, item]`` pairs by time with Python's stable ``list.sort``, so interactions with
   the same timestamp keep their order in the raw file. We sort the same way (a stable
   sort on ``(user, timestamp)`` over the file order). This matters: in ML-100k half the
   ratings share their user's timestamp with another, and ordering ties by item id instead
   changes 30% of the test targets. To use the original's exact sequences, read its
   ``ml-1m.txt`` with :func:`load_original_sequences`.
4. **Leave-one-out.** FeiSun/BERT4Rec ``util.py:data_partition``: last item = test, the one
   before = validation, the rest = training; a user with fewer than 3 interactions goes to
   training only and ``gen_data_fin.py`` leaves them out of the test set. We drop users
   left with fewer than 3 interactions after step 2, so every user has a validation and a
   test target; like the original we do not filter again (a user left with 3 or 4 stays).
   On ML-1m no user is dropped.
5. **Indices.** Items are numbered ``1..n_items`` by ascending original id, 0 is padding;
   users are kept in ascending original id. The original re-indexes items by descending
   frequency (``vocab.py:FreqVocab``); the numbering changes nothing we measure, because
   our ranking breaks ties independently of item order (``replikit.ext.recsys.ranking``).

The original trains the final model on training + validation items (``gen_data_fin.py``,
"put validate into train") and evaluates on the test item; it has no validation stage.
:meth:`SequentialSplit.for_stage` gives the two views: ``'valid'`` (fit on ``train``, for
tuning) and ``'test'`` (fit on ``train + [valid]``, the original's setting). Only the
baselines (``baselines.py``) train on ``fit_histories()``; our BERT4Rec and SASRec train on
``train`` in every fit (their ``fit(train_stage="valid")`` default), as RecBole's do.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from replikit.errors import ReplikitError

COLUMNS = ("user", "item", "rating", "timestamp")
KINDS = {"ml-1m": "::", "ml-100k": "\t"}
STAGES = ("valid", "test")
MIN_SEQUENCE = 3  # training item(s), a validation and a test item


# --------------------------------------------------------------------------- loading
def load_movielens(path: str | Path, kind: str = "ml-1m") -> pd.DataFrame:
    """Read MovieLens ratings into a DataFrame ``[user, item, rating, timestamp]``.

    Parameters
    ----------
    path
        ``ratings.dat`` of ML-1m (``user::item::rating::timestamp``) or ``u.data`` of
        ML-100k (tab-separated), without a header.
    kind
        ``'ml-1m'`` or ``'ml-100k'``.

    Rows keep the file's order (it breaks timestamp ties, see the module docstring).
    """
    path = Path(path)
    if kind not in KINDS:
        raise ReplikitError(f"unknown MovieLens kind {kind!r}", where=str(path),
                            expected=" | ".join(KINDS), found=repr(kind))
    if not path.is_file():
        raise ReplikitError("ratings file not found", where=str(path),
                            fix="fetch the dataset artifact first (replikit fetch)")
    # '::' is two characters, which pandas' fast C parser cannot split on; no ML-1m field
    # holds a colon, so splitting on ':' gives the four fields at even positions.
    sep, usecols = (":", [0, 2, 4, 6]) if kind == "ml-1m" else ("\t", [0, 1, 2, 3])
    try:
        frame = pd.read_csv(path, sep=sep, header=None, usecols=usecols, dtype=np.int64,
                            engine="c")
    except (ValueError, pd.errors.ParserError) as err:
        raise ReplikitError(
            f"cannot read the file as {kind} ratings", where=str(path),
            expected=f"four integer fields separated by {KINDS[kind]!r}, no header",
            found=str(err).splitlines()[0], fix="check the file and the 'kind' argument",
        ) from err
    frame.columns = list(COLUMNS)
    return frame


def load_original_sequences(path: str | Path) -> pd.DataFrame:
    """Read the original repository's preprocessed ``data/<name>.txt`` (``user item`` lines).

    Each user's lines are in time order already (SASRec's ``DataProcessing.py`` wrote them
    so), and the ids are already those of the 5-core data. The returned ``timestamp`` is
    the line's position in the file, so :func:`make_split` keeps exactly the original
    order, ties included; ``rating`` is 1. Split it with both thresholds set to 1: the file
    is filtered already.
    """
    path = Path(path)
    if not path.is_file():
        raise ReplikitError("sequence file not found", where=str(path),
                            fix="fetch the original repository's data file first")
    try:
        frame = pd.read_csv(path, sep=" ", header=None, usecols=[0, 1], dtype=np.int64,
                            engine="c")
    except (ValueError, pd.errors.ParserError) as err:
        raise ReplikitError("cannot read the file as 'user item' lines", where=str(path),
                            expected="two integers separated by one space per line",
                            found=str(err).splitlines()[0]) from err
    frame.columns = ["user", "item"]
    frame["rating"] = 1
    frame["timestamp"] = np.arange(len(frame), dtype=np.int64)
    return frame


# --------------------------------------------------------------------------- the split
@dataclass(frozen=True)
class SequentialSplit:
    """Leave-one-out split of chronologically ordered interactions.

    ``fit_stage`` says which histories a model trains on: ``'valid'`` (``train``, while
    tuning) or ``'test'`` (``train + [valid]``, the final model); see :meth:`for_stage`.
    """

    n_items: int
    users: np.ndarray
    item_ids: np.ndarray
    train: list[np.ndarray]
    valid: np.ndarray
    test: np.ndarray
    fit_stage: str = field(default="valid")

    def histories(self, stage: str) -> list[np.ndarray]:
        """Items seen: ``train`` ('valid'), ``train + [valid]`` ('test')."""
        _check_stage(stage)
        if stage == "valid":
            return list(self.train)
        return [np.append(items, target) for items, target in zip(self.train, self.valid,
                                                                 strict=True)]

    def targets(self, stage: str) -> np.ndarray:
        """The held-out item of each user: second-to-last ('valid') or last ('test')."""
        _check_stage(stage)
        return self.valid if stage == "valid" else self.test

    def item_popularity(self, stage: str) -> np.ndarray:
        """``(n_items + 1,)`` interaction counts in ``histories(stage)``; index 0 is 0."""
        items = np.concatenate(self.histories(stage)) if len(self.users) else np.array([], int)
        return np.bincount(items.astype(np.int64), minlength=self.n_items + 1)

    def for_stage(self, stage: str) -> SequentialSplit:
        """The same split with ``fit_stage`` set: what :meth:`fit_histories` returns."""
        _check_stage(stage)
        return replace(self, fit_stage=stage)

    def fit_histories(self) -> list[np.ndarray]:
        """The sequences a model trains on: ``histories(fit_stage)``."""
        return self.histories(self.fit_stage)

    def subset(self, n_users: int, *, seed: int = 0) -> SequentialSplit:
        """``n_users`` users drawn without replacement from ``seed``, kept in their order.

        Items keep their indices (the catalogue does not shrink), so scores stay comparable.
        """
        if n_users >= len(self.users):
            return self
        keep = np.sort(np.random.default_rng(seed).choice(len(self.users), n_users,
                                                          replace=False))
        return replace(self, users=self.users[keep], train=[self.train[i] for i in keep],
                       valid=self.valid[keep], test=self.test[keep])

    def describe(self) -> dict[str, float]:
        """Counts for a data table: users, items, interactions, mean sequence length."""
        n = int(sum(len(t) for t in self.train)) + 2 * len(self.users)
        return {"users": len(self.users), "items": self.n_items, "interactions": n,
                "mean_length": n / max(len(self.users), 1)}


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ReplikitError(f"unknown stage {stage!r}", expected=" | ".join(STAGES),
                            found=repr(stage))


def make_split(
    ratings: pd.DataFrame,
    min_user_interactions: int = 5,
    min_item_interactions: int = 5,
    *,
    min_rating: float | None = None,
) -> SequentialSplit:
    """Filter, order and split ratings as the BERT4Rec code does (module docstring, 1–5).

    Parameters
    ----------
    ratings
        Columns ``user, item, timestamp`` (``rating`` if ``min_rating`` is given), in file order.
    min_user_interactions, min_item_interactions
        The one-pass 5-core filter of SASRec's ``DataProcessing.py``, counted on the raw
        rows; users left with fewer than 3 interactions after it are dropped (no split).
    min_rating
        Keep only ratings at or above this value (off: every rating is an interaction).
    """
    _check_columns(ratings, min_rating)
    frame = ratings if min_rating is None else ratings[ratings["rating"] >= min_rating]
    frame = _one_pass_core(frame, min_user_interactions, min_item_interactions)
    counts = frame["user"].map(frame["user"].value_counts())
    frame = frame[counts.to_numpy() >= MIN_SEQUENCE]
    if frame.empty:
        raise ReplikitError("no user is left after filtering",
                            expected=f"users with >= {min_user_interactions} ratings, of which "
                            f">= {MIN_SEQUENCE} on items with >= {min_item_interactions}",
                            found=f"{len(ratings)} ratings, none kept",
                            fix="lower min_user_interactions / min_item_interactions")
    return _leave_one_out(frame)


def _check_columns(ratings: pd.DataFrame, min_rating) -> None:
    needed = {"user", "item", "timestamp"} | ({"rating"} if min_rating is not None else set())
    missing = needed - set(ratings.columns)
    if missing:
        raise ReplikitError("ratings lack columns", expected=", ".join(sorted(needed)),
                            found=", ".join(map(str, ratings.columns)),
                            fix="load the file with load_movielens()")


def _one_pass_core(frame: pd.DataFrame, min_user: int, min_item: int) -> pd.DataFrame:
    """Drop interactions of users or items below the thresholds, counted once on ``frame``."""
    user_count = frame["user"].map(frame["user"].value_counts()).to_numpy()
    item_count = frame["item"].map(frame["item"].value_counts()).to_numpy()
    return frame[(user_count >= min_user) & (item_count >= min_item)]


def _leave_one_out(frame: pd.DataFrame) -> SequentialSplit:
    item_ids, item_index = np.unique(frame["item"].to_numpy(), return_inverse=True)
    users, user_index = np.unique(frame["user"].to_numpy(), return_inverse=True)
    # lexsort is stable: equal (user, timestamp) keep the file's order, as list.sort does
    order = np.lexsort((frame["timestamp"].to_numpy(), user_index))
    items = (item_index[order] + 1).astype(np.int64)
    ends = np.cumsum(np.bincount(user_index, minlength=len(users)))
    sequences = np.split(items, ends[:-1])
    return SequentialSplit(
        n_items=len(item_ids),
        users=users,
        item_ids=np.concatenate([[0], item_ids]).astype(np.int64),
        train=[seq[:-2] for seq in sequences],
        valid=items[ends - 2],
        test=items[ends - 1],
    )
