"""Date questions scored against dated resolutions, grouped by behaviour.

Sections: the three scores against hand-computed and analytic values (closed forms, scipy
quadrature) and identities; their input checks; the resolutions file's dated outcomes and its
errors; a tiny model's backtest, whose date rows and summary come out with scores known exactly;
the backtest notebook's date section.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from conftest import REPO
from scenarios.backtest import backtest_for, format_summary, load_resolutions, run_backtest
from scenarios.cli import main
from scenarios.engine.evidence import parse_evidence
from scenarios.errors import ParamsError, ScoringError
from scenarios.model.load import load_model
from scenarios.scoring import crps_ensemble, date_absolute_error, date_crps, date_month_probability

INF = math.inf
M = 20_000
LEVELS = (np.arange(M) + 0.5) / M  # quantile points standing for a continuous distribution
START = dt.date(2023, 9, 5)


def uniform_days(a, b):
    return a + (b - a) * LEVELS


def exponential_days(rate):
    return -np.log1p(-LEVELS) / rate


# =========================================================================== scores: hand-computed values


class TestHandComputed:
    def test_absolute_error_of_the_median(self):
        # median of {4, 10, never} is day 10; the event was on day 8
        assert date_absolute_error([4.0, 10.0, INF], 8, close=30) == 2.0
        # weights move the median: 0.6 on day 4
        assert date_absolute_error([4.0, 10.0, INF], 8, close=30, weights=[3, 1, 1]) == 4.0

    def test_never_is_the_day_after_the_close(self):
        # a median of never against day 8: close + 1 - 8
        assert date_absolute_error([40.0, INF, INF], 8, close=30) == 23.0
        # a median day against never: close + 1 - 10
        assert date_absolute_error([10.0, 10.0, INF], INF, close=30) == 21.0
        # never against never, and a day after the close is never in the forecast and the truth
        assert date_absolute_error([INF, 45.0], INF, close=30) == 0.0
        assert date_absolute_error([45.0], 50, close=30) == 0.0

    def test_crps_by_hand(self):
        # a sure forecast scores its distance, in days
        assert date_crps([12.0], 8, close=30) == 4.0
        # half on day 10, half never (day 20): F = 1/2 on [10, 20), truth day 10 -> (1/2)^2 * 10
        assert date_crps([10.0, INF], 10, close=19) == 2.5
        # the same forecast, truth never: (1/2)^2 * 10
        assert date_crps([10.0, INF], INF, close=19) == 2.5
        # sure of never, truth day 5: close + 1 - 5
        assert date_crps([INF], 5, close=19) == 15.0

    def test_probability_of_the_true_month(self):
        # from 2023-09-05 (day 0): day 8 is 2023-09-13, day 20 2023-09-25, day 30 2023-10-05
        days = [8.0, 20.0, 30.0, INF]
        assert date_month_probability(days, 8, start=START, close=100) == 0.5
        assert date_month_probability(days, 30, start=START, close=100) == 0.25
        assert date_month_probability(days, INF, start=START, close=100) == 0.25
        # a fractional day falls on day ceil(t): 25.5 is 2023-10-01, October; 25.0 is 2023-09-30
        assert date_month_probability([25.0, 25.5], 8, start=START, close=100) == 0.5
        assert date_month_probability([25.0, 25.5], 26, start=START, close=100) == 0.5

    def test_the_close_cuts_its_month_and_later_days_are_never(self):
        # close on day 28 (2023-10-03): day 30 (2023-10-05) is never, not October
        assert date_month_probability([26.0, 30.0], 26, start=START, close=28) == 0.5
        assert date_month_probability([26.0, 30.0], INF, start=START, close=28) == 0.5

    def test_a_perfect_forecast(self):
        assert date_absolute_error([8.0, 8.0], 8, close=30) == 0.0
        assert date_crps([8.0, 8.0], 8, close=30) == 0.0
        assert date_month_probability([8.0], 8, start=START, close=30) == 1.0
        assert date_crps([INF, 31.0], INF, close=30) == 0.0


# =========================================================================== scores: analytic values


class TestAnalytic:
    """Quantile points of a continuous distribution against its closed-form CRPS.  The midpoint
    grid's CRPS differs from the continuous one by about (b - a) / (6 M^2) for a uniform; the
    tolerances below are 50 times that."""

    @pytest.mark.parametrize("y", [3.0, 10.0, 27.3, 43.0, 50.0])
    def test_uniform(self, y):
        a, b = 3.0, 43.0
        if a <= y <= b:
            u = (y - a) / (b - a)
            exact = (b - a) * (u * u - u + 1 / 3)  # integral of F^2 below y and (1 - F)^2 above
        else:
            exact = abs(y - (a + b) / 2) - (b - a) / 6  # E|X - y| - E|X - X'| / 2
        assert date_crps(uniform_days(a, b), y, close=1e6) == pytest.approx(exact, abs=50 * (b - a) / M**2)

    @pytest.mark.parametrize("y", [0.0, 5.0, 12.0, 60.0])
    def test_exponential(self, y):
        rate = 1 / 12
        exact = y + 2 / rate * math.exp(-rate * y) - 3 / (2 * rate)  # Gneiting & Raftery's closed form
        assert date_crps(exponential_days(rate), y, close=1e6) == pytest.approx(exact, abs=1e-6)

    @pytest.mark.parametrize("y", [2.0, 20.0, 30.0, INF])
    def test_exponential_censored_at_the_close_by_quadrature(self, y):
        from scipy.integrate import quad
        from scipy.stats import expon

        rate, close = 1 / 12, 30.0
        never = close + 1
        truth = never if y == INF else y
        dist = expon(scale=1 / rate)

        def cdf(z):  # the mass after the close sits at close + 1: F is flat on [close, close + 1)
            return dist.cdf(min(z, close)) if z < never else 1.0

        exact = quad(lambda z: cdf(z) ** 2, 0, truth, limit=200)[0] + quad(lambda z: (1 - cdf(z)) ** 2, truth, never, limit=200)[0]
        # the grid's share after the close is within 1/(2M) of exp(-rate close), and F is flat
        # at that share for the one day before never: at most 2 * 1/(2M) * 1 day apart, plus the grid's own
        assert date_crps(exponential_days(rate), y, close=close) == pytest.approx(exact, abs=1 / M + 1e-6)

    def test_exponential_median_and_month(self):
        rate = 1 / 12
        median = math.log(2) / rate
        # the grid's median is the point at level 1/2 + 1/(2M): within a few 1/(rate M) days
        assert date_absolute_error(exponential_days(rate), 0, close=1e6) == pytest.approx(median, abs=3 / (rate * M))
        # September 2023 from 2023-09-05 is days (-5, 25]: P = F(25); October (25, 56]
        dist_cdf = lambda z: 1 - math.exp(-rate * z)  # noqa: E731
        got = date_month_probability(exponential_days(rate), 8, start=START, close=1e6)
        assert got == pytest.approx(dist_cdf(25), abs=2 / M)
        got = date_month_probability(exponential_days(rate), 30, start=START, close=1e6)
        assert got == pytest.approx(dist_cdf(56) - dist_cdf(25), abs=2 / M)


# =========================================================================== scores: identities


day_values = st.one_of(st.integers(-5, 60).map(float), st.just(INF))


class TestIdentities:
    @given(arrays(np.float64, st.integers(1, 40), elements=day_values), day_values)
    @settings(max_examples=200, deadline=None)
    def test_equal_weights_equal_crps_ensemble_of_the_censored_days(self, days, y):
        close = 30.0
        censored = np.where(days > close, close + 1, days)
        truth = close + 1 if y > close else y
        assert date_crps(days, y, close=close) == pytest.approx(float(crps_ensemble(censored, truth)), abs=1e-9)

    @given(arrays(np.float64, st.integers(1, 20), elements=day_values), st.data())
    @settings(max_examples=100, deadline=None)
    def test_integer_weights_equal_repeated_worlds(self, days, data):
        counts = np.array(data.draw(st.lists(st.integers(0, 4), min_size=len(days), max_size=len(days))))
        if counts.sum() == 0:
            counts[0] = 1
        y = data.draw(day_values)
        repeated = np.repeat(days, counts)
        for score in (date_absolute_error, date_crps):
            assert score(days, y, close=30, weights=counts) == pytest.approx(score(repeated, y, close=30), abs=1e-9)
        assert date_month_probability(days, y, start=START, close=30, weights=counts) == pytest.approx(
            date_month_probability(repeated, y, start=START, close=30), abs=1e-12)

    def test_crps_of_integer_days_is_the_sum_over_days(self):
        # the slow, obvious form for a forecast on whole days: sum over days of (F(k) - 1{k >= y})^2
        rng = np.random.default_rng(5)
        days = rng.integers(0, 40, 300).astype(float)
        days[rng.random(300) < 0.2] = INF
        close = 35
        for y in (0.0, 7.0, 35.0, INF):
            truth = close + 1 if y > close else y
            censored = np.where(days > close, close + 1, days)
            slow = sum((np.mean(censored <= k) - (k >= truth)) ** 2 for k in range(0, close + 1))
            assert date_crps(days, y, close=close) == pytest.approx(slow, abs=1e-12)

    def test_month_probabilities_add_up_to_one(self):
        rng = np.random.default_rng(6)
        days = np.where(rng.random(500) < 0.3, INF, rng.uniform(0, 100, 500))
        months = {(START + dt.timedelta(days=math.ceil(d))).replace(day=1): math.ceil(d) for d in days if d <= 90}
        total = sum(date_month_probability(days, d, start=START, close=90) for d in months.values())
        total += date_month_probability(days, INF, start=START, close=90)
        assert total == pytest.approx(1.0, abs=1e-12)


# =========================================================================== scores: input checks


@pytest.mark.parametrize("call, match", [
    (lambda: date_crps([1.0, float("nan")], 1, close=10), r"days: expected event days .*found NaN at index 1"),
    (lambda: date_crps([-INF], 1, close=10), r"days: expected event days"),
    (lambda: date_crps([], 1, close=10), r"days: expected at least one day"),
    (lambda: date_crps([[1.0]], 1, close=10), r"days: expected shape \(n,\)"),
    (lambda: date_crps([1.0, 2.0], 1, close=10, weights=[1.0]), r"days and weights: expected the same length, found 2 and 1"),
    (lambda: date_crps([1.0], 1, close=10, weights=[-1.0]), r"weights: expected non-negative numbers, found -1.0"),
    (lambda: date_crps([1.0], 1, close=10, weights=[0.0]), r"weights: expected a positive total"),
    (lambda: date_absolute_error([1.0], float("nan"), close=10), r"truth: expected a day or inf \(never\), found NaN"),
    (lambda: date_absolute_error([1.0], "2023-09-13", close=10), r"truth: expected a number of days, found str"),
    (lambda: date_absolute_error([1.0], 1, close=INF), r"close: expected a finite day, found inf"),
    (lambda: date_month_probability([1.0], 1, start="2023-09-05", close=10), r"start: expected a datetime.date"),
])
def test_bad_inputs_say_what_was_expected(call, match):
    with pytest.raises(ScoringError, match=match):
        call()


def test_the_doctests_hold():
    import doctest

    from scenarios.scoring import scores

    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for name in ("date_absolute_error", "date_crps", "date_month_probability"):
        for test in finder.find(getattr(scores, name), name, globs={**vars(scores)}):
            runner.run(test)
    assert runner.failures == 0 and runner.tries >= 4


# =========================================================================== resolutions: dated outcomes


def test_dated_resolutions_are_read(write):
    res = load_resolutions(write("r.yaml", """
        questions:
          - {id: a, type: date, value: 2024-06-19}
          - {id: b, type: date, outcome: never, close_date: 2024-12-31}
          - {id: c, value: 2024-06-19, resolved_on: 2024-07-01}
          - {id: d, value: '2024-06-19'}
          - {id: e, outcome: never}
          - {id: f, type: date, outcome: null}
          - {id: g, type: date, outcome: annulled}
          - {id: h, type: date, value: null, resolved_on: 2018-06-12}
        """))
    assert (res["a"].type, res["a"].status, res["a"].date, res["a"].never) == ("date", "resolved", dt.date(2024, 6, 19), False)
    assert res["a"].resolved_on == dt.date(2024, 6, 19)  # public when it happened, by default
    assert (res["b"].status, res["b"].never, res["b"].date, res["b"].resolved_on) == ("resolved", True, None, dt.date(2024, 12, 31))
    assert res["c"].type == "date" and res["c"].resolved_on == dt.date(2024, 7, 1)  # a date value implies type: date
    assert res["d"].date == dt.date(2024, 6, 19)
    assert res["e"].type == "date" and res["e"].never
    assert [res[k].status for k in "fgh"] == ["unresolved", "annulled", "unresolved"]


@pytest.mark.parametrize("entry, match", [
    ("{id: x, type: date, value: 3.5}", r"r\.yaml:2: questions\.0\.value: a date question resolves with value: YYYY-MM-DD .*; got float \(3\.5\)"),
    ("{id: x, type: date, value: June 2024}", r"questions\.0\.value: expected a date as YYYY-MM-DD, got a string \('June 2024'\)"),
    ("{id: x, type: date, value: 2024-11-31}", r"questions\.0\.value: expected a date as YYYY-MM-DD, got '2024-11-31', which is not a date"),
    ("{id: x, type: date, value: 2024-06-19, outcome: never}", r"questions\.0\.value: expected either value .* or outcome: never, not both"),
    ("{id: x, type: date, value: 2024-06-19, low: 2024-06-01}", r"questions\.0\.low: a date question resolves with .*low is for numeric questions"),
    ("{id: x, type: date, outcome: true}", r"questions\.0\.outcome: a date question resolves with value: YYYY-MM-DD .*; got outcome a boolean \(True\)"),
    ("{id: x, type: date, outcome: nevr}", r"questions\.0\.outcome: .*got outcome a string \('nevr'\) \(did you mean 'never'\?\)"),
    ("{id: x, type: binary, outcome: never}", r"questions\.0\.outcome: outcome: never is for date questions \(type: date\); a binary question resolves with outcome: true or false"),
    ("{id: x, type: numeric, outcome: never}", r"questions\.0\.outcome: outcome: never is for date questions"),
    ("{id: x, value: 2024-06-19, close_date: 2023-12-31}",
     r"questions\.0\.value: the event's date 2024-06-19 is after close_date 2023-12-31: .*outcome is never \(write outcome: never"),
    ("{id: x, value: 2024-06-19, resolved_on: 2024-06-01}",
     r"questions\.0\.resolved_on: expected a date on or after the event's date 2024-06-19 .* got 2024-06-01"),
])
def test_bad_dated_resolutions_are_refused_with_file_key_and_value(write, entry, match):
    with pytest.raises(ParamsError, match=match):
        load_resolutions(write("r.yaml", f"questions:\n  - {entry}\n"))


def test_the_repository_resolutions_date_the_summit():
    res = load_resolutions(os.path.join(REPO, "data", "resolutions.yaml"))
    summit = res["summit_date"]
    assert (summit.type, summit.status, summit.date, summit.resolved_on) == ("date", "resolved", dt.date(2023, 9, 13), dt.date(2023, 9, 13))


# =========================================================================== a tiny model's backtest


MODEL = """\
as_of: 2023-09-05
horizon_months: 12
seed: 7
samples: 1000
nodes:
  go: {bernoulli: {p: 0.7}}
  e:
    event:
      when: go
      delay: {constant: 10}
  sure:
    event:
      delay: {constant: 20}
  g: {bernoulli: {p: 0.5}}
questions:
  - {id: when_e, type: date, open: 2023-09-05, close: 2023-10-31, resolve: {event: e}}
  - {id: when_sure, type: date, open: 2023-09-05, close: 2023-10-31, resolve: {event: sure}}
  - {id: when_unresolved, type: date, open: 2023-09-05, close: 2023-10-31, resolve: {event: e}}
  - {id: qg, open: 2023-09-05, close: 2023-12-31, resolve: {is: {g: true}}}
resolutions: resolutions.yaml
"""

RESOLVED = """\
questions:
  - {id: when_e, value: 2023-09-20}
  - {id: when_sure, outcome: never}
  - {id: when_unresolved, type: date, outcome: null}
  - {id: qg, outcome: true, resolved_on: 2023-10-01}
"""

CLOSE = (dt.date(2023, 10, 31) - START).days  # day 56: never is day 57
E_DAY, TRUE_DAY, SURE_DAY = 10, 15, 20  # 2023-09-15, 2023-09-20, 2023-09-25
URL = "https://example.org/news"


@pytest.fixture
def tiny(write):
    params = write("model.yaml", MODEL)
    write("resolutions.yaml", RESOLVED)
    model, questions = load_model(params)
    res = load_resolutions(os.path.join(os.path.dirname(params), "resolutions.yaml"))
    evidence = parse_evidence(model, [{"public_on": "2023-09-10", "source": URL, "observe": {"go": True}}])
    return params, model, questions, res, evidence


def test_date_rows_have_the_scores_of_a_known_forecast(tiny):
    _, model, questions, res, evidence = tiny
    # several chunks of worlds: the day masses are added across them
    result = run_backtest(model, questions, res, evidence, samples=1000, chunk_size=300)
    rows = {(r["question"], r["as_of"]): r for r in result.date_rows}
    assert sorted({q for q, _ in rows}) == ["when_e", "when_sure"]  # the unresolved one is not scored
    before, after = rows["when_e", dt.date(2023, 9, 5)], rows["when_e", dt.date(2023, 9, 10)]
    # before the evidence: day 10 with weight 1 - p, never with weight p (p about 0.3)
    p = before["p_never"]
    assert 0.2 < p < 0.4
    assert before["q50"] == "2023-09-15" and before["q95"] == "never" and before["resolution"] == "2023-09-20"
    assert before["abs_error_days"] == TRUE_DAY - E_DAY
    assert before["crps_days"] == pytest.approx((1 - p) ** 2 * (TRUE_DAY - E_DAY) + p**2 * (CLOSE + 1 - TRUE_DAY), abs=1e-12)
    assert before["p_true_month"] == pytest.approx(1 - p, abs=1e-12) and before["true_month"] == "2023-09"
    # once go is observed every world has the event on day 10: a sure forecast, 5 days early
    assert (after["p_never"], after["abs_error_days"], after["crps_days"], after["p_true_month"]) == (0.0, 5.0, 5.0, 1.0)
    # stands until the next as-of date, then until the resolution (2023-09-20)
    assert (before["days"], after["days"]) == (5, 10)
    sure = rows["when_sure", dt.date(2023, 9, 5)]
    assert (sure["q05"], sure["q95"], sure["resolution"], sure["true_month"]) == ("2023-09-25", "2023-09-25", "never", "never")
    assert (sure["abs_error_days"], sure["crps_days"], sure["p_true_month"]) == (CLOSE + 1 - SURE_DAY,) * 2 + (0.0,)

    dates = result.summary["dates"]
    e = next(q for q in dates["questions"] if q["id"] == "when_e")
    assert e["crps_days_open"] == before["crps_days"] and e["crps_days_last"] == 5.0
    assert e["crps_days_time_averaged"] == pytest.approx((5 * before["crps_days"] + 10 * 5.0) / 15, abs=1e-12)
    assert e["no_evidence_crps_days"] == before["crps_days"]  # nothing was public on 2023-09-05
    assert (e["median_open"], e["resolved_on"], e["days"], e["n_forecasts"]) == ("2023-09-15", dt.date(2023, 9, 20), 15, 2)
    assert dates["overall"]["n_questions"] == 2
    assert dates["overall"]["abs_error_days_open"] == pytest.approx((5 + CLOSE + 1 - SURE_DAY) / 2)
    assert result.summary["counts"]["date_scored"] == 2 and result.summary["counts"]["resolved_not_scored_type"] == []
    assert "dates: 2 date question(s) scored" in format_summary(result.summary)


def test_the_binary_rows_do_not_change_with_date_questions(tiny):
    _, model, questions, res, evidence = tiny
    with_dates = run_backtest(model, questions, res, evidence, samples=500)
    without = run_backtest(model, [q for q in questions if q.type != "date"], res, evidence, samples=500)
    assert with_dates.rows == without.rows and with_dates.to_csv() == without.to_csv()
    assert without.date_rows == [] and without.summary["dates"] == {"questions": [], "overall": None, "resolved_never_open": []}


def test_a_dated_resolution_after_the_question_closes_is_an_error(tiny, write):
    params, model, questions, _, evidence = tiny
    path = write("late.yaml", "questions:\n  - {id: when_e, value: 2023-11-15}\n")
    with pytest.raises(ParamsError, match=r"late\.yaml:2: questions\.0\.value: question 'when_e' closes on 2023-10-31 but its "
                                          r"resolution is the date 2023-11-15: .*outcome is never"):
        run_backtest(model, questions, load_resolutions(path), evidence, samples=200)


def test_a_dated_question_never_open_is_counted(tiny, write):
    _, model, questions, _, evidence = tiny
    path = write("early.yaml", "questions:\n  - {id: when_e, value: 2023-09-05}\n  - {id: qg, outcome: true}\n")
    result = run_backtest(model, questions, load_resolutions(path), evidence, samples=200)
    assert result.date_rows == [] and result.summary["dates"]["resolved_never_open"] == ["when_e"]


def test_the_command_writes_dates_csv(tiny, tmp_path, capsys):
    params, *_ = tiny
    out = tmp_path / "bt"
    assert main(["backtest", params, "-n", "400", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "dates: 2 date question(s) scored" in text and f"wrote {out / 'dates.csv'}" in text
    rows = list(csv.DictReader(io.StringIO((out / "dates.csv").read_text())))
    assert list(rows[0]) == ["question", "as_of", "q05", "q50", "q95", "p_never", "resolution", "abs_error_days",
                             "crps_days", "p_true_month", "true_month", "days"]
    assert {r["question"] for r in rows} == {"when_e", "when_sure"}
    marks = json.loads((out / ".scenarios-backtest.json").read_text())
    assert set(marks) == {"backtest.csv", "numeric.csv", "summary.json", "dates.csv"}
    assert "dates" in json.loads((out / "summary.json").read_text())
    # an edited dates.csv is not the backtest's to overwrite
    (out / "dates.csv").write_text("edited\n")
    assert main(["backtest", params, "-n", "400", "--out", str(out), "--no-progress"]) == 2
    assert (out / "dates.csv").read_text() == "edited\n"


# =========================================================================== the notebook's section


def test_the_notebook_section_shows_a_table_and_a_figure(tiny):
    from scenarios.notebook import backtest_plots, plots

    params, model, questions, *_ = tiny
    result = backtest_for(model, questions, samples=500)
    assert backtest_plots.dates_skipped(result.summary) == ""
    table = backtest_plots.date_question_rows(result.summary)
    e = next(r for r in table if r["question"] == "when_e")
    assert (e["happened"], e["median at open"], e["error at open (days)"]) == ("2023-09-20", "2023-09-15", "5.0")
    q = next(q for q in result.summary["dates"]["questions"] if q["id"] == "when_sure")
    data = backtest_plots.date_forest_data([r for r in result.date_rows if r["question"] == "when_sure"], q)
    assert data["truth"] == data["never"] == np.datetime64("2023-11-01")
    assert list(data["q50"]) == [np.datetime64("2023-09-25")]
    fig = backtest_plots.date_figure(result)
    assert plots.has_data(fig) and len(fig.axes) == 2


def test_the_notebook_section_says_why_when_there_is_nothing_to_score(tiny):
    from scenarios.notebook import backtest_plots

    _, model, questions, res, evidence = tiny
    result = run_backtest(model, [q for q in questions if q.type != "date"], res, evidence, samples=200)
    assert "no date question with a dated resolution" in backtest_plots.dates_skipped(result.summary)
    assert "no date question" in backtest_plots.dates_skipped(None)


def test_the_backtest_notebook_has_the_date_section():
    nb = json.load(open(os.path.join(REPO, "notebooks", "03_backtest.ipynb"), encoding="utf-8"))
    code = "".join(nb["cells"][-1]["source"])
    assert nb["cells"][-2]["cell_type"] == "markdown" and "## Dates" in "".join(nb["cells"][-2]["source"])
    assert "backtest_plots.dates_skipped" in code and "sections.say(reason)" in code
    assert "backtest_plots.date_question_rows" in code and "backtest_plots.date_figure" in code
