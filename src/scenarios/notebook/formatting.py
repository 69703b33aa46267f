"""One way to write numbers, ranges, percentages and shortened titles in tables and figures.

Every table cell, axis tick label and annotation of the report goes through these functions, so
a count reads 12,345 everywhere, a share 0.25, a percentage 3.1%, a missing value ``–`` and
a number too large or too small for plain digits 2.5×10⁻⁷ (never Python's ``2.5e-07``, never
``None`` or ``nan``):

>>> number(1000), number(12345.4), number(0.25), number(None), percent(0.031), number(2.5e-7)
('1,000', '12,345', '0.25', '–', '3.1%', '2.5×10⁻⁷')
>>> number_range(1000, None), number_range(None, 5), number_range(None, None)
('≥ 1,000', '≤ 5', '–')
"""

from __future__ import annotations

import math
import re

__all__ = [
    "MISSING",
    "number",
    "percent",
    "probability",
    "signed",
    "number_range",
    "tick_formatter",
    "shorten",
    "cell",
]

MISSING = "–"
"""What a missing value (None, NaN) prints as, everywhere."""

_PLAIN_UP_TO = 1e15  # beyond this thousands separators make an unreadable wall of digits
_PLAIN_FROM = 1e-4  # below this a fixed-point number is mostly zeros


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(x, *, digits: int = 3) -> str:
    """A number for a reader: thousands separators, ``digits`` significant digits below 1,000.

    Parameters
    ----------
    x : float, int or None
    digits : int
        Significant digits of numbers below 1,000 in size (at least 1). Numbers of 1,000 and
        more are rounded to whole units (counts are read to the unit, and 12,345 should not
        become 12,300).

    Returns
    -------
    str
        ``1,000``, ``12,345``, ``0.25``, ``3.14``, ``-0.5`` for 1e-4 <= |x| < 1e15; beyond,
        ``digits`` significant digits times a power of ten written out (``1.29×10¹⁵``,
        ``-3×10⁻⁸``), never Python's ``e`` notation; trailing zeros dropped (``2``, not
        ``2.00``); ``–`` for None or NaN; ``∞`` / ``-∞`` for infinities.

    Examples
    --------
    >>> number(999.96), number(0.000123456), number(-2.5), number(True), number(1.294e15)
    ('1,000', '0.000123', '-2.5', '1', '1.29×10¹⁵')
    """
    if _missing(x):
        return MISSING
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    a = abs(x)
    if a >= _PLAIN_UP_TO or a < _PLAIN_FROM:
        return _power_of_ten(f"{x:.{max(1, digits) - 1}e}")
    if a >= 1000:
        text = f"{x:,.0f}"
    else:  # separators here too: 999.96 rounds to "1,000"
        decimals = max(0, max(1, digits) - 1 - math.floor(math.log10(a)))
        text = _strip_zeros(f"{x:,.{decimals}f}")
    return "0" if text in ("-0", "0") else text


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _power_of_ten(text: str) -> str:
    """Python's ``1.50e-05`` as ``1.5×10⁻⁵`` (``1.00e+20`` as ``1×10²⁰``)."""
    mantissa, _, exponent = _strip_zeros(text).partition("e")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def _strip_zeros(text: str) -> str:
    """``2.50`` -> ``2.5``, ``2.00`` -> ``2``, ``1.50e-05`` -> ``1.5e-05``."""
    mantissa, e, exponent = text.partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return mantissa + e + exponent


def percent(p, *, decimals: int = 1) -> str:
    """A probability or share as a percentage: ``percent(0.031)`` is ``3.1%``; ``–`` if missing.

    >>> percent(0.8031), percent(1), percent(None)
    ('80.3%', '100.0%', '–')
    """
    if _missing(p):
        return MISSING
    return f"{100 * float(p):,.{decimals}f}%"


def probability(p, *, decimals: int = 2) -> str:
    """A probability with a fixed number of decimals, so a column of them lines up:
    ``probability(0.8)`` is ``0.80``; ``–`` if missing.

    >>> probability(0.8), probability(0.0123, decimals=3), probability(float("nan"))
    ('0.80', '0.012', '–')
    """
    if _missing(p):
        return MISSING
    return f"{float(p):.{decimals}f}"


def signed(x, *, decimals: int = 3) -> str:
    """A difference with its sign and a fixed number of decimals: ``signed(-0.0123)`` is
    ``-0.012``, ``signed(0.05)`` ``+0.050``; ``–`` if missing.

    >>> signed(0.05), signed(-0.0123), signed(None)
    ('+0.050', '-0.012', '–')
    """
    if _missing(x):
        return MISSING
    return f"{float(x):+.{decimals}f}"


def number_range(low, high, *, digits: int = 3) -> str:
    """A range whose ends may be missing: ``1,000 – 5,000``; ``≥ 1,000`` with no upper end;
    ``≤ 5`` with no lower end; ``–`` with neither (never a dangling dash).

    >>> number_range(1000, 5000), number_range(2, 2)
    ('1,000 – 5,000', '2')
    """
    lo, hi = (None if _missing(v) else v for v in (low, high))
    if lo is None and hi is None:
        return MISSING
    if hi is None:
        return f"≥ {number(lo, digits=digits)}"
    if lo is None:
        return f"≤ {number(hi, digits=digits)}"
    a, b = number(lo, digits=digits), number(hi, digits=digits)
    return a if a == b else f"{a} – {b}"


def tick_formatter(*, digits: int = 3):
    """A matplotlib tick formatter that writes tick labels with :func:`number`."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos=None: number(x, digits=digits))


def cell(value) -> str:
    """A table cell as text: numbers through :func:`number` (booleans as yes/no), None and NaN
    as ``–``, anything else as ``str``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or isinstance(value, (int, float)):
        return number(value)
    try:  # numpy scalars
        import numpy as np

        if isinstance(value, np.generic) and np.issubdtype(type(value), np.number):
            return number(value.item())
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    return str(value)


# a date at the end of a title, with the word before it: "by 2024-06-30", "_by_2024_06_30", "in 2025"
_DATE_AT_END = r"(?<![0-9])\d{4}(?:[-_/.]\d{1,2}(?:[-_/.]\d{1,2})?)?\s*[)\].?!]*\s*$"
_TRAILING_DATE = re.compile(
    r"(?:[\s_-]+(?:by|before|after|on|in|until|from|since|at))?[\s_-]*" + _DATE_AT_END, re.IGNORECASE)
ELLIPSIS = "…"


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut in the middle so a trailing date stays.

    A title that ends with a date (``by 2024-06-30``, ``by_2024_06_30``, ``in 2025``) keeps the
    date and the word before it; what is cut is replaced by ``…``.  Without a trailing date the
    end is cut.  Text that fits is returned unchanged.

    >>> shorten("us_says_russian_oil_exceeds_un_cap_by_2024_06_30", 30)
    'us_says_russian…_by_2024_06_30'
    >>> shorten("Will Kim and Putin meet again by 2024-06-30?", 30)
    'Will Kim and P… by 2024-06-30?'
    """
    text = str(text)
    if width < 1:
        raise ValueError(f"shorten: width must be at least 1, got {width}")
    if len(text) <= width:
        return text
    m = _TRAILING_DATE.search(text)
    tail = m.group(0) if m and m.start() > 0 else ""
    if tail and len(tail) + 2 > width:  # too narrow for the connecting word: keep the date itself
        tail = re.search(_DATE_AT_END, text).group(0)
    if tail and len(tail) + 2 <= width:
        head = text[: width - len(tail) - 1].rstrip(" _-")
        return head + ELLIPSIS + tail
    return text[: width - 1].rstrip(" _-") + ELLIPSIS
