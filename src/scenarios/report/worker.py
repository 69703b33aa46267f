"""A worker process: executes one notebook at a time with papermill, then writes its HTML page.

:func:`pool` starts the workers (``spawn``: no fork of the runner, whatever threads it has);
each one, in :func:`start_worker`, watches its parent, ignores Ctrl-C (the runner stops it),
imports papermill and warms up its HTML exporter in a thread while it waits for work.
:func:`execute` runs one notebook through papermill's public API on a stock kernel and never
raises: a cell error, a timeout, a dead kernel or a notebook that ended early (a cell called
``sys.exit``, so later cells never ran) becomes a status and a message, and the executed copy
keeps the error where it happened.

A worker never outlives the runner: when its parent goes away (even killed with SIGKILL) or it
is sent SIGTERM, it kills its kernels' process groups (jupyter_client starts each kernel in a
session of its own, which the kernel leads) and exits at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

from ..atomic import write_text
from .params import import_papermill

__all__ = ["KERNEL_NAME", "pool", "stop", "start_worker", "execute", "unexecuted_cells", "stopped_cells",
           "child_pids"]

KERNEL_NAME = "python3"

PARENT_POLL_S = 0.1
"""How often a worker checks that the runner is still its parent (seconds)."""

_html = {"writer": None, "error": "", "ready": threading.Event()}


def pool(workers: int):
    """``workers`` worker processes for :func:`execute`, started now (they warm up at once)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=start_worker, initargs=(os.getpid(),))
    for _ in range(workers):  # each submit while none is idle starts one more worker
        executor.submit(int)
    return executor


def stop(executor) -> None:
    """Stop the workers now (each kills its kernels first) and drop the queued notebooks."""
    import multiprocessing

    executor.shutdown(wait=False, cancel_futures=True)
    for proc in multiprocessing.active_children():
        proc.terminate()
    for proc in multiprocessing.active_children():
        proc.join(timeout=5)
    for proc in multiprocessing.active_children():  # still starting up, or stuck: no kernel yet
        proc.kill()
        proc.join(timeout=5)


# --------------------------------------------------------------------------- inside a worker


def child_pids(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux ``/proc``; empty elsewhere)."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name (field 2) may hold spaces and brackets: split after its closing ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _kill_kernels_and_exit(code: int) -> None:
    for pid in child_pids(os.getpid()):
        for kill, target in ((getattr(os, "killpg", None), pid), (os.kill, pid)):
            try:
                if kill is not None:
                    kill(target, signal.SIGKILL)
            except OSError:
                pass
    os._exit(code)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    _kill_kernels_and_exit(1)


def _warm_html() -> None:
    try:
        from .html import HtmlWriter

        _html["writer"] = HtmlWriter()
    except Exception as exc:  # reported with each export, which then fails the notebook
        _html["error"] = f"cannot start nbconvert's HTML exporter: {type(exc).__name__}: {exc}"
    finally:
        _html["ready"].set()


def start_worker(parent: int) -> None:
    """Set up a worker process (the pool's initializer); ``parent`` is the runner's PID."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the runner stops us
    signal.signal(signal.SIGTERM, lambda *_: _kill_kernels_and_exit(128 + signal.SIGTERM))
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watch-parent").start()
    if os.getppid() != parent:  # gone before the watch started
        _kill_kernels_and_exit(1)
    import_papermill()
    _register_engine()
    threading.Thread(target=_warm_html, daemon=True, name="warm-html").start()


def unexecuted_cells(nb) -> list[int]:
    """Indices of the code cells (with code in them) that have no execution count: cells that
    never ran because the notebook ended early."""
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.source.strip() and c.get("execution_count") is None]


def stopped_cells(nb) -> list[int]:
    """Indices of the code cells papermill marked failed though it raised nothing (a cell that
    called ``sys.exit``), except those tagged ``raises-exception``."""
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.metadata.get("papermill", {}).get("status") == "failed"
            and "raises-exception" not in c.metadata.get("tags", [])]


def _mark_aborted(nb, message: str, ename: str) -> None:
    """Put an error where execution stopped, so the saved notebook shows it like a cell error."""
    import nbformat

    ran = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("papermill", {}).get("start_time")]
    if ran:
        ran[-1].outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=message,
                                                      traceback=[f"{ename}: {message}"]))
    banner = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-size:1.5em;">{ename}: {message}</span>'
        "<br>The cells after the one that shows this error did not run."
    )
    banner.metadata["tags"] = ["scenarios-error"]
    nb.cells.insert(0, banner)


def _register_engine() -> None:
    """papermill's nbclient engine, registered as "scenarios", that also saves the executed
    copy when a cell times out or the kernel dies (papermill saves nothing then unless it saves
    after every cell, which costs a write of the whole notebook per cell)."""
    from papermill.engines import NBClientEngine, papermill_engines

    class SaveOnAbortEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            save_to = kwargs.pop("save_on_abort")
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except BaseException:
                nb_man.output_path = save_to  # papermill's closing notebook_complete() saves it
                raise

    papermill_engines.register("scenarios", SaveOnAbortEngine)


def _run(pm, task: dict) -> tuple[str, str]:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    try:
        pm.execute_notebook(
            task["input"], task["output"], parameters=task["parameters"], engine_name="scenarios",
            kernel_name=KERNEL_NAME, cwd=task["cwd"], progress_bar=False, log_output=False,
            execution_timeout=task["timeout"], request_save_on_cell_execute=False,
            save_on_abort=task["output"],
        )
    except pm.PapermillExecutionError as exc:
        return "failed", f"cell [{exc.exec_count}]: {exc.ename}: {exc.evalue}"
    except CellTimeoutError:
        return "timeout", f"a cell ran longer than the {task['timeout']} s timeout"
    except DeadKernelError as exc:
        return "failed", f"the kernel died: {exc}"
    except Exception as exc:  # a failure of this notebook must not take the others down
        return "failed", f"{type(exc).__name__}: {exc}"
    return "ok", ""


def _check_executed(status: str, message: str, path: str) -> tuple[str, str]:
    """Read the executed copy back: every code cell must have run; mark where it stopped."""
    import nbformat

    if not os.path.exists(path):
        return ("failed", message or "papermill wrote no executed notebook")
    nb = nbformat.read(path, as_version=4)
    missing, stopped = unexecuted_cells(nb), stopped_cells(nb)
    if status == "ok" and missing:
        first = nb.cells[missing[0]].source.strip().splitlines()[0][:60]
        status, message = "failed", (f"the notebook ended early: {len(missing)} code cell(s) never ran, "
                                     f"the first: {first!r}")
    elif status == "ok" and stopped:
        first = nb.cells[stopped[0]].source.strip().splitlines()[0][:60]
        status, message = "failed", f"the notebook ended early, in the cell {first!r}"
    if status != "ok" and "scenarios-error" not in nb.cells[0].metadata.get("tags", []):
        ename = "CellTimeoutError" if status == "timeout" else "NotebookFailed"
        if not any("papermill-error-cell-tag" in c.metadata.get("tags", []) for c in nb.cells):
            _mark_aborted(nb, message, ename)
            write_text(path, nbformat.writes(nb))
    return status, message


@contextlib.contextmanager
def _environment(variables: dict):
    """Set ``variables`` in this process's environment (which a kernel started now inherits),
    then restore what was there."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update({name: str(value) for name, value in variables.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def execute(task: dict) -> dict:
    """Run one notebook and write its HTML page, in this worker process; never raises.

    Parameters
    ----------
    task : dict
        ``input``, ``output`` and ``html`` (paths), ``title`` (of the HTML page),
        ``parameters``, ``cwd`` (the kernel's working folder), ``timeout`` (seconds per cell),
        ``log`` (file for the kernel's standard error) and, optionally, ``environment``
        (variables set for the kernel only, e.g. where a backtest writes its progress).

    Returns
    -------
    dict
        ``status`` ("ok", "failed" or "timeout"), ``message``, ``duration`` (seconds) and
        ``pid`` (this worker's).
    """
    t0 = time.monotonic()
    pm = import_papermill()
    # papermill's first execution imports modules (IPython.paths, jupyter_client's kernel specs)
    # that nbconvert's warm-up imports too: importing them in two threads at once can meet a
    # partially initialised module, so a notebook starts only once the warm-up is done
    _html["ready"].wait()
    # the kernel inherits this process's stderr: send it (and papermill's warnings) to the log
    saved_fd = os.dup(2)
    log_fd = os.open(task["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 2)
    try:
        with _environment(task.get("environment") or {}):  # the kernel starts with a copy of ours
            status, message = _run(pm, task)
            if "Kernel died before replying to kernel_info" in message:  # a start-up race, no cell ran: once more
                status, message = _run(pm, task)
    finally:
        sys.stderr.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        os.close(log_fd)
    try:
        status, message = _check_executed(status, message, task["output"])
    except Exception as exc:  # unreadable executed copy
        status, message = "failed", f"the executed notebook cannot be read: {type(exc).__name__}: {exc}"
    if os.path.exists(task["output"]):
        _html["ready"].wait()
        try:
            if _html["writer"] is None:
                raise RuntimeError(_html["error"])
            _html["writer"].write(task["output"], task["html"], task["title"])
        except Exception as exc:
            status, message = "failed", f"HTML export failed: {type(exc).__name__}: {exc}"
    return {"status": status, "message": message, "duration": round(time.monotonic() - t0, 3),
            "pid": os.getpid()}
