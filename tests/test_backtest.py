"""Backtest: resolutions, as-of dates, time-averaged scores, unseen question sets, CLI, notebook."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os

import numpy as np
import pytest

from conftest import HEADER, REPO
from scenarios.backtest import (
    BacktestResult,
    backtest_for,
    default_as_of_dates,
    fan_paths,
    load_resolutions,
    monthly_dates,
    report_fans,
    run_backtest,
)
from scenarios.cli import main
from scenarios.engine.asof import forecast_as_of
from scenarios.engine.evidence import Evidence, load_evidence, parse_evidence
from scenarios.errors import ParamsError
from scenarios.model.load import load_model
from scenarios.scoring import brier_score

BASE = os.path.join(REPO, "params", "base.yaml")
RESOLUTIONS = os.path.join(REPO, "data", "resolutions.yaml")
URL = "https://example.org/news"

TINY = HEADER + """
nodes:
  a: {bernoulli: {p: 0.3}}
  b: {bernoulli: {p: 0.6}}
  e:
    event:
      when: b
      delay: {uniform: [0, 60], round: ceil}
  size: {lognormal: {ci90: [10, 1000]}}
"""

QUESTIONS = """
questions:
  - {id: qa, open: 2023-09-05, close: 2023-09-30, resolve: {is: {a: true}}}
  - {id: qe, open: 2023-09-05, close: 2023-10-31, resolve: {event: e, by: 2023-10-31}}
  - {id: qlate, open: 2023-09-20, close: 2023-12-31, resolve: {is: {b: true}}}
  - {id: qvoid, open: 2023-09-05, close: 2023-12-31, resolve: {is: {b: true}}}
  - {id: qhazy, open: 2023-09-05, close: 2023-12-31, resolve: {is: {a: true}}}
  - {id: qopen, open: 2023-09-05, close: 2023-12-31, resolve: {is: {a: true}}}
  - {id: qsize, type: numeric, open: 2023-09-05, close: 2023-12-31, resolve: {quantity: size}}
"""

RESOLVED = """
questions:
  - {id: qa, outcome: true, resolved_on: 2023-09-20}
  - {id: qe, outcome: false, resolved_on: 2023-11-01}
  - {id: qlate, outcome: true, resolved_on: 2023-10-10}
  - {id: qvoid, outcome: annulled}
  - {id: qhazy, outcome: ambiguous}
  - {id: qsize, type: numeric, value: 300, low: 200, high: 400, resolved_on: 2023-12-01}
  - {id: not_in_questions, outcome: false}
"""


@pytest.fixture
def unseen(write):
    """A model, question set and resolutions the code has never seen."""
    params = write("model.yaml", TINY)
    qfile = write("questions.yaml", QUESTIONS)
    rfile = write("resolutions.yaml", RESOLVED)
    model, questions = load_model(params, questions=qfile)
    evidence = parse_evidence(model, [{"public_on": "2023-09-10", "source": URL, "observe": {"a": True}}])
    return params, qfile, rfile, model, questions, evidence


def test_the_shared_resolutions_file_loads():
    res = load_resolutions(RESOLUTIONS)
    assert len(res) == 32
    assert all(r.status == "resolved" and r.resolved_on for r in res.values())
    assert [k for k, r in res.items() if r.type != "binary"] == ["summit_date"]  # a dated resolution
    assert res["summit_by_2023_09_30"].outcome is True


def test_resolution_kinds_and_errors(write):
    res = load_resolutions(write("r.yaml", RESOLVED))
    assert res["qvoid"].status == "annulled" and res["qhazy"].status == "ambiguous"
    assert (res["qsize"].value, res["qsize"].low, res["qsize"].high) == (300, 200, 400)
    assert res["qa"].outcome is True and res["qa"].resolved_on == dt.date(2023, 9, 20)
    bad = [
        ("questions:\n  - {id: x, outcom: true}\n", r"questions\.0\.outcom: unknown key 'outcom'.*did you mean 'outcome'"),
        ("questions:\n  - {id: x, outcome: maybe}\n", r"expected true, false, annulled, ambiguous or null"),
        ("questions:\n  - {id: x, outcome: true}\n  - {id: x, outcome: false}\n", r"duplicate id 'x'"),
        ("questions:\n  - {id: x, type: numeric, value: 3, low: 5, high: 4}\n", r"expected low <= high"),
        ("questions:\n  - {id: x, outcome: true, value: 3}\n", r"resolves with outcome: true or false, not a value"),
        ("answers: []\n", r"unknown key 'answers'"),
    ]
    for text, match in bad:
        with pytest.raises(ParamsError, match=match):
            load_resolutions(write("bad.yaml", text))


def test_monthly_dates_keep_the_day_or_use_the_month_end():
    assert monthly_dates(dt.date(2024, 1, 31), dt.date(2024, 4, 30)) == [
        dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2024, 4, 30)]
    assert len(monthly_dates(dt.date(2023, 9, 5), dt.date(2025, 8, 5))) == 24


def test_default_dates_are_open_dates_and_evidence_dates(unseen):
    _, _, rfile, model, questions, evidence = unseen
    dates = default_as_of_dates(model, questions, load_resolutions(rfile), evidence)
    assert dates == [dt.date(2023, 9, 5), dt.date(2023, 9, 10), dt.date(2023, 9, 20)]


def test_unseen_question_set_is_scored_and_time_averaged_by_hand(unseen):
    _, _, rfile, model, questions, evidence = unseen
    res = load_resolutions(rfile)
    result = run_backtest(model, questions, res, evidence, samples=4000, seed=1)
    s = result.summary
    c = s["counts"]
    assert (c["annulled"], c["ambiguous"], c["unresolved"]) == (1, 1, 1)  # qopen has no resolution
    assert c["resolutions_without_question"] == ["not_in_questions"]
    assert c["binary_scored"] == 3
    # qa: forecast at 09-05 stands 5 days, then a is observed true at 09-10: 1.0 for 10 days to 09-20
    rows = result.path("qa")
    assert [r["as_of"] for r in rows] == [dt.date(2023, 9, 5), dt.date(2023, 9, 10)]
    assert [r["days"] for r in rows] == [5, 10]
    assert rows[1]["forecast"] == 1.0 and rows[1]["brier"] == 0.0
    qa = next(q for q in s["questions"] if q["id"] == "qa")
    assert qa["brier_time_averaged"] == pytest.approx((5 * rows[0]["brier"] + 10 * 0.0) / 15)
    assert qa["brier_open"] == pytest.approx(brier_score([rows[0]["forecast"]], [1])[0])
    # qlate opens on 09-20: first forecast then, until it resolves on 10-10 (20 days)
    late = result.path("qlate")
    assert [(r["as_of"], r["days"]) for r in late] == [(dt.date(2023, 9, 20), 20)]
    # qe closes 10-31: forecasts from 09-05, 09-10 and 09-20 cover 57 days in all
    assert sum(r["days"] for r in result.path("qe")) == (dt.date(2023, 11, 1) - dt.date(2023, 9, 5)).days
    # baselines and skill
    o = s["overall"]
    assert o["baselines"]["always_0.5"]["brier"] == 0.25
    assert o["base_rate"] == pytest.approx(2 / 3)
    assert o["brier_time_averaged"]["low"] <= o["brier_time_averaged"]["mean"] <= o["brier_time_averaged"]["high"]
    d = o["decomposition_open"]
    assert d["total"] == pytest.approx(d["brier"])
    # numeric: CRPS of the forecast of size against 300, at every date before 12-01
    assert [r["as_of"] for r in result.numeric_rows if r["target"] == "qsize"] == [dt.date(2023, 9, 5), dt.date(2023, 9, 10), dt.date(2023, 9, 20)]
    assert all(r["crps"] > 0 for r in result.numeric_rows)


def test_backtest_rows_equal_forecasts_as_of_each_date():
    # the shared simulation gives exactly what a separate forecast as of each date gives
    model, questions = load_model(BASE)
    evidence = load_evidence(model)
    res = load_resolutions(RESOLUTIONS)
    dates = [dt.date(2023, 9, 12), dt.date(2023, 10, 20), dt.date(2024, 7, 1)]
    result = run_backtest(model, questions, res, evidence, as_of_dates=dates, samples=2000, seed=3)
    resolved_on = {k: r.resolved_on for k, r in res.items()}
    for d in dates:
        f = forecast_as_of(model, questions, evidence, d, samples=2000, seed=3, resolved_on=resolved_on).by_id()
        rows = [r for r in result.rows if r["as_of"] == d]
        assert rows
        for r in rows:
            assert r["forecast"] == f[r["question"]].probability
        assert result.summary["ess"][str(d)] == pytest.approx(
            forecast_as_of(model, [], evidence, d, samples=2000, seed=3).ess, rel=1e-12)


def test_forecast_paths_move_only_when_information_arrives(unseen):
    # common random numbers: with no new evidence between two dates, the forecast is the same
    _, _, rfile, model, questions, _ = unseen
    res = load_resolutions(rfile)
    result = run_backtest(model, questions, res, Evidence(), as_of_dates=[dt.date(2023, 9, 5), dt.date(2023, 9, 8)], samples=3000)
    qa = result.path("qa")
    assert qa[0]["forecast"] == qa[1]["forecast"]


def test_csv_and_json_outputs(unseen, tmp_path):
    _, _, rfile, model, questions, evidence = unseen
    result = run_backtest(model, questions, load_resolutions(rfile), evidence, samples=1000)
    paths = result.write(str(tmp_path / "out"))
    assert [os.path.basename(p) for p in paths] == ["backtest.csv", "numeric.csv", "summary.json", "dates.csv"]
    rows = list(csv.DictReader(io.StringIO(open(paths[0]).read())))
    assert list(rows[0])[:6] == ["question", "as_of", "forecast", "outcome", "brier", "log_score"]
    summary = json.loads(open(paths[2]).read())
    assert summary["overall"]["baselines"]["no_evidence"]["skill_time_averaged"] is not None
    assert isinstance(BacktestResult.ROW_COLUMNS, tuple)


def test_cli_backtest_with_an_unseen_question_set(unseen, tmp_path, capsys):
    params, qfile, rfile, *_ = unseen
    out = str(tmp_path / "bt")
    code = main(["backtest", params, "--questions", qfile, "--resolutions", rfile, "-n", "1500",
                 "--as-of-dates", "2023-09-05,2023-09-25", "--out", out])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "1 annulled, 1 ambiguous, 1 unresolved" in text
    assert os.path.exists(os.path.join(out, "summary.json"))
    assert main(["backtest", params, "--questions", qfile, "--resolutions", rfile, "--monthly", "2023-09-05", "2023-12-05",
                 "--as-of-dates", "2023-09-05", "--out", out]) == 2
    assert main(["backtest", params, "--questions", qfile, "--resolutions", rfile, "--as-of-dates", "2023-02-30", "--out", out]) == 2
    assert main(["backtest", params, "--questions", qfile, "--resolutions", rfile, "--as-of-dates", "2023-08-01", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_fan_paths_narrow_as_reports_arrive():
    model, _ = load_model(BASE)
    evidence = load_evidence(model)
    fans = fan_paths(model, evidence, "containers.cumulative", [dt.date(2023, 9, 5), dt.date(2024, 3, 1)], samples=3000)
    month = 6  # end of the 6th model month (2024-03-03)
    width = [f.values[-1, month - 1] - f.values[0, month - 1] for f in fans]
    median = [f.values[2, month - 1] for f in fans]
    assert median[1] > 3 * median[0]  # the reports of 5,000-10,000 containers moved it up
    assert np.all(np.diff(fans[1].values, axis=0) >= 0)
    assert width[0] > 0


def test_fans_from_the_backtest_simulation_equal_a_separate_run():
    """The backtest's shared simulation gives exactly report_fans' fans, and asking for them
    changes none of the backtest's own numbers."""
    model, questions = load_model(BASE)
    evidence = load_evidence(model)
    until = "2024-06-30"
    plain = backtest_for(model, questions, samples=2000, seed=11, until=until)
    with_fans = backtest_for(model, questions, samples=2000, seed=11, until=until, fans=True)
    separate = report_fans(model, evidence, samples=2000, seed=11, until=until)
    assert plain.fans == {} and set(with_fans.fans) == set(separate) and separate
    for quantity, (fans, points) in separate.items():
        got, got_points = with_fans.fans[quantity]
        assert got_points == points
        assert [f.as_of for f in got] == [f.as_of for f in fans] and len(fans) >= 2
        for a, b in zip(got, fans, strict=True):
            np.testing.assert_array_equal(a.values, b.values)
            assert a.dates == b.dates and a.ess == b.ess
    assert with_fans.rows == plain.rows and with_fans.numeric_rows == plain.numeric_rows
    assert with_fans.to_json() == plain.to_json()


def test_notebook_is_thin_parameterised_and_without_outputs():
    nb = json.load(open(os.path.join(REPO, "notebooks", "03_backtest.ipynb")))
    cells = nb["cells"]
    first = cells[0]
    assert "parameters" in first["metadata"].get("tags", [])
    source = "".join(first["source"])
    for name in ("params_file", "samples", "seed", "as_of", "overrides", "output_dir"):
        assert f"{name}:" in source or f"{name} =" in source
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None for c in code)
    assert not any(line.lstrip().startswith(("def ", "class ")) for c in code for line in c["source"])
