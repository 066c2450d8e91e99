"""Paired per-user comparison of two libraries' figures (bench_vs_recbole.py's statistics).

Each user's NDCG@10 is averaged over the seeds both libraries ran; the two libraries are
then paired user by user: a two-sided Wilcoxon signed-rank test
(:func:`replikit.evaluate.stats.wilcoxon`) and a bootstrap 95% interval (BCa, 10,000
resamples of the users, seed 0) of the mean difference, ours minus RecBole's.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from replikit.evaluate.stats import wilcoxon


def bootstrap_ci(diff: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """BCa interval of the mean of ``diff``, resampling its entries (users)."""
    result = sps.bootstrap((diff,), np.mean, confidence_level=confidence, n_resamples=10_000,
                           method="BCa", random_state=np.random.default_rng(0))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def paired_rows(per_user: dict[tuple, np.ndarray], rows: list[dict]) -> list[dict]:
    """One comparison per model and ``exclude_history`` where both libraries have seeds.

    ``per_user`` maps ``(library, model, seed, exclude_history)`` to per-user NDCG@10 in
    one user order. Pairs only rows whose ``protocol`` mappings are equal.
    """
    out = []
    keys = sorted({(m, ex) for _, m, _, ex in per_user})
    for model, exclude in keys:
        seeds = sorted({s for lib, m, s, ex in per_user if (m, ex) == (model, exclude)
                        and (("replikit", m, s, ex) in per_user)
                        and (("recbole", m, s, ex) in per_user)})
        if not seeds or not _same_protocol(rows, model, exclude):
            continue
        ours = np.mean([per_user["replikit", model, s, exclude] for s in seeds], axis=0)
        theirs = np.mean([per_user["recbole", model, s, exclude] for s in seeds], axis=0)
        test = wilcoxon(ours, theirs)
        low, high = bootstrap_ci(ours - theirs)
        out.append({"model": model, "exclude_history": exclude, "seeds": seeds,
                    "users": int(ours.size), "ours": float(ours.mean()),
                    "recbole": float(theirs.mean()), "diff": float((ours - theirs).mean()),
                    "ci_low": low, "ci_high": high, "wilcoxon_p": test.p_value,
                    "wilcoxon_statistic": test.statistic})
    return out


def _same_protocol(rows: list[dict], model: str, exclude: bool) -> bool:
    mappings = {repr(sorted(r["protocol"].items())) for r in rows
                if r["model"] == model and r["exclude_history"] == exclude}
    return len(mappings) == 1
