"""The audited tree and its Python files, parsed with real parsers.

Python 3 files are parsed with :mod:`ast`. A file that does not parse is parsed again with
parso, whose error recovery keeps the tokens around each syntax error; the constructs that
only Python 2 accepts (print and exec statements, ``except E, e``, backticks, ``<>``, ``0777``,
``10L``, ``ur''``, ``raise E, msg``, tuple parameters) are recognised from those tokens.
Names are resolved through the file's imports, so ``np.random.rand`` is seen as
``numpy.random.rand`` whatever the alias.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import parso

from replikit.audit.files import folder_files
from replikit.audit.model import Finding


@dataclass
class PySource:
    """One Python file: its lines, its ast (None when it is not Python 3) and its aliases."""

    path: Path
    rel: str
    text: str
    tree: ast.Module | None
    error: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line(self, number: int) -> str:
        return self.lines[number - 1].strip() if 0 < number <= len(self.lines) else ""

    def finding(self, category: str, check: str, message: str, line: int) -> Finding:
        return Finding(category, check, message, self.rel, line, self.line(line)[:200])

    def dotted(self, node: ast.AST) -> str | None:
        """``np.random.rand`` -> ``numpy.random.rand`` through the imports; None if local."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.aliases:
            return None
        return ".".join([self.aliases[node.id], *reversed(parts)])

    def walk(self) -> Iterator[ast.AST]:
        return ast.walk(self.tree) if self.tree is not None else iter(())

    def calls(self) -> Iterator[tuple[ast.Call, str]]:
        """Every call whose callee resolves through the imports, with its dotted name."""
        for node in self.walk():
            if isinstance(node, ast.Call):
                name = self.dotted(node.func)
                if name:
                    yield node, name

    @cached_property
    def is_entry_point(self) -> bool:
        """A script: ``__main__.py``, a module with ``if __name__ == "__main__":``, or a
        file outside any package whose top level runs code (calls, loops)."""
        if self.path.name == "__main__.py":
            return True
        if self.tree is None or self.is_test:
            return False
        if any(isinstance(node, ast.If) and _is_main_guard(node.test) for node in self.tree.body):
            return True
        in_package = (self.path.parent / "__init__.py").exists()
        return not in_package and any(
            isinstance(node, ast.For | ast.While | ast.With) or
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            for node in self.tree.body)

    @property
    def is_test(self) -> bool:
        """Test code (pytest's names, a tests/ folder): it checks results, never makes them."""
        name, parts = self.path.name, Path(self.rel).parts[:-1]
        return name.startswith("test_") or name.endswith("_test.py") or \
            name == "conftest.py" or any(p in ("test", "tests") for p in parts)

    @cached_property
    def defined_names(self) -> set[str]:
        """Names bound at module level (defs, classes, assignments, imports)."""
        names: set[str] = set()
        for node in self.tree.body if self.tree else []:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names |= {a.asname or a.name.split(".")[0] for a in node.names}
        return names


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and any(
                isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


def import_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted module or object, from every import in the file."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


@dataclass
class CodeTree:
    """The audited folder: every file, and the Python files parsed."""

    root: Path
    files: list[Path]
    python: list[PySource]

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    @cached_property
    def local_modules(self) -> set[str]:
        """Top-level names importable from the tree itself (its packages and modules)."""
        names = set()
        for source in self.python:
            parts = Path(source.rel).parts
            names |= {parts[0].removesuffix(".py")}
            names.add(Path(source.rel).stem)
        return names


def load_tree(root: Path, files: list[Path] | None = None) -> CodeTree:
    """The tree of ``files`` under ``root`` (default: every file of the folder, skipping VCS,
    caches and environments, :func:`replikit.audit.files.folder_files`), Python ones parsed."""
    tree = CodeTree(root, folder_files(root) if files is None else files, [])
    tree.python = [_parse(path, tree.rel(path)) for path in tree.files if path.suffix == ".py"]
    return tree


def _parse(path: Path, rel: str) -> PySource:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        module = ast.parse(text, filename=rel)
    except SyntaxError as exc:
        return PySource(path, rel, text, None, f"line {exc.lineno}: {exc.msg}")
    return PySource(path, rel, text, module, None, import_aliases(module))


# --------------------------------------------------------------------------- Python 2
def python2_constructs(text: str) -> list[tuple[int, str]]:
    """(line, construct) for each Python-2-only construct of a file Python 3 cannot parse.

    parso's error recovery keeps every token, but after the first error the statements
    around it may be regrouped; so each line's tokens are classified, not only the lines
    parso reports (the constructs recognised are invalid in Python 3 wherever they stand).
    """
    module = parso.load_grammar().parse(text, error_recovery=True)
    by_line: dict[int, list] = {}
    leaf = module.get_first_leaf()
    while leaf is not None:
        if leaf.value.strip():  # not the empty INDENT/DEDENT error leaves, nor newlines
            by_line.setdefault(leaf.start_pos[0], []).append(leaf)
        leaf = leaf.get_next_leaf()
    found = ((line, _python2_construct(leaves)) for line, leaves in sorted(by_line.items()))
    return [(line, what) for line, what in found if what]


def _python2_construct(leaves: list) -> str | None:
    values = [leaf.value for leaf in leaves]
    if not values:
        return None
    first, second = values[0], values[1] if len(values) > 1 else ""
    if first == "print" and second not in ("(", "", "=", ".", ",", ")", "[", ":", "+="):
        return "print statement"
    if first == "exec" and second not in ("(", "", "="):
        return "exec statement"
    if first in ("except", "raise") and "," in values and values.index(",") > 1 and \
            ":" not in values[1:values.index(",")] and "(" not in values[1:values.index(",")]:
        return f"'{first} X, y' syntax"
    if first == "def" and values[2:4] == ["(", "("]:
        return "tuple parameters"
    for left, right in zip(leaves, leaves[1:], strict=False):
        touching = left.end_pos == right.start_pos
        if left.value == "`" or right.value == "`":
            return "backtick repr"
        if (left.value, right.value) == ("<", ">") and touching:
            return "'<>' operator"
        if left.type == "number" and touching and right.value in ("L", "l"):
            return "long integer suffix"
        if left.type == "number" and left.value == "0" and touching and right.type == "number":
            return "octal literal without 0o"
        if left.value.lower() == "ur" and touching and right.type == "string":
            return "ur'' string prefix"
    return None
