"""Sensitivity: what moves a forecast (scenarios.engine.sensitivity, its command and its tornado chart).

Behaviours tested:

- which nodes are parameters: random number nodes the question reads (not outcomes, not inline
  distributions, not nodes read only through held ones, not ``by`` cases of constants);
- one at a time: with p ~ beta and x ~ bernoulli(p), the forecast of P(x) with p held at its 5%
  (95%) value equals that value, and the value is beta's 5% (95%) quantile, within the Monte
  Carlo error; ``given:`` questions too;
- common random numbers: a parameter the question does not read is not listed and holding it
  changes nothing, bit for bit; the swing of a numeric question is exactly the parameter's
  range when the answer is linear in it; the swing's standard error is that of the paired
  difference;
- nodes of different kinds can be held (whole numbers, rounded values, parameters that read
  other nodes), and a held value that breaks the model is an error naming the parameter;
- importance: the first-order Sobol index of p for a bernoulli(p) question is
  Var(p) / (E[p](1 - E[p])), with and without ``given:``; the binned estimator is unbiased, its
  bias correction puts an irrelevant variable at 0, and its standard error matches the spread
  over repeated runs;
- the baseline is the forecast's; the same seed gives the same numbers;
- the text table and the CSV (aligned, no scientific notation, no None);
- the command: a table and exit 0; exit 2 with close matches for an unknown question;
- the tornado chart: its bars, and a figure really drawn and saved as PNG;
- memory: a run over the budget is refused before it starts.
"""

from __future__ import annotations

import argparse
import csv
import doctest
import io
import math

import matplotlib
import numpy as np
import pytest
from scipy import special, stats

from conftest import HEADER
from scenarios.engine import sensitivity as sens
from scenarios.engine.forecast import run_forecast
from scenarios.engine.memory import set_memory_budget
from scenarios.engine.sensitivity import (
    DEFAULT_BINS,
    Row,
    Sensitivity,
    equal_probability_bins,
    first_order_index,
    format_csv,
    format_table,
    parameters,
    run_sensitivity,
    select_questions,
)
from scenarios.engine.sensitivity_command import add_parser, run_sensitivity_command
from scenarios.errors import ResourceLimitError, ScenarioError, UsageError
from scenarios.model.load import load_model

matplotlib.use("Agg")

N = 20_000
A, B = 2.0, 3.0  # p ~ beta(2, 3)

TINY = HEADER + """\
nodes:
  p: {beta: {a: 2, b: 3}}
  x: {bernoulli: {p: p}}
  flag: {bernoulli: {p: p}}
  other: {uniform: [0, 1]}
  y: {bernoulli: {p: other}}
  inline: {bernoulli: {p: {beta: {a: 1, b: 1}}}}
  count: {poisson: 3}
  size: {lognormal: {ci90: [5, 50]}, round: nearest}
  total: {expr: "count + size"}
  day: {event: {delay: "count * 10"}}
questions:
  - {id: px, text: "Will x happen?", resolve: {is: {x: true}}}
  - {id: px_given_flag, resolve: {is: {x: true}}, given: {is: {flag: true}}}
  - {id: py, resolve: {is: {y: true}}}
  - {id: p_inline, resolve: {is: {inline: true}}}
  - {id: total, type: numeric, resolve: {quantity: total}}
  - {id: day, type: date, resolve: {event: day}}
"""

DEPENDENT = HEADER + """\
nodes:
  upper: {uniform: [1, 2]}
  lower: {uniform: {low: 0, high: upper}}
  mode: {categorical: {a: 0.5, b: 0.5}}
  rate_const: {by: mode, cases: {a: {constant: 1}, b: {constant: 2}}}
  rate_drawn: {by: mode, cases: {a: {uniform: [0, 1]}, b: {constant: 2}}}
  level: {expr: "upper + lower + rate_const + rate_drawn"}
  gap: {event: {delay: "upper - lower"}}
questions:
  - {id: level, type: numeric, resolve: {quantity: level}}
  - {id: gap_soon, resolve: {event: gap, by: 2023-09-06}}
"""


@pytest.fixture
def tiny(write):
    return load_model(write("tiny.yaml", TINY))


@pytest.fixture
def tiny_results(tiny):
    model, questions = tiny
    chosen = select_questions(questions, ["px", "px_given_flag", "py", "p_inline", "total"])
    return {r.question: r for r in run_sensitivity(model, chosen, samples=N, seed=3)}


def _row(result: Sensitivity, name: str) -> Row:
    return next(r for r in result.rows if r.parameter == name)


def _beta_moment(a: float, b: float, k: int) -> float:
    """E[p^k] for p ~ beta(a, b)."""
    return math.prod((a + i) / (a + b + i) for i in range(k))


def _bernoulli_index(a: float, b: float, bins: int) -> tuple[float, float]:
    """First-order index of p for x ~ bernoulli(p), p ~ beta(a, b): exact, and what
    ``bins`` equal-probability bins of p keep of it (E[p | bin] from beta's partial moments)."""
    m = a / (a + b)
    var = a * b / ((a + b) ** 2 * (a + b + 1))
    edges = stats.beta.ppf(np.arange(bins + 1) / bins, a, b)
    bin_means = bins * m * np.diff(special.betainc(a + 1, b, edges))
    return var / (m * (1 - m)), float(np.mean((bin_means - m) ** 2)) / (m * (1 - m))


# ---------------------------------------------------------------------------- parameters


def test_parameters_are_the_random_number_nodes_a_question_reads(tiny):
    model, questions = tiny
    q = {q.id: q for q in questions}
    assert parameters(model, q["px"]) == ["p"]
    assert parameters(model, q["px_given_flag"]) == ["p"]  # read through given: too
    assert parameters(model, q["total"]) == ["count", "size"]
    assert parameters(model, q["p_inline"]) == []  # a distribution inside a node is not a node


def test_held_nodes_are_not_parameters_nor_what_is_read_through_them(tiny):
    model, questions = tiny
    px = next(q for q in questions if q.id == "px")
    assert parameters(model, px, fixed={"p": 0.5}) == []
    assert parameters(model, px, fixed={"x": True}) == []


def test_by_cases_of_constants_are_not_parameters_but_drawn_cases_are(write):
    model, questions = load_model(write("dep.yaml", DEPENDENT))
    level = next(q for q in questions if q.id == "level")
    assert parameters(model, level) == ["upper", "lower", "rate_drawn"]


def test_select_questions_defaults_to_binary_and_refuses_unknown_and_date_questions(tiny):
    _, questions = tiny
    assert [q.id for q in select_questions(questions)] == ["px", "px_given_flag", "py", "p_inline"]
    assert [q.id for q in select_questions(questions, ["all"])] == ["px", "px_given_flag", "py", "p_inline"]
    assert [q.id for q in select_questions(questions, ["total", "px"])] == ["total", "px"]
    with pytest.raises(UsageError, match=r"unknown question 'p_x'; close matches: px"):
        select_questions(questions, ["p_x"])
    with pytest.raises(UsageError, match="'day' is a date question"):
        select_questions(questions, ["day"])
    with pytest.raises(UsageError, match="'all' means every binary question; give it alone"):
        select_questions(questions, ["all", "px"])


# ---------------------------------------------------------------------------- one at a time


@pytest.mark.parametrize("end", [0, 1])
def test_holding_p_at_an_end_gives_that_probability(tiny_results, end):
    row = _row(tiny_results["px"], "p")
    value, forecast = (row.low, row.at_low) if end == 0 else (row.high, row.at_high)
    level = sens.LEVELS[end]
    quantile = stats.beta.ppf(level, A, B)
    # the value is beta's quantile (order-statistic error), and E[x | p = value] = value
    quantile_se = math.sqrt(level * (1 - level) / N) / stats.beta.pdf(quantile, A, B)
    assert abs(value - quantile) < 4 * quantile_se
    assert abs(forecast - value) < 4 * math.sqrt(value * (1 - value) / N)


def test_given_question_held_at_an_end_counts_only_worlds_where_given_holds(tiny_results):
    row = _row(tiny_results["px_given_flag"], "p")
    for value, forecast in ((row.low, row.at_low), (row.high, row.at_high)):
        counted = N * value  # flag ~ bernoulli(value): the worlds the forecast counts
        assert abs(forecast - value) < 4 * math.sqrt(value * (1 - value) / counted)


def test_baseline_is_the_forecast(tiny, tiny_results):
    model, questions = tiny
    chosen = [q for q in questions if q.id in ("px", "px_given_flag", "total")]
    forecast = run_forecast(model, chosen, samples=N, seed=3).by_id()
    for qid in ("px", "px_given_flag"):
        assert tiny_results[qid].baseline == forecast[qid].probability
        assert tiny_results[qid].baseline_se == pytest.approx(forecast[qid].stderr, rel=1e-9)
    assert tiny_results["total"].baseline == pytest.approx(forecast["total"].mean, rel=1e-12)
    assert tiny_results["total"].statistic == "mean"
    assert tiny_results["px"].samples == N and tiny_results["px"].seed == 3 and tiny_results["px"].bins == DEFAULT_BINS


# ---------------------------------------------------------------------------- common random numbers


def test_a_parameter_the_question_does_not_read_is_not_listed_and_holding_it_changes_nothing(tiny, tiny_results):
    assert [r.parameter for r in tiny_results["px"].rows] == ["p"]
    assert [r.parameter for r in tiny_results["py"].rows] == ["other"]
    model, questions = tiny
    px = [q for q in questions if q.id == "px"]
    free = run_forecast(model, px, samples=N, seed=3).questions[0].probability
    for value in (0.0, 0.5, 1.0):
        held = run_forecast(model, px, samples=N, seed=3, fixed={"other": value}).questions[0].probability
        assert held == free


def test_swing_of_a_linear_numeric_answer_is_the_parameters_range_exactly(tiny_results):
    total = tiny_results["total"]
    count = _row(total, "count")
    assert count.low == float(int(count.low)) and count.high == float(int(count.high))  # poisson: whole numbers
    # total = count + size, size drawn from the same random numbers: no sampling noise at all
    assert count.at_high - count.at_low == pytest.approx(count.high - count.low, abs=1e-9)
    assert count.at_low - total.baseline == pytest.approx(count.low - _mean_count(total, count), abs=1e-9)
    assert count.swing_se < 1e-9
    size = _row(total, "size")
    assert size.low == round(size.low) and size.high == round(size.high)  # rounded to whole numbers
    assert size.swing == pytest.approx(size.high - size.low, abs=1e-9)


def test_standard_errors_of_large_values_keep_their_precision(write):
    big = HEADER + """\
nodes:
  count: {poisson: 3}
  level: {expr: "1000000000 + count"}
questions:
  - {id: level, type: numeric, resolve: {quantity: level}}
"""
    model, questions = load_model(write("big.yaml", big))
    (result,) = run_sensitivity(model, questions, samples=N, seed=1)
    # sums of squares of values near 1e9 would lose a spread of sqrt(3) to rounding
    assert result.baseline_se == pytest.approx(math.sqrt(3 / N), rel=0.1)
    (row,) = result.rows
    assert row.swing == pytest.approx(row.high - row.low, abs=1e-6) and row.swing_se < 1e-6


def _mean_count(total: Sensitivity, count: Row) -> float:
    """Mean of count in the baseline worlds, from the identity baseline = E[count] + E[size]
    and at_low = count.low + E[size] (the same size draws)."""
    return total.baseline - (count.at_low - count.low)


def test_swing_standard_error_is_that_of_the_paired_difference(tiny_results):
    row = _row(tiny_results["px"], "p")
    # x = (u < p) with the same u in both runs: x_high - x_low is bernoulli(high - low), exactly
    d = row.high - row.low
    assert abs(row.swing - d) < 4 * math.sqrt(d * (1 - d) / N)
    assert row.swing_se == pytest.approx(math.sqrt(row.swing * (1 - row.swing) / N), rel=1e-9)
    independent = math.sqrt((row.at_low * (1 - row.at_low) + row.at_high * (1 - row.at_high)) / N)
    assert row.swing_se < independent


# ---------------------------------------------------------------------------- kinds of nodes


def test_parameters_that_read_other_nodes_are_held_and_marked(write):
    model, questions = load_model(write("dep.yaml", DEPENDENT))
    (level,) = run_sensitivity(model, select_questions(questions, ["level"]), samples=4000, seed=1)
    rows = {r.parameter: r for r in level.rows}
    assert rows["lower"].depends_on == ("upper",)
    assert rows["rate_drawn"].depends_on == ("mode",)
    assert rows["upper"].depends_on == ()
    text = format_table([level])
    assert "lower*" in text and "* lower reads upper: held at its overall values" in text


def test_a_parameter_whose_5_and_95_percent_values_agree_has_no_swing(write):
    spike = HEADER + """\
nodes:
  rate: {mixture: [{weight: 0.97, dist: 2}, {weight: 0.03, dist: {uniform: [0, 1]}}]}
  hit: {bernoulli: {p: "rate / 4"}}
questions:
  - {id: hit, resolve: {is: {hit: true}}}
"""
    model, questions = load_model(write("spike.yaml", spike))
    (result,) = run_sensitivity(model, questions, samples=4000, seed=2)
    (row,) = result.rows
    assert (row.low, row.high) == (2.0, 2.0)
    assert row.at_low == row.at_high and row.swing == 0.0 and row.swing_se == 0.0
    assert abs(row.at_low - 0.5) < 4 * math.sqrt(0.25 / 4000)


def test_a_held_value_that_breaks_the_model_is_an_error_naming_the_parameter(write):
    model, questions = load_model(write("dep.yaml", DEPENDENT))
    with pytest.raises(ScenarioError, match=r"with lower held at .*: .*delay must be non-negative"):
        run_sensitivity(model, select_questions(questions, ["gap_soon"]), samples=4000, seed=1)


def test_date_questions_and_bad_arguments_are_refused(tiny):
    model, questions = tiny
    day = [q for q in questions if q.id == "day"]
    with pytest.raises(UsageError, match="'day' is a date question"):
        run_sensitivity(model, day, samples=100)
    with pytest.raises(UsageError, match="at least 1 bin"):
        run_sensitivity(model, questions[:1], samples=100, bins=0)
    assert run_sensitivity(model, [], samples=100) == []


# ---------------------------------------------------------------------------- importance


@pytest.mark.parametrize(("qid", "a", "b"), [("px", A, B), ("px_given_flag", A + 1, B)])
def test_importance_of_p_for_a_bernoulli_question_is_var_p_over_m_1_minus_m(tiny_results, qid, a, b):
    # given flag ~ bernoulli(p), p is size-biased: beta(a + 1, b)
    exact, binned = _bernoulli_index(a, b, DEFAULT_BINS)
    row = _row(tiny_results[qid], "p")
    assert 0 < row.importance_se < 0.02
    assert abs(row.importance - exact) < 4 * row.importance_se + (exact - binned)
    assert exact - binned < 0.01 * exact  # 20 bins keep 99% of it


def test_importance_estimator_is_unbiased_and_its_standard_error_is_the_spread_of_repeats():
    exact, binned = _bernoulli_index(A, B, DEFAULT_BINS)
    rng = np.random.default_rng(12)
    n, repeats = 5000, 100
    estimates, errors = [], []
    for _ in range(repeats):
        p = rng.beta(A, B, n)
        s, se = first_order_index(p, rng.random(n) < p)
        estimates.append(s)
        errors.append(se)
    spread = float(np.std(estimates, ddof=1))
    assert abs(np.mean(estimates) - binned) < 4 * spread / math.sqrt(repeats)
    assert 0.7 < np.mean(errors) / spread < 1.4


def test_importance_of_an_irrelevant_variable_is_about_zero_after_the_bias_correction():
    rng = np.random.default_rng(5)
    n = 5000
    raw_bias = (DEFAULT_BINS - 1) / n  # what the bin means' noise adds to an uncorrected index
    estimates = [first_order_index(rng.normal(size=n), rng.random(n) < 0.3)[0] for _ in range(50)]
    assert np.median(estimates) < raw_bias / 4
    assert min(estimates) == 0.0  # clipped, never negative


def test_importance_of_a_linear_effect_is_its_share_of_the_variance():
    rng = np.random.default_rng(8)
    n, sd = 20_000, 0.5
    x = rng.random(n)
    s, se = first_order_index(x, x + rng.normal(0, sd, n))
    exact = (1 / 12) / (1 / 12 + sd**2)
    binned = (1 / 12) * (1 - 1 / DEFAULT_BINS**2) / (1 / 12 + sd**2)
    assert abs(s - exact) < 4 * se + (exact - binned)


def test_equal_probability_bins_hold_equal_shares_and_keep_ties_together():
    x = np.arange(1000.0)
    assert np.bincount(equal_probability_bins(x, 20)).tolist() == [50] * 20
    ties = np.repeat([1.0, 2.0, 3.0], [500, 300, 200])
    bins = equal_probability_bins(ties, 20)
    for value in (1.0, 2.0, 3.0):
        assert len(set(bins[ties == value].tolist())) == 1
    assert len(set(bins.tolist())) == 3


def test_first_order_index_edge_cases():
    with pytest.raises(ValueError, match="same shape"):
        first_order_index(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="bins must be at least 1"):
        first_order_index(np.zeros(3), np.zeros(3), bins=0)
    s, se = first_order_index(np.arange(100.0), np.ones(100))  # an answer that never varies
    assert math.isnan(s) and math.isnan(se)
    s, _ = first_order_index(np.arange(100.0), np.where(np.arange(100) < 50, np.nan, np.arange(100.0)))
    assert s > 0.9  # the non-finite answers are left out; the rest is x itself


# ---------------------------------------------------------------------------- reproducible


def test_same_seed_same_numbers_other_seed_other_numbers(tiny):
    model, questions = tiny
    chosen = select_questions(questions, ["px", "total"])
    a = run_sensitivity(model, chosen, samples=3000, seed=9)
    b = run_sensitivity(model, chosen, samples=3000, seed=9)
    c = run_sensitivity(model, chosen, samples=3000, seed=10)
    assert a == b
    assert a != c


def test_samples_and_seed_default_to_the_models(tiny):
    model, questions = tiny
    (result,) = run_sensitivity(model, select_questions(questions, ["px"]))
    assert (result.samples, result.seed) == (model.samples, model.seed)


# ---------------------------------------------------------------------------- text


def _hand_made() -> list[Sensitivity]:
    rows = (
        Row("big", 1_294_000.0, 12_940_000.0, 0.1, 0.9, 0.8, 0.003, 0.5, 0.01),
        Row("tiny", 1.5e-7, 2.5e-5, 0.4, 0.41, 0.01, 0.002, 0.0, 0.001),
        Row("undefined", 1.0, 2.0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, ("big",)),
    )
    numeric = (Row("k", 3.0, 9.0, 12_345.6, 98_765.4, 86_419.8, 12.5, 0.75, 0.02),)
    return [
        Sensitivity("q1", "First question?", "binary", "probability", 0.5, 0.0035, rows, 20_000, 7, 20, "m"),
        Sensitivity("q2", "q2", "numeric", "mean", 55_555.5, 321.0, numeric, 20_000, 7, 20, "m"),
        Sensitivity("q3", "Nothing uncertain", "binary", "probability", 0.25, 0.003, (), 20_000, 7, 20, "m"),
    ]


def test_table_is_aligned_and_prints_numbers_in_full():
    text = format_table(_hand_made())
    assert "e+" not in text and "e-" not in text and "None" not in text and "nan" not in text
    assert "1,294,000" in text and "12,940,000" in text and "0.00000015" in text and "98,765" in text
    assert "0.800 ± 0.003" in text and "–" in text
    assert "no uncertain parameter" in text and "* undefined reads big" in text
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("parameter"))
    rule = lines[header + 1]
    starts = [i for i, ch in enumerate(rule) if ch == "-" and (i == 0 or rule[i - 1] == " ")]
    for line in lines[header + 2 : header + 5]:  # every column ends where its rule ends
        ends = [i + len(w) for i, w in zip(starts, rule.split())]
        for end in ends[1:]:
            assert line[end - 1] != " ", (line, end)


def test_table_of_a_rare_event_shows_its_standard_error():
    rare = Sensitivity("r", "r", "binary", "probability", 0.004, 0.0004,
                       (Row("p", 0.1, 0.2, 0.0021, 0.0063, 0.0042, 0.0003, 0.1, 0.01),), 20_000, 1, 20)
    text = format_table([rare])
    assert "0.0040 ± 0.0004" in text and "0.0042 ± 0.0003" in text


def test_csv_has_one_line_per_question_and_parameter():
    rows = list(csv.DictReader(io.StringIO(format_csv(_hand_made()))))
    assert [(r["question"], r["parameter"]) for r in rows] == [
        ("q1", "big"), ("q1", "tiny"), ("q1", "undefined"), ("q2", "k"), ("q3", "")]
    assert rows[0]["high"] == "12940000" and rows[1]["low"] == "0.00000015"
    assert rows[2]["at_low"] == "" and rows[2]["depends_on"] == "big"
    assert set(rows[0]) == set(sens.CSV_COLUMNS)


def test_doctests_pass():
    from scenarios.notebook import sensitivity_plots

    for module in (sens, sensitivity_plots):
        assert doctest.testmod(module).failed == 0


# ---------------------------------------------------------------------------- command


def _run_command(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="scenarios")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub, [])
    return run_sensitivity_command(parser.parse_args(["sensitivity", *argv]))


def test_command_prints_a_table_and_exits_0(write, capsys):
    path = write("tiny.yaml", TINY)
    assert _run_command(path, "px", "--samples", "2000", "--seed", "4") == 0
    out = capsys.readouterr().out
    assert "worlds 2,000  seed 4" in out and "px: Will x happen?" in out
    assert any(line.startswith("p ") for line in out.splitlines())


def test_command_all_csv_and_set(write, capsys):
    path = write("tiny.yaml", TINY)
    assert _run_command(path, "all", "-n", "1000", "--format", "csv", "--set", "p.beta.a=8") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["question"] for r in rows} == {"px", "px_given_flag", "py", "p_inline"}
    low = float(next(r for r in rows if r["question"] == "px")["low"])
    assert low > stats.beta.ppf(0.05, A, B) + 0.2  # beta(8, 3) sits far higher than beta(2, 3)


def test_command_unknown_question_exits_2_naming_close_matches(write, capsys):
    path = write("tiny.yaml", TINY)
    assert _run_command(path, "totl", "-n", "100") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: unknown question 'totl'; close matches: total")


def test_command_bad_samples_is_a_usage_error(write, capsys):
    path = write("tiny.yaml", TINY)
    with pytest.raises(SystemExit) as exit_:
        _run_command(path, "px", "--samples", "0")
    assert exit_.value.code == 2
    assert "expected 1 to 100,000,000 worlds" in capsys.readouterr().err


# ---------------------------------------------------------------------------- tornado


def test_tornado_bars_follow_the_rows():
    from scenarios.notebook.sensitivity_plots import tornado_bars

    result = _hand_made()[0]
    bars = tornado_bars(result)
    assert [b.parameter for b in bars] == ["big", "tiny", "undefined"]
    assert bars[0].label == "big\n1,294,000 – 12,940,000"
    assert (bars[0].at_low, bars[0].at_high) == (0.1, 0.9)
    assert len(tornado_bars(result, top=1)) == 1


def test_tornado_figure_renders_to_png(tiny_results, tmp_path):
    from scenarios.notebook import plots
    from scenarios.notebook.sensitivity_plots import tornado, tornado_figure

    result = tiny_results["total"]
    fig = tornado_figure(result)
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * len(result.rows)  # a bar to each end, per parameter
    labels = [t.get_text().split("\n")[0] for t in ax.get_yticklabels()]
    assert labels == ["size", "count"]  # largest swing first: size spans 5 to 50, count 0 to 6
    shown = plots.show(fig, "tornado_total", str(tmp_path))
    png = (tmp_path / "tornado_total.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert shown.title.startswith("total")
    _, ax = plots.figure()
    assert tornado(tiny_results["p_inline"], ax) is ax and not plots.has_data(ax.figure)  # nothing to draw


# ---------------------------------------------------------------------------- memory


def test_a_run_over_the_memory_budget_is_refused_before_it_starts(tiny):
    model, questions = tiny
    set_memory_budget(1024)
    try:
        with pytest.raises(ResourceLimitError, match="sensitivity of 1 question.* more than the budget"):
            run_sensitivity(model, select_questions(questions, ["px"]), samples=1000)
    finally:
        set_memory_budget(None)
