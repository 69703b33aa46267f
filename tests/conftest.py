"""Shared helpers: write small params files into a temp folder and load them; params/base.yaml's
model with its data files, and the outputs of a backtest of it, to compare runs bit for bit."""

from __future__ import annotations

import json
import os
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.path.join(REPO, "params", "base.yaml")


@pytest.fixture
def write(tmp_path):
    """write(name, yaml_text) -> path of the file written in a temp folder."""

    def _write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    return _write


HEADER = "as_of: 2023-09-05\nhorizon_months: 12\nseed: 7\nsamples: 1000\n"


@pytest.fixture(scope="module")
def base():
    """params/base.yaml's model, questions and data (resolutions, evidence): ``(model, questions, data)``."""
    from scenarios.backtest.data import load_model_data
    from scenarios.model.data_files import data_files
    from scenarios.model.load import load_model

    model, questions = load_model(BASE)
    data = load_model_data(model, data_files(model))
    return model, questions, data


def backtest_outputs(base, evidence=None, store=None, *, dates, samples, chunk_size, questions=None, **options) -> tuple:
    """A backtest of ``base`` (the fixture) as of ``dates``, as what two runs are compared by: its
    rows and numeric rows as CSV, its summary as JSON and its fans (as_of, values, ess per path).

    ``evidence`` and ``questions`` default to base's; ``store`` and ``options`` (``seed``, ``fans``,
    ``pool``) go to :func:`scenarios.backtest.run_backtest`.
    """
    from scenarios.backtest import run_backtest

    model, qs, data = base
    result = run_backtest(model, questions or qs, data.resolutions, data.evidence if evidence is None else evidence,
                          as_of_dates=dates, samples=samples, chunk_size=chunk_size, store=store, **options)
    fans = {q: [(p.as_of, p.values.tolist(), p.ess) for p in paths] for q, (paths, _) in result.fans.items()}
    return result.to_csv(), result.numeric_csv(), json.dumps(result.summary, sort_keys=True, default=str), fans
