"""Tornado charts: what moves a forecast, from :func:`scenarios.engine.sensitivity.run_sensitivity`.

One horizontal bar per parameter, largest swing at the top, from the baseline forecast (a
vertical line) to the forecast with the parameter held at its 5% value (blue) and at its 95%
value (red); each row is labelled with the parameter and its 5%–95% values.  What is drawn is
computed by :func:`tornado_bars`; :func:`tornado` draws it on an ``ax``, and
:func:`tornado_figure` makes a figure sized for the rows, for :func:`scenarios.notebook.plots.show`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..engine.sensitivity import LEVELS, Sensitivity
from . import formatting, plots

__all__ = ["LOW_COLOUR", "HIGH_COLOUR", "TornadoBar", "tornado_bars", "tornado", "tornado_figure", "summary_rows", "most_moved"]

LOW_COLOUR = "#4C72B0"
"""The bar of a parameter held at its 5% value."""
HIGH_COLOUR = "#C44E52"
"""The bar of a parameter held at its 95% value."""


@dataclass(frozen=True)
class TornadoBar:
    """One row of a tornado chart.

    Attributes
    ----------
    parameter : str
        The node.
    values : str
        Its 5% and 95% values, e.g. ``0.612 – 0.939``.
    at_low, at_high : float
        The forecast with the parameter held at its 5% / 95% value (NaN: not drawn).
    """

    parameter: str
    values: str
    at_low: float
    at_high: float

    @property
    def label(self) -> str:
        """The row's label: the parameter, and its values on a second line."""
        return f"{self.parameter}\n{self.values}"


def tornado_bars(result: Sensitivity, *, top: int | None = None) -> list[TornadoBar]:
    """The rows of ``result``'s tornado chart, largest swing first (at most ``top`` of them).

    >>> from scenarios.engine.sensitivity import Row, Sensitivity
    >>> row = Row("p", 0.1, 0.9, 0.12, 0.88, 0.76, 0.004, 0.5, 0.01)
    >>> result = Sensitivity("q", "q", "binary", "probability", 0.5, 0.004, (row,), 1000, 1, 20)
    >>> tornado_bars(result)
    [TornadoBar(parameter='p', values='0.1 – 0.9', at_low=0.12, at_high=0.88)]
    """
    rows = result.rows if top is None else result.rows[: max(0, top)]
    return [TornadoBar(r.parameter, formatting.number_range(r.low, r.high), r.at_low, r.at_high) for r in rows]


def tornado(result: Sensitivity, ax, *, top: int | None = None, title: str | None = None):
    """Draw ``result`` as a tornado chart on ``ax``; return ``ax``.

    Parameters
    ----------
    result : Sensitivity
    ax : matplotlib Axes
    top : int, optional
        Draw only the parameters with the ``top`` largest swings.
    title : str, optional
        Default: the question's text, shortened.
    """
    bars = tornado_bars(result, top=top)
    base = result.baseline
    label_low, label_high = f"at its {LEVELS[0]:.0%} value", f"at its {LEVELS[1]:.0%} value"
    labelled: set = set()
    for y, bar in enumerate(bars):
        ends = [(bar.at_low, LOW_COLOUR, label_low), (bar.at_high, HIGH_COLOUR, label_high)]
        # the longer bar first, so a shorter one on the same side of the baseline stays visible
        ends.sort(key=lambda e: -abs(e[0] - base) if math.isfinite(e[0]) else 0.0)
        for value, colour, label in ends:
            if math.isfinite(value) and math.isfinite(base):
                ax.barh(y, value - base, left=base, height=0.6, color=colour,
                        label=None if label in labelled else label)
                labelled.add(label)
    if math.isfinite(base):
        ax.axvline(base, color="black", lw=1, zorder=3, gid=plots.GUIDE,
                   label=f"baseline {formatting.number(base)}")
    ax.set_yticks(range(len(bars)), [b.label for b in bars], fontsize=9)
    if bars:
        ax.set_ylim(len(bars) - 0.5, -0.5)  # largest swing at the top
    else:
        ax.text(0.5, 0.5, "no uncertain parameter", transform=ax.transAxes, ha="center", va="center")
    ax.xaxis.set_major_formatter(formatting.tick_formatter())
    ax.set_xlabel("probability" if result.statistic == "probability" else f"mean of {result.question}")
    ax.grid(axis="x", alpha=0.3, lw=0.5)
    ax.set_axisbelow(True)
    ax.set_title(formatting.shorten(result.text, 80) if title is None else title, fontsize=10)
    if bars:  # at the right of the axes, clear of the bars (tornado_figure leaves room for it)
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: (labels[i] == label_high, labels[i] == label_low))
        ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), frameon=False, title="parameter held", title_fontsize=8,
                  alignment="left")
    return ax


def tornado_figure(result: Sensitivity, *, top: int | None = 12):
    """A figure holding :func:`tornado` of ``result``, its height set by the number of rows."""
    bars = tornado_bars(result, top=top)
    height = 1.3 + 0.5 * max(1, len(bars))
    widest = max([len(b.parameter) for b in bars] + [len(b.values) for b in bars] + [8])
    left = 0.3 + widest * 0.6 * 9 / 72  # labels of 9 points, about 0.6 of a point a character
    fig, ax = plots.figure(figsize=(9, height), margins=(left, 1.5, 0.45, 0.6))
    tornado(result, ax, top=top)
    return fig


def summary_rows(results: list, *, top: int = 3) -> list[dict]:
    """One row per question: its baseline forecast and the ``top`` parameters that move it most,
    each with its forecast at its 5% and 95% values, and its importance (first-order Sobol index)."""
    rows = []
    for r in results:
        moves = "; ".join(
            f"{row.parameter} {formatting.number(row.at_low)} → {formatting.number(row.at_high)} "
            f"(importance {formatting.probability(row.importance)})"
            for row in r.rows[:top]
        )
        rows.append({"question": r.question, "baseline": formatting.number(r.baseline),
                     "what moves it most (forecast at the parameter's 5% → 95%)": moves or "no uncertain parameter"})
    return rows


def most_moved(results: list, n: int) -> list:
    """The ``n`` results whose largest swing is largest (those worth a tornado chart), largest first."""
    ranked = [r for r in results if r.rows]
    return sorted(ranked, key=lambda r: -max(row.swing for row in r.rows))[:n]
