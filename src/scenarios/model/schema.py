"""One set of input checks for every file kind: keys, types, numbers, dates and names.

The model compiler, questions, evidence and resolutions all read plain YAML data (dicts, lists,
numbers, strings, dates).  They check it with the functions here, so that every error has the
same shape: the file (and line, where the loader recorded it), the dotted key path, a short
excerpt of the bad value and what was expected, e.g.::

    params/base.yaml:12: nodes.summit.bernoulli.p: expected a probability in [0, 1], got 1.6

A :class:`Location` says where a value sits; each ``check_*`` function takes the raw value and
its location, returns the value converted (a float, a date, ...) and raises
:class:`~scenarios.errors.ParamsError` otherwise.  Nothing here knows what a model is.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ECHO_CHARS, ParamsError, short

__all__ = [
    "EXCERPT_CHARS",
    "IDENTIFIER",
    "Location",
    "excerpt",
    "short",
    "describe",
    "did_you_mean",
    "check_mapping",
    "check_keys",
    "check_list",
    "check_number",
    "check_text",
    "check_identifier",
    "check_choice",
    "check_name",
    "check_date",
    "check_pair",
]

EXCERPT_CHARS = ECHO_CHARS
"""The longest excerpt of a bad value an error quotes (never a whole file); :func:`short` cuts
plain text (a name, a path) to the same length."""

_DATE_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""A node, question or category name: letters, digits and _, not starting with a digit."""


@dataclass(frozen=True)
class Location:
    """Where a value sits: its file, its key path and (when the loader knows it) its line.

    Parameters
    ----------
    file : str or None
        The file the value came from (``None``: the command line or memory).
    path : tuple of str
        Key path from the document's root, e.g. ``("nodes", "summit", "bernoulli", "p")``.
    doc : object, optional
        A layered document (:class:`~scenarios.model.params.ParamsDoc`): when given, the file
        is the one that set ``path`` (``doc.origin(path)``).
    lines : mapping, optional
        Key path (tuple of str) -> 1-based line; by default the line is looked up in the file.
    """

    file: str | None
    path: tuple = ()
    doc: Any = None
    lines: Mapping | None = None

    @classmethod
    def of(cls, doc, path: tuple = ()) -> Location:
        """The location ``path`` in a layered document (its file is found per key path)."""
        return cls(None, tuple(str(p) for p in path), doc)

    def key(self, *keys) -> Location:
        """The location of a child: ``at.key("bernoulli", "p")`` (list indices as numbers)."""
        return Location(self.file, self.path + tuple(str(k) for k in keys), self.doc, self.lines)

    @property
    def dotted(self) -> str:
        """The key path as the user writes it: ``nodes.summit.bernoulli.p``."""
        return ".".join(self.path)

    @property
    def source(self) -> str | None:
        """The file that set this value."""
        return self.doc.origin(self.path) if self.doc is not None else self.file

    @property
    def line(self) -> int | None:
        """1-based line of the value (or of its nearest ancestor) in :attr:`source`, where known.

        From ``lines`` when given, else looked up in the file (only when an error is raised).
        """
        if self.lines:
            path = self.path
            while path:
                if path in self.lines:
                    return self.lines[path]
                path = path[:-1]
            return None
        from .yaml_lines import line_of

        return line_of(self.source, self.path)

    def error(self, message: str) -> ParamsError:
        """A :class:`ParamsError` at this location: ``file:line: key.path: message``."""
        return ParamsError(self.source, self.dotted, message, line=self.line)


# --------------------------------------------------------------------------- messages


def _plain(value: Any) -> Any:
    """numpy scalars as the Python numbers they hold (no ``np.float64(1.6)`` in a message)."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        return item()
    return value


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short rendering of ``value`` for an error message: at most ``limit`` characters.

    Numbers print as Python prints them (numpy scalars too), strings quoted, long values cut
    with ``...``.

    >>> excerpt(1.6)
    '1.6'
    >>> excerpt("x" * 200)[-6:]
    "xx...'"
    >>> len(excerpt(list(range(1000))))
    80
    """
    value = _plain(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        text = repr(value)
    elif isinstance(value, (_dt.date, _dt.datetime)):
        text = value.isoformat()
    else:
        try:
            text = repr(value)
        except Exception:  # a value whose repr fails is still a bad value to name
            text = f"<{type(value).__name__}>"
    text = " ".join(text.split())  # one line: a multi-line string must not spill over
    if len(text) <= limit or not isinstance(value, str):
        return short(text, limit)
    return short(text, limit - 1) + "'"


def describe(value: Any) -> str:
    """What kind of value this is, with an excerpt: ``a string ('soon')``, ``a list ([1, 2])``.

    >>> describe("soon")
    "a string ('soon')"
    >>> describe(None)
    'nothing (null)'
    """
    value = _plain(value)
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, dict):
        return f"a mapping ({excerpt(value)})" if value else "an empty mapping"
    if isinstance(value, list | tuple):
        return f"a list ({excerpt(list(value))})" if value else "an empty list"
    if isinstance(value, str):
        return f"a string ({excerpt(value)})"
    if isinstance(value, _dt.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, int):
        return f"int ({excerpt(value)})"
    if isinstance(value, float):
        return f"float ({excerpt(value)})"
    return f"{type(value).__name__} ({excerpt(value)})"


def did_you_mean(word: Any, options: Iterable) -> str:
    """A `` (did you mean 'X'?)`` suffix, or ``''`` when no option is close.

    >>> did_you_mean("bernouli", ["bernoulli", "beta"])
    " (did you mean 'bernoulli'?)"
    """
    if not isinstance(word, str):
        return ""
    import difflib  # only when there is an error to explain

    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown(key: Any, allowed: Iterable, expected: str | None = None) -> str:
    allowed = [str(a) for a in allowed]
    return (
        f"unknown key {excerpt(key)}; expected {expected or f'one of {allowed}'}"
        + did_you_mean(key, allowed)
    )


# --------------------------------------------------------------------------- checks


def check_mapping(raw: Any, at: Location, *, what: str = "a mapping", nonempty: bool = False) -> dict:
    """``raw`` if it is a mapping (with string keys); else an error saying ``what`` was expected."""
    if not isinstance(raw, dict) or (nonempty and not raw):
        raise at.error(f"expected {what}, got {describe(raw)}")
    for k in raw:
        if not isinstance(k, str):
            raise at.key(excerpt(k)).error(f"keys must be strings, got {describe(k)}")
    return raw


def check_keys(
    raw: Any,
    at: Location,
    allowed: Iterable,
    *,
    required: Iterable = (),
    what: str = "a mapping",
    expected: str | None = None,
) -> dict:
    """``raw`` if it is a mapping whose keys are all ``allowed`` and include ``required``.

    An unknown key is named at its own key path, with the closest allowed key
    (``unknown key 'opne'; expected one of [...] (did you mean 'open'?)``); ``expected``
    replaces the list of allowed keys in that message.
    """
    allowed = tuple(allowed)
    check_mapping(raw, at, what=what)
    for k in raw:
        if k not in allowed:
            raise at.key(k).error(_unknown(k, allowed, expected))
    for k in required:
        if k not in raw:
            raise at.error(f"missing key {k!r}")
    return raw


def check_list(raw: Any, at: Location, *, what: str = "a list", nonempty: bool = False) -> list:
    """``raw`` if it is a list (non-empty if asked)."""
    if not isinstance(raw, list) or (nonempty and not raw):
        raise at.error(f"expected {what}, got {describe(raw)}")
    return raw


def _bound(x) -> str:
    x = _plain(x)
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    return f"{x:g}" if isinstance(x, float) else excerpt(x)


def _bounds(lo, hi, lo_open: bool, hi_open: bool) -> str:
    """``in [0, 1]``, ``> 0`` or ``<= 10``: the bounds as a reader states them."""
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{_bound(lo)}, {_bound(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {_bound(lo)}"
    return f"{'<' if hi_open else '<='} {_bound(hi)}"


def check_number(
    raw: Any,
    at: Location,
    *,
    what: str = "a number",
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
    finite: bool = True,
) -> float | int:
    """``raw`` if it is a number (not a boolean, not NaN, not infinite) within the bounds given.

    Parameters
    ----------
    what : str
        What is expected, in words (``"a probability"``); the message adds the bounds
        (``in [0, 1]``, ``> 0``) unless ``what`` states them.
    lo, hi : float, optional
        Bounds; ``lo_open`` / ``hi_open`` exclude them.
    integer : bool
        Require a whole number.
    finite : bool
        Refuse infinities (``.inf`` in YAML), the default: a parameter that is infinite gives
        NaN or infinite draws, never a meaningful number.  ``False`` only where infinity means
        something (an event's delay, "never").

    Returns
    -------
    int or float
        The value as given (an int stays an int).
    """
    raw = _plain(raw)
    bounded = lo is not None or hi is not None
    # a ``what`` that states its own bounds ("a month number in [1, 12]") is not repeated
    full = f"{what} {_bounds(lo, hi, lo_open, hi_open)}" if bounded and not re.search(r"[\[(<>]", what) else what
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise at.error(f"expected {full}, got {describe(raw)}")
    if isinstance(raw, float) and math.isnan(raw):
        raise at.error(f"expected {full}, got NaN")
    if finite and isinstance(raw, float) and math.isinf(raw):
        if full == "a number":
            raise at.error(f"expected a finite number, got {excerpt(raw)}")
        raise at.error(f"expected {full}, got {excerpt(raw)} (not a finite number)")
    if integer and not float(raw).is_integer():
        raise at.error(f"expected {full} (a whole number), got {excerpt(raw)}")
    if (lo is not None and (raw < lo or (lo_open and raw <= lo))) or (
        hi is not None and (raw > hi or (hi_open and raw >= hi))
    ):
        raise at.error(f"expected {full}, got {excerpt(raw)}")
    return raw


def check_text(raw: Any, at: Location, *, what: str = "text", nonempty: bool = False) -> str:
    """``raw`` if it is a string (non-empty after stripping, if asked)."""
    if not isinstance(raw, str) or (nonempty and not raw.strip()):
        raise at.error(f"expected {what}, got {describe(raw)}")
    return raw


def check_identifier(raw: Any, at: Location, *, what: str = "an identifier (letters, digits, _)", pattern: re.Pattern = IDENTIFIER) -> str:
    """``raw`` if it is a string matching ``pattern`` (by default a Python-style name)."""
    if not isinstance(raw, str) or not pattern.match(raw):
        raise at.error(f"expected {what}, got {describe(raw)}")
    return raw


def check_choice(raw: Any, at: Location, options: Iterable, *, what: str | None = None) -> Any:
    """``raw`` if it is one of ``options``; else the options, with the closest one."""
    options = tuple(options)
    if isinstance(raw, bool) or raw not in options:
        expected = what or f"one of {list(options)}"
        raise at.error(f"expected {expected}, got {describe(raw)}" + did_you_mean(raw, options))
    return raw


def check_name(raw: Any, at: Location, names: Iterable, *, what: str, of: str = "", show: bool = False) -> str:
    """``raw`` if it is one of ``names`` (a node, a category): else ``unknown {what} 'x'``.

    ``of`` qualifies the name (``" of 'venue'"``); ``show`` lists the names (categories; a
    model's nodes are too many).  The closest name is suggested either way.

    >>> check_name("sumit", Location("m.yaml", ("resolve", "event")), ["summit"], what="variable")
    Traceback (most recent call last):
    ...
    scenarios.errors.ParamsError: m.yaml: resolve.event: unknown variable 'sumit' (did you mean 'summit'?)
    """
    if isinstance(raw, str) and raw in names:
        return raw
    names = list(names)
    expected = f"; expected one of {names}" if show else ""
    raise at.error(f"unknown {what} {excerpt(raw)}{of}{expected}" + did_you_mean(raw, names))


def check_date(raw: Any, at: Location) -> _dt.date:
    """A date from YAML: already a date (YAML reads 2023-09-05 as one) or a ``YYYY-MM-DD`` string."""
    if isinstance(raw, _dt.datetime):
        return raw.date()
    if isinstance(raw, _dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return _dt.date.fromisoformat(raw.strip())
        except ValueError as exc:
            if _DATE_LIKE.match(raw.strip()):  # 2024-11-31 (the YAML loader leaves it a string)
                raise at.error(f"expected a date as YYYY-MM-DD, got {excerpt(raw.strip())}, which is not a date ({exc})") from None
    raise at.error(f"expected a date as YYYY-MM-DD, got {describe(raw)}")


def check_pair(
    raw: Any,
    at: Location,
    *,
    what: str,
    allow_null: bool = False,
    strict: bool = True,
) -> tuple[float, float]:
    """``[low, high]`` as two finite floats with ``low < high`` (``low <= high`` if not ``strict``).

    With ``allow_null`` a null end is an open end (``-inf`` / ``inf``), and so is an infinite one.
    """
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise at.error(f"expected {what} as [low, high], got {describe(raw)}")
    out = []
    for i, v in enumerate(raw):
        if v is None and allow_null:
            out.append(-math.inf if i == 0 else math.inf)
        else:
            out.append(float(check_number(v, at, what=what, finite=not allow_null)))
    if out[0] > out[1] or (strict and out[0] == out[1]):
        cmp = "<" if strict else "<="
        raise at.error(f"expected {what} as [low, high] with low {cmp} high, got {excerpt(list(raw))}")
    return out[0], out[1]
