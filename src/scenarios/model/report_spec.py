"""What a model's report shows: the ``report:`` section of a params file, or defaults from the model.

The report notebooks read nothing model-specific from their own code: the scenario tree's levels,
the events charted by date and the flows and stocks drawn as fan charts (each with the real series
drawn on it and the node that splits its fans) come from :func:`report_spec`.

A params file may say it explicitly::

    report:
      tree:                                   # levels of the scenario tree, in order
        - summit                              # a node name, or
        - {node: summit_day, label: when, bins: [2023-09-30, 2023-12-31]}
      events: [summit_day, arms_start]        # event nodes charted by date
      flows:                                  # flow or stock nodes drawn as fan charts
        - {node: containers, title: Containers shipped, unit: containers,
           series: containers_nk_to_russia, by: outcome}
        - {node: troops_sent, title: Troops sent, unit: soldiers}   # a stock: its level

Every part is optional; an absent part takes its default from the model's structure
(:func:`default_tree`, :func:`default_events`, :func:`default_flows`), an empty list means
"show none".  The section is validated like the rest of the file: an unknown key, a node the
model lacks or a node of the wrong kind is a :class:`~scenarios.errors.ParamsError` naming
the file, the key path, the bad value and what was expected.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from .params import describe
from .scenario import Model, WhenSpec, did_you_mean, event_hint, parse_date
from .schema import excerpt

__all__ = [
    "REPORT_KEYS",
    "MAX_DEFAULT_TREE_LEVELS",
    "TreeLevel",
    "FlowChart",
    "ReportSpec",
    "report_spec",
    "default_tree",
    "default_events",
    "default_flows",
]

REPORT_KEYS = ("tree", "events", "flows", "note", "sensitivity")
"""Keys a ``report:`` section may hold."""

TREE_LEVEL_KEYS = ("node", "label", "bins")
FLOW_KEYS = ("node", "title", "unit", "series", "by")

TREE_KINDS = ("bool", "category", "event")
"""Node kinds a tree level can split on (yes/no, categories, date bins)."""

SPLIT_KINDS = ("bool", "category")
"""Node kinds a flow's fans can be split by."""

CHART_KINDS = ("flow", "stock")
"""Node kinds drawn as fan charts: a flow (its count per month and its running total) and a stock
(its net change per month and its level at each month end)."""

MAX_DEFAULT_TREE_LEVELS = 4
"""Levels of a default tree at most: more makes slivers nobody can read."""


@dataclass(frozen=True)
class TreeLevel:
    """One level of the scenario tree.

    Attributes
    ----------
    node : str
        A boolean, categorical or event node.
    label : str
        The level's title in the figure.
    bins : tuple of datetime.date
        Date edges for an event level (empty: the default bins of the plot data).
    """

    node: str
    label: str
    bins: tuple = ()

    def as_level(self) -> dict:
        """The level as :func:`scenarios.notebook.plotdata.scenario_tree` takes it."""
        out = {"node": self.node, "label": self.label}
        if self.bins:
            out["bins"] = list(self.bins)
        return out


@dataclass(frozen=True)
class FlowChart:
    """One flow or stock drawn as fan charts.

    Attributes
    ----------
    node : str
        A flow node (per-month counts) or a stock node (a level at each month end).
    title : str
        The figure's title.
    unit : str
        What is counted (axis label).
    series : str or None
        Key of the real dated estimates drawn on the chart in the series file; None: none.
    by : str or None
        Boolean or categorical node whose values split the fans; None: all worlds only.
    kind : str
        ``"flow"`` or ``"stock"`` (the node's kind: what the two rows of its figure show).
    """

    node: str
    title: str
    unit: str
    series: str | None = None
    by: str | None = None
    kind: str = "flow"


@dataclass(frozen=True)
class ReportSpec:
    """What the report of one model shows.

    Attributes
    ----------
    tree : tuple of TreeLevel
        Empty: no scenario tree.
    events : tuple of str
        Event nodes charted by date; empty: none.
    flows : tuple of FlowChart
        Flows and stocks drawn as fan charts; empty: no fan charts.
    explicit : frozenset of str
        The parts the params file states ("tree", "events", "flows"); the rest are defaults.
    sensitivity : tuple of str or None
        Ids of the questions whose sensitivity to each parameter the report charts (None: every
        binary question); checked against the questions where they are loaded.
    """

    tree: tuple = ()
    events: tuple = ()
    flows: tuple = ()
    explicit: frozenset = frozenset()
    sensitivity: tuple | None = None

    @property
    def tree_levels(self) -> list[dict]:
        """The tree's levels as :func:`scenarios.notebook.plotdata.scenario_tree` takes them."""
        return [level.as_level() for level in self.tree]

    @property
    def series_keys(self) -> dict:
        """Flow or stock node -> series key, for the charts that name one."""
        return {f.node: f.series for f in self.flows if f.series}


# --------------------------------------------------------------------------- defaults


def _public(model: Model) -> list[str]:
    return [n for n in model.nodes if not n.startswith("_")]


def _kind(model: Model, name: str) -> str:
    return model.kinds[name].type


def _tree_parents(model: Model, name: str) -> list[str]:
    """The tree-level nodes ``name`` hangs under: the node it is conditioned on with ``by:`` (its
    top-level spec) and, for a node with a node-level ``when:``, the boolean, categorical or event
    nodes its condition reads (it applies only under them)."""
    spec = model.nodes[name].spec
    by = getattr(spec, "by", None)
    out = [by] if isinstance(by, str) and by in model.nodes else []
    if isinstance(spec, WhenSpec):
        out += [n for n in spec.when.refs() if n not in out]
    return [n for n in out if _kind(model, n) in TREE_KINDS]


def default_tree(model: Model) -> tuple:
    """The tree from the model's ``by:`` conditioning and node-level ``when:``: a root and the
    nodes conditioned on it.

    A node hangs under the node it is conditioned on with ``by:`` and under the tree-kind nodes
    its ``when:`` condition reads.  The root is the node the most nodes hang under, directly or
    in chains (the first in model order on a tie); the levels are the root and the boolean,
    categorical or event nodes of its chains, in model order, at most
    :data:`MAX_DEFAULT_TREE_LEVELS`.  Model order is the order nodes are drawn in, so a node
    with ``when:`` comes after (below) the nodes its condition reads, and its "n/a" is no branch
    of its own under their "no" (:func:`scenarios.notebook.plotdata.scenario_tree`).  A model
    without ``by:`` or node-level ``when:`` on such nodes has no default tree.
    """
    children: dict[str, list[str]] = {}
    parents = {name: _tree_parents(model, name) for name in model.nodes}
    for name in _public(model):
        for parent in parents[name]:
            children.setdefault(parent, []).append(name)
    if not children:
        return ()

    def descendants(root: str) -> list[str]:
        out, stack = [], [root]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in out:
                    out.append(child)
                    stack.append(child)
        return out

    order = {name: i for i, name in enumerate(model.nodes)}
    roots = [n for n in children if not any(p in children for p in parents[n])]
    roots = roots or list(children)
    root = max(roots, key=lambda r: (len(descendants(r)), -order[r]))
    members = [root] + [n for n in descendants(root) if _kind(model, n) in TREE_KINDS and not n.startswith("_")]
    members.sort(key=order.__getitem__)
    return tuple(TreeLevel(n, n) for n in members[:MAX_DEFAULT_TREE_LEVELS])


def default_events(model: Model) -> tuple:
    """Every event node, in model order."""
    return tuple(n for n in _public(model) if _kind(model, n) == "event")


def default_flows(model: Model, tree: tuple = ()) -> tuple:
    """Every flow and stock node, in model order, split by the last boolean or categorical tree
    level it depends on (none if it depends on no such level), with no real series."""
    out = []
    for name in _public(model):
        kind = _kind(model, name)
        if kind not in CHART_KINDS:
            continue
        ancestors = model.ancestors([name]) - {name}
        splits = [lv.node for lv in tree if lv.node in ancestors and _kind(model, lv.node) in SPLIT_KINDS]
        out.append(FlowChart(name, name, name, None, splits[-1] if splits else None, kind))
    return tuple(out)


# --------------------------------------------------------------------------- the section


def report_spec(model: Model) -> ReportSpec:
    """What the report of ``model`` shows: its ``report:`` section, defaults for what it omits.

    Raises
    ------
    ParamsError
        An unknown key, a node the model lacks (with the closest name) or of the wrong kind,
        a label that is not text, bins that are not increasing dates.
    """
    doc = model.doc
    raw = doc.data.get("report")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise doc.error(("report",), f"expected a mapping with keys {', '.join(REPORT_KEYS)}, got {describe(raw)}")
    _known_keys(model, raw, ("report",), REPORT_KEYS)
    if "note" in raw and not isinstance(raw["note"], str):
        raise doc.error(("report", "note"), f"expected text, got {describe(raw['note'])}")
    tree = _tree(model, raw["tree"]) if "tree" in raw else default_tree(model)
    events = _events(model, raw["events"]) if "events" in raw else default_events(model)
    flows = _flows(model, raw["flows"]) if "flows" in raw else default_flows(model, tree)
    explicit = frozenset(k for k in ("tree", "events", "flows") if k in raw)
    sensitivity = None
    if "sensitivity" in raw:
        ids = raw["sensitivity"]
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise doc.error(("report", "sensitivity"), f"expected a list of question ids, got {describe(ids)}")
        sensitivity = tuple(ids)
    return ReportSpec(tree, events, flows, explicit, sensitivity)


def _known_keys(model: Model, raw: dict, path: tuple, allowed: tuple) -> None:
    for key in raw:
        if not isinstance(key, str) or key not in allowed:
            raise model.doc.error(
                path + (str(key),), f"unknown key {excerpt(key)}; expected one of {list(allowed)}" + did_you_mean(key, allowed)
            )


def _list(model: Model, raw, path: tuple, what: str) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise model.doc.error(path, f"expected a list of {what}, got {describe(raw)}")
    return raw


def _node(model: Model, raw, path: tuple, kinds: tuple, what: str) -> str:
    """A node name of one of ``kinds``, or a ParamsError saying which were expected."""
    names = _public(model)
    if not isinstance(raw, str):
        raise model.doc.error(path, f"expected the name of {what}, got {describe(raw)}")
    if raw not in model.nodes:
        fitting = [n for n in names if _kind(model, n) in kinds]
        raise model.doc.error(path, f"unknown node {excerpt(raw)}; expected {what}" + (did_you_mean(raw, fitting) or did_you_mean(raw, names)))
    kind = _kind(model, raw)
    if kind not in kinds:
        fitting = [n for n in names if _kind(model, n) in kinds]
        hint = f" (the model's: {', '.join(fitting[:8])}{', ...' if len(fitting) > 8 else ''})" if fitting else " (the model has none)"
        raise model.doc.error(path, f"expected {what}, {excerpt(raw)} is {_a(kind)} node{hint}"
                              + (event_hint(model, raw) if "event" in kinds else ""))
    return raw


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _text(model: Model, raw, path: tuple, default: str) -> str:
    if raw is None:
        return default
    if not isinstance(raw, str) or not raw.strip():
        raise model.doc.error(path, f"expected text, got {describe(raw)}")
    return raw


def _tree(model: Model, raw) -> tuple:
    what = "a boolean, categorical or event node"
    out, seen = [], set()
    for i, item in enumerate(_list(model, raw, ("report", "tree"), f"tree levels ({what} or {{node: ..., label: ...}})")):
        path = ("report", "tree", i)
        if isinstance(item, dict):
            _known_keys(model, item, path, TREE_LEVEL_KEYS)
            if "node" not in item:
                raise model.doc.error(path, "missing key 'node'")
            node = _node(model, item["node"], path + ("node",), TREE_KINDS, what)
            label = _text(model, item.get("label"), path + ("label",), node)
            bins = _bins(model, item.get("bins"), path + ("bins",), node)
        else:
            node = _node(model, item, path, TREE_KINDS, what)
            label, bins = node, ()
        if node in seen:
            raise model.doc.error(path, f"node {excerpt(node)} is already a level of the tree")
        seen.add(node)
        out.append(TreeLevel(node, label, bins))
    return tuple(out)


def _bins(model: Model, raw, path: tuple, node: str) -> tuple:
    if raw is None:
        return ()
    if _kind(model, node) != "event":
        raise model.doc.error(path, f"bins go with an event node; {excerpt(node)} is {_a(_kind(model, node))} node")
    if not isinstance(raw, list) or not raw:
        raise model.doc.error(path, f"expected a list of dates YYYY-MM-DD, got {describe(raw)}")
    days = [parse_date(d, model.doc, path + (i,)) for i, d in enumerate(raw)]
    if any(b <= a for a, b in zip(days, days[1:], strict=False)):
        raise model.doc.error(path, f"expected increasing dates, got {[d.isoformat() for d in days]}")
    if days[0] <= model.as_of:
        raise model.doc.error(path + (0,), f"expected dates after the model's as_of ({model.as_of}), got {days[0]}")
    return tuple(_dt.date(d.year, d.month, d.day) for d in days)


def _events(model: Model, raw) -> tuple:
    out = []
    for i, item in enumerate(_list(model, raw, ("report", "events"), "event nodes")):
        name = _node(model, item, ("report", "events", i), ("event",), "an event node")
        if name in out:
            raise model.doc.error(("report", "events", i), f"event {excerpt(name)} is listed twice")
        out.append(name)
    return tuple(out)


def _flows(model: Model, raw) -> tuple:
    out = []
    what = "a flow or stock node"
    for i, item in enumerate(_list(model, raw, ("report", "flows"), f"charts ({what} or {{node: ..., series: ..., by: ...}})")):
        path = ("report", "flows", i)
        if not isinstance(item, dict):
            item = {"node": item}
        _known_keys(model, item, path, FLOW_KEYS)
        if "node" not in item:
            raise model.doc.error(path, "missing key 'node'")
        node = _node(model, item["node"], path + ("node",), CHART_KINDS, what)
        if any(f.node == node for f in out):
            raise model.doc.error(path + ("node",), f"{_kind(model, node)} {excerpt(node)} is listed twice")
        title = _text(model, item.get("title"), path + ("title",), node)
        unit = _text(model, item.get("unit"), path + ("unit",), node)
        series = _text(model, item.get("series"), path + ("series",), "") or None
        by = item.get("by")
        if by is not None:
            by = _node(model, by, path + ("by",), SPLIT_KINDS, "a boolean or categorical node")
        out.append(FlowChart(node, title, unit, series, by, _kind(model, node)))
    return tuple(out)


def check_series_keys(model: Model, series: dict, series_file: str) -> None:
    """Every series a ``report: flows:`` entry (a flow or a stock) names is in the model's series file.

    Checked with the other data files, before any notebook runs, so a misspelt key is exit 2
    naming the flow's key path, not a notebook that fails half-way.

    Raises
    ------
    ParamsError
        The first flow whose ``series`` is not a key of ``series`` (with the closest key).
    """
    raw = model.doc.data.get("report")
    flows = raw.get("flows") if isinstance(raw, dict) else None
    if not isinstance(flows, list):
        return  # the default flows name no series
    for i, item in enumerate(flows):
        key = item.get("series") if isinstance(item, dict) else None
        if key and key not in series:
            raise model.doc.error(
                ("report", "flows", i, "series"),
                f"series {excerpt(key)} is not in the series file {series_file}; expected one of {sorted(series)}"
                + did_you_mean(key, series),
            )
