"""Edits to a study manifest that keep the user's comments and layout.

``replikit zotero pull`` fills the ``paper:`` block from the library: :func:`merge_paper`
decides which fields change, :func:`update_paper_block` rewrites only those lines, and
:func:`write_validated_manifest` replaces the file only if the result still validates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from replikit.errors import ReplikitError, first_line
from replikit.fileio import write_text
from replikit.study.model import Study


def merge_paper(current: dict[str, Any], pulled: dict[str, Any], overwrite: bool
                ) -> tuple[dict[str, Any], list[str]]:
    """Fill missing paper fields (all of them with ``overwrite``); describe each change."""
    merged = dict(current)
    changes = []
    for name, value in pulled.items():
        old = current.get(name)
        if old == value:
            continue
        if old is None or overwrite or name == "zotero":
            merged[name] = value
            changes.append(f"paper.{name}: {old!r} -> {value!r}")
        else:
            changes.append(f"paper.{name}: kept {old!r} (Zotero has {value!r}; "
                           "use --overwrite to take it)")
    return merged, changes


def update_paper_block(manifest_text: str, updates: dict[str, Any]) -> str:
    """Rewrite only the lines of the ``paper:`` keys in ``updates``; keep the rest as it is.

    Changed keys are replaced in place, new keys are added at the end of the block, so
    comments and formatting elsewhere in the manifest survive.
    """
    paper_key, paper = _paper_nodes(manifest_text)
    lines = manifest_text.splitlines(keepends=True)
    indent = " " * (paper.value[0][0].start_mark.column if paper.value else 2)
    spans = {k.value: (k.start_mark.line, _end_line(v, lines)) for k, v in paper.value}
    last = max((end for _, end in spans.values()), default=paper_key.start_mark.line + 1)
    appended: list[str] = []
    # replace from the bottom up so earlier line numbers stay valid
    for name in sorted((n for n in updates if n in spans), key=lambda n: -spans[n][0]):
        start, end = spans[name]
        lines[start:end] = _dump_key(name, updates[name], indent)
    for name in (n for n in updates if n not in spans):
        appended += _dump_key(name, updates[name], indent)
    shift = sum(len(_dump_key(n, updates[n], indent)) - (spans[n][1] - spans[n][0])
                for n in updates if n in spans)
    at = last + shift
    return "".join(lines[:at] + appended + lines[at:])


def _paper_nodes(text: str) -> tuple[yaml.Node, yaml.MappingNode]:
    root = yaml.compose(text)
    for key_node, value_node in getattr(root, "value", []):
        if key_node.value == "paper" and isinstance(value_node, yaml.MappingNode):
            return key_node, value_node
    raise ReplikitError("the manifest has no top-level 'paper:' mapping",
                        fix="add a paper: block (see 'replikit schema')")


def _end_line(node: yaml.Node, lines: list[str]) -> int:
    """The index of the first line after ``node``, leaving out trailing blanks and comments.

    Block scalars and block collections end at column 0 of the next key's line.
    """
    mark = node.end_mark
    end = mark.line if mark.column == 0 else mark.line + 1
    while end > node.start_mark.line + 1 and (not lines[end - 1].strip()
                                               or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def _dump_key(name: str, value: Any, indent: str) -> list[str]:
    if isinstance(value, list):  # short lists read best inline, as the manifests write them
        flow = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000)
        text = f"{name}: {flow.strip()}\n"
    else:
        text = yaml.safe_dump({name: value}, allow_unicode=True, width=1000)
    return [indent + line for line in text.splitlines(keepends=True)]


def write_validated_manifest(manifest: Path, text: str) -> None:
    """Replace the manifest only if the new text still validates."""
    try:
        Study.model_validate(yaml.safe_load(text))
    except Exception as exc:
        raise ReplikitError("the manifest filled from Zotero does not validate",
                            where=str(manifest), found=first_line(exc),
                            fix="leave out --overwrite, or edit the paper block by hand") from exc
    write_text(manifest, text)
