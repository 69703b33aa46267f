"""Why a report section is not shown: one sentence in place of a section that does not apply.

A model without flows has no fan charts, one without resolutions no backtest scores.  The
notebooks never skip such a section silently: they show :class:`Skipped` (rendered as Markdown)
with the sentence the functions below give, and the run is still complete.  Each function takes
what the section would be drawn from and returns the sentence, or "" when the section applies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = [
    "Skipped",
    "say",
    "heading",
    "tree_skipped",
    "tree_order_note",
    "events_skipped",
    "event_nodes_skipped",
    "flows_skipped",
    "series_skipped",
    "series_not_drawn",
    "questions_skipped",
]


@dataclass(frozen=True)
class Skipped:
    """A section left out, and why; displays as a Markdown paragraph in a notebook.

    Attributes
    ----------
    reason : str
        One sentence.
    """

    reason: str

    def _repr_markdown_(self) -> str:
        return f"**Not shown:** {self.reason}"

    def __str__(self) -> str:
        return f"Not shown: {self.reason}"


def say(reason: str) -> Skipped:
    """Display ``reason`` as a :class:`Skipped` paragraph in the notebook (and return it)."""
    from IPython.display import display

    skipped = Skipped(reason)
    display(skipped)
    return skipped


@dataclass(frozen=True)
class _Heading:
    text: str
    level: int = 2

    def _repr_markdown_(self) -> str:
        return f"{'#' * self.level} {self.text}"


@dataclass(frozen=True)
class _Note:
    text: str

    def _repr_markdown_(self) -> str:
        return f"**Note:** {self.text}"

    def __str__(self) -> str:
        return f"Note: {self.text}"


def note(text: str) -> None:
    """Display a sentence the reader should know before a section (not a section left out)."""
    from IPython.display import display

    display(_Note(text))


def heading(text: str, *, level: int = 2) -> None:
    """Display a Markdown heading (for sections whose number depends on the model)."""
    from IPython.display import display

    display(_Heading(text, level))


def shown_worlds(view) -> list:
    """The worlds a section draws from an :class:`~scenarios.notebook.inputs.AsOfView`, as
    ``(label, worlds, file suffix)``: as of its date first, then the model's prior (the prior
    alone when there is no conditioned view)."""
    prior_label = f"prior (the model as of {view.prior.model.as_of})"
    if view.now is None:
        return [(prior_label, view.prior, "")]
    return [(f"as of {view.as_of}", view.now, ""), (prior_label, view.prior, "_prior")]


def tree_skipped(spec) -> str:
    """Why there is no scenario tree (``spec``: a :class:`~scenarios.model.report_spec.ReportSpec`)."""
    if spec.tree:
        return ""
    if "tree" in spec.explicit:
        return "the params file's report: section lists no tree levels, so there is no scenario tree."
    return ("the model has no boolean or categorical node that other nodes are conditioned on with by: "
            "or that a node's when: reads, so there is no scenario tree (name its levels under report: tree: "
            "in the params file).")


def tree_order_note(spec, model) -> str:
    """What a reader should know when a tree level has a node-level ``when:`` reading a level
    below it (a ``report: tree:`` may list them in any order), or "".

    Such a level splits every branch above its condition: its "n/a" branch holds the worlds
    where it does not apply, and its condition's value shows only further down.  The default
    tree never does this (:func:`scenarios.model.report_spec.default_tree`).
    """
    from ..model.scenario import WhenSpec

    levels = [level.node for level in spec.tree]
    out = []
    for i, name in enumerate(levels):
        node_spec = model.nodes[name].spec
        if not isinstance(node_spec, WhenSpec):
            continue
        below = [n for n in node_spec.when.refs() if n in levels[i + 1:]]
        if below:
            conditions = ", ".join(below)
            out.append(f"{name} is a level above {conditions}, which its when: condition reads, so its \"n/a\" "
                       f"branch holds the worlds where it does not apply; list it after {conditions} under "
                       "report: tree: to see it only under the branches where it applies.")
    return " ".join(out)


def event_nodes_skipped(model) -> str:
    """Why no event is charted at all: the model has no event node."""
    if any(kind.type == "event" for name, kind in model.kinds.items() if not name.startswith("_")):
        return ""
    return "the model has no event nodes, so there are no dates to chart."


def events_skipped(spec, model) -> str:
    """Why the chosen events are not charted by date."""
    if spec.events:
        return ""
    return event_nodes_skipped(model) or "the params file's report: section lists no events to chart."


def flows_skipped(spec, model) -> str:
    """Why there are no fan charts."""
    if spec.flows:
        return ""
    if any(kind.type == "flow" for kind in model.kinds.values()):
        return "the params file's report: section lists no flows, so there are no fan charts."
    return "the model has no flow nodes (per-month counts), so there are no fan charts."


def series_skipped(spec, series_file: str, observed: dict) -> str:
    """Why no real dated estimate is drawn on the fan charts.

    Parameters
    ----------
    spec : ReportSpec
    series_file : str or None
        The model's series file (None or "" for none).
    observed : dict of flow -> list of Estimate
        What was read for each flow naming a series.
    """
    if any(observed.get(f.node) for f in spec.flows):
        return ""
    if not spec.flows:
        return "the model has no flows to draw real estimates on."
    if not spec.series_keys:
        return ("no flow names a real series (series: under report: flows: in the params file), "
                "so the charts show the model only.")
    if not series_file:
        return "the params file names no series: file, so the charts show the model only."
    keys = ", ".join(spec.series_keys.values())
    return (f"the series {keys} of {os.path.basename(series_file)} hold no dated running totals, "
            "so the charts show the model only.")


def series_not_drawn(spec, names) -> str:
    """Which series of the model's series file no flow draws (``names``: the file's series)."""
    drawn = set(spec.series_keys.values())
    left = [n for n in names if n not in drawn]
    if not left:
        return ""
    return (f"the series file also holds {', '.join(left)}, which no flow of the report draws "
            "(name it as a flow's series: under report: flows: to draw it).")


def questions_skipped(questions) -> str:
    """Why there are no forecasts of questions."""
    return "" if questions else "the model has no questions, so there are no forecasts to show."


def sensitivity_skipped(questions, ids) -> str:
    """Why there is no sensitivity section: no questions, or no binary question when the
    ``report: sensitivity:`` list (``ids``) names none."""
    if not questions:
        return questions_skipped(questions)
    if ids is None and not any(q.type == "binary" for q in questions):
        return ("the model has no binary question, so there is no key question to analyse "
                "(name numeric ones under report: sensitivity: to see what moves them).")
    return ""
