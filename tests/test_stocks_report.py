"""Stocks and flows as users count them: a flow's starting level (``initial:``), stocks charted
like flows (report, notebook figures, backtest fans), split panels that name their node, and
table numbers that never print as ``1.294e+04``, ``None`` or ``nan``."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pytest

from conftest import HEADER
from scenarios.backtest import fan_paths, format_summary, report_fan_dates, report_fans
from scenarios.backtest.fans import fan_quantities
from scenarios.engine.asof import forecast_as_of
from scenarios.engine.evidence import parse_evidence
from scenarios.engine.forecast import run_forecast
from scenarios.engine.simulate import simulate
from scenarios.errors import ParamsError
from scenarios.model.load import load_model
from scenarios.model.report_spec import FlowChart, report_spec
from scenarios.model.worlds import Worlds
from scenarios.notebook import backtest_plots, plotdata, plots
from scenarios.notebook.plotdata import Estimate

URL = "https://example.org/report"

# rate 10 a month, counted as expected: the running total at the end of month m is exactly
# 100 + 10 m, and on 2023-10-20 (day 45: month 1 and half of month 2) 100 + 15 = 115
EXACT = HEADER + """
nodes:
  shipped:
    flow: {rate: 10, count: expected, initial: 100}
  troops:
    stock: {rate: 100, initial: 50}
  said:
    statement: {about: shipped, date: 2023-10-20, bias: 1, noise: 0}
questions:
  - {id: total_m3, type: numeric, resolve: {quantity: shipped.cumulative, month: 3}}
  - {id: total_on, type: numeric, resolve: {quantity: shipped.cumulative, 'on': 2023-10-20}}
  - {id: month_2, type: numeric, resolve: {quantity: shipped, month: 2}}
  - {id: past_125, resolve: {quantity: shipped.cumulative, month: 2, at_least: 125}}
"""


def item(public_on, **what):
    return {"public_on": public_on, "source": URL, **what}


@pytest.fixture
def exact(write):
    return load_model(write("exact.yaml", EXACT))


# --------------------------------------------------------------------------- initial: of a flow


def test_every_running_total_starts_from_the_initial_level(exact):
    model, questions = exact
    f = run_forecast(model, questions, samples=200, seed=1).by_id()
    assert f["total_m3"].quantiles[0.5] == 130 and f["total_m3"].mean == 130  # a question on X.cumulative
    assert f["total_on"].quantiles[0.5] == pytest.approx(115)
    assert f["month_2"].mean == 10  # the per-month counts do not change
    assert f["past_125"].probability == 0.0  # 120 at the end of month 2
    worlds = simulate(model, 200, 1)
    assert np.all(worlds["shipped"] == 10)
    assert np.all(worlds.cumulative("shipped") == 100 + 10 * np.arange(1, 13))
    assert np.all(worlds.cumulative_on("shipped", dt.date(2023, 10, 20)) == pytest.approx(115))
    assert np.all(worlds.cumulative_on("shipped", model.as_of) == 100)  # the level at as_of itself
    fans = plotdata.flow_fans(worlds, "shipped", cumulative=True)  # the chart's running total
    assert fans[0].median.tolist() == (100 + 10 * np.arange(1, 13)).tolist()
    assert np.all(worlds["said"][:, 1] == pytest.approx(115))  # a statement says the running total


def test_an_evidence_report_on_the_running_total_includes_the_initial_level(exact):
    model, _ = exact
    ev = parse_evidence(model, [item("2023-10-21", report={
        "quantity": "shipped.cumulative", "on": "2023-10-20", "said": {"value": 115},
        "likelihood": {"normal": {"sd": 1}}})])
    report = ev.reports()[0].report
    worlds = simulate(model, 50, 1)
    assert np.all(report.true_values(model, worlds.arrays) == pytest.approx(115))


def test_evidence_on_a_running_total_counted_from_an_earlier_date_lines_up(write):
    # rate ~ U(5, 15); a report of 110 +- 1 at the end of month 1 means rate ~ N(10, 1) given a
    # starting level of 100 (without it, 110 a month is impossible and every world weighs 0),
    # so the running total at the end of month 3, 100 + 3 rate, has median 130 and sd 3
    text = HEADER + """
nodes:
  rate: {uniform: [5, 15]}
  shipped:
    flow: {rate: rate, count: expected, initial: 100}
questions:
  - {id: total_m3, type: numeric, resolve: {quantity: shipped.cumulative, month: 3}}
"""
    model, questions = load_model(write("m.yaml", text))
    ev = parse_evidence(model, [item("2023-10-06", report={
        "quantity": "shipped.cumulative", "on": "2023-10-05", "said": {"value": 110},
        "likelihood": {"normal": {"sd": 1}}})])
    f = forecast_as_of(model, questions, ev, dt.date(2023, 10, 6), samples=20_000, seed=3)
    median = f.by_id()["total_m3"].quantiles[0.5]
    se = 1.2533 * 3 / math.sqrt(f.ess)  # of a normal median
    assert abs(median - 130) < 5 * se


def test_a_flow_without_initial_keeps_its_numbers(write):
    model, _ = load_model(write("m.yaml", HEADER + "nodes:\n  c: {flow: {rate: 4}}\n"))
    assert model.flow_initial("c") == 0.0
    worlds = simulate(model, 300, 2)
    total = worlds.cumulative("c")
    assert total.dtype == np.cumsum(worlds["c"], axis=1).dtype and np.array_equal(total, np.cumsum(worlds["c"], axis=1))


@pytest.mark.parametrize(("value", "match"), [
    ("-5", r"expected a level at as_of \(a count >= 0.*\), got -5"),
    (".nan", "got NaN"),
    (".inf", r"got inf \(not a finite number\)"),
    ("lots", r"got a string \('lots'\)"),
    ("[1, 2]", r"got a list"),
    ("{uniform: [1, 2]}", r"got a mapping"),
    ("true", r"got a boolean"),
])
def test_a_bad_initial_level_names_its_key_path(write, value, match):
    path = write("m.yaml", HEADER + f"nodes:\n  c:\n    flow: {{rate: 4, initial: {value}}}\n")
    with pytest.raises(ParamsError, match=match) as err:
        load_model(path)
    assert err.value.path == "nodes.c.flow.initial" and err.value.file == path


def test_initial_goes_on_a_nodes_own_flow(write):
    path = write("m.yaml", HEADER + """
nodes:
  a: {bernoulli: {p: 0.5}}
  c:
    by: a
    cases:
      true: {flow: {rate: 4, initial: 10}}
      false: {flow: {rate: 1}}
""")
    with pytest.raises(ParamsError, match="initial: goes on a node's own flow") as err:
        load_model(path)
    assert err.value.path == "nodes.c.cases.true.flow.initial"


# --------------------------------------------------------------------------- stocks in the report

STOCKS = HEADER + """
nodes:
  treaty: {bernoulli: {p: 0.4}}
  colour: {categorical: {red: 0.5, blue: 0.5}}
  rate: {uniform: [0, 10]}
  troops:
    stock: {rate: rate, initial: 5}
  shipped:
    flow: {rate: {by: treaty, cases: {true: 20, false: 2}}, count: expected}
"""


@pytest.fixture
def stocks(write):
    return load_model(write("stocks.yaml", STOCKS))


def test_report_flows_accept_stocks_and_the_defaults_include_them(stocks, write):
    model, _ = stocks
    assert report_spec(model).flows == (FlowChart("troops", "troops", "troops", None, None, "stock"),
                                       FlowChart("shipped", "shipped", "shipped", None, None, "flow"))
    path = write("r.yaml", STOCKS + "report: {flows: [{node: troops, unit: soldiers, by: treaty}, shipped]}\n")
    spec = report_spec(load_model(path)[0])
    assert [(f.node, f.kind, f.by) for f in spec.flows] == [("troops", "stock", "treaty"), ("shipped", "flow", None)]


def test_a_chart_of_the_wrong_kind_says_a_flow_or_stock_node(write):
    path = write("r.yaml", STOCKS + "report: {flows: [rate]}\n")
    with pytest.raises(ParamsError, match=r"expected a flow or stock node, 'rate' is a number node \(the model's: troops, shipped\)") as err:
        load_model(path)
    assert err.value.path == "report.flows.0.node"


def test_a_stocks_fans_are_its_change_per_month_and_its_level(stocks):
    # level at the end of month m = 5 + m rate with rate ~ U(0, 10): median 5 + 5 m
    model, _ = stocks
    worlds = simulate(model, 4000, 11)
    levels = plotdata.flow_fans(worlds, "troops", cumulative=True)[0]
    change = plotdata.flow_fans(worlds, "troops")[0]
    assert levels.dates == worlds.month_end_dates() and levels.values.shape == (5, model.horizon_months)
    m = np.arange(1, model.horizon_months + 1)
    se = 0.5 / math.sqrt(4000) * 10 * m  # of the median of m U(0, 10)
    assert np.all(np.abs(levels.median - (5 + 5 * m)) < 5 * se)
    assert np.allclose(change.median, change.median[0]) and abs(change.median[0] - 5) < 5 * se[0]
    assert np.array_equal(plotdata.month_values(worlds, "troops", cumulative=True), worlds["troops"][:, 1:])


def test_weighted_worlds_give_weighted_fans_of_a_stock(stocks):
    # worlds weighted by their rate: the rate's density becomes r / 50 on [0, 10], its median
    # 10 / sqrt(2), so the level's median at the end of month m is 5 + m 10 / sqrt(2)
    model, _ = stocks
    plain = simulate(model, 4000, 12)
    worlds = Worlds(model, plain.arrays, np.asarray(plain["rate"], dtype=float))
    fan = plotdata.flow_fans(worlds, "troops", cumulative=True)[0]
    m = np.arange(1, model.horizon_months + 1)
    ess = worlds.weights.sum() ** 2 / (worlds.weights**2).sum()
    se = 0.5 / math.sqrt(ess) / (2 * (10 / math.sqrt(2)) / 100) * m
    assert np.all(np.abs(fan.median - (5 + m * 10 / math.sqrt(2))) < 5 * se)


def test_split_panels_name_their_node(stocks):
    model, _ = stocks
    plain = simulate(model, 4000, 13)
    weights = np.where(plain["treaty"], 3.0, 1.0)  # evidence-weighted worlds: shares by weight
    worlds = Worlds(model, plain.arrays, weights)
    fans = plotdata.flow_fans(worlds, "troops", cumulative=True, by="treaty")
    assert [f.label for f in fans] == ["all worlds", "treaty: no", "treaty: yes"]
    share = weights[plain["treaty"]].sum() / weights.sum()
    assert fans[2].probability == pytest.approx(share) and fans[1].probability == pytest.approx(1 - share)
    assert [f.label for f in plotdata.flow_fans(worlds, "shipped", by="colour")][1:] == ["colour: red", "colour: blue"]
    fig, ax = plots.figure()
    plots.fan_chart(fans[1], ax)
    assert ax.get_title() == f"treaty: no (P = {1 - share:.2f})"


def test_a_stocks_figure_labels_its_rows_and_draws_the_estimates(stocks):
    model, _ = stocks
    worlds = simulate(model, 1000, 14)
    points = [Estimate(dt.date(2023, 12, 1), 40.0, 30.0, 50.0, "someone")]
    fig = plots.flow_figure(plotdata.flow_fans(worlds, "troops", by="treaty"),
                            plotdata.flow_fans(worlds, "troops", by="treaty", cumulative=True),
                            points, title="Troops", unit="soldiers", kind="stock")
    axes = fig.get_axes()
    assert len(axes) == 6
    assert axes[0].get_ylabel() == "soldiers, change per month" and axes[3].get_ylabel() == "soldiers, level"
    assert axes[1].get_title().startswith("treaty: no (P = ")
    assert plots.has_data(fig)
    with pytest.raises(Exception, match="kind must be one of"):
        plots.flow_figure([], [], kind="level")


# --------------------------------------------------------------------------- backtest fans of stocks


def test_backtest_fans_show_reports_on_stocks_and_running_totals_from_the_initial_level(exact):
    model, _ = exact
    ev = parse_evidence(model, [
        item("2023-10-21", report={"quantity": "shipped.cumulative", "on": "2023-10-20", "said": {"value": 115},
                                   "likelihood": {"normal": {"sd": 5}}}),
        item("2023-11-10", report={"quantity": "troops", "on": "2023-11-04", "said": {"value": 250},
                                   "likelihood": {"normal": {"sd": 20}}}),
    ])
    quantities, dates = report_fan_dates(model, ev)
    assert quantities == ["shipped.cumulative", "troops"]
    assert dates == [model.as_of, dt.date(2023, 10, 21), dt.date(2023, 11, 10)]
    assert fan_quantities(model, "troops") == [("troops", "troops", "level")]
    with pytest.raises(ParamsError, match="expected a flow, flow.cumulative or a stock, got 'said'"):
        fan_quantities(model, "said")
    fans = fan_paths(model, ev, ["shipped.cumulative", "troops"], dates, samples=300, seed=2)
    m = np.arange(1, model.horizon_months + 1)
    for path in fans["shipped.cumulative"]:
        assert np.allclose(path.values, 100 + 10 * m)  # every percentile: the flow is exact
    for path in fans["troops"]:
        assert np.allclose(path.values, 50 + 100 * m)  # the stock's level at each month end
        assert path.dates == [model.as_of + dt.timedelta(days=30 * int(k)) for k in m]
    shown = report_fans(model, ev, samples=300, seed=2)
    assert shown["troops"][1][0]["value"] == 250
    fig = backtest_plots.fan_grid(shown)
    assert plots.has_data(fig) and "troops" in fig.get_axes()[1].get_title()


# --------------------------------------------------------------------------- numbers in tables

ODD = (12_940.0, 1.294e15, 2.5e-7, 3e-5, None, float("nan"), float("inf"))
SCIENTIFIC = re.compile(r"\de[+-]?\d")  # Python's 1.294e+04, 2.5e-07, 1e5


def _shown(rows) -> str:
    """Rows as every table shows them: its text and its HTML."""
    if not rows:
        return ""
    table = plots.Table(rows)
    return repr(table) + table._repr_html_()


def _assert_readable(text: str) -> None:
    assert text
    assert not SCIENTIFIC.search(text), SCIENTIFIC.search(text)
    assert "None" not in text and not re.search(r"\bnan\b", text, re.IGNORECASE)


def _summary(x) -> dict:
    ci = {"mean": x, "low": x, "high": x}
    baseline = {"brier": x, "skill_time_averaged": x, "difference_time_averaged": ci}
    return {
        "model": "m", "samples": 1000, "seed": 1, "evidence_items": 0,
        "counts": {"binary_scored": 1, "as_of_dates": 1, "annulled": 0, "ambiguous": 0, "unresolved": 0,
                   "resolved_never_open": [], "undefined_forecasts": 0, "undefined_forecast_rows": []},
        "overall": {"brier_open": ci, "brier_time_averaged": ci, "base_rate": x,
                    "baselines": {"always_0.5": baseline, "base_rate": baseline, "no_evidence": baseline}},
        "questions": [{"id": "q", "outcome": True, "open": None, "resolved_on": None, "forecast_open": x,
                       "forecast_last": x, "no_evidence_forecast": x, "brier_open": x, "brier_time_averaged": 0.1,
                       "n_forecasts": 2}],
        "numeric": {"targets": [{"id": "t", "quantity": "shipped.cumulative", "estimate": x, "public_on": None,
                                 "n_forecasts": 1, "crps_relative_first": x, "crps_relative_last": x,
                                 "no_evidence_crps_relative": x}],
                    "mean_relative_crps_first": x, "mean_relative_crps_last": x, "mean_relative_crps_no_evidence": x},
        "ess": {"2023-10-01": 12_940.0 if x is None else x}, "mcse": {"2023-10-01": {"mcse": x, "question": "q"}},
    }


@pytest.mark.parametrize("x", ODD)
def test_backtest_tables_and_summary_never_print_e_notation_none_or_nan(x):
    summary = _summary(x)
    for rows in (backtest_plots.overview_rows(summary), backtest_plots.question_rows(summary),
                 backtest_plots.numeric_rows(summary)):
        _assert_readable(_shown(rows))
    _assert_readable(format_summary(summary))


def test_report_tables_never_print_e_notation_none_or_nan(write):
    text = HEADER + """
nodes:
  big: {constant: 1.294e+15}
  small: {lognormal: {mu: -16, sigma: 0.1}}
  count: {uniform: [12900, 12980]}
  flag: {bernoulli: {p: 0.5}}
  never: {event: {when: flag, delay: {constant: 100000}}}
questions:
  - {id: q_big, type: numeric, resolve: {quantity: big}}
  - {id: q_small, type: numeric, resolve: {quantity: small}}
  - {id: q_count, type: numeric, resolve: {quantity: count}}
  - {id: q_never, type: date, resolve: {event: never}}
  - {id: q_undefined, resolve: {is: {flag: true}}, given: {expr: "count > 20000"}}
"""
    model, questions = load_model(write("odd.yaml", text))
    forecast = run_forecast(model, questions, samples=500, seed=1)
    _assert_readable(_shown(plotdata.forecast_rows(forecast)))
    _assert_readable(_shown(plotdata.forecast_comparison_rows(forecast, forecast, dt.date(2023, 9, 5))))
    _assert_readable(_shown(plotdata.parameter_rows(model)))
    points = {"shipped": [Estimate(dt.date(2023, 10, 1), x, x, None, "someone") for x in ODD]}
    _assert_readable(_shown(plotdata.estimate_rows(points)))


def test_the_docstring_examples_hold():
    import doctest

    from scenarios.backtest import summary
    from scenarios.model import worlds

    for module in (worlds, summary, plotdata):
        assert doctest.testmod(module).failed == 0
