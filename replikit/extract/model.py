"""What every table reader produces: tables of printed cells, and the numbers inside them.

A reader (Markdown, LaTeX, PDF) turns its format into :class:`Table` objects holding the
cells' text as printed, with the marks a paper uses for its best values (bold, underline).
:func:`parse_number` then reads one printed cell into a :class:`Number`: the value, the
digits printed, the spread written as ``± s`` and the unit, so that every later step works
the same whatever the source format was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

PERCENT = "%"
SECONDS = "s"


@dataclass(frozen=True)
class Cell:
    """One cell as printed: plain text, and whether it is set in bold or underlined."""

    text: str
    bold: bool = False
    underline: bool = False


@dataclass
class Table:
    """A table read from a source: header rows (spans expanded) and body rows.

    ``label`` names the table (its caption, else the top-left header cell, else its
    number); ``section`` is the heading it stands under, when the format has headings;
    ``where`` says where it is in the file (a line or a page), for the ``source`` text;
    ``context`` holds the paragraphs around it in its section (seeds, protocol, relations).
    """

    label: str
    header: list[list[Cell]]
    rows: list[list[Cell]]
    file: str
    section: str | None = None
    where: str | None = None
    context: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        return max((len(r) for r in self.header + self.rows), default=0)


@dataclass(frozen=True)
class Number:
    """A number read from a printed cell.

    ``value`` is in the claim's unit (seconds for any time, percent for ``%``);
    ``decimals`` counts the digits printed after the point (0 for h:mm:ss);
    ``spread`` is the ``± s`` the paper printed beside it, in the same unit.
    """

    value: float
    decimals: int
    printed: str
    unit: str = ""
    spread: float | None = None
    spread_decimals: int | None = None


@dataclass
class Candidate:
    """One candidate claim: a number of a table with the labels that say what it is."""

    table: str
    row: str
    column: str
    number: Number
    file: str
    section: str | None = None
    where: str | None = None
    bold: bool = False
    underline: bool = False
    metric_label: str = ""
    notes: list[str] = field(default_factory=list)
    #: Set when the table's corner cell names its axes (``Dataset/AUROC``): the data set
    #: and method the number belongs to, the metric it measures, and the direction.
    dataset: str | None = None
    method: str | None = None
    metric: str | None = None
    higher: bool | None = None
    context: list[str] = field(default_factory=list)  # its table's paragraphs


# --------------------------------------------------------------------------- numbers
# A cell's text is data, not code: a small grammar of printed numbers is read here.
_NUMBER = r"[-+−]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.(\d+))?$")
_VALUE = re.compile(
    rf"^(?P<value>{_NUMBER})\s*(?P<unit>%|ms|s|sec|min|h)?"
    rf"(?:\s*(?:±|\+/-|\+-)\s*(?P<spread>{_NUMBER})\s*(?P<sunit>%|ms|s)?)?$"
)
_PAREN_SPREAD = re.compile(rf"^(?P<value>{_NUMBER})\s*\((?P<spread>{_NUMBER})\)$")
_SCALE = {"ms": Decimal("0.001"), "s": Decimal(1), "sec": Decimal(1), "min": Decimal(60),
          "h": Decimal(3600)}


def parse_number(text: str, column_unit: str = "") -> Number | None:
    """Read a printed cell: ``0.934``, ``85.3%``, ``0:01:39``, ``12.5 s``, ``0.48 ± 0.01``.

    ``column_unit`` is the unit the column header declares (``%`` or ``s``), used when the
    cell itself prints none. Returns None for text that is not one number (a label, a dash).
    """
    cleaned = " ".join(text.replace("−", "-").replace("\u2009", " ").split())
    cleaned = cleaned.rstrip("*†‡§").strip()
    clock = _CLOCK.match(cleaned)
    if clock:
        return _clock_number(cleaned, clock)
    match = _VALUE.match(cleaned) or _PAREN_SPREAD.match(cleaned)
    if not match:
        return None
    groups = match.groupdict()
    unit = groups.get("unit") or groups.get("sunit") or column_unit
    value, decimals = _decimal(groups["value"])
    spread = spread_decimals = None
    if groups.get("spread"):
        spread_value, spread_decimals = _decimal(groups["spread"])
        spread = spread_value
    if unit in _SCALE:
        return _scaled(cleaned, value, decimals, spread, spread_decimals, _SCALE[unit])
    return Number(float(value), decimals, cleaned, PERCENT if unit == PERCENT else "",
                  None if spread is None else float(spread), spread_decimals)


def _decimal(text: str) -> tuple[Decimal, int]:
    """The value of a printed number and its digits after the point (thousands commas go)."""
    digits = text.replace(",", "").replace("+", "")
    try:
        value = Decimal(digits)
    except InvalidOperation as exc:  # the pattern above admits only numbers
        raise ValueError(f"not a number: {text!r}") from exc
    return value, max(0, -int(value.as_tuple().exponent))


def _scaled(printed: str, value: Decimal, decimals: int, spread: Decimal | None,
            spread_decimals: int | None, scale: Decimal) -> Number:
    """A time printed in ms, s, min or h, as seconds; digits shift with the scale."""
    shift = -scale.adjusted()  # ms: +3 digits; s: 0; min and h: whole seconds at best
    seconds = value * scale
    return Number(float(seconds), max(0, decimals + shift), printed, SECONDS,
                  None if spread is None else float(spread * scale),
                  None if spread_decimals is None else max(0, spread_decimals + shift))


def _clock_number(printed: str, clock: re.Match[str]) -> Number:
    """``h:mm:ss`` or ``m:ss`` (with optional fractions of a second) as seconds."""
    hours, minutes, seconds, fraction = clock.groups()
    total = Decimal(int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds))
    if fraction:
        total += Decimal(f"0.{fraction}")
    return Number(float(total), len(fraction or ""), printed, SECONDS)


def header_unit(label: str) -> str:
    """The unit a column header declares: ``Acc (%)`` -> ``%``, ``Time [s]`` -> ``s``."""
    match = re.search(r"[(\[]\s*(%|s|sec|seconds|ms|h:mm:ss)\s*[)\]]\s*$", label)
    if not match:
        return ""
    unit = match.group(1)
    return PERCENT if unit == PERCENT else ("ms" if unit == "ms" else SECONDS)


def strip_unit(label: str) -> str:
    """A header without its unit annotation: ``Acc (%)`` -> ``Acc``."""
    if not header_unit(label):
        return label
    return re.sub(r"\s*[(\[][^()\[\]]*[)\]]\s*$", "", label).strip()
