"""Where a repository declares its dependencies, read with each format's own parser.

requirements files line by line with ``packaging``; ``pyproject.toml`` and ``Pipfile`` with
tomllib; ``setup.py`` with ast (the ``install_requires`` of its ``setup()`` call);
``setup.cfg`` with configparser; conda's ``environment.yml`` with PyYAML's composer, which
keeps line numbers; a wheel's ``*.dist-info/METADATA`` (and an sdist's ``PKG-INFO`` when
nothing else declares anything) with the e-mail parser, its ``Requires-Dist`` fields. Each
declared requirement keeps the file and line it was written on, and whether it is optional
(an extra: installed only when asked for).
"""

from __future__ import annotations

import ast
import configparser
import dataclasses
import email.parser
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from replikit.audit.pysource import CodeTree

REQUIREMENTS = re.compile(r"^requirements.*\.(txt|in)$", re.I)
ENVIRONMENT = ("environment.yml", "environment.yaml", "conda.yaml", "conda.yml")
_HEX40 = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Declared:
    """One declared requirement: its name, how it is pinned, and where it is written."""

    name: str
    spec: str  # the text as written
    file: str
    line: int
    requirement: Requirement | None  # None: not PEP 508 (conda or poetry syntax)
    exact: bool  # pinned to one version (==, ===, a full commit, conda's name=1.2.3)
    error: str | None = None
    optional: bool = False  # an extra (optional-dependencies, ``extra == "x"``)


def declaration_files(tree: CodeTree) -> list[Path]:
    """The files that can declare the code's dependencies, at most one folder deep (not
    those of its documentation, which do not shape results)."""
    names = {"setup.py", "setup.cfg", "pyproject.toml", "Pipfile", *ENVIRONMENT}
    return [p for p in tree.files if len(parts := p.relative_to(tree.root).parts) <= 2
            and parts[0] not in ("doc", "docs") and (p.name in names or
                                                     REQUIREMENTS.match(p.name) or
                                                     _is_wheel_metadata(parts))]


def _is_wheel_metadata(parts: tuple[str, ...]) -> bool:
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA"


def read_declarations(tree: CodeTree) -> list[Declared]:
    found: list[Declared] = []
    for path in declaration_files(tree):
        rel, text = tree.rel(path), path.read_text(encoding="utf-8", errors="replace")
        if path.name == "METADATA":
            found += _metadata(rel, text)
        elif REQUIREMENTS.match(path.name):
            found += _requirements_file(rel, text)
        elif path.name == "setup.py":
            found += _setup_py(rel, text)
        elif path.name == "setup.cfg":
            found += _setup_cfg(rel, text)
        elif path.name == "pyproject.toml":
            found += _pyproject(rel, text)
        elif path.name == "Pipfile":
            found += _pipfile(rel, text)
        else:
            found += _environment(rel, text)
    pkg_info = tree.root / "PKG-INFO"  # an sdist's metadata repeats its setup files
    if not found and pkg_info in tree.files:
        found = _metadata("PKG-INFO", pkg_info.read_text(encoding="utf-8", errors="replace"))
    return found


def _metadata(rel: str, text: str) -> list[Declared]:
    """The ``Requires-Dist`` fields of core metadata (a wheel's METADATA, PKG-INFO)."""
    headers = email.parser.HeaderParser().parsestr(text)
    found = []
    for spec in headers.get_all("Requires-Dist") or []:
        spec = " ".join(spec.split())
        dep = pep508(spec, rel, _line_of(text, f"Requires-Dist: {spec}"))
        extra = dep.requirement is not None and dep.requirement.marker is not None and \
            "extra" in str(dep.requirement.marker)
        found.append(dataclasses.replace(dep, optional=extra))
    return found


def pep508(spec: str, file: str, line: int) -> Declared:
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        return Declared(spec.split()[0] if spec.split() else spec, spec, file, line, None,
                        False, str(exc).splitlines()[0])
    exact = any(s.operator in ("==", "===") and "*" not in s.version for s in req.specifier)
    exact = exact or bool(req.url and _HEX40.search(req.url))
    return Declared(canonicalize_name(req.name), spec, file, line, req, exact)


def _requirements_file(rel: str, text: str) -> list[Declared]:
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        spec = raw.split(" #")[0].strip()
        if spec and not spec.startswith(("#", "-")):
            found.append(pep508(spec, rel, number))
    return found


def _line_of(text: str, needle: str, default: int = 1) -> int:
    """The first line holding ``needle`` (a parsed value's own text), for the evidence."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return default


def _setup_py(rel: str, text: str) -> list[Declared]:
    try:
        module = ast.parse(text)
    except SyntaxError:
        return []
    lists = {t.id: node.value for node in ast.walk(module) if isinstance(node, ast.Assign)
             for t in node.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(module):
        if not (isinstance(node, ast.Call) and _callee(node.func) == "setup"):
            continue
        for keyword in node.keywords:
            if keyword.arg not in ("install_requires", "requires"):
                continue
            value = lists.get(keyword.value.id, keyword.value) if isinstance(
                keyword.value, ast.Name) else keyword.value
            for item in getattr(value, "elts", []):
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    found.append(pep508(item.value, rel, item.lineno))
    return found


def _callee(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _setup_cfg(rel: str, text: str) -> list[Declared]:
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    raw = parser.get("options", "install_requires", fallback="")
    return [pep508(spec, rel, _line_of(text, spec)) for spec in
            (s.strip() for s in raw.splitlines()) if spec and not spec.startswith("#")]


def _pyproject(rel: str, text: str) -> list[Declared]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    project = data.get("project", {})
    found = [pep508(spec, rel, _line_of(text, f'"{spec}"')) for spec in
             project.get("dependencies", [])]
    found += [dataclasses.replace(pep508(spec, rel, _line_of(text, f'"{spec}"')),
                                  optional=True)
              for extra in project.get("optional-dependencies", {}).values() for spec in extra]
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
    found += [_loose(name, value, rel, text) for name, value in poetry.items()
              if name.lower() != "python"]
    return found


def _pipfile(rel: str, text: str) -> list[Declared]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    return [_loose(name, value, rel, text) for section in ("packages", "dev-packages")
            for name, value in data.get(section, {}).items()]


def _loose(name: str, value, rel: str, text: str) -> Declared:
    """A poetry or Pipfile entry: ``"*"``, ``"^1.2"``, ``"==1.2.3"``, ``{version = ...}``."""
    version = value.get("version", "*") if isinstance(value, dict) else str(value)
    exact = version.startswith("==") or bool(re.fullmatch(r"\d+(\.\d+)+", version))
    spec = f"{name}{'' if version == '*' else version}"
    if isinstance(value, dict) and value.get("rev") and _HEX40.fullmatch(value["rev"]):
        exact = True
    return Declared(canonicalize_name(name), spec, rel, _line_of(text, name), None, exact)


def _environment(rel: str, text: str) -> list[Declared]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    deps = _mapping_value(root, "dependencies")
    found = []
    for node in getattr(deps, "value", []) if isinstance(deps, yaml.SequenceNode) else []:
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            found.append(_conda(node.value, rel, line))
        elif isinstance(node, yaml.MappingNode):
            pip = _mapping_value(node, "pip")
            for item in getattr(pip, "value", []):
                found.append(pep508(item.value, rel, item.start_mark.line + 1))
    return found


def _mapping_value(node, key: str):
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if k.value == key), None)
    return None


def _conda(spec: str, rel: str, line: int) -> Declared:
    """A conda match spec: ``numpy``, ``numpy=1.21.2``, ``numpy>=1.20``, ``conda-forge::x``."""
    name_part = spec.split("::")[-1]
    match = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", name_part)
    name, version = (match.group(1), match.group(2)) if match else (name_part, "")
    exact = bool(re.fullmatch(r"==?\s*\d+(\.\d+)+(=\S+)?", version))
    return Declared(canonicalize_name(name), spec, rel, line, None, exact)
