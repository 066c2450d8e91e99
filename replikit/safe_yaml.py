"""Reading YAML that a person wrote, bounded: the one loader of every YAML file replikit reads.

A 342-byte manifest of nested aliases (a "billion laughs") expands to gigabytes as soon as
anything walks it. So a file is read only up to :data:`MAX_BYTES`, must be UTF-8, and is
*composed* first (a graph in which an alias is a shared node, nothing expanded); that graph
is refused when it holds more than :data:`MAX_ALIASES` aliases, would expand to more than
:data:`MAX_NODES` nodes, refers to itself, or repeats a key in one mapping. Only then is it
constructed into Python objects. Errors name the file and line, never the expanded input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from replikit.errors import ReplikitError

MAX_BYTES = 4 * 2**20
MAX_ALIASES = 64
MAX_NODES = 1_000_000
# The C parser composes ~10x faster; every workflow job loads a manifest.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(path: str | Path, *, max_bytes: int = MAX_BYTES) -> str:
    """A user-written text file as str: at most ``max_bytes``, UTF-8, else a ReplikitError."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise ReplikitError(
            "is too large to be a file a person writes", where=str(path),
            expected=f"at most {max_bytes} bytes", found=f"{size} bytes",
            fix="check that this is the right file; split or shorten it")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReplikitError(
            "is not UTF-8 text", where=f"{path}: line {line}", expected="UTF-8",
            found=f"byte 0x{data[exc.start]:02x} at line {line}",
            fix="save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)") from exc


def load_file(path: str | Path, loader: type = FAST_LOADER) -> tuple[Any, yaml.Node | None]:
    """Load one YAML file, bounded; return ``(data, node)`` (the node gives line numbers)."""
    return load_text(read_text(path), str(path), loader)


def load_text(text: str, where: str, loader: type = FAST_LOADER) -> tuple[Any, yaml.Node | None]:
    """Parse ``text`` (from ``where``) into ``(data, node)`` after the checks of the module."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ReplikitError("is too large to be YAML a person writes", where=where,
                            expected=f"at most {MAX_BYTES} bytes")
    instance = loader(text)
    try:
        node = instance.get_single_node()
        if node is None:
            return None, None
        check_node(node, where)
        return instance.construct_document(node), node
    except RecursionError as exc:
        raise ReplikitError("is nested too deeply", where=where,
                            fix="flatten the nesting of lists and mappings") from exc
    except yaml.YAMLError as exc:
        raise ReplikitError(
            "is not valid YAML", where=where, found=_short(str(exc).replace("\n", " ")),
            fix="fix the YAML syntax at the line shown") from exc
    finally:
        instance.dispose()


def check_node(root: yaml.Node, where: str) -> None:
    """Refuse too many aliases, too large an expansion, self-reference and repeated keys."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    aliases = 0

    def size(node: yaml.Node) -> int:
        nonlocal aliases
        key = id(node)
        if key in sizes:
            aliases += 1
            if aliases > MAX_ALIASES:
                _refuse(where, node, f"more than {MAX_ALIASES} aliases (*name)")
            return sizes[key]
        if key in visiting:
            _refuse(where, node, "an alias that refers to the node it is in")
        visiting.add(key)
        total = 1 + sum(size(child) for child in _children(node, where))
        visiting.discard(key)
        if total > MAX_NODES:
            _refuse(where, node, f"aliases that expand to more than {MAX_NODES} values")
        sizes[key] = total
        return total

    size(root)


def _children(node: yaml.Node, where: str) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if not isinstance(node, yaml.MappingNode):
        return []
    seen: dict[Any, int] = {}
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value != "<<":
            if key.value in seen:
                raise ReplikitError(
                    f"the key {_short(key.value)!r} appears twice in one mapping",
                    where=f"{where}: line {key.start_mark.line + 1}",
                    found=f"lines {seen[key.value]} and {key.start_mark.line + 1}",
                    fix="keep one of them (YAML would silently keep the last)")
            seen[key.value] = key.start_mark.line + 1
    return [part for pair in node.value for part in pair]


def _refuse(where: str, node: yaml.Node, what: str) -> None:
    raise ReplikitError(
        f"holds {what}", where=f"{where}: line {node.start_mark.line + 1}",
        expected="plain values; anchors and aliases only for a few repeated blocks",
        fix="write the values out instead of nesting aliases")


def _short(text: str, limit: int = 160) -> str:
    """``text`` cut to ``limit`` characters: an error message never quotes a whole input."""
    return text if len(text) <= limit else text[:limit] + "…"
