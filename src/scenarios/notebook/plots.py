"""Report figures and tables: draw what :mod:`scenarios.notebook.plotdata` computed.

Plot functions take data and an ``ax``, draw, and return the ``ax``; they never call
``plt.show()``.  Figures are made with :func:`figure` (``matplotlib.figure.Figure``, not pyplot,
so no GUI backend and no duplicate inline image), and :func:`show` renders a figure once,
saves it as PNG and SVG into a notebook's ``output_dir`` (atomically) and returns an object
that Jupyter displays as that PNG, with the figure's title as its alt text.  :func:`show`
refuses a figure with nothing drawn (:func:`has_data`): no blank image is ever saved.

Numbers in tables, tick labels and annotations are written by :mod:`.formatting` (one format
everywhere); what a figure shows is computed by small tested functions (:func:`tree_blocks`,
:func:`estimate_mark`, :func:`date_ticks`) apart from the drawing.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import os
import re
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..atomic import write_bytes
from ..errors import ScenarioError
from ..model.worlds import NOT_APPLICABLE_LABEL
from . import formatting

__all__ = [
    "figure",
    "fan_chart",
    "estimates",
    "EstimateMark",
    "estimate_mark",
    "flow_figure",
    "ROW_LABELS",
    "legend_columns",
    "scenario_tree",
    "TreeBlock",
    "tree_blocks",
    "event_curves",
    "event_strips",
    "colour_bar",
    "date_ticks",
    "set_date_axis",
    "grid_lines",
    "tick_label_margin",
    "show",
    "save_figure",
    "has_data",
    "figure_title",
    "link_html",
    "Shown",
    "Table",
    "DPI",
    "GUIDE",
]

DPI = 110
"""Resolution of the PNG shown in notebooks and saved next to the SVG."""

GUIDE = "guide"
"""``gid`` of artists that help read a figure but show no data (grid lines, reference lines,
colour bars): :func:`has_data` does not count them."""

_DRAW_RC = {"text.hinting": "no_hinting"}  # a third faster text rendering, no visible change at this dpi
_SVG_RC = {**_DRAW_RC, "svg.fonttype": "none", "svg.hashsalt": "scenarios"}  # text stays text; stable ids


def figure(nrows: int = 1, ncols: int = 1, *, figsize=(9, 4.8), margins=(0.75, 0.25, 0.55, 0.7),
           wspace: float = 0.25, hspace: float = 0.35, **kwargs):
    """A new figure and its axes (like ``plt.subplots``) with fixed margins.

    Parameters
    ----------
    margins : (left, right, top, bottom) in inches
        Fixed margins: constrained layout would cost more than drawing itself on many panels.
    """
    fig = Figure(figsize=figsize)
    # titles at a fixed height: automatic placement measures tick labels again on every draw
    with matplotlib.rc_context({"axes.titley": 1.0}):
        axes = fig.subplots(nrows, ncols, squeeze=(nrows == 1 and ncols == 1), **kwargs)
    w, h = figsize
    left, right, top, bottom = margins
    fig.subplots_adjust(left=left / w, right=1 - right / w, top=1 - top / h, bottom=bottom / h,
                        wspace=wspace, hspace=hspace)
    return fig, axes


def date_ticks(start, end, *, max_ticks: int = 6, one_line: bool = False) -> tuple[list, list]:
    """Month-start ticks between two dates, every 1, 2, 3, 6 or 12 months (the first step that
    gives at most ``max_ticks``), each labelled with month and year on two lines (``one_line``:
    "Oct 23").  A span with fewer than two month starts gets day ticks instead, every 1, 2, 5,
    7, 14 or 28 days, labelled "05 Sep".

    From 2023-09-05 to 2023-12-01 the ticks are 1 Oct, 1 Nov and 1 Dec 2023; from 2023-09-05
    to 2023-09-13 they are 5, 7, 9, 11 and 13 Sep.
    """
    start, end = _as_date(start), _as_date(end)
    months = (end.year - start.year) * 12 + end.month - start.month
    for step in (1, 2, 3, 6, 12, 24, 60):
        if months / step <= max_ticks:
            break
    ticks = []
    y, m = start.year, start.month
    while True:
        m += 1
        if m > 12:
            y, m = y + 1, 1
        d = _dt.date(y, m, 1)
        if d > end:
            break
        if (m - 1) % step == 0:
            ticks.append(d)
    if step == 1 and len(ticks) < 2:
        days = (end - start).days
        step_days = next((k for k in (1, 2, 5, 7, 14, 28) if days / k < max_ticks), 28)
        ticks = [start + _dt.timedelta(days=k) for k in range(0, days + 1, step_days)]
        return ticks, [f"{d:%d %b}" for d in ticks]
    return ticks, [f"{d:%b %y}" if one_line else f"{d:%b}\n{d.year}" for d in ticks]


def _as_date(x) -> _dt.date:
    if isinstance(x, _dt.datetime):
        return x.date()
    if isinstance(x, _dt.date):
        return x
    return _dt.date.fromisoformat(str(np.datetime64(x, "D")))


def set_date_axis(ax, start, end, *, max_ticks: int = 6, one_line: bool = False, inset: float = 0.0) -> list:
    """Set the x limits to ``start``..``end`` with the fixed ticks of :func:`date_ticks`;
    return the ticks (``datetime64[D]``).

    ``inset``: leave out ticks closer than this share of the span to either end (on a grid of
    small panels, so no label runs into the next panel's).  Fixed ticks, because matplotlib's
    date locators cost more than the drawing on a multi-panel figure.
    """
    start, end = _as_date(start), _as_date(end)
    ticks, labels = date_ticks(start, end, max_ticks=max_ticks, one_line=one_line)
    if inset:
        margin = max(1, round(inset * (end - start).days))
        kept = [(t, lab) for t, lab in zip(ticks, labels, strict=True)
                if (t - start).days >= margin and (end - t).days >= margin]
        ticks, labels = [t for t, _ in kept], [lab for _, lab in kept]
    xs = [np.datetime64(t, "D") for t in ticks]
    ax.set_xticks(xs, labels)
    ax.set_xlim(np.datetime64(start, "D"), np.datetime64(end, "D"))
    return xs


def fan_chart(fan, ax, *, color="C0", title: str | None = None, ylabel: str | None = None, legend: bool = False,
              date_axis: bool = True, grid: bool = True, ylim: tuple | None = None):
    """Draw a fan: nested percentile bands (outer to inner) and the median, by date.

    Parameters
    ----------
    fan : scenarios.notebook.plotdata.Fan
    ax : matplotlib Axes
    color : matplotlib colour
    title : str, optional
        Default: the fan's label and the probability of its subset of worlds.
    date_axis, grid : bool
        Set date ticks and draw grid lines (False when the caller does both for several panels).
    ylim : (low, high), optional
        Default: from 0 to just above the outer band.
    """
    levels = fan.levels
    dates = np.asarray(fan.dates, dtype="datetime64[D]")
    n_bands = len(levels) // 2
    for i in range(n_bands):
        lo, hi = fan.values[i], fan.values[len(levels) - 1 - i]
        alpha = 0.16 + 0.22 * i
        ax.fill_between(dates, lo, hi, color=color, alpha=alpha, lw=0,
                        label=f"{formatting.percent(levels[i], decimals=0)}–{formatting.percent(levels[len(levels) - 1 - i], decimals=0)}")
    if len(levels) % 2:
        ax.plot(dates, fan.values[n_bands], color=color, lw=1.8, label="median")
    ax.set_title(title if title is not None else f"{fan.label} (P = {formatting.probability(fan.probability)})",
                 fontsize=10)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(formatting.tick_formatter())
    if ylim is None:
        ylim = (0, max(float(np.nanmax(fan.values[-1])), ax.get_ylim()[1], 1e-9) * 1.04)
    ax.set_ylim(*ylim)
    if grid:
        ax.grid(alpha=0.3, lw=0.5)
    if date_axis:
        set_date_axis(ax, dates[0] - np.timedelta64(15, "D"), dates[-1])
    if legend:
        ax.legend(fontsize=8, loc="upper left")
    return ax


def tick_label_margin(chars: int, *, fontsize: float = 10.0) -> float:
    """Left margin (inches) that holds tick labels of ``chars`` characters and a y-axis label.

    >>> round(tick_label_margin(10), 2)
    1.05
    """
    return 0.42 + 0.063 * chars * fontsize / 10


def grid_lines(ax, xs, ys) -> None:
    """Light grid lines at ``xs`` and ``ys`` (data units), drawn like ``ax.grid(alpha=0.3, lw=0.5)``.

    One line collection instead of matplotlib's grid, which is part of the ticks: on a figure
    of many panels that share scales, ticks on every panel cost more than all else drawn, so
    only the outer panels get ticks and every panel gets these lines.  Call after the limits
    are set: the lines span them.
    """
    from matplotlib.collections import LineCollection

    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    xs = ax.convert_xunits(list(xs))  # dates to matplotlib's numbers, as ax.get_xlim() gives them
    segments = [[(x, y0), (x, y1)] for x in xs] + [[(x0, y), (x1, y)] for y in ys]
    ax.add_collection(LineCollection(segments, colors=matplotlib.rcParams["grid.color"], alpha=0.3,
                                     linewidths=0.5, zorder=1.5, gid=GUIDE), autolim=False)


_ESTIMATE_LEGEND = {"o": "estimate (bar: low–high)", "^": "lower bound ('more than')", "v": "upper bound ('up to')",
                    "hollow": "hollow: baseline before as-of"}


@dataclass(frozen=True)
class EstimateMark:
    """How one reported estimate is drawn: ``marker`` at height ``y`` with a bar from
    ``y - below`` to ``y + above`` (both 0 for a bound)."""

    marker: str
    y: float
    below: float
    above: float


def estimate_mark(value, low, high) -> EstimateMark:
    """How to draw an estimate given as a value and/or a low and high end (None where not given).

    "More than X" (a lower bound alone, or a value no higher than it) is an upward triangle
    ``^`` at X; "up to X" (an upper bound alone, or a value no lower than it) a downward one
    ``v``; anything else a dot ``o`` at the value (the geometric middle of the range when there
    is no value) with a bar over the range given.

    >>> estimate_mark(None, 1000, None), estimate_mark(2.0, 1.0, 4.0)
    (EstimateMark(marker='^', y=1000.0, below=0.0, above=0.0), EstimateMark(marker='o', y=2.0, below=1.0, above=2.0))
    >>> estimate_mark(None, 1.0, 4.0), estimate_mark(5.0, None, 5.0)
    (EstimateMark(marker='o', y=2.0, below=1.0, above=2.0), EstimateMark(marker='v', y=5.0, below=0.0, above=0.0))
    """
    if value is None and low is None and high is None:
        raise ValueError("estimate_mark: an estimate needs a value, a low or a high end")
    if high is None and low is not None and (value is None or value <= low):
        return EstimateMark("^", float(low), 0.0, 0.0)
    if low is None and high is not None and (value is None or value >= high):
        return EstimateMark("v", float(high), 0.0, 0.0)
    if value is not None:
        y = float(value)
    elif low > 0:  # both ends, no value: the middle on a ratio scale
        y = float(np.sqrt(low * high))
    else:
        y = (low + high) / 2
    lo = y if low is None else float(low)
    hi = y if high is None else float(high)
    return EstimateMark("o", y, max(y - lo, 0.0), max(hi - y, 0.0))


def estimates(points, ax, *, as_of: _dt.date | None = None, label: bool = True):
    """Draw dated real-world estimates as black points with their low/high ranges.

    A value (or a low–high range) is a dot with a bar; "more than X" (a lower bound only) an
    upward triangle; "up to X" (an upper bound only) a downward one.  Estimates whose baseline
    starts more than 60 days before ``as_of`` (they also count earlier shipments) are hollow.
    """
    legend = _ESTIMATE_LEGEND
    groups: dict = {}
    for e in points:
        mark = estimate_mark(e.value, e.low, e.high)
        early = as_of is not None and e.baseline_date is not None and (as_of - e.baseline_date).days > 60
        g = groups.setdefault((mark.marker, early), ([], [], [], []))
        g[0].append(np.datetime64(e.date, "D"))
        g[1].append(mark.y)
        g[2].append(mark.below)
        g[3].append(mark.above)
    seen = set()
    for (marker, early), (xs, ys, below, above) in groups.items():  # one call per style: errorbar is slow
        lab = legend[marker] if (label and marker not in seen) else None
        seen.add(marker)
        style = {"ms": 5.5, "color": "black", "mfc": "white" if early else "black", "zorder": 5, "label": lab}
        if marker == "o":
            ax.errorbar(xs, ys, yerr=[below, above], fmt=marker, capsize=2.5, lw=1, **style)
        else:  # a bound has no range to draw: a marker is enough, and a plain line is much cheaper
            ax.plot(xs, ys, marker, ls="none", **style)
    if label and any(early for _, early in groups):
        ax.plot([], [], "o", color="black", mfc="white", ms=5.5, label=legend["hollow"])
    return ax


ROW_LABELS = {"flow": ("per month", "running total"), "stock": ("change per month", "level")}
"""What the two rows of :func:`flow_figure` show, by the kind of node charted (after the unit)."""


def flow_figure(monthly, cumulative, points=(), *, title: str = "", unit: str = "", color="C0", as_of=None,
                kind: str = "flow"):
    """Fan charts of one flow or stock, for all worlds and for each value of the node splitting
    it, with real estimates on the bottom row.

    A flow: its count in each month (top row) and its running total (bottom row, from its
    ``initial:`` level).  A stock: its net change in each month (top row) and its level at each
    month end (bottom row).  Each row has one scale, holding every panel's outer band and every
    estimate (from 0, or lower when a band goes below 0); dates are read on the bottom row,
    counts on the left column, and grid lines run through every panel.

    Parameters
    ----------
    monthly, cumulative : list of Fan
        Same subsets in the same order (all worlds first):
        :func:`scenarios.notebook.plotdata.flow_fans` without and with ``cumulative``.
    points : list of Estimate
        Real dated estimates of the running total (a stock: of its level), drawn on every
        bottom panel.
    kind : str
        ``"flow"`` or ``"stock"`` (:data:`ROW_LABELS`: the rows' axis labels).
    """
    from matplotlib.ticker import MaxNLocator

    if kind not in ROW_LABELS:
        raise ScenarioError(f"flow_figure: kind must be one of {sorted(ROW_LABELS)}, got {kind!r}")
    ncols = len(monthly)
    tops = [max(float(np.nanmax(f.values[-1])) for f in fans) for fans in (monthly, cumulative)]
    bottoms = [min(0.0, min(float(np.nanmin(f.values[0])) for f in fans)) for fans in (monthly, cumulative)]
    if len(points):
        tops[1] = max(tops[1], max(max(e.point, e.high or 0, e.low or 0) for e in points))
    tops = [max(t, 1e-9) * 1.05 for t in tops]
    bottoms = [b * 1.05 for b in bottoms]
    # counts: whole-number ticks once the scale allows (no "1.5 launches")
    row_ticks = [[y for y in MaxNLocator(nbins=5, integer=t - b >= 4).tick_values(b, t) if b <= y <= t]
                 for b, t in zip(bottoms, tops, strict=True)]
    # room on the left for the widest tick label ("16,000,000") and the axis label beside it
    widest = max(len(formatting.number(y)) for ticks in row_ticks for y in ticks)
    width = 3.1 * ncols + 0.9
    fig, axes = figure(2, ncols, figsize=(width, 6.6), margins=(tick_label_margin(widest), 0.2, 0.6, 1.05),
                       wspace=0.08, hspace=0.1)
    axes = np.asarray(axes).reshape(2, ncols)
    first, last = monthly[0].dates[0], monthly[0].dates[-1]
    if len(points):
        first, last = min(first, min(e.date for e in points)), max(last, max(e.date for e in points))
    first, last = first - _dt.timedelta(days=15), last + _dt.timedelta(days=15)
    # narrow panels: a labelled tick a year at most, grid lines every half year or so
    ticks, labels = date_ticks(first, last, max_ticks=3)
    xticks = [np.datetime64(t, "D") for t in ticks]
    xgrid = [np.datetime64(t, "D") for t in date_ticks(first, last)[0]]
    xlim = (np.datetime64(first, "D"), np.datetime64(last, "D"))
    top_label, bottom_label = ROW_LABELS[kind]
    rows = ((monthly, f"{unit} {top_label}" if kind == "flow" else f"{unit}, {top_label}"),
            (cumulative, f"{unit}, {bottom_label}"))
    for row, (fans, ylabel) in enumerate(rows):
        yticks = row_ticks[row]
        for j, (f, ax) in enumerate(zip(fans, axes[row], strict=True)):
            fan_chart(f, ax, color=color, title=None if row == 0 else "", ylabel=ylabel if j == 0 else None,
                      date_axis=False, grid=False, ylim=(bottoms[row], tops[row]))
            if row == 1 and len(points):
                estimates(points, ax, as_of=as_of, label=(j == 0))
            ax.set_xlim(*xlim)
            ax.set_xticks(xticks if row == 1 else [], labels if row == 1 else [])
            ax.set_yticks(yticks if j == 0 else [])
            grid_lines(ax, xgrid, yticks)
    handles, labels = axes[1, 0].get_legend_handles_labels()
    order = list(_ESTIMATE_LEGEND.values())  # fan bands and median first, then the estimates' markers
    pairs = sorted(zip(handles, labels), key=lambda hl: order.index(hl[1]) + 1 if hl[1] in order else 0)
    handles, labels = [h for h, _ in pairs], [lab for _, lab in pairs]
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0),
               ncol=legend_columns(labels, width), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=12)
    return fig


def legend_columns(labels, width: float, *, max_columns: int = 7) -> int:
    """Columns of a one- or two-row legend of ``labels`` (fontsize 8) across ``width`` inches:
    all in one row when they fit, else in two rows (a narrow figure, e.g. a chart split by a
    node that takes one value, cuts a one-row legend off at both sides).

    >>> legend_columns(["median", "5%–95%"], 7.0), legend_columns(["hollow: baseline before as-of"] * 6, 7.0)
    (2, 3)
    """
    n = len(labels)
    needed = sum(0.5 + 0.056 * len(str(label)) for label in labels)  # marker, padding, text
    return max(1, min(max_columns, n if needed <= width else -(-n // 2)))


_PALETTE = ("#4C72B0", "#55A868", "#C44E52", "#8172B3", "#CCB974", "#64B5CD", "#DD8452", "#937860",
            "#DA8BC3", "#2F8F83", "#A05195", "#F0A04B", "#6B8E23", "#B0B7E0")


_SMALL_COLOUR = "#DDDDDD"  # blocks merged because each branch in them is too thin to label
_VOID_COLOUR = "#BBBBBB"  # "no", "never", "none", "n/a"
_VOID_VALUES = ("no", "never", "none", NOT_APPLICABLE_LABEL)
"""Tree values drawn grey: nothing happens, or the level does not apply (a node outside its ``when:``)."""


@dataclass(frozen=True)
class TreeBlock:
    """One block of the drawn scenario tree (see :func:`tree_blocks`).

    Attributes
    ----------
    level : int
        Column the block starts in (index into ``Tree.levels``).
    end : int
        Column after the last one it spans: ``level + 1`` for a branch, the number of levels
        for merged thin branches (their sub-branches are not drawn separately).
    top : float
        Probability above the block (0 at the top of the figure).
    probability : float
        Height: the joint probability of the branch (or of the merged branches).
    conditional : float
        Probability given the parent branch (summed over merged branches).
    label : str or None
        The branch's value, the merged values ("2 others" when their names are long), or None
        when the block is too thin to label.
    merged : int
        0 for a branch drawn on its own, else how many thin sibling branches the block holds.
    parent : tuple of str
        Path of the parent branch (``()`` for the first column).
    """

    level: int
    end: int
    top: float
    probability: float
    conditional: float
    label: str | None
    merged: int = 0
    parent: tuple = ()


def tree_blocks(tree, *, min_label: float = 0.025) -> list[TreeBlock]:
    """What :func:`scenario_tree` draws: one block per branch of at least ``min_label``, and the
    thin branches of each parent merged into one block after their wider siblings.

    A merged block spans to the last column (the thin branches' own sub-branches would be
    thinner still); it is labelled, with the merged values, when the merged probability
    reaches ``min_label``, and unlabelled otherwise.  So a parent has at most one unlabelled
    block among its children and no column repeats unlabelled slivers.  The blocks under a
    parent fill its height exactly.

    Parameters
    ----------
    tree : scenarios.notebook.plotdata.Tree
    min_label : float
        Smallest probability a block needs to be drawn on its own and labelled.

    Returns
    -------
    list of TreeBlock, parents before their children, top to bottom within a parent.
    """
    children: dict = {}
    for b in tree.branches:
        children.setdefault(tuple(b.path[:-1]), []).append(b)
    n_levels = len(tree.levels)
    blocks: list[TreeBlock] = []

    def place(parent: tuple, top: float) -> None:
        kids = children.get(parent, [])
        small = [b for b in kids if b.probability < min_label]
        for b in kids:
            if b.probability >= min_label:
                blocks.append(TreeBlock(b.level, b.level + 1, top, b.probability, b.conditional, b.label, 0, parent))
                place(tuple(b.path), top)
                top += b.probability
        if small:
            p = sum(b.probability for b in small)
            names = ", ".join(str(b.label) for b in small)
            label = None if p < min_label else (names if len(names) <= 28 else f"{len(small)} others")
            blocks.append(TreeBlock(min(b.level for b in small), n_levels, top, p,
                                    sum(b.conditional for b in small), label, len(small), parent))

    place((), 0.0)
    return blocks


def scenario_tree(tree, ax, *, min_label: float = 0.025,
                  title: str = "Scenario tree: each block's height is its probability; grey: thin branches merged"):
    """Draw a scenario tree as an icicle: one column per level, each branch a block whose
    height is its probability, labelled with its value, its probability overall and its
    probability given the branch to its left ("of its branch").

    Branches thinner than ``min_label`` are merged into one grey block per parent
    (:func:`tree_blocks`), labelled when the merged block is tall enough.

    Parameters
    ----------
    tree : scenarios.notebook.plotdata.Tree
    min_label : float
        Branches smaller than this are merged (see :func:`tree_blocks`).
    title : str
        Drawn above the level names.
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    colours: dict = {}
    rects, faces = [], []
    for b in tree_blocks(tree, min_label=min_label):
        if b.merged:
            colour = _SMALL_COLOUR
        else:
            key = (b.level, b.label)
            if key not in colours:  # each value of each level its own colour; "no"/"never"/"n/a" grey
                n = sum(1 for c in colours.values() if c != _VOID_COLOUR)
                colours[key] = _VOID_COLOUR if b.label in _VOID_VALUES else _PALETTE[n % len(_PALETTE)]
            colour = colours[key]
        y0 = 1.0 - b.top - b.probability
        rects.append(Rectangle((b.level + 0.03, y0), b.end - b.level - 0.06, b.probability))
        faces.append(colour)
        if b.label is None:
            continue
        p = formatting.percent(b.probability)
        if b.merged:
            text = f"{b.label}  {p}"
        elif b.level == 0 or b.conditional > 0.999:
            text = f"{b.label}\n{p}" if b.probability >= 2.2 * min_label else f"{b.label}  {p}"
        else:
            cond = formatting.percent(b.conditional, decimals=0)
            text = f"{b.label}\n{p} · {cond} of its branch" if b.probability >= 2.2 * min_label else f"{b.label}  {p}"
        ax.text(b.level + 0.08, y0 + b.probability / 2, text, va="center", ha="left", fontsize=8)
    # one collection: a patch per block costs a draw call each
    ax.add_collection(PatchCollection(rects, facecolors=faces, edgecolors="white", linewidths=0.8, alpha=0.85))
    ax.set_xlim(0, len(tree.levels))
    ax.set_ylim(0, 1)
    ax.set_xticks([i + 0.5 for i in range(len(tree.levels))], [f"{t}?" for t in tree.levels], fontsize=10)
    ax.xaxis.tick_top()
    ax.tick_params(axis="x", length=0)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["100%", "75%", "50%", "25%", "0%"])
    ax.set_ylabel("cumulative probability (top to bottom)")
    if title:
        ax.set_title(title, fontsize=11, pad=22)
    for side in ("right", "bottom", "top"):
        ax.spines[side].set_visible(False)
    return ax


def event_curves(curves, ax, *, title: str = "Probability that each event has happened by date", prior=None,
                 as_of=None):
    """Probability-by-date curves of events, one line each; the legend gives the probability
    within the horizon and the median date.  ``prior`` (curves of the same events, e.g. the
    model's prior when ``curves`` are as of a later date) are drawn dashed in the same colours,
    and ``as_of`` as a dotted vertical line."""
    prior = {c.name: c for c in prior or ()}
    for i, c in enumerate(curves):
        med = f", median {c.median:%d %b %Y}" if c.median else ""
        ax.plot(c.dates, c.probability, drawstyle="steps-post", lw=1.6, color=f"C{i % 10}",
                label=f"{c.name} (P {formatting.probability(1 - c.p_never)}{med})")
        if c.name in prior:
            ax.plot(prior[c.name].dates, prior[c.name].probability, drawstyle="steps-post", lw=1.0, ls="--",
                    color=f"C{i % 10}", alpha=0.7)
    if prior:
        ax.plot([], [], ls="--", lw=1.0, color="0.4", label="dashed: the model's prior")
    if as_of is not None:
        ax.axvline(np.datetime64(as_of, "D"), color="0.3", lw=0.9, ls=":", gid=GUIDE)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("P(happened by date)")
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3, lw=0.5)
    if curves:
        set_date_axis(ax, curves[0].dates[0], curves[0].dates[-1])
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def event_strips(curves, ax, *, title: str = "Every event: probability that it has happened by date"):
    """All events at once: one row per event, shaded by P(happened by date) (white 0, dark 1,
    read on the colour bar at the right), with a tick at the median date; each label ends with
    P(within the horizon)."""
    if not curves:
        ax.set_axis_off()
        return ax
    grid = np.vstack([c.probability for c in curves])
    dates = curves[0].dates
    x0, x1 = np.datetime64(dates[0], "D"), np.datetime64(dates[-1], "D")
    from matplotlib.dates import date2num

    extent = (date2num(x0), date2num(x1), len(curves) - 0.5, -0.5)
    # "none": SVG embeds the grid at its own size (one pixel per day and event) instead of resampling it
    image = ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0, vmax=1, extent=extent, interpolation="none")
    medians = [(np.datetime64(c.median, "D"), i) for i, c in enumerate(curves) if c.median is not None]
    if medians:
        ax.plot([m for m, _ in medians], [i for _, i in medians], ls="none", marker="|", color="black", ms=9, mew=1.5)
    ax.set_yticks(range(len(curves)), [f"{c.name}  {formatting.probability(1 - c.p_never)}" for c in curves], fontsize=7)
    ax.set_title(title + " (label: P within the horizon; |: median date)", fontsize=10)
    set_date_axis(ax, dates[0], dates[-1])
    colour_bar(image, ax, label="P(happened by date)")
    return ax


def colour_bar(mappable, ax, *, label: str, ticks=(0, 0.25, 0.5, 0.75, 1.0)):
    """A labelled colour bar at the right of ``ax`` (taking a slice of its width); return its axes.

    Its axes are marked :data:`GUIDE`: a colour bar alone is not data (:func:`has_data`).
    """
    bar = ax.figure.colorbar(mappable, ax=ax, fraction=0.025, pad=0.015, aspect=30, ticks=list(ticks))
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    bar.ax.yaxis.set_major_formatter(formatting.tick_formatter())
    bar.ax.set_gid(GUIDE)
    return bar.ax


class Shown:
    """A rendered figure: Jupyter displays the PNG (with the title as its ``alt`` metadata);
    ``paths`` lists the files saved and ``title`` is the figure's title (for alt text)."""

    def __init__(self, name: str, png: bytes, paths: list, title: str = ""):
        self.name = name
        self.png = png
        self.paths = paths
        self.title = title

    def _repr_png_(self):
        # (data, metadata): the notebook keeps the title in the output's image/png metadata
        return self.png, {"alt": self.title}

    def __repr__(self) -> str:
        return f"<figure {self.name}: {', '.join(self.paths) or 'not saved'}>"


def _finite_any(xy) -> bool:
    try:
        a = np.asarray(xy, dtype=float)
    except (TypeError, ValueError):  # unconverted units: there is something
        return np.size(xy) > 0
    return bool(a.size) and bool(np.isfinite(a).all(axis=-1).any() if a.ndim == 2 else np.isfinite(a).any())


def _shows_data(artist) -> bool:
    """Whether one artist of an axes draws data (not a guide, not empty, not invisible)."""
    from matplotlib.collections import Collection
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D

    if not artist.get_visible() or artist.get_gid() == GUIDE:
        return False
    if isinstance(artist, Line2D):
        return _finite_any(artist.get_xydata())
    if isinstance(artist, Collection):
        # paths in data units (bands, segments) or one marker shape placed at each offset
        # (scatter); a collection without offsets reports a single (0, 0)
        return (any(len(p.vertices) and _finite_any(p.vertices) for p in artist.get_paths())
                and _finite_any(artist.get_offsets()))
    if isinstance(artist, AxesImage):
        return artist.get_array() is not None and np.size(artist.get_array()) > 0
    return True  # a patch (bar, block, step) is data


def has_data(fig) -> bool:
    """Whether any visible axes of ``fig`` draws data: a line with a finite point, a non-empty
    collection (bands, markers, error bars), a patch or an image.

    Titles, labels, legends, ticks and artists marked :data:`GUIDE` (grid lines, reference
    lines, colour bars) are not data: a figure of only those is blank.
    """
    for ax in fig.axes:
        if not ax.get_visible() or ax.get_gid() == GUIDE:
            continue
        for group in (ax.lines, ax.collections, ax.patches, ax.images):
            if any(_shows_data(a) for a in group):
                return True
    return False


def figure_title(fig) -> str:
    """The figure's title: its suptitle, else the first visible axes' title (centre, left or
    right), else ""; line breaks become spaces."""
    texts = [fig.get_suptitle()]
    for ax in fig.axes:
        if ax.get_visible() and ax.get_gid() != GUIDE:
            texts += [ax.get_title(loc) for loc in ("center", "left", "right")]
    return next((" ".join(t.split()) for t in texts if t and t.strip()), "")


def save_figure(fig, name: str, output_dir: str, *, dpi: int = DPI, title: str = "") -> list:
    """Save ``fig`` as ``output_dir/name.png`` and ``.svg`` (atomically); return the paths."""
    return show(fig, name, output_dir, dpi=dpi, title=title).paths


def show(fig, name: str, output_dir: str = "", *, dpi: int = DPI, title: str = "") -> Shown:
    """Render ``fig`` once as PNG (displayed by Jupyter) and, when ``output_dir`` is set, save
    it there as ``name.png`` and ``name.svg``.

    Parameters
    ----------
    fig : matplotlib Figure
        Must draw something (:func:`has_data`): a blank figure is an error, never an image.
    name : str
        File stem, letters, digits, ``_`` and ``-`` only.
    output_dir : str
        Folder for the files; "" saves nothing (an analyst's interactive session).
    title : str
        The figure's title for alt text; default :func:`figure_title`, else ``name`` in words.
        Recorded as the PNG's ``Title`` text chunk, the SVG's ``<title>``, ``Shown.title`` and
        the ``alt`` metadata of the notebook output.

    Raises
    ------
    ScenarioError
        A bad name, or a figure with nothing drawn (nothing is saved).
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name or ""):
        raise ScenarioError(f"figure name must be letters, digits, '_' or '-', got {name!r}")
    if not has_data(fig):
        raise ScenarioError(f"figure {name!r} has nothing drawn (no line, band, marker, block or image "
                            "with data in any panel); not saving a blank image: check the data given to it")
    title = title or figure_title(fig) or name.replace("_", " ").replace("-", " ")
    buf = io.BytesIO()
    # zlib level 3: a third faster to encode than the default 6, files ~15% larger
    with matplotlib.rc_context(_DRAW_RC):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None, "Title": title},
                    pil_kwargs={"compress_level": 3})
    png = buf.getvalue()
    paths = []
    if output_dir:
        os.makedirs(output_dir, exist_ok=True)
        png_path = os.path.join(output_dir, name + ".png")
        write_bytes(png_path, png)
        svg = io.BytesIO()
        with matplotlib.rc_context(_SVG_RC):
            fig.savefig(svg, format="svg", metadata={"Date": None, "Title": title})
        svg_path = os.path.join(output_dir, name + ".svg")
        write_bytes(svg_path, svg.getvalue())
        paths = [png_path, svg_path]
    return Shown(name, png, paths, title)


# A URL in raw text: up to whitespace, quotes or angle brackets; trailing punctuation of the
# sentence around it is cut off below.
_URL = re.compile(r"https?://[^\s<>\"'`]+")
_TRAILING = ".,;:!?"


def _split_url(url: str) -> tuple[str, str]:
    """(url, trailing text that belongs to the sentence, not the URL)."""
    end = len(url)
    while end:
        c = url[end - 1]
        if c in _TRAILING:
            end -= 1
        elif c == ")" and url[:end].count("(") < url[:end].count(")"):
            end -= 1
        elif c == "]" and url[:end].count("[") < url[:end].count("]"):
            end -= 1
        else:
            break
    return url[:end], url[end:]


def link_html(text) -> str:
    """``text`` as HTML with every http(s) URL a link: URLs are found in the raw text, then the
    text and the ``href`` are escaped, so ``&`` and ``;`` in a URL stay part of it (``&``
    becomes ``&amp;`` in the attribute and the link still points at the same URL).

    >>> link_html("see https://a.org/x?l=e&s=1; or <b>")
    'see <a href="https://a.org/x?l=e&amp;s=1">https://a.org/x?l=e&amp;s=1</a>; or &lt;b&gt;'
    """
    text = str(text)
    out, pos = [], 0
    for m in _URL.finditer(text):
        url, rest = _split_url(m.group(0))
        if not url.split("://", 1)[1]:
            continue
        out.append(html.escape(text[pos:m.start()]))
        escaped = html.escape(url, quote=True)
        out.append(f'<a href="{escaped}">{escaped}</a>{html.escape(rest)}')
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


class Table:
    """Rows of dicts shown as an HTML table in Jupyter (URLs become links) and as text elsewhere.

    Parameters
    ----------
    rows : list of dict
    columns : list of str, optional
        Default: the keys of the first row.
    title : str, optional
    """

    def __init__(self, rows, columns=None, *, title: str | None = None):
        self.rows = list(rows)
        self.columns = list(columns) if columns is not None else (list(self.rows[0]) if self.rows else [])
        self.title = title

    def __len__(self) -> int:
        return len(self.rows)

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{link_html(formatting.cell(r.get(c)))}</td>" for c in self.columns)
            + "</tr>"
            for r in self.rows
        )
        caption = f"<caption style='text-align:left;font-weight:bold'>{html.escape(self.title)}</caption>" if self.title else ""
        return f"<table class='scenarios-table'>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        cells = [{c: formatting.cell(r.get(c)) for c in self.columns} for r in self.rows]
        widths = {c: min(60, max([len(c)] + [len(r[c]) for r in cells])) for c in self.columns}
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.ljust(widths[c]) for c in self.columns))
        for r in cells:
            lines.append("  ".join(formatting.shorten(r[c], widths[c]).ljust(widths[c]) for c in self.columns))
        return "\n".join(lines)
