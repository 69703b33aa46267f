"""The backtest's summary: per-question scores, overall scores with intervals, skill, decomposition, by date."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np

from .dates import question_life
from .recalibrate import RECALIBRATED_COLUMNS, map_table
from .targets import DaySink, date_scores

ESS_WARNING = 1000
SCORED_TYPES = ("binary", "numeric", "date")
DATE_SCORES = ("abs_error_days", "crps_days", "p_true_month")
"""A date forecast's scores (:func:`.targets.date_scores`): losses in days, then a probability (a gain)."""


def _ci(scores, rng):
    from ..scoring.scores import bootstrap_mean_ci

    ci = bootstrap_mean_ci(np.asarray(scores, dtype=float), rng=rng)
    return {"mean": ci.mean, "low": ci.low, "high": ci.high}


def _defined(forecast) -> bool:
    return forecast is not None and math.isfinite(forecast)


def summarize(model, questions, resolutions, evidence, dates, plans, rows, per_q, prior_p, numeric_rows, targets, prior_ens, samples, seed,
              *, recalibration=None, date_targets=(), date_rows=()) -> dict:
    """The backtest's summary.json; ``recalibration``: ``(maps by date, track record)`` when the
    rows carry recalibrated forecasts (:mod:`.recalibrate`), scored in a block of their own;
    ``date_targets`` / ``date_rows``: the date questions scored (:mod:`.targets`), in ``dates``."""
    rng = np.random.default_rng(seed)
    by_id = {q.id: q for q in questions}
    statuses = {}
    for q in questions:
        res = resolutions.get(q.id)
        statuses[q.id] = "unresolved" if res is None else res.status
    counts = {
        "questions": len(questions),
        "binary_scored": len(per_q),
        "annulled": sum(s == "annulled" for s in statuses.values()),
        "ambiguous": sum(s == "ambiguous" for s in statuses.values()),
        "unresolved": sum(s == "unresolved" for s in statuses.values()),
        "resolved_never_open": sorted(
            q.id for q in questions if q.type == "binary" and statuses[q.id] == "resolved" and q.id not in per_q
        ),
        "undefined_forecasts": sum(1 for r in rows if not _defined(r["forecast"])),
        "undefined_forecast_rows": [
            {"question": r["question"], "as_of": r["as_of"]} for r in rows if not _defined(r["forecast"])
        ],
        "resolved_not_scored_type": sorted(q.id for q in questions if q.type not in SCORED_TYPES and statuses[q.id] == "resolved"),
        "date_scored": len({r["question"] for r in date_rows}),
        "resolutions_without_question": sorted(set(resolutions) - set(by_id)),
        "numeric_targets": len(targets),
        "as_of_dates": len(dates),
    }
    per_question = _per_question(model, by_id, resolutions, per_q, prior_p)
    summary = {
        "model": model.name,
        "params": list(model.doc.files),
        "overrides": {k: v for k, v in model.doc.overrides},
        "evidence": evidence.file,
        "evidence_items": len(evidence),
        "samples": samples,
        "seed": seed,
        "as_of_dates": dates,
        "counts": counts,
        "ess": {str(p.as_of): p.ess for p in plans[1:]},
        # resample-move at each date: resamplings so far, distinct worlds, share of moves accepted
        "smc": {str(p.as_of): dict(p.smc) for p in plans[1:]},
        "mcse": _largest_mcse(rows),
        "questions": per_question,
    }
    summary["overall"] = _overall(per_question, rows, rng) if per_question else None
    summary["by_date"] = _by_date(plans, rows, per_question)
    summary["numeric"] = _numeric_summary(targets, numeric_rows, prior_ens)
    summary["dates"] = _dates_summary(date_targets, date_rows, plans[0])
    if recalibration is not None:
        summary["recalibrated"] = _recalibrated(model, by_id, resolutions, rows, prior_p, recalibration, seed, per_question)
    return summary


def _per_question(model, by_id, resolutions, per_q, prior_p) -> list:
    from ..scoring import scores as scoring

    per_question = []
    for qid, qrows in per_q.items():
        q, res = by_id[qid], resolutions[qid]
        start, end = question_life(model, q, res)
        days = np.array([r["days"] for r in qrows], dtype=float)
        briers = np.array([r["brier"] for r in qrows])
        logs = np.array([r["log_score"] for r in qrows])
        covered = days.sum()
        prior = prior_p[qid]
        per_question.append({
            "id": qid, "outcome": res.outcome, "open": start, "close": q.close, "resolved_on": res.resolved_on,
            "first_as_of": qrows[0]["as_of"], "forecast_open": qrows[0]["forecast"],
            "brier_open": float(briers[0]), "log_score_open": float(logs[0]),
            "brier_time_averaged": float(days @ briers / covered) if covered else float(briers[0]),
            "log_score_time_averaged": float(days @ logs / covered) if covered else float(logs[0]),
            "forecast_last": qrows[-1]["forecast"], "n_forecasts": len(qrows), "days": int(covered),
            "uncovered_days": max(0, (end - start).days - int(covered)),
            "no_evidence_forecast": prior,
            "no_evidence_brier": float(scoring.brier_score([prior], [res.outcome])[0]) if math.isfinite(prior) else None,
            "text": q.text,
        })
    return per_question


def _largest_mcse(rows) -> dict:
    """As-of date -> ``{mcse, question}``: the largest Monte Carlo standard error that date."""
    out: dict = {}
    for r in rows:
        m = r.get("mcse")
        if m is None or not math.isfinite(m):
            continue
        key = str(r["as_of"])
        if key not in out or m > out[key]["mcse"]:
            out[key] = {"mcse": m, "question": r["question"]}
    return out


def _recalibrated(model, by_id, resolutions, rows, prior_p, recalibration, seed, raw_questions) -> dict:
    """The recalibrated forecasts scored as the raw ones are (own bootstrap stream: raw numbers
    do not depend on whether recalibration ran), and the paired difference raw - recalibrated."""
    from ..scoring.recalibration import DEFAULT_MIN_OUTCOMES, DEFAULT_PRIOR_SD
    from ..scoring.scores import bootstrap_difference_ci

    maps, record = recalibration
    forecast, brier, log = RECALIBRATED_COLUMNS
    swapped = [{**r, "forecast": r[forecast], "brier": r[brier], "log_score": r[log]} for r in rows]
    per_q: dict = {}
    for r in swapped:
        if r.get("brier") is not None:
            per_q.setdefault(r["question"], []).append(r)
    per_question = _per_question(model, by_id, resolutions, per_q, prior_p)
    keep = ("id", "outcome", "forecast_open", "brier_open", "brier_time_averaged", "log_score_open",
            "log_score_time_averaged", "forecast_last")
    rng = np.random.default_rng(seed)
    overall = _overall(per_question, swapped, rng) if per_question else None
    if overall is not None:  # paired by question: raw minus recalibrated (negative: raw is better)
        recal = {q["id"]: q for q in per_question}
        for which in ("open", "time_averaged"):
            raw_b = np.array([q[f"brier_{which}"] for q in raw_questions])
            rec_b = np.array([recal[q["id"]][f"brier_{which}"] for q in raw_questions])
            d = bootstrap_difference_ci(raw_b, rec_b, rng=rng)
            overall[f"difference_raw_minus_recalibrated_{which}"] = {"mean": d.mean, "low": d.low, "high": d.high}
    return {
        "method": "logistic recalibration logit(p') = a + b logit(p), MAP with a ~ N(0, s^2), b ~ N(1, s^2), "
                  "fitted at each as-of date D on each question resolved before D (its forecast at open)",
        "prior_sd": DEFAULT_PRIOR_SD,
        "min_outcomes": DEFAULT_MIN_OUTCOMES,
        "maps": map_table(maps, record),
        "questions": [{k: q[k] for k in keep} for q in per_question],
        "overall": overall,
    }


def _overall(per_question, rows, rng) -> dict:
    from ..scoring import scores as scoring

    o = np.array([q["outcome"] for q in per_question], dtype=float)
    p_open = np.array([q["forecast_open"] for q in per_question])
    b_open = np.array([q["brier_open"] for q in per_question])
    b_ta = np.array([q["brier_time_averaged"] for q in per_question])
    base = float(o.mean())
    prior = np.array([q["no_evidence_forecast"] for q in per_question])
    baselines = {"always_0.5": np.full(len(o), 0.5), "base_rate": np.full(len(o), base), "no_evidence": prior}
    out = {
        "n_questions": len(per_question),
        "brier_open": _ci(b_open, rng),
        "brier_time_averaged": _ci(b_ta, rng),
        "log_score_open": _ci([q["log_score_open"] for q in per_question], rng),
        "log_score_time_averaged": _ci([q["log_score_time_averaged"] for q in per_question], rng),
        "base_rate": base,
        "baselines": {},
    }
    for name, ref in baselines.items():
        ref_b = scoring.brier_score(ref, o)  # constant over a question's life, so also its time average
        entry = {"brier": float(ref_b.mean())}
        for which, model_b, probs in (("open", b_open, p_open), ("time_averaged", b_ta, None)):
            if ref_b.mean() == 0:
                entry[f"skill_{which}"] = None
            elif probs is not None:
                entry[f"skill_{which}"] = scoring.brier_skill_score(probs, o, ref)
            else:
                entry[f"skill_{which}"] = 1.0 - float(model_b.mean()) / float(ref_b.mean())
            d = scoring.bootstrap_difference_ci(model_b, ref_b, rng=rng)
            entry[f"difference_{which}"] = {"mean": d.mean, "low": d.low, "high": d.high}
        out["baselines"][name] = entry
    out["decomposition_open"] = _decomp(scoring.murphy_decomposition(p_open, o))
    scored = [r for r in rows if r.get("brier") is not None]
    pa = np.array([r["forecast"] for r in scored])
    oa = np.array([r["outcome"] for r in scored], dtype=float)
    out["brier_all_forecasts"] = float(np.mean([r["brier"] for r in scored]))
    out["n_forecasts"] = len(scored)
    out["decomposition_all_forecasts"] = _decomp(scoring.murphy_decomposition(pa, oa))
    rc = scoring.reliability_curve(pa, oa)
    out["reliability"] = {k: getattr(rc, k) for k in ("edges", "mean_forecast", "observed_frequency", "count", "lower", "upper")}
    return out


def _decomp(d) -> dict:
    out = asdict(d)
    out["total"] = d.total
    return out


def _by_date(plans, rows, per_question) -> list:
    outcomes = {q["id"]: q["outcome"] for q in per_question}
    base = float(np.mean(list(outcomes.values()))) if outcomes else math.nan
    by: dict = {}
    for r in rows:
        if r.get("brier") is not None:
            by.setdefault(r["as_of"], []).append(r)
    out = []
    for plan in plans[1:]:
        rs = by.get(plan.as_of, [])
        o = np.array([r["outcome"] for r in rs], dtype=float)
        prior = np.array([r["no_evidence_forecast"] for r in rs])
        out.append({
            "as_of": plan.as_of, "n_open": len(rs), "ess": plan.ess,
            "mcse_max": max((r["mcse"] for r in rs), default=None),
            "mcse_mean": float(np.mean([r["mcse"] for r in rs])) if rs else None,
            "brier": float(np.mean([r["brier"] for r in rs])) if rs else None,
            **({"brier_recalibrated": float(np.mean([r["brier_recalibrated"] for r in rs])) if rs else None}
               if rs and RECALIBRATED_COLUMNS[1] in rs[0] else {}),
            "brier_always_0.5": 0.25 if rs else None,
            "brier_base_rate": float(np.mean((base - o) ** 2)) if rs else None,
            "brier_no_evidence": float(np.mean((prior - o) ** 2)) if rs else None,
        })
    return out


def _numeric_summary(targets, numeric_rows, prior_ens) -> dict:
    from ..scoring.scores import crps_ensemble

    by: dict = {}
    for r in numeric_rows:
        by.setdefault(r["target"], []).append(r)
    items = []
    for t in targets:
        rs = by.get(t.id, [])
        pe = prior_ens.get(t.id)
        prior_crps = float(crps_ensemble(pe, t.estimate)) if pe is not None else None
        items.append({
            "id": t.id, "quantity": t.label, "on": t.on, "estimate": t.estimate, "low": t.low, "high": t.high,
            "public_on": t.public_on, "source": t.source, "n_forecasts": len(rs),
            "crps_first": rs[0]["crps"] if rs else None, "crps_last": rs[-1]["crps"] if rs else None,
            "crps_relative_first": rs[0]["crps_relative"] if rs else None,
            "crps_relative_last": rs[-1]["crps_relative"] if rs else None,
            "crps_relative_mean": float(np.mean([r["crps_relative"] for r in rs])) if rs and t.estimate else None,
            "no_evidence_crps": prior_crps,
            "no_evidence_crps_relative": prior_crps / abs(t.estimate) if prior_crps is not None and t.estimate else None,
        })
    scored = [i for i in items if i["crps_relative_last"] is not None]
    return {
        "targets": items,
        "mean_relative_crps_first": float(np.mean([i["crps_relative_first"] for i in scored])) if scored else None,
        "mean_relative_crps_last": float(np.mean([i["crps_relative_last"] for i in scored])) if scored else None,
        "mean_relative_crps_no_evidence": float(np.mean([i["no_evidence_crps_relative"] for i in scored])) if scored else None,
    }


def _dates_summary(targets, rows, prior_plan) -> dict:
    """Per date question: its scores at open, at the last forecast and time-averaged over its
    open life (each forecast stands ``days``), and the model's without evidence; their means."""
    prior = {s.target.id: s.histogram() for s in prior_plan.sinks if isinstance(s, DaySink)}
    by: dict = {}
    for r in rows:
        by.setdefault(r["question"], []).append(r)
    items, never_open = [], []
    for t in targets:
        rs = by.get(t.id)
        if not rs:
            never_open.append(t.id)
            continue
        days = np.array([r["days"] for r in rs], dtype=float)
        covered = float(days.sum())
        masses = prior.get(t.id)
        none = date_scores(t, masses) if masses is not None else {}
        item = {
            "id": t.id, "resolution": rs[0]["resolution"], "resolved_on": t.resolved_on, "open": t.life[0],
            "close": t.date_of(t.close_day), "first_as_of": rs[0]["as_of"], "n_forecasts": len(rs), "days": int(covered),
            "median_open": rs[0]["q50"], "median_last": rs[-1]["q50"], "no_evidence_median": none.get("q50"),
        }
        for key in DATE_SCORES:
            values = np.array([r[key] for r in rs])
            item[f"{key}_open"], item[f"{key}_last"] = float(values[0]), float(values[-1])
            item[f"{key}_time_averaged"] = float(days @ values / covered) if covered else float(values[0])
            item[f"no_evidence_{key}"] = none.get(key)
        items.append({**item, "text": t.text})
    overall = None
    if items:
        overall = {"n_questions": len(items)}
        for key in DATE_SCORES:
            for which in ("open", "time_averaged"):
                overall[f"{key}_{which}"] = float(np.mean([i[f"{key}_{which}"] for i in items]))
            prior_values = [i[f"no_evidence_{key}"] for i in items if i[f"no_evidence_{key}"] is not None]
            overall[f"no_evidence_{key}"] = float(np.mean(prior_values)) if prior_values else None
    return {"questions": items, "overall": overall, "resolved_never_open": never_open}


MISSING = "–"
"""A missing number (None, NaN) in :func:`format_summary`, as the report's tables write it
(:data:`scenarios.notebook.formatting.MISSING`; the backtest cannot import the notebook layer)."""


def _fmt(x, spec: str = ".3f") -> str:
    """``x`` formatted with ``spec`` (fixed point: never ``e`` notation), or ``–`` for None or NaN.

    >>> _fmt(0.1234), _fmt(-0.05, "+.3f"), _fmt(None), _fmt(float("nan")), _fmt(12940.4, ",.0f")
    ('0.123', '-0.050', '–', '–', '12,940')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return MISSING
    return format(float(x), spec)


def format_summary(s: dict) -> str:
    """A few lines for the terminal: counts, overall scores, skills, ESS.  Every number is
    fixed point (no ``e`` notation); a missing one (None, NaN) is ``–``."""
    c = s["counts"]
    lines = [
        f"backtest {s['model']}: {c['binary_scored']} binary questions scored at {c['as_of_dates']} as-of dates, "
        f"{s['samples']:,} worlds, seed {s['seed']}, {s['evidence_items']} evidence items",
        f"  not scored: {c['annulled']} annulled, {c['ambiguous']} ambiguous, {c['unresolved']} unresolved, "
        f"{len(c['resolved_never_open'])} never open at an as-of date",
    ]
    if c["undefined_forecasts"]:
        lines.append(
            f"  NOT SCORED: {c['undefined_forecasts']} forecast(s) undefined (NaN): "
            + ", ".join(f"{r['question']} as of {r['as_of']}" for r in c["undefined_forecast_rows"][:5])
            + (" ..." if c["undefined_forecasts"] > 5 else "")
        )
    o = s["overall"]
    if o:
        def ci(x):
            return f"{_fmt(x['mean'])} [{_fmt(x['low'])}, {_fmt(x['high'])}]"

        lines.append(f"  mean Brier at open {ci(o['brier_open'])}; time-averaged {ci(o['brier_time_averaged'])}")
        for name, b in o["baselines"].items():
            sk = b["skill_time_averaged"]
            lines.append(f"  vs {name:<12} Brier {_fmt(b['brier'])}  skill (time-averaged) {'n/a' if sk is None else _fmt(sk, '+.3f')}")
    n = s["numeric"]
    if n["mean_relative_crps_last"] is not None:
        lines.append(
            f"  numeric: mean relative CRPS {_fmt(n['mean_relative_crps_first'])} at the first as-of date, "
            f"{_fmt(n['mean_relative_crps_last'])} at the last before each report (no evidence: {_fmt(n['mean_relative_crps_no_evidence'])})"
        )
    d = (s.get("dates") or {}).get("overall")
    if d:
        def three(key):
            return " / ".join(_fmt(d[key.format(k)], spec) for k, spec in zip(DATE_SCORES, (".1f", ".1f", ".2f"), strict=True))

        lines.append(
            f"  dates: {d['n_questions']} date question(s) scored; median's error in days / CRPS in days / P(true month): "
            f"at open {three('{}_open')}, time-averaged {three('{}_time_averaged')} (no evidence {three('no_evidence_{}')})"
        )
    r = s.get("recalibrated")
    if o and r and r["overall"]:
        ro = r["overall"]

        def pair(key, x, y):
            return f"{key} {_fmt(x)} (raw {_fmt(y)})"

        lines.append(
            "  recalibrated (fitted on questions resolved before each date): "
            + "; ".join([
                pair("Brier at open", ro["brier_open"]["mean"], o["brier_open"]["mean"]),
                pair("time-averaged", ro["brier_time_averaged"]["mean"], o["brier_time_averaged"]["mean"]),
            ])
        )
        lines.append(
            "    "
            + "; ".join([
                pair("log score at open", ro["log_score_open"]["mean"], o["log_score_open"]["mean"]),
                pair("reliability at open", ro["decomposition_open"]["reliability"], o["decomposition_open"]["reliability"]),
            ])
            + "; skill (time-averaged) "
            + ", ".join(
                f"vs {name} {'n/a' if b['skill_time_averaged'] is None else _fmt(b['skill_time_averaged'], '+.3f')}"
                for name, b in ro["baselines"].items() if name != "no_evidence"
            )
        )
    if s["ess"]:
        d, e = min(s["ess"].items(), key=lambda x: x[1])
        smc = s.get("smc", {}).get(d, {})
        times = smc.get("resamples") or 0
        how = f"; worlds resampled {'once' if times == 1 else f'{times} times'} so far" if times else ""
        lines.append(f"  lowest effective sample size {_fmt(e, ',.0f')} of {s['samples']:,} worlds (as of {d}{how})")
    if s.get("mcse"):
        d, m = max(s["mcse"].items(), key=lambda x: x[1]["mcse"])
        lines.append(f"  largest Monte Carlo standard error of a forecast {_fmt(m['mcse'], '.4f')} ({m['question']}, as of {d})")
    return "\n".join(lines) + "\n"
