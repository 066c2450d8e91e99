"""From tables to candidate claims: labels, ids, metric names, digits and tolerances.

The rules, the same for every source format:

- the leading columns whose body cells hold no number are the row labels (joined with
  " / " when there are several, e.g. a data set and a model);
- a column's label joins its header rows top to bottom; its metric is the bottom header
  row's text without the unit, lower-cased (``NDCG@10`` -> ``ndcg@10``), with ``_s`` added
  for times, which are claimed in seconds;
- a cell printed with fewer digits than the rest of its column (``0.98`` among ``0.934``)
  lost a trailing zero to the tool that printed the table, so it takes the column's digits
  (noted in the output; ``keep_printed_digits`` turns this off);
- the default tolerance is five units of the last printed digit for values, and half the
  value for times, which depend on the machine; it is a starting point to review;
- a claim's id is table-row-column made from the labels (or the names the user gives).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

from replikit.extract.layout import cell as _cell
from replikit.extract.layout import label_columns, place, row_label, table_layout
from replikit.extract.model import (
    PERCENT,
    SECONDS,
    Candidate,
    Cell,
    Number,
    Table,
    header_unit,
    parse_number,
    strip_unit,
)

#: Metric names (or parts of them) for which lower is better; any other metric is
#: taken as higher-is-better unless the table's bold marks say otherwise.
LOWER_IS_BETTER = ("rmse", "mae", "mse", "loss", "error", "err", "time", "perplexity", "ppl",
                   "fid", "wer", "cer", "latency", "memory", "mem", "runtime", "nll")
TIME_TOLERANCE = {"relative": 0.5}
VALUE_TOLERANCE_UNITS = 5  # units of the last printed digit


@dataclass
class Options:
    """What the user chose: tables, rows and columns to keep (shell-style patterns, any
    case), metric names per column label, id parts per label, and the digits rule."""

    tables: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    lower_is_better: list[str] = field(default_factory=list)
    higher_is_better: list[str] = field(default_factory=list)
    keep_printed_digits: bool = False


# --------------------------------------------------------------------------- reading
def table_candidates(table: Table, *, keep_printed_digits: bool = False) -> list[Candidate]:
    """Every number of ``table`` as a candidate, row by row, labelled by row and column.

    A table whose corner cell names its axes (:mod:`.layout`) is labelled by its first
    column alone, and each candidate gets its data set, method and metric.
    """
    labels = label_columns(table)
    layout = table_layout(table)
    columns = [_Column(table, j) for j in range(labels, table.width)]
    found: list[Candidate] = []
    for row in table.rows:
        for column in columns:
            cell = _cell(row, column.index)
            number = parse_number(cell.text, column.unit)
            if number is None:
                continue
            candidate = Candidate(
                table=table.label, row=(row_label(row, table.header[-1], labels) if layout
                                        else _row_label(row, labels)),
                column=column.label, number=number, file=table.file, section=table.section,
                where=table.where, bold=cell.bold, underline=cell.underline,
                metric_label=column.bottom, context=table.context)
            if layout:
                place(candidate, layout, row, table.header[-1], labels)
            if not keep_printed_digits and not _is_clock(number) and \
                    number.decimals < column.digits:
                candidate.notes.append(
                    f"printed {number.printed!r} with {number.decimals} digits; its column "
                    f"prints {column.digits}, so a trailing zero was dropped")
                candidate.number = _with_decimals(number, column.digits)
            found.append(candidate)
    return found


class _Column:
    """One value column: its label, bottom header, unit and the most digits it prints."""

    def __init__(self, table: Table, index: int) -> None:
        self.index = index
        self.label, self.bottom, self.unit = _column_label(table, index)
        numbers = [parse_number(_cell(row, index).text, self.unit) for row in table.rows]
        self.digits = max((n.decimals for n in numbers if n is not None and not _is_clock(n)),
                          default=0)


def _is_clock(number: Number) -> bool:
    return ":" in number.printed


def _with_decimals(number: Number, decimals: int) -> Number:
    return Number(number.value, decimals, number.printed, number.unit, number.spread,
                  number.spread_decimals)


def _column_label(table: Table, column: int) -> tuple[str, str, str]:
    """The column's label (header rows joined), its bottom header and its unit."""
    parts: list[str] = []
    for row in table.header:
        text = _cell(row, column).text.strip()
        if text and (not parts or parts[-1] != text):
            parts.append(text)
    unit = next((header_unit(p) for p in reversed(parts) if header_unit(p)), "")
    label = " ".join(parts) or f"column {column + 1}"
    return label, parts[-1] if parts else label, unit


def _row_label(row: list[Cell], labels: int) -> str:
    parts = [c.text.strip() for c in row[:labels] if c.text.strip()]
    return " / ".join(dict.fromkeys(parts)) or "(unlabelled row)"


# --------------------------------------------------------------------------- choosing
def select(candidates: list[Candidate], options: Options) -> list[Candidate]:
    """Keep the candidates whose table, row and column match the chosen patterns."""
    def keep(label: str, patterns: list[str]) -> bool:
        return not patterns or any(fnmatchcase(label.lower(), p.lower()) for p in patterns)

    return [c for c in candidates if keep(c.table, options.tables)
            and keep(c.row, options.rows) and keep(c.column, options.columns)]


# --------------------------------------------------------------------------- claims
def slug(label: str) -> str:
    """An id part from a label: ``SVD++ (cache_ratings=False)`` -> ``svd-cache-ratings-false``."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "x"


def metric_name(candidate: Candidate, options: Options) -> str:
    """The metric key the runs must write: the user's name, else one from the header."""
    if candidate.column in options.metrics:
        return options.metrics[candidate.column]
    bottom = candidate.metric or strip_unit(candidate.metric_label or candidate.column)
    name = re.sub(r"[^a-z0-9@.]+", "_", bottom.lower()).strip("_") or "value"
    if candidate.number.unit == SECONDS and not name.endswith("_s"):
        name += "_s"
    return name


def claim_id(candidate: Candidate, options: Options) -> str:
    """``table-row-column``; ``method-dataset-metric`` when the corner names the axes."""
    if candidate.method or candidate.dataset:
        parts = tuple(p for p in (candidate.method, candidate.dataset, candidate.metric) if p)
    else:
        parts = (candidate.table, candidate.row, candidate.column)
    return "-".join(options.names.get(p) or slug(p) for p in parts)


def default_tolerance(number: Number) -> dict[str, float]:
    """The printed ± for values that have one, else five units of the last printed digit;
    half the value for times."""
    if number.unit == SECONDS:
        return dict(TIME_TOLERANCE)
    if number.spread:
        return {"absolute": number.spread}
    return {"absolute": float(Decimal(VALUE_TOLERANCE_UNITS).scaleb(-number.decimals))}


def tolerance_rule(number: Number) -> str:
    """The rule behind :func:`default_tolerance`, written beside the claim."""
    if number.unit == SECONDS:
        return "tolerance: half the time, which depends on the machine"
    if number.spread:
        return (f"tolerance: the printed ± {number.spread:.{number.spread_decimals or 0}f}, the "
                "paper's spread over its runs: a mean within reported ± s is reproduced")
    return (f"tolerance: {VALUE_TOLERANCE_UNITS} units of the last printed digit (no ± "
            "printed): a starting point to review")


def higher_is_better(metric: str, column: list[Candidate], options: Options) -> tuple[bool, str]:
    """Whether higher is better, and why: the user's word, the bold marks, or the name."""
    if metric in options.lower_is_better:
        return False, "given"
    if metric in options.higher_is_better:
        return True, "given"
    arrows = {c.higher for c in column if c.higher is not None}
    if len(arrows) == 1:
        return arrows.pop(), "the table's arrow"
    votes = _bold_votes(column)
    if len(votes) == 1:
        better = votes.pop()
        return better, f"the bold values are the {'largest' if better else 'smallest'}"
    tokens = set(re.split(r"[^a-z]+", metric.lower()))
    if tokens & set(LOWER_IS_BETTER):
        return False, "guessed from the metric's name"
    return True, "guessed: check it"


def _bold_votes(column: list[Candidate]) -> set[bool]:
    """For each group of rows (the first row label) with a bold value: is it the largest
    (True) or the smallest (False)? Papers set each group's best value in bold."""
    groups: dict[str, list[Candidate]] = {}
    for c in column:
        group = c.dataset if c.dataset is not None else (
            c.row.split(" / ")[0] if " / " in c.row else "")
        groups.setdefault(group, []).append(c)
    votes = set()
    for members in groups.values():
        values = [c.number.value for c in members]
        bold = {c.number.value for c in members if c.bold}
        if not bold or len(set(values)) < 2:
            continue
        if bold == {max(values)}:
            votes.add(True)
        elif bold == {min(values)}:
            votes.add(False)
        else:
            return set()  # bold marks something other than the best: no conclusion
    return votes


def claim_text(candidate: Candidate) -> str:
    number = candidate.number
    shown = number.printed
    if candidate.method or candidate.dataset:
        who = candidate.method or "the method"
        on = candidate.dataset or candidate.section or candidate.table
        if number.unit == SECONDS:
            return f"{who} takes {shown} on {on}"
        return f"{who} has {candidate.metric or 'a value of'} {shown} on {on}"
    if number.unit == SECONDS:
        return f"{candidate.row} takes {shown} on {candidate.table}"
    return f"{candidate.row} has {strip_unit(candidate.column)} {shown} on {candidate.table}"


def source_text(candidate: Candidate) -> str:
    parts = [candidate.file]
    parts += [p for p in (candidate.section, candidate.where) if p]
    parts += [f"{candidate.table} table", f"{candidate.row} row", f"{candidate.column} column"]
    return ", ".join(parts)


NO_EXPERIMENT_YET = "no experiment yet"


def to_claims(candidates: list[Candidate], options: Options) -> list[dict[str, Any]]:
    """Claim entries for ``study.yaml`` (fields of replikit.study.Claim) with comments.

    Each entry is ``{"claim": {...}, "comments": [...]}``; its one level is declared not run
    (:data:`NO_EXPERIMENT_YET`) until the user names an experiment, so a draft study validates
    and its report shows the claim as "not run: no experiment yet". Ids that would repeat
    get ``-2``, ``-3``... appended.
    """
    by_column: dict[tuple[str, str], list[Candidate]] = {}
    for c in candidates:  # a corner naming the metric groups by metric, not by column
        by_column.setdefault(_column_key(c), []).append(c)
    entries, seen = [], set()
    for c in candidates:
        metric = metric_name(c, options)
        better, why = higher_is_better(metric, by_column[_column_key(c)], options)
        base = claim_id(c, options)
        ident, k = base, 1
        while ident in seen:
            k += 1
            ident = f"{base}-{k}"
        seen.add(ident)
        entries.append({"claim": _claim(c, ident, metric, better), "comments":
                        _comments(c, why), "method": c.method, "dataset": c.dataset,
                        "spread": c.number.spread, "context": c.context})
    return entries


def _column_key(c: Candidate) -> tuple[str, str]:
    return (c.table, c.metric) if c.metric else (c.table, c.column)


def _claim(c: Candidate, ident: str, metric: str, better: bool) -> dict[str, Any]:
    claim: dict[str, Any] = {"id": ident, "text": claim_text(c), "source": source_text(c)}
    if c.number.unit == SECONDS:
        claim["kind"] = "time"
    if c.dataset:
        claim["dataset"] = c.dataset
    value = c.number.value
    reported = int(value) if c.number.decimals == 0 and value.is_integer() else value
    claim.update({"metric": metric, "reported": reported,
                  "decimals": c.number.decimals, "higher_is_better": better,
                  "tolerance": default_tolerance(c.number),
                  "levels": {"re-run": {"not_run": NO_EXPERIMENT_YET}}})
    return claim


def _comments(c: Candidate, why: str) -> list[str]:
    number = c.number
    lines = [f"printed {number.printed!r}"
             + (f"; unit {number.unit}" if number.unit else "")
             + (" (reported in percent)" if number.unit == PERCENT else "")
             + (" (reported in seconds)" if number.unit == SECONDS else "")]
    if number.spread is not None:
        lines.append(f"spread: ± {number.spread:.{number.spread_decimals or 0}f} "
                     "as the paper prints it")
    marks = [m for m, on in (("bold", c.bold), ("underlined", c.underline)) if on]
    if marks:
        lines.append(" and ".join(marks) + " in the table")
    lines.append(tolerance_rule(number))
    lines.append(f"higher_is_better: {why}")
    return lines + c.notes
