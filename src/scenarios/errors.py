"""Error hierarchy: callers and tests tell kinds of bad input apart.

Every error raised on purpose derives from :class:`ScenarioError`; the command line turns
those into a one-paragraph message and exit code 2.  Anything else is a bug (exit code 1).
"""

from __future__ import annotations


class ScenarioError(Exception):
    """Base class for every error the package raises on purpose (bad input, not bugs)."""


class ParamsError(ScenarioError, ValueError):
    """A params or questions file that cannot be used, located by file and key path.

    Parameters
    ----------
    file : str or None
        The file the bad value came from (``None`` for command-line values).
    path : str
        Dotted key path inside the document, e.g. ``nodes.summit.bernoulli.p``.
    message : str
        What was expected and what was found.
    line : int or None
        1-based line number where known.
    """

    def __init__(self, file: str | None, path: str, message: str, line: int | None = None):
        self.file = file
        self.path = path
        self.message = message
        self.line = line
        where = file or "<command line>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {path}: {message}" if path else f"{where}: {message}")


class ScoringError(ScenarioError, ValueError):
    """Forecasts or outcomes that cannot be scored (shape, range or type)."""


class UsageError(ScenarioError, ValueError):
    """A bad command-line argument (e.g. ``--samples 0``)."""


class OutputError(ScenarioError):
    """An output location that cannot be written (read-only, full, not a regular file, ...).

    Parameters
    ----------
    path : str
        The file that was to be written.
    reason : str
        Why it cannot be, e.g. ``No space left on device``.
    """

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: cannot write: {reason}")


class ResourceLimitError(ScenarioError):
    """A run that would pass a resource limit (memory), refused before it starts."""
