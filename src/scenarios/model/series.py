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

from .params import load_yaml_file
from .schema import (
    Location,
    check_choice,
    check_date,
    check_keys,
    check_list,
    check_mapping,
    check_number,
    check_text,
    describe,
)

__all__ = ["SERIES_ITEM_KEYS", "CONFIDENCE_LEVELS", "load_series", "parse_series"]

NUMBER_KEYS = ("value", "low", "high", "planned_total", "killed", "wounded")
TEXT_KEYS = ("quantity", "estimator", "baseline", "note")
REQUIRED_KEYS = ("date_of_estimate", "quantity", "estimator", "sources")
SERIES_ITEM_KEYS = ("date_of_estimate",) + TEXT_KEYS + NUMBER_KEYS + ("confidence", "sources")
"""Keys an estimate may have."""
CONFIDENCE_LEVELS = ("high", "medium", "low")
FILE_META_KEYS = ("note", "source")


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
    at = Location(file)
    check_mapping(doc, at, what="a mapping of series name -> list of dated estimates", nonempty=True)
    out = {}
    for name, items in doc.items():
        if name in FILE_META_KEYS and isinstance(items, str):
            continue
        check_text(name, at, what="a series name", nonempty=True)
        check_list(items, at.key(name), what="a list of dated estimates")
        out[name] = [_item(raw, at.key(name, i)) for i, raw in enumerate(items)]
    if not out:
        raise at.error("the file holds no series (only note/source)")
    return out


def _item(raw, at: Location) -> dict:
    check_keys(raw, at, SERIES_ITEM_KEYS, what=f"a mapping with {', '.join(REQUIRED_KEYS)} and a value")
    for key in REQUIRED_KEYS:
        if raw.get(key) is None:
            raise at.key(key).error(f"missing {key}" + (" (every real number carries its source)" if key == "sources" else ""))
    item: dict = {"date_of_estimate": check_date(raw["date_of_estimate"], at.key("date_of_estimate"))}
    for key in TEXT_KEYS:
        value = raw.get(key)
        if isinstance(value, _dt.date):  # an unquoted date, e.g. baseline: 2023-09-07
            value = value.isoformat()
        elif isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        item[key] = "" if value is None else check_text(value, at.key(key), nonempty=key in ("quantity", "estimator"),
                                                        what="a non-empty text" if key in ("quantity", "estimator") else "text")
    for key in NUMBER_KEYS:
        value = raw.get(key)
        item[key] = None if value is None else _finite(value, at.key(key))
    if item["value"] is None and item["low"] is None and item["high"] is None:
        raise at.key("value").error("expected a number in at least one of value, low, high (all are null)")
    if item["low"] is not None and item["high"] is not None and item["low"] > item["high"]:
        raise at.key("low").error(f"expected low <= high, got low {item['low']:g} > high {item['high']:g}")
    confidence = raw.get("confidence")
    item["confidence"] = None if confidence is None else check_choice(confidence, at.key("confidence"), CONFIDENCE_LEVELS)
    item["sources"] = _sources(raw["sources"], at.key("sources"))
    return item


def _finite(value, at: Location) -> float:
    check_number(value, at, what="a number or null", finite=True)
    try:
        return float(value)
    except OverflowError:
        raise at.error(f"expected a finite number, got an integer of {len(str(abs(value)))} digits") from None


def _sources(value, at: Location) -> tuple:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise at.error(f"expected a source or a non-empty list of sources (URLs or references), got {describe(value)}")
    return tuple(check_text(s, at.key(i), what="a source (a URL or a reference)", nonempty=True).strip()
                 for i, s in enumerate(items))
