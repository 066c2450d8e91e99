"""The claims ledger's file contract: ``results/<study>/claims.csv`` (columns, types, I/O).

This module alone knows how the ledger is laid out on disk. The ledger stage writes it with
:func:`write_ledger`; the report, the MLRC draft, the letter, the Zotero note and the
terminal table read it with :func:`read_ledger` (or :func:`as_ledger` for a frame already in
memory), which checks the columns and verdicts and restores the types: numbers, booleans,
lists of seeds and the structured causes of runs that did not run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from replikit.errors import ReplikitError
from replikit.fileio import atomic_path
from replikit.vocabulary import VERDICTS

#: Column name -> pandas dtype, in the file's order.
COLUMNS: dict[str, str] = {
    "claim_id": "string",
    "level": "string",
    "experiment": "string",          # the experiment, or "a|b" for a comparison's pair
    "kind": "string",
    "metric": "string",
    "reported": "float64",
    "decimals": "Int64",
    "n": "Int64",                    # size of the sample (pairs, for comparisons)
    "mean": "float64",               # comparisons: of the differences a - b
    "sd": "float64",
    "ci_low": "float64",             # CI at 1 - alpha
    "ci_high": "float64",
    "drift_abs": "float64",          # mean - reported
    "drift_rel": "float64",          # (mean - reported) / |reported|
    "tolerance": "float64",          # the declared tolerance's half-width
    "band_low": "float64",           # reported - (tolerance + rounding)
    "band_high": "float64",
    "p_value": "float64",            # of the deciding test: TOST, or the raw paired t
    "test": "string",
    "comparable": "boolean",         # time claims: actual hardware matches the declared
    "verdict": "string",
    "reason": "string",
    "seeds": "object",               # list of the seeds whose runs form the sample
    "sample": "string",              # seeds | folds | run | the runs' paired unit
    "rule": "string",                # tost | point | paired | not run
    "rounding": "float64",           # half a unit of the last printed digit
    "p_difference": "float64",       # one-sample t-test against the reported value
    "p_adjusted": "float64",         # comparisons: Holm-adjusted paired t p-value
    "p_wilcoxon": "float64",         # comparisons: Wilcoxon signed-rank p-value
    "seeds_needed": "Int64",         # unsettled cases: sample size that would settle them
    "missing_seeds": "object",       # declared seeds with no usable run
    "higher_is_better": "boolean",
    "mean_a": "float64",
    "mean_b": "float64",
    "effect_size": "float64",        # Cohen's d_z of a - b
    "effect_ci_low": "float64",
    "effect_ci_high": "float64",
    "alpha": "float64",
    "claim_text": "string",
    "source": "string",
    "causes": "object",              # why declared seeds did not run: [{kind, name, detail}]
    "median": "float64",             # timings judged over repeats: median (ratio of medians)
    "spread_low": "float64",         # and the repeats' min–max spread
    "spread_high": "float64",
}
#: The columns every reader may rely on: what a report shows (the others may be absent in
#: a hand-written ledger and are then read as empty).
REPORT_COLUMNS: tuple[str, ...] = tuple(list(COLUMNS)[:23])
#: What a person reads first: the letter and the Zotero note need no more.
SUMMARY_COLUMNS: tuple[str, ...] = ("claim_id", "level", "experiment", "metric", "reported",
                                    "n", "mean", "sd", "ci_low", "ci_high", "verdict",
                                    "reason")
_SEED_LISTS = ("seeds", "missing_seeds")  # on disk: "1;2;3"
_JSON_LISTS = ("causes",)                 # on disk: JSON


def write_ledger(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the ledger as CSV atomically: seed lists as ``1;2;3``, causes as JSON."""
    out = frame.copy()
    for column in _SEED_LISTS:
        out[column] = [";".join(str(v) for v in value) for value in out[column]]
    for column in _JSON_LISTS:
        out[column] = [json.dumps(list(value), sort_keys=True) for value in out[column]]
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False)
    return Path(path)


def read_ledger(path: str | Path, required: Sequence[str] = tuple(COLUMNS)) -> pd.DataFrame:
    """Read ``claims.csv`` back with the types :func:`write_ledger` wrote.

    Parameters
    ----------
    path
        The ledger file.
    required
        The columns the caller needs; others that are absent are read as empty.
    """
    path = Path(path)
    if not path.exists():
        raise ReplikitError("the claims ledger does not exist", where=str(path),
                            fix="build it with the workflow (snakemake ... ledger) first")
    raw = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)
    return as_ledger(raw, str(path), required)


def as_ledger(frame: pd.DataFrame, where: str = "ledger",
              required: Sequence[str] = REPORT_COLUMNS) -> pd.DataFrame:
    """A ledger frame with every column typed, after checking columns and verdicts.

    Accepts the rows as text (from the file) or as values (a frame built in memory).
    """
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ReplikitError(
            "the claims ledger lacks columns", where=where,
            expected=f"the columns {list(required)}", found=f"missing {missing}",
            fix="rebuild results/<study>/claims.csv with this version of replikit",
        )
    _check_verdicts(frame, where)
    rows = frame.reindex(columns=list(COLUMNS)).to_dict("records")
    return typed_frame([_typed_row(row) for row in rows])


def _check_verdicts(frame: pd.DataFrame, where: str) -> None:
    verdicts = frame["verdict"] if "verdict" in frame.columns else pd.Series(dtype=str)
    unknown = sorted(set(verdicts.dropna()) - set(VERDICTS))
    if unknown or verdicts.isna().any():
        raise ReplikitError(
            "the claims ledger has verdicts the report does not know",
            where=f"{where}: verdict", expected=f"one of {list(VERDICTS)} in every row",
            found=str(unknown or ["(empty)"]), fix="rebuild the ledger",
        )


def _typed_row(row: dict[str, Any]) -> dict[str, Any]:
    for column in _SEED_LISTS:
        row[column] = _seed_list(row[column])
    for column in _JSON_LISTS:
        row[column] = _json_list(row[column])
    for column, dtype in COLUMNS.items():
        if dtype == "boolean" and isinstance(row[column], str):
            row[column] = {"True": True, "False": False}[row[column]]
    return row


def _seed_list(value: Any) -> list[int]:
    if isinstance(value, list | tuple):
        return [int(v) for v in value]
    if not isinstance(value, str) or not value:
        return []
    return [int(v) for v in value.split(";")]


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return json.loads(value) if isinstance(value, str) and value else []


def typed_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows (dicts keyed by :data:`COLUMNS`) as a frame with the contract's dtypes."""
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column, dtype in COLUMNS.items():
        if dtype == "object":
            frame[column] = frame[column].astype(object)
        elif dtype in ("float64", "Int64"):
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype(dtype)
        elif dtype == "string":
            # Empty text, not <NA>: a CSV cannot tell the two apart, so neither does the frame.
            frame[column] = frame[column].astype(dtype).fillna("")
        else:
            frame[column] = frame[column].astype(dtype)
    return frame


def text_records(frame: pd.DataFrame, columns: Sequence[str] = SUMMARY_COLUMNS
                 ) -> list[dict[str, str]]:
    """The rows as text, as the CSV spells them ('' when empty): for notes and e-mails."""
    def text(value: Any) -> str:
        return "" if value is None or value is pd.NA or (
            isinstance(value, float) and value != value) else str(value)

    return [{c: text(row[c]) for c in columns} for row in frame.to_dict("records")]
