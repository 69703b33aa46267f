"""Monte Carlo simulation: the only place random generators are made from a seed.

Worlds are drawn in fixed-size chunks so that memory stays bounded whatever the number of
worlds, and each node draws from its own stream, keyed by (seed, chunk, node name).  So:
the same seed gives the same numbers; drawing fewer nodes (only what the questions read)
does not change the nodes that are drawn; and fixing a node to an observed value re-draws its
descendants with the same random numbers (common random numbers across as-of dates).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

import numpy as np

from ..model.scenario import Context, Model
from ..model.worlds import Worlds

__all__ = ["CHUNK_SIZE", "simulate", "simulate_chunks", "node_rng", "draw_node", "chunk_sizes", "months_needed"]

CHUNK_SIZE = 10_000
"""Worlds per chunk. Part of the definition of a seed's numbers: changing it changes them.

A chunk is also the unit of work that runs in a worker process or on a Dask worker
(:mod:`scenarios.engine.parallel`): 10,000 worlds keep ten islands of 1,000 for resample-move and
were as fast per world as 100,000 on params/base.yaml (0.48 s against 0.67 s CPU for 100,000
worlds: smaller arrays stay in cache), so 100,000 worlds make ten pieces of work."""


def node_rng(seed: int, chunk: int, name: str) -> np.random.Generator:
    """The generator for node ``name`` in chunk ``chunk`` of a run seeded with ``seed``."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(chunk, key))))


def draw_node(model: Model, name: str, ctx: Context, seed: int, chunk: int, *, stream: str | None = None) -> np.ndarray:
    """Draw node ``name`` in the ``ctx.n`` worlds of ``ctx`` (its parents already drawn there).

    The random numbers come from ``node_rng(seed, chunk, stream)``, by default the node's own
    stream (``stream=name``); a flow is drawn for ``ctx.months`` months.  Returns shape (n,), or
    (n, months) for a flow; a constant is broadcast to (n,).
    """
    value = model.nodes[name].spec.sample(ctx, node_rng(seed, chunk, name if stream is None else stream), ctx.n)
    return np.full(ctx.n, value) if np.ndim(value) == 0 else value


def chunk_sizes(n: int, chunk_size: int) -> list[int]:
    """Worlds in each chunk of a run of ``n`` worlds: full chunks, then the rest."""
    full, rest = divmod(n, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def simulate_chunks(
    model: Model,
    n: int,
    seed: int,
    *,
    nodes: Iterable[str] | None = None,
    fixed: dict | None = None,
    months: dict | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Worlds]:
    """Simulate ``n`` worlds, yielding one :class:`Worlds` per chunk.

    Parameters
    ----------
    model : Model
    n : int
        Number of worlds, >= 1.
    seed : int
        Seed of the run.
    nodes : iterable of str, optional
        Nodes needed; only these and what they read are drawn. Default: all.
    fixed : dict, optional
        Node name -> value (scalar, or array of shape (n,) for the whole run) that replaces the
        node's draw, e.g. an observed fact.  Descendants are drawn given it.
    months : dict, optional
        Flow node name -> number of months to draw (default: the horizon).  Draws are
        month-major, so fewer months never change the months that are drawn.
    chunk_size : int
        Worlds per chunk.
    """
    needed = model.ancestors(nodes) if nodes is not None else set(model.nodes)
    order = [name for name in model.nodes if name in needed]
    fixed = fixed or {}
    months = months or {}
    start = 0
    for chunk, size in enumerate(chunk_sizes(n, chunk_size)):
        arrays: dict = {}
        ctx = Context(arrays, model.kinds, size, model)
        for name in order:
            if name in fixed:
                value = fixed[name]
                if np.ndim(value) and np.shape(value)[0] == n:
                    value = np.asarray(value)[start : start + size]
                arrays[name] = np.broadcast_to(value, (size,) + np.shape(value)[1:] if np.ndim(value) > 1 else (size,)).copy()
                continue
            ctx.months = months.get(name, model.horizon_months)
            arrays[name] = draw_node(model, name, ctx, seed, chunk)
        start += size
        yield Worlds(model, {k: arrays[k] for k in order})


def months_needed(model: Model, reads: dict) -> dict:
    """Months each flow node must be drawn for, from what the readers need.

    Parameters
    ----------
    reads : dict
        Flow node name -> last month a question reads.

    Returns
    -------
    dict
        For every flow node: the last month read directly or through a flow that depends on it
        (e.g. shells = containers * spc needs containers for as many months as shells).
    """
    need = dict(reads)
    for name in reversed(list(model.nodes)):
        if model.kinds[name].type in ("stock", "statement"):
            # they read a flow over the whole horizon (a stock's rate, a statement's running total)
            for ref in model.nodes[name].spec.refs():
                if model.kinds[ref].is_flow:
                    need[ref] = model.horizon_months
        if name not in need:
            continue
        for ref in model.nodes[name].spec.refs():
            if model.kinds[ref].is_flow:
                need[ref] = max(need.get(ref, 0), need[name])
    return {k: min(v, model.horizon_months) for k, v in need.items() if model.kinds[k].is_flow}


def simulate(model: Model, n: int, seed: int, *, nodes: Iterable[str] | None = None, fixed: dict | None = None) -> Worlds:
    """Simulate ``n`` worlds and return them all in one :class:`Worlds` (for small ``n``)."""
    parts = list(simulate_chunks(model, n, seed, nodes=nodes, fixed=fixed))
    if len(parts) == 1:
        return parts[0]
    arrays = {k: np.concatenate([p.arrays[k] for p in parts]) for k in parts[0].arrays}
    return Worlds(model, arrays)
