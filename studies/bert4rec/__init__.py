"""The BERT4Rec study (Sun et al., CIKM 2019): re-run, re-implementation and generalization.

``runner.py`` holds the runner the manifest names; ``data.py``, ``baselines.py``,
``bert4rec.py``, ``sasrec.py`` and ``train.py`` are the data pipeline and the models, which
import each other relatively (``from . import train``).
"""
