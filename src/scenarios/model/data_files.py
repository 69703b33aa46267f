"""Where a model's data files are: its resolutions, evidence and real series, resolved in one place.

A params file names its data with three top-level keys, each a path relative to the file that
writes the key (through ``extends:`` that may be a base file in another folder)::

    resolutions: ../data/resolutions.yaml   # what happened to each question (the backtest)
    evidence: ../data/evidence.yaml         # dated facts and reports (as-of forecasts)
    series: ../data/numeric_series.yaml     # dated real estimates drawn on the flow charts

The command line's ``--resolutions``, ``--evidence`` and ``--series`` (relative to the current
folder) override the keys.  Nothing is guessed: a model without a key has no such file, whatever
lies next to it.  ``evidence:`` may also hold the items themselves (a list); its file is then
``None`` and :func:`scenarios.engine.evidence.load_evidence` reads the list from the model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import ECHO_CHARS, ParamsError, short
from .params import ParamsDoc
from .schema import describe

__all__ = ["DATA_KEYS", "DataFiles", "data_files", "resolve_path"]

DATA_KEYS = ("resolutions", "evidence", "series")
"""Top-level params keys that name a data file (and the command-line options that override them)."""


@dataclass(frozen=True)
class DataFiles:
    """A model's data files as absolute paths, or ``None`` where the model has none.

    Attributes
    ----------
    resolutions : str or None
        Resolutions file (outcomes of the questions).
    evidence : str or None
        Evidence file; ``None`` also when the params file holds its evidence inline.
    series : str or None
        Real dated series file.
    """

    resolutions: str | None = None
    evidence: str | None = None
    series: str | None = None

    def as_parameters(self) -> dict:
        """``{"resolutions_file": ..., "evidence_file": ..., "series_file": ...}``; "" for none
        (the notebooks' parameter convention)."""
        return {f"{key}_file": getattr(self, key) or "" for key in DATA_KEYS}


def resolve_path(raw: str, relative_to: str | None, *, file: str | None, key: str) -> str:
    """The absolute path of ``raw``, a file named at ``key`` in ``file``.

    Parameters
    ----------
    raw : str
        The path as written.
    relative_to : str or None
        The file whose folder a relative ``raw`` is relative to; ``None``: the current folder
        (a command-line value).
    file, key : str
        Where ``raw`` was written, for the error (``file`` None: the command line).

    Raises
    ------
    ParamsError
        ``raw`` is not a non-empty string, or names no regular file.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ParamsError(file, key, f"expected a file path, got {describe(raw)}")
    base = os.path.dirname(os.path.abspath(relative_to)) if relative_to else os.getcwd()
    path = os.path.normpath(os.path.join(base, os.path.expanduser(raw)))
    if not os.path.exists(path):
        raise ParamsError(file, key, f"file not found: {short(path, 2 * ECHO_CHARS, middle=True)}")
    if not os.path.isfile(path):
        raise ParamsError(file, key, f"expected a file, got a directory or special file: {short(path, 2 * ECHO_CHARS, middle=True)}")
    return path


def _from_params(doc: ParamsDoc, key: str) -> str | None:
    raw = doc.data.get(key)
    if raw is None or (key == "evidence" and isinstance(raw, list)):
        return None
    if not isinstance(raw, str) or not raw.strip():
        expected = "a file path or a list of evidence items" if key == "evidence" else "a file path"
        raise doc.error((key,), f"expected {expected}, got {describe(raw)}")
    origin = doc.origin((key,))  # None: set on the command line with --set, relative to the current folder
    if origin is not None:  # written in a file: relative to it, and inside its project (model/loader.py)
        raw = os.path.abspath(doc.resolve_path((key,), raw))
    return resolve_path(raw, origin, file=origin, key=key)


def data_files(model, *, resolutions: str | None = None, evidence: str | None = None,
               series: str | None = None) -> DataFiles:
    """Resolve a model's data files: command-line values first, then the params file's keys.

    Parameters
    ----------
    model : Model or ParamsDoc
        The loaded model (its ``doc`` tells which file wrote each key).
    resolutions, evidence, series : str, optional
        Command-line paths (relative to the current folder); ``None`` or "" for the params
        file's own key.

    Returns
    -------
    DataFiles
        Absolute paths; ``None`` where neither the command line nor the params file names a file.

    Raises
    ------
    ParamsError
        A named file that does not exist (naming the key path, or ``--key``, and the file), or a
        key whose value is not a path.

    Examples
    --------
    A model in ``project/params/m.yaml`` with ``resolutions: ../data/r.yaml`` gets
    ``DataFiles(resolutions='/.../project/data/r.yaml', evidence=None, series=None)``.
    """
    doc = model if isinstance(model, ParamsDoc) else model.doc
    given = {"resolutions": resolutions, "evidence": evidence, "series": series}
    out = {}
    for key in DATA_KEYS:
        value = given[key]
        if value not in (None, ""):
            out[key] = resolve_path(value, None, file=None, key=f"--{key}")
        else:
            out[key] = _from_params(doc, key)
    return DataFiles(**out)
