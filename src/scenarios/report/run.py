"""``scenarios report``: execute the notebooks for params files into dated HTML reports.

For each params file, every notebook in ``notebooks/`` is executed with papermill (notebooks in
parallel worker processes, each with a stock kernel of its own) into a run folder::

    reports/2024-05-01T0600_base/
        manifest.json                 what produced the run, per-notebook status, file hashes
        forecasts.csv, forecasts.json every question's forecast (computed here, in-process)
        01_scenarios.ipynb/.html      executed copy and standalone HTML (works offline)
        figures/01_scenarios/*.png|svg
        logs/01_scenarios.log         the kernel's standard error
    reports/index.html                every run, grouped by params file, newest first
    reports/latest-base -> 2024-05-01T0600_base   the newest complete run of params/base.yaml
    reports/latest -> 2024-05-01T0600_base        the newest complete run of any

The stages, in order: **check** (:func:`check_inputs`: the reports folder, every params file,
its data files and every notebook parameter; nothing is written and no kernel starts before
they pass), **reuse** (:func:`scenarios.report.runs.reuse_or_queue`), **execute**
(:mod:`scenarios.report.worker`, which also writes each HTML page), **publish** (manifest,
rename, :func:`scenarios.report.index.build_index`).

A run is built in ``reports/.<name>.partial-XXXX/`` and renamed when done, so a folder under
its final name is always whole; a failed run is renamed too (so the error can be read) but
marked failed, and no ``latest`` link moves.  Interrupted (Ctrl-C, SIGTERM), the runner stops
its workers (each kills its kernel) and removes its partial folders.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from ..atomic import write_text
from ..engine.checkpoint import CHAIN_CACHE_ENVIRONMENT
from ..errors import ResourceLimitError, UsageError
from ..ledger import Ledger
from ..ledger.publish import DEFAULT_NAME as LEDGER_NAME
from ..ledger.publish import LEDGER_ENVIRONMENT, record_forecast
from . import worker
from .index import build_index
from .params import ReportError, check_parameters, declared_parameters
from .progress import Progress
from .runs import (
    Plan,
    RunResult,
    Task,
    check_out,
    finish_runs,
    jsonable,
    reuse_or_queue,
    tree_files,
    versions,
)

__all__ = [
    "EXIT_NOTEBOOK_FAILED",
    "HEADLINE_QUESTIONS",
    "repo_root",
    "find_notebooks",
    "default_jobs",
    "check_data_files",
    "check_inputs",
    "check_report_memory",
    "run_report",
    "run_report_command",
]

EXIT_NOTEBOOK_FAILED = 3
"""Exit code when the report was written but a notebook failed or timed out."""

HEADLINE_QUESTIONS = 6
"""Forecasts shown for each run in ``index.html``."""

CHAIN_CACHE = ".chain-cache"
"""The folder in ``out`` where the notebooks keep the as-of chain for the next report (see ``chain_cache``)."""


def repo_root() -> Path:
    """The project folder: the checkout holding this package (src layout), else the cwd."""
    here = Path(__file__).resolve().parents[3]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def find_notebooks(folder: str | os.PathLike | None = None) -> list[Path]:
    """Every ``*.ipynb`` in ``folder`` (default: the project's ``notebooks/``), in name order."""
    base = Path(folder) if folder else repo_root() / "notebooks"
    if not base.is_dir():
        raise ReportError(f"{base}: notebooks folder not found; pass --notebooks FOLDER")
    found = sorted(p for p in base.glob("*.ipynb") if not p.name.startswith("."))
    if not found:
        raise ReportError(f"{base}: no notebooks (*.ipynb) in the folder")
    return found


def default_jobs() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _overrides_dict(overrides) -> dict:
    from ..model.params import parse_override

    out = {}
    for item in overrides or []:
        if isinstance(item, tuple):
            key, value = item
        else:
            parts, value = parse_override(item)
            key = ".".join(parts)
        out[key] = jsonable(value)
    return out


def check_data_files(model, data: dict | None = None):
    """Resolve and validate the data files of ``model``, before any kernel starts.

    Parameters
    ----------
    model : Model
    data : dict, optional
        Command-line data files, ``{"resolutions": path or None, "evidence": ..., "series": ...}``,
        overriding the params file's keys of the same names.

    Returns
    -------
    scenarios.model.data_files.DataFiles
        Every data file, checked (:func:`scenarios.backtest.data.load_model_data`).

    Raises
    ------
    ScenarioError
        Naming the file, the key path, the bad value and what was expected.
    """
    from ..backtest.data import load_model_data
    from ..model.data_files import data_files

    return load_model_data(model, data_files(model, **(data or {}))).files


def check_inputs(params_files, nb_paths, *, samples, seed, overrides, parameters, data=None, as_of=None) -> list[Plan]:
    """Load every params file, check its data files and every notebook's parameters.

    ``data``: command-line data files (see :func:`check_data_files`).  ``as_of`` (a date or
    YYYY-MM-DD; None: today, clipped to each model's horizon) is the date every notebook is as of.

    Nothing runs and nothing is written before this passes.

    Returns
    -------
    list of Plan, one per params file, each with a :class:`~scenarios.report.runs.Task` per
    notebook.
    """
    from ..model.load import load_model

    declared = {p: declared_parameters(p) for p in nb_paths}
    over = _overrides_dict(overrides)
    plans = []
    for pf in params_files:
        model, questions = load_model(pf, overrides=list(overrides or []))
        files = check_data_files(model, data)
        n = samples if samples is not None else model.samples
        s = seed if seed is not None else model.seed
        day = _report_as_of(model, as_of)
        plan = Plan(pf, Path(pf).stem, model, questions, n, s, over, data=files, as_of=day)
        for nb in nb_paths:
            params = {"params_file": os.path.abspath(pf), "samples": n, "seed": s, "as_of": day.isoformat(),
                      "overrides": over, "output_dir": ""}
            params.update({k: v for k, v in files.as_parameters().items() if k in declared[nb]})
            params.update(parameters or {})
            check_parameters(nb, params, declared[nb])
            plan.tasks.append(Task(plan, nb, params))
        plans.append(plan)
    return plans


def check_report_memory(plans: list[Plan], *, jobs: int, chain_cache: str | None = None) -> None:
    """Refuse a report whose notebooks would pass the memory budget, before any kernel starts.

    Each notebook's kernel holds :data:`~scenarios.engine.memory.KERNEL_BYTES` and its run at its
    ``samples``: the backtest (a notebook that declares ``resolutions_file``) or the worlds as of the
    report's date (the others; :func:`scenarios.notebook.inputs.backtest_memory` and
    ``view_memory``).  They run as :func:`_execute` runs them, ``jobs`` at once, beside this
    process and its papermill workers: the backtests, then this process's own as-of run (every
    question; :func:`_forecast`), then the others, which read that run from the chain cache; with
    one wave, the notebooks and the own run at once.  ``chain_cache``: the folder the chain is kept
    in (what a run writes there counts).

    Raises
    ------
    ResourceLimitError
        With the estimate, the budget and the largest ``--samples`` that fits.
    """
    import functools

    from ..backtest.data import load_model_data
    from ..engine import memory
    from ..engine.asof import worlds_as_of
    from ..engine.checkpoint import chain_store
    from ..engine.forecast import flow_months
    from ..engine.parallel import dask_address, default_jobs
    from ..engine.simulate import CHUNK_SIZE
    from ..model.report_spec import report_spec
    from ..notebook.inputs import NotebookInputs, backtest_memory, view_memory

    if memory.memory_budget() is None:
        return
    every = [t for plan in plans for t in plan.tasks]
    waves = len(_waves(every))
    tasks = []  # (first wave, samples, bytes as a function of worlds)
    own_runs = []
    workers = 0 if dask_address() else default_jobs()
    store = chain_store(chain_cache)
    for plan in plans:
        own, kept = None, False
        if plan.questions:  # as _forecast makes it, in this process
            data = load_model_data(plan.model, plan.data) if plan.data is not None and plan.data.evidence else None
            if data is not None and plan.as_of and plan.as_of > plan.model.as_of and data.evidence.public_by(plan.as_of):
                resolved_on = {k: r.resolved_on for k, r in (data.resolutions or {}).items()}
                own = memory.planned(worlds_as_of, plan.model, plan.questions, data.evidence, plan.as_of,
                                     samples=plan.samples, seed=plan.seed, resolved_on=resolved_on, store=store,
                                     workers=workers)
                kept = own is not None and waves > 1  # the second wave reads it
            if own is None:
                own = functools.partial(memory.forecast_bytes, plan.model, plan.questions,
                                        nodes=set().union(*(q.refs for q in plan.questions)),
                                        months=flow_months(plan.model, plan.questions), chunk_size=CHUNK_SIZE)
            own_runs.append((plan.samples, own))
        spec = report_spec(plan.model)
        known: dict = {}  # the notebooks of a kind with the same parameters hold the same
        for t in plan.tasks:
            n = int(t.parameters.get("samples") or plan.samples)
            first = CHAIN_FIRST in t.parameters
            key = (first, n, str(t.parameters.get("as_of", "")))
            if key not in known:
                run = NotebookInputs(plan.model, plan.questions, n, plan.seed, plan.params_file, spec, plan.data,
                                     plan.as_of)
                f = (backtest_memory(run, until=key[2], store=store) if first
                     else view_memory(run, store=store, kept=kept and n == plan.samples))
                known[key] = f or (lambda _: 0)
            tasks.append((first, n, known[key]))
    if not tasks:
        return
    fixed = memory.RUNNER_BYTES + memory.PAPERMILL_BYTES * min(jobs, len(tasks))

    def peak(worlds: int | None) -> int:
        """Bytes at the peak with every run at its own samples (``worlds`` None) or at ``worlds``."""
        at_once = []
        for first in (True, False):
            sizes = sorted((memory.KERNEL_BYTES + f(worlds or n) for w, n, f in tasks if w == first), reverse=True)
            at_once.append(sum(sizes[:jobs]))
        own = max((f(worlds or n) for n, f in own_runs), default=0)
        return fixed + (max(at_once[0], own, at_once[1]) if waves > 1 else max(at_once) + own)

    budget = memory.memory_budget()
    need = peak(None)
    if need <= budget:
        return
    most = max(n for _, n, _ in tasks)
    fits = memory.largest_fitting(peak, budget, most)
    fit = f"at most {fits:,} worlds fit" if fits else "no run fits"
    raise ResourceLimitError(
        f"report: {len(tasks)} notebook(s) of up to {most:,} worlds ({min(jobs, len(tasks))} at once) would need about "
        f"{memory.format_size(need)} of memory, more than the budget of {memory.format_size(budget)}; {fit} "
        "(use --samples or fewer --jobs, or --memory-budget SIZE to change the budget)"
    )


def _report_as_of(model, as_of) -> _dt.date:
    """The date a report of ``model`` is as of: ``as_of`` checked against the model's time, or
    today clipped to it."""
    from ..notebook.inputs import default_as_of

    if as_of is None or as_of == "":
        return default_as_of(model)
    if not isinstance(as_of, _dt.date):
        try:
            as_of = _dt.date.fromisoformat(str(as_of).strip())
        except ValueError:
            raise UsageError(f"--as-of: expected a date as YYYY-MM-DD, got {str(as_of)[:40]!r}") from None
    end = model.as_of + _dt.timedelta(days=model.horizon_days)
    if not model.as_of <= as_of <= end:
        raise UsageError(f"--as-of: {as_of} is outside the time of model {model.name!r} ({model.as_of} to the end of "
                         f"its horizon, {end}); give a date in between, or leave --as-of out for today (clipped to the horizon)")
    return as_of


def _forecast(plan: Plan, chain_cache: str | None = None) -> None:
    """Write the run's forecasts.csv and .json and its headline, as of the report's date (the
    evidence public by then; the chain the notebooks kept in ``chain_cache`` is continued); a
    failure is recorded."""
    from ..backtest.data import load_model_data
    from ..engine.asof import worlds_as_of
    from ..engine.checkpoint import chain_store
    from ..engine.forecast import run_forecast
    from ..engine.parallel import dask_address, executor

    try:
        if not plan.questions:
            plan.forecast_status, plan.forecast_message = "none", "the model has no questions"
            return
        data = load_model_data(plan.model, plan.data) if plan.data is not None and plan.data.evidence else None
        if data is not None and plan.as_of and plan.as_of > plan.model.as_of and data.evidence.public_by(plan.as_of):
            resolved_on = {k: r.resolved_on for k, r in (data.resolutions or {}).items()}
            with executor(None, dask_address()) as pool:  # the notebooks' as-of run (as_of_view), kept for them
                _, fc = worlds_as_of(plan.model, plan.questions, data.evidence, plan.as_of, samples=plan.samples,
                                     seed=plan.seed, resolved_on=resolved_on, pool=pool, store=chain_store(chain_cache))
        else:
            fc = run_forecast(plan.model, plan.questions, samples=plan.samples, seed=plan.seed)
        write_text(str(plan.partial / "forecasts.csv"), fc.to_csv())
        write_text(str(plan.partial / "forecasts.json"), fc.to_json())
        plan.headline = [{"id": q.id, "text": q.text, "forecast": q.summary()} for q in fc.questions[:HEADLINE_QUESTIONS]]
        plan.published = (fc, data.evidence if data is not None else None)
    except Exception as exc:  # recorded; the notebooks still run
        plan.forecast_status, plan.forecast_message = "failed", f"{type(exc).__name__}: {exc}"


def _git_info(root: Path) -> dict | None:
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit or None, "dirty": bool(dirty)}


@contextlib.contextmanager
def _sigterm_raises():
    """SIGTERM ends the runner like Ctrl-C: through the clean-up, with exit status 143."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _progress_dir(stack: contextlib.ExitStack) -> str | None:
    """A temporary folder for the notebooks' progress files, removed when ``stack`` closes;
    None when none can be made (the report then runs without showing a backtest's dates)."""
    try:
        return stack.enter_context(tempfile.TemporaryDirectory(prefix="scenarios-report-progress-",
                                                               ignore_cleanup_errors=True))
    except OSError:
        return None


CHAIN_FIRST = "resolutions_file"
"""Notebooks that declare this parameter (the backtest: forecasts at every as-of date) run first:
they compute the chain of as-of worlds the other notebooks and the run's own forecast continue."""


def _waves(tasks: list[Task]) -> list[list[Task]]:
    """``tasks`` in the order they run: those that compute the as-of chain, then the others."""
    first = [t for t in tasks if CHAIN_FIRST in t.parameters]
    rest = [t for t in tasks if CHAIN_FIRST not in t.parameters]
    return [w for w in (first, rest) if w]


def _execute(executor, tasks: list[Task], *, timeout, progress, own_work, progress_dir: str | None = None,
             environment: dict | None = None) -> None:
    """Run ``tasks`` on the workers, recording each as it finishes, in the waves of :func:`_waves`
    (a later wave starts when the one before has finished, so it continues the chain that one kept);
    ``own_work()`` runs once, in this process, between the waves (the as-of run the second wave
    reads from the chain cache).  Each kernel is told a file in
    ``progress_dir`` to write a backtest's progress to (:mod:`scenarios.backtest.progress`), which
    ``progress`` shows, and gets ``environment`` (variables) too."""
    from ..backtest.progress import ENVIRONMENT as BACKTEST_PROGRESS

    waves = _waves(tasks)
    for number, wave in enumerate(waves or [[]]):
        futures = {}
        for t in wave:
            i = tasks.index(t)
            task = {"input": str(t.notebook.absolute()), "output": str(t.plan.partial / (t.stem + ".ipynb")),
                    "html": str(t.plan.partial / (t.stem + ".html")), "title": f"{t.stem} · {t.plan.name}",
                    "parameters": t.parameters, "cwd": str(t.notebook.parent.absolute()), "timeout": timeout,
                    "log": str(t.plan.partial / "logs" / (t.stem + ".log")), "environment": dict(environment or {})}
            if progress_dir is not None:
                task["environment"][BACKTEST_PROGRESS] = os.path.join(progress_dir, f"{i}.progress")
                progress.watch(t.label, task["environment"][BACKTEST_PROGRESS])
            futures[executor.submit(worker.execute, task)] = t
        if len(waves) == 1:  # one wave: the run's own work while it executes
            own_work()
        _wait(futures, progress)
        if number == 0 and len(waves) > 1:  # between the waves: the as-of worlds the second wave reads
            own_work()


def _wait(futures: dict, progress) -> None:
    """Wait for every future, recording each task as it finishes."""
    from concurrent.futures import FIRST_COMPLETED, wait

    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
        progress.poll()
        for f in done:
            t = futures[f]
            try:
                result = f.result()
            except Exception as exc:  # the worker process itself died (killed, out of memory)
                result = {"status": "failed", "duration": None, "pid": None,
                          "message": f"the worker process failed: {type(exc).__name__}: {exc}"}
            t.status, t.message, t.duration, t.pid = result["status"], result["message"], result["duration"], result["pid"]
            progress.set(t.label, t.status, t.message, took=t.duration)
        for f in pending:
            t = futures[f]
            if t.status == "queued" and f.running():
                t.status = "running"
                progress.set(t.label, "running")


# --------------------------------------------------------------------------- entry points


def run_report(
    params_files,
    *,
    out: str | os.PathLike = "reports",
    samples: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    force: bool = False,
    overrides=(),
    notebooks: str | os.PathLike | None = None,
    timeout: int = 600,
    parameters: dict | None = None,
    stream=None,
    tty: bool | None = None,
    resolutions: str | None = None,
    evidence: str | None = None,
    series: str | None = None,
    chain_cache: str | os.PathLike | None = None,
    as_of=None,
    ledger: str | os.PathLike | None = None,
) -> list[RunResult]:
    """Execute every notebook for each params file into a dated run folder under ``out``.

    Parameters
    ----------
    params_files : list of str
    out : path
        Reports folder.
    samples, seed : int, optional
        Default: each params file's own.
    jobs : int, optional
        Notebooks executed at once (default: the number of cores).
    force : bool
        Execute even notebooks whose inputs match an earlier complete run.
    overrides : list of "dotted.path=value"
    notebooks : path, optional
        Folder of notebooks (default: the project's ``notebooks/``).
    timeout : int
        Seconds a cell may run.
    parameters : dict, optional
        Extra notebook parameters, checked like the others.
    stream, tty
        Where progress goes (default stderr) and whether to draw it as one updating line.
    resolutions, evidence, series : str, optional
        Data files overriding each params file's keys of the same names; every data file is
        validated before any kernel starts and passed to the notebooks that declare
        ``resolutions_file``, ``evidence_file`` or ``series_file`` (see
        :func:`scenarios.model.data_files.data_files`).
    chain_cache : path, optional
        Where the notebooks keep the as-of chain's worlds and results for the next report
        (:mod:`scenarios.engine.checkpoint`; default ``out/.chain-cache``), so a report after one
        more evidence date computes only what changed.  The numbers are the same.
    as_of : date or str, optional
        The date the report is as of: every notebook conditions on the evidence public by then,
        beside the model's prior, and the run's forecasts.csv is as of then.  Default: today,
        clipped to each model's horizon.
    ledger : path, optional
        The forecast ledger (SQLite, :mod:`scenarios.ledger`; default ``out/ledger.sqlite``): each
        complete run appends the forecasts it published (forecasts.csv); the notebooks read the
        runs before it (what changed, the published track record).

    Returns
    -------
    list of RunResult, one per params file.

    Raises
    ------
    ScenarioError
        Bad params or data files, overrides, notebook parameters or reports folder: raised
        before any kernel starts and before anything is written.
    """
    started = _dt.datetime.now().astimezone()
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs: expected at least 1, got {jobs}")
    if timeout is not None and timeout <= 0:
        raise UsageError(f"--timeout: expected a number of seconds > 0, got {timeout}")
    jobs = jobs or default_jobs()
    out = check_out(out)  # absolute: kernels run in the notebooks folder
    chain_cache = os.path.abspath(chain_cache) if chain_cache else str(out / CHAIN_CACHE)
    ledger = os.path.abspath(ledger) if ledger else str(out / LEDGER_NAME)
    nb_paths = find_notebooks(notebooks)
    root = repo_root()
    with _sigterm_raises(), contextlib.ExitStack() as stack:
        # the workers import papermill and warm up their HTML exporter while this process checks
        executor = worker.pool(min(jobs, len(nb_paths) * len(params_files)) or 1)
        stack.callback(worker.stop, executor)
        plans = check_inputs(params_files, nb_paths, samples=samples, seed=seed, overrides=overrides,
                             parameters=parameters,
                             data={"resolutions": resolutions, "evidence": evidence, "series": series}, as_of=as_of)
        check_report_memory(plans, jobs=jobs, chain_cache=chain_cache)
        with Ledger(ledger):  # a path that cannot be a ledger is refused before any kernel starts
            pass
        lib_versions, git = versions(), None
        progress = Progress([t.label for p in plans for t in p.tasks], stream=stream, tty=tty)
        stack.callback(progress.close)

        def own_work():  # forecasts (continuing the first wave's chain) and git, while the kernels work
            nonlocal git
            for plan in plans:
                if plan.unchanged is None:
                    _forecast(plan, chain_cache)
            git = _git_info(root)

        try:
            todo = reuse_or_queue(plans, out, force=force, versions=lib_versions,
                                  package_files=tree_files(Path(__file__).resolve().parents[1], "*.py"),
                                  data_files=tree_files(root / "data", "*"), progress=progress)
            progress_dir = _progress_dir(stack)
            _execute(executor, todo, timeout=timeout, progress=progress, own_work=own_work, progress_dir=progress_dir,
                     environment={CHAIN_CACHE_ENVIRONMENT: chain_cache, LEDGER_ENVIRONMENT: ledger})
            executor.shutdown(wait=True)
        except BaseException:
            worker.stop(executor)
            for plan in plans:
                if plan.partial is not None:
                    shutil.rmtree(plan.partial, ignore_errors=True)
            raise
    results = finish_runs(plans, out, started=started, versions=lib_versions, git=git)
    for plan, result in zip(plans, results, strict=True):
        if plan.published is not None and result.status == "complete":
            record_forecast(ledger, plan.model, *plan.published, source="report", label=result.path.name)
    if any(not r.unchanged for r in results) or not (out / "index.html").exists():
        build_index(out)
    return results


def run_report_command(args) -> int:
    """The ``scenarios report`` command: build the reports, print where they are.

    Returns
    -------
    int
        0 when every run is complete, :data:`EXIT_NOTEBOOK_FAILED` (3) when a notebook failed
        or timed out (its run is written and marked failed).
    """
    if getattr(args, "dask", None):  # the backtest notebook's chunks go to the cluster (kernels inherit it)
        from ..engine.parallel import DASK_ENVIRONMENT

        os.environ[DASK_ENVIRONMENT] = args.dask
    results = run_report(
        args.params, out=args.out, samples=args.samples, seed=args.seed, jobs=args.jobs, force=args.force,
        overrides=args.overrides, notebooks=args.notebooks, timeout=args.timeout,
        resolutions=args.resolutions, evidence=args.evidence, series=args.series, chain_cache=getattr(args, "cache", None),
        as_of=getattr(args, "as_of", None), ledger=getattr(args, "ledger", None),
    )
    failed = 0
    for r in results:
        print(f"{'unchanged' if r.unchanged else r.status}: {r.path}")
        for nb in r.notebooks:
            if nb["status"] != "ok":
                failed += 1
                print(f"  {nb['notebook']}: {nb['status']}: {nb['message']}")
    print(f"index: {Path(args.out) / 'index.html'}")
    return EXIT_NOTEBOOK_FAILED if failed or any(r.status != "complete" for r in results) else 0
