"""A study's claims: what the paper states, and what each level checks it against.

Part of the manifest model (:mod:`replikit.study.model`): the claim kinds' keys, the
tolerance, and each level's experiment, pair or list, reference value, or declared not-run.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from replikit.study.base import NAME, Strict
from replikit.vocabulary import NUMBER_KINDS, ClaimKind, Level


class ManifestError(ValueError):
    """A problem found across keys, with the key path (``loc``) the loader turns into a line."""

    def __init__(self, loc: list[Any], message: str) -> None:
        super().__init__(message)
        self.loc = loc


# --------------------------------------------------------------------------- claims
#: Words that make a metric a time (``time_s``, ``fit_time``) or a throughput
#: (``throughput``, ``samples_per_s``): a quantity the machine, not the method, moves.
TIME_METRIC_WORDS = ("time", "throughput", "per_s")


def is_time_metric(name: str) -> bool:
    """Whether a metric measures time or throughput.

    >>> is_time_metric("time_s"), is_time_metric("samples_per_s"), is_time_metric("rmse")
    (True, True, False)
    """
    return any(word in name.lower() for word in TIME_METRIC_WORDS)


class Tolerance(Strict):
    absolute: float | None = Field(None, ge=0)
    relative: float | None = Field(None, ge=0, description="fraction of the reported value")

    @model_validator(mode="after")
    def _one_given(self) -> Tolerance:
        if self.absolute is None and self.relative is None:
            raise ValueError("at least one of 'absolute' or 'relative'")
        return self

    def width(self, reported: float) -> float:
        """The half-width of the band around ``reported``: the larger of the two forms."""
        parts = [self.absolute or 0.0, (self.relative or 0.0) * abs(reported)]
        return max(parts)


class Expected(Strict):
    """A level's own reference value, for a level whose data set or protocol is not the paper's."""

    value: float
    source: str = Field(description="Where the value comes from (paper, table, page)")


class LevelCheck(Strict):
    """What a claim checks at one level: one experiment, or the experiments it relates.

    ``experiment`` for value and time claims (a plain name is shorthand for it); ``a`` and
    ``b`` for relations (``b`` a list for best-of). ``expected`` judges the level against its
    own reference value; ``not_comparable`` says why the level's number is information only;
    ``not_run`` declares the level not runnable, with the reason.
    """

    experiment: str | None = None
    a: str | None = Field(None, description="The experiment the claim says is better")
    b: str | list[str] | None = Field(
        None, description="The experiment it is compared with (a list for best-of)")
    expected: Expected | None = None
    not_comparable: str | None = Field(
        None, description="Why this level's data set or protocol differs from the claim's; "
        "its number is then shown as information, not judged")
    not_run: str | None = Field(None, description="Why this level cannot run (declared)")

    def names(self) -> list[str]:
        """The experiments this level runs (none when it is declared not runnable)."""
        if self.not_run is not None:
            return []
        others = self.b if isinstance(self.b, list) else [self.b]
        return [n for n in [self.experiment, self.a, *others] if n is not None]

    @property
    def is_pair(self) -> bool:
        return self.a is not None


#: The two experiments a comparison sets against each other at one level (``{a, b}``).
Pair = LevelCheck


def _shape_problem(kind: str, check: LevelCheck) -> str | None:
    """Why a level's keys do not fit the claim's kind (None: they fit)."""
    if check.not_run is not None and check.experiment is None and check.a is None:
        return None
    if kind in ("value", "time"):
        if check.experiment is None or check.a is not None or check.b is not None:
            return f"a {kind} claim maps each level to one experiment name"
    elif check.a is None or check.b is None or check.experiment is not None:
        return f"a {kind} claim maps each level to {{a: <exp>, b: <exp>}}"
    elif kind == "best-of" and (not isinstance(check.b, list) or len(check.b) < 2):
        return "a best-of claim maps each level to {a: <exp>, b: [<exp>, <exp>, ...]}"
    elif kind != "best-of" and isinstance(check.b, list):
        return f"a {kind} claim sets a against one experiment b; use kind best-of for a list"
    if check.expected is not None and kind not in NUMBER_KINDS:
        return f"a {kind} claim has no reported number, so a level cannot give 'expected'"
    if check.expected is not None and check.not_comparable is not None:
        return "give a level either 'expected' or 'not_comparable', not both"
    return None


class Claim(Strict):
    id: NAME
    text: str = Field(description="The claim in the paper's words")
    source: str = Field(description="Table, figure or section it comes from")
    kind: ClaimKind = "value"
    metric: str = Field(description="Metric key the runs write, e.g. 'rmse'")
    dataset: str | None = Field(None, description="The data set the paper states, e.g. 'ml-1m'")
    protocol: str | None = Field(None, description="The evaluation protocol the paper states")
    reported: float | None = Field(
        None, description="The reported number: the value, seconds for time, a/b for ratio, "
        "percent for improvement")
    decimals: int | None = Field(None, ge=0, description="Digits the paper prints")
    higher_is_better: bool = True
    tolerance: Tolerance | None = None
    margin: float | None = Field(
        None, gt=0, description="equivalence claims: |a - b| within this margin")
    # A plain name is shorthand for {experiment: name}; the validator below turns every level
    # into a LevelCheck (``str`` stays in the type so that the JSON Schema accepts the name).
    levels: dict[Level, str | LevelCheck] = Field(
        default_factory=dict,
        description="Experiment (or a and b, for relations) per level; at least one level")

    @property
    def is_timing(self) -> bool:
        """A time claim, or any claim on a time or throughput metric (a ratio of times)."""
        return self.kind == "time" or is_time_metric(self.metric)

    @field_validator("levels", mode="before")
    @classmethod
    def _name_is_shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"experiment": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _kind_fields(self) -> Claim:
        if not self.levels:
            raise ValueError(
                "a claim needs at least one level (re-run, re-implement or generalize); a "
                "level that cannot run says so with {not_run: <reason>}")
        numbered = self.kind in NUMBER_KINDS
        if numbered and (self.reported is None or self.tolerance is None):
            raise ValueError(f"a {self.kind} claim needs 'reported' and 'tolerance'")
        if not numbered:
            given = [k for k in ("reported", "tolerance", "decimals")
                     if getattr(self, k) is not None]
            if given:
                raise ValueError(f"a {self.kind} claim does not use {given}: it states a "
                                 "relation, not a number; remove them")
        if (self.margin is None) == (self.kind == "equivalence"):
            raise ValueError("an equivalence claim needs 'margin'" if self.margin is None
                             else f"a {self.kind} claim does not use 'margin'; remove it")
        for level, check in self.levels.items():
            problem = _shape_problem(self.kind, check)
            if problem:
                raise ManifestError(["levels", level], problem)
        return self

    def experiments(self) -> list[str]:
        names: list[str] = []
        for check in self.levels.values():
            names.extend(check.names())
        return names
