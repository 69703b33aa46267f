"""Peak memory of a run, estimated before it starts, and the budget it must fit in.

What a run holds at its peak (every figure measured with ``benchmarks/bench_memory.py``, which
prints the estimate beside the measured peak of ``forecast``, ``forecast --as-of``, ``backtest``
and ``report`` at three sizes and of a model with a repeated event of ``max: 10000``):

* **the process**: the interpreter with numpy, yaml and the model (:data:`BASE_BYTES`), what
  forecasting as of a date imports (:data:`INFERENCE_BYTES`) and what the backtest's scoring
  does (:data:`SCORING_BYTES`); a notebook kernel (:data:`KERNEL_BYTES`) and the report's runner
  (:data:`RUNNER_BYTES`, :data:`PAPERMILL_BYTES` a papermill worker).
* **one chunk of worlds**, in the process that draws it: every node drawn, 8 bytes a value (a flow
  for each of its months, a stock at as_of and each month end, a statement its day and value, a
  vector its categories, a repeated event its ``max`` occurrences), and the temporaries of
  drawing the largest node (:data:`DRAW_ARRAYS`: a repeated event holds about four arrays of its
  size while it is drawn).  Forecasting as of a date (resample-move,
  :func:`scenarios.engine.asof.run_plans`) holds more per chunk: the chain's worlds and a
  branch's (a plan off the chain's dates), with a weight factor per conditioned node, the
  :data:`REPORT_CANDIDATES` likelihoods of each reported node (and a candidate drawn beside the
  one kept) and the SMC bookkeeping (:data:`SMC_ARRAYS`); while a move runs, its proposal and the
  rows it keeps (:data:`MOVE_STATES`), or the draw of the largest node; with a chain store, the
  worlds written (twice: their bytes and the copy written); and the sort caches of the CRPS
  ensembles (what each reads, perhaps drawn at an earlier step, and the order).
* **what the run keeps across chunks**: a numeric or date question 8 bytes a world (16 with
  evidence weights) per as-of date, and the temporaries of its result
  (:data:`RESULT_TEMPORARY_BYTES`); a binary question only sums; a sink what its
  ``memory_bytes(model, months)`` says (:class:`SinkBytes`): a fan chart's months and the
  notebooks' worlds (every node) what they read for every world and a weight
  (:func:`kept_reads_bytes`, also counted for a sink without ``memory_bytes``), once more while it
  is joined after the last chunk; a CRPS ensemble ``LEVELS`` points of 16 bytes per chunk; a date
  question's weight by day.
* **worker processes** (``--jobs``): each of ``min(jobs, chunks)`` holds :data:`WORKER_BYTES`
  and a chunk; the main process keeps what the run keeps (the chunks' question values twice:
  their parts are held until the run ends).

Each estimate is a function of the number of worlds, so a refused run says how many fit.  A run
can be asked what it would hold without running it (:func:`planned`): it goes as far as its
memory check and stops there.

The budget is ``--memory-budget`` when given (also read from :data:`BUDGET_VARIABLE`, so notebook
kernels of ``report`` inherit it), else half of the memory available when the run starts
(``MemAvailable`` of /proc/meminfo, or free pages from ``os.sysconf``) and at most half the
process's own address-space limit (``RLIMIT_AS``), if it has one.  It bounds the run with its
worker processes.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
from collections.abc import Callable
from typing import NamedTuple

from ..errors import ResourceLimitError

__all__ = [
    "BASE_BYTES",
    "INFERENCE_BYTES",
    "SCORING_BYTES",
    "WORKER_BYTES",
    "KERNEL_BYTES",
    "RUNNER_BYTES",
    "PAPERMILL_BYTES",
    "BUDGET_VARIABLE",
    "available_memory",
    "memory_budget",
    "set_memory_budget",
    "node_values",
    "SinkBytes",
    "kept_reads_bytes",
    "bytes_per_world",
    "forecast_bytes",
    "plans_bytes",
    "estimate_peak_bytes",
    "pool_workers",
    "planned",
    "holding",
    "check_run",
    "check_memory",
    "check_plans_memory",
    "largest_fitting",
    "format_size",
]

MiB = 1024 * 1024
VALUE_BYTES = 8
"""A float64 (bool and category arrays take 1 and 8: counted as 8)."""

BASE_BYTES = 46 * MiB
"""A process that simulates: interpreter, numpy, yaml and a model (measured 44 MiB on params/base.yaml)."""
INFERENCE_BYTES = 20 * MiB
"""What forecasting as of a date adds: the evidence, scipy's distributions (measured 18 MiB)."""
SCORING_BYTES = 20 * MiB
"""What the backtest adds: its scoring and summary (measured 20 MiB)."""
WORKER_BYTES = 64 * MiB
"""A worker process of ``--jobs``, started (spawned) for a run's chunks, with the run's job (measured 62 MiB)."""
POOL_BYTES = 12 * MiB
"""multiprocessing's resource tracker, one per pool of workers (measured 12 MiB)."""
KERNEL_BYTES = 150 * MiB
"""A notebook kernel with the package, matplotlib and IPython, and its figures (measured 152 and
157 MiB for notebooks 02 and 03 at 200 worlds, 200 MiB for 01 with its sensitivity)."""
RUNNER_BYTES = 110 * MiB
"""``scenarios report``'s own process, papermill imported (measured about 100 MiB before its forecast)."""
PAPERMILL_BYTES = 110 * MiB
"""Each of the report's worker processes, which run papermill and export HTML (measured 104-110 MiB)."""

DRAW_ARRAYS = {"repeated": 4.2, "stock": 4.5, "flow": 3.0}
"""Arrays of a node's size alive while it is drawn, its value among them (others: 2).  A repeated
event: the exponential gaps' running sum, the days before and after its rate changes, their
choice (measured 4.1); a stock: its months' exposure, what each adds, the levels."""
RESULT_TEMPORARY_BYTES = 17
"""Per world, while one question's result is computed: finite values and deviations (8 + 8) and
the finite mask (1)."""
WEIGHTED_RESULT_TEMPORARY_BYTES = 41
"""The same with evidence weights: the sort order, sorted values and weights, their running sum
(4 x 8), and the finite mask and values (1 + 8)."""
MOVE_STATES = 1.5
"""States of a chunk's worlds a move holds besides the chain's and a branch's: its proposal and the
rows it keeps, for the nodes it redraws (measured about 0.7 on params/base.yaml, where moves below
the top of the model redraw part of it; 2 for a move that redraws everything)."""
SMC_ARRAYS = 8
"""Per-world arrays of a chunk's sequential Monte Carlo bookkeeping: weights, their scale, world
ids, islands, the weights and copies of a step, acceptance draws."""
REPORT_CANDIDATES = 4
"""Likelihoods kept per reported node: :data:`scenarios.engine.asof.REPORT_CANDIDATES` (which
imports this module; a test keeps the two equal)."""
POINT_BYTES = 16
"""A CRPS ensemble's point: value and weight."""
AVAILABLE_SHARE = 0.5
BUDGET_VARIABLE = "SCENARIOS_MEMORY_BUDGET"

_budget: int | None = None


def set_memory_budget(budget: int | None, *, export: bool = False) -> None:
    """Fix the budget in bytes (None: the default); ``export`` passes it to child processes."""
    global _budget
    _budget = budget
    if export:
        if budget is None:
            os.environ.pop(BUDGET_VARIABLE, None)
        else:
            os.environ[BUDGET_VARIABLE] = str(int(budget))


def available_memory() -> int | None:
    """Bytes of memory available to start new work now, or None when the system does not say."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh.read(1 << 16).decode("ascii", "replace").splitlines():
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def _address_space_limit() -> int | None:
    try:
        import resource
    except ImportError:  # not on this platform
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def memory_budget() -> int | None:
    """The budget in bytes (see the module's docstring), or None when nothing bounds it."""
    budget = _budget
    if budget is None:
        text = os.environ.get(BUDGET_VARIABLE, "")
        if text.isdigit() and int(text) > 0:
            budget = int(text)
    if budget is not None:
        return budget
    available = available_memory()
    budget = int(AVAILABLE_SHARE * available) if available else None
    limit = _address_space_limit()
    if limit is not None:
        # virtual size runs well above resident size (libraries, thread arenas): count half
        budget = limit // 2 if budget is None else min(budget, limit // 2)
    return budget


# =========================================================================== what a run holds


def node_values(model, name: str, months: int | None = None) -> int:
    """Values per world of node ``name``: a flow's ``months`` (default the horizon), a vector's
    categories, a repeated event's ``max`` occurrences, a stock's level at as_of and each month
    end, a statement's day and value, else 1."""
    kind = model.kinds[name]
    if kind.is_flow:
        return model.horizon_months if months is None else months
    if kind.type == "vector":
        return len(kind.categories or ()) or 1
    if kind.type == "repeated":
        return model.nodes[name].spec.max
    if kind.type == "stock":
        return model.horizon_months + 1
    if kind.type == "statement":
        return 2
    return 1


def _values(model, names, months: dict) -> dict:
    return {name: node_values(model, name, months.get(name)) for name in names}


def _draw_peak(model, values: dict, *, beyond: float = 0.0) -> float:
    """Values per world alive while the node hardest to draw is drawn (its :data:`DRAW_ARRAYS`,
    less ``beyond`` arrays of its size counted already)."""
    return max(((DRAW_ARRAYS.get(model.kinds[name].type, 2.0) - beyond) * v for name, v in values.items()), default=0.0)


def bytes_per_world(questions, *, weighted: bool = False) -> int:
    """Bytes kept for the whole run per world by these questions' accumulators, with the
    temporaries of one result."""
    kept = sum(1 for q in questions if q.type != "binary")
    if not kept:
        return 0
    return kept * (16 if weighted else 8) + (WEIGHTED_RESULT_TEMPORARY_BYTES if weighted else RESULT_TEMPORARY_BYTES)


def forecast_bytes(model, questions, samples: int, *, nodes=None, months=None, chunk_size: int,
                   weighted: bool = False, runs: int = 1) -> int:
    """Bytes a plain forecast (:func:`scenarios.engine.forecast.run_forecast`) adds to its process.

    One chunk of the nodes drawn (the ancestors of ``nodes``, default all; flows for ``months``)
    with the temporaries of drawing the largest, and what the questions keep per world (``runs``
    runs keep theirs at the same time).
    """
    names = model.ancestors(nodes) if nodes is not None else set(model.nodes)
    values = _values(model, names, months or {})
    n = min(samples, chunk_size)
    per_chunk_world = VALUE_BYTES * (sum(values.values()) + _draw_peak(model, values, beyond=1.0))
    return int(n * per_chunk_world) + samples * runs * bytes_per_world(questions, weighted=weighted)


def estimate_peak_bytes(model, questions, samples: int, *, nodes=None, months=None, chunk_size: int,
                        weighted: bool = False, runs: int = 1) -> int:
    """Estimated peak resident bytes of a plain forecast of ``samples`` worlds for ``questions``.

    Parameters
    ----------
    model : Model
    questions : list of Question
        Of one run; ``runs`` runs keep theirs at the same time.
    samples : int
    nodes : iterable of str, optional
        Nodes drawn (default all).
    months : dict, optional
        Flow -> months drawn (default the horizon).
    chunk_size : int
    weighted : bool
        Evidence weights the worlds.
    """
    return BASE_BYTES + forecast_bytes(model, questions, samples, nodes=nodes, months=months, chunk_size=chunk_size,
                                       weighted=weighted, runs=runs)


class SinkBytes(NamedTuple):
    """What a plan's sink holds, as its ``memory_bytes(model, months)`` says (``months``: flow ->
    months drawn)."""

    per_world: float = 0.0
    """Bytes per world of the run, kept until the run ends."""
    per_chunk: float = 0.0
    """Bytes per chunk, kept until the run ends."""
    chunk_cache: float = 0.0
    """Bytes per world of a chunk while the chunk runs (e.g. a sort cache)."""
    cache_of: object = None
    """What holds that cache: sinks that share one count it once (None: the sink's own)."""


def kept_reads_bytes(model, reads) -> SinkBytes:
    """A sink that keeps what it reads (``reads``: node -> months, None for flows over the
    horizon) for every world, and a weight (the notebooks' worlds, fan charts)."""
    return SinkBytes(float(VALUE_BYTES * (1 + sum(node_values(model, name, m) for name, m in reads.items()))))


def _sink_bytes(model, sink, months: dict) -> SinkBytes:
    """What a plan's sink holds: its ``memory_bytes``, else what it reads for every world."""
    own = getattr(sink, "memory_bytes", None)
    return own(model, months) if own is not None else kept_reads_bytes(model, getattr(sink, "reads", None) or {})


def plans_bytes(model, plans: list, samples: int, *, nodes, months: dict, chunk_size: int, modes=(),
                branch: bool = True, workers: int = 0, store: bool = False) -> int:
    """Bytes a run of as-of plans (:func:`scenarios.engine.asof.run_plans`) adds to its process
    and its workers.

    Parameters
    ----------
    model : Model
    plans : list of Plan
        Their questions and sinks.
    samples : int
    nodes : list of str
        Every node drawn.
    months : dict
        Flow -> months drawn.
    chunk_size : int
    modes : iterable of dict
        Each conditioning's node -> mode (a tuple, first ``fixed``, ``said``, ``within`` or
        ``reports``): each conditioned node has a weight factor, a reported node its candidates.
    branch : bool
        Some plan is conditioned off the chain of evidence dates (its worlds are a second state).
    workers : int
        Worker processes the chunks run in (0: this process).
    store : bool
        A chain store keeps the worlds after some steps.
    """
    n = min(samples, chunk_size)
    chunks = max(1, math.ceil(samples / chunk_size))
    values = _values(model, nodes, months)
    state = sum(values.values())
    conditioned, reported = set(), set()
    for mode in modes:
        conditioned.update(mode)
        reported.update(name for name, m in mode.items() if m[0] == "reports" and name in values)
    held = (2 if branch else 1) * (state + len(conditioned)) + SMC_ARRAYS + REPORT_CANDIDATES * len(reported)
    # a reported node's candidate is drawn beside the one kept so far
    moving = max(MOVE_STATES * state, _draw_peak(model, values),
                 _draw_peak(model, {name: values[name] for name in reported}, beyond=-1.0) + REPORT_CANDIDATES)
    written = 2.0 * state if store else 0.0  # the worlds kept after a step: their bytes and the copy written
    chunk = VALUE_BYTES * (held + moving + written)
    sinks = largest_sink = 0.0  # per world of the run, what the sinks keep
    parts = 0.0  # per world: the question values (of a chunk, given back; of the run, kept)
    points = 0.0  # per chunk
    caches: dict = {}  # per world of a chunk, by cache: a CRPS ensemble's sort cache serves every date
    for plan in plans:
        parts += 2 * VALUE_BYTES * sum(1 for q in plan.questions if q.type != "binary")  # values and weights
        for sink in plan.sinks:
            held = _sink_bytes(model, sink, months)
            sinks += held.per_world
            largest_sink = max(largest_sink, held.per_world)
            points += held.per_chunk
            if held.chunk_cache:
                caches[id(sink if held.cache_of is None else held.cache_of)] = held.chunk_cache
    kept = parts + sinks
    chunk += sum(caches.values()) + parts
    during = chunks * points + samples * kept
    # after the last chunk: each question's result in turn, then each sink's values joined
    after = samples * (kept + max(largest_sink, WEIGHTED_RESULT_TEMPORARY_BYTES if parts else 0.0)) + chunks * points
    pool = POOL_BYTES if workers else 0  # started with the pool, whether or not a worker is
    used = min(workers, chunks) if chunks > 1 else 0
    if not used:  # one chunk runs here
        return int(pool + max(n * chunk + points + during, after))
    # each worker draws a chunk, and sends back its part once the chunk is done (the part and its
    # bytes); the parts are held in this process until the run ends (the questions' values then
    # twice: also copied into the results)
    worker = WORKER_BYTES + n * max(chunk + sinks, 2 * (sinks + parts)) + points
    return int(pool + used * worker + max(during, after) + samples * parts)


def pool_workers(pool) -> int:
    """Worker processes of this machine that ``pool`` runs chunks in: a process pool's
    ``max_workers`` (which the executor keeps only as ``_max_workers``), 0 for none or a
    cluster's (their memory is theirs)."""
    from concurrent.futures import ProcessPoolExecutor

    return int(getattr(pool, "_max_workers", 0) or 0) if isinstance(pool, ProcessPoolExecutor) else 0


# =========================================================================== asking a run, and refusing it


class _Planned(BaseException):
    """Ends a run at its memory check and carries what it would hold (see :func:`planned`).

    A BaseException, as GeneratorExit is: not an error, and no ``except Exception`` on the way
    may take it for one."""

    def __init__(self, run_bytes: Callable[[int], int]):
        super().__init__()
        self.run_bytes = run_bytes


_PLANNING: contextvars.ContextVar = contextvars.ContextVar("scenarios_memory_planning", default=None)
_HELD: contextvars.ContextVar = contextvars.ContextVar("scenarios_memory_held", default=0)


@contextlib.contextmanager
def holding(n: int):
    """Within this block, a run's process holds ``n`` bytes more than a process that only
    simulates (what it imported or keeps besides, e.g. the backtest's scoring): its checks count them."""
    token = _HELD.set(_HELD.get() + int(n))
    try:
        yield
    finally:
        _HELD.reset(token)


def planned(run: Callable, *args, workers: int | None = None, **kwargs) -> Callable[[int], int] | None:
    """What ``run(*args, **kwargs)`` would hold, without running it.

    The run goes as far as its first memory check (loading and planning, nothing simulated) and
    stops there.  Returns the bytes it would add to its process, as a function of the number of
    worlds, or None when it reached no check (it had nothing to simulate, and returned).

    ``workers``: the worker processes the run would use (None: its own ``pool``'s).
    """
    outer = _PLANNING.get()
    if workers is None and outer is not None:
        workers = outer["workers"]
    token = _PLANNING.set({"workers": workers})
    try:
        run(*args, **kwargs)
    except _Planned as stop:
        return stop.run_bytes
    finally:
        _PLANNING.reset(token)
    return None


def largest_fitting(peak: Callable[[int], int], budget: int, samples: int) -> int:
    """The largest number of worlds up to ``samples`` whose ``peak`` is within ``budget`` (0: none)."""
    lo, hi = 0, samples
    if peak(1) > budget:
        return 0
    lo = 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if peak(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def check_run(run_bytes: Callable[[int], int], samples: int, *, base: int, what: str = "",
              hint: str = "use --samples, or --memory-budget SIZE to change the budget") -> None:
    """Refuse a run whose estimated peak, ``base + run_bytes(samples)`` and what the process holds
    besides (:func:`holding`), is above the budget.

    ``what`` names the run at the start of the message (e.g. ``samples: ``); ``hint`` ends it.
    Under :func:`planned` it stops the run instead, whatever the budget.

    Raises
    ------
    ResourceLimitError
        With the estimate, the budget and the largest number of worlds that fits.
    """
    if _PLANNING.get() is not None:
        raise _Planned(run_bytes)
    budget = memory_budget()
    if budget is None:
        return
    base += _HELD.get()
    peak = base + run_bytes(samples)
    if peak <= budget:
        return
    fits = largest_fitting(lambda s: base + run_bytes(s), budget, samples)
    fit = f"at most {fits:,} worlds fit" if fits else "no run fits"
    raise ResourceLimitError(
        f"{what}{samples:,} worlds would need about {format_size(peak)} of memory, more than the budget of "
        f"{format_size(budget)}; {fit} ({hint})"
    )


def check_memory(model, questions, samples: int, *, nodes=None, months=None, chunk_size: int,
                 weighted: bool = False, runs: int = 1) -> None:
    """Refuse a plain forecast whose estimated peak memory is above the budget (see :func:`check_run`)."""
    check_run(lambda s: forecast_bytes(model, questions, s, nodes=nodes, months=months, chunk_size=chunk_size,
                                       weighted=weighted, runs=runs), samples, base=BASE_BYTES)


def check_plans_memory(model, plans: list, samples: int, *, nodes, months: dict, chunk_size: int, modes=(),
                       branch: bool = True, pool=None, store: bool = False) -> None:
    """Refuse a run of as-of plans whose estimated peak memory is above the budget (see
    :func:`plans_bytes` and :func:`check_run`); its chunks run in ``pool``'s workers."""
    plan = _PLANNING.get()
    workers = plan["workers"] if plan is not None and plan["workers"] is not None else pool_workers(pool)
    check_run(lambda s: plans_bytes(model, plans, s, nodes=nodes, months=months, chunk_size=chunk_size, modes=modes,
                                    branch=branch, workers=workers, store=store),
              samples, base=BASE_BYTES + INFERENCE_BYTES)


def format_size(n: int) -> str:
    """``n`` bytes as ``1.50 GiB`` or ``300 MiB``."""
    return f"{n / (1024 * MiB):,.2f} GiB" if n >= 1024 * MiB else f"{n / MiB:,.0f} MiB"
