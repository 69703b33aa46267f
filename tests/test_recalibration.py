"""Recalibration from the track record, and the Monte Carlo standard error of backtest forecasts.

The map (scoring.recalibration): identity without history, MAP equal to a direct optimisation,
slope recovered from synthetic overconfident forecasts within its standard error, shrinkage toward
the identity as the prior tightens.  The backtest (backtest.recalibrate): the map at D uses
nothing resolved on or after D, raw forecasts and scores are untouched, deterministic.  The MCSE
column against its analytic value, with uniform and with evidence weights.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, logit

from conftest import HEADER
from scenarios.backtest import format_summary, load_resolutions, run_backtest
from scenarios.backtest.recalibrate import maps_by_date, track_record
from scenarios.cli import main
from scenarios.engine import asof
from scenarios.engine.evidence import Evidence, parse_evidence
from scenarios.errors import ScoringError
from scenarios.model.load import load_model
from scenarios.scoring.recalibration import RecalibrationMap, fit_recalibration, recalibrate

URL = "https://example.org/news"

# --------------------------------------------------------------------------- the map


def test_no_history_is_the_identity_and_leaves_forecasts_bit_identical():
    m = fit_recalibration([], [])
    assert m.is_identity and m.n == 0
    p = np.array([0.0, 1e-9, 0.3, 0.5, 0.999, 1.0, math.nan])
    out = recalibrate(p, m)
    assert np.array_equal(out, p, equal_nan=True)
    # fewer outcomes than min_outcomes: still the identity
    assert fit_recalibration([0.9, 0.1], [0, 1], min_outcomes=3).is_identity
    assert not fit_recalibration([0.9, 0.1, 0.8], [0, 1, 0], min_outcomes=3).is_identity


def test_the_map_is_the_mode_of_the_penalised_likelihood():
    # the Newton solution against a direct numerical optimisation of the same objective
    rng = np.random.default_rng(5)
    p = rng.uniform(0.01, 0.99, 60)
    o = (rng.uniform(size=60) < 0.5 * p + 0.25).astype(float)
    for sd in (0.3, 1.0, 5.0):
        def neg(theta, sd=sd):
            eta = theta[0] + theta[1] * logit(p)
            return -(o * eta - np.logaddexp(0, eta)).sum() + 0.5 * (theta[0] ** 2 + (theta[1] - 1) ** 2) / sd**2

        ref = minimize(neg, [0.0, 1.0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 10_000}).x
        m = fit_recalibration(p, o, prior_sd=sd, min_outcomes=1)
        assert (m.intercept, m.slope) == pytest.approx(tuple(ref), abs=1e-6)


def test_the_fit_recovers_a_known_calibration_curve_within_its_standard_error():
    # forecasts overconfident by a known curve: P(yes | p) = expit(a0 + b0 logit(p)), b0 < 1
    a0, b0, n = 0.3, 0.5, 4000
    rng = np.random.default_rng(11)
    p = expit(rng.normal(0.0, 2.0, n))
    o = (rng.uniform(size=n) < expit(a0 + b0 * logit(p))).astype(float)
    m = fit_recalibration(p, o, prior_sd=1e3)  # a flat prior: the maximum likelihood estimate
    # its standard error from the Fisher information at the truth (no reference to the fit)
    x = logit(p)
    v = expit(a0 + b0 * x) * (1 - expit(a0 + b0 * x))
    info = np.array([[v.sum(), (v * x).sum()], [(v * x).sum(), (v * x * x).sum()]])
    se_a, se_b = np.sqrt(np.diag(np.linalg.inv(info)))
    assert abs(m.slope - b0) < 4 * se_b, (m.slope, se_b)
    assert abs(m.intercept - a0) < 4 * se_a, (m.intercept, se_a)
    assert m.slope_se == pytest.approx(se_b, rel=0.1) and m.intercept_se == pytest.approx(se_a, rel=0.1)
    # and it improves the Brier score of the forecasts it was fitted on
    q = recalibrate(p, m)
    assert np.mean((q - o) ** 2) < np.mean((p - o) ** 2)


def test_the_prior_shrinks_the_map_toward_the_identity():
    rng = np.random.default_rng(2)
    p = expit(rng.normal(0.0, 2.0, 50))
    o = (rng.uniform(size=50) < expit(0.5 + 0.3 * logit(p))).astype(float)
    maps = [fit_recalibration(p, o, prior_sd=sd) for sd in (100.0, 3.0, 1.0, 0.3, 0.1, 0.01, 1e-5)]
    distance = [math.hypot(m.intercept, m.slope - 1) for m in maps]
    assert all(a > b for a, b in zip(distance, distance[1:], strict=False)), distance
    assert distance[-1] < 1e-6


def test_deterministic_and_clear_errors():
    p, o = [0.2, 0.9, 0.7, 0.1, 0.6, 0.4], [0, 0, 1, 1, 0, 1]
    assert fit_recalibration(p, o) == fit_recalibration(p, o)
    with pytest.raises(ScoringError, match="probs: expected probabilities in \\[0, 1\\], found 1.5"):
        fit_recalibration([1.5], [1])
    with pytest.raises(ScoringError, match="outcomes: expected binary outcomes"):
        fit_recalibration([0.5], [2])
    with pytest.raises(ScoringError, match="the same length"):
        fit_recalibration([0.5, 0.4], [1])
    with pytest.raises(ScoringError, match="prior_sd: expected a positive number"):
        fit_recalibration(p, o, prior_sd=0)
    assert float(recalibrate([0.9], RecalibrationMap(slope=0.0))[0]) == 0.5


# --------------------------------------------------------------------------- in the backtest

MANY = HEADER + """
nodes:
  x1: {bernoulli: {p: 0.05}}
  x2: {bernoulli: {p: 0.9}}
  x3: {bernoulli: {p: 0.1}}
  x4: {bernoulli: {p: 0.85}}
  x5: {bernoulli: {p: 0.2}}
  x6: {bernoulli: {p: 0.95}}
  x7: {bernoulli: {p: 0.3}}
  x8: {bernoulli: {p: 0.7}}
  x9: {bernoulli: {p: 0.15}}
  z: {bernoulli: {p: 0.5}}
"""

QUESTIONS = "questions:\n" + "".join(
    f"  - {{id: q{i}, open: 2023-09-05, close: 2024-12-31, resolve: {{is: {{x{i}: true}}}}}}\n" for i in range(1, 10)
) + "  - {id: qnew, open: 2023-10-20, close: 2024-12-31, resolve: {is: {x7: true}}}\n"

# q1..q6 resolved before D = 2024-02-05 (surprising the model: overconfidence), q7 on D, q8 and q9 after
BEFORE = {1: (True, "2023-10-01"), 2: (False, "2023-11-01"), 3: (True, "2023-11-15"), 4: (False, "2023-12-01"),
          5: (False, "2024-01-01"), 6: (False, "2024-01-20")}
D = dt.date(2024, 2, 5)


def _resolutions(write, name, rows):
    text = "questions:\n" + "".join(
        f"  - {{id: {qid}, outcome: {str(out).lower()}, resolved_on: {on}}}\n" for qid, (out, on) in rows.items())
    return load_resolutions(write(name, text))


def _base_rows():
    rows = {f"q{i}": v for i, v in BEFORE.items()}
    rows.update(q7=(True, "2024-02-05"), q8=(True, "2024-04-01"), q9=(False, "2024-06-01"))
    return rows


@pytest.fixture
def many(write):
    return load_model(write("many.yaml", MANY), questions=write("q.yaml", QUESTIONS))


def _at(result, day):
    return {r["question"]: r for r in result.rows if r["as_of"] == day}


@pytest.mark.parametrize("dates", ["monthly", "default"])
def test_the_map_at_d_uses_nothing_resolved_on_or_after_d(many, write, dates):
    model, questions = many
    as_of = None
    if dates == "monthly":
        as_of = [dt.date(2023, 9, 5) + dt.timedelta(days=30 * k) for k in range(12)] + [D]
    # news on D that bears on no question: D is one of the default dates
    ev = parse_evidence(model, [{"public_on": str(D), "source": URL, "observe": {"z": True}}])
    base = _base_rows()
    ref = run_backtest(model, questions, _resolutions(write, "r0.yaml", base), ev, as_of_dates=as_of,
                       samples=2000, seed=1, recalibrate=True)
    ref_at_d = _at(ref, D)
    assert set(ref_at_d) == {"q8", "q9"}
    assert {r["forecast_recalibrated"] == r["forecast"] for r in ref_at_d.values()} == {False}  # a real map at D
    later = dict(base)
    later.update(q7=(False, "2024-02-05"), q8=(False, "2024-04-01"))  # outcomes on and after D changed
    del later["q9"]  # one removed
    later["qnew"] = (True, "2024-03-01")  # one added, opening on a date of its own
    changed = run_backtest(model, questions, _resolutions(write, "r1.yaml", later), ev, as_of_dates=as_of,
                           samples=2000, seed=1, recalibrate=True)
    for day in sorted({r["as_of"] for r in ref.rows if r["as_of"] <= D}):
        a, b = _at(ref, day), _at(changed, day)
        for qid in set(a) & set(b):
            assert a[qid]["forecast_recalibrated"] == b[qid]["forecast_recalibrated"], (day, qid)
    assert _at(changed, D)["q8"]["forecast_recalibrated"] == ref_at_d["q8"]["forecast_recalibrated"]
    # the test can fail: an outcome resolved before D does move the map at D
    earlier = dict(base)
    earlier["q6"] = (True, "2024-01-20")
    moved = run_backtest(model, questions, _resolutions(write, "r2.yaml", earlier), ev, as_of_dates=as_of,
                         samples=2000, seed=1, recalibrate=True)
    assert _at(moved, D)["q8"]["forecast_recalibrated"] != ref_at_d["q8"]["forecast_recalibrated"]


def test_track_record_is_one_forecast_at_open_per_question_known_before_each_date(many, write):
    model, questions = many
    res = _resolutions(write, "r.yaml", _base_rows())
    result = run_backtest(model, questions, res, Evidence(), as_of_dates=[model.as_of, D], samples=1000, seed=2,
                          recalibrate=True)
    record = track_record(result.rows, {q.id: q for q in questions}, res)
    assert [t[3] for t in record] == [f"q{i}" for i in range(1, 10)]
    for known, p, outcome, qid in record:
        assert known == res[qid].resolved_on and outcome == int(res[qid].outcome)
        assert p == result.path(qid)[0]["forecast"]
    maps = maps_by_date([dt.date(2023, 10, 1), dt.date(2023, 10, 2), D], record)
    assert maps[dt.date(2023, 10, 1)].is_identity  # nothing known before
    assert maps[dt.date(2023, 10, 2)].is_identity  # one question known: too few
    assert maps[D].n == 6  # q1..q6; q7 resolved on D is not used
    table = result.summary["recalibrated"]["maps"]
    assert table[str(D)]["n_known"] == 6 and table[str(D)]["n_fitted"] == 6


def test_raw_forecasts_and_scores_are_untouched_and_the_run_is_deterministic(many, write):
    model, questions = many
    res = _resolutions(write, "r.yaml", _base_rows())
    raw = run_backtest(model, questions, res, Evidence(), samples=1000, seed=3)
    rec = run_backtest(model, questions, res, Evidence(), samples=1000, seed=3, recalibrate=True)
    again = run_backtest(model, questions, res, Evidence(), samples=1000, seed=3, recalibrate=True)
    assert rec.rows == again.rows and rec.to_json() == again.to_json()
    cols = raw.ROW_COLUMNS
    assert [{c: r[c] for c in cols} for r in rec.rows] == [{c: r[c] for c in cols} for r in raw.rows]
    rec_summary = json.loads(rec.to_json())
    raw_summary = json.loads(raw.to_json())
    assert rec_summary["overall"] == raw_summary["overall"]
    assert "recalibrated" not in raw_summary
    block = rec_summary["recalibrated"]["overall"]
    assert set(block) >= {"brier_open", "brier_time_averaged", "log_score_open", "decomposition_open", "baselines"}
    assert set(block["baselines"]) >= {"always_0.5", "base_rate"}
    # the recalibrated scores are the scores of the recalibrated forecasts
    for r in rec.rows:
        assert r["brier_recalibrated"] == pytest.approx((r["forecast_recalibrated"] - r["outcome"]) ** 2, abs=1e-15)
    # before five outcomes are known the map is the identity: recalibrated == raw, bit for bit
    first = [r for r in rec.rows if r["as_of"] == model.as_of]
    assert first and all(r["forecast_recalibrated"] == r["forecast"] for r in first)
    header = rec.to_csv().splitlines()[0].split(",")
    assert header[-3:] == ["forecast_recalibrated", "brier_recalibrated", "log_score_recalibrated"]
    assert "forecast_recalibrated" not in raw.to_csv().splitlines()[0]


def test_cli_recalibrate_flag(many, write, tmp_path, capsys):
    params = write("many.yaml", MANY)
    qfile = write("q.yaml", QUESTIONS)
    rfile = write("r.yaml", "questions:\n" + "".join(
        f"  - {{id: {qid}, outcome: {str(out).lower()}, resolved_on: {on}}}\n" for qid, (out, on) in _base_rows().items()))
    out = str(tmp_path / "bt")
    assert main(["backtest", params, "--questions", qfile, "--resolutions", rfile, "-n", "1000", "--recalibrate", "--out", out]) == 0
    text = capsys.readouterr().out
    assert "recalibrated (fitted on questions resolved before each date): Brier at open" in text
    assert "largest Monte Carlo standard error of a forecast" in text
    rows = list(csv.DictReader(open(os.path.join(out, "backtest.csv"))))
    assert {"mcse", "forecast_recalibrated", "brier_recalibrated"} <= set(rows[0])
    summary = json.load(open(os.path.join(out, "summary.json")))
    assert summary["recalibrated"]["overall"]["brier_open"]["mean"] is not None


# --------------------------------------------------------------------------- Monte Carlo standard error

WEIGHTED = HEADER + """
nodes:
  a: {bernoulli: {p: 0.3}}
  b:
    by: a
    cases:
      true: {categorical: {x: 0.8, y: 0.2}}
      false: {categorical: {x: 0.1, y: 0.9}}
questions:
  - {id: qa, open: 2023-09-05, close: 2023-12-31, resolve: {is: {a: true}}}
"""
QA_RESOLVED = "questions:\n  - {id: qa, outcome: true, resolved_on: 2023-12-01}\n"


def test_mcse_with_uniform_weights_is_the_binomial_standard_error(write):
    model, questions = load_model(write("w.yaml", WEIGHTED))
    res = load_resolutions(write("r.yaml", QA_RESOLVED))
    n, p = 20_000, 0.3
    result = run_backtest(model, questions, res, Evidence(), as_of_dates=[model.as_of], samples=n, seed=4)
    (row,) = result.rows
    f = row["forecast"]
    assert row["mcse"] == pytest.approx(math.sqrt(f * (1 - f) / n), rel=1e-12)  # the plug-in value, exactly
    # against the analytic sqrt(p(1-p)/n): the plug-in moves by |d mcse/dp| * se(f) = |1-2p| / (2n) per se
    assert abs(row["mcse"] - math.sqrt(p * (1 - p) / n)) < 5 * abs(1 - 2 * p) / (2 * n) + 1e-12
    assert result.summary["mcse"][str(model.as_of)] == {"mcse": row["mcse"], "question": "qa"}
    assert result.summary["by_date"][0]["mcse_max"] == row["mcse"]


def test_mcse_with_evidence_weights_is_the_delta_method_value(write, monkeypatch):
    # observing b = x weights a world by P(x | a): 0.8 if a, else 0.1, so weights track the answer;
    # plain likelihood weighting (its ESS, 48% of the worlds, would otherwise be resampled)
    monkeypatch.setattr(asof, "RESAMPLE_BELOW", 0.0)
    model, questions = load_model(write("w.yaml", WEIGHTED))
    res = load_resolutions(write("r.yaml", QA_RESOLVED))
    ev = parse_evidence(model, [{"public_on": "2023-09-10", "source": URL, "observe": {"b": "x"}}])
    n = 20_000
    day = dt.date(2023, 9, 10)
    result = run_backtest(model, questions, res, ev, as_of_dates=[day], samples=n, seed=4)
    (row,) = result.rows
    prior, like = np.array([0.3, 0.7]), np.array([0.8, 0.1])  # a true, a false
    post = prior[0] * like[0] / (prior @ like)
    assert abs(row["forecast"] - post) < 5 * row["mcse"]
    # asymptotic variance of the self-normalised estimate: E[w^2 (a - p)^2] / (E w)^2 / n
    dev = np.array([1 - post, -post])
    v = like**2 * dev**2
    exact = math.sqrt(prior @ v / (prior @ like) ** 2 / n)
    # tolerance from the sampling noise of the two means the estimate is made of
    rel_v = math.sqrt(prior @ v**2 - (prior @ v) ** 2) / (prior @ v)
    rel_w = math.sqrt(prior @ like**2 - (prior @ like) ** 2) / (prior @ like)
    assert abs(row["mcse"] / exact - 1) < 5 * (rel_v / 2 + rel_w) / math.sqrt(n)
    # sqrt(p(1-p)/ESS) would be 1.6 times larger here
    assert math.sqrt(post * (1 - post) / row["ess"]) > 1.4 * exact


def test_the_notebook_overview_shows_the_recalibrated_row_beside_the_model(many, write):
    from scenarios.notebook.backtest_plots import overview_rows

    model, questions = many
    res = _resolutions(write, "r.yaml", _base_rows())
    as_of = [model.as_of, dt.date(2023, 12, 5), D, dt.date(2024, 3, 5)]
    rec = run_backtest(model, questions, res, Evidence(), as_of_dates=as_of, samples=1000, seed=3, recalibrate=True)
    raw = run_backtest(model, questions, res, Evidence(), as_of_dates=as_of, samples=1000, seed=3)
    labels = [r["forecaster"] for r in overview_rows(rec.summary)]
    assert labels[:2] == ["model with evidence", "model, recalibrated on its track record"]
    assert "model, recalibrated on its track record" not in [r["forecaster"] for r in overview_rows(raw.summary)]
    # the paired difference is raw minus recalibrated, question by question
    recal = {q["id"]: q for q in rec.summary["recalibrated"]["questions"]}
    d = rec.summary["recalibrated"]["overall"]["difference_raw_minus_recalibrated_time_averaged"]
    expected = np.mean([q["brier_time_averaged"] - recal[q["id"]]["brier_time_averaged"] for q in rec.summary["questions"]])
    assert d["mean"] == pytest.approx(expected, abs=1e-12) and d["low"] <= d["mean"] <= d["high"]


def test_recalibration_with_nothing_to_learn_from_or_nothing_to_score(write):
    # a numeric question only, and binary questions that never resolve: the flag changes nothing
    model, questions = load_model(write("w.yaml", WEIGHTED + """
  - {id: qgiven, open: 2023-09-05, close: 2023-12-31, given: {is: {a: true}}, resolve: {is: {b: x}}}
  - {id: qnever, open: 2023-09-05, close: 2023-12-31, resolve: {is: {b: y}}}
"""))
    res = load_resolutions(write("r.yaml", "questions:\n  - {id: qnever, outcome: null}\n"))
    result = run_backtest(model, questions, res, Evidence(), samples=500, seed=1, recalibrate=True)
    assert result.rows == [] and result.summary["recalibrated"]["overall"] is None
    assert "recalibrated" not in result.to_csv() and "recalibrated (" not in format_summary(result.summary)
    # a given: question: its MCSE counts only the worlds where the condition holds
    res = load_resolutions(write("r2.yaml", "questions:\n  - {id: qgiven, outcome: true, resolved_on: 2023-12-01}\n"))
    (row,) = run_backtest(model, questions, res, Evidence(), as_of_dates=[model.as_of], samples=4000, seed=1,
                          recalibrate=True).rows
    assert row["ess"] < 2000 and row["mcse"] == pytest.approx(math.sqrt(row["forecast"] * (1 - row["forecast"]) / row["ess"]))
    assert row["forecast_recalibrated"] == row["forecast"]
