"""Figures and tables of a backtest (notebooks/03_backtest.ipynb).

Drawing functions take data from :mod:`scenarios.backtest` and a matplotlib ``ax``, draw, and
return the ``ax``; they never call ``plt.show()``.  What they show is computed by the ``*_rows``
and ``*_data`` functions here or in :mod:`scenarios.backtest`, which are plain data and tested.
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np
from matplotlib.ticker import MaxNLocator

from . import formatting, plots

__all__ = [
    "reliability_diagram",
    "brier_by_date",
    "forecast_path",
    "path_grid",
    "calibration_figure",
    "fan_overlay",
    "fan_grid",
    "pick_fans",
    "FAN_COLOURS",
    "overview_rows",
    "question_rows",
    "numeric_rows",
    "dates_skipped",
    "date_question_rows",
    "date_forest_data",
    "date_forest",
    "date_figure",
]

BASELINE_STYLES = {
    "brier": ("model with evidence", "C0", "-"),
    "brier_no_evidence": ("model, no evidence", "C1", "--"),
    "brier_base_rate": ("base rate (hindsight)", "C2", ":"),
    "brier_always_0.5": ("always 0.5", "0.45", "-."),
}


def _dates(values) -> np.ndarray:
    return np.asarray([np.datetime64(d, "D") for d in values])


# --------------------------------------------------------------------------- tables


def _f(x) -> str:
    return formatting.number(x)


def _p(x) -> str:
    """A probability or Brier score to three decimals, so a column of them lines up."""
    return formatting.probability(x, decimals=3)


def _d(x) -> str:
    """A difference of scores, signed, to three decimals."""
    return formatting.signed(x, decimals=3)


def _day(x) -> str:
    """A date (or a date's text) for a table; ``–`` when there is none."""
    return formatting.MISSING if x is None else str(x)


def overview_rows(summary: dict) -> list:
    """Overall scores: one row per forecaster (the model and each baseline)."""
    o = summary["overall"]
    if o is None:
        return []

    def ci(x):
        return f"{_p(x['mean'])} [{_p(x['low'])}, {_p(x['high'])}]"

    rows = [{
        "forecaster": "model with evidence", "Brier at open": ci(o["brier_open"]),
        "Brier, time-averaged": ci(o["brier_time_averaged"]), "skill (time-averaged)": "",
        "difference vs model": "",
    }]
    recal = (summary.get("recalibrated") or {}).get("overall")
    if recal:  # beside the raw model, never instead of it (see docs/backtest.md)
        d = recal["difference_raw_minus_recalibrated_time_averaged"]
        rows.append({
            "forecaster": "model, recalibrated on its track record", "Brier at open": ci(recal["brier_open"]),
            "Brier, time-averaged": ci(recal["brier_time_averaged"]), "skill (time-averaged)": "",
            "difference vs model": f"{_d(d['mean'])} [{_d(d['low'])}, {_d(d['high'])}]",
        })
    names = {"always_0.5": "always 0.5", "base_rate": f"base rate {formatting.probability(o['base_rate'])} (hindsight)",
             "no_evidence": "model, no evidence"}
    for key, label in names.items():
        b = o["baselines"][key]
        d = b["difference_time_averaged"]
        rows.append({
            "forecaster": label, "Brier at open": _p(b["brier"]), "Brier, time-averaged": _p(b["brier"]),
            "skill (time-averaged)": "" if b["skill_time_averaged"] is None else _d(b["skill_time_averaged"]),
            "difference vs model": f"{_d(d['mean'])} [{_d(d['low'])}, {_d(d['high'])}]",
        })
    return rows


def question_rows(summary: dict) -> list:
    """Per-question scores, worst time-averaged Brier first."""
    qs = sorted(summary["questions"], key=lambda q: -q["brier_time_averaged"])
    return [{
        "question": q["id"], "outcome": "yes" if q["outcome"] else "no", "open": _day(q["open"]),
        "resolved": _day(q["resolved_on"]),
        "forecast at open": _p(q["forecast_open"]), "last forecast": _p(q["forecast_last"]),
        "no evidence": _p(q["no_evidence_forecast"]), "Brier at open": _p(q["brier_open"]),
        "Brier, time-averaged": _p(q["brier_time_averaged"]), "forecasts": q["n_forecasts"],
    } for q in qs]


def numeric_rows(summary: dict) -> list:
    """CRPS per reported estimate, relative to the estimate (lower is better)."""
    return [{
        "estimate": t["id"], "quantity": t["quantity"], "value": formatting.number(t["estimate"]),
        "public": _day(t["public_on"]), "forecasts": t["n_forecasts"],
        "CRPS / value, first": _f(t["crps_relative_first"]), "CRPS / value, last before": _f(t["crps_relative_last"]),
        "CRPS / value, no evidence": _f(t["no_evidence_crps_relative"]),
    } for t in summary["numeric"]["targets"]]


def dates_skipped(summary: dict | None) -> str:
    """Why there are no date scores ("" when there are): no date question has a dated
    resolution, or none was open at an as-of date."""
    dates = (summary or {}).get("dates") or {}
    if dates.get("questions"):
        return ""
    never = dates.get("resolved_never_open") or []
    if never:
        return (f"the date question(s) with a dated resolution ({', '.join(never)}) were never open at an as-of date, "
                "so no date forecast is scored.")
    return ("the model has no date question with a dated resolution (value: YYYY-MM-DD or outcome: never in its "
            "resolutions file), so no date forecast is scored.")


def _days(x) -> str:
    """A number of days, to one decimal (a median's error is whole days, the CRPS is not)."""
    return formatting.MISSING if x is None else f"{x:,.1f}"


def date_question_rows(summary: dict) -> list:
    """Per date question: when it happened, the median forecast, and the three scores at open,
    time-averaged and without evidence (see docs/backtest.md)."""
    return [{
        "question": q["id"], "happened": q["resolution"], "forecasts": q["n_forecasts"],
        "median at open": q["median_open"], "last median": q["median_last"],
        "error at open (days)": _days(q["abs_error_days_open"]),
        "error, time-averaged": _days(q["abs_error_days_time_averaged"]),
        "CRPS at open (days)": _days(q["crps_days_open"]), "CRPS, time-averaged": _days(q["crps_days_time_averaged"]),
        "P(true month) at open": _p(q["p_true_month_open"]),
        "P(true month), time-averaged": _p(q["p_true_month_time_averaged"]),
        "no evidence: error / CRPS / P(month)": f"{_days(q['no_evidence_abs_error_days'])} / {_days(q['no_evidence_crps_days'])} / "
                                                f"{_p(q['no_evidence_p_true_month'])}",
    } for q in (summary.get("dates") or {}).get("questions", [])]


# --------------------------------------------------------------------------- figures
#
# Every figure has a fixed layout (no constrained layout), fixed date ticks (no date locators),
# one errorbar call per marker style and light grid lines drawn as one collection: on figures
# of many panels each of those costs more than the drawing itself.


def reliability_diagram(reliability: dict, ax, *, title: str = "Reliability of every forecast"):
    """Observed frequency against mean forecast per bin, with binomial intervals and counts.

    ``reliability`` is ``summary["overall"]["reliability"]`` (edges, mean_forecast,
    observed_frequency, count, lower, upper).
    """
    mean = np.asarray([np.nan if v is None else v for v in reliability["mean_forecast"]], dtype=float)
    freq = np.asarray([np.nan if v is None else v for v in reliability["observed_frequency"]], dtype=float)
    lo = np.asarray([np.nan if v is None else v for v in reliability["lower"]], dtype=float)
    hi = np.asarray([np.nan if v is None else v for v in reliability["upper"]], dtype=float)
    count = np.asarray(reliability["count"])
    edges = np.asarray(reliability["edges"], dtype=float)
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfect calibration", gid=plots.GUIDE)
    full = count > 0
    ax.errorbar(mean[full], freq[full], yerr=[freq[full] - lo[full], hi[full] - freq[full]], fmt="o", color="C0",
                capsize=3, lw=1.2, label="observed frequency (95% interval)")
    for x, y, c in zip(mean[full], freq[full], count[full], strict=True):
        ax.text(x - 0.012, y + (-0.045 if y > 0.9 else 0.02), f"n={c}", ha="right", fontsize=7, color="0.3")
    # forecasts per bin as light bars, scaled to the lower quarter of the panel
    heights = 0.25 * count / max(1, count.max())
    ax.stairs(heights, edges, fill=True, color="C0", alpha=0.12, lw=0, baseline=-0.02)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.04)
    ticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel("forecast probability (bin mean); bars: forecasts per bin")
    ax.set_ylabel("share that happened")
    ax.set_title(title, fontsize=10)
    plots.grid_lines(ax, ticks, ticks)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def brier_by_date(by_date: list, ax, *, title: str = "Mean Brier score of the open questions, by as-of date"):
    """Mean Brier over the questions open at each as-of date, for the model and the baselines;
    grey bars: how many questions were open (right axis)."""
    rows = [r for r in by_date if r["brier"] is not None]
    x = _dates([r["as_of"] for r in rows])
    for key, (label, color, ls) in BASELINE_STYLES.items():
        ax.step(x, [r[key] for r in rows], where="post", color=color, ls=ls, lw=1.8 if key == "brier" else 1.2, label=label)
    counts = ax.twinx()
    n_open = [r["n_open"] for r in rows]
    top = max(n_open) * 3 if rows else 1
    counts.vlines(x, 0, n_open, color="0.5", alpha=0.25, lw=3)
    counts.set_ylim(0, top)
    counts.set_yticks([k for k in MaxNLocator(nbins=4, integer=True).tick_values(0, top / 3) if k <= top / 3])
    counts.set_ylabel("questions open", color="0.45", fontsize=8)
    counts.tick_params(axis="y", labelsize=7, colors="0.45")
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean Brier (lower is better)")
    ax.set_title(title, fontsize=10)
    yticks = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ax.set_yticks(yticks)
    if rows:
        xs = plots.set_date_axis(ax, rows[0]["as_of"] - _dt.timedelta(days=10), rows[-1]["as_of"] + _dt.timedelta(days=10))
        plots.grid_lines(ax, xs, yticks)
    ax.legend(fontsize=8, loc="upper right")
    return ax


def forecast_path(rows: list, ax, *, title: str = "", outcome=None, resolved_on=None, no_evidence=None,
                  y_labels: bool = True):
    """One question's forecast over as-of dates (a step: each stands until the next), the
    forecast without evidence (dashed) and the outcome (a marker at 0 or 1 on its date).

    ``y_labels`` False leaves the 0 / 0.5 / 1 axis to a neighbouring panel (grid lines stay).
    """
    ends = None
    if rows:
        x = _dates([r["as_of"] for r in rows] + [rows[-1]["as_of"] + _dt.timedelta(days=max(1, rows[-1].get("days") or 1))])
        y = [r["forecast"] for r in rows]
        ax.step(x, y + [y[-1]], where="post", color="C0", lw=1.6)
        if no_evidence is not None and math.isfinite(no_evidence):
            ax.hlines(no_evidence, x[0], x[-1], color="C1", ls="--", lw=1)
        if outcome is not None:
            when = np.datetime64(resolved_on, "D") if resolved_on is not None else x[-1]
            ax.plot([when], [1.0 if outcome else 0.0], marker="*", ms=11, color="C3" if outcome else "C2", zorder=5)
            x = np.append(x, when)
        ends = (x.min().astype(object), x.max().astype(object))
    ax.set_ylim(-0.05, 1.05)
    ax.set_yticks([0, 0.5, 1] if y_labels else [])
    ax.set_title(title, fontsize=7.5)
    ax.tick_params(labelsize=6.5)
    xs = []
    if ends is not None:
        pad = _dt.timedelta(days=max(1, (ends[1] - ends[0]).days // 30))
        xs = plots.set_date_axis(ax, ends[0] - pad, ends[1] + pad, max_ticks=4, one_line=True, inset=0.08)
    plots.grid_lines(ax, xs, [0, 0.5, 1])
    return ax


def path_grid(result, *, ncols: int = 4, width: float = 12.0):
    """A figure with one forecast path per scored question, worst time-averaged Brier first."""
    qs = sorted(result.summary["questions"], key=lambda q: -q["brier_time_averaged"])
    nrows = max(1, math.ceil(len(qs) / ncols))
    height = 1.8 * nrows + 1.0
    fig, axes = plots.figure(nrows, ncols, figsize=(width, height), margins=(0.45, 0.12, 0.95, 0.35),
                             wspace=0.08, hspace=0.75)
    axes = np.asarray(axes).ravel()
    for i, (ax, q) in enumerate(zip(axes, qs, strict=False)):
        label = formatting.shorten(q["id"], 42)
        forecast_path(result.path(q["id"]), ax, title=f"{label}\nBrier {formatting.probability(q['brier_time_averaged'])}",
                      outcome=q["outcome"], resolved_on=q["resolved_on"], no_evidence=q["no_evidence_forecast"],
                      y_labels=(i % ncols == 0))
    for ax in axes[len(qs):]:
        ax.set_visible(False)
    fig.suptitle("Forecast paths (blue), without evidence (orange, dashed); star: outcome (red yes, green no) when public",
                 fontsize=10, y=1 - 0.25 / height)
    return fig


_POINT_MARKERS = {"o": "reported estimate (bar: stated range)", "^": "more than", "v": "up to"}


FAN_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")
"""Colours of the fans as of successive dates (Okabe–Ito: distinct, also to colour-blind readers)."""


def pick_fans(fans: list, n: int = 3) -> list:
    """At most ``n`` of ``fans`` (as of successive dates), spread evenly: always the first and,
    when ``n`` > 1, the last; more bands than that cannot be told apart on one panel.

    >>> pick_fans(list("abcde")), pick_fans(list("ab"), 3), pick_fans(list("abcde"), 1)
    (['a', 'c', 'e'], ['a', 'b'], ['a'])
    """
    if n < 1:
        raise ValueError(f"pick_fans: n must be at least 1, got {n}")
    if len(fans) <= n:
        return list(fans)
    keep = sorted({round(i) for i in np.linspace(0, len(fans) - 1, n)})
    return [fans[i] for i in keep]


def _fan_stop(points: list, until) -> np.datetime64 | None:
    """Where a panel's fans end: ``until``, else 120 days after the last reported estimate."""
    if until:
        return np.datetime64(until, "D")
    last = max((p["on"] for p in points), default=None)
    return None if last is None else np.datetime64(last, "D") + np.timedelta64(120, "D")


def fan_overlay(fans: list, points: list, ax, *, title: str = "", ylabel: str = "", until=None, xlim=None):
    """Fans of a running total as of a few dates (median and 90% band each, one colour per
    date from :data:`FAN_COLOURS`) with the real estimates (dots: a figure; triangles: "more
    than" / "up to"; bars: the stated range).

    Pass the few fans to show (:func:`pick_fans`); ``until`` cuts the fans at a date and
    ``xlim`` (start, end) fixes the date axis (panels sharing it).
    """
    last = None
    top = 1e-9
    stop = None if until is None else np.datetime64(until, "D")
    for i, fan in enumerate(fans):
        color = FAN_COLOURS[i % len(FAN_COLOURS)]
        dates = _dates(fan.dates)
        keep = np.ones(len(dates), dtype=bool) if stop is None else dates <= stop
        levels = list(fan.levels)
        lo, mid, hi = fan.values[levels.index(0.05)], fan.values[levels.index(0.5)], fan.values[levels.index(0.95)]
        ax.fill_between(dates[keep], lo[keep], hi[keep], color=color, alpha=0.13, lw=0)
        # band edges as thin lines of the fan's colour: overlapping bands stay apart
        for edge in (lo, hi):
            ax.plot(dates[keep], edge[keep], color=color, lw=0.7, alpha=0.8)
        top = max(top, float(np.nanmax(hi[keep], initial=0)))
        ax.plot(dates[keep], mid[keep], color=color, lw=2.0, label=f"as of {fan.as_of}: median and 90% band")
        if stop is None or np.datetime64(fan.as_of, "D") <= stop:
            ax.axvline(np.datetime64(fan.as_of, "D"), color=color, lw=0.9, ls=":", gid=plots.GUIDE)
        last = dates[keep][-1] if keep.any() else last
    groups: dict = {}
    for p in points:  # one errorbar call per marker: errorbar is slow
        mark = plots.estimate_mark(p["value"], p["low"], p["high"])
        g = groups.setdefault(mark.marker, ([], [], [], []))
        g[0].append(np.datetime64(p["on"], "D"))
        g[1].append(mark.y)
        g[2].append(mark.below)
        g[3].append(mark.above)
    for marker, (xs, ys, below, above) in groups.items():
        ax.errorbar(xs, ys, yerr=[below, above], fmt=marker, color="black", ms=5, capsize=2.5, lw=1, zorder=6,
                    label=_POINT_MARKERS[marker])
    ax.yaxis.set_major_formatter(formatting.tick_formatter())
    top = max([top] + [y + up for g in groups.values() for y, up in zip(g[1], g[3], strict=True)])
    ax.set_ylim(0, top * 1.04)
    yticks = [y for y in MaxNLocator(nbins=6).tick_values(0, top * 1.04) if 0 <= y <= top * 1.04]
    ax.set_yticks(yticks)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if xlim is None and fans and last is not None:
        xlim = (np.datetime64(fans[0].as_of, "D") - np.timedelta64(10, "D"), last)
    if xlim is not None:
        start, end = (np.datetime64(x, "D").astype(object) for x in xlim)
        xs = plots.set_date_axis(ax, start, end)
        plots.grid_lines(ax, xs, yticks)
    ax.legend(fontsize=7.5, loc="upper left")
    return ax


def fan_grid(fans_by_quantity: dict, *, width: float = 11.0, until=None, n_dates: int = 3):
    """One panel per quantity, all on one time axis: its fans as of ``n_dates`` dates
    (:func:`pick_fans`) against the reported estimates (``fans_by_quantity`` from
    :func:`scenarios.backtest.report_fans`).

    Each panel's fans stop at ``until`` or 120 days after its last reported estimate; the
    shared axis runs from the first as-of date to the latest of those ends.
    """
    n = max(1, len(fans_by_quantity))
    fig, axes = plots.figure(n, 1, figsize=(width, 3.6 * n + 0.3), margins=(plots.tick_label_margin(10), 0.2, 0.35, 0.55), hspace=0.28,
                             sharex=True)
    axes = np.asarray(axes).ravel()
    picked = {q: (pick_fans(fans, n_dates), points) for q, (fans, points) in fans_by_quantity.items()}
    starts, ends = [], []
    for fans, points in picked.values():
        stop = _fan_stop(points, until)
        for f in fans:
            starts.append(np.datetime64(f.as_of, "D"))
            dates = _dates(f.dates)
            ends.append(dates[-1] if stop is None else min(dates[-1], stop))
        ends += [np.datetime64(p["on"], "D") + np.timedelta64(10, "D") for p in points]
    xlim = (min(starts) - np.timedelta64(10, "D"), max(ends)) if starts else None
    for ax, (quantity, (fans, points)) in zip(axes, picked.items(), strict=False):
        stop = _fan_stop(points, until)
        fan_overlay(fans, points, ax, title=f"{quantity}: forecast as of each date against the reported estimates",
                    ylabel=quantity.split(".")[0], until=stop, xlim=xlim)
    for ax in axes[:len(picked) - 1]:
        ax.tick_params(axis="x", labelbottom=False)
    for ax in axes[len(fans_by_quantity):]:
        ax.set_visible(False)
    return fig


def calibration_figure(summary: dict, *, width: float = 12.0):
    """Reliability diagram (left) and mean Brier by as-of date against the baselines (right)."""
    fig, axes = plots.figure(1, 2, figsize=(width, 4.6), margins=(0.65, 0.6, 0.35, 0.85), wspace=0.22)
    ax_rel, ax_date = np.asarray(axes).ravel()
    reliability_diagram(summary["overall"]["reliability"], ax_rel)
    brier_by_date(summary["by_date"], ax_date)
    return fig


def date_forest_data(rows: list, question: dict) -> dict:
    """What :func:`date_forest` draws for one date question: at each as-of date (``rows``, its
    rows of ``result.date_rows``) the 5%, 50% and 95% forecast dates, with "never" (not by the
    close) at the day after the close; and the true date, or that day when it did not happen.

    ``question`` is its entry in ``summary["dates"]["questions"]``.  Dates are ``datetime64[D]``.
    """
    never = np.datetime64(question["close"], "D") + np.timedelta64(1, "D")

    def day(text):
        return never if text == "never" else np.datetime64(text, "D")

    return {
        "as_of": [r["as_of"] for r in rows],
        "q05": np.array([day(r["q05"]) for r in rows], dtype="datetime64[D]"),
        "q50": np.array([day(r["q50"]) for r in rows], dtype="datetime64[D]"),
        "q95": np.array([day(r["q95"]) for r in rows], dtype="datetime64[D]"),
        "never": never, "truth": day(question["resolution"]), "start": np.datetime64(question["open"], "D"),
    }


def date_forest(data: dict, ax, *, title: str = "", legend: bool = True):
    """One date question's forecasts, one row per as-of date (first at the top): the 90% interval
    as a bar, the median as a dot; the true date as a red line; "never" at the day after the
    close (grey band).  ``data`` from :func:`date_forest_data`."""
    y = np.arange(len(data["as_of"]))[::-1]
    ax.hlines(y, data["q05"], data["q95"], color="C0", lw=3, alpha=0.45, label="90% of the forecast")
    ax.plot(data["q50"], y, "o", color="C0", ms=5, label="median forecast")
    ax.axvline(data["truth"], color="C3", lw=1.6, label="what happened")
    ax.axvspan(data["never"] - np.timedelta64(1, "D"), data["never"] + np.timedelta64(2, "D"), color="0.85", zorder=0,
               label="never (not by the close)")
    ax.set_yticks(y, [f"as of {d}" for d in data["as_of"]])
    ax.set_ylim(-0.8, len(y) - 0.2)
    start = min(data["start"], data["truth"]).astype(object) - _dt.timedelta(days=3)
    xs = plots.set_date_axis(ax, start, data["never"].astype(object) + _dt.timedelta(days=3))
    plots.grid_lines(ax, xs, [])
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)
    if legend:
        ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def date_figure(result, *, width: float = 11.0):
    """One :func:`date_forest` panel per scored date question (``result``: a BacktestResult)."""
    qs = result.summary["dates"]["questions"]
    heights = [max(1.6, 0.32 * q["n_forecasts"] + 1.0) for q in qs] or [1.6]
    height = sum(heights) + 1.1
    fig, axes = plots.figure(len(heights), 1, figsize=(width, height), margins=(1.5, 0.25, 0.75, 0.55),
                             hspace=0.6, height_ratios=heights)
    axes = np.asarray(axes).ravel()
    for ax, q in zip(axes, qs, strict=False):
        rows = [r for r in result.date_rows if r["question"] == q["id"]]
        what = "did not happen by its close" if q["resolution"] == "never" else f"happened {q['resolution']}"
        date_forest(date_forest_data(rows, q), ax, legend=False,
                    title=f"{formatting.shorten(q['id'], 60)}: {what}; CRPS at open {_days(q['crps_days_open'])} days")
    fig.suptitle("Forecast date at each as-of date: dot the median, bar 90% of the forecast; red line: what happened; "
                 "grey: never (not by the close)", fontsize=10, y=1 - 0.25 / height)
    return fig
