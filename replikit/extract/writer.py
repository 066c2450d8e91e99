"""The candidate claims as a YAML block to review, and what changed since a previous one.

The block is a document ``{claims: [...]}`` whose entries validate as
:class:`replikit.study.Claim`; comments above each entry say what was printed, the
spread, the marks and every judgement made, so the reviewer sees what to check before
copying entries into ``study.yaml``. Nothing is ever merged into a manifest here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from replikit.errors import ReplikitError
from replikit.study import Claim

#: The claim fields whose change means the paper's table changed.
COMPARED = ("text", "source", "kind", "metric", "reported", "decimals", "higher_is_better")


def render(entries: list[dict[str, Any]], provenance: dict[str, Any], command: str) -> str:
    """The YAML text: a header naming the source and its sha256, then one entry per claim."""
    for entry in entries:
        Claim.model_validate(entry["claim"])  # the output must fit the manifest, always
    lines = ["# Candidate claims read by replikit from a results table: review each one",
             "# (metric names, higher_is_better, tolerance, levels) before copying it into",
             "# study.yaml under 'claims:'. Nothing here is merged automatically.",
             f"# command: {command}"]
    lines += [f"# {key}: {value}" for key, value in provenance.items() if value]
    lines += [f"# candidates: {len(entries)}", "claims:"]
    for entry in entries:
        lines += [f"  # {comment}" for comment in entry["comments"]]
        lines += _entry_lines(entry["claim"])
    return "\n".join(lines) + "\n"


def _entry_lines(claim: dict[str, Any]) -> list[str]:
    out = []
    for index, (key, value) in enumerate(claim.items()):
        # "{key: value}" -> "key: value"
        text = yaml.safe_dump({key: value}, default_flow_style=True, width=10_000,
                              sort_keys=False, allow_unicode=True).strip()[1:-1]
        out.append(("  - " if index == 0 else "    ") + text)
    return out


def read_previous(path: Path) -> list[dict[str, Any]]:
    """The claims of an earlier output of ``claims extract`` (or of a study manifest)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReplikitError("cannot read the previous candidates", where=str(path),
                            found=str(exc).splitlines()[0],
                            fix="give a file written by `replikit claims extract`") from exc
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
        raise ReplikitError("no 'claims:' list in the previous candidates", where=str(path),
                            fix="give a file written by `replikit claims extract`")
    return data["claims"]


def diff(previous: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[str]:
    """Lines saying which claims were added, removed or changed (and how), by id."""
    before = {c["id"]: c for c in previous}
    after = {c["id"]: c for c in current}
    lines = [f"+ {ident}: {after[ident].get('reported')}" for ident in after
             if ident not in before]
    lines += [f"- {ident}: {before[ident].get('reported')}" for ident in before
              if ident not in after]
    for ident in after.keys() & before.keys():
        changes = [f"{key} {before[ident].get(key)!r} -> {after[ident].get(key)!r}"
                   for key in COMPARED if before[ident].get(key) != after[ident].get(key)]
        if changes:
            lines.append(f"~ {ident}: " + "; ".join(changes))
    order = {ident: k for k, ident in enumerate([*after, *before])}
    return sorted(lines, key=lambda line: order[line[2:].split(":")[0]])
