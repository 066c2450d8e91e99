"""Loading a study manifest from YAML, with the line number of every error.

The helpers that turn pydantic's errors into lines (:func:`describe_errors`) are public:
the contacts log and other user-written files are loaded the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from replikit import paths, safe_yaml
from replikit.errors import ReplikitError
from replikit.paths import MANIFEST
from replikit.study.model import Study
from replikit.study.sources import SOURCE_KINDS


def study_path(study: str | Path, root: str | Path = ".") -> Path:
    """Return the manifest path of a study given by name or by path."""
    candidate = Path(study)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    if candidate.is_dir() and (candidate / MANIFEST).exists():
        return candidate / MANIFEST
    path = Path(root) / paths.study_dir(str(study)) / MANIFEST
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
    base = Path(root) / paths.STUDIES
    return sorted(p.parent.name for p in base.glob(f"*/{MANIFEST}"))


def load_study(study: str | Path, root: str | Path = ".") -> Study:
    """Load and validate a study manifest; raise :class:`ReplikitError` on any problem."""
    path = study_path(study, root)
    data, node = safe_yaml.load_file(path)
    if not isinstance(data, dict):
        raise ReplikitError(
            "the manifest must be a mapping", where=str(path),
            expected="keys such as name, paper, artifacts, claims", found=type(data).__name__,
        )
    try:
        model = Study.model_validate(data)
    except ValidationError as exc:
        raise ReplikitError(
            f"{exc.error_count()} problem(s) in the study manifest",
            where=str(path),
            found="\n    " + "\n    ".join(describe_error(err, node) for err in exc.errors()),
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


def describe_error(error: dict[str, Any], node: yaml.Node | None) -> str:
    """One line per pydantic error: key path (line), what was expected, what was found."""
    raw_loc = list(error["loc"]) + list(getattr((error.get("ctx") or {}).get("error"), "loc", []))
    loc = [part for part in raw_loc if not (isinstance(part, str) and part[:1].isupper())]
    loc = [part for part in loc if part not in SOURCE_KINDS
           or not _is_tag_position(error["loc"], part)]
    key = key_path(loc)
    line = line_of(node, loc)
    where = f"{key} (line {line})" if line else key
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    found = error.get("input")
    found_text = "" if isinstance(found, dict | list) else f"; found {_short_repr(found)}"
    message = error["msg"].removeprefix("Value error, ")
    if message.startswith("Input should be "):  # pydantic's wording -> ours
        message = "expected " + message.removeprefix("Input should be ")
    elif error["type"] in ("value_error", "source_kind"):
        message = f"expected {message}"
    else:
        message = message[:1].lower() + message[1:]
    return f"{where}: {message}{found_text}"


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _is_tag_position(loc: tuple[Any, ...], part: Any) -> bool:
    """Discriminated unions insert the tag name into the location; it is not a key."""
    index = loc.index(part) if part in loc else -1
    return index > 0 and isinstance(loc[index - 1], int)


def key_path(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
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
    for source in (model.__name__ for model in SOURCE_KINDS.values()):
        spec = defs[source]
        variants.append({
            "type": "object", "additionalProperties": False,
            "properties": {**base, **spec["properties"]},
            "required": required + spec.get("required", []),
        })
    defs["Artifact"] = {"description": full.get("description", ""), "anyOf": variants}
