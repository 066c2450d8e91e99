"""Dependencies: none declared, not pinned, conflicting, or needing Python 2.

Conflicts are decided with ``packaging``'s specifier sets: two declarations of one package
conflict when no version named by either (nor the next patch or minor release after one)
satisfies both, e.g. ``torch==1.4.0`` in requirements.txt and ``torch>=1.6`` in setup.py.
Python 2 is decided by the parser: a file Python 3 cannot parse, with the constructs only
Python 2 accepts (see :func:`replikit.audit.pysource.python2_constructs`), or the
``print >>f, x`` statement that Python 3 parses by accident (as a shift) and then fails on.
A name or method such as ``xrange`` or ``.iteritems()`` is not evidence: it may be guarded
(``six.iteritems``, ``try``/``except NameError``) or belong to another library (pandas had
``Series.iteritems``). One behaviour Python 3 changed silently is reported too:
``map()``/``filter()``/``zip()`` called as a statement for their side effects, which are
lazy in Python 3, so the function is never applied.

Optional dependencies (extras) are not reported as unpinned: they are installed only when
asked for. Two declarations conflict only when their environment markers are the same (a
requirement for Python < 3.9 and another for 3.12 never meet).
"""

from __future__ import annotations

import ast
import sys
from itertools import combinations

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from replikit.audit.declarations import Declared, read_declarations
from replikit.audit.model import Finding
from replikit.audit.pysource import CodeTree, PySource, python2_constructs

LAZY_IN_PY3 = {"map", "filter", "zip"}
INTERPRETER = {"python", "pip"}


def check(tree: CodeTree) -> list[Finding]:
    declared = read_declarations(tree)
    findings = _none_declared(tree, declared)
    findings += _not_pinned(declared) + _conflicts(declared) + _interpreter(declared)
    for source in tree.python:
        findings += _python2_syntax(source) if source.tree is None else _python2_semantics(
            source)
    return findings


def _none_declared(tree: CodeTree, declared: list[Declared]) -> list[Finding]:
    if declared:
        return []
    for source in tree.python:
        for node in source.walk():
            for module in _imported(node):
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in tree.local_modules:
                    return [source.finding(
                        "dependencies", "none-declared",
                        f"imports {top}, but no requirements, setup, pyproject, Pipfile or "
                        "environment file declares any dependency", node.lineno)]
    return []


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module]
    return []


def _not_pinned(declared: list[Declared]) -> list[Finding]:
    findings = []
    for dep in declared:
        if dep.error:
            message = f"'{dep.spec}' is not a valid requirement ({dep.error})"
            findings.append(_at(dep, "invalid-requirement", message))
        elif not dep.exact and not dep.optional and dep.name not in INTERPRETER:
            how = "any version" if dep.spec.strip() == dep.name or not _has_version(dep) \
                else f"a range ({dep.spec.strip()})"
            findings.append(_at(dep, "not-pinned", f"{dep.name} is not pinned: {how} may "
                                "install, so a later release can change results"))
    return findings


def _has_version(dep: Declared) -> bool:
    if dep.requirement is not None:
        return bool(dep.requirement.specifier) or bool(dep.requirement.url)
    return any(ch.isdigit() for ch in dep.spec)


def _at(dep: Declared, check: str, message: str) -> Finding:
    return Finding("dependencies", check, message, dep.file, dep.line, dep.spec.strip())


def _conflicts(declared: list[Declared]) -> list[Finding]:
    findings = []
    pep = [d for d in declared if d.requirement is not None and d.requirement.specifier]
    for a, b in combinations(pep, 2):
        if a.name == b.name and str(a.requirement.marker) == str(b.requirement.marker) \
                and not _compatible(a.requirement.specifier, b.requirement.specifier):
            findings.append(_at(b, "conflicting", f"{b.name}: '{b.spec}' here and '{a.spec}' "
                                f"at {a.file}:{a.line} admit no common version"))
    return findings


def _compatible(one: SpecifierSet, other: SpecifierSet) -> bool:
    candidates = set()
    for spec in [*one, *other]:
        try:
            version = Version(spec.version.replace(".*", ""))
        except InvalidVersion:
            return True  # cannot judge: say nothing rather than guess
        release = list(version.release) + [0] * (3 - len(version.release))
        candidates |= {version, Version(f"{release[0]}.{release[1]}.{release[2] + 1}"),
                       Version(f"{release[0]}.{release[1] + 1}.0"),
                       Version(f"{release[0] + 1}.0.0")}
    return any(one.contains(v, prereleases=True) and other.contains(v, prereleases=True)
               for v in candidates)


def _interpreter(declared: list[Declared]) -> list[Finding]:
    """An environment or setup that asks for Python 2 (``python=2.7``)."""
    return [_at(d, "python2", f"asks for Python 2 ('{d.spec.strip()}'), which no longer "
                "receives security fixes or wheels for current libraries")
            for d in declared if d.name == "python" and _version_text(d.spec).startswith("2")]


def _version_text(spec: str) -> str:
    return spec.split("::")[-1].lstrip("python").lstrip("=<>~! ")


def _python2_syntax(source: PySource) -> list[Finding]:
    constructs = python2_constructs(source.text)
    if not constructs:
        return [Finding("dependencies", "not-python3", "does not parse as Python "
                        f"{sys.version_info.major}.{sys.version_info.minor}: {source.error}",
                        source.rel, _error_line(source), source.line(_error_line(source)))]
    return [source.finding("dependencies", "python2", f"Python 2 only: {what}", line)
            for line, what in constructs]


def _error_line(source: PySource) -> int:
    text = (source.error or "").removeprefix("line ").split(":")[0]
    return int(text) if text.isdigit() else 1


def _python2_semantics(source: PySource) -> list[Finding]:
    findings = []
    for node in source.walk():
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(
                node.value.func, ast.Name) and node.value.func.id in LAZY_IN_PY3:
            name = node.value.func.id
            findings.append(source.finding(
                "dependencies", "python2-semantics", f"{name}() called for its side effects: "
                f"lazy in Python 3, so the function is never applied (Python 2 semantics)",
                node.lineno))
        elif isinstance(node, ast.Expr) and _is_print_chevron(node.value):
            findings.append(source.finding("dependencies", "python2", "Python 2 only: "
                                           "'print >>f, x' statement", node.lineno))
    return findings


def _is_print_chevron(value: ast.expr) -> bool:
    first = value.elts[0] if isinstance(value, ast.Tuple) and value.elts else value
    return isinstance(first, ast.BinOp) and isinstance(first.op, ast.RShift) and \
        isinstance(first.left, ast.Name) and first.left.id == "print"
