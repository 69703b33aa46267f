"""Questions: clauses over worlds, conditional forecasts, dates, and their errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import HEADER
from scenarios.engine.forecast import run_forecast
from scenarios.engine.simulate import simulate
from scenarios.errors import ParamsError
from scenarios.model.load import load_model

MODEL = HEADER + """nodes:
  summit: {bernoulli: 0.8}
  summit_day: {event: {when: summit, delay: {uniform: [0, 40]}}}
  venue: {categorical: {vlad: 0.6, moscow: 0.1, other: 0.3}}
  containers: {flow: {rate: 300, start: summit_day}}
"""


def model_with(write, questions: str):
    return load_model(write("q.yaml", MODEL + "questions:\n" + questions))


def forecast(write, questions: str, n=40_000):
    model, qs = model_with(write, questions)
    return run_forecast(model, qs, samples=n, seed=1).by_id()


def test_event_by_date_and_between(write):
    f = forecast(write, """\
  - {id: by_30, resolve: {event: summit_day, by: 2023-10-05}}
  - {id: between, resolve: {event: summit_day, between: [2023-09-16, 2023-09-25]}}
""")
    # uniform(0, 40) days: P(<= 30) = 0.75; P(11..20) = 10/40
    for qid, p in (("by_30", 0.8 * 0.75), ("between", 0.8 * 0.25)):
        se = math.sqrt(p * (1 - p) / 40_000)
        assert abs(f[qid].probability - p) < 5 * se
        assert f[qid].stderr == pytest.approx(math.sqrt(f[qid].probability * (1 - f[qid].probability) / 40_000))


def test_conditional_question_uses_only_worlds_where_given_holds(write):
    f = forecast(write, """\
  - {id: vlad_given_summit, resolve: {is: {venue: vlad}}, given: {is: {summit: true}}}
  - {id: summit_given_summit, resolve: {is: {summit: true}}, given: {is: {summit: true}}}
  - {id: both, resolve: {all: [{is: {venue: vlad}}, {is: {summit: true}}]}}
  - {id: either, resolve: {any: [{is: {venue: [vlad, moscow]}}, {not: {is: {summit: true}}}]}}
""")
    assert f["summit_given_summit"].probability == 1.0
    assert f["vlad_given_summit"].n_eff == pytest.approx(f["summit_given_summit"].n_eff)
    assert abs(f["vlad_given_summit"].probability - 0.6) < 5 * math.sqrt(0.24 / 32_000)
    assert f["both"].probability <= f["vlad_given_summit"].probability + 0.02
    p_either = 0.7 + 0.2 * 0.3
    assert abs(f["either"].probability - p_either) < 5 * math.sqrt(p_either * (1 - p_either) / 40_000)


def test_cumulative_on_date_interpolates_within_month(write):
    model, _ = model_with(write, "  []\n".replace("  []\n", "  - {id: x, resolve: {is: {summit: true}}}\n"))
    w = simulate(model, 2000, seed=4)
    import datetime as dt

    mid = w.cumulative_on("containers", dt.date(2023, 9, 5) + dt.timedelta(days=45))
    exact = w["containers"][:, 0] + 0.5 * w["containers"][:, 1]
    assert np.allclose(mid, exact)
    end = w.cumulative_on("containers", dt.date(2023, 9, 5) + dt.timedelta(days=60))
    assert np.allclose(end, w["containers"][:, :2].sum(axis=1))


def test_numeric_and_date_questions(write):
    f = forecast(write, """\
  - {id: cum, type: numeric, resolve: {quantity: containers.cumulative, month: 3}}
  - {id: day, type: date, resolve: {event: summit_day}}
""")
    assert set(f["cum"].quantiles) == {0.05, 0.5, 0.95}
    assert f["cum"].quantiles[0.05] <= f["cum"].quantiles[0.5] <= f["cum"].quantiles[0.95]
    d = f["day"].to_dict()
    assert abs(f["day"].probability_never - 0.2) < 5 * math.sqrt(0.16 / 40_000)
    assert d["quantiles"]["0.95"] == "never"
    assert d["quantiles"]["0.05"] >= "2023-09-05"


def test_quantity_threshold_clause(write):
    f = forecast(write, "  - {id: big, resolve: {quantity: containers.cumulative, month: 12, at_least: 1}}\n")
    # containers flow only if the summit happened (start is never otherwise)
    assert abs(f["big"].probability - 0.8) < 5 * math.sqrt(0.16 / 40_000)


@pytest.mark.parametrize(
    "question, pattern",
    [
        ("{id: q, resolve: {event: sumit_day, by: 2023-10-01}}", r"questions\.0\.resolve\.event: unknown variable 'sumit_day' \(did you mean 'summit_day'\?\)"),
        ("{id: q, resolve: {is: {venue: vladivostok}}}", r"questions\.0\.resolve\.is\.venue: unknown category 'vladivostok'"),
        ("{id: q, resolve: {event: summit_day, by: 2023-09-31}}", r"questions\.0\.resolve\.by: expected a date|bad value"),
        ("{id: q, resolve: {event: summit_day, by: 2030-01-01}}", r"beyond the model's horizon"),
        ("{id: q, resolve: {event: venue, by: 2023-10-01}}", r"'venue' is a category node; expected a event node"),
        ("{id: q, type: binary, resolve: {quantity: containers.cumulative, month: 2}}", r"a binary question needs a true/false clause"),
        ("{id: q, resolve: {quantity: containers.total, month: 2, at_least: 3}}", r"unknown series 'total'"),
        ("{id: q, resolve: {is: {summit: true}}, opne: 2023-09-05}", r"unknown key 'opne'.*did you mean 'open'"),
        ("{id: q, resolve: {is: {summit: true}}, open: 2023-10-01, close: 2023-09-01}", r"close date 2023-09-01 is before open date"),
        ("{id: q, type: probability, resolve: {is: {summit: true}}}", r"questions\.0\.type: expected one of"),
    ],
)
def test_bad_questions(write, question, pattern):
    with pytest.raises(ParamsError, match=pattern):
        model_with(write, "  - " + question + "\n")


def test_duplicate_question_ids(write):
    with pytest.raises(ParamsError, match="duplicate question id 'q'"):
        model_with(write, "  - {id: q, resolve: {is: {summit: true}}}\n  - {id: q, resolve: {is: {summit: false}}}\n")


def test_questions_file_relative_to_params_file(write):
    write("qs.yaml", "questions:\n  - {id: a, resolve: {is: {summit: true}}}\n")
    model, qs = load_model(write("m.yaml", MODEL + "questions: qs.yaml\n"))
    assert [q.id for q in qs] == ["a"]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.integers(1, 8), st.integers(0, 2**32 - 1), st.booleans())
def test_weighted_quantiles_by_column_equal_one_column_at_a_time(n, m, seed, zeros):
    from scenarios.engine.forecast import weighted_quantiles, weighted_quantiles_by_column

    rng = np.random.default_rng(seed)
    values = np.cumsum(rng.integers(0, 4, size=(n, m)), axis=1).astype(float)  # ties and rank changes
    weights = rng.random(n) * (rng.random(n) < 0.5 if zeros else 1.0)
    weights[0] += 0.1  # at least one world counts
    levels = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
    expected = np.column_stack([weighted_quantiles(values[:, j], weights, levels) for j in range(m)])
    np.testing.assert_array_equal(weighted_quantiles_by_column(values, weights, levels), expected)
