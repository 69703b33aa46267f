"""Recalibration from the track record: a map at each as-of date learned only from what was public.

At as-of date D the map (:func:`scenarios.scoring.recalibration.fit_recalibration`) is fitted on
the questions whose outcome was public before D (``resolved_on < D``; with no ``resolved_on``,
the day after the question's close), one point per question: the model's own forecast of it at
its first as-of date (its open date, with the default dates), and its outcome.  Every forecast
made at D is then mapped with it.  Nothing resolved on or after D, and no forecast made after
the question's resolution, enters the map at D.

Why one point per question, at open: the outcome is the unit of independent evidence (the
successive forecasts of one question share its outcome and move together, so counting each as an
observation would overstate the evidence against the prior); the forecast at open is the one
made knowing least about the outcome and the one scored by the Brier score at open; and it does
not depend on which later as-of dates the backtest happens to use.
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np

from ..scoring.recalibration import (
    DEFAULT_MIN_OUTCOMES,
    DEFAULT_PRIOR_SD,
    fit_recalibration,
    recalibrate,
)
from ..scoring.scores import brier_score, log_score

__all__ = ["RECALIBRATED_COLUMNS", "known_on", "track_record", "maps_by_date", "add_recalibrated", "map_table"]

RECALIBRATED_COLUMNS = ("forecast_recalibrated", "brier_recalibrated", "log_score_recalibrated")


def known_on(q, res) -> _dt.date | None:
    """The day a question's outcome was public: ``resolved_on``, else the day after its close."""
    if res is None or res.status != "resolved":
        return None
    if res.resolved_on is not None:
        return res.resolved_on
    return q.close + _dt.timedelta(days=1) if q.close is not None else None


def track_record(rows: list, questions: dict, resolutions: dict) -> list:
    """One ``(known_on, forecast at open, outcome, question id)`` per resolved binary question.

    ``rows`` are the backtest's binary rows (dicts with ``question``, ``as_of``, ``forecast``,
    ``outcome``); a question's first row with a defined forecast is its forecast at open.
    """
    first: dict = {}
    for r in sorted(rows, key=lambda r: r["as_of"]):
        p = r["forecast"]
        if r["question"] not in first and p is not None and math.isfinite(p):
            first[r["question"]] = r
    out = []
    for qid, r in first.items():
        day = known_on(questions[qid], resolutions.get(qid))
        if day is not None:
            out.append((day, float(r["forecast"]), int(r["outcome"]), qid))
    return sorted(out, key=lambda t: (t[0], t[3]))


def maps_by_date(dates, record: list, *, prior_sd: float = DEFAULT_PRIOR_SD,
                 min_outcomes: int = DEFAULT_MIN_OUTCOMES) -> dict:
    """The map at each date D, fitted on the record entries known strictly before D.

    Parameters
    ----------
    dates : iterable of datetime.date
    record : list
        From :func:`track_record`.
    prior_sd, min_outcomes
        See :func:`~scenarios.scoring.recalibration.fit_recalibration`.

    Returns
    -------
    dict
        date -> :class:`RecalibrationMap`.
    """
    out, fitted = {}, {}
    for d in sorted(set(dates)):
        used = tuple(t for t in record if t[0] < d)
        key = tuple(t[3] for t in used)
        if key not in fitted:  # the same questions known: the same map
            fitted[key] = fit_recalibration(
                [t[1] for t in used], [t[2] for t in used], prior_sd=prior_sd, min_outcomes=min_outcomes)
        out[d] = fitted[key]
    return out


def add_recalibrated(rows: list, maps: dict) -> None:
    """Give each row ``forecast_recalibrated`` (its date's map applied) and its Brier and log scores."""
    for r in rows:
        r.update(forecast_recalibrated=None, brier_recalibrated=None, log_score_recalibrated=None)
    defined = [r for r in rows if r["forecast"] is not None and math.isfinite(r["forecast"])]
    by_date: dict = {}
    for r in defined:
        by_date.setdefault(r["as_of"], []).append(r)
    for d, rs in by_date.items():
        q = recalibrate([r["forecast"] for r in rs], maps[d])
        o = np.array([r["outcome"] for r in rs], dtype=float)
        for r, p, b, ls in zip(rs, q, brier_score(q, o), log_score(q, o), strict=True):
            r.update(forecast_recalibrated=float(p), brier_recalibrated=float(b), log_score_recalibrated=float(ls))


def map_table(maps: dict, record: list) -> dict:
    """``{date: {intercept, slope, their standard errors, questions known, questions fitted}}``."""
    return {
        str(d): {"intercept": m.intercept, "slope": m.slope, "intercept_se": m.intercept_se,
                 "slope_se": m.slope_se, "n_known": sum(1 for t in record if t[0] < d), "n_fitted": m.n}
        for d, m in sorted(maps.items())
    }
