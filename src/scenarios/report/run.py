"""``scenarios report``: execute the notebooks for params files into dated HTML reports.

For each params file, every notebook in ``notebooks/`` is executed with papermill (notebooks in
parallel worker processes, each with its own kernel) into a run folder::

    reports/2024-05-01T0600_base/
        manifest.json                 what produced the run, per-notebook status and duration
        forecasts.csv, forecasts.json every question's forecast (computed here, in-process)
        01_scenarios.ipynb/.html      executed copy and standalone HTML (code hidden by default)
        figures/01_scenarios/*.png|svg
        logs/01_scenarios.log         the kernel's standard error
    reports/index.html                every run, newest first
    reports/latest -> 2024-05-01T0600_base   the newest complete run

This module runs the stages in order; each stage is a module of its own:

- :mod:`scenarios.report.params`: the parameters each notebook declares, checked before any
  kernel starts (and :func:`notebook_inputs`, what they mean inside a notebook);
- :mod:`scenarios.report.execute`: notebooks executed in parallel worker processes, one kernel
  each, with timeouts, failures kept apart and progress shown;
- :mod:`scenarios.report.html`: each executed notebook as a standalone HTML page, written by a
  process that warms up while this one checks the parameters;
- :mod:`scenarios.report.index`: the run folder, its manifest, cache keys and reuse of
  unchanged notebooks, ``index.html`` and ``latest``.

A run is built in ``reports/.<name>.partial-XXXX/`` and renamed when done, so a folder under
its final name is always whole; a failed run is renamed too (so the error can be read) but
marked failed, and ``latest`` does not move.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
import subprocess
from pathlib import Path

from ..atomic import write_text
from ..errors import UsageError
from . import execute as report_execute
from .html import HtmlExportError, HtmlProcess
from .index import (
    Plan,
    RunResult,
    Task,
    build_index,
    cache_key,
    finish_runs,
    jsonable,
    reuse_or_queue,
    tree_files,
    versions,
)
from .kernel_pool import KernelPool, guess_kernel_interpreter, preload_modules
from .params import (
    STANDARD_PARAMETERS,
    NotebookInputs,
    NotebookParameterError,
    ReportError,
    check_parameters,
    declared_parameters,
    import_papermill,
    notebook_inputs,
)

__all__ = [
    "ReportError",
    "NotebookParameterError",
    "NotebookInputs",
    "notebook_inputs",
    "declared_parameters",
    "check_parameters",
    "import_papermill",
    "cache_key",
    "run_report",
    "run_report_command",
    "build_index",
    "find_notebooks",
    "default_jobs",
    "repo_root",
    "RunResult",
    "STANDARD_PARAMETERS",
    "EXIT_NOTEBOOK_FAILED",
]

EXIT_NOTEBOOK_FAILED = 3
"""Exit code when the report was written but a notebook failed or timed out."""

HEADLINE_QUESTIONS = 6
"""Forecasts shown for each run in ``index.html``."""


def repo_root() -> Path:
    """The project folder: the checkout holding this package (src layout), else the cwd."""
    here = Path(__file__).resolve().parents[2]
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


def _plans(params_files, nb_paths, declared, *, samples, seed, overrides, parameters, data) -> list[Plan]:
    """Load every params file, its data files, and check every notebook's parameters: nothing runs
    before this.  ``data``: command-line data files, {"resolutions": path or None, ...}."""
    from ..backtest.data import load_model_data
    from ..model.data_files import data_files
    from ..model.load import load_model

    over = _overrides_dict(overrides)
    plans = []
    for pf in params_files:
        model, questions = load_model(pf, overrides=list(overrides or []))
        files = load_model_data(model, data_files(model, **data)).files  # every data file checked here
        n = samples if samples is not None else model.samples
        s = seed if seed is not None else model.seed
        plan = Plan(pf, Path(pf).stem, model, questions, n, s, over)
        for nb in nb_paths:
            params = {"params_file": os.path.abspath(pf), "samples": n, "seed": s, "as_of": "",
                      "overrides": over, "output_dir": ""}
            params.update({k: v for k, v in files.as_parameters().items() if k in declared[nb]})
            params.update(parameters or {})
            check_parameters(nb, params, declared[nb])
            plan.tasks.append(Task(plan, nb, params))
        plans.append(plan)
    return plans


def _forecast(plan: Plan) -> None:
    """Write the run's forecasts.csv and .json and its headline; a failure is recorded."""
    from ..engine.forecast import run_forecast

    try:
        if not plan.questions:
            plan.forecast_status, plan.forecast_message = "none", "the model has no questions"
            return
        fc = run_forecast(plan.model, plan.questions, samples=plan.samples, seed=plan.seed)
        write_text(str(plan.partial / "forecasts.csv"), fc.to_csv())
        write_text(str(plan.partial / "forecasts.json"), fc.to_json())
        plan.headline = [{"id": q.id, "text": q.text, "forecast": q.summary()} for q in fc.questions[:HEADLINE_QUESTIONS]]
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
    fresh_kernels: bool = False,
    resolutions: str | None = None,
    evidence: str | None = None,
    series: str | None = None,
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
    fresh_kernels : bool
        Start each kernel as a new process instead of forking it from a
        :class:`~scenarios.report.kernel_pool.KernelPool` (where the platform has fork).
    resolutions, evidence, series : str, optional
        Data files overriding each params file's keys of the same names; every data file is
        validated before any kernel starts and passed to the notebooks that declare
        ``resolutions_file``, ``evidence_file`` or ``series_file`` (see
        :func:`scenarios.model.data_files.data_files`).

    Returns
    -------
    list of RunResult, one per params file.

    Raises
    ------
    ScenarioError
        Bad params files, overrides or notebook parameters: raised before any kernel starts
        and before anything is written.
    """
    started = _dt.datetime.now().astimezone()
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs: expected at least 1, got {jobs}")
    if timeout is not None and timeout <= 0:
        raise UsageError(f"--timeout: expected a number of seconds > 0, got {timeout}")
    jobs = jobs or default_jobs()
    with contextlib.ExitStack() as stack:
        nb_paths = find_notebooks(notebooks)
        # The kernel pool imports ipykernel and what the notebooks import, once, on the core this
        # process leaves idle while it checks everything below; it forks kernels only when asked,
        # after the checks (it is stopped, unused, when they fail).  It starts at once, run as the
        # kernel spec's file says; jupyter_client confirms the spec after the checks.
        kernels = None
        if not fresh_kernels and KernelPool.supported():
            kernels = KernelPool.start(preload_modules(nb_paths), interpreter=guess_kernel_interpreter(report_execute.KERNEL_NAME),
                                       cwd=nb_paths[0].parent.absolute())
            if kernels is not None:
                stack.enter_context(kernels)
        report_execute.trace("pool started")
        declared = {p: declared_parameters(p) for p in nb_paths}
        root = repo_root()
        out = Path(out).absolute()  # kernels run in the notebooks folder: every path they get is absolute
        report_execute.trace("notebooks inspected")

        # ---- everything is validated before any kernel starts or anything is written
        plans = _plans(params_files, nb_paths, declared, samples=samples, seed=seed, overrides=overrides,
                       parameters=parameters, data={"resolutions": resolutions, "evidence": evidence, "series": series})
        report_execute.trace("params loaded and parameters checked")
        # From here kernels may start.  The HTML writer warms up in a process of its own (niced),
        # forked now that papermill's imports (nbformat, traitlets...) are done.
        html = stack.enter_context(HtmlProcess())
        if kernels is not None:  # another Python or interpreter options: a pool of its own
            spec_pool = kernels.for_kernel_spec(report_execute.KERNEL_NAME)
            if spec_pool is not None and spec_pool is not kernels:
                stack.enter_context(spec_pool)
            kernels = spec_pool

        out.mkdir(parents=True, exist_ok=True)
        lib_versions = versions()
        git = None

        def own_work():  # forecasts and git, while the slowest kernels still work
            nonlocal git
            for plan in plans:
                _forecast(plan)
            report_execute.trace("forecasts written")
            git = _git_info(root)

        def finished(t: Task):
            ipynb = t.plan.partial / (t.stem + ".ipynb")
            if ipynb.exists():
                try:
                    html.write(ipynb, t.plan.partial / (t.stem + ".html"), f"{t.stem} · {t.plan.name}")
                except HtmlExportError as exc:
                    t.status, t.message = "failed", f"HTML export failed: {exc}"
            elif t.status == "ok":
                t.status, t.message = "failed", "papermill wrote no executed notebook"

        progress = report_execute.Progress([t.label for p in plans for t in p.tasks], stream=stream, tty=tty)
        try:
            todo = reuse_or_queue(plans, out, force=force, versions=lib_versions,
                                  package_files=sorted(Path(__file__).parent.glob("*.py")),
                                  data_files=tree_files(root / "data", "*"), progress=progress, jobs=jobs)
            report_execute.run_all(todo, jobs=jobs, timeout=timeout, progress=progress, first_done=own_work,
                                   finished=finished, kernel_pool=kernels.address if kernels else None)
        except BaseException:
            progress.close()
            for plan in plans:
                if plan.partial is not None:
                    shutil.rmtree(plan.partial, ignore_errors=True)
            raise
        progress.close()

    results = finish_runs(plans, out, started=started, versions=lib_versions, git=git)
    report_execute.trace("manifests, index and latest written")
    return results


def run_report_command(args) -> int:
    """The ``scenarios report`` command: build the reports, print where they are.

    Returns
    -------
    int
        0 when every run is complete, :data:`EXIT_NOTEBOOK_FAILED` (3) when a notebook failed
        or timed out (its run is written and marked failed).
    """
    results = run_report(
        args.params, out=args.out, samples=args.samples, seed=args.seed, jobs=args.jobs, force=args.force,
        overrides=args.overrides, notebooks=args.notebooks, timeout=args.timeout,
        fresh_kernels=args.fresh_kernels, resolutions=args.resolutions, evidence=args.evidence, series=args.series,
    )
    failed = 0
    for r in results:
        print(f"{r.status}: {r.path}")
        for nb in r.notebooks:
            if nb["status"] != "ok":
                failed += 1
                print(f"  {nb['notebook']}: {nb['status']}: {nb['message']}")
    print(f"index: {Path(args.out) / 'index.html'}")
    return EXIT_NOTEBOOK_FAILED if failed or any(r.status != "complete" for r in results) else 0
