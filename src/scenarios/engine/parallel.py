"""Where chunks of worlds are simulated: in this process, in worker processes, or on a Dask cluster.

A run's worlds are drawn in chunks (:data:`scenarios.engine.simulate.CHUNK_SIZE` worlds each), and
a chunk's numbers depend only on the seed, the chunk's index and the inputs, never on which
process drew it or when.  So a run can send its chunks anywhere and add up their results in
chunk order: the answer is the same, bit for bit, for every number of workers.

The one seam is a :class:`concurrent.futures.Executor`: ``None`` runs the chunks here, one after
the other; :func:`executor` gives a process pool of ``jobs`` workers (started, never forked), or
a Dask client's executor when an address is given (``--dask ADDRESS`` or the environment
variable :data:`DASK_ENVIRONMENT`).  What a chunk needs travels once per task as bytes,
serialised with cloudpickle (questions and targets hold small functions that plain pickle
cannot carry).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator

__all__ = [
    "DASK_ENVIRONMENT",
    "JOBS_ENVIRONMENT",
    "default_jobs",
    "dask_address",
    "executor",
    "map_chunks",
]

JOBS_ENVIRONMENT = "SCENARIOS_JOBS"
"""Environment variable: worker processes when ``--jobs`` is not given (a notebook run by
``scenarios report`` reads it)."""

DASK_ENVIRONMENT = "SCENARIOS_DASK"
"""Environment variable: the address of a Dask scheduler (``tcp://host:8786``) when ``--dask``
is not given; chunks then run on that cluster's workers."""


def default_jobs() -> int:
    """Worker processes by default: :data:`JOBS_ENVIRONMENT` if set, else the cores this process may use."""
    raw = os.environ.get(JOBS_ENVIRONMENT, "").strip()
    if raw:
        try:
            jobs = int(raw)
        except ValueError:
            jobs = 0
        if jobs >= 1:
            return jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def dask_address(given: str | None = None) -> str | None:
    """The Dask scheduler to use: ``given``, else :data:`DASK_ENVIRONMENT`, else None (no cluster)."""
    address = given if given is not None else os.environ.get(DASK_ENVIRONMENT, "")
    return address.strip() or None


@contextlib.contextmanager
def executor(jobs: int | None = None, dask: str | None = None) -> Iterator:
    """The executor chunks run on, for a ``with`` block.

    Parameters
    ----------
    jobs : int, optional
        Worker processes (default :func:`default_jobs`); 1 runs every chunk in this process
        (yields None).
    dask : str, optional
        Address of a ``dask.distributed`` scheduler: chunks run on its workers (``jobs`` is then
        ignored).  Needs the optional extra: ``pip install -e .[dask]``.
    """
    if dask:
        try:
            from dask.distributed import Client
        except ImportError as exc:  # an optional extra
            raise ImportError("--dask needs dask.distributed: pip install -e '.[dask]'") from exc
        with Client(dask) as client:
            yield client.get_executor()
        return
    jobs = default_jobs() if jobs is None else jobs
    if jobs <= 1:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def map_chunks(fn: Callable, job, chunks: list, pool=None, *, local: Callable | None = None) -> Iterator:
    """``fn(job, chunk)`` for every chunk, yielded in chunk order.

    With ``pool`` None (or a single chunk) each runs here, in order (``local(job, chunk)`` if
    given, e.g. with a progress hook); otherwise ``job`` is serialised once with cloudpickle and
    every chunk is submitted to ``pool``, results still yielded in chunk order.
    """
    if pool is None or len(chunks) <= 1:
        for chunk in chunks:
            yield (local or fn)(job, chunk)
        return
    import cloudpickle

    blob = cloudpickle.dumps(job)
    futures = [pool.submit(_run_serialised, fn, blob, chunk) for chunk in chunks]
    try:
        for future in futures:
            yield future.result()
    finally:
        for future in futures:
            future.cancel()


def _run_serialised(fn: Callable, blob: bytes, chunk):
    import cloudpickle

    return fn(cloudpickle.loads(blob), chunk)
