"""What a report notebook works on, from its parameters cell.

:func:`notebook_inputs` turns the standard parameters (``params_file``, ``samples``, ``seed``,
``as_of``, ``overrides``) into the validated model, its questions and what its report shows,
so a notebook run by ``scenarios report``, by the ``papermill`` command (from the repository
root or from ``notebooks/``) or opened in JupyterLab with its defaults works on the same inputs.
"""

from __future__ import annotations

import datetime as _dt
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

from ..engine.checkpoint import chain_store
from ..engine.parallel import dask_address, default_jobs, executor
from ..errors import ScenarioError
from ..model.data_files import DataFiles
from ..model.report_spec import ReportSpec, report_spec

__all__ = [
    "NotebookInputError",
    "NotebookInputs",
    "notebook_inputs",
    "resolve_path",
    "search_folders",
    "BacktestInputs",
    "backtest_inputs",
    "default_as_of",
    "AsOfView",
    "as_of_view",
    "view_memory",
    "backtest_memory",
]


class NotebookInputError(ScenarioError, ValueError):
    """A notebook parameter that cannot be used (a file not found, a bad date)."""


@dataclass(frozen=True)
class NotebookInputs:
    """What a notebook works on.

    Attributes
    ----------
    model : scenarios.model.scenario.Model
    questions : list of Question
    samples : int
        Worlds to simulate.
    seed : int
    params_file : str
        The params file as found (see :func:`resolve_path`).
    report : ReportSpec
        What the report shows: tree levels, events, flows.
    files : DataFiles
        The model's resolutions, evidence and series files (absolute paths; None: none).
    """

    model: object
    questions: list
    samples: int
    seed: int
    params_file: str
    report: ReportSpec
    files: DataFiles = DataFiles()
    as_of: _dt.date | None = None
    """The date the notebook is as of: the evidence public by then conditions its forecasts
    (the model's own ``as_of``: the prior only)."""


def search_folders(cwd: str | os.PathLike | None = None) -> list[Path]:
    """Where a relative notebook path is looked for, in order: the working folder, then the
    repository root (the working folder's parent when it is ``notebooks/``, and the checkout
    holding this package)."""
    cwd = Path(cwd) if cwd is not None else Path.cwd()
    folders = [cwd]
    if (cwd.parent / "notebooks").is_dir():
        folders.append(cwd.parent)
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "notebooks").is_dir() and (checkout / "pyproject.toml").exists():
        folders.append(checkout)
    unique = []
    for f in folders:
        if f.resolve() not in [u.resolve() for u in unique]:
            unique.append(f)
    return unique


def resolve_path(path: str, what: str, *, cwd: str | os.PathLike | None = None) -> str:
    """The file ``path`` names: as given when absolute, else the first of :func:`search_folders`
    that holds it.

    Raises
    ------
    NotebookInputError
        When no folder holds it (naming every place tried).
    """
    text = str(path).strip()
    if not text:
        raise NotebookInputError(f"{what}: expected a file path, got an empty string")
    if os.path.isabs(text):
        if not os.path.isfile(text):
            raise NotebookInputError(f"{what}: file not found: {text}")
        return text
    tried = []
    for folder in search_folders(cwd):
        candidate = folder / text
        if candidate.is_file():
            return str(candidate)
        tried.append(str(candidate))
    raise NotebookInputError(f"{what}: file not found: {text!r} (looked for {' and '.join(tried)})")


def notebook_inputs(params_file: str, *, samples: int = 0, seed: int = -1, as_of: str = "",
                    overrides: dict | None = None, resolutions_file: str = "", evidence_file: str = "",
                    series_file: str = "") -> NotebookInputs:
    """Load a notebook's model from its parameters (the parameters cell's conventions).

    Parameters
    ----------
    params_file : str
        Absolute, or relative to the working folder or the repository root.
    samples : int
        Worlds to simulate; 0 means the params file's ``samples``.
    seed : int
        Random seed; -1 means the params file's ``seed``.
    as_of : str
        Forecast date ``YYYY-MM-DD``, on or after the model's ``as_of`` and within its horizon:
        the notebooks condition on the evidence public by then, beside the model's prior (see
        :func:`as_of_view`).  "" means today, clipped to the horizon (:func:`default_as_of`).
    overrides : dict, optional
        ``{"dotted.path": value}``, as ``--set dotted.path=value``.
    resolutions_file, evidence_file, series_file : str
        Data files overriding the params file's ``resolutions:``, ``evidence:`` and ``series:``
        (found like ``params_file``); "" means the params file's own (none when it names none).
        ``files`` of the result holds them resolved (:func:`scenarios.model.data_files.data_files`).

    Raises
    ------
    ScenarioError
        A params file not found or invalid, a bad override, a bad ``report:`` section, an
        ``as_of`` before the model's or after its horizon, a data file not found.
    """
    from ..model.data_files import data_files
    from ..model.load import load_model

    samples = 0 if samples is None else samples
    if isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or samples < 0:
        raise NotebookInputError(f"samples: expected a whole number of worlds, at least 1 (0: the params file's "
                                 f"samples), got {samples!r:.40}")
    path = resolve_path(params_file, "params_file")
    model, questions = load_model(path, overrides=dict(overrides or {}))
    named = {key: resolve_path(value, f"{key}_file") if str(value or "").strip() else None
             for key, value in (("resolutions", resolutions_file), ("evidence", evidence_file), ("series", series_file))}
    files = data_files(model, **named)
    day = default_as_of(model)
    if str(as_of or "").strip():
        try:
            day = _dt.date.fromisoformat(str(as_of).strip())
        except ValueError:
            raise NotebookInputError(f"as_of: expected a date as YYYY-MM-DD, got {str(as_of)[:40]!r}") from None
        end = model.as_of + _dt.timedelta(days=model.horizon_days)
        if not model.as_of <= day <= end:
            raise NotebookInputError(
                f"as_of: {day} is outside the model's time ({model.as_of} to the end of its horizon, {end}): "
                "give a date in between, or leave as_of empty for today (clipped to the horizon)")
    spec = report_spec(model)
    unknown = [i for i in spec.sensitivity or () if i not in {q.id for q in questions}]
    if unknown:
        from ..model.scenario import did_you_mean

        raise NotebookInputError(f"{path}: report.sensitivity: no question {unknown[0][:60]!r}"
                                 + did_you_mean(unknown[0], [q.id for q in questions]))
    run = NotebookInputs(
        model, questions,
        model.samples if samples == 0 else int(samples),
        model.seed if seed in (-1, None) else int(seed),
        path, spec, files, day,
    )
    # the least any report notebook holds: the worlds as of a date (01, 02) or the backtest (03);
    # each checks its own run again before it starts (as_of_view, backtest_inputs)
    estimates = [f for f in (view_memory(run), backtest_memory(run)) if f is not None]
    _check_memory(lambda n: min(f(n) for f in estimates), run.samples)
    return run


def default_as_of(model, today: _dt.date | None = None) -> _dt.date:
    """Today (or ``today``), clipped to the model's time: not before its ``as_of``, not after
    the end of its horizon."""
    today = today or _dt.date.today()
    end = model.as_of + _dt.timedelta(days=model.horizon_days)
    return min(max(today, model.as_of), end)


@dataclass(frozen=True)
class AsOfView:
    """The worlds a notebook shows: the model's prior and, when evidence was public by its date,
    the worlds as of that date.

    Attributes
    ----------
    as_of : datetime.date
    prior : Worlds
        Unweighted worlds of the model as of its own ``as_of``.
    now : Worlds or None
        Worlds as of ``as_of``, weighted by the evidence public by then (None: the prior only).
    prior_forecast, forecast : Forecast or None
        Every question's forecast from the same worlds (None when not asked for; ``forecast``
        also None with the prior only).
    note : str
        Why only the prior is shown, in one sentence ("" when ``now`` is given).
    items : int
        Evidence items public by ``as_of``.
    """

    as_of: _dt.date
    prior: object
    now: object = None
    prior_forecast: object = None
    forecast: object = None
    note: str = ""
    items: int = 0
    evidence: object = None
    """The model's Evidence (None: no evidence file)."""
    resolutions: dict | None = None
    """Question id -> Resolution from the model's resolutions file (None: none)."""


def as_of_view(run: NotebookInputs, *, forecasts: bool = True) -> AsOfView:
    """Simulate ``run``'s worlds: the prior, and the worlds as of ``run.as_of`` conditioned on the
    evidence public by then (one run of :func:`scenarios.engine.asof.worlds_as_of`, in
    ``$SCENARIOS_JOBS`` processes or on ``$SCENARIOS_DASK``, continuing the chain a report keeps in
    ``$SCENARIOS_CHAIN_CACHE``).  With ``forecasts`` every question is forecast from the same worlds.
    """
    from ..backtest.data import load_model_data
    from ..engine.asof import worlds_as_of
    from ..engine.forecast import run_forecast
    from ..engine.simulate import simulate

    model, day = run.model, run.as_of or run.model.as_of
    _check_memory(view_memory(run, forecasts=forecasts), run.samples)
    prior = simulate(model, run.samples, run.seed)
    prior_forecast = run_forecast(model, run.questions, samples=run.samples, seed=run.seed) if forecasts and run.questions else None
    if not run.files.evidence:
        note = "The model has no evidence file, so everything below is the model's prior as of its as_of date."
        return AsOfView(day, prior, prior_forecast=prior_forecast, note=note)
    data = load_model_data(model, run.files)
    items = len(data.evidence.public_by(day))
    if day == model.as_of or not items:
        note = (f"As of {day}, the model's own as_of date, no evidence is used: everything below is the prior."
                if day == model.as_of else f"No evidence item was public by {day}: everything below is the prior.")
        return AsOfView(day, prior, prior_forecast=prior_forecast, note=note, items=items, evidence=data.evidence,
                        resolutions=data.resolutions)
    resolved_on = {k: r.resolved_on for k, r in (data.resolutions or {}).items()}
    with executor(None, dask_address()) as pool:
        now, forecast = worlds_as_of(model, run.questions, data.evidence, day,  # the report's own run: kept
                                     samples=run.samples, seed=run.seed, resolved_on=resolved_on, pool=pool,
                                     store=chain_store())
    return AsOfView(day, prior, now, prior_forecast, forecast if forecasts else None, "", items, data.evidence,
                    data.resolutions)


# --------------------------------------------------------------------------- the backtest notebook


@dataclass(frozen=True)
class BacktestInputs:
    """The backtest a notebook shows, and why each of its sections does not apply ("" if it does).

    Attributes
    ----------
    result : BacktestResult or None
        None when nothing can be scored (no questions, no resolutions file, no resolved question).
    resolutions_file : str
        The resolutions file read ("" if none).
    skipped : str
        Why there is no backtest at all.
    scores_skipped : str
        Why there are no Brier scores (no binary question scored).
    fans_skipped : str
        Why there are no fans of reported running totals.
    numeric_skipped : str
        Why there is no CRPS table (no numeric estimate scored).
    evidence_note : str
        Said when the model has no evidence (every forecast is then the prior).
    """

    result: object
    resolutions_file: str
    skipped: str = ""
    scores_skipped: str = ""
    fans_skipped: str = ""
    numeric_skipped: str = ""
    evidence_note: str = ""
    resolutions: dict | None = None
    """Question id -> Resolution (None: no resolutions file)."""


def backtest_inputs(run: NotebookInputs, *, until: str = "") -> BacktestInputs:
    """Run the backtest of ``run``'s model (its own data files) with fans, or say why it cannot
    be run.

    Parameters
    ----------
    run : NotebookInputs
    until : str
        Last as-of date ``YYYY-MM-DD``; "" for every date.

    Run by ``scenarios report``, the backtest writes its progress to the file the
    :data:`scenarios.backtest.progress.ENVIRONMENT` variable names, for the report's status line.
    """
    from .. import backtest
    from ..backtest.data import NO_RESOLUTIONS, load_model_data

    if not run.questions:
        return BacktestInputs(None, "", skipped="the model has no questions, so there is nothing to backtest.")
    if not run.files.resolutions:
        return BacktestInputs(None, "", skipped=NO_RESOLUTIONS + ".")
    path = run.files.resolutions
    data = load_model_data(run.model, run.files)
    resolved = [q.id for q in run.questions if getattr(data.resolutions.get(q.id), "status", None) == "resolved"]
    if not resolved:
        return BacktestInputs(None, path, skipped=(
            f"none of the model's {len(run.questions)} questions has an outcome in {os.path.basename(path)}, "
            "so no forecast can be scored against what happened."))
    dates = backtest.backtest_dates(run.model, run.questions, data.resolutions, data.evidence, until=until)
    _check_memory(backtest_memory(run, until=until), run.samples)
    with executor(None, dask_address()) as pool:  # $SCENARIOS_JOBS processes, or $SCENARIOS_DASK
        result = backtest.backtest_for(run.model, run.questions, resolutions=path, evidence=run.files.evidence,
                                       samples=run.samples, seed=run.seed, until=until, as_of_dates=dates, fans=True,
                                       recalibrate=True, progress=backtest.ProgressFile.from_environment(len(dates)),
                                       pool=pool, store=chain_store())
    scored = result.summary["counts"]["binary_scored"]
    return BacktestInputs(
        result, path,
        scores_skipped="" if scored else (
            "no binary question with an outcome was open at any as-of date, so there are no Brier scores."),
        fans_skipped="" if result.fans else (
            "the evidence reports no running totals of the model's flows, so there are no fans of them."),
        numeric_skipped="" if result.summary["numeric"]["targets"] else (
            "no reported number (numeric question or estimate in the evidence) can be scored, so there is no CRPS table."),
        evidence_note="" if len(data.evidence) else (
            "the model has no evidence, so every forecast below is the model's prior as of its as_of date."),
        resolutions=data.resolutions,
    )


# --------------------------------------------------------------------------- memory


def _workers() -> int:
    """Worker processes of this machine a notebook's runs use: ``$SCENARIOS_JOBS`` or the cores
    (none on a Dask cluster)."""
    return 0 if dask_address() else default_jobs()


def view_memory(run: NotebookInputs, *, forecasts: bool = True, store=..., kept: bool = False):
    """What :func:`as_of_view` holds besides its kernel, in bytes, as a function of the number of
    worlds: the prior's worlds (every node, flows over the horizon; twice while its chunks are
    joined), and beside them the prior forecast or the run of the worlds as of ``run.as_of``
    (:func:`scenarios.engine.memory.planned`).  ``store``: the chain store it writes (None: none;
    default :func:`~scenarios.engine.checkpoint.chain_store`'s, as in a kernel).  ``kept``: the
    report's runner made that run before (its worlds are read from the chain store, not drawn)."""
    from ..backtest.data import load_model_data
    from ..engine.asof import worlds_as_of
    from ..engine.forecast import flow_months
    from ..engine.memory import VALUE_BYTES, forecast_bytes, node_values, planned
    from ..engine.simulate import CHUNK_SIZE

    model, day = run.model, run.as_of or run.model.as_of
    world = VALUE_BYTES * sum(node_values(model, name) for name in model.nodes)
    beside = [lambda n: world * n]  # the prior's chunks and the prior joined
    if forecasts and run.questions:
        needed = set().union(*(q.refs for q in run.questions))
        months = flow_months(model, run.questions)
        beside.append(lambda n: forecast_bytes(model, run.questions, n, nodes=needed, months=months,
                                               chunk_size=CHUNK_SIZE))
    if run.files.evidence and day != model.as_of:
        data = load_model_data(model, run.files)
        if data.evidence.public_by(day) and kept:
            workers = _workers()
            beside.append(lambda n: _kept_worlds_bytes(world + VALUE_BYTES, n, workers))
        elif data.evidence.public_by(day):
            resolved_on = {k: r.resolved_on for k, r in (data.resolutions or {}).items()}
            now = planned(worlds_as_of, model, run.questions, data.evidence, day, samples=run.samples,
                          seed=run.seed, resolved_on=resolved_on, store=chain_store() if store is ... else store,
                          workers=_workers())
            if now is not None:
                beside.append(now)
    return lambda n: world * n + max(f(n) for f in beside)


def _kept_worlds_bytes(world: int, n: int, workers: int) -> int:
    """Reading ``n`` kept worlds of ``world`` bytes each: every chunk's loaded (its file's bytes and
    its arrays), in ``workers`` processes when there are several chunks, then joined."""
    from ..engine.memory import POOL_BYTES, WORKER_BYTES
    from ..engine.simulate import CHUNK_SIZE

    chunks = -(-n // CHUNK_SIZE)
    loading = 2 * world * min(n, CHUNK_SIZE)
    used = min(workers, chunks) if chunks > 1 else 0
    return 2 * world * n + (POOL_BYTES + used * (WORKER_BYTES + loading) if used else loading)


def backtest_memory(run: NotebookInputs, *, until: str = "", store=...):
    """What :func:`backtest_inputs` holds besides its kernel, in bytes, as a function of the
    number of worlds (:func:`scenarios.engine.memory.planned`); None when there is no backtest to
    run.  ``store`` as for :func:`view_memory`."""
    from .. import backtest
    from ..backtest.data import load_model_data
    from ..engine.memory import planned

    if not run.questions or not run.files.resolutions:
        return None
    data = load_model_data(run.model, run.files)
    if not any(getattr(data.resolutions.get(q.id), "status", None) == "resolved" for q in run.questions):
        return None
    return planned(backtest.backtest_for, run.model, run.questions, resolutions=run.files.resolutions,
                   evidence=run.files.evidence, samples=run.samples, seed=run.seed, until=until, fans=True,
                   recalibrate=True, store=chain_store() if store is ... else store, workers=_workers())


def _check_memory(run_bytes, samples: int) -> None:
    """Refuse ``samples`` worlds when a kernel with ``run_bytes(samples)`` passes the memory budget."""
    from ..engine.memory import KERNEL_BYTES, check_run

    if run_bytes is not None:
        check_run(run_bytes, samples, base=KERNEL_BYTES, what="samples: ",
                  hint="give fewer samples, or a larger budget: scenarios report --memory-budget SIZE, or "
                       "$SCENARIOS_MEMORY_BUDGET in bytes")
