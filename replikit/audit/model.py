"""What an audit finds: a problem of one category, at a file and line, with the code shown."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: The problem categories, in the order the report lists them; each says what it covers.
CATEGORIES = {
    "dependencies": "dependencies declared, pinned, consistent, and for a living Python",
    "randomness": "random generators seeded in the entry points, seeds exposed, determinism",
    "data": "data fetched at run time from unpinned sources, machine-specific paths",
    "documentation": "the completeness checklist: dependencies, training and evaluation "
                     "code, pretrained models, a results table with its commands",
    "hardware": "code paths that need a GPU, or a given number of them",
}


@dataclass(frozen=True)
class Finding:
    """One problem: its category, a short check id, what is wrong, and where.

    ``file`` is relative to the audited tree (POSIX separators) and ``line`` is 1-based;
    both are None only for a problem of the whole tree (e.g. no README at all).
    ``evidence`` is the source line as written, stripped.
    """

    category: str
    check: str
    message: str
    file: str | None = None
    line: int | None = None
    evidence: str = ""

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}")

    @property
    def location(self) -> str:
        if self.file is None:
            return "(whole tree)"
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    order = list(CATEGORIES)
    return sorted(set(findings), key=lambda f: (order.index(f.category), f.check,
                                                f.file or "", f.line or 0, f.message))
