"""Progress of a report: where every notebook is, on one updating line or as plain log lines."""

from __future__ import annotations

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

    def _draw(self) -> None:
        now = time.monotonic()
        parts = []
        for t in self.tasks:
            s = self.state[t]
            secs = self.took.get(t, now - self.t0[t] if t in self.t0 else None)
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
