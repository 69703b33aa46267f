"""The report: section of a params file: what it says, its defaults from the model, its errors."""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
import sys

import pytest

from conftest import HEADER, REPO
from scenarios.errors import ParamsError
from scenarios.model.load import load_model
from scenarios.model.report_spec import MAX_DEFAULT_TREE_LEVELS, FlowChart, TreeLevel, report_spec

BASE = os.path.join(REPO, "params", "base.yaml")

SMALL = HEADER + """
nodes:
  summit: {bernoulli: {p: 0.7}}
  timing:
    by: summit
    cases:
      true: {categorical: {soon: 0.6, later: 0.4}}
      false: {categorical: {none: 1.0}}
  place:
    by: timing
    cases:
      soon: {categorical: {here: 0.5, there: 0.5}}
      later: {categorical: {here: 0.2, there: 0.8}}
      none: {categorical: {none: 1.0}}
  size: {uniform: [1, 2]}
  meets: {event: {when: summit, delay: {uniform: [1, 30]}}}
  ships:
    flow:
      rate: {by: place, cases: {here: {constant: 5}, there: {constant: 9}, none: {constant: 1}}}
  other_flow: {flow: {rate: size}}
"""


def spec_of(path, overrides=None):
    model, _ = load_model(path, overrides=overrides)
    return report_spec(model)


def test_base_states_todays_report():
    spec = spec_of(BASE)
    assert spec.tree == (TreeLevel("summit", "summit"), TreeLevel("summit_day", "when"),
                         TreeLevel("place", "where"), TreeLevel("outcome", "outcome"))
    assert spec.events == ("summit_day", "arms_start", "us_delivery_statement", "missile_start",
                           "missiles_used_reported", "treaty_day", "troops_deploy")
    assert [(f.node, f.series, f.by) for f in spec.flows] == [
        ("containers", "containers_nk_to_russia", "outcome"),
        ("shells", "artillery_shells_nk_to_russia", "outcome"),
        ("missiles", "ballistic_missiles_nk_to_russia", "outcome"),
        ("nk_troops_sent", "troops_deployed_nk_to_russia", "treaty_at_visit"),  # a stock: its level
    ]
    assert [f.kind for f in spec.flows] == ["flow", "flow", "flow", "stock"]
    assert spec.explicit == {"tree", "events", "flows"}


def test_defaults_follow_the_by_chain_every_event_and_every_flow(write):
    spec = spec_of(write("m.yaml", SMALL))
    assert [lv.node for lv in spec.tree] == ["summit", "timing", "place"]
    assert spec.events == ("meets",)
    assert spec.flows == (FlowChart("ships", "ships", "ships", None, "place"),
                          FlowChart("other_flow", "other_flow", "other_flow", None, None))
    assert spec.explicit == frozenset()


def test_defaults_without_by_nodes_have_no_tree_and_a_partial_section_keeps_the_other_defaults(write):
    path = write("m.yaml", HEADER + "nodes:\n  a: {bernoulli: {p: 0.5}}\n  e: {event: {when: a, delay: {uniform: [1, 9]}}}\n")
    spec = spec_of(path)
    assert spec.tree == () and spec.events == ("e",) and spec.flows == ()
    spec = spec_of(write("n.yaml", SMALL + "report: {tree: [meets], events: []}\n"))
    assert spec.tree == (TreeLevel("meets", "meets"),) and spec.events == ()
    assert [f.node for f in spec.flows] == ["ships", "other_flow"]  # default, split by no tree level
    assert all(f.by is None for f in spec.flows)


def test_a_default_tree_has_at_most_a_few_levels():
    model, _ = load_model(BASE, overrides={"report": None})
    spec = report_spec(model)
    assert [lv.node for lv in spec.tree] == ["summit", "summit_timing", "place", "outcome"]
    assert len(spec.tree) <= MAX_DEFAULT_TREE_LEVELS
    assert list(spec.events) == [n for n, k in model.kinds.items() if k.type == "event" and not n.startswith("_")]
    assert [f.node for f in spec.flows] == [
        n for n, k in model.kinds.items() if k.type in ("flow", "stock") and not n.startswith("_")]
    assert {"containers", "shells", "missiles", "nk_troops_sent", "nk_killed"} <= {f.node for f in spec.flows}


def test_bins_and_labels(write):
    spec = spec_of(write("m.yaml", SMALL + "report:\n  tree: [{node: meets, label: when, bins: [2023-09-30, 2023-12-31]}]\n"))
    assert spec.tree == (TreeLevel("meets", "when", (_dt.date(2023, 9, 30), _dt.date(2023, 12, 31))),)
    assert spec.tree_levels == [{"node": "meets", "label": "when", "bins": [_dt.date(2023, 9, 30), _dt.date(2023, 12, 31)]}]


@pytest.mark.parametrize(
    "section, path, match",
    [
        ("[tree]", "report", "expected a mapping with keys tree, events, flows, note, sensitivity, got a list"),
        ("{trees: []}", "report.trees", r"unknown key 'trees'.*did you mean 'tree'\?"),
        ("{tree: [sumit]}", "report.tree.0", r"unknown node 'sumit'; expected a boolean, categorical or event node \(did you mean 'summit'\?\)"),
        ("{tree: [size]}", "report.tree.0", r"'size' is a number node \(the model's: summit, timing, place, meets\)"),
        ("{tree: [summit, summit]}", "report.tree.1", "already a level"),
        ("{tree: [{label: x}]}", "report.tree.0", "missing key 'node'"),
        ("{tree: [{node: summit, bins: [2023-10-01]}]}", "report.tree.0.bins", "bins go with an event node; 'summit' is a bool node"),
        ("{tree: [{node: meets, bins: [2023-12-01, 2023-10-01]}]}", "report.tree.0.bins", "increasing dates"),
        ("{tree: [{node: meets, bins: [2023-09-01]}]}", "report.tree.0.bins.0", "after the model's as_of"),
        ("{tree: [{node: meets, bins: [someday]}]}", "report.tree.0.bins.0", "expected a date as YYYY-MM-DD"),
        ("{tree: [{node: summit, label: 3}]}", "report.tree.0.label", "expected text, got int"),
        ("{events: meets}", "report.events", "expected a list of event nodes, got a string"),
        ("{events: [summit]}", "report.events.0", r"expected an event node, 'summit' is a bool node \(the model's: meets\)"),
        ("{events: [meets, meets]}", "report.events.1", "listed twice"),
        ("{flows: [{node: shps}]}", "report.flows.0.node", r"unknown node 'shps'; expected a flow or stock node \(did you mean 'ships'\?\)"),
        ("{flows: [{node: ships, by: size}]}", "report.flows.0.by", "expected a boolean or categorical node, 'size' is a number node"),
        ("{flows: [{node: ships, serie: x}]}", "report.flows.0.serie", r"unknown key 'serie'.*did you mean 'series'\?"),
        ("{flows: [{node: ships, series: ''}]}", "report.flows.0.series", "expected text"),
        ("{flows: [ships, {node: ships}]}", "report.flows.1.node", "listed twice"),
        ("{note: [1]}", "report.note", "expected text"),
    ],
)
def test_a_bad_section_names_file_key_path_value_and_expectation(write, section, path, match):
    file = write("m.yaml", SMALL + f"report: {section}\n")
    with pytest.raises(ParamsError, match=match) as err:
        load_model(file)  # checked on load, with the rest of the file
    assert err.value.file == file and err.value.path == path
    assert err.value.line == SMALL.count("\n") + 1  # the line of report:, or of its part on that line


def test_the_command_line_rejects_a_bad_section_with_exit_2_and_writes_nothing(write, tmp_path):
    file = write("m.yaml", SMALL + "report: {events: [meet]}\n")
    for args in (["validate", file], ["report", file, "--out", str(tmp_path / "reports")]):
        proc = subprocess.run([sys.executable, "-m", "scenarios", *args], capture_output=True, text=True, cwd=REPO, timeout=300)
        assert proc.returncode == 2, proc.stderr
        assert f"{file}:25: report.events.0: unknown node 'meet'; expected an event node (did you mean 'meets'?)" in proc.stderr
    assert not (tmp_path / "reports").exists()


def test_a_flow_series_missing_from_the_series_file_is_exit_2_before_any_notebook(write, tmp_path):
    series = write("series.yaml", (
        "shipments:\n  - {date_of_estimate: 2023-10-01, quantity: ships, value: 10, low: null, high: null,\n"
        "     estimator: someone, sources: [https://example.org/a]}\n"
    ))
    file = write("m.yaml", SMALL + f"series: {os.path.basename(series)}\n"
                 "report: {flows: [{node: ships, series: shipment}]}\n")
    for args in (["validate", file], ["report", file, "--out", str(tmp_path / "reports")]):
        proc = subprocess.run([sys.executable, "-m", "scenarios", *args], capture_output=True, text=True, cwd=REPO, timeout=300)
        assert proc.returncode == 2, proc.stderr
        assert "report.flows.0.series: series 'shipment' is not in the series file" in proc.stderr
        assert "(did you mean 'shipments'?)" in proc.stderr
    assert not (tmp_path / "reports").exists()
    good = write("good.yaml", SMALL + f"series: {os.path.basename(series)}\n"
                 "report: {flows: [{node: ships, series: shipments}]}\n")
    proc = subprocess.run([sys.executable, "-m", "scenarios", "validate", good], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
