"""One error type whose message always says where, what was expected, what came, what to do."""

from __future__ import annotations


class ReplikitError(Exception):
    """An error a user can act on.

    Parameters
    ----------
    problem
        What went wrong, in one sentence.
    where
        The file (and key path or line) the problem is in, if any.
    expected, found
        What was expected there and what was found instead.
    fix
        What the user can do about it.

    Examples
    --------
    >>> err = ReplikitError("unknown key", where="studies/x/study.yaml: claims[0].metrc",
    ...                     fix="did you mean 'metric'?")
    >>> print(err)
    studies/x/study.yaml: claims[0].metrc: unknown key
      fix: did you mean 'metric'?
    """

    def __init__(
        self,
        problem: str,
        *,
        where: str | None = None,
        expected: str | None = None,
        found: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.where = where
        self.expected = expected
        self.found = found
        self.fix = fix
        super().__init__(self._message())

    def _message(self) -> str:
        head = f"{self.where}: {self.problem}" if self.where else self.problem
        lines = [head]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.found is not None:
            lines.append(f"  found:    {self.found}")
        if self.fix is not None:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, to quote it in a one-line ``found``."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
