"""The Surprise benchmark study (Hug, JOSS 2020).

``original.py`` re-runs the pinned library; ``ours.py`` cross-validates our re-implementations
(``models.py``) on the same folds (``folds.py``), data (``ratings.py``) and metrics
(``metrics.py``), imported relatively.
"""
