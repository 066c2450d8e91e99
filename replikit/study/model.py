"""The study manifest: ``studies/<study>/study.yaml``, validated by one pydantic schema.

The same models serve the workflow (``workflow/rules/common.smk``), the command line and the
tests; :func:`replikit.study.loading.json_schema` exports them as JSON Schema for editors.
Unknown keys are errors,
and every error names the file, the key path (with its line), what was expected and what
was found.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from replikit.errors import ReplikitError
from replikit.study.base import NAME, SHA256, Strict
from replikit.study.claims import (
    Claim,
    Expected,
    LevelCheck,
    ManifestError,
    Pair,
    Tolerance,
)
from replikit.study.comparable import differing_keys
from replikit.study.sources import SOURCE_KINDS, GitSource, Source
from replikit.vocabulary import NUMBER_KINDS, CodeOrigin

__all__ = ["Artifact", "Claim", "Deviation", "Expected", "Experiment", "Hardware",
           "HardwareSpec", "LevelCheck", "ManifestError", "Pair", "PeerFigure", "Profile",
           "Resources",
           "Study", "Tolerance"]


# --------------------------------------------------------------------------- paper
class Paper(Strict):
    title: str = Field(description="Title as printed in the paper")
    authors: list[str] = Field(min_length=1, description="Authors in the paper's order")
    venue: str = Field(description="Venue and year, e.g. 'JOSS 2020'")
    year: int = Field(ge=1900, le=2100)
    doi: str | None = Field(None, description="DOI without the resolver prefix")
    arxiv: str | None = Field(None, description="arXiv identifier, e.g. '1904.06690'")
    url: str | None = None
    zotero: str | None = Field(None, description="Zotero item key of the paper")
    field: str | None = Field(
        None, min_length=2, max_length=60, pattern=r"^[^\n]+$",
        description="The paper's research field, e.g. 'recommender systems'; the portfolio "
        "site groups and filters studies by it (default: 'unfiled')")
    claims_source: str | None = Field(
        None, description="Where the claims were read (table, README section, commit)"
    )


class Artifact(Strict):
    """Something a study fetches: code, data or a checkpoint, from one or more sources.

    Sources are alternatives tried in order; all must yield the same bytes (``sha256``),
    so a mirror can stand in for an unreachable original and the report says which was used.
    """

    description: str
    role: Literal["code", "data", "checkpoint", "other"] = "data"
    origin: CodeOrigin | None = Field(
        None, description="Whose code a 'code' artifact is: 'original' (the paper's, the "
        "default), 'third-party' (a baseline's package, a replication) or 'library'. "
        "Completeness checks and badges judge the original code only")
    sha256: SHA256 | None = Field(
        None,
        description="sha256 of the final file; required for files "
        "(or recorded in artifacts.lock by `replikit lock`)",
    )
    sources: list[Source] = Field(min_length=1)
    licence: str | None = Field(None, description="Licence terms, e.g. 'no redistribution'")
    optional: bool = Field(False, description="A failed fetch is reported, never fatal")
    audit: bool = Field(
        False, description="Audit this code for reproducibility problems (`replikit audit`; "
        "results/<study>/audit.json, shown in the report); one artifact of role 'code'")

    @model_validator(mode="before")
    @classmethod
    def _single_source_shorthand(cls, data: Any) -> Any:
        """Accept ``{url: ..., sha256: ...}`` as shorthand for one source."""
        if isinstance(data, dict) and "sources" not in data:
            keys = set().union(*(model.model_fields for model in SOURCE_KINDS.values()))
            source = {k: data[k] for k in keys if k in data}
            if source:
                data = {k: v for k, v in data.items() if k not in keys}
                data["sources"] = [source]
        return data

    @model_validator(mode="after")
    def _origin_of_code(self) -> Artifact:
        for key in ("origin", "audit"):
            if getattr(self, key) and self.role != "code":
                raise ValueError(f"'{key}' applies to artifacts of role 'code' only")
        return self

    @property
    def code_origin(self) -> str | None:
        """Whose code it is ('original' unless stated); None for data and checkpoints."""
        return (self.origin or "original") if self.role == "code" else None

    @property
    def is_git(self) -> bool:
        return all(isinstance(s, GitSource) for s in self.sources)


# --------------------------------------------------------------------------- hardware
class HardwareSpec(Strict):
    cpu: str | None = Field(None, description="CPU model as stated")
    cores: int | None = Field(None, ge=1)
    memory_gb: float | None = Field(None, gt=0)
    gpu: str | None = Field(None, description="GPU model as stated")
    gpus: int = Field(0, ge=0)
    os: str | None = None
    notes: str | None = None


class Hardware(Strict):
    declared: HardwareSpec = Field(description="The hardware the paper states it used")
    source: str | None = Field(None, description="Where the paper states it")
    software: dict[str, str] = Field(
        default_factory=dict, description="Declared software versions, e.g. {python: '3.8'}"
    )


# --------------------------------------------------------------------------- experiments
class Resources(Strict):
    """What one run of an experiment needs; mapped to Snakemake resources."""

    gpus: int = Field(0, ge=0)
    mem_mb: int | None = Field(None, gt=0)
    runtime: int | None = Field(None, gt=0, description="minutes")
    threads: int = Field(1, ge=1)


class Timing(Strict):
    """How an experiment's runs are timed (see replikit.run.timing)."""

    alone: bool | None = Field(
        None, description="Run alone (no other job beside it) and repeat the timing; "
        "default: when a time, ratio-of-times or throughput claim uses the experiment")
    repeats: int = Field(5, ge=1, description="Timed repeats of a run that runs alone")
    warmup: int = Field(1, ge=0, description="Untimed calls before the repeats")


class Experiment(Strict):
    description: str
    implementation: Literal["original", "reimplementation"]
    runner: str = Field(
        description="'<file>.py:<function>' in the study folder, or 'module:function'"
    )
    params: dict[str, Any] = Field(default_factory=dict)
    needs: list[str] = Field(default_factory=list, description="Artifact names the run needs")
    seeds: list[int] = Field(min_length=1)
    resources: Resources = Field(default_factory=Resources)
    timing: Timing = Field(default_factory=Timing)
    env: NAME | None = Field(
        None, description="The software environment its runs need under "
        "--software-deployment-method conda: envs/<env>.yaml (default: replikit)")
    code: list[str] = Field(
        default_factory=list, description="Study modules its runner loads by name (a "
        "dynamic import), beyond those its imports show; a change to any re-runs it")
    dataset: str | None = Field(None, description="The data set it runs on, e.g. 'ml-1m'")
    protocol: str | None = Field(
        None, description="How it evaluates, e.g. '5-fold CV' or 'leave-one-out, 100 "
        "popularity-sampled negatives'")

    @field_validator("seeds", mode="before")
    @classmethod
    def _count_means_range(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise ValueError(f"a positive number of seeds or a list of seeds, got {value}")
            return list(range(value))
        return value

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, value: list[int]) -> list[int]:
        negative = [s for s in value if s < 0]
        if negative:
            raise ValueError(f"seeds of 0 or more, got {negative}")
        repeated = sorted({s for s in value if value.count(s) > 1})
        if repeated:
            raise ValueError(f"each seed once (a repeated seed counts one run twice), "
                             f"got {repeated} more than once")
        return value

    @field_validator("runner")
    @classmethod
    def _runner_form(cls, value: str) -> str:
        if not re.match(r"^[\w./-]+:[A-Za-z_]\w*$", value):
            raise ValueError(f"'<file>.py:<function>' or 'module:function', got {value!r}")
        return value


class Profile(Strict):
    """A training-budget profile, e.g. 'quick' for a laptop and 'paper' for the original length.

    ``params`` maps an experiment name (or ``"*"`` for every experiment) to parameter
    overrides merged over the experiment's own ``params`` when the profile is chosen.
    """

    description: str
    default: bool = False
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Deviation(Strict):
    """One place where the study departs from the paper, and why."""

    what: str = Field(description="What differs, e.g. 'scikit-surprise 1.1.5 instead of 1.1.2'")
    kind: Literal["data", "code", "hyperparameter", "protocol", "hardware", "software", "other"]
    reason: str = Field(description="Why the study departs here")
    claims: list[str] = Field(default_factory=list, description="Claim ids affected (all if empty)")


class PeerFigure(Strict):
    """A peer library's figure for one of our experiments, read from the file a bench wrote.

    Shown beside our mean over seeds in the report ("reaches a peer library's quality"),
    never typed by hand: ``file`` is a JSON list of result rows (e.g. what
    ``bench/bench_vs_recbole.py --json`` writes), and the figure is the mean of ``key``
    over the rows that have every field of ``match``.
    """

    experiment: NAME = Field(description="Our experiment the figure is set beside")
    metric: str = Field(description="Our runs' metric key, e.g. 'full/ndcg@10'")
    library: str = Field(description="The peer library and its version, e.g. 'RecBole 1.2.1'")
    file: str = Field(description="The bench's JSON rows, relative to the repository root")
    match: dict[str, str | bool | int | float] = Field(
        min_length=1, description="Fields a row must have, e.g. {library: recbole, model: SASRec}")
    key: str = Field(description="The row field holding the figure, e.g. 'ndcg@10'")
    how: str = Field(description="The command that wrote the file and the protocol both "
                                 "sides shared")
    higher_is_better: bool = True

    @field_validator("file")
    @classmethod
    def _relative(cls, value: str) -> str:
        if Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError(f"a path inside the repository, e.g. bench/results/x.json; "
                             f"got {value!r}")
        return value


class ReportOptions(Strict):
    title: str | None = None
    redact_emails: bool = True
    extensions: list[NAME] = Field(
        default_factory=list,
        description="Extensions (replikit/ext/<name>) whose report sections the report adds, "
                    "e.g. [recsys]")
    peers: list[PeerFigure] = Field(
        default_factory=list,
        description="Peer libraries' figures for our experiments, shown side by side")


# --------------------------------------------------------------------------- study
class Study(Strict):
    schema_version: Literal[1] = 1
    name: NAME
    summary: str = Field(description="One paragraph: what is checked and why")
    paper: Paper
    artifacts: dict[NAME, Artifact] = Field(default_factory=dict)
    hardware: Hardware
    experiments: dict[NAME, Experiment] = Field(default_factory=dict)
    claims: list[Claim] = Field(min_length=1)
    profiles: dict[NAME, Profile] = Field(default_factory=dict)
    deviations: list[Deviation] = Field(default_factory=list)
    report: ReportOptions = Field(default_factory=ReportOptions)

    _dir: Path | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _references(self) -> Study:
        for name, exp in self.experiments.items():
            for need in exp.needs:
                if need not in self.artifacts:
                    raise ValueError(
                        f"experiments.{name}.needs names artifact {need!r}, "
                        f"which is not declared (declared: {sorted(self.artifacts)})"
                    )
        audited = [name for name, artifact in self.artifacts.items() if artifact.audit]
        if len(audited) > 1:
            raise ValueError(f"at most one artifact may be audited, found {audited}")
        defaults = [name for name, p in self.profiles.items() if p.default]
        if len(defaults) > 1:
            raise ValueError(f"at most one profile may be the default, found {defaults}")
        for name, profile in self.profiles.items():
            for target in profile.params:
                if target != "*" and target not in self.experiments:
                    raise ValueError(
                        f"profiles.{name}.params names experiment {target!r}, which is not "
                        "declared (use an experiment name or '*')"
                    )
        seen: set[str] = set()
        for claim in self.claims:
            if claim.id in seen:
                raise ValueError(f"claim id {claim.id!r} is used twice")
            seen.add(claim.id)
            for exp in claim.experiments():
                if exp not in self.experiments:
                    raise ValueError(
                        f"claim {claim.id!r} names experiment {exp!r}, which is not declared"
                    )
        for index, claim in enumerate(self.claims):
            self._check_comparable(index, claim)
        for index, peer in enumerate(self.report.peers):
            if peer.experiment not in self.experiments:
                raise ManifestError(["report", "peers", index, "experiment"],
                                    f"names experiment {peer.experiment!r}, which is not "
                                    "declared")
        return self

    def differences(self, claim: Claim, check: LevelCheck) -> list[str]:
        """How a level's experiment differs from the claim's data set and protocol.

        Only what both sides state is compared; e.g. ``["data set ml-100k, the claim's
        ml-1m"]``. Empty when nothing stated differs.
        """
        names = check.names()
        if not names:
            return []
        exp = self.experiments[check.experiment or check.a or names[0]]
        keys = {"dataset": "data set", "protocol": "protocol"}
        mine = {key: getattr(exp, key) for key in keys}
        theirs = {key: getattr(claim, key) for key in keys}
        return [f"{keys[key]} {mine[key]}, the claim's {theirs[key]}"
                for key in differing_keys(mine, theirs, unstated_differs=False)]

    def _check_comparable(self, index: int, claim: Claim) -> None:
        """A number judged on another data set or protocol needs 'expected' or a why."""
        if claim.kind not in NUMBER_KINDS:
            return
        for level, check in claim.levels.items():
            differs = self.differences(claim, check)
            if differs and check.expected is None and check.not_comparable is None:
                raise ManifestError(
                    ["claims", index, "levels", level],
                    f"claim {claim.id!r} at {level} runs on {'; '.join(differs)}: give the "
                    "level its own reference value (expected: {value, source}) or say why "
                    "its number is information only (not_comparable: <why>)")

    def audited_artifact(self) -> str | None:
        """The code artifact the study audits (``audit: true``), if any."""
        return next((name for name, a in self.artifacts.items() if a.audit), None)

    @property
    def dir(self) -> Path:
        if self._dir is None:
            raise ReplikitError(f"study {self.name!r} was not loaded from a file")
        return self._dir

    def default_profile(self) -> str | None:
        """The profile used when none is chosen: the one marked default, else none."""
        return next((name for name, p in self.profiles.items() if p.default), None)

    def experiment_params(self, experiment: str, profile: str | None) -> dict[str, Any]:
        """An experiment's params with the chosen profile's overrides merged over them."""
        params = dict(self.experiments[experiment].params)
        if profile is None:
            return params
        if profile not in self.profiles:
            raise ReplikitError(
                f"unknown profile {profile!r}", where=f"{self.name}: profiles",
                expected=f"one of {sorted(self.profiles)}", found=repr(profile),
                fix="choose a declared profile, e.g. --config profile=quick",
            )
        overrides = self.profiles[profile].params
        for key in ("*", experiment):
            params.update(overrides.get(key, {}))
        return params

    def claim(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise KeyError(claim_id)


