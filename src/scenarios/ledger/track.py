"""The published track record: the ledger's own binary forecasts scored once outcomes are known.

What is scored is what was published, not what a backtest would have said: for each resolved
binary question, the forecast of the run published as of date D stands from D until the next
published forecast's as-of date, or the question's end, whichever comes first, and every day
counts the same (the time-averaged Brier score of :mod:`scenarios.backtest.run`, with the
ledger's runs in place of the backtest's as-of dates).

A question's end is the first day it no longer counts: the day its outcome became public
(``resolved_on``) or the day after its close, whichever is earlier; the close is the
resolution's ``close_date``, else the last close the ledger recorded for the question.  A
forecast published on or after that day is not scored (it knew the answer, or the question was
closed).  Of several runs with the same as-of date, the one recorded last stands.

A resolved question that no run published a forecast of before its end is listed as *never
forecast*: a track record that left it out would look better than the forecasting was.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import UsageError
from .records import RunRecord, utc_time

if TYPE_CHECKING:  # only for annotations: importing the backtest loads numpy and the engine
    from ..backtest.resolutions import Resolution

__all__ = ["PublishedScore", "TrackRecord", "published_track_record", "question_end"]


@dataclass(frozen=True)
class PublishedScore:
    """One resolved binary question's published track record.

    Attributes
    ----------
    question_id : str
    outcome : bool
    brier : float
        Time-averaged Brier score of the published forecasts, on the 0-1 scale (0 is perfect).
    first_as_of : datetime.date
        As-of date of the first published forecast.
    n_forecasts : int
        Published forecasts scored (one per as-of date).
    days : int
        Days the published forecasts cover, from ``first_as_of`` to ``end``.
    end : datetime.date
        The first day not counted (see :func:`question_end`).
    """

    question_id: str
    outcome: bool
    brier: float
    first_as_of: _dt.date
    n_forecasts: int
    days: int
    end: _dt.date


@dataclass(frozen=True)
class TrackRecord:
    """The published track record of one model.

    Attributes
    ----------
    model : str or None
        The model whose runs were scored (None: no runs).
    questions : list of PublishedScore
        By question id.
    brier : float or None
        Mean over ``questions`` of their time-averaged Brier scores (None: no question scored).
    never_forecast : list of str
        Resolved binary questions with no published forecast before their end.
    undated : list of str
        Resolved binary questions whose end is unknown (no ``resolved_on`` and no close date):
        neither scored nor counted as never forecast.
    """

    model: str | None
    questions: list[PublishedScore]
    brier: float | None
    never_forecast: list[str]
    undated: list[str]


def question_end(resolution: Resolution, close: _dt.date | None = None) -> _dt.date | None:
    """The first day a question no longer counts: ``resolved_on`` or the day after its close.

    Parameters
    ----------
    resolution : Resolution
    close : datetime.date, optional
        The close date to use when the resolution has none (e.g. the ledger's).

    Returns
    -------
    datetime.date or None
        The earlier of the two; None when neither is known.
    """
    close = resolution.close_date or close
    ends = [d for d in (resolution.resolved_on, close + _dt.timedelta(days=1) if close else None) if d is not None]
    return min(ends) if ends else None


def published_track_record(runs: Sequence[RunRecord], resolutions: dict[str, Resolution], *,
                           questions: Iterable[str] | None = None) -> TrackRecord:
    """Score the published binary forecasts of one model's runs against the outcomes.

    Parameters
    ----------
    runs : sequence of RunRecord
        Runs of one model, in any order (e.g. :meth:`scenarios.ledger.Ledger.records`).
    resolutions : dict
        Question id -> :class:`~scenarios.backtest.resolutions.Resolution`
        (:func:`~scenarios.backtest.resolutions.load_resolutions`); resolved binary ones are scored.
    questions : iterable of str, optional
        Only these question ids (e.g. the model's questions; default: every id in ``resolutions``).

    Returns
    -------
    TrackRecord

    Raises
    ------
    UsageError
        ``runs`` are of more than one model.

    Examples
    --------
    A question that resolved yes on 2024-01-31, published at 0.6 on 2024-01-01 (20 days) and at
    0.9 on 2024-01-21 (10 days): Brier (20 x 0.16 + 10 x 0.01) / 30 = 0.11.
    """
    models = sorted({r.model for r in runs})
    if len(models) > 1:
        raise UsageError(f"a track record is of one model's runs; got runs of {', '.join(models)}")
    wanted = None if questions is None else set(questions)
    paths, closes = _published(runs)
    scored, never, undated = [], [], []
    for qid in sorted(resolutions):
        res = resolutions[qid]
        if res.type != "binary" or res.status != "resolved" or (wanted is not None and qid not in wanted):
            continue
        end = question_end(res, closes.get(qid))
        if end is None:
            undated.append(qid)
            continue
        path = [(d, p) for d, p in paths.get(qid, []) if d < end]
        if not path:
            never.append(qid)
            continue
        scored.append(_score(qid, bool(res.outcome), path, end))
    brier = sum(s.brier for s in scored) / len(scored) if scored else None
    return TrackRecord(models[0] if models else None, scored, brier, never, undated)


def _published(runs: Sequence[RunRecord]) -> tuple[dict, dict]:
    """Per binary question, its defined published forecasts ``[(as_of, p), ...]`` by date (the
    last recorded of each date), and the last close date the runs give it."""
    by_date: dict = {}
    closes: dict = {}
    for run in sorted(runs, key=lambda r: (r.as_of, utc_time(r.created))):
        for q in run.questions:
            if q.close is not None:
                closes[q.id] = q.close
            p = q.probability
            if q.type == "binary" and p is not None and not math.isnan(p):
                by_date.setdefault(q.id, {})[run.as_of] = float(p)  # later recorded overwrites
    return {qid: sorted(dates.items()) for qid, dates in by_date.items()}, closes


def _score(qid: str, outcome: bool, path: list, end: _dt.date) -> PublishedScore:
    """Time-averaged Brier of ``path`` (``[(as_of, p), ...]``, dates ascending, all before ``end``)."""
    from ..scoring.scores import brier_score  # numpy: only when something is scored

    days = [((nxt if nxt is not None else end) - d).days
            for (d, _), nxt in zip(path, [d for d, _ in path[1:]] + [None])]
    briers = brier_score([p for _, p in path], [int(outcome)] * len(path))
    covered = sum(days)  # > 0: every date is before the next one and before the end
    brier = float(sum(n * b for n, b in zip(days, briers)) / covered)
    return PublishedScore(qid, outcome, brier, path[0][0], len(path), covered, end)
