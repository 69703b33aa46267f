"""Validation of model specs: each bad input names file, key path, bad value and expectation."""

from __future__ import annotations

import pytest

from conftest import HEADER
from scenarios.errors import ParamsError
from scenarios.model.load import load_model

BAD_NODES = [
    # (nodes yaml, expected message pattern)
    ("a: {bernouli: {p: 0.5}}", r"nodes\.a\.bernouli: unknown key 'bernouli'.*did you mean 'bernoulli'"),
    ("a: {bernoulli: {p: 1.5}}", r"nodes\.a\.bernoulli\.p: expected a probability in \[0, 1\], got 1\.5"),
    ("a: {bernoulli: {p: '1 + 0.5'}}", r"nodes\.a\.bernoulli\.p: expected a probability in \[0, 1\], got 1\.5"),
    ("a: {bernoulli: {q: 0.5}}", r"nodes\.a\.bernoulli\.q: unknown key 'q'"),
    ("a: {ci90: [50, 5]}", r"nodes\.a\.ci90: expected a 90% interval as \[low, high\] with low < high, got \[50, 5\]"),
    ("a: {ci90: [0, 5]}", r"nodes\.a\.ci90: expected \[low, high\] with 0 < low < high"),
    ("a: {lognormal: {ci90: [-1, 5]}}", r"nodes\.a\.lognormal\.ci90: expected \[low, high\] with 0 < low < high"),
    ("a: {ci90: [5]}", r"nodes\.a\.ci90: expected a 90% interval as \[low, high\]"),
    ("a: {poisson: {rate: -1}}", r"nodes\.a\.poisson\.rate: expected a rate in \[0, 1e\+18\], got -1$"),
    ("a: {flow: {rate: -3}}", r"nodes\.a\.flow\.rate: expected a rate per month >= 0, got -3$"),
    ("a: {beta: {mean: 0.5}}", r"nodes\.a\.beta: expected \{a, b\} or \{mean, concentration\}"),
    ("a: {categorical: {x: 0.5, y: 0.6}}", r"nodes\.a\.categorical: category probabilities must sum to 1, got 1\.1"),
    ("a: {expr: 'b + 1'}", r"nodes\.a\.expr: unknown node 'b'"),
    ("a: {expr: 'x + 1'}\n  xx: 1", r"unknown node 'x' \(did you mean 'xx'\?\)"),
    ("a: {expr: '__import__(\"os\")'}", r"nodes\.a\.expr: unknown function '__import__'"),
    ("a: {expr: 'b.real'}\n  b: 1", r"attributes \('b\.real'\) are not allowed"),
    ("a: {expr: 'b + 1'}\n  b: {expr: 'a * 2'}", r"cycle in node references: (a -> b -> a|b -> a -> b)"),
    ("a: {categorical: {x: 0.5, y: 0.5}}\n  b: {expr: \"a == 'z'\"}", r"nodes\.b\.expr: unknown category 'z' of 'a'"),
    ("a: {categorical: {x: 0.5, y: 0.5}}\n  b: {by: a, cases: {x: 1, z: 2}}", r"nodes\.b\.cases\.z: 'a' has no category 'z'"),
    ("a: {categorical: {x: 0.5, y: 0.5}}\n  b: {by: a, cases: {x: 1}}", r"nodes\.b\.cases: no case for \['y'\]"),
    ("a: {event: {delay: 3, chance_per_month: 0.1}}", r"nodes\.a\.event: expected exactly one of 'delay' and 'chance_per_month'"),
    ("a: {event: {after: 2023-13-01, delay: 3}}", r"nodes\.a\.event\.after|bad value"),
    ("a: {event: {after: b, delay: 3}}\n  b: 1", r"nodes\.a\.event\.after: expected an event node"),
    ("a: {flow: {rate: 3, start: b}}\n  b: 1", r"nodes\.a\.flow\.start: expected an event node"),
    ("a: {gamma: {shape: 2, scale: 3}, round: down}", r"nodes\.a\.round: expected floor, ceil or nearest"),
    ("a: {poisson: 2, truncate: [0, 3]}", r"nodes\.a\.truncate: truncate works with"),
    ("a: {mixture: [{weight: 0.5, dist: 1}, {weight: 0.4, dist: 2}]}", r"mixture weights must sum to 1"),
    ("1a: 3", r"node names must be identifiers"),
    ("a: [1, 2]", r"nodes\.a: expected a distribution or node spec, got a list"),
    ("a: {normal: {mean: 1, sd: 1}, uniform: [1, 2]}", r"expected exactly one of"),
]


@pytest.mark.parametrize("nodes, pattern", BAD_NODES)
def test_bad_node_specs(write, nodes, pattern):
    path = write("m.yaml", HEADER + "nodes:\n  " + nodes + "\n")
    with pytest.raises(ParamsError, match=pattern) as info:
        load_model(path)
    assert str(info.value).startswith(path)


@pytest.mark.parametrize(
    "top, pattern",
    [
        ("as_of: 2023-02-30\nhorizon_months: 3\nnodes: {a: 1}\n", r"bad value|day is out of range"),
        ("as_of: soon\nhorizon_months: 3\nnodes: {a: 1}\n", r"as_of: expected a date as YYYY-MM-DD, got a string \('soon'\)"),
        ("as_of: 2023-09-05\nhorizon_months: 0\nnodes: {a: 1}\n", r"horizon_months: expected a whole number of months"),
        ("as_of: 2023-09-05\nhorizon_months: 2.5\nnodes: {a: 1}\n", r"horizon_months: .*whole number"),
        ("as_of: 2023-09-05\nhorizon_monts: 3\nnodes: {a: 1}\n", r"unknown key 'horizon_monts'.*did you mean 'horizon_months'"),
        ("as_of: 2023-09-05\nhorizon_months: 3\n", r"missing required key 'nodes'"),
        ("as_of: 2023-09-05\nhorizon_months: 3\nsamples: -5\nnodes: {a: 1}\n", r"samples: expected a whole number of worlds"),
    ],
)
def test_bad_top_level(write, top, pattern):
    with pytest.raises(ParamsError, match=pattern):
        load_model(write("m.yaml", top))


def test_runtime_parameter_out_of_range_names_node(write):
    from scenarios.engine.forecast import run_forecast

    path = write(
        "m.yaml",
        HEADER + "nodes:\n  x: {normal: {mean: 0.5, sd: 1}}\n  a: {bernoulli: {p: x}}\n"
        "questions:\n  - {id: q, resolve: {is: {a: true}}}\n",
    )
    model, qs = load_model(path)
    with pytest.raises(ParamsError, match=r"nodes\.a: parameter p must lie in \[0\.0, 1\.0\] in every world, got -?\d\.\d+ in \d+ of 1000 worlds$") as info:
        run_forecast(model, qs, samples=1000, seed=1)
    assert "np." not in str(info.value)  # the value as a reader writes it, not numpy's repr
    assert str(info.value).startswith(f"{path}:7: nodes.a: ")  # the node's line in its file


def test_valid_model_compiles_kinds_and_order(write):
    path = write(
        "m.yaml",
        HEADER
        + """nodes:
  shells: {expr: containers * spc}
  containers: {flow: {rate: r, start: day}}
  spc: {ci90: [300, 600]}
  r: {by: flag, cases: {true: {ci90: [10, 20]}, false: 0}}
  flag: {bernoulli: 0.5}
  day: {event: {when: flag, delay: {uniform: [1, 20]}}}
  kind: {by: flag, cases: {true: {categorical: {a: 0.5, b: 0.5}}, false: {categorical: {c: 1}}}}
""",
    )
    model, _ = load_model(path)
    order = model.order
    assert order.index("flag") < order.index("r") < order.index("containers") < order.index("shells")
    assert model.kinds["shells"].type == "flow"
    assert model.kinds["day"].type == "event"
    assert model.kinds["flag"].type == "bool"
    assert set(model.kinds["kind"].categories) == {"a", "b", "c"}


def test_ancestors_follow_what_nodes_read_except_past_stop_nodes(write):
    path = write("m.yaml", HEADER + """nodes:
  p: {beta: {mean: 0.5, concentration: 4}}
  x: {bernoulli: p}
  y: {expr: 'where(x, 2, 1)'}
  z: 3
""")
    model, _ = load_model(path)
    assert model.ancestors(["y"]) == {"y", "x", "p"}
    assert model.ancestors(["y"], stop=["x"]) == {"y", "x"}  # x is kept, what it reads is not followed
    assert model.ancestors(["y", "z"], stop={"y": 1}) == {"y", "z"}


def test_a_misspelt_key_in_an_override_gets_a_did_you_mean(write):
    path = write("m.yaml", HEADER + "nodes:\n  summit: {bernoulli: {p: 0.5}}\n")
    with pytest.raises(ParamsError, match=r"<command line>: nodes\.summit\.bernouli: unknown key 'bernouli'.*did you mean 'bernoulli'"):
        load_model(path, overrides=["summit.bernouli=0.3"])
    with pytest.raises(ParamsError, match=r"nodes\.summit\.bernoulli\.pp: unknown key 'pp'.*did you mean 'p'"):
        load_model(path, overrides=["summit.bernoulli.pp=0.3"])
