"""Resolutions files: what happened to each question, and when it became public."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field

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

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

RESOLUTION_KEYS = (
    "id", "question", "text", "type", "open_date", "close_date", "outcome", "value", "low", "high",
    "resolved_on", "resolution_note", "note", "confidence", "sources", "source", "unit",
)
STATUSES = ("annulled", "ambiguous", "unresolved")
QUESTION_TYPES = ("binary", "numeric", "date")
NEVER = "never"
"""A date question's outcome when the event did not happen by the question's close."""


@dataclass(frozen=True)
class Resolution:
    """What happened to one question.

    status is ``resolved``, ``annulled``, ``ambiguous`` or ``unresolved``; a resolved binary
    question has ``outcome``, a resolved numeric one ``value`` (and the stated ``low``/``high``),
    a resolved date question ``date`` (the day the event happened) or ``never`` (it did not
    happen by the question's close).  ``resolved_on`` is when the outcome became public;
    ``where`` is the entry's place in its file, for errors found later against the question.
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
    date: _dt.date | None = None
    never: bool = False
    where: Location | None = field(default=None, compare=False, repr=False)


def load_resolutions(path: str) -> dict:
    """Read and validate a resolutions file: ``{questions: [...]}`` (or a bare list).

    Each entry has ``id`` and either ``outcome`` (true, false, annulled, ambiguous or null for
    unresolved) or, for numeric questions, ``value`` with optional ``low``/``high``, or, for date
    questions, ``value: YYYY-MM-DD`` (the day the event happened) or ``outcome: never`` (it did
    not happen by the question's close); plus ``resolved_on`` (the date the outcome became
    public; default the event's date for a dated resolution, else the close date).

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

    outcome = raw.get("outcome")
    qtype = raw.get("type", _implied_type(raw))
    check_choice(qtype, at.key("type"), QUESTION_TYPES)
    opened, closed, resolved_on = date("open_date"), date("close_date"), date("resolved_on")
    common = dict(resolved_on=resolved_on or closed, open_date=opened, close_date=closed, confidence=raw.get("confidence"),
                  where=at)
    if isinstance(outcome, str) and outcome in STATUSES:
        return Resolution(qid, qtype, outcome, **common)
    if qtype == "date":
        return _date_resolution(raw, at, qid, common)
    if outcome == NEVER:
        raise at.key("outcome").error(f"outcome: never is for date questions (type: date); a {qtype} question resolves with "
                                      + ("outcome: true or false" if qtype == "binary" else "value (and low / high)"))
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


def _implied_type(raw: dict) -> str:
    """The type an entry without ``type:`` has: date for a date value or outcome: never,
    numeric for another value, else binary."""
    value = raw.get("value")
    if raw.get("outcome") == NEVER or isinstance(value, _dt.date) or (isinstance(value, str) and _DATE.match(value.strip())):
        return "date"
    return "numeric" if "value" in raw and "outcome" not in raw else "binary"


def _date_resolution(raw: dict, at: Location, qid: str, common: dict) -> Resolution:
    """A date question's resolution: ``value: YYYY-MM-DD``, ``outcome: never`` or null."""
    outcome, value = raw.get("outcome"), raw.get("value")
    expected = "value: YYYY-MM-DD (the day the event happened) or outcome: never (it did not happen by the question's close)"
    for key in ("low", "high"):
        if key in raw:
            raise at.key(key).error(f"a date question resolves with {expected}; {key} is for numeric questions")
    if outcome == NEVER:
        if value is not None:
            raise at.key("value").error(f"expected either value (the day the event happened) or outcome: never, not both; got value {describe(value)}")
        return Resolution(qid, "date", "resolved", never=True, **common)
    if outcome is not None:
        raise at.key("outcome").error(f"a date question resolves with {expected}, or outcome: annulled, ambiguous or null; "
                                      f"got outcome {describe(outcome)}" + (did_you_mean(outcome, (NEVER, *STATUSES)) if isinstance(outcome, str) else ""))
    if value is None:
        return Resolution(qid, "date", "unresolved", **common)
    if isinstance(value, bool) or not isinstance(value, (_dt.date, str)):
        raise at.key("value").error(f"a date question resolves with {expected}; got {describe(value)}")
    day = check_date(value, at.key("value"))
    closed = common["close_date"]
    if closed is not None and day > closed:
        raise at.key("value").error(f"the event's date {day} is after close_date {closed}: the question did not resolve by its close, "
                                    "so its outcome is never (write outcome: never and keep the date in resolution_note)")
    if raw.get("resolved_on") is None:  # public when it happened, unless resolved_on says later
        return Resolution(qid, "date", "resolved", date=day, **{**common, "resolved_on": day})
    if common["resolved_on"] < day:
        raise at.key("resolved_on").error(f"expected a date on or after the event's date {day} (an outcome is not public "
                                          f"before it happens), got {common['resolved_on']}")
    return Resolution(qid, "date", "resolved", date=day, **common)
