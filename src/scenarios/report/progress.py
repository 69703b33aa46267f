"""Progress of a report: where every notebook is, on one updating line or as plain log lines.

A running notebook that writes a progress file (the backtest notebook, through
:class:`scenarios.backtest.progress.ProgressFile`) shows what it says: ``base/03_backtest ..
12/39 dates, ETA 1:30``.
"""

from __future__ import annotations

import math
import shutil
import sys
import threading
import time

__all__ = ["Progress"]


class Progress:
    """One updating line on a terminal; plain log lines otherwise (both on stderr).

    Parameters
    ----------
    tasks : list of str
        Labels, e.g. ``base/01_scenarios``, each starting ``queued``.
    stream : file, optional
        Default: standard error.
    tty : bool, optional
        Draw one updating line (default: when ``stream`` is a terminal).
    """

    SYMBOL = {"queued": "-", "running": "..", "ok": "ok", "cached": "cached", "failed": "FAILED", "timeout": "TIMEOUT"}

    def __init__(self, tasks, stream=None, tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.tasks = list(tasks)
        self.state = {t: "queued" for t in self.tasks}
        self.t0 = {}
        self.took = {}
        self.files = {}  # task -> its progress file
        self.detail = {}  # task -> what its progress file said last, e.g. "12/39 dates, ETA 1:30"
        self._logged = {}  # task -> (tenth, time) of its last detail log line
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        if self.tty:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()

    def set(self, task, state: str, message: str = "", took: float | None = None) -> None:
        """Record a task's new state; ``took`` is its own duration when known (seconds)."""
        with self.lock:
            self.state[task] = state
            if state == "running":
                self.t0[task] = time.monotonic()
            elif took is not None:
                self.took[task] = took
            elif state in ("ok", "failed", "timeout", "cached") and task in self.t0:
                self.took[task] = time.monotonic() - self.t0[task]
            if self.tty:
                self._draw()
            else:
                took = f" ({self.took[task]:.1f} s)" if task in self.took and state != "running" else ""
                tail = f": {message}" if message else ""
                print(f"report: {task}: {state}{took}{tail}", file=self.stream, flush=True)

    def watch(self, task, path: str) -> None:
        """Show, while ``task`` runs, what it writes to the progress file ``path`` (see :meth:`poll`)."""
        with self.lock:
            self.files[task] = path

    def poll(self) -> None:
        """Read the progress files of the running tasks (cheap; call it every fraction of a
        second): the terminal line shows them, a log gets a line at each new tenth done, at most
        every :data:`scenarios.backtest.progress.LOG_EVERY_S` seconds.  Never raises."""
        try:
            self._poll()
        except Exception:  # showing progress must never stop a report
            pass

    def _poll(self) -> None:
        from ..backtest.progress import LOG_EVERY_S, read_progress

        with self.lock:
            running = [(t, p) for t, p in self.files.items() if self.state.get(t) == "running"]
        for task, path in running:
            status = read_progress(path)
            if status is None:
                continue
            now = time.monotonic()
            with self.lock:
                if self.state.get(task) != "running":
                    continue
                self.detail[task] = status.describe()
                if self.tty:
                    continue
                tenth, last = self._logged.get(task, (-1, -math.inf))
                if int(10 * status.fraction) > tenth and now - last >= LOG_EVERY_S:
                    self._logged[task] = (int(10 * status.fraction), now)
                    print(f"report: {task}: {self.detail[task]}", file=self.stream, flush=True)

    def _draw(self) -> None:
        now = time.monotonic()
        parts = []
        for t in self.tasks:
            s = self.state[t]
            secs = self.took.get(t, now - self.t0[t] if t in self.t0 else None)
            if s == "running" and self.detail.get(t):
                parts.append(f"{t} {self.SYMBOL[s]} {self.detail[t]}")
                continue
            parts.append(f"{t} {self.SYMBOL[s]}" + (f" {secs:.1f}s" if secs is not None and s != "cached" else ""))
        done = sum(1 for t in self.tasks if self.state[t] not in ("queued", "running"))
        line = f"report [{done}/{len(self.tasks)}] " + "  ".join(parts)
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r" + line[:width] + "\x1b[K")
        self.stream.flush()

    def _spin(self) -> None:
        while not self._stop.wait(0.25):
            with self.lock:
                self._draw()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            with self.lock:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()
