"""What changed since the last report: forecasts that moved by more than their noise, questions
opened, dropped or resolved, and the evidence that became public in between.

A binary forecast *moved* when the probability changed by more than both ``min_points`` (5
points by default) and ``mcse_multiple`` (3) times the combined Monte Carlo standard error
``sqrt(mcse_before^2 + mcse_after^2)``: a move the size of the simulation's noise is not news.

A numeric or date forecast moved when its mean changed by more than ``mcse_multiple`` times the
combined MCSE of the two means (no minimum: there is no common scale of points for quantities;
a date question's means are compared as dates, so two runs with different as-of dates compare
correctly).  The median would be the more robust figure, but the ledger keeps no standard
error for it, and a move with no noise test would flag every re-run.

The combined MCSE treats the two runs as independent; runs that share a seed share random
numbers, so the true noise of their difference is smaller and the test errs on the side of
calling a move noise.  A forecast undefined (or with an undefined MCSE) in either run is not
tested.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .records import QuestionRecord, RunRecord

if TYPE_CHECKING:  # only for annotations: importing the backtest loads numpy and the engine
    from ..backtest.resolutions import Resolution

__all__ = ["Move", "Changes", "changes", "MIN_POINTS", "MCSE_MULTIPLE"]

MIN_POINTS = 0.05
"""Smallest move of a probability reported (5 percentage points)."""

MCSE_MULTIPLE = 3.0
"""A move must exceed this many combined Monte Carlo standard errors."""


@dataclass(frozen=True)
class Move:
    """One question's forecast that moved between two runs.

    Attributes
    ----------
    question_id, type, text : str
    before, after : float
        Binary: probabilities.  Numeric: means.  Date: means as days after the *current* run's
        as-of date.
    threshold : float
        The size a move had to exceed, in the units of ``before``.
    """

    question_id: str
    type: str
    text: str
    before: float
    after: float
    threshold: float

    @property
    def change(self) -> float:
        """``after - before``."""
        return self.after - self.before


@dataclass(frozen=True)
class Changes:
    """What changed between two runs of a model.

    Attributes
    ----------
    previous_run_id : str or None
        None: there was no previous run (every question is newly opened).
    current_run_id : str
    moved : list of Move
        In the current run's question order.
    newly_opened : list of str
        Questions forecast now but not in the previous run.
    dropped : list of str
        Questions forecast in the previous run but not now (closed or resolved since).
    resolved : list of str
        Questions whose outcome became public after the previous as-of date and on or before the
        current one (from ``resolutions``).
    evidence : list of str
        Evidence items public by the current as-of date that were not by the previous one.
    """

    previous_run_id: str | None
    current_run_id: str
    moved: list[Move]
    newly_opened: list[str]
    dropped: list[str]
    resolved: list[str]
    evidence: list[str]


def changes(previous_run: RunRecord | None, current_run: RunRecord, *, evidence_items: Iterable[str] | None = None,
            resolutions: dict[str, Resolution] | None = None, min_points: float = MIN_POINTS,
            mcse_multiple: float = MCSE_MULTIPLE) -> Changes:
    """Compare a run with the previous run of its model (:meth:`scenarios.ledger.Ledger.previous_run`).

    Parameters
    ----------
    previous_run : RunRecord or None
    current_run : RunRecord
    evidence_items : iterable of str, optional
        Ids of the evidence items public by the current as-of date (default: the current run's
        ``evidence_items``); those not public by the previous run are reported.
    resolutions : dict, optional
        Question id -> :class:`~scenarios.backtest.resolutions.Resolution`, for ``resolved``.
    min_points : float
        Smallest move of a probability reported, in [0, 1].
    mcse_multiple : float
        A move must exceed this many combined MCSE.

    Returns
    -------
    Changes

    Raises
    ------
    ValueError
        ``min_points`` outside [0, 1] or ``mcse_multiple`` negative.

    Examples
    --------
    0.40 -> 0.47 with MCSE 0.01 each: threshold max(0.05, 3 x 0.01414) = 0.05, a move.
    0.40 -> 0.44: not a move.
    """
    if not 0.0 <= min_points <= 1.0:
        raise ValueError(f"min_points: expected a probability change in [0, 1], got {min_points!r}")
    if not mcse_multiple >= 0.0:
        raise ValueError(f"mcse_multiple: expected a number >= 0, got {mcse_multiple!r}")
    before = previous_run.by_id() if previous_run is not None else {}
    now = current_run.by_id()
    moved = []
    for q in current_run.questions:
        old = before.get(q.id)
        if old is None or old.type != q.type:
            continue
        move = _move(old, q, previous_run.as_of, current_run.as_of, min_points, mcse_multiple)
        if move is not None:
            moved.append(move)
    items = current_run.evidence_items if evidence_items is None else list(evidence_items)
    known = set(previous_run.evidence_items) if previous_run is not None else set()
    return Changes(
        previous_run_id=previous_run.run_id if previous_run is not None else None,
        current_run_id=current_run.run_id,
        moved=moved,
        newly_opened=[q.id for q in current_run.questions if q.id not in before],
        dropped=[q.id for q in previous_run.questions if q.id not in now] if previous_run is not None else [],
        resolved=_resolved_between(resolutions or {}, previous_run.as_of if previous_run else None, current_run.as_of),
        evidence=[i for i in items if i not in known],
    )


def _move(old: QuestionRecord, new: QuestionRecord, old_as_of: _dt.date, new_as_of: _dt.date,
          min_points: float, mcse_multiple: float) -> Move | None:
    """The move of one question's forecast if it passes the noise test, else None."""
    if old.type == "binary":
        a, b, floor = old.probability, new.probability, min_points
    else:
        a, b, floor = old.mean, new.mean, 0.0
        if old.type == "date" and _finite(a):
            a -= (new_as_of - old_as_of).days  # the same date, in days after the current as-of
    if not (_finite(a) and _finite(b) and _finite(old.mcse) and _finite(new.mcse)):
        return None
    threshold = max(floor, mcse_multiple * math.hypot(old.mcse, new.mcse))
    if abs(b - a) <= threshold:
        return None
    return Move(new.id, new.type, new.text, float(a), float(b), float(threshold))


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def _resolved_between(resolutions: dict, start: _dt.date | None, end: _dt.date) -> list[str]:
    """Ids whose outcome became public in (start, end] (start None: on or before end)."""
    out = []
    for qid in sorted(resolutions):
        res = resolutions[qid]
        day = res.resolved_on
        if res.status == "resolved" and day is not None and day <= end and (start is None or day > start):
            out.append(qid)
    return out
