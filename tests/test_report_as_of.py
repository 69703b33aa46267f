"""The report and the forecast say where things stand on a date, and what they published is kept.

Behaviours (the notebooks' own as-of sections are checked on a real report in test_notebooks):

* ``report --as-of`` outside the model's time, or not a date, is exit 2 naming the option, and
  nothing is written;
* the as-of view of a notebook weighs the worlds by the evidence and forecasts exactly what
  ``forecast --as-of`` forecasts; with no evidence by the date it says so and shows the prior;
* ``forecast --record`` appends the forecast to the ledger once (a rerun adds nothing) and the
  ledger command lists it and exports its history;
* ``report: sensitivity:`` takes a list of question ids; an unknown id stops the notebook naming it.
"""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pytest

from scenarios.cli import main
from scenarios.engine.asof import forecast_as_of
from scenarios.ledger import Ledger
from scenarios.model.load import load_model
from scenarios.model.report_spec import report_spec
from scenarios.notebook.inputs import NotebookInputError, as_of_view, notebook_inputs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.path.join(REPO, "params", "base.yaml")


@pytest.mark.parametrize("as_of, match", [("2023-01-01", r"--as-of: 2023-01-01 is outside the time of model"),
                                          ("2031-01-01", r"--as-of: 2031-01-01 is outside"),
                                          ("soon", r"--as-of: expected a date as YYYY-MM-DD, got 'soon'")])
def test_report_refuses_an_as_of_outside_the_model_and_writes_nothing(tmp_path, capsys, as_of, match):
    out = tmp_path / "reports"
    assert main(["report", BASE, "--out", str(out), "--samples", "200", "--as-of", as_of]) == 2
    import re

    assert re.search(match, capsys.readouterr().err)
    assert not out.exists() or not any(p.name.startswith("20") for p in out.iterdir())


def test_the_as_of_view_forecasts_what_forecast_as_of_forecasts():
    run = notebook_inputs(BASE, samples=800, as_of="2023-10-15")
    view = as_of_view(run)
    assert view.note == "" and view.items > 0 and view.now is not None
    assert len(view.now) == 800 and np.all(view.now.weights >= 0) and view.now.weights.sum() > 0
    direct = forecast_as_of(run.model, run.questions, view.evidence, dt.date(2023, 10, 15), samples=800, seed=run.seed,
                            resolved_on={k: r.resolved_on for k, r in view.resolutions.items()})
    assert repr(view.forecast.questions) == repr(direct.questions)
    assert len(view.prior_forecast.questions) == len(run.questions)  # the prior forecasts every question


def test_without_evidence_by_the_date_the_view_is_the_prior():
    run = notebook_inputs(BASE, samples=300, as_of="2023-09-05")
    view = as_of_view(run, forecasts=False)
    assert view.now is None and "no evidence is used" in view.note and len(view.prior) == 300


def test_forecast_record_appends_once_and_the_ledger_lists_and_exports_it(tmp_path, capsys):
    ledger = tmp_path / "ledger.sqlite"
    cmd = ["forecast", BASE, "--samples", "500", "--as-of", "2023-10-15", "--ledger", str(ledger), "--format", "csv"]
    assert main(cmd) == 0
    assert "recorded: run" in capsys.readouterr().err
    assert main(cmd) == 0
    assert "already recorded" in capsys.readouterr().err
    with Ledger(ledger, create=False) as book:
        runs = book.runs()
        assert len(runs) == 1 and str(runs[0]["as_of"]) == "2023-10-15" and runs[0]["source"] == "forecast"
        assert book.check() == []
    assert main(["ledger", str(ledger)]) == 0
    assert "2023-10-15" in capsys.readouterr().out
    assert main(["ledger", str(ledger), "--question", "lavrov_visits_pyongyang_by_2023_12_31"]) == 0
    csv = capsys.readouterr().out
    assert "2023-10-15" in csv and "None" not in csv and "e+" not in csv


def test_report_sensitivity_takes_question_ids(tmp_path):
    model, _ = load_model(BASE, overrides=["report.sensitivity=[summit_by_2023_09_30]"])
    assert report_spec(model).sensitivity == ("summit_by_2023_09_30",)
    with pytest.raises(Exception, match=r"report.*sensitivity.*expected a list of question ids"):
        report_spec(load_model(BASE, overrides=["report.sensitivity=7"])[0])
    with pytest.raises(NotebookInputError, match=r"report.sensitivity: no question 'summit_by_2023_09_3'"):
        notebook_inputs(BASE, overrides={"report.sensitivity": ["summit_by_2023_09_3"]})
