"""What the figures show (plotdata) and that the figures draw it (plots)."""

from __future__ import annotations

import datetime as dt
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
    assert [f.label for f in fans] == ["all worlds", "no_deal", "deal"]
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
                                       {"containers": "containers_nk_to_russia", "missing": "no_such_series"})
    assert len(observed["containers"]) == 9 and observed["missing"] == []
    assert all(p.sources for p in observed["containers"])
    rows = plotdata.estimate_rows(observed)
    assert len(rows) == 9 and rows[0]["flow"] == "containers"


def test_read_estimates_without_the_file_gives_none():
    assert plotdata.read_estimates("/nonexistent/series.yaml", {"containers": "x"}) == {"containers": []}


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
    assert run["worlds"] == "4,000" and run["as of"] == "2023-09-05"


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
    assert ax.get_title() == f"deal (P = {fan.probability:.2f})"
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


def test_scenario_tree_draws_a_block_per_branch(tiny):
    _, worlds = tiny
    tree = plotdata.scenario_tree(worlds, LEVELS)
    fig, ax = plots.figure()
    assert plots.scenario_tree(tree, ax) is ax
    assert len(ax.patches) == len(tree.branches)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["summit?", "when?", "where?", "outcome?"]


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
    shown = plots.show(fig, "line", str(tmp_path / "figs"))
    assert shown._repr_png_().startswith(b"\x89PNG")
    png, svg = (tmp_path / "figs" / "line.png"), (tmp_path / "figs" / "line.svg")
    assert shown.paths == [str(png), str(svg)]
    assert png.read_bytes() == shown.png
    assert b"<svg" in svg.read_bytes()[:400]
    assert plots.show(fig, "line").paths == []


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
