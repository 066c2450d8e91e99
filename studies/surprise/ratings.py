"""MovieLens rating files as arrays, in file order, for our re-implementations.

Surprise reads ``u.data`` (ML-100k: ``user<TAB>item<TAB>rating<TAB>timestamp``) and
``ratings.dat`` (ML-1M: the same fields separated by ``::``) with its built-in readers of the
same names; user and item ids stay strings and ratings lie on the scale 1 to 5. We read the
same fields in the same order, so that row ``k`` here is rating ``k`` of Surprise's
``Dataset.raw_ratings`` and the fold positions of :mod:`folds` mean the same ratings.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from replikit.errors import ReplikitError

#: Field separator of each dataset's rating file (Surprise's built-in readers).
SEPARATORS = {"ml-100k": "\t", "ml-1m": "::"}

#: The rating scale of both MovieLens datasets; predictions are clipped to it.
RATING_SCALE = (1.0, 5.0)


@dataclass(frozen=True)
class Ratings:
    """Ratings in file order, users and items coded ``0 .. n-1`` by first appearance.

    Attributes
    ----------
    users, items : np.ndarray
        int64 codes, one per rating.
    values : np.ndarray
        float64 ratings.
    n_users, n_items : int
        Number of distinct users and items.
    scale : tuple of float
        Lowest and highest possible rating.
    """

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    n_users: int
    n_items: int
    scale: tuple[float, float] = RATING_SCALE

    def __len__(self) -> int:
        return len(self.values)


def load_ratings(path: str | Path, dataset: str) -> Ratings:
    """Read a MovieLens rating file (``dataset`` is ``ml-100k`` or ``ml-1m``).

    Raises
    ------
    ReplikitError
        If the dataset is unknown or a line does not have four fields with a numeric rating.
    """
    path = Path(path)
    if dataset not in SEPARATORS:
        raise ReplikitError(
            f"unknown dataset {dataset!r}", where="params.dataset",
            expected=f"one of {sorted(SEPARATORS)}", found=repr(dataset),
            fix="use a dataset of Surprise's benchmark",
        )
    text = path.read_text(encoding="utf-8")
    # pandas' fast parser takes one-character separators only: turn '::' into a tab first.
    if SEPARATORS[dataset] != "\t":
        text = text.replace(SEPARATORS[dataset], "\t")
    try:
        table = pd.read_csv(
            io.StringIO(text), sep="\t", header=None, dtype=str, keep_default_na=False,
            names=["user", "item", "rating", "timestamp"], on_bad_lines="error",
        )
        values = table["rating"].str.strip().astype(np.float64).to_numpy()
    except (ValueError, pd.errors.ParserError) as exc:
        raise ReplikitError(
            "is not a MovieLens rating file", where=str(path),
            expected=f"lines 'user{SEPARATORS[dataset]}item{SEPARATORS[dataset]}rating"
                     f"{SEPARATORS[dataset]}timestamp' with a numeric rating",
            found=str(exc).splitlines()[0], fix="check the artifact's sha256 and re-fetch it",
        ) from exc
    users, user_ids = pd.factorize(table["user"].str.strip())
    items, item_ids = pd.factorize(table["item"].str.strip())
    return Ratings(
        users=users.astype(np.int64), items=items.astype(np.int64), values=values,
        n_users=len(user_ids), n_items=len(item_ids),
    )
