"""What the figures show (plotdata) and that the figures draw it (plots)."""

from __future__ import annotations

import datetime as dt
import re
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scenarios.engine.simulate import simulate
from scenarios.errors import ScenarioError
from scenarios.model.load import load_model
from scenarios.model.worlds import Worlds
from scenarios.notebook import plotdata, plots

TINY = """
model: tiny
as_of: 2023-09-05
horizon_months: 6
month_days: 30
seed: 3
samples: 4000
nodes:
  summit: {bernoulli: {p: 0.7}}
  summit_day:
    event: {when: summit, delay: {uniform: [1, 100]}}
  place:
    by: summit
    cases:
      true: {categorical: {north: 0.6, south: 0.4}}
      false: {categorical: {none: 1.0}}
  outcome:
    by: summit
    cases:
      true: {categorical: {no_deal: 0.3, deal: 0.7}}
      false: {categorical: {no_deal: 0.8, deal: 0.2}}
  containers:
    flow:
      rate: {by: outcome, cases: {no_deal: {constant: 2}, deal: {constant: 50}}}
      start: summit_day
    note: a flow with a note
    source: https://example.org/source
"""

LEVELS = [
    {"node": "summit", "label": "summit"},
    {"node": "summit_day", "label": "when"},
    {"node": "place", "label": "where"},
    {"node": "outcome", "label": "outcome"},
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny") / "tiny.yaml"
    path.write_text(textwrap.dedent(TINY))
    model, _ = load_model(str(path))
    return model, simulate(model, 4000, 3)


# --------------------------------------------------------------------------- fans


def test_fan_median_of_two_worlds():
    assert plotdata.fan([[0.0, 2.0], [10.0, 4.0]], levels=(0.5,)).tolist() == [[5.0, 3.0]]


def test_fan_weights_equal_repeating_worlds():
    values = np.array([[1.0], [5.0], [9.0]])
    weighted = plotdata.fan(values, weights=[2, 1, 1], levels=(0.25, 0.5, 0.75))
    repeated = np.quantile(np.array([1.0, 1.0, 5.0, 9.0]), (0.25, 0.5, 0.75), method="inverted_cdf")
    assert weighted[:, 0].tolist() == repeated.tolist()


def test_fan_rejects_a_vector():
    with pytest.raises(ScenarioError, match=r"expected values of shape \(worlds, months\).*got \(3,\)"):
        plotdata.fan([1.0, 2.0, 3.0])


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 5)), elements=st.floats(0, 1e6)))
def test_fan_levels_are_ordered(values):
    fan = plotdata.fan(values)
    assert np.all(np.diff(fan, axis=0) >= -1e-9)


def test_flow_fans_overall_then_each_outcome(tiny):
    model, worlds = tiny
    fans = plotdata.flow_fans(worlds, "containers", by="outcome")
    assert [f.label for f in fans] == ["all worlds", "outcome: no_deal", "outcome: deal"]
    assert fans[0].probability == 1.0
    assert sum(f.probability for f in fans[1:]) == pytest.approx(1.0)
    deal_share = np.mean(worlds.labels("outcome") == "deal")
    assert fans[2].probability == pytest.approx(deal_share)
    assert fans[0].dates == worlds.month_end_dates()
    assert fans[0].values.shape == (5, model.horizon_months)


def test_cumulative_fans_never_decrease(tiny):
    _, worlds = tiny
    for fan in plotdata.flow_fans(worlds, "containers", by="outcome", cumulative=True):
        assert np.all(np.diff(fan.values, axis=1) >= 0)
        lo, hi = fan.band(0.05, 0.95)
        assert np.all(lo <= fan.median) and np.all(fan.median <= hi)


def test_flow_fans_without_the_by_node_gives_the_overall_fan(tiny):
    _, worlds = tiny
    assert len(plotdata.flow_fans(worlds, "containers", by="no_such_node")) == 1


# --------------------------------------------------------------------------- scenario tree


def test_scenario_tree_probabilities_add_up(tiny):
    _, worlds = tiny
    tree = plotdata.scenario_tree(worlds, LEVELS)
    assert tree.levels == ("summit", "when", "where", "outcome")
    by_path = {b.path: b for b in tree.branches}
    top = [b for b in tree.branches if len(b.path) == 1]
    assert sum(b.probability for b in top) == pytest.approx(1.0)
    for b in tree.branches:
        children = [c for c in tree.branches if c.path[:-1] == b.path]
        if children:
            assert sum(c.conditional for c in children) == pytest.approx(1.0)
            assert sum(c.probability for c in children) == pytest.approx(b.probability)
        if len(b.path) > 1:
            assert b.conditional == pytest.approx(b.probability / by_path[b.path[:-1]].probability)
    assert sum(b.probability for b in tree.leaves()) == pytest.approx(1.0)


def test_scenario_tree_matches_direct_counts(tiny):
    _, worlds = tiny
    tree = plotdata.scenario_tree(worlds, LEVELS)
    branch = next(b for b in tree.branches if b.path == ("yes", "by 30 Sep 2023", "north", "deal"))
    direct = np.mean(
        worlds["summit"].astype(bool)
        & (worlds["summit_day"] <= 25)  # 2023-09-30 is day 25
        & (worlds.labels("place") == "north")
        & (worlds.labels("outcome") == "deal")
    )
    assert branch.probability == pytest.approx(direct)


def test_levels_that_cannot_apply_are_skipped(tiny):
    _, worlds = tiny
    tree = plotdata.scenario_tree(worlds, LEVELS)
    no_summit = [b for b in tree.branches if b.path[0] == "no"]
    assert {b.path for b in no_summit} == {("no",), ("no", "no_deal"), ("no", "deal")}
    assert {b.path_levels for b in no_summit if len(b.path) == 2} == {(0, 3)}
    assert not any(label in ("none", "never") for b in tree.branches for label in b.path)


def test_event_levels_split_by_date_with_explicit_bins(tiny):
    _, worlds = tiny
    tree = plotdata.scenario_tree(worlds, [{"node": "summit_day", "label": "when", "bins": ["2023-10-15"]}])
    assert [b.label for b in tree.branches] == ["by 15 Oct 2023", "after 15 Oct 2023", "never"]
    assert tree.branches[-1].probability == pytest.approx(np.mean(~worlds["summit"].astype(bool)))


def test_default_event_bins_are_month_ends():
    assert plotdata.event_bins(dt.date(2023, 9, 5)) == [dt.date(2023, 9, 30), dt.date(2023, 12, 31)]
    assert plotdata.event_bins(dt.date(2023, 9, 28)) == [dt.date(2023, 10, 31), dt.date(2024, 1, 31)]


def test_top_scenarios_are_the_likeliest_leaves(tiny):
    _, worlds = tiny
    tree = plotdata.scenario_tree(worlds, LEVELS)
    rows = plotdata.top_scenarios(tree, n=3)
    probs = [float(r["probability"]) for r in rows]
    assert probs == sorted(probs, reverse=True) and len(rows) == 3
    assert rows[0]["scenario"] == "summit: no → outcome: no_deal"  # 0.3 * 0.8; any summit path splits more


def test_scenario_tree_errors(tiny):
    _, worlds = tiny
    with pytest.raises(ScenarioError, match="none of the level nodes is in the model"):
        plotdata.scenario_tree(worlds, ["nope"])
    with pytest.raises(ScenarioError, match="'containers' is a flow node; expected a boolean, categorical or event"):
        plotdata.scenario_tree(worlds, ["containers"])
    with pytest.raises(ScenarioError, match="expected a node name or"):
        plotdata.scenario_tree(worlds, [{"label": "x"}])


# --------------------------------------------------------------------------- events by date


def test_event_curve_by_hand(tiny):
    model, _ = tiny
    worlds = Worlds(model, {"summit_day": np.array([1.0, 3.0, np.inf, 2.5])})
    curve = plotdata.event_curve(worlds, "summit_day")
    assert curve.probability[:5].tolist() == [0.0, 0.25, 0.25, 0.75, 0.75]
    assert curve.probability[-1] == 0.75 and curve.p_never == pytest.approx(0.25)
    assert curve.median == dt.date(2023, 9, 8)  # day 3
    assert len(curve.dates) == model.horizon_days + 1
    assert curve.dates[0] == np.datetime64("2023-09-05")


def test_event_curve_agrees_with_the_share_of_worlds(tiny):
    _, worlds = tiny
    curve = plotdata.event_curve(worlds, "summit_day")
    assert np.all(np.diff(curve.probability) >= 0)
    assert curve.probability[25] == pytest.approx(np.mean(np.ceil(worlds["summit_day"]) <= 25))


def test_event_curves_skip_names_the_model_lacks_and_sort(tiny):
    _, worlds = tiny
    assert [c.name for c in plotdata.event_curves(worlds, ["summit_day", "nope"])] == ["summit_day"]
    assert [c.name for c in plotdata.event_curves(worlds, by_median=True)] == ["summit_day"]
    with pytest.raises(ScenarioError, match="'place' is a category node, not an event"):
        plotdata.event_curve(worlds, "place")


# --------------------------------------------------------------------------- real estimates

ENTRIES = [
    {"date_of_estimate": dt.date(2023, 10, 13), "quantity": "containers", "value": 1000, "low": 1000,
     "high": None, "baseline": "2023-09-07 (shipments)", "sources": ["https://a.example"]},
    {"date_of_estimate": dt.date(2023, 10, 16), "quantity": "shells", "value": None, "low": 100000,
     "high": 900000, "baseline": "2023-09"},
    {"date_of_estimate": dt.date(2025, 7, 12), "quantity": "share of ammunition (percent)", "value": 40},
    {"date_of_estimate": dt.date(2025, 5, 29), "quantity": "rounds transferred during 2024", "value": 9e6},
    {"date_of_estimate": dt.date(2024, 8, 27), "quantity": "containers", "value": 13000, "baseline": "2022-07"},
    {"date_of_estimate": "2024-01-01", "quantity": "nothing", "value": None},
]


def test_estimates_keep_cumulative_items_only():
    points = plotdata.estimates(ENTRIES)
    assert [p.date for p in points] == [dt.date(2023, 10, 13), dt.date(2023, 10, 16), dt.date(2024, 8, 27)]
    assert points[0].point == 1000 and points[0].sources == ("https://a.example",)
    assert points[1].point == pytest.approx(300000.0)  # geometric middle of 100k and 900k
    assert points[0].baseline_date == dt.date(2023, 9, 7)
    assert points[2].baseline_date == dt.date(2022, 7, 1)


def test_read_estimates_from_the_data_file():
    from scenarios.report import repo_root

    observed = plotdata.read_estimates(str(repo_root() / "data" / "numeric_series.yaml"),
                                       {"containers": "containers_nk_to_russia"})
    assert len(observed["containers"]) == 9
    assert all(p.sources for p in observed["containers"])
    rows = plotdata.estimate_rows(observed)
    assert len(rows) == 9 and rows[0]["flow"] == "containers"


def test_read_estimates_without_a_series_file_gives_none():
    assert plotdata.read_estimates("", {"containers": "x"}) == {"containers": []}
    assert plotdata.read_estimates(None, {"containers": "x"}) == {"containers": []}


def test_read_estimates_names_a_missing_file_or_series():
    from scenarios.errors import ParamsError
    from scenarios.report import repo_root

    with pytest.raises(ParamsError, match="file not found"):
        plotdata.read_estimates("/nonexistent/series.yaml", {"containers": "x"})
    with pytest.raises(ParamsError, match=r"containers_nk_to_rusia: no series .*did you mean 'containers_nk_to_russia'"):
        plotdata.read_estimates(str(repo_root() / "data" / "numeric_series.yaml"), {"containers": "containers_nk_to_rusia"})


# --------------------------------------------------------------------------- tables


def test_table_rows(tiny):
    model, worlds = tiny
    params = plotdata.parameter_rows(model)
    assert [r["node"] for r in params] == list(model.nodes)
    row = next(r for r in params if r["node"] == "containers")
    assert row["note"] == "a flow with a note" and row["source"] == "https://example.org/source"
    assert "note" not in row["spec"] and row["spec"].startswith("{flow:")
    assert next(r for r in params if r["node"] == "place")["kind"] == "category (none, north, south)"
    run = {r["item"]: r["value"] for r in plotdata.run_rows(model, samples=4000, seed=3)}
    assert run["worlds"] == "4,000" and run["model's as of (prior)"] == "2023-09-05"


def test_forecast_rows():
    from scenarios.engine.forecast import run_forecast
    from scenarios.report import repo_root

    model, questions = load_model(str(repo_root() / "params" / "reference.yaml"))
    forecast = run_forecast(model, questions, samples=2000, seed=1)
    rows = plotdata.forecast_rows(forecast)
    assert [r["id"] for r in rows] == [q.id for q in questions]
    binary = rows[0]
    assert float(binary["forecast"]) == pytest.approx(forecast.questions[0].probability, abs=5e-4)
    assert rows[-1]["type"] == "numeric" and rows[-1]["forecast"].startswith("median ")


# --------------------------------------------------------------------------- drawing


def test_fan_chart_draws_bands_and_median(tiny):
    _, worlds = tiny
    fan = plotdata.flow_fans(worlds, "containers", by="outcome")[2]
    fig, ax = plots.figure()
    assert plots.fan_chart(fan, ax) is ax
    assert len(ax.collections) == 2 and len(ax.lines) == 1
    assert ax.get_title() == f"outcome: deal (P = {fan.probability:.2f})"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels and all("\n20" in t for t in labels)  # month and year on the date axis


def test_flow_figure_has_both_rows_and_the_estimates(tiny):
    model, worlds = tiny
    points = plotdata.estimates(ENTRIES)
    fig = plots.flow_figure(plotdata.flow_fans(worlds, "containers", by="outcome"),
                            plotdata.flow_fans(worlds, "containers", by="outcome", cumulative=True),
                            points, title="Containers", unit="containers", as_of=model.as_of)
    axes = fig.get_axes()
    assert len(axes) == 6
    assert axes[0].get_ylabel() == "containers per month"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:3] == ["5%–95%", "25%–75%", "median"]  # the fans first, then the estimates
    assert {"estimate (bar: low–high)", "lower bound ('more than')", "hollow: baseline before as-of"} <= set(legend[3:])
    # each row shares one scale: counts on the left column, dates on the bottom row only
    assert [a.get_ylim() for a in axes[:3]] == [axes[0].get_ylim()] * 3
    assert len(axes[0].get_yticks()) and not len(axes[1].get_yticks()) and not len(axes[0].get_xticks())
    assert all("\n20" in t.get_text() for t in axes[4].get_xticklabels())
    assert fig._suptitle.get_text() == "Containers"


def test_scenario_tree_draws_a_block_per_tree_block_and_a_title(tiny):
    _, worlds = tiny
    tree = plotdata.scenario_tree(worlds, LEVELS)
    fig, ax = plots.figure()
    assert plots.scenario_tree(tree, ax) is ax
    (blocks,) = ax.collections
    assert len(blocks.get_paths()) == len(plots.tree_blocks(tree))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["summit?", "when?", "where?", "outcome?"]
    assert ax.get_title().startswith("Scenario tree")
    assert plots.figure_title(fig) == ax.get_title()


def _children(tree):
    out = {}
    for b in tree.branches:
        out.setdefault(b.path[:-1], []).append(b)
    return out


@pytest.mark.parametrize("min_label", [0.0, 0.025, 0.1, 0.3, 1.01])
def test_tree_blocks_fill_each_parent_and_merge_thin_branches(tiny, min_label):
    _, worlds = tiny
    tree = plotdata.scenario_tree(worlds, LEVELS)
    blocks = plots.tree_blocks(tree, min_label=min_label)
    # the first column is filled exactly, top to bottom, without overlaps
    first = sorted((b for b in blocks if b.level == 0), key=lambda b: b.top)
    assert sum(b.probability for b in first) == pytest.approx(1.0)
    assert all(a.top + a.probability == pytest.approx(b.top) for a, b in zip(first, first[1:]))
    for b in blocks:
        if b.label is not None and not b.merged:
            assert b.probability >= min_label and b.end == b.level + 1
        if b.merged:
            assert b.end == len(tree.levels)
            assert (b.label is None) == (b.probability < min_label)
    # under each parent: its branches of at least min_label, then at most one merged block
    # (labelled or not), filling the parent's height exactly, top to bottom
    children = _children(tree)
    probability = {b.path: b.probability for b in tree.branches} | {(): 1.0}
    parents = {b.parent for b in blocks}
    for parent in parents:
        under = sorted((b for b in blocks if b.parent == parent), key=lambda b: b.top)
        assert sum(b.probability for b in under) == pytest.approx(probability[parent])
        assert sum(b.merged > 0 for b in under) <= 1
        assert [b.merged > 0 for b in under] == sorted(b.merged > 0 for b in under)  # merged block last
        kids = children[parent]
        assert sum(not b.merged for b in under) + sum(b.merged for b in under) == len(kids)
    # a parent's children are drawn only when the parent is drawn on its own
    assert parents <= {()} | {b.path for b in tree.branches if b.probability >= min_label}


@st.composite
def random_trees(draw):
    """Trees of 1-4 levels, 1-6 values per branch with weights from very thin to wide."""
    n_levels = draw(st.integers(1, 4))
    branches = []

    def grow(path, level, p):
        if level == n_levels:
            return
        k = draw(st.integers(1, 6))
        weights = draw(st.lists(st.floats(1e-4, 1.0), min_size=k, max_size=k))
        total = sum(weights)
        for i, w in enumerate(weights):
            q = p * w / total
            branches.append(plotdata.Branch(level, path + (f"v{level}{i}",), q, w / total, 0.0))
            grow(path + (f"v{level}{i}",), level + 1, q)

    grow((), 0, 1.0)
    return plotdata.Tree(tuple(f"l{i}" for i in range(n_levels)), tuple(f"l{i}" for i in range(n_levels)),
                         tuple(branches))


@settings(max_examples=30, deadline=None)
@given(random_trees(), st.floats(0.0, 0.2))
def test_tree_blocks_of_any_tree(tree, min_label):
    blocks = plots.tree_blocks(tree, min_label=min_label)
    probability = {b.path: b.probability for b in tree.branches} | {(): 1.0}
    for parent in {b.parent for b in blocks}:
        under = sorted((b for b in blocks if b.parent == parent), key=lambda b: b.top)
        assert sum(b.probability for b in under) == pytest.approx(probability[parent], rel=1e-9, abs=1e-12)
        assert sum(b.merged > 0 for b in under) <= 1 and not any(b.merged for b in under[:-1])
        assert all(b.probability >= min_label for b in under if not b.merged)
    assert all(b.label is not None for b in blocks if b.probability >= min_label)
    # unlabelled blocks: at most one per parent, so never more than the parents drawn
    assert sum(b.label is None for b in blocks) <= len({b.parent for b in blocks})
    fig, ax = plots.figure()
    plots.scenario_tree(tree, ax, min_label=min_label)
    assert plots.has_data(fig)


def test_tree_blocks_by_hand():
    tree = plotdata.Tree(("a", "b"), ("a", "b"), (
        plotdata.Branch(0, ("x",), 0.9, 0.9, 0.0),
        plotdata.Branch(1, ("x", "p"), 0.88, 0.88 / 0.9, 0.0),
        plotdata.Branch(1, ("x", "q"), 0.01, 0.01 / 0.9, 0.88),
        plotdata.Branch(1, ("x", "r"), 0.01, 0.01 / 0.9, 0.89),
        plotdata.Branch(0, ("y",), 0.06, 0.06, 0.9),
        plotdata.Branch(0, ("z",), 0.02, 0.02, 0.96),
        plotdata.Branch(1, ("z", "p"), 0.02, 1.0, 0.96),
        plotdata.Branch(0, ("w",), 0.02, 0.02, 0.98),
    ))
    blocks = plots.tree_blocks(tree, min_label=0.025)
    as_tuples = [(b.level, b.end, round(b.top, 6), round(b.probability, 6), b.label, b.merged) for b in blocks]
    assert [b.parent for b in blocks] == [(), ("x",), ("x",), (), ()]
    with pytest.raises(ValueError, match="needs a value, a low or a high end"):
        plots.estimate_mark(None, None, None)
    assert as_tuples == [
        (0, 1, 0.0, 0.9, "x", 0),
        (1, 2, 0.0, 0.88, "p", 0),
        (1, 2, 0.88, 0.02, None, 2),  # q and r: one unlabelled block, not two slivers
        (0, 1, 0.9, 0.06, "y", 0),
        (0, 2, 0.96, 0.04, "z, w", 2),  # z's own child is not drawn as a sliver of its own
    ]


def test_event_plots(tiny):
    _, worlds = tiny
    curves = plotdata.event_curves(worlds)
    fig, ax = plots.figure()
    assert plots.event_curves(curves, ax) is ax
    assert len(ax.lines) == 1 and ax.get_legend().get_texts()[0].get_text().startswith("summit_day (P 0.7")
    fig, ax = plots.figure()
    assert plots.event_strips(curves, ax) is ax
    assert len(ax.images) == 1
    assert ax.get_yticklabels()[0].get_text().startswith("summit_day  0.7")


def test_show_saves_png_and_svg(tmp_path, tiny):
    fig, ax = plots.figure()
    ax.plot([0, 1], [0, 1])
    ax.set_title("A line & a <title>")
    shown = plots.show(fig, "line", str(tmp_path / "figs"))
    data, metadata = shown._repr_png_()
    assert data.startswith(b"\x89PNG") and metadata == {"alt": "A line & a <title>"}
    png, svg = (tmp_path / "figs" / "line.png"), (tmp_path / "figs" / "line.svg")
    assert shown.paths == [str(png), str(svg)]
    assert png.read_bytes() == shown.png
    assert b"<svg" in svg.read_bytes()[:400]
    assert plots.show(fig, "line").paths == []


def _png_text(png: bytes) -> dict:
    """The tEXt chunks of a PNG (keyword -> text), read by hand."""
    import struct

    out, pos = {}, 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind, body = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        pos += 12 + length
    return out


def test_the_title_is_recorded_for_alt_text(tmp_path):
    fig, axes = plots.figure(1, 2)
    axes[0, 0].plot([0, 1], [0, 1])
    axes[0, 1].set_title("second panel")
    shown = plots.show(fig, "two", str(tmp_path))
    assert shown.title == "second panel"  # the first axes with a title
    fig.suptitle("The figure\nin two lines")
    shown = plots.show(fig, "two", str(tmp_path))
    assert shown.title == "The figure in two lines"  # the suptitle first
    assert _png_text((tmp_path / "two.png").read_bytes())["Title"] == "The figure in two lines"
    assert "<title>The figure in two lines</title>" in (tmp_path / "two.svg").read_text()
    fig, ax = plots.figure()
    ax.plot([0, 1], [1, 0])
    assert plots.show(fig, "no_title_here").title == "no title here"
    assert plots.show(fig, "x", title="given").title == "given"


def _labels_only(fig, ax):
    ax.set_title("a title")
    ax.set_xlabel("x")
    ax.plot([], [], label="nothing")
    ax.fill_between([], [], [])
    ax.legend()
    ax.text(0.5, 0.5, "just text")
    plots.grid_lines(ax, [0.2, 0.4], [0.5])
    ax.plot([0, 1], [0, 1], gid=plots.GUIDE)
    fig.suptitle("a suptitle")


def _hidden_panel(fig, ax):
    hidden = fig.add_axes([0.1, 0.1, 0.2, 0.2])
    hidden.plot([0, 1], [0, 1])
    hidden.set_visible(False)


BLANK = {  # titles, labels, legends, guides, hidden or empty artists: nothing to see
    "empty": lambda fig, ax: None,
    "labels_only": _labels_only,
    "nan_line": lambda fig, ax: ax.plot([0, 1], [np.nan, np.nan]),
    "hidden_panel": _hidden_panel,
    "hidden_line": lambda fig, ax: ax.plot([0, 1], [0, 1])[0].set_visible(False),
    "no_events": lambda fig, ax: plots.event_strips([], ax),
}


@pytest.mark.parametrize("name", list(BLANK))
def test_a_blank_figure_is_never_saved(tmp_path, name):
    fig, ax = plots.figure()
    BLANK[name](fig, ax)
    assert not plots.has_data(fig)
    with pytest.raises(ScenarioError, match=rf"figure '{name}' has nothing drawn"):
        plots.show(fig, name, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def _drawn_figures(tiny):
    _, worlds = tiny
    for kind, draw in {
        "line": lambda ax: ax.plot([0, 1], [0, 1]),
        "one_point": lambda ax: ax.plot([0], [1], "o"),
        "band": lambda ax: ax.fill_between([0, 1], [0, 0], [1, 1]),
        "scatter": lambda ax: ax.scatter([1], [2]),
        "bar": lambda ax: ax.bar([1], [2]),
        "image": lambda ax: ax.imshow(np.eye(3)),
        "errorbar": lambda ax: ax.errorbar([1], [1], yerr=[0.5], fmt="none"),
        "fan": lambda ax: plots.fan_chart(plotdata.flow_fans(worlds, "containers")[0], ax),
        "tree": lambda ax: plots.scenario_tree(plotdata.scenario_tree(worlds, LEVELS), ax),
        "strips": lambda ax: plots.event_strips(plotdata.event_curves(worlds), ax),
    }.items():
        fig, ax = plots.figure()
        draw(ax)
        yield kind, fig


def test_figures_with_data_are_saved_and_visibly_drawn(tmp_path, tiny):
    import matplotlib.image

    for kind, fig in _drawn_figures(tiny):
        assert plots.has_data(fig), kind
        (png, _) = plots.show(fig, kind, str(tmp_path)).paths
        pixels = matplotlib.image.imread(png)[..., :3]
        assert pixels.std() > 0.02, kind  # visible content, not a white page


def test_show_rejects_a_bad_name():
    fig, _ = plots.figure()
    with pytest.raises(ScenarioError, match=r"figure name must be letters, digits.*got '\.\./x'"):
        plots.show(fig, "../x", "/tmp")


def test_table_html_escapes_and_links():
    table = plots.Table([{"a": "<b>", "source": "see https://x.example/p?q=1 ; more"}], title="T & U")
    html = table._repr_html_()
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert '<a href="https://x.example/p?q=1">https://x.example/p?q=1</a>' in html
    assert "T &amp; U" in html
    assert repr(table).splitlines()[1].startswith("a ")


def _links(fragment: str) -> list:
    """(href, text) of every link in an HTML fragment, as a browser reads them."""
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.links, self.href, self.text = [], None, ""

        def handle_starttag(self, tag, attrs):
            if tag == "a":
                self.href, self.text = dict(attrs)["href"], ""

        def handle_data(self, data):
            if self.href is not None:
                self.text += data

        def handle_endtag(self, tag):
            if tag == "a":
                self.links.append((self.href, self.text))
                self.href = None

    parser = Links()
    parser.feed(fragment)
    return parser.links


def _evidence_urls_with_ampersands() -> list:
    from scenarios.report import repo_root

    text = (repo_root() / "data" / "evidence.yaml").read_text()
    urls = sorted(set(re.findall(r"https?://\S*&\S*", text)))
    assert urls, "data/evidence.yaml has URLs with '&' (the KBS links)"
    return urls


def test_links_with_ampersands_point_at_the_real_url():
    urls = _evidence_urls_with_ampersands()
    assert any("Seq_Code=" in u for u in urls)
    for url in urls:
        fragment = plots.link_html(f"KBS ({url}); and more")
        assert _links(fragment) == [(url, url)]
        assert f'href="{url.replace("&", "&amp;")}"' in fragment
        assert fragment.endswith(");" + " and more") or fragment.endswith("); and more")


@pytest.mark.parametrize(("text", "links", "after"), [
    ("https://a.example/p;jsessionid=9?x=1&y=2", ["https://a.example/p;jsessionid=9?x=1&y=2"], ""),
    ("https://a.example/1 ; https://b.example/2?a=1&b=2;", ["https://a.example/1", "https://b.example/2?a=1&b=2"], ";"),
    ("(see https://en.wikipedia.org/wiki/Foo_(bar)).", ["https://en.wikipedia.org/wiki/Foo_(bar)"], ")."),
    ("https://a.example/x?q=\"><script>", ["https://a.example/x?q="], "&gt;&lt;script&gt;"),
    ("no link &amp; here", [], "no link &amp;amp; here"),
    ("http:// alone", [], "http:// alone"),
])
def test_link_html_cases(text, links, after):
    fragment = plots.link_html(text)
    assert [href for href, _ in _links(fragment)] == links
    assert fragment.endswith(after)
    assert "<script" not in fragment


def test_table_cells_use_the_one_number_format():
    table = plots.Table([{"n": 1000.0, "p": 0.25, "missing": None, "flag": True, "text": "1e+03"}])
    html = table._repr_html_()
    for cell in ("1,000", "0.25", "–", "yes", "1e+03"):
        assert f">{cell}</td>" in html
    assert "1,000" in repr(table) and "None" not in repr(table)


def test_estimate_rows_print_ranges_without_dangling_dashes():
    points = plotdata.estimates([
        {"date_of_estimate": "2023-10-13", "quantity": "containers", "value": 1000, "low": 1000},
        {"date_of_estimate": "2023-10-14", "quantity": "containers", "high": 5},
        {"date_of_estimate": "2023-10-15", "quantity": "containers", "value": 12345.0, "low": 10000, "high": 20000},
    ])
    rows = plotdata.estimate_rows({"containers": points})
    assert [(r["value"], r["low–high"]) for r in rows] == [
        ("1,000", "≥ 1,000"), ("–", "≤ 5"), ("12,345", "10,000 – 20,000")]


def test_the_docstring_examples_hold():
    import doctest

    from scenarios.notebook import backtest_plots

    for module in (plots, backtest_plots):
        assert doctest.testmod(module).failed == 0


def test_date_ticks():
    ticks, labels = plots.date_ticks(dt.date(2023, 9, 5), dt.date(2026, 2, 21))
    assert ticks[0] == dt.date(2024, 1, 1) and labels[0] == "Jan\n2024"
    assert len(ticks) <= 6 and all(t.month in (1, 7) for t in ticks)
    assert plots.date_ticks(dt.date(2023, 9, 5), dt.date(2023, 12, 1))[1] == ["Oct\n2023", "Nov\n2023", "Dec\n2023"]
    assert plots.date_ticks(dt.date(2023, 9, 5), dt.date(2024, 9, 1))[1][:2] == ["Nov\n2023", "Jan\n2024"]


def test_date_ticks_for_short_spans_are_days():
    ticks, labels = plots.date_ticks(dt.date(2023, 9, 5), dt.date(2023, 9, 13))
    assert ticks == [dt.date(2023, 9, d) for d in (5, 7, 9, 11, 13)]
    assert labels[0] == "05 Sep"
    # one month start in the span is not enough for month ticks
    assert len(plots.date_ticks(dt.date(2023, 9, 20), dt.date(2023, 10, 20))[0]) >= 2
    assert plots.date_ticks(dt.date(2023, 9, 5), dt.date(2024, 9, 1), one_line=True)[1][:2] == ["Nov 23", "Jan 24"]


# --------------------------------------------------------------------------- backtest figures


def _fan_path(as_of, scale, months=12):
    from scenarios.backtest import FanPath

    dates = [dt.date(2023, 9, 5) + dt.timedelta(days=30 * (m + 1)) for m in range(months)]
    base = scale * np.arange(1, months + 1, dtype=float)
    levels = (0.05, 0.25, 0.5, 0.75, 0.95)
    return FanPath(as_of, dates, levels, np.vstack([base * f for f in (0.5, 0.8, 1.0, 1.2, 1.6)]), 1000.0)


def test_pick_fans_spreads_the_dates():
    from scenarios.notebook.backtest_plots import pick_fans

    assert pick_fans(list(range(7)), 3) == [0, 3, 6]
    assert pick_fans(list(range(4)), 2) == [0, 3]
    assert pick_fans([], 3) == []
    with pytest.raises(ValueError, match="at least 1"):
        pick_fans([1], 0)


def test_backtest_fans_are_few_distinct_and_share_the_time_axis():
    from scenarios.notebook import backtest_plots

    as_ofs = [dt.date(2023, 9, 5) + dt.timedelta(days=40 * i) for i in range(5)]
    points = [{"on": dt.date(2024, 1, 10), "value": 5000.0, "low": None, "high": None},
              {"on": dt.date(2023, 11, 1), "value": None, "low": 1000.0, "high": None}]
    fans = {
        "containers.cumulative": ([_fan_path(d, 1000.0) for d in as_ofs], points),
        "shells.cumulative": ([_fan_path(d, 250_000.0, months=8) for d in as_ofs], []),
    }
    fig = backtest_plots.fan_grid(fans, until=dt.date(2024, 6, 30))
    top, bottom = fig.axes[:2]
    assert top.get_shared_x_axes().joined(top, bottom)
    assert top.get_xlim() == bottom.get_xlim()
    for ax in (top, bottom):
        medians = [line for line in ax.get_lines() if line.get_label().startswith("as of")]
        assert [line.get_label()[6:16] for line in medians] == ["2023-09-05", "2023-11-24", "2024-02-12"]
        colours = [line.get_color() for line in medians]
        assert 2 <= len(medians) <= 3 and len(set(colours)) == len(colours)
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend[:len(medians)] == [line.get_label() for line in medians]
    # the dates are read once, on the bottom panel; counts use the one number format
    assert not any(t.get_visible() and t.get_text() for t in top.get_xticklabels())
    assert any(t.get_text() for t in bottom.get_xticklabels())
    assert bottom.yaxis.get_major_formatter()(1_000_000, 0) == "1,000,000"
    assert plots.has_data(fig) and plots.figure_title(fig).startswith("containers.cumulative")
