"""Node kinds beyond distributions: repeated events, stocks, statements by named sources.

Monte Carlo results are compared with analytic values (scipy) within a few Monte Carlo standard
errors of the estimate.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import integrate, stats

from scenarios.backtest import load_resolutions, run_backtest
from scenarios.cli import main
from scenarios.engine.evidence import parse_evidence
from scenarios.engine.simulate import simulate
from scenarios.errors import ParamsError
from scenarios.model.load import load_model

N = 40_000
Z = 5  # tolerance in Monte Carlo standard errors
AS_OF = dt.date(2023, 9, 5)


def header(months=12, samples=N):
    return f"as_of: 2023-09-05\nhorizon_months: {months}\nseed: 11\nsamples: {samples}\n"


def load(write, nodes, questions=None, months=12):
    path = write("m.yaml", header(months) + "nodes:\n" + nodes)
    return load_model(path, questions=questions)


def day(n):
    return AS_OF + dt.timedelta(days=n)


def close_share(p_hat, p, n=N, z=Z):
    """|p_hat - p| within z standard errors of a share of n worlds."""
    se = np.sqrt(max(p * (1 - p), 1e-12) / n)
    return abs(p_hat - p) <= z * se + 1e-12


def assert_posterior_tails(model, questions, evidence, as_of, prior, likelihood, thresholds):
    """The forecast of question ``a<t>`` (x >= t) as of ``as_of`` equals the exact posterior tail,
    by quadrature of ``prior.pdf * likelihood``, within Monte Carlo error, for each t."""
    from scenarios.engine.asof import forecast_as_of

    def mass(lo):
        return integrate.quad(lambda x: prior.pdf(x) * likelihood(x), lo, np.inf, limit=200)[0]

    total = mass(0)
    fc = forecast_as_of(model, questions, evidence, as_of, samples=N, seed=3)
    for t in thresholds:
        got = next(q for q in fc.questions if q.id == f"a{t}").probability
        assert close_share(got, mass(t) / total, n=fc.ess)


def forecast(model, questions, n=N):
    worlds = simulate(model, n, seed=11)
    return {q.id: np.asarray(q.resolve.evaluate(worlds)) for q in questions}


# --------------------------------------------------------------------------- repeated events


def test_count_by_a_date_is_poisson_with_mean_rate_times_time(write):
    qs = [{"id": "n", "type": "numeric", "resolve": {"quantity": "visits", "on": day(180)}}] + [
        {"id": f"k{k}", "resolve": {"quantity": "visits", "on": day(180), "at_least": k}} for k in range(1, 7)
    ]
    model, questions = load(write, "  visits: {repeated: {rate: 0.5}}\n", qs)
    out = forecast(model, questions)
    mu = 0.5 * 180 / 30
    count = out["n"]
    assert abs(count.mean() - mu) <= Z * np.sqrt(mu / N)
    assert count.var() == pytest.approx(mu, rel=0.05)
    for k in range(1, 7):
        assert close_share(out[f"k{k}"].mean(), stats.poisson.sf(k - 1, mu))


def test_nth_occurrence_day_is_gamma(write):
    days = (30, 90, 150, 300)
    qs = [{"id": f"d{d}", "resolve": {"event": "launches", "occurrence": 3, "by": day(d)}} for d in days]
    qs.append({"id": "when", "type": "date", "resolve": {"event": "launches", "occurrence": 3}})
    model, questions = load(write, "  launches: {repeated: {rate: 1.5, max: 80}}\n", qs)
    out = forecast(model, questions)
    for d in days:
        assert close_share(out[f"d{d}"].mean(), stats.gamma.cdf(d, 3, scale=30 / 1.5))
    when = out["when"]
    assert abs(np.median(when) - stats.gamma.median(3, scale=20)) < 1.0


def test_rate_changes_after_an_event(write):
    # 1 a month until day 60, then 0.2 a month: the count by day 150 is Poisson(2 + 0.6)
    nodes = """\
  sanctions: {event: {delay: 60}}
  meetings: {repeated: {rate: 1, change: {after: sanctions, rate: 0.2}}}
"""
    qs = [{"id": f"k{k}", "resolve": {"quantity": "meetings", "on": day(150), "at_least": k}} for k in (1, 2, 3, 4, 5)]
    qs.append({"id": "early", "resolve": {"quantity": "meetings", "on": day(60), "at_least": 2}})
    model, questions = load(write, nodes, qs)
    out = forecast(model, questions)
    for k in (1, 2, 3, 4, 5):
        assert close_share(out[f"k{k}"].mean(), stats.poisson.sf(k - 1, 2.6))
    assert close_share(out["early"].mean(), stats.poisson.sf(1, 2.0))


def test_rate_from_another_node_gives_a_negative_binomial_count(write):
    # rate ~ Gamma(shape 2, rate 4) a month per world: count by t months ~ NB(2, 4 / (4 + t))
    nodes = """\
  r: {gamma: {shape: 2, rate: 4}}
  visits: {repeated: {rate: r, start: talks, max: 80}}
  talks: {event: {delay: 30}}
"""
    qs = [{"id": f"k{k}", "resolve": {"quantity": "visits", "month": 7, "at_least": k}} for k in (1, 2, 4)]
    model, questions = load(write, nodes, qs)
    out = forecast(model, questions)
    t = 6.0  # months from the start (day 30) to the end of month 7
    for k in (1, 2, 4):
        assert close_share(out[f"k{k}"].mean(), stats.nbinom.sf(k - 1, 2, 4 / (4 + t)))


def test_never_starting_means_no_occurrence_and_max_is_enforced(write, capsys):
    nodes = """\
  e: {event: {delay: 10, when: false}}
  visits: {repeated: {rate: 3, start: e}}
"""
    model, _ = load(write, nodes)
    w = simulate(model, 1000, seed=1)
    assert np.isinf(w["visits"]).all()
    path = write("many.yaml", header() + "nodes:\n  visits: {repeated: {rate: 3, max: 5}}\n")
    with pytest.raises(ParamsError, match=r"nodes\.visits\.repeated: 5 occurrences \(max\) are reached.*raise max"):
        simulate(load_model(path)[0], 1000, seed=1)


# --------------------------------------------------------------------------- stocks


def test_stock_accumulates_the_rate_from_a_fixed_start(write):
    nodes = """\
  war: {event: {delay: 45}}
  dead: {stock: {rate: 100, start: war, initial: 7}}
  dead_counted: {stock: {rate: 100, start: war, count: poisson}}
"""
    model, _ = load(write, nodes)
    w = simulate(model, N, seed=2)
    months = np.arange(13)
    expected = 7 + 100 * np.clip((months * 30 - 45) / 30, 0, None)
    assert np.allclose(w["dead"], expected[None, :])
    counted = w["dead_counted"]
    for m in (2, 6, 12):
        mu = 100 * (m * 30 - 45) / 30
        assert abs(counted[:, m].mean() - mu) <= Z * np.sqrt(mu / N)
        assert close_share((counted[:, m] >= mu + 10).mean(), stats.poisson.sf(mu + 9, mu))


def test_stock_question_depends_on_the_date(write):
    nodes = """\
  war: {event: {chance_per_month: 0.3}}
  troops: {lognormal: {ci90: [5000, 15000]}}
  dead: {stock: {rate: "troops * 0.02", start: war, cap: 1000}}
"""
    qs = [{"id": f"m{m}", "resolve": {"quantity": "dead", "month": m, "at_least": 600}} for m in (3, 6, 12)]
    qs.append({"id": "on", "type": "numeric", "resolve": {"quantity": "dead", "on": day(75)}})
    model, questions = load(write, nodes, qs)
    w = simulate(model, N, seed=3)
    probs = [questions[i].resolve.evaluate(w).mean() for i in range(3)]
    assert probs[0] < probs[1] < probs[2]
    assert w["dead"].max() == 1000
    # exact: level at the end of month m = min(1000, 0.02 * troops * months after the war started)
    war, troops = w["war"], w["troops"]
    exposure = np.clip((6 * 30 - war) / 30, 0, 6)
    assert np.allclose(w["dead"][:, 6], np.minimum(1000, 0.02 * troops * exposure))
    # on day 75 (in month 3): halfway between the ends of months 2 and 3
    assert np.allclose(questions[3].resolve.evaluate(w), (w["dead"][:, 2] + w["dead"][:, 3]) / 2)


def test_stock_reads_a_flow_as_its_rate(write):
    nodes = """\
  arrivals: {flow: {rate: 50}}
  deployed: {stock: {rate: arrivals, initial: 100}}
"""
    qs = [{"id": "q", "resolve": {"quantity": "arrivals.cumulative", "month": 2, "at_least": 1}}]
    model, questions = load(write, nodes, qs)
    w = simulate(model, 2000, seed=4)
    assert np.array_equal(w["deployed"][:, 1:], 100 + np.cumsum(w["arrivals"], axis=1))


# --------------------------------------------------------------------------- statements


def test_publication_is_thinned_and_lagged(write):
    # fact ~ Exp (chance_per_month 0.2), lag ~ Gamma(2, scale 10) days, publishes with chance 0.6
    nodes = """\
  strike: {event: {chance_per_month: 0.2}}
  nis_says: {statement: {about: strike, chance: 0.6, lag: {gamma: {shape: 2, scale: 10}}}}
"""
    days = (20, 60, 120, 300)
    qs = [{"id": f"d{d}", "resolve": {"event": "nis_says", "by": day(d)}} for d in days]
    model, questions = load(write, nodes, qs)
    out = forecast(model, questions)
    rate = -np.log(0.8) / 30
    for d in days:
        both, _ = integrate.quad(lambda x, d=d: rate * np.exp(-rate * x) * stats.gamma.cdf(d - x, 2, scale=10), 0, d)
        assert close_share(out[f"d{d}"].mean(), 0.6 * both)


def test_what_is_said_is_truth_times_lognormal_bias_and_noise(write):
    nodes = """\
  killed: {constant: 1000}
  says: {statement: {about: killed, bias: 1.2, noise: 0.3, lag: 10}}
"""
    qs = [{"id": "v", "type": "numeric", "resolve": {"quantity": "says"}, "given": {"event": "says", "by": "2023-12-01"}}]
    model, questions = load(write, nodes, qs)
    said = forecast(model, questions)["v"]
    truth = stats.lognorm(0.3, scale=1200)
    for q in (0.1, 0.5, 0.9):
        # quantile of the sample: its standard error from the density at the quantile
        se = np.sqrt(q * (1 - q) / N) / truth.pdf(truth.ppf(q))
        assert abs(np.quantile(said, q) - truth.ppf(q)) <= Z * se


def test_rounding_and_at_least_statements(write):
    nodes = """\
  troops: {constant: 12345}
  nearest: {statement: {about: troops, noise: 0.1, lag: 0, round_to: 1000}}
  at_least: {statement: {about: troops, noise: 0.1, lag: 0, round_to: 1000, rounding: down}}
"""
    qs = [
        {"id": "n", "type": "numeric", "resolve": {"quantity": "nearest"}, "given": {"event": "nearest", "by": "2023-10-01"}},
        {"id": "a", "type": "numeric", "resolve": {"quantity": "at_least"}, "given": {"event": "at_least", "by": "2023-10-01"}},
        {"id": "says15", "resolve": {"quantity": "at_least", "on": day(30), "at_least": 13000}},
    ]
    model, questions = load(write, nodes, qs)
    out = forecast(model, questions)
    assert np.all(out["n"] % 1000 == 0) and np.all(out["a"] % 1000 == 0)
    # "at least X" (rounded down): said >= 13000 exactly when the unrounded figure is >= 13000
    p = stats.norm.sf(np.log(13000 / 12345) / 0.1)
    assert close_share(out["says15"].mean(), p)
    # nearest: said == 12000 when the figure is in [11500, 12500)
    share = (out["n"] == 12000).mean()
    assert close_share(share, stats.norm.cdf(np.log(12500 / 12345) / 0.1) - stats.norm.cdf(np.log(11500 / 12345) / 0.1))


def test_statement_on_a_date_reads_a_stock_and_is_unknown_until_published(write):
    nodes = """\
  war: {event: {delay: 15}}
  dead: {stock: {rate: 300, start: war}}
  us_says: {statement: {about: dead, date: 2023-12-04, chance: 0.5}}
"""
    qs = [
        {"id": "before", "resolve": {"quantity": "us_says", "on": day(60), "at_least": 0}},
        {"id": "after", "resolve": {"quantity": "us_says", "on": day(100), "at_least": 700}},
        {"id": "value", "type": "numeric", "resolve": {"quantity": "us_says", "on": day(120)}, "given": {"event": "us_says", "by": day(120)}},
    ]
    model, questions = load(write, nodes, qs)
    out = forecast(model, questions)
    assert not out["before"].any()
    assert close_share(out["after"].mean(), 0.5)
    said = out["value"][~np.isnan(out["value"])]
    assert np.allclose(said, 300 * (90 - 15) / 30)  # the level on the publication day (day 90)


def test_a_statement_with_a_lag_per_world_says_each_worlds_own_level_and_running_total(write):
    # the lag differs by world, so each world's figure is its stock's level (or its flow's running
    # total) on its own publication day: checked world by world against the one-day functions
    from scenarios.model.kinds.stock import level_at_day
    from scenarios.model.worlds import cumulative_at_day

    nodes = """\
  war: {event: {delay: {uniform: {low: 0, high: 200}}}}
  dead: {stock: {rate: {gamma: {shape: 2, scale: 150}}, start: war}}
  sent: {flow: {rate: {gamma: {shape: 2, scale: 400}}, start: war, count: poisson}}
  says_dead: {statement: {about: dead, after: war, lag: {gamma: {shape: 2, scale: 40}}}}
  says_sent: {statement: {about: sent, after: war, lag: {gamma: {shape: 2, scale: 40}}}}
"""
    model, _ = load(write, nodes)
    worlds = simulate(model, 400, seed=5)
    md = model.month_days
    for statement, about, at_day in (("says_dead", "dead", level_at_day), ("says_sent", "sent", cumulative_at_day)):
        said = np.asarray(worlds[statement])
        values = np.asarray(worlds[about])
        known = np.isfinite(said[:, 0])
        assert 50 < known.sum() < 400  # some worlds publish after the horizon
        expected = [at_day(values[i : i + 1], said[i, 0], md)[0] for i in np.flatnonzero(known)]
        np.testing.assert_allclose(said[known, 1], expected, rtol=1e-12, atol=1e-9)


# --------------------------------------------------------------------------- validation


BAD = [
    ("  v: {repeated: {rate: -1}}\n", r"nodes\.v\.repeated\.rate: expected a rate per month >= 0, got -1"),
    ("  v: {repeated: {rate: 1, strat: e}}\n  e: {event: {delay: 1}}\n", r"nodes\.v\.repeated\.strat: unknown key 'strat'.*did you mean 'start'"),
    ("  v: {repeated: {rate: 1, start: x}}\n  x: 3\n", r"nodes\.v\.repeated\.start: expected an event node, 'x' is a number node"),
    ("  v: {repeated: {rate: 1, change: {after: x}}}\n  x: {event: {delay: 1}}\n", r"nodes\.v\.repeated\.change: missing key 'rate'"),
    ("  v: {repeated: {rate: 1, max: 0}}\n", r"nodes\.v\.repeated\.max: expected a whole number of occurrences in \[1, 10000\], got 0"),
    ("  s: {stock: {rate: 1, start: 2023-10-01}}\n", r"nodes\.s\.stock\.start: expected the name of an event node"),
    ("  s: {stock: {rate: 1, count: binomial}}\n", r"nodes\.s\.stock\.count: expected expected or poisson"),
    ("  t: {statement: {about: nobody, lag: 1}}\n  nobod: 1\n", r"nodes\.t\.statement\.about: unknown node 'nobody'"),
    ("  t: {statement: {about: x}}\n  x: 1\n", r"nodes\.t\.statement: expected exactly one of 'lag'"),
    ("  t: {statement: {about: x, lag: 1, chance: 2}}\n  x: 1\n", r"nodes\.t\.statement\.chance: expected a probability in \[0, 1\], got 2"),
    ("  t: {statement: {about: x, lag: 1, rounding: floor}}\n  x: 1\n", r"nodes\.t\.statement\.rounding: expected nearest, down or up"),
    ("  t: {statement: {about: x, lag: 1, round_to: 0}}\n  x: 1\n", r"nodes\.t\.statement\.round_to: expected a step >= 1e-09"),
    ("  t: {statement: {about: x, date: soon}}\n  x: 1\n", r"nodes\.t\.statement\.date: .*soon"),
    ("  t: {statement: {about: c, lag: 1}}\n  c: {categorical: {a: 0.5, b: 0.5}}\n", r"nodes\.t\.statement\.about: expected a number, event, stock or flow node"),
]


@pytest.mark.parametrize("nodes, pattern", BAD)
def test_bad_specs_name_the_file_and_key_path(write, nodes, pattern):
    with pytest.raises(ParamsError, match=pattern) as info:
        load(write, nodes)
    assert "m.yaml" in str(info.value)


BAD_QUESTIONS = [
    ({"event": "visits", "occurrence": 0, "by": "2023-10-01"}, r"occurrence: expected an occurrence number in \[1, 30\]"),
    ({"event": "e", "occurrence": 2, "by": "2023-10-01"}, r"'e' happens at most once"),
    ({"quantity": "visits", "at_least": 2}, r"'visits' is a repeated node .*say which date"),
    ({"quantity": "dead", "at_least": 2}, r"'dead' is a stock node .*say which date"),
    ({"quantity": "dead.cumulative", "month": 2}, r"'dead' is a stock node, not a flow; it has no \.cumulative"),
    ({"event": "says", "occurrence": 2}, r"statement .*drop occurrence"),
    ({"quantity": "says", "on": "2023-11-01"}, r"resolve: what statement 'says' says is undefined .*add given: \{event: says, by: DATE\}"),
]


@pytest.mark.parametrize("clause, pattern", BAD_QUESTIONS)
def test_bad_questions_on_the_new_kinds(write, clause, pattern):
    nodes = """\
  e: {event: {delay: 5}}
  visits: {repeated: {rate: 1}}
  dead: {stock: {rate: 1, start: e}}
  says: {statement: {about: e, lag: 3}}
"""
    with pytest.raises(ParamsError, match=pattern):
        load(write, nodes, [{"id": "q", "type": "binary" if "by" in clause or "at_least" in clause else "numeric", "resolve": clause}])


def test_cli_exits_2_and_writes_nothing_on_a_bad_new_kind(write, tmp_path, capsys):
    path = write("m.yaml", header() + "nodes:\n  v: {repeated: {rate: often}}\n")
    out = tmp_path / "out.json"
    assert main(["forecast", path, "--output", str(out)]) == 2
    assert "nodes.v.repeated.rate: unknown node 'often'" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------- backtest


def test_backtest_scores_questions_on_every_new_kind(write):
    nodes = """\
  war: {event: {chance_per_month: 0.4}}
  meetings: {repeated: {rate: 0.5, change: {after: war, rate: 0.1}}}
  dead: {stock: {rate: {lognormal: {ci90: [50, 500]}}, start: war, count: poisson}}
  us_says: {statement: {about: dead, chance: 0.7, lag: {gamma: {shape: 2, scale: 15}}, after: war, noise: 0.3, round_to: 100, rounding: down}}
"""
    params = write("model.yaml", header(12, 4000) + "nodes:\n" + nodes)
    questions = write("questions.yaml", """\
questions:
  - {id: second_meeting, open: 2023-09-05, close: 2024-03-01, resolve: {event: meetings, occurrence: 2, by: 2024-03-01}}
  - {id: three_meetings, open: 2023-09-05, close: 2024-05-01, resolve: {quantity: meetings, month: 8, at_least: 3}}
  - {id: dead_500, open: 2023-09-05, close: 2024-06-01, resolve: {quantity: dead, month: 9, at_least: 500}}
  - {id: us_says_300, open: 2023-09-05, close: 2024-06-01, resolve: {quantity: us_says, month: 9, at_least: 300}}
  - {id: us_said, open: 2023-09-05, close: 2024-01-01, resolve: {event: us_says, by: 2024-01-01}}
""")
    resolutions = write("resolutions.yaml", """\
questions:
  - {id: second_meeting, outcome: true, resolved_on: 2023-12-10}
  - {id: three_meetings, outcome: false, resolved_on: 2024-05-01}
  - {id: dead_500, outcome: true, resolved_on: 2024-02-01}
  - {id: us_says_300, outcome: true, resolved_on: 2024-03-15}
  - {id: us_said, outcome: true, resolved_on: 2023-11-20}
""")
    model, qs = load_model(params, questions=questions)
    evidence = parse_evidence(model, [
        {"public_on": "2023-10-15", "source": "https://example.org/war", "observe": {"war": "2023-10-10"}},
    ])
    result = run_backtest(model, qs, load_resolutions(resolutions), evidence, samples=4000, seed=5)
    counts = result.summary["counts"]
    assert counts["binary_scored"] == 5
    for q in qs:
        rows = result.path(q.id)
        assert rows and all(0.0 <= r["forecast"] <= 1.0 for r in rows)
    # learning the war started on 2023-10-10 moves the forecast that the US has spoken by 2024-01-01
    said = result.path("us_said")
    assert [r["as_of"] for r in said] == [dt.date(2023, 9, 5), dt.date(2023, 10, 15)]
    assert said[1]["forecast"] != said[0]["forecast"]


# --------------------------------------------------------------------------- evidence


def test_a_statement_observed_as_evidence_agrees_with_exact_bayes(write):
    # x ~ lognormal(median 1000, sigma 0.5); the source says 1,300 (nearest 100) with bias 1.2 and
    # lognormal noise 0.3. Exact posterior by numerical integration over x.
    nodes = """\
  x: {lognormal: {mu: 6.907755278982137, sigma: 0.5}}
  says: {statement: {about: x, lag: 0, bias: 1.2, noise: 0.3, round_to: 100}}
"""
    qs = [{"id": f"a{t}", "resolve": {"quantity": "x", "at_least": t}} for t in (800, 1000, 1200)]
    model, questions = load(write, nodes, qs)
    evidence = parse_evidence(model, [
        {"public_on": "2023-10-01", "source": "https://example.org/s", "report": {"quantity": "says", "said": {"value": 1300}}},
    ])
    prior = stats.lognorm(0.5, scale=1000)

    def likelihood(x):
        centre = np.log(1.2 * x)
        return stats.norm.cdf((np.log(1350) - centre) / 0.3) - stats.norm.cdf((np.log(1250) - centre) / 0.3)

    assert_posterior_tails(model, questions, evidence, dt.date(2023, 10, 1), prior, likelihood, (800, 1000, 1200))


def test_a_statement_observed_as_evidence_is_what_the_source_said_from_then_on(write):
    # Once the evidence has the source's figure, questions on the statement read that figure and
    # that day in every world (before it, the statement is still drawn).
    nodes = """\
  x: {lognormal: {mu: 6.907755278982137, sigma: 0.5}}
  says: {statement: {about: x, chance: 0.5, lag: {uniform: [0, 200]}, bias: 1.0, noise: 0.3, round_to: 100}}
"""
    qs = [
        {"id": "said_1300", "resolve": {"quantity": "says", "on": "2023-12-31", "at_least": 1300}},
        {"id": "said_1400", "resolve": {"quantity": "says", "on": "2023-12-31", "at_least": 1400}},
        {"id": "spoke_by_oct", "resolve": {"event": "says", "by": "2023-10-15"}},
        {"id": "spoke_by_sep", "resolve": {"event": "says", "by": "2023-09-30"}},
    ]
    model, questions = load(write, nodes, qs)
    evidence = parse_evidence(model, [
        {"public_on": "2023-10-01", "source": "https://example.org/s", "report": {"quantity": "says", "said": {"value": 1300}}},
    ])
    from scenarios.engine.asof import forecast_as_of

    before = forecast_as_of(model, questions, evidence, dt.date(2023, 9, 20), samples=4000, seed=3)
    after = forecast_as_of(model, questions, evidence, dt.date(2023, 10, 2), samples=4000, seed=3)
    p = {q.id: q.probability for q in after.questions}
    assert p == {"said_1300": 1.0, "said_1400": 0.0, "spoke_by_oct": 1.0, "spoke_by_sep": 0.0}
    assert 0.0 < next(q for q in before.questions if q.id == "spoke_by_oct").probability < 1.0


def test_bad_reports_on_statements(write):
    nodes = """\
  x: {lognormal: {mu: 7, sigma: 0.5}}
  fixed: {statement: {about: x, lag: 0}}
  s: {statement: {about: x, lag: 0, noise: 0.2}}
"""
    model, _ = load(write, nodes)
    cases = [
        ({"quantity": "fixed", "said": {"value": 5}}, r"bias and noise are fixed numbers > 0"),
        ({"quantity": "s", "said": {"value": -5}}, r"said\.value: expected a figure > 0"),
        ({"quantity": "s", "said": {"at_least": 0}}, r"said\.at_least: expected a figure > 0"),
        ({"quantity": "s", "said": {"at_mots": 5}}, r"said\.at_mots: unknown key"),
        ({"quantity": "s", "said": {"value": 5}, "likelihood": {}}, r"likelihood: a statement carries its own error model"),
    ]
    for report, pattern in cases:
        with pytest.raises(ParamsError, match=pattern):
            parse_evidence(model, [{"public_on": "2023-10-01", "source": "https://example.org/s", "report": report}])


def test_scheduled_publication_dates_take_the_first_on_or_after_the_fact(write):
    # fact uniform on days (0, 90]; bulletins on days 30, 60, 90: published on the first one after it
    nodes = """\
  strike: {event: {delay: {uniform: [0, 90]}}}
  bulletin: {statement: {about: strike, date: [2023-10-05, 2023-11-04, 2023-12-04], chance: 0.5}}
"""
    model, _ = load(write, nodes)
    w = simulate(model, N, seed=8)
    fact, published = w["strike"], w["bulletin"][:, 0]
    spoke = np.isfinite(published)
    assert close_share(spoke.mean(), 0.5)
    expected = np.array([30.0, 60.0, 90.0])[np.searchsorted([30, 60, 90], fact[spoke])]
    assert np.array_equal(published[spoke], expected)
    with pytest.raises(ParamsError, match=r"statement\.date\.1: expected dates in increasing order"):
        load(write, "  e: {event: {delay: 1}}\n  s: {statement: {about: e, date: [2023-11-01, 2023-10-01]}}\n")


def test_memory_estimate_counts_the_arrays_of_the_new_kinds(write):
    from scenarios.engine.memory import estimate_peak_bytes

    def peak(nodes):
        model, _ = load(write, nodes, months=24)
        return estimate_peak_bytes(model, [], 1_000_000, chunk_size=100_000)

    base = peak("  r: 1\n")
    assert peak("  r: 1\n  v: {repeated: {rate: r, max: 200}}\n") - base >= 200 * 8 * 100_000
    assert peak("  r: 1\n  s: {stock: {rate: r}}\n") - base >= 25 * 8 * 100_000


@pytest.mark.parametrize("how", ["statement", "report"])
def test_a_stock_observed_on_a_date_agrees_with_exact_bayes(write, how):
    # rate r ~ lognormal(median 300 a month, sigma 0.5) from as_of: the level on 2023-10-05 (day 30)
    # is r.  Either a statement about the stock (bias 1, noise 0.3, nearest 100) says 400 on that
    # day, or a plain report on the stock's level says 400 with lognormal noise 0.3 (a density).
    nodes = """\
  r: {lognormal: {mu: 5.703782474656201, sigma: 0.5}}
  level: {stock: {rate: r}}
  says: {statement: {about: level, lag: {uniform: [0, 100]}, bias: 1.0, noise: 0.3, round_to: 100}}
"""
    qs = [{"id": f"a{t}", "resolve": {"quantity": "r", "at_least": t}} for t in (250, 350, 450)]
    model, questions = load(write, nodes, qs)
    if how == "statement":
        report = {"quantity": "says", "said": {"value": 400}}

        def likelihood(r):
            return stats.norm.cdf((np.log(450) - np.log(r)) / 0.3) - stats.norm.cdf((np.log(350) - np.log(r)) / 0.3)
    else:
        report = {"quantity": "level", "on": "2023-10-05", "said": {"value": 400}, "likelihood": {"lognormal": {"sigma": 0.3}}}

        def likelihood(r):
            return stats.norm.pdf((np.log(400) - np.log(r)) / 0.3)
    evidence = parse_evidence(model, [{"public_on": "2023-10-05", "source": "https://example.org/s", "report": report}])
    prior = stats.lognorm(0.5, scale=300)
    assert_posterior_tails(model, questions, evidence, dt.date(2023, 10, 5), prior, likelihood, (250, 350, 450))


def test_a_watched_statement_had_not_been_made_until_an_item_reports_it(write):
    # The source speaks with chance 0.5, uniform 0-200 days after as_of.  Watched from as_of with
    # lag 0: as of day 50 it had not spoken, so P(spoken by day 100) = 0.5 * 50/200 / (1 - 0.5 * 50/200).
    nodes = """\
  x: {lognormal: {mu: 6.907755278982137, sigma: 0.5}}
  says: {statement: {about: x, chance: 0.5, lag: {uniform: [0, 200]}, bias: 1.0, noise: 0.3, round_to: 100}}
"""
    qs = [
        {"id": "by_day_50", "resolve": {"event": "says", "by": str(day(50))}},
        {"id": "by_day_100", "resolve": {"event": "says", "by": str(day(100))}},
    ]
    model, questions = load(write, nodes, qs)
    evidence = parse_evidence(model, [
        {"public_on": "2023-09-05", "source": "https://example.org/w", "watch": {"says": 0}},
        {"public_on": str(day(80)), "source": "https://example.org/s", "report": {"quantity": "says", "said": {"value": 1300}}},
    ])
    from scenarios.engine.asof import forecast_as_of

    before = forecast_as_of(model, questions, evidence, day(50), samples=N, seed=3)
    p = {q.id: q.probability for q in before.questions}
    assert p["by_day_50"] == 0.0
    assert close_share(p["by_day_100"], 0.5 * 0.25 / (1 - 0.5 * 0.25), n=before.ess)
    after = forecast_as_of(model, questions, evidence, day(80), samples=4000, seed=3)
    assert {q.id: q.probability for q in after.questions} == {"by_day_50": 0.0, "by_day_100": 1.0}


def test_bad_reports_on_stocks(write):
    nodes = """\
  level: {stock: {rate: 10}}
  x: {lognormal: {mu: 7, sigma: 0.5}}
"""
    model, _ = load(write, nodes)
    lik = {"lognormal": {"sigma": 0.3}}
    cases = [
        ({"quantity": "level", "said": {"value": 5}, "likelihood": lik}, r"'level' is a stock: say which date"),
        ({"quantity": "level.cumulative", "on": "2023-10-01", "said": {"value": 5}, "likelihood": lik}, r"is a stock, not a flow"),
    ]
    for report, pattern in cases:
        with pytest.raises(ParamsError, match=pattern):
            parse_evidence(model, [{"public_on": "2023-10-01", "source": "https://example.org/s", "report": report}])
    with pytest.raises(ParamsError, match=r"watch\.x: 'x' is a number node; only events, statements and repeated events can be watched"):
        parse_evidence(model, [{"public_on": "2023-10-01", "source": "https://example.org/s", "watch": {"x": 0}}])


def test_a_watched_repeated_event_had_no_occurrence_yet(write):
    # Poisson meetings at 0.3 a month from as_of, watched with lag 0: as of day 60 none has happened,
    # so (memoryless) P(first by day 90) = 1 - exp(-0.3), and P(at least 2 by day 150) is that of a
    # Poisson count with mean 0.3 * 3 over days 60-150.
    nodes = "  meetings: {repeated: {rate: 0.3}}\n"
    qs = [
        {"id": "first_by_60", "resolve": {"event": "meetings", "by": str(day(60))}},
        {"id": "first_by_90", "resolve": {"event": "meetings", "by": str(day(90))}},
        {"id": "two_by_150", "resolve": {"quantity": "meetings", "on": str(day(150)), "at_least": 2}},
    ]
    model, questions = load(write, nodes, qs)
    evidence = parse_evidence(model, [{"public_on": "2023-09-05", "source": "https://example.org/w", "watch": ["meetings"]}])
    from scenarios.engine.asof import forecast_as_of

    fc = forecast_as_of(model, questions, evidence, day(60), samples=N, seed=3)
    p = {q.id: q.probability for q in fc.questions}
    assert p["first_by_60"] == 0.0
    assert close_share(p["first_by_90"], 1 - np.exp(-0.3), n=fc.ess)
    assert close_share(p["two_by_150"], stats.poisson(0.9).sf(1), n=fc.ess)
