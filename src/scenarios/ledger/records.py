"""What the ledger keeps of one published run: plain records, their checks and their identity.

A :class:`RunRecord` is what a ``report`` (or ``forecast --record``) published: the model, the
SHA-256 of its params and of the evidence public by the as-of date, the seed and worlds, and
per question a :class:`QuestionRecord` (probability or mean and quantiles, MCSE and ESS).

A run's id is a hash of its content, everything but the time it was recorded and its label
(:func:`run_id`): recording the same published run twice is recognised and adds nothing.

Numbers that are not a number (an undefined forecast) are kept as ``None``; ``inf`` is kept (a
date question's "never").  A date question's ``mean`` and ``quantiles`` are days after the
run's ``as_of``, as :class:`scenarios.engine.forecast.QuestionForecast` gives them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: importing the engine loads numpy
    from ..engine.forecast import Forecast

__all__ = [
    "QuestionRecord", "RunRecord", "run_record", "run_id", "check_run", "question_content", "utc_now", "utc_time",
    "SOURCES", "QUESTION_TYPES",
]

SOURCES = ("report", "forecast")
"""The commands that record runs: ``scenarios report`` and ``scenarios forecast --record``."""

QUESTION_TYPES = ("binary", "numeric", "date")

RUN_ID_CHARS = 20
"""Hex characters of the SHA-256 kept as a run id (80 bits: no collision in any real ledger)."""


@dataclass(frozen=True)
class QuestionRecord:
    """One question's published forecast.

    Parameters
    ----------
    id, type, text : str
        ``type`` is ``binary``, ``numeric`` or ``date``.
    probability : float or None
        Binary: the forecast probability, in [0, 1]; None when undefined.
    mcse : float or None
        Monte Carlo standard error: of the probability (binary), of the mean (numeric; date: days).
    ess : float or None
        Effective sample size (worlds) behind the forecast.
    mean : float or None
        Numeric and date: the mean (date: days after the run's as-of date; ``inf``: never).
    quantiles : dict or None
        Numeric and date: level (a string such as ``"0.05"``) -> value, in the units of ``mean``.
    open, close : datetime.date or None
        The question's open and close dates, where it has them.
    """

    id: str
    type: str
    text: str = ""
    probability: float | None = None
    mcse: float | None = None
    ess: float | None = None
    mean: float | None = None
    quantiles: dict[str, float] | None = None
    open: _dt.date | None = None
    close: _dt.date | None = None


@dataclass(frozen=True)
class RunRecord:
    """One published run: what made it and every question's forecast.

    Parameters
    ----------
    model : str
        The model's name.
    params_sha256 : str
        SHA-256 (hex) of the params files that made the run.
    evidence_sha256 : str or None
        SHA-256 (hex) of the evidence items public by ``as_of`` (None: no evidence file).
    as_of : datetime.date
    seed, samples : int
        The random seed and the number of worlds simulated.
    source : str
        ``report`` or ``forecast`` (:data:`SOURCES`).
    created : str
        When it was recorded: ISO-8601 time with a time zone; the ledger keeps it in UTC.
    questions : list of QuestionRecord
    evidence_items : list of str
        Ids of the evidence items public by ``as_of``.
    label : str
        Free text shown in listings (not part of the run's identity).
    """

    model: str
    params_sha256: str
    evidence_sha256: str | None
    as_of: _dt.date
    seed: int
    samples: int
    source: str
    created: str
    questions: list[QuestionRecord] = field(default_factory=list)
    evidence_items: list[str] = field(default_factory=list)
    label: str = ""

    @property
    def run_id(self) -> str:
        """The run's id: see :func:`run_id`."""
        return run_id(self)

    def by_id(self) -> dict[str, QuestionRecord]:
        """Question id -> its record."""
        return {q.id: q for q in self.questions}


def utc_now() -> str:
    """The time now in UTC, ISO-8601 with microseconds, e.g. ``2024-03-01T12:00:00.000000+00:00``."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def utc_time(created: str) -> str:
    """``created`` (ISO-8601 with a time zone) in UTC, in the one form the ledger sorts by.

    Raises
    ------
    ValueError
        Not an ISO-8601 time, or no time zone.
    """
    try:
        moment = _dt.datetime.fromisoformat(created)
    except (TypeError, ValueError):
        raise ValueError(f"created: expected an ISO-8601 time with a time zone, got {created!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"created: expected a time zone (e.g. +00:00), got {created!r}")
    return moment.astimezone(_dt.UTC).isoformat(timespec="microseconds")


def _number(x) -> float | None:
    """A float, or None for None and NaN (``inf`` is kept)."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _level(q) -> str:
    """A quantile level as the ledger keys it: ``0.05`` -> ``"0.05"``."""
    return f"{float(q):g}"


def run_record(forecast: Forecast, *, params_sha256: str, evidence_sha256: str | None, evidence_items,
               source: str, created: str | None = None, label: str = "") -> RunRecord:
    """The :class:`RunRecord` of an engine :class:`~scenarios.engine.forecast.Forecast`.

    Binary questions keep the probability, its standard error (the MCSE) and ``n_eff`` (the
    ESS); numeric and date questions the mean, its standard error and the quantiles, keyed by
    level as strings (``"0.05"``).

    Parameters
    ----------
    forecast : Forecast
    params_sha256, evidence_sha256 : str
        See :class:`RunRecord`.
    evidence_items : iterable of str
        Ids of the evidence items public by the forecast's as-of date.
    source : str
        ``report`` or ``forecast``.
    created : str, optional
        ISO-8601 time with a time zone (default: now, UTC).
    label : str
    """
    questions = []
    for q in forecast.questions:
        quantiles = None
        if q.type != "binary" and q.quantiles is not None:
            quantiles = {_level(level): _number(v) for level, v in q.quantiles.items()}
        questions.append(QuestionRecord(
            id=q.id, type=q.type, text=q.text or "",
            probability=_number(q.probability) if q.type == "binary" else None,
            mcse=_number(q.stderr), ess=_number(q.n_eff),
            mean=_number(q.mean) if q.type != "binary" else None,
            quantiles=quantiles, open=q.open, close=q.close,
        ))
    return RunRecord(
        model=forecast.model, params_sha256=params_sha256, evidence_sha256=evidence_sha256,
        as_of=forecast.as_of, seed=int(forecast.seed), samples=int(forecast.samples), source=source,
        created=created or utc_now(), questions=questions, evidence_items=[str(i) for i in evidence_items],
        label=label,
    )


def question_content(q: QuestionRecord) -> dict:
    """A question record as plain JSON-able values (dates as ISO text)."""
    return {
        "id": q.id, "type": q.type, "text": q.text, "probability": _number(q.probability),
        "mcse": _number(q.mcse), "ess": _number(q.ess), "mean": _number(q.mean),
        "quantiles": None if q.quantiles is None else {k: _number(v) for k, v in q.quantiles.items()},
        "open": q.open.isoformat() if q.open else None, "close": q.close.isoformat() if q.close else None,
    }


def run_id(run: RunRecord) -> str:
    """The id of a run: the first :data:`RUN_ID_CHARS` hex characters of the SHA-256 of its content.

    The content is everything that was published: model, params and evidence SHA-256, as-of
    date, seed, worlds, source, evidence item ids and every question's record, in order.  The
    time it was recorded (``created``) and its ``label`` are left out, so an identical run
    recorded again has the same id.  Floats enter by their shortest round-trip text (``repr``),
    so the id of a run read back from the ledger is the id it was recorded with.
    """
    content = {
        "model": run.model, "params_sha256": run.params_sha256, "evidence_sha256": run.evidence_sha256,
        "as_of": run.as_of.isoformat(), "seed": int(run.seed), "samples": int(run.samples), "source": run.source,
        "evidence_items": list(run.evidence_items), "questions": [question_content(q) for q in run.questions],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:RUN_ID_CHARS]


def check_run(run: RunRecord) -> None:
    """Refuse a run record the ledger could not keep faithfully.

    A bad record is a bug of the code that built it, not bad input from a user, hence
    ``ValueError`` / ``TypeError`` rather than a :class:`~scenarios.errors.ScenarioError`.

    Raises
    ------
    TypeError, ValueError
        Naming the field and what was found.
    """
    if not isinstance(run, RunRecord):
        raise TypeError(f"expected a RunRecord, got {type(run).__name__}")
    for name in ("model", "params_sha256"):
        if not isinstance(getattr(run, name), str) or not getattr(run, name):
            raise ValueError(f"{name}: expected a non-empty string, got {getattr(run, name)!r}")
    if run.evidence_sha256 is not None and not isinstance(run.evidence_sha256, str):
        raise ValueError(f"evidence_sha256: expected a string or None, got {run.evidence_sha256!r}")
    if not isinstance(run.as_of, _dt.date) or isinstance(run.as_of, _dt.datetime):
        raise ValueError(f"as_of: expected a datetime.date, got {run.as_of!r}")
    if isinstance(run.seed, bool) or not isinstance(run.seed, int) or not 0 <= run.seed < 2**63:
        raise ValueError(f"seed: expected a whole number in [0, 2^63), got {run.seed!r}")
    if isinstance(run.samples, bool) or not isinstance(run.samples, int) or not 0 < run.samples < 2**63:
        raise ValueError(f"samples: expected a whole number of worlds >= 1, got {run.samples!r}")
    if run.source not in SOURCES:
        raise ValueError(f"source: expected one of {', '.join(SOURCES)}, got {run.source!r}")
    utc_time(run.created)
    if not isinstance(run.label, str):
        raise ValueError(f"label: expected a string, got {run.label!r}")
    if any(not isinstance(i, str) for i in run.evidence_items):
        raise ValueError("evidence_items: expected a list of item ids (strings)")
    seen: set = set()
    for q in run.questions:
        _check_question(q, seen)


def _check_question(q: QuestionRecord, seen: set) -> None:
    if not isinstance(q, QuestionRecord):
        raise TypeError(f"questions: expected QuestionRecord items, got {type(q).__name__}")
    where = f"question {q.id!r}"
    if not isinstance(q.id, str) or not q.id:
        raise ValueError(f"questions: expected a non-empty question id, got {q.id!r}")
    if q.id in seen:
        raise ValueError(f"{where}: recorded twice in one run")
    seen.add(q.id)
    if q.type not in QUESTION_TYPES:
        raise ValueError(f"{where}: type: expected one of {', '.join(QUESTION_TYPES)}, got {q.type!r}")
    p = _number(q.probability)
    if p is not None and not 0.0 <= p <= 1.0:
        raise ValueError(f"{where}: probability: expected a number in [0, 1], got {q.probability!r}")
    for name in ("mcse", "ess"):
        v = _number(getattr(q, name))
        if v is not None and v < 0:
            raise ValueError(f"{where}: {name}: expected a number >= 0, got {v!r}")
    for level in q.quantiles or {}:
        try:
            ok = isinstance(level, str) and 0.0 <= float(level) <= 1.0
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{where}: quantiles: expected levels as strings such as '0.05', got {level!r}")
    for name in ("open", "close"):
        v = getattr(q, name)
        if v is not None and (not isinstance(v, _dt.date) or isinstance(v, _dt.datetime)):
            raise ValueError(f"{where}: {name}: expected a datetime.date or None, got {v!r}")
