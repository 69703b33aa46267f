"""Error hierarchy: callers and tests tell kinds of bad input apart.

Every error raised on purpose derives from :class:`ScenarioError`; the command line turns
those into a one-paragraph message and exit code 2.  Anything else is a bug (exit code 1).
"""

from __future__ import annotations

ECHO_CHARS = 80
"""The most characters of one piece of user input (a value, a name, a path) a message echoes."""

_KEY_CHARS = 40  # one key of a key path: nodes.<a 40-character name>.bernoulli.p
_FILE_CHARS = 200  # a file's path: long enough for any real one, never a pasted document


def short(text, limit: int = ECHO_CHARS, *, middle: bool = False) -> str:
    r"""``text`` on one line, cut to at most ``limit`` characters with ``...``.

    Every message that echoes user input (a key, a name, an id, a path, an expression) cuts it
    with this, so no input can make an error longer than about a line; a line break becomes a
    space and any other control character its escape (none reaches the terminal).

    >>> short("summit_chance")
    'summit_chance'
    >>> short("x" * 100, 10)
    'xxxxxxx...'
    >>> short("two\nlines"), short("bell\x07")
    ('two lines', 'bell\\x07')

    ``middle=True`` cuts the middle instead, keeping the end (a file's name at the end of its path):

    >>> short("/data/" + "d/" * 50 + "evidence.yaml", 30, middle=True)
    '/data/d/d/d/d.../evidence.yaml'
    """
    text = str(text)
    if not text.isprintable():  # one line, and no control character reaches the terminal
        text = " ".join(text.split())
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) <= limit:
        return text
    if middle:
        head = max((limit - 3) // 2, 1)
        return text[:head] + "..." + text[-max(limit - 3 - head, 1):]
    return text[: max(limit - 3, 1)] + "..."


def _short_path(path: str) -> str:
    """A dotted key path with each key cut to :data:`_KEY_CHARS` (the keys can be user input)."""
    if len(path) <= ECHO_CHARS:
        return short(path)
    return short(".".join(short(key, _KEY_CHARS) for key in path.split(".")), 2 * ECHO_CHARS)




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

    The attributes hold the values as given; the message cuts a long key of ``path`` (a key is
    user input: a misspelt key, a node name) and a long ``file`` with :func:`short`.
    """

    def __init__(self, file: str | None, path: str, message: str, line: int | None = None):
        self.file = file
        self.path = path
        self.message = message
        self.line = line
        where = short(file, _FILE_CHARS, middle=True) if file else "<command line>"
        if line is not None:
            where += f":{line}"
        path = _short_path(path) if path else path
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
