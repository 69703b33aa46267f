"""Backtest: forecasts as of every date scored against what really happened.

One module per concept: :mod:`.data` (a model's data files, loaded and checked together),
:mod:`.resolutions` (the outcomes file), :mod:`.dates` (as-of dates and
a question's open life), :mod:`.targets` (numeric targets scored with the CRPS), :mod:`.fans`
(fan charts as of several dates), :mod:`.summary` (scores, skill, decomposition),
:mod:`.run` (the backtest itself and its command) and :mod:`.progress` (as-of dates done and the
time left, on a terminal, in a log or in a file ``scenarios report`` reads).
"""

from .data import NO_RESOLUTIONS, ModelData, load_model_data
from .dates import backtest_dates, default_as_of_dates, monthly_dates
from .fans import FAN_LEVELS, FanPath, estimate_points, fan_paths, report_fan_dates, report_fans
from .progress import BacktestProgress, ProgressFile, read_progress
from .resolutions import Resolution, load_resolutions
from .run import (
    BacktestResult,
    backtest_for,
    run_backtest,
    run_backtest_command,
)
from .summary import format_summary
from .targets import ENSEMBLE_SIZE, Target, report_targets

__all__ = [
    "ModelData",
    "load_model_data",
    "NO_RESOLUTIONS",
    "Resolution",
    "load_resolutions",
    "default_as_of_dates",
    "backtest_dates",
    "monthly_dates",
    "Target",
    "report_targets",
    "ENSEMBLE_SIZE",
    "FanPath",
    "FAN_LEVELS",
    "fan_paths",
    "report_fan_dates",
    "report_fans",
    "estimate_points",
    "BacktestResult",
    "run_backtest",
    "backtest_for",
    "run_backtest_command",
    "format_summary",
    "BacktestProgress",
    "ProgressFile",
    "read_progress",
]
