"""The ledger as text: a question's history as CSV, the list of runs as a table.

Numbers are written in plain decimal, never in scientific notation (``12940.0``, not
``1.294e+04``), with every digit Python needs to read back the same float; a missing number is an
empty cell, never ``None``.  A date question's mean and quantiles, kept as days after the run's
as-of date, are written as the dates they stand for (``never`` for a date no world reaches); its
MCSE stays in days.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
from decimal import Decimal

__all__ = ["plain_number", "history_csv", "runs_table", "HISTORY_COLUMNS"]

HISTORY_COLUMNS = ("question_id", "run_id", "created", "as_of", "model", "source", "seed", "samples", "type",
                   "probability", "mcse", "ess", "mean")
"""Columns of :func:`history_csv`, followed by one column per quantile level (``q05``, ``q50``, ...)."""


def plain_number(x) -> str:
    """A number as CSV text: plain decimal, shortest round trip; ``""`` for None and NaN.

    >>> plain_number(12940.0), plain_number(1e-7), plain_number(None), plain_number(3)
    ('12940.0', '0.0000001', '', '3')
    """
    if x is None:
        return ""
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    x = float(x)
    if math.isnan(x):
        return ""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return format(Decimal(repr(x)), "f")


def _day(as_of: _dt.date, days) -> str:
    """A date question's value (days after ``as_of``) as the date it stands for.

    The same rounding as :class:`scenarios.engine.forecast.QuestionForecast`: a value in day k
    (k - 1 < days <= k) is the k-th day after ``as_of``.
    """
    if days is None or math.isnan(days):
        return ""
    if math.isinf(days):
        return "never" if days > 0 else ""
    return (as_of + _dt.timedelta(days=math.ceil(days - 1e-9))).isoformat()


def _level_column(level: str) -> str:
    """``"0.05"`` -> ``q05``, ``"0.5"`` -> ``q50``, ``"0.025"`` -> ``q2.5``."""
    return "q" + format(float(level) * 100, "02g")


def history_csv(rows: list[dict]) -> str:
    """CSV text of a question's history (rows of :meth:`scenarios.ledger.Ledger.history`).

    Parameters
    ----------
    rows : list of dict

    Returns
    -------
    str
        A header of :data:`HISTORY_COLUMNS` and the quantile columns met in ``rows`` (by level),
        then one line per row.
    """
    levels = sorted({level for r in rows for level in (r.get("quantiles") or {})}, key=float)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*HISTORY_COLUMNS, *(_level_column(level) for level in levels)])
    for r in rows:
        quantiles = r.get("quantiles") or {}
        if r["type"] == "date":
            mean = _day(r["as_of"], r["mean"])
            qs = [_day(r["as_of"], quantiles.get(level)) for level in levels]
        else:
            mean = plain_number(r["mean"])
            qs = [plain_number(quantiles.get(level)) for level in levels]
        writer.writerow([
            r["question_id"], r["run_id"], r["created"], r["as_of"].isoformat(), r["model"], r["source"],
            plain_number(r["seed"]), plain_number(r["samples"]), r["type"], plain_number(r["probability"]),
            plain_number(r["mcse"]), plain_number(r["ess"]), mean, *qs,
        ])
    return buf.getvalue()


def runs_table(runs: list[dict]) -> str:
    """A text table of runs (rows of :meth:`scenarios.ledger.Ledger.runs`), one line each.

    Returns
    -------
    str
        ``no runs`` and a newline when ``runs`` is empty.
    """
    if not runs:
        return "no runs\n"
    header = ("run id", "recorded (UTC)", "as of", "model", "source", "seed", "worlds", "questions", "label")
    lines = [
        (r["run_id"], r["created"][:19].replace("T", " "), r["as_of"].isoformat(), r["model"], r["source"],
         str(r["seed"]), f"{r['samples']:,}", str(r["n_questions"]), r["label"])
        for r in runs
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    right = {5, 6, 7}  # numbers
    out = []
    for row in [header, tuple("-" * w for w in widths), *lines]:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"
