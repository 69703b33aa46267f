"""Sinks that keep an array per chunk of worlds with the chunk's weights.

A plan's sink (see :class:`scenarios.engine.asof.Plan`) is filled chunk by chunk: each chunk fills
a copy of it, whose :meth:`~ChunkedSink.part` (what was added, picklable) is carried back from
wherever the chunk ran and added to the plan's own sink with :meth:`~ChunkedSink.merge`, in chunk
order.  :class:`ChunkedSink` holds that for the sinks that keep one array per chunk and its
weights: the notebooks' worlds (:class:`scenarios.engine.asof.WorldsSink`), a fan chart's months
(:class:`scenarios.backtest.fans.FanStore`) and a CRPS ensemble's points
(:class:`scenarios.backtest.targets.Ensemble`).
"""

from __future__ import annotations

from .memory import SinkBytes, kept_reads_bytes

__all__ = ["ChunkedSink"]


class ChunkedSink:
    """A sink that keeps, in chunk order, an array per chunk (in the list :meth:`chunks` names)
    and the chunk's weights (``weights``).

    A subclass sets ``reads`` (node -> last month for flows, or None), defines ``add(worlds,
    weights)``, which appends to both lists, and :meth:`chunks`; and, to be kept by a chain
    store, ``key`` (what it keeps, canonical).
    """

    def __init__(self):
        self.weights: list = []

    def chunks(self) -> list:
        """The subclass's list of each chunk's array (e.g. a fan's values)."""
        raise NotImplementedError

    def part(self) -> tuple:
        """What was added (per chunk): carried back from a worker and merged by :meth:`merge` in chunk order."""
        return self.chunks(), self.weights

    def merge(self, part: tuple) -> None:
        """Add a chunk's :meth:`part`, after those of the chunks before it."""
        chunks, weights = part
        self.chunks().extend(chunks)
        self.weights.extend(weights)

    def memory_bytes(self, model, months: dict) -> SinkBytes:
        """What it reads, for every world of the run, and a weight (see :mod:`scenarios.engine.memory`)."""
        return kept_reads_bytes(model, self.reads or {})
