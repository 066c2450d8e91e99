"""Numbers as text: the one family of formatters every stage uses (reasons, tables, letters).

Ground of the package: it imports nothing from replikit, so the evaluate stage can word its
reasons with the same digits the report prints.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

DASH = "\u2014"


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_number(value: Any, digits: int | None = None, *, significant: int = 4,
               missing: str = DASH) -> str:
    """A number with ``digits`` decimals (else ``significant`` digits); ``missing`` if none.

    >>> fmt_number(0.93612, 3), fmt_number(0.93612), fmt_number(None, missing="")
    ('0.936', '0.9361', '')
    """
    if is_missing(value):
        return missing
    value = float(value)
    if digits is None:
        return f"{value:.{significant}g}"
    return f"{value:.{max(int(digits), 0)}f}"


def band_digits(decimals: Any) -> int | None:
    """Decimals to print a claim's band with: one more than the paper printed, so the half
    unit of rounding the band adds stays visible (None when the paper's digits are unknown).
    """
    return None if is_missing(decimals) else int(decimals) + 1


def fmt_band(low: Any, high: Any, decimals: Any = None) -> str:
    """A band with the claim's digits: ``fmt_band(0.98953, 1.00047, 3) == '[0.9895, 1.0005]'``;
    five significant digits when the paper's digits are unknown.

    >>> fmt_band(0.98953, 1.00047, 3), fmt_band(0.98953, 1.00047)
    ('[0.9895, 1.0005]', '[0.98953, 1.0005]')
    """
    digits = band_digits(decimals)
    return (f"[{fmt_number(low, digits, significant=5)}, "
            f"{fmt_number(high, digits, significant=5)}]")


def to_float(value: Any) -> float | None:
    """A number from a cell that may be text, empty or missing; None when it holds none."""
    if is_missing(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def fmt_percent(value: Any) -> str:
    return DASH if is_missing(value) else f"{float(value) * 100:+.2f}%"


def fmt_p(p: float) -> str:
    """A p-value: two significant digits, scientific below 0.001, ``n/a`` when none."""
    return "n/a" if is_missing(p) else (f"{p:.2g}" if p >= 0.001 else f"{p:.1e}")


def fmt_share(share: float) -> str:
    """A share such as a confidence level or a power: ``0.95`` -> ``'95%'``."""
    return f"{share * 100:g}%"


