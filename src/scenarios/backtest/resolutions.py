"""Resolutions files: what happened to each question, and when it became public."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass

from ..errors import ParamsError
from ..model.params import describe, load_yaml_file
from ..model.scenario import did_you_mean, parse_date

RESOLUTION_KEYS = (

    "id", "question", "text", "type", "open_date", "close_date", "outcome", "value", "low", "high",
    "resolved_on", "resolution_note", "note", "confidence", "sources", "source", "unit",
)
STATUSES = ("annulled", "ambiguous", "unresolved")


@dataclass(frozen=True)
class Resolution:
    """What happened to one question.

    status is ``resolved``, ``annulled``, ``ambiguous`` or ``unresolved``; a resolved binary
    question has ``outcome``, a resolved numeric one ``value`` (and the stated ``low``/``high``).
    ``resolved_on`` is when the outcome became public.
    """

    id: str
    type: str
    status: str
    outcome: bool | None = None
    value: float | None = None
    low: float | None = None
    high: float | None = None
    resolved_on: _dt.date | None = None
    open_date: _dt.date | None = None
    close_date: _dt.date | None = None
    confidence: str | None = None


def load_resolutions(path: str) -> dict:
    """Read and validate a resolutions file: ``{questions: [...]}`` (or a bare list).

    Each entry has ``id`` and either ``outcome`` (true, false, annulled, ambiguous or null for
    unresolved) or, for numeric questions, ``value`` with optional ``low``/``high``; plus
    ``resolved_on`` (the date the outcome became public; default the close date).

    Returns
    -------
    dict
        Question id -> :class:`Resolution`.
    """
    doc, _ = load_yaml_file(path)
    base: tuple = ()
    if isinstance(doc, dict):
        for k in doc:
            if k != "questions":
                raise ParamsError(path, str(k), f"unknown key {k!r}; a resolutions file holds questions:" + did_you_mean(k, ("questions",)))
        if "questions" not in doc:
            raise ParamsError(path, "", "missing key 'questions' (the list of resolutions)")
        doc, base = doc["questions"], ("questions",)
    if not isinstance(doc, list):
        raise ParamsError(path, ".".join(base), f"expected a list of resolutions, got {describe(doc)}")
    out: dict = {}
    for i, raw in enumerate(doc):
        res = _resolution(raw, path, base + (str(i),))
        if res.id in out:
            raise ParamsError(path, ".".join(base + (str(i), "id")), f"duplicate id {res.id!r}")
        out[res.id] = res
    return out


def _resolution(raw, file: str, p: tuple) -> Resolution:
    def err(key, msg):
        return ParamsError(file, ".".join(p + ((key,) if key else ())), msg)

    if not isinstance(raw, dict):
        raise err(None, f"expected a mapping with id and outcome, got {describe(raw)}")
    for k in raw:
        if k not in RESOLUTION_KEYS:
            raise err(str(k), f"unknown key {k!r}; expected one of {list(RESOLUTION_KEYS)}" + did_you_mean(k, RESOLUTION_KEYS))
    qid = raw.get("id")
    if not isinstance(qid, str) or not qid:
        raise err("id", f"expected a question id, got {describe(qid)}")

    def date(key):
        if raw.get(key) is None:
            return None
        return parse_date(raw[key], None, p + (key,), file=file)

    def number(key):
        v = raw.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            raise err(key, f"expected a number or null, got {describe(v)}")
        return float(v)

    qtype = raw.get("type", "numeric" if "value" in raw and "outcome" not in raw else "binary")
    if qtype not in ("binary", "numeric", "date"):
        raise err("type", f"expected binary or numeric, got {describe(qtype)}" + did_you_mean(qtype, ("binary", "numeric")))
    opened, closed, resolved_on = date("open_date"), date("close_date"), date("resolved_on")
    common = dict(resolved_on=resolved_on or closed, open_date=opened, close_date=closed, confidence=raw.get("confidence"))
    outcome = raw.get("outcome")
    if isinstance(outcome, str) and outcome in STATUSES:
        return Resolution(qid, qtype, outcome, **common)
    if qtype == "binary":
        if "value" in raw or "low" in raw or "high" in raw:
            raise err("value", "a binary question resolves with outcome: true or false, not a value")
        if outcome is None:
            return Resolution(qid, qtype, "unresolved", **common)
        if not isinstance(outcome, bool):
            raise err("outcome", f"expected true, false, annulled, ambiguous or null, got {describe(outcome)}" + (did_you_mean(outcome, STATUSES) if isinstance(outcome, str) else ""))
        return Resolution(qid, qtype, "resolved", outcome=outcome, **common)
    if outcome is not None:
        raise err("outcome", f"a {qtype} question resolves with value (and low / high), or outcome: annulled / ambiguous; got outcome {describe(outcome)}")
    value, low, high = number("value"), number("low"), number("high")
    if low is not None and high is not None and low > high:
        raise err("low", f"expected low <= high, got {low:g} > {high:g}")
    if value is None:
        return Resolution(qid, qtype, "unresolved", low=low, high=high, **common)
    return Resolution(qid, qtype, "resolved", value=value, low=low, high=high, **common)
