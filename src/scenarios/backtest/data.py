"""A model's data, loaded and validated together: its evidence, resolutions and real series.

Where the files are is :func:`scenarios.model.data_files.data_files`; this module reads them, so
that a command (or the report runner, before any kernel starts) finds a bad file at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.evidence import Evidence, load_evidence
from ..model.data_files import DataFiles
from ..model.report_spec import check_series_keys
from ..model.series import load_series
from .resolutions import load_resolutions

__all__ = ["ModelData", "load_model_data", "NO_RESOLUTIONS"]

NO_RESOLUTIONS = (
    "the model has no resolutions file, so there is nothing to score against: add "
    "resolutions: FILE to the params file (a path relative to it) or pass --resolutions FILE"
)
"""Why a model without resolutions has no backtest (the command's error, the report's sentence)."""


@dataclass(frozen=True)
class ModelData:
    """A model's data files and what they hold.

    Attributes
    ----------
    files : DataFiles
        Where the data came from.
    evidence : Evidence
        The evidence items (empty when the model has none).
    resolutions : dict or None
        Question id -> :class:`~scenarios.backtest.resolutions.Resolution`; None without a file.
    series : dict or None
        Series name -> estimates (:func:`scenarios.model.series.load_series`); None without a file.
    """

    files: DataFiles
    evidence: Evidence
    resolutions: dict | None
    series: dict | None


def load_model_data(model, files: DataFiles) -> ModelData:
    """Read and validate every data file of ``model`` named in ``files``.

    Parameters
    ----------
    model : Model
    files : DataFiles
        From :func:`~scenarios.model.data_files.data_files`.

    Raises
    ------
    ParamsError
        A bad file, naming it, the key path, the bad value and what was expected.
    """
    series = load_series(files.series) if files.series else None
    if series is not None:
        check_series_keys(model, series, files.series)
    return ModelData(
        files,
        load_evidence(model, files.evidence),
        load_resolutions(files.resolutions) if files.resolutions else None,
        series,
    )
