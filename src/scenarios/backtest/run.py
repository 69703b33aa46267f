"""Backtest: forecast every open question at every as-of date and score it against what happened.

For each as-of date D, each question open at D (opened on or before D, not closed before D,
not resolved on or before D) is forecast from the model conditioned on the evidence public by D
(:mod:`scenarios.engine.evidence`).  Forecasts are joined with the outcomes in a resolutions file and
scored with :mod:`scenarios.scoring`:

* per question, the Brier score at its first forecast (its open date, with the default dates) and
  the time-averaged Brier score over its open life: the forecast made at D stands until the next
  as-of date, the question's close or its resolution, whichever comes first, and every day
  counts the same (as Metaculus averages scores over a question's life);
* overall means with bootstrap intervals, skill against three baselines (always 0.5; the base
  rate of the outcomes; the model with no evidence), the Brier decomposition and a reliability
  curve;
* numeric series: the CRPS of the forecast distribution of each reported quantity against the
  reported estimate, at every as-of date before the report was public;
* date questions ("when will X happen"), while open: the median's error in days, the CRPS in
  days and the probability given to the true month, against the day it happened or never.

All as-of dates share one simulation: worlds are drawn with the same seed and per-node random
streams, and going from one date to the next re-draws only the nodes downstream of a changed
observation (common random numbers, so a forecast path moves only when information arrives).
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field

import numpy as np

from ..engine.asof import Plan, check_as_of, impossible_evidence_error, is_open, run_plans
from ..engine.checkpoint import chain_store
from ..engine.evidence import Conditioning, Evidence
from ..engine.memory import SCORING_BYTES, holding
from ..engine.parallel import dask_address, executor
from ..engine.simulate import CHUNK_SIZE
from ..errors import ParamsError, UsageError
from ..model.data_files import data_files
from ..model.scenario import Model
from .data import NO_RESOLUTIONS, load_model_data
from .dates import backtest_dates, default_as_of_dates, monthly_dates, parse_dates, question_life
from .fans import (
    FAN_LEVELS,
    estimate_points,
    fan_quantities,
    fan_results,
    fan_sinks,
    report_fan_dates,
)
from .progress import BacktestProgress
from .recalibrate import RECALIBRATED_COLUMNS, add_recalibrated, maps_by_date, track_record
from .resolutions import Resolution
from .summary import ESS_WARNING, format_summary, summarize
from .targets import (
    ENSEMBLE_SIZE,
    DaySink,
    Ensemble,
    date_rows,
    date_target,
    question_target,
    report_targets,
)

__all__ = ["BacktestResult", "run_backtest", "backtest_for", "run_backtest_command"]


@dataclass
class BacktestResult:
    """Rows and summary of a backtest (see :func:`run_backtest`)."""

    rows: list  # binary forecasts: dicts
    numeric_rows: list
    summary: dict
    fans: dict = field(default_factory=dict)  # quantity -> (fans, points), as report_fans gives
    date_rows: list = field(default_factory=list)  # date questions' forecasts, scored

    ROW_COLUMNS = ("question", "as_of", "forecast", "outcome", "brier", "log_score", "days", "no_evidence_forecast", "ess", "mcse")
    NUMERIC_COLUMNS = ("target", "as_of", "q05", "q50", "q95", "estimate", "low", "high", "crps", "crps_relative", "quantity")

    def to_csv(self) -> str:
        recalibrated = bool(self.rows) and RECALIBRATED_COLUMNS[0] in self.rows[0]
        return _csv(self.ROW_COLUMNS + (RECALIBRATED_COLUMNS if recalibrated else ()), self.rows)

    def numeric_csv(self) -> str:
        return _csv(self.NUMERIC_COLUMNS, self.numeric_rows)

    DATE_COLUMNS = ("question", "as_of", "q05", "q50", "q95", "p_never", "resolution", "abs_error_days", "crps_days",
                    "p_true_month", "true_month", "days")

    def dates_csv(self) -> str:
        return _csv(self.DATE_COLUMNS, self.date_rows)

    def to_json(self) -> str:
        return json.dumps(_jsonable(self.summary), indent=2) + "\n"

    def write(self, out_dir: str) -> list:
        """Write backtest.csv, numeric.csv, summary.json and dates.csv (each atomically); return the paths.

        Every text is made and every target checked (:func:`check_backtest_out`) before the first
        is written, so a refused output leaves the folder as it was; the SHA-256 of what was
        written is kept in the folder's :data:`WRITTEN`, which is how a later backtest knows
        the files are its own to replace.
        """
        from ..atomic import check_replaceable, write_text

        check_backtest_out(out_dir)
        paths = [os.path.join(out_dir, n) for n in OUTPUT_NAMES]
        texts = (self.to_csv(), self.numeric_csv(), self.to_json(), self.dates_csv())
        for path in paths + [os.path.join(out_dir, WRITTEN)]:
            check_replaceable(path)
        for path, text in zip(paths, texts, strict=True):
            write_text(path, text)
        marks = {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in zip(OUTPUT_NAMES, texts, strict=True)}
        write_text(os.path.join(out_dir, WRITTEN), json.dumps(marks, indent=1) + "\n")
        return paths

    def path(self, question: str) -> list:
        """The forecast path of one question: its rows in date order."""
        return [r for r in self.rows if r["question"] == question]


OUTPUT_NAMES = ("backtest.csv", "numeric.csv", "summary.json", "dates.csv")
"""What ``backtest --out`` writes."""

WRITTEN = ".scenarios-backtest.json"
"""The SHA-256 of each output the last backtest wrote into its folder."""


def orphan_resolutions_message(ids: list) -> str:
    """A resolutions file's ids that match no question of the model, said in one line."""
    shown = ", ".join(repr(i[:60]) for i in ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    return (f"{len(ids)} resolution(s) match no question of the model and are not scored: {shown} "
            "(a misspelt id, or a question removed from the model?)")


def check_backtest_out(out_dir: str) -> None:
    """Refuse an ``--out`` folder whose backtest.csv, numeric.csv or summary.json this tool did not
    write (absent from :data:`WRITTEN`, or changed since): a backtest never overwrites them.

    Raises
    ------
    UsageError
        Naming the file, before anything is computed or written.
    """
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise UsageError(f"--out: {out_dir} is a file, not a folder")
    try:
        with open(os.path.join(out_dir, WRITTEN), encoding="utf-8") as fh:
            marks = json.load(fh)
        marks = marks if isinstance(marks, dict) else {}
    except (OSError, ValueError):
        marks = {}
    for name in OUTPUT_NAMES:
        path = os.path.join(out_dir, name)
        if not os.path.lexists(path):
            continue
        try:
            with open(path, "rb") as fh:
                ours = os.path.isfile(path) and not os.path.islink(path) and marks.get(name) == hashlib.sha256(fh.read()).hexdigest()
        except OSError:
            ours = False
        if not ours:
            raise UsageError(f"--out: {path} was not written by scenarios backtest (or was changed since); a backtest "
                             "will not overwrite it: choose another --out folder or move the file")


def _csv(columns, rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r.get(c) is None else (f"{r[c]:.6g}" if isinstance(r[c], float) else r[c]) for c in columns])
    return buf.getvalue()


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_jsonable(v) for v in x.tolist()]
    if isinstance(x, (_dt.date,)):
        return x.isoformat()
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    return x


def run_backtest(model: Model, questions: list, resolutions: dict, evidence: Evidence, *, as_of_dates=None,
                 samples=None, seed=None, chunk_size: int = CHUNK_SIZE, fans: bool = False,
                 until: str = "", recalibrate: bool = False, progress=None, pool=None, store=None) -> BacktestResult:
    """Forecast every open question at every as-of date, join outcomes and score.

    Parameters
    ----------
    model : Model
    questions : list of Question
        Any question set; those with a resolution are scored.
    resolutions : dict
        Question id -> :class:`Resolution` (see :func:`load_resolutions`).
    evidence : Evidence
    as_of_dates : list of datetime.date, optional
        Default: :func:`default_as_of_dates`.
    samples, seed : int, optional
        Default to the model's; the same seed serves every date (common random numbers).
    fans : bool
        Also compute :func:`report_fans` (up to ``until``, YYYY-MM-DD) in the same simulation,
        into ``result.fans``: equal to a separate call with the same seed, at a fraction of its
        cost, since most of what they read is drawn for the backtest's dates anyway.
    recalibrate : bool
        Also score recalibrated forecasts (:mod:`scenarios.backtest.recalibrate`): each row gets
        ``forecast_recalibrated`` and its scores, the summary a ``recalibrated`` block; the raw
        forecasts and their scores are unchanged.
    progress : callable, optional
        Called as ``progress(done, total)`` while the worlds are simulated, as
        :func:`scenarios.engine.asof.run_plans` calls it (``done`` of ``total`` plans answered in
        chunks of worlds, ending at ``total``); e.g. a
        :class:`~scenarios.backtest.progress.BacktestProgress`.  It changes no number.
    pool : Executor, optional
        Where the chunks of worlds run (:func:`scenarios.engine.parallel.executor`: worker
        processes or a Dask cluster; None: this process).  It changes no number.
    store : ChainStore, optional
        Where what the chain computed is kept and taken from by the next run
        (:mod:`scenarios.engine.checkpoint`); it changes no number.
    """
    from ..scoring import scores as scoring

    samples = model.samples if samples is None else samples
    seed = model.seed if seed is None else seed
    by_id = {q.id: q for q in questions}
    for qid, res in resolutions.items():
        q = by_id.get(qid)
        if q is not None and res.type != q.type and res.status == "resolved":
            raise ParamsError(None, qid, f"question {qid!r} is {q.type} but its resolution is {res.type}")
    dates = sorted({check_as_of(model, d) for d in as_of_dates}) if as_of_dates else default_as_of_dates(model, questions, resolutions, evidence)

    binary = [q for q in questions if q.type == "binary" and _resolved(resolutions.get(q.id))]
    numeric_qs = [q for q in questions if q.type == "numeric" and _resolved(resolutions.get(q.id))]
    targets = report_targets(model, evidence) + [question_target(model, q, resolutions[q.id]) for q in numeric_qs]
    dated = {q.id: (q, date_target(model, q, resolutions[q.id])) for q in questions if q.type == "date" and _resolved(resolutions.get(q.id))}

    def open_at(q, d):
        res = resolutions.get(q.id)
        return (q.open or model.as_of) <= d and is_open(q, d, res.resolved_on if res else None)

    def target_at(t, d):
        return d < t.public_on and (t.first_as_of is None or t.first_as_of <= d)

    nothing = Conditioning(model.as_of, {}, {}, (), (), ())
    caches = {t.id: {} for t in targets}  # per chunk, the sort order survives dates that keep the arrays
    prior = Plan(None, nothing, binary, [Ensemble(t, caches[t.id]) for t in targets] + [DaySink(t) for _, t in dated.values()])
    plans = [prior] + [
        Plan(d, evidence.conditioning(model, d), [q for q in binary if open_at(q, d)],
             [Ensemble(t, caches[t.id]) for t in targets if target_at(t, d)] + [DaySink(t) for q, t in dated.values() if open_at(q, d)])
        for d in dates
    ]
    fan_plans, parsed, run = [], [], plans
    if fans:
        quantities, fan_dates = report_fan_dates(model, evidence, until=until)
        parsed = fan_quantities(model, quantities)
        fan_plans = [Plan(d, evidence.conditioning(model, d), sinks=fan_sinks(model, parsed)) for d in fan_dates]
        # each right after the backtest's plan of its date, whose draws it reuses (same conditioning)
        run = [plans[0]] + sorted([*plans[1:], *fan_plans], key=lambda p: p.as_of)
    with holding(SCORING_BYTES):  # its memory check counts what the backtest's scoring holds
        run_plans(model, run, samples=samples, seed=seed, evidence=evidence, chunk_size=chunk_size, progress=progress,
                  pool=pool, store=store)
    ruled_out = [p for p in run[1:] if not p.ess > 0]
    if ruled_out:  # every forecast at that date would be NaN: refuse rather than score the rest
        raise impossible_evidence_error(model, evidence, ruled_out[0].as_of, samples=samples, seed=seed, chunk_size=chunk_size)
    fans_out = {}
    if fan_plans:
        paths = fan_results(model, parsed, fan_plans, FAN_LEVELS)
        fans_out = {q: (paths[q], estimate_points(evidence, q)) for q, _, _ in parsed}

    prior_p = {acc.q.id: acc.result(model.as_of).probability for acc in prior.accs}
    prior_ens = {ens.target.id: ens.ensemble() for ens in prior.sinks if isinstance(ens, Ensemble)}

    # ---- binary rows
    rows = []
    for plan in plans[1:]:
        for acc in plan.accs:
            f = acc.result(model.as_of)
            res = resolutions[f.id]
            rows.append({
                "question": f.id, "as_of": plan.as_of, "forecast": f.probability, "outcome": int(res.outcome),
                "ess": f.n_eff, "mcse": _probability_mcse(acc), "no_evidence_forecast": prior_p[f.id],
            })
    defined = [r for r in rows if r["forecast"] is not None and math.isfinite(r["forecast"])]
    if defined:
        p = np.array([r["forecast"] for r in defined])
        o = np.array([r["outcome"] for r in defined])
        for r, b, ls in zip(defined, scoring.brier_score(p, o), scoring.log_score(p, o), strict=True):
            r["brier"], r["log_score"] = float(b), float(ls)
    # days each forecast stands: until the next as-of date, the close or the resolution
    per_q: dict = {}
    for r in defined:
        per_q.setdefault(r["question"], []).append(r)
    for qid, qrows in per_q.items():
        _, end = question_life(model, by_id[qid], resolutions[qid])
        for r, nxt in zip(qrows, qrows[1:] + [None], strict=True):
            stop = end if nxt is None else min(nxt["as_of"], end)
            r["days"] = max(0, (stop - r["as_of"]).days)

    recalibration = None
    if recalibrate:
        record = track_record(rows, by_id, resolutions)
        maps = maps_by_date(dates, record)
        add_recalibrated(rows, maps)
        recalibration = (maps, record)
    numeric_rows = _numeric_rows(plans, targets, prior_ens)
    day_rows = date_rows(plans, [t for _, t in dated.values()])
    summary = summarize(model, questions, resolutions, evidence, dates, plans, rows, per_q, prior_p, numeric_rows, targets, prior_ens, samples, seed,
                        recalibration=recalibration, date_targets=[t for _, t in dated.values()], date_rows=day_rows)
    return BacktestResult(rows, numeric_rows, summary, fans_out, day_rows)


def _resolved(res: Resolution | None) -> bool:
    return res is not None and res.status == "resolved"


def _probability_mcse(acc) -> float:
    """Monte Carlo standard error of a binary forecast (:meth:`scenarios.engine.forecast.Accumulator.mcse`)."""
    return acc.mcse()


def _numeric_rows(plans, targets, prior_ens) -> list:
    from ..scoring.scores import crps_ensemble

    out = []
    for plan in plans[1:]:
        for ens in plan.sinks:
            if not isinstance(ens, Ensemble):
                continue
            t = ens.target
            e = ens.ensemble()
            if e is None:
                continue
            crps = float(crps_ensemble(e, t.estimate))
            q05, q50, q95 = (float(e[int(q * ENSEMBLE_SIZE)]) for q in (0.05, 0.5, 0.95))
            out.append({
                "target": t.id, "as_of": plan.as_of, "q05": q05, "q50": q50, "q95": q95, "estimate": t.estimate,
                "low": t.low, "high": t.high, "crps": crps,
                "crps_relative": crps / abs(t.estimate) if t.estimate else None, "quantity": t.label,
            })
    return out


def backtest_for(model: Model, questions: list, *, resolutions: str | None = None, evidence: str | None = None,
                 samples=None, seed=None, until: str = "", as_of_dates=None, fans: bool = False,
                 recalibrate: bool = False, progress=None, pool=None, store=None) -> BacktestResult:
    """Run :func:`run_backtest` as the command line does, on the model's own data files.

    Parameters
    ----------
    model : Model
    questions : list of Question
    resolutions, evidence : str, optional
        Files overriding the params file's ``resolutions:`` / ``evidence:`` (None or "": the
        params file's own; see :func:`scenarios.model.data_files.data_files`).
    samples, seed : int, optional
    until : str
        YYYY-MM-DD: drop later as-of dates ("" keeps all).
    as_of_dates : list of date, optional
    fans : bool
        Also the fans of :func:`report_fans` (up to ``until``), in ``result.fans``.
    recalibrate : bool
        Also the recalibrated forecasts and their scores (see :func:`run_backtest`).
    progress : callable, optional
        ``progress(done, total)`` as the backtest goes (see :func:`run_backtest`); the dates are
        :func:`~scenarios.backtest.dates.backtest_dates` of the same arguments.
    pool : Executor, optional
        Where the chunks run (see :func:`run_backtest`).
    store : ChainStore, optional
        What earlier runs kept (see :func:`run_backtest`).

    Raises
    ------
    ParamsError
        A bad data file, or a model without resolutions (:data:`~scenarios.backtest.data.NO_RESOLUTIONS`).
    """
    data = load_model_data(model, data_files(model, resolutions=resolutions, evidence=evidence))
    if data.resolutions is None:
        raise ParamsError(model.doc.path, "resolutions", NO_RESOLUTIONS)
    dates = backtest_dates(model, questions, data.resolutions, data.evidence, as_of_dates=as_of_dates, until=until)
    return run_backtest(model, questions, data.resolutions, data.evidence, as_of_dates=dates, samples=samples, seed=seed,
                        fans=fans, until=until, recalibrate=recalibrate, progress=progress, pool=pool,
                        store=store)


# =========================================================================== command line


def run_backtest_command(args) -> int:
    """``scenarios backtest``: run, write backtest.csv / numeric.csv / summary.json / dates.csv, print a summary."""
    from ..model.load import load_model

    if args.as_of_dates and args.monthly:
        raise UsageError("give either --as-of-dates or --monthly, not both")
    model, questions = load_model(args.params, overrides=args.overrides, questions=args.questions)
    if not questions:
        raise ParamsError(args.params, "questions", "the model has no questions to backtest; add questions: or pass --questions FILE")
    data = load_model_data(model, data_files(model, resolutions=args.resolutions, evidence=args.evidence,
                                             series=args.series))
    if data.resolutions is None:
        raise ParamsError(args.params, "resolutions", NO_RESOLUTIONS)
    if args.as_of_dates:
        dates = parse_dates(args.as_of_dates, "--as-of-dates")
    elif args.monthly:
        start, end = parse_dates(args.monthly[0], "--monthly FROM")[0], parse_dates(args.monthly[1], "--monthly TO")[0]
        dates = monthly_dates(start, end)
    else:
        dates = None
    dates = backtest_dates(model, questions, data.resolutions, data.evidence, as_of_dates=dates)
    out = args.out or os.path.join("reports", "backtest-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", model.name))
    check_backtest_out(out)  # before anything is computed
    orphans = sorted(set(data.resolutions) - {q.id for q in questions})
    if orphans and getattr(args, "strict", False):
        raise ParamsError(data.files.resolutions, orphans[0][:80], orphan_resolutions_message(orphans) + " (--strict)")
    shown = sys.stderr.isatty() if args.progress is None else args.progress  # stdout stays as it was
    label = "backtest " + os.path.splitext(os.path.basename(args.params))[0]
    with BacktestProgress(len(dates), label=label, enabled=shown) as progress, \
            executor(args.jobs, dask_address(args.dask)) as pool:
        result = run_backtest(model, questions, data.resolutions, data.evidence, as_of_dates=dates, samples=args.samples,
                              seed=args.seed, recalibrate=args.recalibrate, progress=progress, pool=pool,
                              store=chain_store(args.cache))
    paths = result.write(out)
    sys.stdout.write(format_summary(result.summary) + "".join(f"wrote {p}\n" for p in paths))
    undefined = result.summary["counts"]["undefined_forecast_rows"]
    if undefined:
        shown = ", ".join(f"{r['question']} as of {r['as_of']}" for r in undefined[:5])
        more = f" and {len(undefined) - 5} more" if len(undefined) > 5 else ""
        print(
            f"warning: {len(undefined)} forecast(s) undefined (NaN) and left out of the scores: {shown}{more} "
            "(a given: clause that no world weighted by the evidence satisfies); see summary.json counts",
            file=sys.stderr,
        )
    if orphans:
        print(f"warning: {orphan_resolutions_message(orphans)}", file=sys.stderr)
    low = [(d, e) for d, e in result.summary["ess"].items() if e < ESS_WARNING]
    if low:
        d, e = min(low, key=lambda x: x[1])
        print(f"warning: effective sample size below {ESS_WARNING:,} at {len(low)} as-of date(s) (lowest {e:,.0f} on {d}); use more --samples", file=sys.stderr)
    return 0
