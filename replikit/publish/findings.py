"""The findings: what a study established, in sentences a reviewer would write.

The report opens with them and the letter to the authors leads with them. Every sentence is
a count or a list of ledger rows (``results/<study>/claims.csv``), grouped by level and by
what the claims state (values, absolute times, ratios, relations); no word of a particular
field appears here, so the same sentences serve every study.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from replikit.numbers import fmt_percent, is_missing
from replikit.vocabulary import (
    INCONCLUSIVE,
    LEVELS,
    NOT_COMPARABLE,
    NOT_REPRODUCED,
    NOT_RUN,
    PARTIAL,
    REPRODUCED,
)

SHOWN = 4   # claims named in one sentence before "and n others"

GROUPS = (  # what the claims state -> the words for them
    (("value",), "value claim", "value claims"),
    (("ratio", "improvement"), "ratio claim", "ratio claims"),
    (("comparison", "equivalence", "best-of"), "relation", "relations"),
)


def _plain(text: str) -> str:
    return text


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _names(ids: list[str], code: Callable[[str], str], details: dict[str, str] | None = None
           ) -> str:
    details = details or {}
    shown = [code(i) + (f" ({details[i]})" if details.get(i) else "") for i in ids[:SHOWN]]
    rest = len(ids) - SHOWN
    return ", ".join(shown) + (f" and {rest} other{'s' if rest != 1 else ''}" if rest > 0
                               else "")


def _drift(drift_rel: float) -> str:
    return "" if is_missing(drift_rel) else f"drift {fmt_percent(drift_rel)}"


def _gist(reason: str, limit: int = 90) -> str:
    """The first clause of a relation's reason, e.g. 'a does not beat b2' ('' if too long)."""
    clause = str(reason).split(";")[0].split(":")[0].split(". ")[0].strip()
    return clause if len(clause) <= limit else ""


def _judged_sentence(level: str, rows: pd.DataFrame, one: str, many: str,
                     code: Callable[[str], str]) -> str | None:
    judged = rows[~rows["verdict"].isin([NOT_RUN, NOT_COMPARABLE])]
    if judged.empty:
        return None
    counts = judged["verdict"].value_counts()
    good = int(counts.get(REPRODUCED, 0))
    what = _count(len(judged), one, many)
    if good == len(judged):
        head = (f"At the {level} level, the {what} checked {'is' if good == 1 else 'are all'} "
                "reproduced")
        return head + "."
    parts = [f"{counts[v]} {v}" for v in (REPRODUCED, PARTIAL, INCONCLUSIVE) if counts.get(v)]
    text = f"At the {level} level, of {what} checked, " + ", ".join(parts or ["none reproduced"])
    failed = judged[judged["verdict"] == NOT_REPRODUCED]
    if len(failed):
        details = ({c: _drift(d) for c, d in zip(failed["claim_id"], failed["drift_rel"],
                                                  strict=True)}
                   if one != "relation" else
                   {c: _gist(r) for c, r in zip(failed["claim_id"], failed["reason"],
                                                strict=True)})
        text += (f"; not reproduced: {_names(list(failed['claim_id']), code, details)}")
    return text + "."


def _not_comparable_sentences(ledger: pd.DataFrame, code: Callable[[str], str]) -> list[str]:
    rows = ledger[ledger["verdict"] == NOT_COMPARABLE]
    out = []
    times = rows[rows["kind"] == "time"]
    others = rows[rows["kind"] != "time"]
    if len(others):
        names = _names(list(others["claim_id"].unique()), code)
        out.append(f"{_count(len(others), 'check is', 'checks are')} not comparable: the "
                   "experiment runs on another data set or protocol than the claim states, so "
                   f"its measured value is shown as information ({names}).")
    if len(times):
        out.append(f"{_count(len(times), 'absolute time is', 'absolute times are')} not "
                   "comparable: the hardware differs from the paper's, so the measured "
                   "times are information, not evidence.")
    return out


def _same_value_sentence(ledger: pd.DataFrame) -> str | None:
    same = ledger[ledger["test"].fillna("").str.contains("seed did not change", regex=False)
                  | ledger["reason"].fillna("").str.contains("the seed did not change",
                                                             regex=False)]
    if same.empty:
        return None
    return (f"At {_count(len(same), 'check', 'checks')} the seed did not change the result "
            "(every seed gave the same value), so each counts as one measurement.")


def _unreliable_sentence(ledger: pd.DataFrame) -> str | None:
    rows = ledger[ledger["reason"].fillna("").str.contains("unreliable timing", regex=False)]
    if rows.empty:
        return None
    verb = "is" if len(rows) == 1 else "are"
    return (f"{_count(len(rows), 'time check was', 'time checks were')} measured on a loaded "
            f"machine and {verb} marked unreliable.")


def _not_run_sentences(ledger: pd.DataFrame, causes: Callable[[pd.DataFrame], list],
                       code: Callable[[str], str]) -> list[str]:
    """One sentence per distinct cause: how many checks it stopped and which claims."""
    rows = ledger[ledger["verdict"] == NOT_RUN]
    if rows.empty:
        return []
    found = causes(rows)
    several = sum(n for _, n, _ in found) > len(rows)
    out = [f"{_count(n, 'check', 'checks')} did not run because {cause} "
           f"({_names(claims, code)})." for cause, n, claims in found]
    if several:
        out[-1] += (f" ({_count(len(rows), 'check', 'checks')} in all: some had more than "
                    "one cause.)")
    return out


def findings(ledger: pd.DataFrame, causes: Callable[[pd.DataFrame], list],
             code: Callable[[str], str] = _plain) -> list[str]:
    """The findings as sentences, most telling first.

    Parameters
    ----------
    ledger
        The claims ledger.
    causes
        ``rows -> [(cause in words, checks, claim ids)]`` for the "not run" rows
        (:func:`replikit.publish.report.summary.not_run_causes`).
    code
        How a claim id is set: plain for a letter, a code span for Markdown.
    """
    out: list[str] = []
    for level in [lv for lv in LEVELS if lv in set(ledger["level"])]:
        at_level = ledger[ledger["level"] == level]
        for kinds, one, many in GROUPS:
            sentence = _judged_sentence(level, at_level[at_level["kind"].isin(kinds)], one,
                                        many, code)
            if sentence:
                out.append(sentence)
    out += _not_comparable_sentences(ledger, code)
    for sentence in (_same_value_sentence(ledger), _unreliable_sentence(ledger)):
        if sentence:
            out.append(sentence)
    return out + _not_run_sentences(ledger, causes, code)


def discrepancies(ledger: pd.DataFrame) -> pd.DataFrame:
    """The checks that matter most to the authors: judged and not reproduced."""
    return ledger[ledger["verdict"] == NOT_REPRODUCED]
