"""What the forecast ledger says in a report: what changed since the last run, and the published
track record beside the backtest.

A report's notebooks find the ledger in ``$SCENARIOS_LEDGER`` (the report sets it; its runs are
those recorded before this one).  Every function here returns rows for a table, or a sentence
saying why there is nothing to show.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..ledger import Ledger, changes, published_track_record, run_record
from ..ledger.publish import LEDGER_ENVIRONMENT, evidence_sha256, params_sha256
from .formatting import probability

__all__ = ["ledger_path", "ChangesView", "what_changed", "change_rows", "track_record_rows"]


def ledger_path() -> str | None:
    """The ledger a report's notebooks read (``$SCENARIOS_LEDGER``), or None when unset or not there."""
    path = os.environ.get(LEDGER_ENVIRONMENT, "").strip()
    return path if path and os.path.isfile(path) else None


@dataclass(frozen=True)
class ChangesView:
    """The change since the previous run, or why there is none (``reason``)."""

    changes: object = None
    previous: object = None
    reason: str = ""


def what_changed(run, view, evidence=None, resolutions=None) -> ChangesView:
    """Compare the forecasts of ``view`` (an :class:`~scenarios.notebook.inputs.AsOfView`, as of
    its date) with the latest run of the same model in the ledger as of the same date or earlier.

    A question counts as moved when its forecast moved by more than 3 combined Monte Carlo
    standard errors and at least 5 points (:func:`scenarios.ledger.changes`).
    """
    path = ledger_path()
    if path is None:
        return ChangesView(reason="No forecast ledger was given (a report keeps one next to its runs), so there is no "
                                  "earlier run to compare with.")
    forecast = view.forecast if view.forecast is not None else view.prior_forecast
    if forecast is None:
        return ChangesView(reason="The model has no questions, so no forecast can have changed.")
    current = run_record(forecast, params_sha256=params_sha256(run.model),
                         evidence_sha256=evidence_sha256(evidence, forecast.as_of),
                         evidence_items=[it.id for it in evidence.public_by(forecast.as_of)] if evidence is not None else [],
                         source="report")
    with Ledger(path, create=False) as ledger:
        earlier = [r for r in ledger.records(run.model.name) if r.as_of <= current.as_of and r.run_id != current.run_id]
    if not earlier:
        return ChangesView(reason=f"This is the first run of model {run.model.name!r} in the ledger as of "
                                  f"{current.as_of} or before, so there is nothing to compare with.")
    previous = earlier[-1]
    return ChangesView(changes(previous, current, resolutions=resolutions), previous)


def change_rows(view: ChangesView) -> list[dict]:
    """One row per change: moved questions (before, after, change, the noise threshold), then
    questions newly opened, closed or resolved, then the evidence that became public in between."""
    ch = view.changes
    rows = []
    for m in ch.moved:
        binary = m.type == "binary"
        show = probability if binary else (lambda x: f"{x:,.1f}")
        rows.append({"what": "moved", "question": m.question_id, "before": show(m.before), "after": show(m.after),
                     "change": f"{m.change:+.3f}" if binary else f"{m.change:+,.1f}",
                     "more than": f"{m.threshold:.3f}" if binary else f"{m.threshold:,.1f}"})
    for what, ids in (("newly opened", ch.newly_opened), ("no longer forecast", ch.dropped), ("resolved", ch.resolved),
                      ("new evidence", ch.evidence)):
        for i in ids:
            rows.append({"what": what, "question": i, "before": "", "after": "", "change": "", "more than": ""})
    return rows


def track_record_rows(model, resolutions: dict, backtest_rows=None) -> tuple[list[dict], str]:
    """The published track record of ``model`` (its runs in the ledger, scored against
    ``resolutions``) beside the backtest's time-averaged Brier of the same questions
    (``backtest_rows``: the backtest's binary rows), and a sentence: the overall comparison, the
    questions never forecast before they resolved, or why there is no record."""
    path = ledger_path()
    if path is None:
        return [], "No forecast ledger was given, so there is no published track record."
    with Ledger(path, create=False) as ledger:
        runs = ledger.records(model.name)
    if not runs:
        return [], f"The ledger has no run of model {model.name!r} yet, so nothing was published to score."
    record = published_track_record(runs, resolutions)
    backtest = _backtest_brier(backtest_rows or [])
    rows = []
    for s in record.questions:
        b = backtest.get(s.question_id)
        rows.append({"question": s.question_id, "outcome": "yes" if s.outcome else "no",
                     "published Brier": f"{s.brier:.3f}", "backtest Brier": "–" if b is None else f"{b:.3f}",
                     "forecasts": f"{s.n_forecasts:,}", "first as of": str(s.first_as_of), "days": f"{s.days:,}"})
    parts = []
    if record.brier is not None:
        both = [s for s in record.questions if s.question_id in backtest]
        parts.append(f"Published forecasts: mean time-averaged Brier {record.brier:.3f} over "
                     f"{len(record.questions)} resolved question(s).")
        if both:
            parts.append(f"Over the {len(both)} of them the backtest scored too: published "
                         f"{sum(s.brier for s in both) / len(both):.3f}, backtest "
                         f"{sum(backtest[s.question_id] for s in both) / len(both):.3f} (lower is better).")
    else:
        parts.append("No resolved question had a published forecast before it resolved.")
    if record.never_forecast:
        shown = ", ".join(record.never_forecast[:12]) + (" …" if len(record.never_forecast) > 12 else "")
        parts.append(f"{len(record.never_forecast)} resolved question(s) were never published before they resolved: {shown}.")
    return rows, " ".join(parts)


def _backtest_brier(rows) -> dict:
    """Question id -> the backtest's time-averaged Brier (forecasts weighted by the days they stood)."""
    sums: dict = {}
    for r in rows:
        brier, days = r.get("brier"), r.get("days") or 0
        if brier is None or not days:
            continue
        s = sums.setdefault(r["question"], [0.0, 0])
        s[0] += brier * days
        s[1] += days
    return {q: s[0] / s[1] for q, s in sums.items() if s[1]}
