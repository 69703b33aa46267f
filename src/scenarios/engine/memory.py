"""Peak memory of a run, estimated before it starts, and the budget it must fit in.

A run holds, at once: the interpreter with numpy and the model (:data:`BASE_BYTES`); one chunk of
worlds, every node drawn for ``chunk_size`` worlds (a flow for each of its months) with the
temporaries of drawing and evaluating; and, for the whole run, what the questions keep per world
(8 bytes a numeric or date question, 16 with evidence weights; see
:class:`scenarios.engine.forecast.Accumulator`) plus the temporaries of the largest question's
result.  The estimate errs high; a run that would pass the budget is refused with the largest
number of worlds that fits.

The budget is ``--memory-budget`` when given (also read from :data:`BUDGET_VARIABLE`, so notebook
kernels of ``report`` inherit it), else half of the memory available when the run starts
(``MemAvailable`` of /proc/meminfo, or free pages from ``os.sysconf``) and at most half the
process's own address-space limit (``RLIMIT_AS``), if it has one.
"""

from __future__ import annotations

import os

from ..errors import ResourceLimitError

__all__ = [
    "BASE_BYTES",
    "BUDGET_VARIABLE",
    "available_memory",
    "memory_budget",
    "set_memory_budget",
    "bytes_per_world",
    "estimate_peak_bytes",
    "check_memory",
]

MiB = 1024 * 1024
BASE_BYTES = 64 * MiB
"""Interpreter, numpy, yaml and a model (measured: 45 MiB resident for params/base.yaml at 10 worlds)."""
CHUNK_BYTES_PER_CELL = 16
"""Bytes per world and value of a chunk (a float64, and as much again for the temporaries of
drawing and evaluating; measured 7.5 on params/base.yaml and 9.2 on params/reference.yaml)."""
RESULT_TEMPORARY_BYTES = 17
"""Per world, while one question's result is computed: finite values and deviations (8 + 8) and
the finite mask (1)."""
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


def bytes_per_world(questions, *, weighted: bool = False) -> int:
    """Bytes kept for the whole run per world by these questions' accumulators."""
    kept = sum(1 for q in questions if q.type != "binary")
    per = 16 if weighted else 8
    return kept * per + (RESULT_TEMPORARY_BYTES if kept else 0)


def _chunk_bytes(model, nodes, months: dict, chunk_size: int) -> int:
    """Bytes of one chunk: every node drawn (a flow for its months, a vector for its categories,
    a repeated event for its max occurrences, a stock for its months)."""
    names = model.ancestors(nodes) if nodes is not None else set(model.nodes)
    cells = 0
    for name in names:
        kind = model.kinds[name]
        if kind.is_flow:
            cells += months.get(name, model.horizon_months)
        elif kind.type == "vector":
            cells += len(kind.categories or ()) or 1
        elif kind.type == "repeated":  # days of each occurrence
            cells += model.nodes[name].spec.max
        elif kind.type == "stock":  # level at as_of and at each month's end
            cells += model.horizon_months + 1
        elif kind.type == "statement":  # publication day, value said
            cells += 2
        else:
            cells += 1
    return CHUNK_BYTES_PER_CELL * cells * chunk_size


def estimate_peak_bytes(model, questions, samples: int, *, nodes=None, months=None, chunk_size: int,
                        weighted: bool = False, runs: int = 1) -> int:
    """Estimated peak resident bytes of simulating ``samples`` worlds for ``questions``.

    Parameters
    ----------
    model : Model
    questions : list of Question
        Of one run; ``runs`` runs (as-of dates of a backtest) keep theirs at the same time.
    samples : int
    nodes : iterable of str, optional
        Nodes drawn (default all).
    months : dict, optional
        Flow -> months drawn (default the horizon).
    chunk_size : int
    weighted : bool
        Evidence weights the worlds.
    """
    per_world = runs * bytes_per_world(questions, weighted=weighted)
    return BASE_BYTES + _chunk_bytes(model, nodes, months or {}, min(samples, chunk_size)) + samples * per_world


def check_memory(model, questions, samples: int, *, nodes=None, months=None, chunk_size: int,
                 weighted: bool = False, runs: int = 1) -> None:
    """Refuse a run whose estimated peak memory is above the budget.

    Raises
    ------
    ResourceLimitError
        With the estimate, the budget and the largest number of worlds that fits.
    """
    budget = memory_budget()
    if budget is None:
        return
    peak = estimate_peak_bytes(model, questions, samples, nodes=nodes, months=months, chunk_size=chunk_size,
                               weighted=weighted, runs=runs)
    if peak <= budget:
        return
    fixed = BASE_BYTES + _chunk_bytes(model, nodes, months or {}, min(samples, chunk_size))
    per_world = runs * bytes_per_world(questions, weighted=weighted)
    fits = max(0, (budget - fixed) // per_world) if per_world else 0
    hint = f"at most {fits:,} worlds fit" if fits else "no run fits"
    raise ResourceLimitError(
        f"{samples:,} worlds would need about {_size(peak)} of memory, more than the budget of {_size(budget)}; "
        f"{hint} (use --samples, or --memory-budget SIZE to change the budget)"
    )


def _size(n: int) -> str:
    return f"{n / (1024 * MiB):.2f} GiB" if n >= 1024 * MiB else f"{n / MiB:,.0f} MiB"
