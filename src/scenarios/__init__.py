"""scenarios: probabilistic scenario models, Monte Carlo forecasts, reports and backtests.

The public API, imported on first use (PEP 562) so that ``scenarios --help`` stays fast::

    import scenarios
    model, questions = scenarios.load_model("params/base.yaml")
    forecast = scenarios.run_forecast(model, questions, samples=20_000, seed=1)
    print(forecast.to_table())

Everything here is documented in README.md and docs/; the subpackages (``scenarios.model``,
``scenarios.engine``, ``scenarios.scoring``, ``scenarios.backtest``, ``scenarios.notebook``,
``scenarios.report``) hold the rest, layered so that each imports only the ones below it.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    # errors
    "ScenarioError": "scenarios.errors",
    "ParamsError": "scenarios.errors",
    "UsageError": "scenarios.errors",
    "ScoringError": "scenarios.errors",
    # the model
    "load_model": "scenarios.model.load",
    "Model": "scenarios.model.scenario",
    "Worlds": "scenarios.model.worlds",
    # the engine
    "simulate": "scenarios.engine.simulate",
    "run_forecast": "scenarios.engine.forecast",
    "Forecast": "scenarios.engine.forecast",
    "load_evidence": "scenarios.engine.evidence",
    "forecast_as_of": "scenarios.engine.asof",
    # scores, backtest, report
    "brier_score": "scenarios.scoring",
    "log_score": "scenarios.scoring",
    "crps_ensemble": "scenarios.scoring",
    "load_resolutions": "scenarios.backtest",
    "run_backtest": "scenarios.backtest",
    "backtest_for": "scenarios.backtest",
    "run_report": "scenarios.report",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'scenarios' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
