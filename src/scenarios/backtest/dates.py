"""As-of dates: monthly dates, date lists, and the open life of a question."""

from __future__ import annotations

import calendar
import datetime as _dt

from ..engine.evidence import Evidence
from ..errors import UsageError
from ..model.scenario import Model
from .resolutions import Resolution


def _add_months(d: _dt.date, k: int) -> _dt.date:
    y, m = divmod(d.month - 1 + k, 12)
    year, month = d.year + y, m + 1
    return _dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def monthly_dates(start: _dt.date, end: _dt.date) -> list:
    """``start``, one month later, ... up to ``end`` (same day of the month, or its last day)."""
    if end < start:
        raise UsageError(f"--monthly: expected FROM <= TO, got {start} > {end}")
    out, k = [], 0
    while True:
        try:
            d = _add_months(start, k)
        except ValueError:  # past 9999-12-31: there is no later date
            break
        if d > end:
            break
        out.append(d)
        k += 1
    return out


def parse_dates(text: str, what: str) -> list:
    out = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(_dt.date.fromisoformat(part))
        except ValueError:
            raise UsageError(f"{what}: expected dates as YYYY-MM-DD, got {part!r}") from None
    if not out:
        raise UsageError(f"{what}: expected at least one date")
    return sorted(set(out))


def question_life(model: Model, q, res: Resolution | None) -> tuple:
    """(first day, end day exclusive) of a question's open life."""
    start = max(q.open or model.as_of, model.as_of)
    ends = []
    if q.close is not None:
        ends.append(q.close + _dt.timedelta(days=1))
    if res is not None and res.resolved_on is not None:
        ends.append(res.resolved_on)
    end = min(ends) if ends else model.as_of + _dt.timedelta(days=model.horizon_days + 1)
    return start, end


def default_as_of_dates(model: Model, questions: list, resolutions: dict, evidence: Evidence) -> list:
    """Every scored question's open date and every evidence date, within the questions' lives."""
    lives = [question_life(model, q, resolutions.get(q.id)) for q in questions if q.id in resolutions]
    if not lives:
        return [model.as_of]
    last = max(end for _, end in lives)
    dates = {start for start, _ in lives} | {d for d in evidence.dates() if d < last}
    return sorted(d for d in dates if d >= model.as_of)


def backtest_dates(model: Model, questions: list, resolutions: dict, evidence: Evidence, *, as_of_dates=None,
                   until: str = "") -> list:
    """The as-of dates of a backtest: ``as_of_dates`` (default :func:`default_as_of_dates`), up to
    ``until`` (YYYY-MM-DD; "" keeps all), or the model's ``as_of`` when none is left."""
    dates = as_of_dates or default_as_of_dates(model, questions, resolutions, evidence)
    if until:
        last = parse_dates(until, "until")[0]
        dates = [d for d in dates if d <= last] or [model.as_of]
    return dates
