"""Accuracy of rating predictions: RMSE and MAE, as Surprise's ``accuracy`` module defines them.

Both are taken over every test rating with equal weight (no per-user averaging):

.. math::
    \\text{RMSE} = \\sqrt{\\frac{1}{|T|} \\sum_{(u,i) \\in T} (r_{ui} - \\hat r_{ui})^2},
    \\qquad
    \\text{MAE} = \\frac{1}{|T|} \\sum_{(u,i) \\in T} |r_{ui} - \\hat r_{ui}|
"""

from __future__ import annotations

import numpy as np

from replikit.errors import ReplikitError


def rmse(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error.

    Examples
    --------
    >>> rmse(np.array([1.0, 3.0]), np.array([2.0, 3.0]))
    0.7071067811865476
    """
    errors = _errors(truth, predicted)
    return float(np.sqrt(np.mean(errors**2)))


def mae(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error.

    Examples
    --------
    >>> mae(np.array([1.0, 3.0]), np.array([2.0, 5.0]))
    1.5
    """
    return float(np.mean(np.abs(_errors(truth, predicted))))


def _errors(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    truth = np.asarray(truth, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    if truth.shape != predicted.shape or truth.ndim != 1 or truth.size == 0:
        raise ReplikitError(
            "cannot score predictions", where="metrics",
            expected="two non-empty 1-d arrays of the same length (true, predicted)",
            found=f"shapes {truth.shape} and {predicted.shape}",
            fix="pass one prediction per test rating",
        )
    return truth - predicted
