"""Progress of a backtest by as-of date: dates done and the time left, on a terminal, in a log
or in a file that ``scenarios report`` reads.

:func:`scenarios.engine.asof.run_plans` calls ``progress(done, total)`` each time one as-of
plan has been answered in one chunk of worlds (``total`` = plans x chunks; ``done`` only grows
and ends at ``total``, possibly in jumps).  The callables here turn those calls into what a
person waiting wants to know: ``done / total`` of the work, counted in as-of dates
(``done * dates // total``: a backtest over 39 dates is 12 dates along when 12/39 of its plans
are answered, whatever the chunks and fan dates), and the time left, from the time so far and
the share done.

* :class:`BacktestProgress` shows it on a stream (standard error): one updating line on a
  terminal, a plain log line at each tenth (at most every :data:`LOG_EVERY_S` seconds)
  elsewhere, and a last line when done.
* :class:`ProgressFile` writes it to a file, replaced atomically at most every
  :data:`WRITE_EVERY_S` seconds: the backtest notebook run by ``scenarios report`` writes to the
  file named by the :data:`ENVIRONMENT` variable, and the report's status line reads it with
  :func:`read_progress`.

Neither ever raises into the backtest: a display or a file that fails goes quiet.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from dataclasses import dataclass

from ..atomic import write_text

__all__ = [
    "ENVIRONMENT",
    "WRITE_EVERY_S",
    "LOG_EVERY_S",
    "DRAW_EVERY_S",
    "Status",
    "format_duration",
    "BacktestProgress",
    "ProgressFile",
    "read_progress",
]

ENVIRONMENT = "SCENARIOS_BACKTEST_PROGRESS"
"""Environment variable naming the file a backtest writes its progress to (set by ``scenarios
report`` for each notebook's kernel; unset, nothing is written)."""

WRITE_EVERY_S = 0.5
"""A progress file is replaced at most this often (seconds), and once more when done."""

LOG_EVERY_S = 5.0
"""Off a terminal, a log line at each new tenth done, at most this often (seconds)."""

DRAW_EVERY_S = 0.1
"""On a terminal, the line is redrawn at most this often (seconds)."""


def format_duration(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour, rounded to the second.

    >>> format_duration(90.4), format_duration(3725)
    ('1:30', '1:02:05')
    """
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass(frozen=True)
class Status:
    """How far a backtest is.

    Attributes
    ----------
    done, total : int
        Plans answered in chunks so far, and in all (``run_plans``' ``progress`` arguments).
    dates : int
        As-of dates of the backtest.
    elapsed : float
        Seconds since the backtest started, when ``done`` was reached.
    age : float
        Seconds since then (a status read back from a file): taken off the time left.
    """

    done: int
    total: int
    dates: int
    elapsed: float
    age: float = 0.0

    @property
    def fraction(self) -> float:
        """Share of the work done, in [0, 1]."""
        return min(1.0, max(0.0, self.done / self.total)) if self.total > 0 else 0.0

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.done >= self.total

    @property
    def dates_done(self) -> int:
        """As-of dates' worth of work done: ``done * dates // total``."""
        return min(max(self.done, 0), self.total) * self.dates // self.total if self.total > 0 else 0

    @property
    def eta(self) -> float | None:
        """Seconds left, if the rest goes as fast as what is done (None before anything is)."""
        if not self.fraction > 0:
            return None
        return max(0.0, self.elapsed * (1 - self.fraction) / self.fraction - self.age)

    def describe(self) -> str:
        """Short, for a report's status line: ``12/39 dates, ETA 1:30``."""
        text = f"{self.dates_done}/{self.dates} dates"
        eta = self.eta
        return text if self.finished or eta is None else f"{text}, ETA {format_duration(eta)}"


class BacktestProgress:
    """A ``progress(done, total)`` callable that shows a backtest's progress on a stream.

    On a terminal one updating line (``\\r``), redrawn at most every :data:`DRAW_EVERY_S`::

        backtest base: 12/39 as-of dates (31%), 0:42 elapsed, ETA 1:30

    elsewhere that line as a log line at each new tenth done (at most every
    :data:`LOG_EVERY_S`); in both a last line when done.  Disabled, it writes nothing.

    Parameters
    ----------
    dates : int
        As-of dates of the backtest.
    label : str
        Starts the line, e.g. ``backtest base``.
    stream : file, optional
        Default: standard error.
    tty : bool, optional
        Draw one updating line (default: when ``stream`` is a terminal).
    enabled : bool
        False: do nothing at all.
    clock : callable
        Seconds, monotonic (default :func:`time.monotonic`); the time starts when this is made.
    """

    def __init__(self, dates: int, *, label: str = "backtest", stream=None, tty: bool | None = None,
                 enabled: bool = True, clock=time.monotonic):
        self.dates = dates
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.clock = clock
        self.tty = False
        self.width = 0
        self.started = 0.0
        self._last = -math.inf  # when the last line was written
        self._tenth = -1  # the tenth the last log line was at
        self._open = False  # a terminal line drawn and not ended
        self._finished = False
        if enabled:
            try:
                self.tty = bool(self.stream.isatty()) if tty is None else tty
                self.width = shutil.get_terminal_size((100, 20)).columns - 1 if self.tty else 0
                self.started = clock()
            except Exception:  # no display is better than a failed backtest
                self.enabled = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or self._finished:
            return
        try:
            self._update(done, total)
        except Exception:  # a display must never stop the backtest: it goes quiet
            self.enabled = False

    def line(self, status: Status) -> str:
        """The text shown for ``status``."""
        unit = "as-of date" if status.dates == 1 else "as-of dates"
        percent = 100 if status.finished else min(99, round(100 * status.fraction))  # 100% only when done
        text = (f"{self.label}: {status.dates_done}/{status.dates} {unit} ({percent}%), "
                f"{format_duration(status.elapsed)} elapsed")
        eta = status.eta
        return text if status.finished or eta is None else f"{text}, ETA {format_duration(eta)}"

    def _update(self, done: int, total: int) -> None:
        now = self.clock()
        status = Status(done, total, self.dates, now - self.started)
        final = status.finished
        if self.tty:
            if not final and now - self._last < DRAW_EVERY_S:
                return
            self.stream.write("\r" + self.line(status)[: self.width] + "\x1b[K" + ("\n" if final else ""))
            self._open = not final
        else:
            tenth = int(10 * status.fraction)
            if not final and (tenth <= self._tenth or now - self._last < LOG_EVERY_S):
                return
            self.stream.write(self.line(status) + "\n")
            self._tenth = tenth
        self.stream.flush()
        self._last, self._finished = now, final

    def close(self) -> None:
        """End a terminal line left open (a backtest that stopped before the end)."""
        if self._open and self.enabled:
            try:
                self.stream.write("\n")
                self.stream.flush()
            except Exception:
                pass
        self._open = False

    def __enter__(self) -> BacktestProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ProgressFile:
    """A ``progress(done, total)`` callable that writes a backtest's progress to a file.

    The file holds one line, ``done total dates elapsed`` (elapsed in seconds), replaced
    atomically (:func:`scenarios.atomic.write_text`) at most every ``every`` seconds and once
    more when done; :func:`read_progress` reads it back.  A write that fails stops the writing,
    never the backtest.

    Parameters
    ----------
    path : str or None
        None: write nothing.
    dates : int
        As-of dates of the backtest.
    every : float
        Seconds between writes, at least.
    clock : callable
        Seconds, monotonic; the time starts when this is made.
    """

    def __init__(self, path: str | None, dates: int, *, every: float = WRITE_EVERY_S, clock=time.monotonic):
        self.path = path
        self.dates = dates
        self.every = every
        self.clock = clock
        self._last = -math.inf
        try:
            self.started = clock()
        except Exception:
            self.path, self.started = None, 0.0

    @classmethod
    def from_environment(cls, dates: int, **kwargs) -> ProgressFile:
        """Writing to the file the :data:`ENVIRONMENT` variable names (nothing when unset)."""
        return cls(os.environ.get(ENVIRONMENT) or None, dates, **kwargs)

    def __call__(self, done: int, total: int) -> None:
        if self.path is None:
            return
        try:
            now = self.clock()
            if done < total and now - self._last < self.every:
                return
            write_text(self.path, f"{int(done)} {int(total)} {int(self.dates)} {now - self.started:.3f}\n")
            self._last = now
        except Exception:  # a progress file must never stop the backtest: stop writing it
            self.path = None


def read_progress(path: str, *, now: float | None = None) -> Status | None:
    """The :class:`Status` a :class:`ProgressFile` last wrote to ``path``; None when there is none
    yet or it cannot be read.

    ``age`` is the time since the file was written (``now``: seconds since the epoch, default
    the current time), so the time left counts down between writes.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            mtime = os.fstat(fh.fileno()).st_mtime
            fields = fh.read(200).split()
        done, total, dates = (int(x) for x in fields[:3])
        elapsed = float(fields[3])
        if len(fields) != 4 or total <= 0 or not 0 <= done <= total or dates < 0 or not math.isfinite(elapsed):
            return None
    except (OSError, ValueError, IndexError):
        return None
    age = max(0.0, (time.time() if now is None else now) - mtime)
    return Status(done, total, dates, elapsed, age)
