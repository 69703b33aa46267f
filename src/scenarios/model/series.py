"""Real dated series: the file of dated real-world estimates a report draws on its flow charts.

A series file (named by the params file's ``series:`` key, see :mod:`scenarios.model.data_files`)
maps a series name to a list of dated estimates, each with its source::

    containers_nk_to_russia:
      - date_of_estimate: 2023-10-13
        quantity: containers shipped NK -> Russia
        value: 1000          # the headline figure (or null)
        low: 1000            # the stated range (each may be null)
        high: null
        estimator: US White House (NSC)
        baseline: "2023-09-07"   # start of the period the figure covers, as stated
        confidence: high         # high | medium | low
        note: "'More than 1,000'."
        sources: [https://...]

``note:`` and ``source:`` at the top level describe the file.  Every item needs a date, what is
counted, who said it, at least one number and at least one source; an unknown key, a number that
is not one, a range with low above high or an item without a source is an error naming the file,
the key path, the bad value and what was expected.
"""

from __future__ import annotations

import datetime as _dt
import math

from ..errors import ParamsError
from .params import describe, load_yaml_file
from .scenario import did_you_mean, parse_date

__all__ = ["SERIES_ITEM_KEYS", "CONFIDENCE_LEVELS", "load_series", "parse_series"]

NUMBER_KEYS = ("value", "low", "high", "planned_total", "killed", "wounded")
TEXT_KEYS = ("quantity", "estimator", "baseline", "note")
REQUIRED_KEYS = ("date_of_estimate", "quantity", "estimator", "sources")
SERIES_ITEM_KEYS = ("date_of_estimate",) + TEXT_KEYS + NUMBER_KEYS + ("confidence", "sources")
"""Keys an estimate may have."""
CONFIDENCE_LEVELS = ("high", "medium", "low")
FILE_META_KEYS = ("note", "source")
MAX_EXCERPT = 80


def _excerpt(value) -> str:
    text = describe(value)
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 3] + "..."


def load_series(path: str) -> dict:
    """Read and validate a series file.

    Parameters
    ----------
    path : str
        The series file (YAML).

    Returns
    -------
    dict of str -> list of dict
        Series name -> its estimates in file order, each a dict with every key of
        :data:`SERIES_ITEM_KEYS`: ``date_of_estimate`` a date, numbers as float or None, texts as
        str ("" when absent), ``confidence`` a str or None, ``sources`` a tuple of str.

    Raises
    ------
    ParamsError
        The file is missing or malformed, or an item breaks the schema (file, key path, bad value,
        what was expected).
    """
    doc, _ = load_yaml_file(path)
    return parse_series(doc, path)


def parse_series(doc, file: str | None = None) -> dict:
    """Validate a parsed series document (see :func:`load_series`); ``file`` names it in errors."""
    if not isinstance(doc, dict) or not doc:
        raise ParamsError(file, "", f"expected a mapping of series name -> list of dated estimates, got {_excerpt(doc)}")
    out = {}
    for name, items in doc.items():
        if not isinstance(name, str) or not name.strip():
            raise ParamsError(file, str(name), f"expected a series name (text), got {_excerpt(name)}")
        if name in FILE_META_KEYS and isinstance(items, str):
            continue
        if not isinstance(items, list):
            raise ParamsError(file, name, f"expected a list of dated estimates, got {_excerpt(items)}")
        out[name] = [_item(raw, file, (name, str(i))) for i, raw in enumerate(items)]
    if not out:
        raise ParamsError(file, "", "the file holds no series (only note/source)")
    return out


def _item(raw, file, path: tuple) -> dict:
    def err(key, message):
        return ParamsError(file, ".".join(path + ((key,) if key else ())), message)

    if not isinstance(raw, dict):
        raise err(None, f"expected a mapping with {', '.join(REQUIRED_KEYS)} and a value, got {_excerpt(raw)}")
    for key in raw:
        if key not in SERIES_ITEM_KEYS:
            raise err(str(key), f"unknown key {str(key)[:MAX_EXCERPT]!r}; expected one of {list(SERIES_ITEM_KEYS)}"
                      + did_you_mean(key, SERIES_ITEM_KEYS))
    for key in REQUIRED_KEYS:
        if raw.get(key) is None:
            raise err(key, f"missing {key}" + (" (every real number carries its source)" if key == "sources" else ""))
    item: dict = {"date_of_estimate": parse_date(raw["date_of_estimate"], None, path + ("date_of_estimate",), file=file)}
    for key in TEXT_KEYS:
        value = raw.get(key)
        if isinstance(value, _dt.date):  # an unquoted date, e.g. baseline: 2023-09-07
            value = value.isoformat()
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            raise err(key, f"expected text, got {_excerpt(value)}")
        item[key] = "" if value is None else str(value)
    for key in ("quantity", "estimator"):
        if not item[key].strip():
            raise err(key, f"expected a non-empty text, got {_excerpt(raw[key])}")
    for key in NUMBER_KEYS:
        item[key] = _number(raw.get(key), err, key)
    if item["value"] is None and item["low"] is None and item["high"] is None:
        raise err("value", "expected a number in at least one of value, low, high (all are null)")
    if item["low"] is not None and item["high"] is not None and item["low"] > item["high"]:
        raise err("low", f"expected low <= high, got low {item['low']:g} > high {item['high']:g}")
    confidence = raw.get("confidence")
    if confidence is not None and confidence not in CONFIDENCE_LEVELS:
        raise err("confidence", f"expected one of {', '.join(CONFIDENCE_LEVELS)}, got {_excerpt(confidence)}"
                  + did_you_mean(confidence, CONFIDENCE_LEVELS))
    item["confidence"] = confidence
    item["sources"] = _sources(raw["sources"], err)
    return item


def _number(value, err, key) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise err(key, f"expected a number or null, got {_excerpt(value)}")
    try:
        x = float(value)
    except OverflowError:
        raise err(key, f"expected a finite number, got an integer of {len(str(abs(value)))} digits") from None
    if not math.isfinite(x):
        raise err(key, f"expected a finite number, got {_excerpt(value)}")
    return x


def _sources(value, err) -> tuple:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise err("sources", f"expected a source or a non-empty list of sources (URLs or references), got {_excerpt(value)}")
    for i, s in enumerate(items):
        if not isinstance(s, str) or not s.strip():
            raise err(f"sources.{i}", f"expected a source (a URL or a reference), got {_excerpt(s)}")
    return tuple(s.strip() for s in items)

