"""Executing notebooks: one worker process and one kernel per notebook, failures kept apart.

:func:`run_all` executes a run's notebooks in at most ``jobs`` worker processes made by
:func:`pool` (forked after papermill is imported, so they start warm), one kernel each, and
reports each notebook as it finishes.  :func:`execute` runs one notebook with papermill inside
a worker and never raises: a cell error, a timeout or a dead kernel becomes a status and a
message, and the executed copy is written with the error in the cell where it happened
(papermill itself saves nothing when a cell times out and cells are not saved as they run).
:class:`Progress` shows where every notebook is, on one updating line on a terminal or as plain
log lines elsewhere.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time

from ..atomic import write_text
from .params import import_papermill

__all__ = ["KERNEL_NAME", "execute", "pool", "stop", "run_all", "Progress", "trace"]

KERNEL_NAME = "python3"

BACKGROUND_NICE = 5
"""Niceness of the workers and kernels of notebooks run in the background
(:func:`scenarios.report.index.longest_first`)."""

_T0 = time.monotonic()


def trace(message: str) -> None:
    """Timeline of a run on stderr when SCENARIOS_REPORT_TRACE is set (used by the benchmark)."""
    if os.environ.get("SCENARIOS_REPORT_TRACE"):
        print(f"[trace {time.monotonic() - _T0:7.3f}s] {message}", file=sys.stderr, flush=True)


def _mark_aborted(nb, message: str, ename: str) -> None:
    """Put an error where execution stopped, so the saved notebook shows it like a cell error."""
    import nbformat

    started = [c for c in nb.cells if c.get("cell_type") == "code" and c.metadata.get("papermill", {}).get("start_time")]
    if started:
        cell = started[-1]
        cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"]))
        cell.metadata.papermill["exception"] = True
        cell.metadata.papermill["status"] = "failed"
    banner = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-size:1.5em;">{ename}: {message}</span>'
        "<br>The cells after the one that shows this error did not run."
    )
    banner.metadata["tags"] = ["scenarios-error"]
    # papermill reads every cell's status when it finishes the notebook
    banner.metadata["papermill"] = {"exception": None, "start_time": None, "end_time": None,
                                    "duration": None, "status": "completed"}
    nb.cells.insert(0, banner)
    nb.metadata.setdefault("papermill", {})["exception"] = True


def _engine_class():
    # built on demand: papermill is imported only in the processes that execute notebooks
    from papermill.engines import NBClientEngine

    class ReportEngine(NBClientEngine):
        """nbclient engine that, when a cell times out or the kernel dies, still writes the
        executed notebook with the error in the cell where it happened (papermill raises
        without saving it when cells are not saved as they run)."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            save_to = kwargs.pop("save_on_abort", None)
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except BaseException as exc:
                if save_to:
                    import nbformat

                    timeout = type(exc).__name__ == "CellTimeoutError"
                    message = (f"a cell ran longer than the {kwargs.get('execution_timeout')} s timeout"
                               if timeout else str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
                    _mark_aborted(nb_man.nb, message, type(exc).__name__)
                    nb_man.notebook_complete()
                    write_text(save_to, nbformat.writes(nb_man.nb))
                raise

    return ReportEngine


def execute(task: dict) -> dict:
    """Run one notebook in this (worker) process; never raises.

    Parameters
    ----------
    task : dict
        ``input`` and ``output`` (notebook paths), ``parameters``, ``cwd`` (the kernel's working
        folder), ``timeout`` (seconds per cell) and ``log`` (file for the kernel's stderr).

    Returns
    -------
    dict with status ("ok", "failed" or "timeout"), message and duration in seconds.
    """
    t0 = time.monotonic()
    if task.get("background") and hasattr(os, "nice"):
        # for this worker and the kernel it starts (a launched kernel inherits it, a forked one is
        # given it); never undone, as only the longest notebook, started first, runs in front
        os.nice(max(0, BACKGROUND_NICE - os.nice(0)))
    pm = import_papermill()
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.engines import papermill_engines

    if "scenarios" not in papermill_engines._engines:
        papermill_engines.register("scenarios", _engine_class())
    from .kernel_pool import forking_kernel_manager

    # kernels from the pool when there is one, launched otherwise; a client without a fixed wait
    extra = {"kernel_manager_class": forking_kernel_manager(task.get("kernel_pool"))}
    # the kernel inherits this process's stderr: send it (and papermill's warnings) to the log
    saved_fd = os.dup(2)
    log_fd = os.open(task["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 2)
    try:
        pm.execute_notebook(
            task["input"], task["output"], parameters=task["parameters"], engine_name="scenarios",
            kernel_name=KERNEL_NAME, cwd=task["cwd"], progress_bar=False, log_output=False,
            execution_timeout=task["timeout"], request_save_on_cell_execute=False,
            shutdown_kernel="immediate", save_on_abort=task["output"], **extra,
        )
        status, message = "ok", ""
    except pm.PapermillExecutionError as exc:
        status, message = "failed", f"cell [{exc.exec_count}]: {exc.ename}: {exc.evalue}"
    except CellTimeoutError:
        status, message = "timeout", f"a cell ran longer than the {task['timeout']} s timeout"
    except DeadKernelError as exc:
        status, message = "failed", f"the kernel died: {exc}"
    except Exception as exc:  # a failure of this notebook must not take the others down
        status, message = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        sys.stderr.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        os.close(log_fd)
    return {"status": status, "message": message, "duration": round(time.monotonic() - t0, 3)}


def pool(workers: int):
    """Worker processes for :func:`execute`, one notebook (and kernel) each at a time."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork (where available) so workers start with papermill already imported
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))


def stop(executor) -> None:
    """Stop the workers of an interrupted run at once; each kernel notices its parent is gone
    and exits."""
    for proc in list(getattr(executor, "_processes", {}).values()):
        proc.terminate()
    executor.shutdown(wait=False, cancel_futures=True)


def run_all(tasks, *, jobs: int, timeout, progress, first_done, finished, kernel_pool: str | None = None) -> None:
    """Execute every task in at most ``jobs`` worker processes, reporting as each finishes.

    Parameters
    ----------
    tasks : list of scenarios.report.index.Task
        Each gets its ``status``, ``message`` and ``duration``.
    jobs : int
    timeout : int
        Seconds a cell may run.
    progress : Progress
    first_done : callable()
        Called once, when the first notebook finishes (at once when there is none): the
        runner's own work, which with one worker per core would only slow the kernels down if
        done earlier.
    finished : callable(task)
        Called in this process for each finished task (e.g. to export it to HTML); may mark it
        failed.
    kernel_pool : str, optional
        Address of a :class:`~scenarios.report.kernel_pool.KernelPool` to fork kernels from.

    On any exception (Ctrl-C included) the workers are stopped before it propagates.
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    futures = {}
    executor = None
    started_own_work = False
    try:
        if tasks:
            executor = pool(min(jobs, len(tasks)))
            for i, t in enumerate(tasks):
                task = {"input": str(t.notebook.absolute()), "output": str(t.plan.partial / (t.stem + ".ipynb")),
                        "parameters": t.parameters, "cwd": str(t.notebook.parent.absolute()), "timeout": timeout,
                        "log": str(t.plan.partial / "logs" / (t.stem + ".log")), "kernel_pool": kernel_pool,
                        "background": t.background}
                futures[executor.submit(execute, task)] = t
                if i < jobs:  # a free worker takes it at once
                    t.status = "running"
                    progress.set(t.label, "running")
            trace(f"{len(futures)} notebooks submitted to {min(jobs, len(tasks))} workers")
        if not futures:
            first_done()
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            if done and not started_own_work:
                started_own_work = True
                first_done()
            for f in done:
                t = futures[f]
                try:
                    result = f.result()
                except Exception as exc:  # the worker process itself died (killed, out of memory)
                    result = {"status": "failed", "duration": None,
                              "message": f"the worker process failed: {type(exc).__name__}: {exc}"}
                t.status, t.message, t.duration = result["status"], result["message"], result["duration"]
                finished(t)
                progress.set(t.label, t.status, t.message, took=t.duration)
                trace(f"{t.label} {t.status} in {t.duration} s; HTML written")
            for f in pending:
                t = futures[f]
                if t.status == "queued" and f.running():
                    t.status = "running"
                    progress.set(t.label, "running")
    except BaseException:
        if executor is not None:
            stop(executor)
        raise
    if executor is not None:
        executor.shutdown(wait=True)


# --------------------------------------------------------------------------- progress


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
