"""The study manifest: ``studies/<study>/study.yaml``, validated by one pydantic schema.

The same models serve the workflow (``workflow/rules/common.smk``), the command line and the
tests; :func:`json_schema` exports them as JSON Schema for editors. Unknown keys are errors,
and every error names the file, the key path (with its line), what was expected and what
was found.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from replikit.errors import ReplikitError

LEVELS = ("re-run", "re-implement", "generalize")
Level = Literal["re-run", "re-implement", "generalize"]
SHA256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="hex sha256 digest")]
NAME = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
# The C loader parses a large manifest ~10x faster; every workflow job loads one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STUDIES_DIR = "studies"
MANIFEST = "study.yaml"


class Strict(BaseModel):
    """Base of every manifest model: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
    claims_source: str | None = Field(
        None, description="Where the claims were read (table, README section, commit)"
    )


# --------------------------------------------------------------------------- artifacts
class _Source(Strict):
    member: str | None = Field(
        None, description="Path of one file inside the fetched archive or distribution"
    )
    strip_header: int = Field(
        0, ge=0, description="Number of leading lines to drop from the member (e.g. a header)"
    )


class UrlSource(_Source):
    """A file at a URL (http, https, or pooch's ``doi:`` form), downloaded through pooch."""

    url: str = Field(description="http(s):// URL or doi:<doi>/<file name>")
    download_sha256: SHA256 | None = Field(
        None, description="sha256 of the downloaded file itself, when it is an archive"
    )

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not re.match(r"^(https?://|doi:)", value):
            raise ValueError(f"a URL starting with http://, https:// or doi:, got {value!r}")
        return value


class GitSource(Strict):
    """A git repository at one full commit; the commit is verified after fetching."""

    git: str = Field(description="Clone URL of the repository")
    commit: str = Field(pattern=r"^[0-9a-f]{40}$", description="Full 40-hex commit id")


class PypiSource(_Source):
    """A pinned distribution from the Python package index, fetched with pip."""

    pypi: str = Field(description="Requirement pinned with ==, e.g. 'recbole==1.2.1'")
    install: bool = Field(
        False, description="Install the distribution into the artifact folder (for code)"
    )
    sdist: bool = Field(
        False, description="Fetch the source distribution, not a wheel (e.g. for its README)"
    )

    @field_validator("pypi")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$", value):
            raise ValueError(
                f"a requirement pinned to one version like 'name==1.2.3', got {value!r}"
            )
        return value


class PathSource(_Source):
    """A file in the study folder (relative) or anywhere on disk (absolute)."""

    path: str


def _source_kind(value: Any) -> str | None:
    """The tag of a source: its kind key in YAML, or its class once validated."""
    if isinstance(value, dict):
        for kind in ("url", "git", "pypi", "path"):
            if kind in value:
                return kind
        return None
    kinds = {UrlSource: "url", GitSource: "git", PypiSource: "pypi", PathSource: "path"}
    return kinds.get(type(value))


Source = Annotated[
    Annotated[UrlSource, Tag("url")]
    | Annotated[GitSource, Tag("git")]
    | Annotated[PypiSource, Tag("pypi")]
    | Annotated[PathSource, Tag("path")],
    Discriminator(
        _source_kind,
        custom_error_type="source_kind",
        custom_error_message="a source with one of the keys url, git, pypi or path",
    ),
]


class Artifact(Strict):
    """Something a study fetches: code, data or a checkpoint, from one or more sources.

    Sources are alternatives tried in order; all must yield the same bytes (``sha256``),
    so a mirror can stand in for an unreachable original and the report says which was used.
    """

    description: str
    role: Literal["code", "data", "checkpoint", "other"] = "data"
    sha256: SHA256 | None = Field(
        None,
        description="sha256 of the final file; required for files "
        "(or recorded in artifacts.lock by `replikit lock`)",
    )
    sources: list[Source] = Field(min_length=1)
    licence: str | None = Field(None, description="Licence terms, e.g. 'no redistribution'")
    optional: bool = Field(False, description="A failed fetch is reported, never fatal")

    @model_validator(mode="before")
    @classmethod
    def _single_source_shorthand(cls, data: Any) -> Any:
        """Accept ``{url: ..., sha256: ...}`` as shorthand for one source."""
        if isinstance(data, dict) and "sources" not in data:
            keys = {"url", "git", "commit", "pypi", "path", "member", "strip_header",
                    "download_sha256", "install", "sdist"}
            source = {k: data[k] for k in keys if k in data}
            if source:
                data = {k: v for k, v in data.items() if k not in keys}
                data["sources"] = [source]
        return data

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

    @field_validator("seeds", mode="before")
    @classmethod
    def _count_means_range(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise ValueError(f"a positive number of seeds or a list of seeds, got {value}")
            return list(range(value))
        return value

    @field_validator("runner")
    @classmethod
    def _runner_form(cls, value: str) -> str:
        if not re.match(r"^[\w./-]+:[A-Za-z_]\w*$", value):
            raise ValueError(f"'<file>.py:<function>' or 'module:function', got {value!r}")
        return value


# --------------------------------------------------------------------------- claims
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


class Pair(Strict):
    """The two experiments a comparison claim sets against each other at one level."""

    a: str = Field(description="The experiment the claim says is better")
    b: str = Field(description="The experiment it is compared with")


class Claim(Strict):
    id: NAME
    text: str = Field(description="The claim in the paper's words")
    source: str = Field(description="Table, figure or section it comes from")
    kind: Literal["value", "time", "comparison"] = "value"
    metric: str = Field(description="Metric key the runs write, e.g. 'rmse'")
    reported: float | None = Field(None, description="The reported number (seconds for time)")
    decimals: int | None = Field(None, ge=0, description="Digits the paper prints")
    higher_is_better: bool = True
    tolerance: Tolerance | None = None
    levels: dict[Level, str | Pair] = Field(
        default_factory=dict, description="Experiment (or pair, for comparisons) per level"
    )

    @model_validator(mode="after")
    def _kind_fields(self) -> Claim:
        if self.kind in ("value", "time"):
            if self.reported is None or self.tolerance is None:
                raise ValueError(f"a {self.kind} claim needs 'reported' and 'tolerance'")
            if any(isinstance(v, Pair) for v in self.levels.values()):
                raise ValueError(f"a {self.kind} claim maps each level to one experiment name")
        elif any(isinstance(v, str) for v in self.levels.values()):
            raise ValueError("a comparison claim maps each level to {a: <exp>, b: <exp>}")
        return self

    def experiments(self) -> list[str]:
        names: list[str] = []
        for value in self.levels.values():
            names.extend([value.a, value.b] if isinstance(value, Pair) else [value])
        return names


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


class ReportOptions(Strict):
    title: str | None = None
    redact_emails: bool = True


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
        return self

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


# --------------------------------------------------------------------------- loading
def study_path(study: str | Path, root: str | Path = ".") -> Path:
    """Return the manifest path of a study given by name or by path."""
    candidate = Path(study)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    if candidate.is_dir() and (candidate / MANIFEST).exists():
        return candidate / MANIFEST
    path = Path(root) / STUDIES_DIR / str(study) / MANIFEST
    if not path.exists():
        known = list_studies(root)
        raise ReplikitError(
            f"no study named {str(study)!r}",
            where=str(path),
            expected=f"one of {known}" if known else "a folder studies/<name>/ with study.yaml",
            fix="run 'replikit list' to see the studies, or 'replikit new <name>' to start one",
        )
    return path


def list_studies(root: str | Path = ".") -> list[str]:
    """Names of the studies under ``<root>/studies``."""
    base = Path(root) / STUDIES_DIR
    return sorted(p.parent.name for p in base.glob(f"*/{MANIFEST}"))


def load_study(study: str | Path, root: str | Path = ".") -> Study:
    """Load and validate a study manifest; raise :class:`ReplikitError` on any problem."""
    path = study_path(study, root)
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ReplikitError(
            "is not valid YAML", where=str(path), found=str(exc).replace("\n", " "),
            fix="fix the YAML syntax at the line shown",
        ) from exc
    if not isinstance(data, dict):
        raise ReplikitError(
            "the manifest must be a mapping", where=str(path),
            expected="keys such as name, paper, artifacts, claims", found=type(data).__name__,
        )
    try:
        model = Study.model_validate(data)
    except ValidationError as exc:
        node = yaml.compose(text, Loader=_LOADER)  # only for the line numbers of errors
        raise ReplikitError(
            f"{exc.error_count()} problem(s) in the study manifest",
            where=str(path),
            found="\n    " + "\n    ".join(_describe(err, node) for err in exc.errors()),
            fix="correct the keys listed above (see 'replikit schema' for every key)",
        ) from exc
    if model.name != path.parent.name:
        raise ReplikitError(
            "the study's name must match its folder", where=f"{path}: name",
            expected=repr(path.parent.name), found=repr(model.name),
            fix=f"set 'name: {path.parent.name}' or rename the folder",
        )
    model._dir = path.parent.resolve()
    return model


def _describe(error: dict[str, Any], node: yaml.Node | None) -> str:
    """One line per pydantic error: key path (line), what was expected, what was found."""
    loc = [part for part in error["loc"] if not (isinstance(part, str) and part[:1].isupper())]
    loc = [part for part in loc if part not in ("url", "git", "pypi", "path")
           or not _is_tag_position(error["loc"], part)]
    key = _key_path(loc)
    line = _line_of(node, loc)
    where = f"{key} (line {line})" if line else key
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    found = error.get("input")
    found_text = "" if isinstance(found, dict | list) else f"; found {found!r}"
    message = error["msg"].removeprefix("Value error, ")
    if message.startswith("Input should be "):  # pydantic's wording -> ours
        message = "expected " + message.removeprefix("Input should be ")
    elif error["type"] in ("value_error", "source_kind"):
        message = f"expected {message}"
    else:
        message = message[:1].lower() + message[1:]
    return f"{where}: {message}{found_text}"


def _is_tag_position(loc: tuple[Any, ...], part: Any) -> bool:
    """Discriminated unions insert the tag name into the location; it is not a key."""
    index = loc.index(part)
    return index > 0 and isinstance(loc[index - 1], int)


def _key_path(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """Follow ``loc`` through the composed YAML tree to report a 1-based line number."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            key_node = next((k for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line = key_node.start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def json_schema() -> dict[str, Any]:
    """The manifest's JSON Schema, for editors and Snakemake's ``validate()``."""
    schema = Study.model_json_schema()
    _allow_single_source_shorthand(schema["$defs"])
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "replikit study manifest (studies/<study>/study.yaml)"
    return schema


def _allow_single_source_shorthand(defs: dict[str, Any]) -> None:
    """Mirror :meth:`Artifact._single_source_shorthand` in the exported JSON Schema."""
    full = defs.pop("Artifact")
    base = {k: v for k, v in full["properties"].items() if k != "sources"}
    required = [r for r in full.get("required", []) if r != "sources"]
    variants = [full]
    for source in ("UrlSource", "GitSource", "PypiSource", "PathSource"):
        spec = defs[source]
        variants.append({
            "type": "object", "additionalProperties": False,
            "properties": {**base, **spec["properties"]},
            "required": required + spec.get("required", []),
        })
    defs["Artifact"] = {"description": full.get("description", ""), "anyOf": variants}
