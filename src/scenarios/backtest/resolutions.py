"""Resolutions files: what happened to each question, and when it became public."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from ..model.params import load_yaml_file
from ..model.schema import (
    Location,
    check_choice,
    check_date,
    check_keys,
    check_list,
    check_number,
    check_text,
    describe,
    did_you_mean,
)

RESOLUTION_KEYS = (
    "id", "question", "text", "type", "open_date", "close_date", "outcome", "value", "low", "high",
    "resolved_on", "resolution_note", "note", "confidence", "sources", "source", "unit",
)
STATUSES = ("annulled", "ambiguous", "unresolved")
QUESTION_TYPES = ("binary", "numeric", "date")


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
    at = Location(path)
    if isinstance(doc, dict):
        check_keys(doc, at, ("questions",), expected="only 'questions' in a resolutions file")
        if "questions" not in doc:
            raise at.error("missing key 'questions' (the list of resolutions)")
        doc, at = doc["questions"], at.key("questions")
    check_list(doc, at, what="a list of resolutions")
    out: dict = {}
    for i, raw in enumerate(doc):
        res = _resolution(raw, at.key(i))
        if res.id in out:
            raise at.key(i, "id").error(f"duplicate id {res.id!r}")
        out[res.id] = res
    return out


def _resolution(raw, at: Location) -> Resolution:
    check_keys(raw, at, RESOLUTION_KEYS, what="a mapping with id and outcome")
    qid = check_text(raw.get("id"), at.key("id"), what="a question id", nonempty=True)

    def date(key):
        return None if raw.get(key) is None else check_date(raw[key], at.key(key))

    def number(key):
        v = raw.get(key)
        return None if v is None else float(check_number(v, at.key(key), what="a number or null"))

    qtype = raw.get("type", "numeric" if "value" in raw and "outcome" not in raw else "binary")
    check_choice(qtype, at.key("type"), QUESTION_TYPES)
    opened, closed, resolved_on = date("open_date"), date("close_date"), date("resolved_on")
    common = dict(resolved_on=resolved_on or closed, open_date=opened, close_date=closed, confidence=raw.get("confidence"))
    outcome = raw.get("outcome")
    if isinstance(outcome, str) and outcome in STATUSES:
        return Resolution(qid, qtype, outcome, **common)
    if qtype == "binary":
        if "value" in raw or "low" in raw or "high" in raw:
            raise at.key("value").error("a binary question resolves with outcome: true or false, not a value")
        if outcome is None:
            return Resolution(qid, qtype, "unresolved", **common)
        if not isinstance(outcome, bool):
            raise at.key("outcome").error(f"expected true, false, annulled, ambiguous or null, got {describe(outcome)}" + did_you_mean(outcome, STATUSES))
        return Resolution(qid, qtype, "resolved", outcome=outcome, **common)
    if outcome is not None:
        raise at.key("outcome").error(f"a {qtype} question resolves with value (and low / high), or outcome: annulled / ambiguous; got outcome {describe(outcome)}")
    value, low, high = number("value"), number("low"), number("high")
    if low is not None and high is not None and low > high:
        raise at.key("low").error(f"expected low <= high, got {low:g} > {high:g}")
    if value is None:
        return Resolution(qid, qtype, "unresolved", low=low, high=high, **common)
    return Resolution(qid, qtype, "resolved", value=value, low=low, high=high, **common)
