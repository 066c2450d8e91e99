"""Fixtures for the report tests: a small fake study, its ledger, runs, artifacts and env.

``two_claim_results`` is a hand-written two-claim study (an RMSE claim checked at three
levels and a time claim at one) with every file the workflow would leave under
``results/<study>/``. ``many_claim_results`` scales the same shape up to the size of the
Surprise study (66 claims, 33 with measured values) for layout checks and timing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from replikit.evaluate.claims_table import as_ledger
from replikit.evaluate.samples import measurement_samples, write_samples
from replikit.study import Study

LEDGER_COLUMNS = [
    "claim_id", "level", "experiment", "kind", "metric", "reported", "decimals", "n", "mean",
    "sd", "ci_low", "ci_high", "drift_abs", "drift_rel", "tolerance", "band_low", "band_high",
    "p_value", "test", "comparable", "verdict", "reason", "seeds",
]

RULES = """\
A level's verdict follows from the measured mean, its 95% confidence interval and the
claim's tolerance band:

1. **reproduced** -- the confidence interval lies inside the tolerance band.
2. **partially reproduced** -- the mean lies inside the band, the interval does not.
3. **not reproduced** -- the interval lies wholly outside the band.
4. **inconclusive** -- too few measurements to decide.
5. **not run** -- the experiment could not run; the reason says why.

Time claims are *indicative only* when the hardware differs from the declared hardware.
"""


def _claim(cid: str, metric: str, reported: float, levels: dict[str, str],
           kind: str = "value") -> dict[str, Any]:
    tolerance = {"relative": 0.5} if kind == "time" else {"absolute": 0.005}
    data, algo = cid.split("-")[0], cid.split("-")[1].upper()
    text = (f"{algo} takes {reported:g} s for the 5-fold CV on MovieLens {data}"
            if kind == "time" else
            f"{algo} has {metric.upper()} {reported:.3f} on MovieLens {data} (5-fold CV)")
    return {
        "id": cid, "text": text, "source": "README.md, Benchmarks table", "kind": kind,
        "metric": metric, "reported": reported, "decimals": 0 if kind == "time" else 3,
        "higher_is_better": False, "tolerance": tolerance, "levels": levels,
    }


def _experiment(implementation: str, seeds: list[int]) -> dict[str, Any]:
    runner = "original.py:run" if implementation == "original" else "ours.py:run"
    return {"description": f"{implementation} run", "implementation": implementation,
            "runner": runner, "seeds": seeds, "needs": ["ml-100k"]}


def study_dict(n_algorithms: int = 1) -> dict[str, Any]:
    """A study with ``n_algorithms`` algorithms, each with an RMSE, an MAE and a time claim.

    With one algorithm the MAE claim is dropped, leaving the two-claim study. From four
    algorithms on, every other one is on MovieLens 1M (ids ``1m-...``), as in Surprise,
    whose claims group by data set.
    """
    experiments: dict[str, Any] = {}
    claims: list[dict[str, Any]] = []
    for i in range(n_algorithms):
        algo = "svd" if i == 0 else f"algo{i:02d}"
        experiments[f"rerun-{algo}"] = _experiment("original", [0])
        experiments[f"ours-{algo}"] = _experiment("reimplementation", [0])
        experiments[f"seeds-{algo}"] = _experiment("original", [1, 2, 3, 4, 5])
        value_levels = {"re-run": f"rerun-{algo}", "re-implement": f"ours-{algo}",
                        "generalize": f"seeds-{algo}"}
        data = "1m" if n_algorithms >= 4 and i % 2 else "100k"
        claims.append(_claim(f"{data}-{algo}-rmse", "rmse", 0.934 + i * 0.004, value_levels))
        if n_algorithms > 1:
            claims.append(_claim(f"{data}-{algo}-mae", "mae", 0.737 + i * 0.003, value_levels))
        claims.append(_claim(f"{data}-{algo}-time", "time_s", 6.0 + i, {"re-run":
                                                                        f"rerun-{algo}"},
                             "time"))
    return {
        "name": "fakestudy",
        "summary": "A fake study of a fake benchmark, for the report tests.",
        "paper": {"title": "A benchmark of rating predictors", "authors": ["A. Author"],
                  "venue": "JOSS 2020", "year": 2020, "doi": "10.0000/fake.1"},
        "artifacts": {"ml-100k": {"description": "MovieLens 100k ratings", "sha256": "a" * 64,
                                  "url": "https://example.org/ml-100k.zip"}},
        "hardware": {"declared": {"cpu": "intel i5 11th Gen 2.60GHz"},
                     "source": "README.md, Benchmarks",
                     "software": {"scikit-surprise": "1.1.2"}},
        "experiments": experiments,
        "claims": claims,
        "deviations": [{"what": "scikit-surprise 1.1.5 instead of 1.1.2", "kind": "software",
                        "reason": "1.1.2 has no wheels for current Pythons."},
                       {"what": "timed on a shared server, not a laptop", "kind": "hardware",
                        "reason": "the laptop is not available.",
                        "claims": ["100k-svd-time"]}],
    }


def _row(claim: dict[str, Any], level: str, **values: Any) -> dict[str, Any]:
    row = dict.fromkeys(LEDGER_COLUMNS)
    row.update(claim_id=claim["id"], level=level, experiment=claim["levels"][level],
               kind=claim["kind"], metric=claim["metric"], reported=claim["reported"],
               decimals=claim["decimals"])
    tol = claim["tolerance"]
    width = tol.get("absolute") or tol["relative"] * claim["reported"]
    row.update(tolerance=width, band_low=claim["reported"] - width,
               band_high=claim["reported"] + width)
    row.update(values)
    return row


def _measured(claim, level, values: list[float], verdict: str, reason: str, seeds: str):
    """A ledger row with statistics written out by hand-like rules (fixture data only)."""
    arr = np.asarray(values)
    mean, sd = float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else float("nan")
    half = 2.776 * sd / np.sqrt(arr.size) if arr.size > 1 else float("nan")
    rep = claim["reported"]
    return _row(claim, level, n=arr.size, mean=mean, sd=sd, ci_low=mean - half,
                ci_high=mean + half, drift_abs=mean - rep, drift_rel=(mean - rep) / rep,
                p_value=0.41, test="one-sample t", comparable=True, verdict=verdict,
                reason=reason, seeds=seeds)


def _not_run(claim, level, reason):
    return _row(claim, level, n=0, comparable=False, verdict="not run", reason=reason,
                seeds="")


def _algo_rows(claim_value: dict, claim_time: dict | None, shift: float, rng) -> list[dict]:
    rep = claim_value["reported"]
    folds = list(rep + shift + rng.normal(0, 0.004, 5))
    seeds = list(rep + shift * 1.5 + rng.normal(0, 0.003, 5))
    verdict_rr = "reproduced" if abs(shift) < 0.003 else (
        "partially reproduced" if abs(shift) < 0.006 else "not reproduced")
    rows = [
        _measured(claim_value, "re-run", folds, verdict_rr,
                  f"mean drifts {shift:+.4f} from the reported value", "0"),
        _not_run(claim_value, "re-implement", "artifact 'ml-1m' unavailable: offline")
        if shift > 0.008 else
        _measured(claim_value, "re-implement", [f + 0.002 for f in folds], "inconclusive",
                  "interval straddles the band edge", "0"),
        _measured(claim_value, "generalize", seeds, verdict_rr,
                  "five seeds of the fold split", "1;2;3;4;5"),
    ]
    if claim_time is not None:
        rows.append(_row(claim_time, "re-run", n=1, mean=claim_time["reported"] * 1.8,
                         drift_abs=claim_time["reported"] * 0.8, drift_rel=0.8,
                         comparable=False, verdict="inconclusive",
                         reason="hardware differs from the declared laptop; time is "
                         "indicative only", seeds="0"))
    return rows, folds, seeds


def build_results(root: Path, n_algorithms: int = 1) -> dict[str, Any]:
    """Write ``results/fakestudy/`` under ``root`` and return the pieces the report takes."""
    data = study_dict(n_algorithms)
    study = Study.model_validate(data)
    rng = np.random.default_rng(7)
    rows: list[dict] = []
    runs: list[dict] = []
    claims = data["claims"]
    by_algo: dict[str, list[dict]] = {}
    for claim in claims:
        by_algo.setdefault(claim["id"].split("-")[1], []).append(claim)
    for i, (algo, algo_claims) in enumerate(by_algo.items()):
        time_claim = next(c for c in algo_claims if c["kind"] == "time")
        shift = [0.0007, -0.004, 0.012, 0.0021][i % 4]
        for claim in (c for c in algo_claims if c["kind"] == "value"):
            new_rows, folds, seeds = _algo_rows(claim, time_claim, shift, rng)
            time_claim = None  # the time claim goes in once per algorithm
            rows.extend(new_rows)
            runs.extend(_run_records(algo, claim["metric"], folds, seeds))
    ledger = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
    results = root / "results" / "fakestudy"
    results.mkdir(parents=True, exist_ok=True)
    ledger.to_csv(results / "claims.csv", index=False)
    _write_runs(results, runs)
    # The ledger stage writes the measurements beside the ledger; the report only reads them.
    write_samples(measurement_samples(as_ledger(ledger), _merge_runs(runs)),
                  results / "samples.csv")
    artifacts = [_artifact_ok(), _artifact_unavailable()]
    for record in artifacts:
        _dump(results / "artifacts" / f"{record['name']}.json", record)
    env = _env()
    _dump(results / "env.json", env)
    return {"study": study, "ledger": as_ledger(ledger), "runs": _merge_runs(runs),
            "artifacts": artifacts,
            "env": env, "results": results, "rules": RULES}


def _run_records(algo: str, metric: str, folds: list[float], seeds: list[float]) -> list[dict]:
    records = [{"experiment": f"rerun-{algo}", "seed": 0, "metric": metric, "value":
                float(np.mean(folds)), "folds": folds}]
    records.append({"experiment": f"ours-{algo}", "seed": 0, "metric": metric,
                    "value": float(np.mean(folds)) + 0.002, "folds": [f + 0.002 for f in folds]})
    records += [{"experiment": f"seeds-{algo}", "seed": s + 1, "metric": metric,
                 "value": v, "folds": []} for s, v in enumerate(seeds)]
    return records


def _merge_runs(parts: list[dict]) -> list[dict]:
    """Fold per-metric parts into one metrics.json record per experiment and seed."""
    merged: dict[tuple[str, int], dict] = {}
    for part in parts:
        key = (part["experiment"], part["seed"])
        record = merged.setdefault(key, {
            "study": "fakestudy", "experiment": part["experiment"], "seed": part["seed"],
            "status": "ok", "reason": "", "metrics": {"time_s": 10.8}, "folds": [],
            "wall_s": 10.8, "cpu_s": 10.5, "peak_rss_mb": 310.0, "device": "cpu"})
        record["metrics"][part["metric"]] = part["value"]
        for index, value in enumerate(part["folds"]):
            if len(record["folds"]) <= index:
                record["folds"].append({"fold": index})
            record["folds"][index][part["metric"]] = value
    return list(merged.values())


def _write_runs(results: Path, parts: list[dict]) -> None:
    for record in _merge_runs(parts):
        _dump(results / "runs" / record["experiment"] / f"seed={record['seed']}" /
              "metrics.json", record)


def _artifact_ok() -> dict[str, Any]:
    return {"name": "ml-100k", "status": "ok", "path": "resources/fakestudy/ml-100k/u.data",
            "sha256": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
            "source": {"kind": "pypi", "ref": "recbole==1.2.1"}, "commit": None,
            "distribution": {"file": "recbole-1.2.1-py3-none-any.whl", "sha256": "b" * 64},
            "reason": "", "tried": ["url https://example.org/ml-100k.zip: offline"]}


def _artifact_unavailable() -> dict[str, Any]:
    return {"name": "ml-1m", "status": "unavailable", "path": None, "sha256": None,
            "source": None, "commit": None, "distribution": None,
            "reason": "no source reachable offline", "tried": ["url: offline"]}


def _env() -> dict[str, Any]:
    return {
        "python": "3.11.9", "os": "Linux 6.8 x86_64", "cpu": "AMD EPYC 7B13", "cores": 2,
        "memory": "24 GiB", "gpu": None,
        "packages": {"scikit-surprise": "1.1.5", "numpy": "2.1.3", "pandas": "2.2.3"},
        "git": {"commit": "ef4fa49c0ffee", "dirty": False},
        "hardware": [
            {"item": "cpu", "declared": "intel i5 11th Gen 2.60GHz", "actual": "AMD EPYC 7B13",
             "match": False},
            {"item": "gpus", "declared": "0", "actual": "0", "match": True},
        ],
    }


def _dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
