"""A node-level ``when:`` on a boolean or categorical node: outside it the node is "not applicable".

Behaviours, each against an exact answer: the node is n/a exactly where its condition is false and
drawn elsewhere exactly as the same node without ``when:`` (same seed, same name: the same random
numbers); expressions read n/a as false (a categorical as none of its categories); ``by:`` takes
the false case (a categorical: ``default:``); questions' ``is:`` clauses are false where the node is
n/a; the scenario tree has no branch for the node where it is n/a in every world of a branch;
fans split by the node give its n/a worlds a panel of their own ("b: n/a", their exact share), so
"no" holds only worlds where it applies, and such a figure renders; the default tree puts the node
below the nodes its condition reads;
observing the node says it applies (likelihood 0 where its condition is false), and as-of
forecasts match exact Bayes by enumeration; bad forms are errors naming the file, the key path,
the bad value and what was expected.

Monte Carlo tolerances (as in tests/test_after_all_any.py): the mean forecast over ``len(SEEDS)``
seeds is checked against the exact value within ``K_SE`` standard errors of that mean, the
standard error being the larger of the spread between seeds and the forecasts' own reported
standard error, over sqrt(seeds) (Student t with 9 degrees of freedom exceeds 6 with probability
about 2e-4).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pytest

from conftest import HEADER
from scenarios.engine.asof import forecast_as_of
from scenarios.engine.conditional import node_likelihood
from scenarios.engine.evidence import parse_evidence
from scenarios.engine.forecast import run_forecast
from scenarios.engine.simulate import node_rng, simulate
from scenarios.errors import ParamsError
from scenarios.model.families.categorical import NOT_APPLICABLE
from scenarios.model.load import load_model
from scenarios.model.questions import load_questions
from scenarios.model.report_spec import FlowChart, TreeLevel, report_spec
from scenarios.model.scenario import Context, WhenSpec
from scenarios.notebook import plots, sections
from scenarios.notebook.plotdata import fan, flow_fans, scenario_tree, split_label, top_scenarios

URL = "https://example.org/when-applicable"
SEEDS = tuple(range(201, 211))
K_SE = 6.0
N = 20_000

NODES = """
nodes:
  treaty: {bernoulli: 0.4}
  rate: {uniform: [0, 1]}
  clause:
    bernoulli: {p: "0.9 if rate > 0.5 else 0.5"}
    when: treaty
  kind:
    categorical: {mutual: "rate", unilateral: "1 - rate", none_named: 0.2}
    when: "treaty and clause"
  other: {normal: {mean: 0, sd: 1}}
"""
WITH = HEADER + NODES
WITHOUT = HEADER + NODES.replace("    when: treaty\n", "").replace("    when: \"treaty and clause\"\n", "")


@pytest.fixture
def both(write):
    """The model with when: and the same text without it."""
    (with_, _), (without, _) = load_model(write("with.yaml", WITH)), load_model(write("without.yaml", WITHOUT))
    return with_, without


def item(public_on, **what) -> dict:
    return {"public_on": str(public_on), "source": URL, **what}


# =========================================================================== draws


def test_na_exactly_where_the_condition_is_false_and_the_same_draws_elsewhere(both):
    with_, without = both
    assert isinstance(with_.nodes["clause"].spec, WhenSpec) and not isinstance(without.nodes["clause"].spec, WhenSpec)
    a, b = simulate(with_, N, 3), simulate(without, N, 3)
    treaty = a["treaty"]
    # every other node is the same in every world; the nodes with when: where they apply
    for name in ("treaty", "rate", "other"):
        assert np.array_equal(a[name], b[name])
    assert np.array_equal(a.applicable("clause"), treaty)
    assert np.array_equal(a["clause"][treaty], b["clause"][treaty])
    assert not a["clause"][~treaty].any()  # a boolean that does not apply holds false
    on = treaty & b["clause"]  # kind's condition, read from the model without when:
    assert np.array_equal(a.applicable("kind"), on)
    assert np.array_equal(a["kind"][on], b["kind"][on])
    assert (a["kind"][~on] == NOT_APPLICABLE).all()
    assert 0.2 < on.mean() < 0.4  # both parts of the model occur
    # nodes without when: apply everywhere; labels say n/a
    assert a.applicable("treaty").all() and b.applicable("kind").all()
    labels = a.labels("kind")
    assert (labels[~on] == "n/a").all()
    assert np.array_equal(labels[on], np.array(["mutual", "unilateral", "none_named"], dtype=object)[b["kind"][on]])


def test_expressions_read_na_as_false_and_as_no_category(write):
    model, _ = load_model(write("m.yaml", HEADER + NODES + """
  has_clause: {expr: "clause"}
  no_clause: {expr: "not clause"}
  mutual: {expr: "kind == 'mutual'"}
  not_mutual: {expr: "kind != 'mutual'"}
  named: {expr: "kind in ('mutual', 'unilateral', 'none_named')"}
  invoked: {event: {when: clause, delay: 10}}
  weight: {expr: "2 if clause else 1"}
"""))
    w = simulate(model, 5000, 1)
    off, on = ~w.applicable("kind"), w.applicable("kind")
    assert np.array_equal(w["has_clause"], w["treaty"] & w["clause"])
    assert w["no_clause"][~w["treaty"]].all()
    assert not w["mutual"][off].any() and w["not_mutual"][off].all() and not w["named"][off].any()
    assert w["named"][on].all()
    assert np.isinf(w["invoked"][~w["treaty"]]).all()
    assert (w["weight"][~w["treaty"]] == 1).all()


def test_by_a_node_with_when_takes_false_or_the_default(write):
    model, _ = load_model(write("m.yaml", HEADER + NODES + """
  by_clause: {by: clause, cases: {true: 10, false: 20}}
  by_kind: {by: kind, cases: {mutual: 1, unilateral: 2}, default: 99}
  copy: kind
"""))
    w = simulate(model, 5000, 1)
    assert (w["by_clause"][~w["treaty"]] == 20).all()
    codes, on = w["kind"], w.applicable("kind")
    assert np.array_equal(w["by_kind"], np.where(~on, 99, np.where(codes == 0, 1, np.where(codes == 1, 2, 99))))
    assert np.array_equal(w["copy"], codes) and np.array_equal(w.applicable("copy"), on)  # a copy is n/a too


def test_a_category_case_keeps_na(write):
    # a by: whose case is a copy of a node with when: remaps categories but not n/a
    model, _ = load_model(write("m.yaml", HEADER + NODES + """
  merged:
    by: other_flag
    cases: {true: kind, false: {categorical: {none_named: 1.0}}}
  other_flag: {bernoulli: 0.5}
"""))
    w = simulate(model, 5000, 1)
    flag, on = w["other_flag"], w.applicable("kind")
    assert (w["merged"][flag & ~on] == NOT_APPLICABLE).all()
    assert (w.labels("merged")[flag & ~on] == "n/a").all()
    cats = model.kinds["merged"].categories
    assert list(np.asarray(cats, dtype=object)[w["merged"][flag & on]]) == list(w.labels("kind")[flag & on])


# =========================================================================== the tree and its table


def test_the_tree_has_no_branch_for_the_node_where_it_does_not_apply(both):
    with_, without = both
    w = simulate(with_, N, 3)
    tree = scenario_tree(w, ["treaty", "clause", "kind"])
    paths = {b.path: b for b in tree.branches}
    assert set(paths) == {
        ("yes",), ("yes", "yes"), ("yes", "no"), ("no",),
        ("yes", "yes", "mutual"), ("yes", "yes", "unilateral"), ("yes", "yes", "none_named"),
    }
    assert paths[("no",)].probability == pytest.approx(float(np.mean(~w["treaty"])))
    assert paths[("yes", "no")].probability == pytest.approx(float(np.mean(w["treaty"] & ~w["clause"])))
    assert tree.leaves()[-1].path == ("no",)  # a complete scenario: no clause level under it
    rows = {r["scenario"] for r in top_scenarios(tree)}
    assert "treaty: yes → clause: no" in rows and "treaty: no" in rows
    assert not any("n/a" in r for r in rows)
    # the same model without when: has the meaningless "no" branch
    plain = scenario_tree(simulate(without, N, 3), ["treaty", "clause"])
    assert ("no", "no") in {b.path for b in plain.branches}


def test_na_is_a_branch_where_the_condition_is_not_a_level_above(both):
    with_, _ = both
    w = simulate(with_, N, 3)
    tree = scenario_tree(w, ["clause", "treaty"])
    paths = {b.path: b for b in tree.branches}
    assert paths[("n/a",)].probability == pytest.approx(float(np.mean(~w["treaty"])))
    assert ("n/a", "no") in paths and ("n/a", "yes") not in paths
    assert sum(b.conditional for b in tree.branches if b.level == 0) == pytest.approx(1.0)
    assert any(r["scenario"].startswith("clause: n/a") for r in top_scenarios(tree))


# =========================================================================== fans split by the node, the default tree


# b (a boolean under when: a) is written before a: the default tree still puts a above it;
# the flow's rate tells the three groups apart (b: 6, no b with a: 3, no a: 1 a month)
SPLIT = HEADER + """
nodes:
  b:
    bernoulli: 0.7
    when: a
  k:
    categorical: {x: 0.25, y: 0.75}
    when: a
  a: {bernoulli: 0.4}
  f:
    flow:
      rate: "6 if b else (3 if a else 1)"
"""
SPLIT_P = {"yes": 0.4 * 0.7, "no": 0.4 * 0.3, "n/a": 0.6}  # exact shares of b's values
SPLIT_KP = {"x": 0.4 * 0.25, "y": 0.4 * 0.75, "n/a": 0.6}


@pytest.fixture
def split(write):
    model, _ = load_model(write("split.yaml", SPLIT))
    return model, simulate(model, N, 4)


def _binomial_ok(share: float, p: float, n: int) -> bool:
    """``share`` of ``n`` worlds within K_SE binomial standard errors of the exact ``p``."""
    return abs(share - p) < K_SE * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("cumulative", [False, True])
def test_fans_split_by_a_node_with_when_give_its_na_worlds_a_panel_of_their_own(split, cumulative):
    _, w = split
    fans = flow_fans(w, "f", by="b", cumulative=cumulative)
    assert [f.label for f in fans] == ["all worlds", "b: no", "b: yes", "b: n/a"]
    by = {f.label.removeprefix("b: "): f for f in fans[1:]}
    assert sum(f.probability for f in fans[1:]) == pytest.approx(1.0)
    for value, p in SPLIT_P.items():
        assert _binomial_ok(by[value].probability, p, w.n), (value, by[value].probability, p)
    # "no" holds only the worlds where b applies and is false; n/a exactly those where a is false
    a, b = w["a"], w["b"]
    values = w.cumulative("f") if cumulative else np.asarray(w["f"], dtype=float)
    for value, mask in {"no": a & ~b, "yes": a & b, "n/a": ~a}.items():
        assert by[value].probability == pytest.approx(float(mask.mean()))
        assert np.array_equal(by[value].values, fan(values[mask]))
    # the rates set apart: the monthly medians are near 3 ("no") and 1 (n/a), not a mixture
    if not cumulative:
        assert 2 <= by["no"].median[0] <= 4 and by["n/a"].median[0] <= 2
    assert split_label(w, "b", -1) == "b: n/a" and split_label(w, "k", -1) == "k: n/a"


def test_a_categorical_split_gives_its_na_worlds_a_panel_instead_of_dropping_them(split):
    _, w = split
    fans = flow_fans(w, "f", by="k")
    assert [f.label for f in fans] == ["all worlds", "k: x", "k: y", "k: n/a"]
    assert sum(f.probability for f in fans[1:]) == pytest.approx(1.0)
    for f in fans[1:]:
        p = SPLIT_KP[f.label.removeprefix("k: ")]
        assert _binomial_ok(f.probability, p, w.n), (f.label, f.probability, p)


def test_no_na_panel_where_the_node_applies_in_every_world(write):
    model, _ = load_model(write("m.yaml", SPLIT.replace("bernoulli: 0.4}", "bernoulli: 1.0}")))
    fans = flow_fans(simulate(model, 500, 4), "f", by="b")
    assert [f.label for f in fans] == ["all worlds", "b: no", "b: yes"]


def test_the_na_panel_respects_the_worlds_weights(split):
    # evidence-weighted worlds: the n/a share is the weight of the worlds where a is false
    model, w = split
    weights = np.where(w["a"], 1.0, 3.0)
    weighted = type(w)(model, w.arrays, weights)
    na = flow_fans(weighted, "f", by="b")[-1]
    assert na.label == "b: n/a"
    assert na.probability == pytest.approx(float(weights[~w["a"]].sum() / weights.sum()))


def test_a_figure_split_by_a_node_with_when_renders_its_na_panel(split, tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    model, w = split
    fig = plots.flow_figure(flow_fans(w, "f", by="b"), flow_fans(w, "f", by="b", cumulative=True),
                            title="f", unit="things", as_of=model.as_of)
    FigureCanvasAgg(fig).draw()
    axes = fig.get_axes()
    assert len(axes) == 8  # all worlds, no, yes, n/a; two rows
    na = flow_fans(w, "f", by="b")[-1]
    assert axes[3].get_title() == f"b: n/a (P = {na.probability:.2f})"
    assert plots.has_data(fig)
    fig.savefig(tmp_path / "fan.png")
    assert (tmp_path / "fan.png").stat().st_size > 0


def test_the_default_tree_puts_a_node_with_when_below_its_condition(split):
    model, w = split
    assert list(model.nodes).index("a") < list(model.nodes).index("b")  # drawn after its condition
    spec = report_spec(model)
    assert spec.tree == (TreeLevel("a", "a"), TreeLevel("b", "b"), TreeLevel("k", "k"))
    # the flow reads b (and a): split by the last such level
    assert spec.flows == (FlowChart("f", "f", "f", None, "b"),)
    # so the tree has no n/a branch: b and k are levels under a's "yes" only
    paths = {br.path for br in scenario_tree(w, spec.tree_levels).branches}
    assert ("no",) in paths and not any(len(p) > 1 and p[0] == "no" for p in paths)
    assert not any("n/a" in p for p in paths)


def test_a_condition_read_from_a_number_makes_no_tree(write):
    # when: "r > 0.5" reads a number: nothing for b to hang under, and no by: either
    model, _ = load_model(write("m.yaml", HEADER + "nodes:\n  r: {uniform: [0, 1]}\n  b: {bernoulli: 0.5, when: \"r > 0.5\"}\n"))
    assert report_spec(model).tree == ()


def test_a_given_tree_with_the_node_above_its_condition_is_drawn_with_a_note(write):
    # report: tree: may list b above a: the tree then has an n/a branch at the top, and the
    # notebook says why and how to list it instead; in the default order there is nothing to say
    model, _ = load_model(write("m.yaml", SPLIT + "report: {tree: [b, a]}\n"))
    spec = report_spec(model)
    assert [lv.node for lv in spec.tree] == ["b", "a"]
    note = sections.tree_order_note(spec, model)
    assert note.startswith("b is a level above a, which its when: condition reads") and "list it after a" in note
    tree = scenario_tree(simulate(model, 2000, 4), spec.tree_levels)
    assert {br.path for br in tree.branches if br.level == 0} == {("yes",), ("no",), ("n/a",)} and ("n/a", "no") in {br.path for br in tree.branches}
    default, _ = load_model(write("d.yaml", SPLIT))
    assert sections.tree_order_note(report_spec(default), default) == ""


def test_the_drawn_tree_greys_na_as_it_greys_no(split):
    from matplotlib.colors import to_hex

    _, w = split
    tree = scenario_tree(w, ["b", "a"])
    fig, ax = plots.figure()
    plots.scenario_tree(tree, ax)
    faces = [to_hex(c).upper() for c in ax.collections[0].get_facecolors()]
    blocks = plots.tree_blocks(tree)
    colour = {(b.level, b.label): f for b, f in zip(blocks, faces, strict=True)}
    assert colour[(0, "n/a")] == colour[(0, "no")] == "#BBBBBB" != colour[(0, "yes")]


# =========================================================================== questions


QUESTIONS = [
    {"id": "clause_yes", "resolve": {"is": {"clause": True}}},
    {"id": "clause_no", "resolve": {"is": {"clause": False}}},
    {"id": "not_clause_yes", "resolve": {"not": {"is": {"clause": True}}}},
    {"id": "expr_not_clause", "resolve": {"expr": "not clause"}},
    {"id": "clause_given_treaty", "resolve": {"is": {"clause": True}}, "given": {"is": {"treaty": True}}},
    {"id": "mutual", "resolve": {"is": {"kind": ["mutual", "unilateral"]}}},
    {"id": "treaty_given_no_clause", "resolve": {"is": {"treaty": True}}, "given": {"is": {"clause": False}}},
]


def test_is_clauses_are_false_where_the_node_does_not_apply(both):
    model, _ = both
    qs = {q.id: q for q in load_questions(model, QUESTIONS)}
    w = simulate(model, 5000, 2)
    treaty, clause = w["treaty"], w["clause"]
    on_kind = w.applicable("kind")
    expect = {
        "clause_yes": treaty & clause,
        "clause_no": treaty & ~clause,  # "is false": applies and is false
        "not_clause_yes": ~(treaty & clause),
        "expr_not_clause": ~clause,  # an expression reads n/a as false
        "mutual": on_kind & np.isin(w["kind"], [0, 1]),
    }
    for qid, want in expect.items():
        assert np.array_equal(qs[qid].resolve.evaluate(w), want), qid
    assert np.array_equal(qs["treaty_given_no_clause"].given.evaluate(w), treaty & ~clause)


def test_forecasts_of_questions_on_a_node_with_when(both):
    # P(clause | rate) = 0.9 above 0.5 and 0.5 below: 0.7 on average, independent of the treaty
    model, _ = both
    f = run_forecast(model, load_questions(model, QUESTIONS), samples=N, seed=5).by_id()
    exact = {
        "clause_yes": 0.4 * 0.7, "clause_no": 0.4 * 0.3, "not_clause_yes": 1 - 0.28, "expr_not_clause": 0.6 + 0.12,
        "clause_given_treaty": 0.7, "treaty_given_no_clause": 1.0,
    }
    for qid, value in exact.items():
        se = max(f[qid].stderr, 1e-9)
        assert abs(f[qid].probability - value) < K_SE * se + 1e-12, (qid, f[qid].probability, value, se)


# =========================================================================== evidence


EVIDENCE_MODEL = HEADER + """
nodes:
  a: {bernoulli: 0.4}
  b: {bernoulli: 0.5}
  clause:
    bernoulli: {p: "0.9 if a else 0.2"}
    when: "a or b"
  kind:
    categorical: {x: "0.6 if b else 0.1", y: "0.4 if b else 0.9"}
    when: a
questions:
  - {id: a, resolve: {is: {a: true}}}
  - {id: b, resolve: {is: {b: true}}}
"""
P_A, P_B = 0.4, 0.5


def _exact(likelihood) -> dict:
    """P(a), P(b) given an observation of likelihood ``likelihood(a, b)``, by enumeration."""
    joint = {
        (a, b): (P_A if a else 1 - P_A) * (P_B if b else 1 - P_B) * likelihood(a, b)
        for a, b in itertools.product((True, False), repeat=2)
    }
    total = sum(joint.values())
    return {
        "a": sum(p for (a, _), p in joint.items() if a) / total,
        "b": sum(p for (_, b), p in joint.items() if b) / total,
    }


def clause_likelihood(value: bool):
    """P(clause observed = value | a, b): 0 where it does not apply (neither a nor b)."""
    def lik(a, b):
        if not (a or b):
            return 0.0
        p = 0.9 if a else 0.2
        return p if value else 1 - p
    return lik


def kind_x(a, b):
    return (0.6 if b else 0.1) if a else 0.0


def test_exact_posteriors_by_enumeration():
    # the numbers the forecasts below are checked against (by hand: 0.36 / 0.42 and so on)
    assert _exact(clause_likelihood(True)) == pytest.approx({"a": 0.36 / 0.42, "b": 0.24 / 0.42})
    assert _exact(clause_likelihood(False)) == pytest.approx({"a": 0.04 / 0.28, "b": 0.26 / 0.28})
    assert _exact(kind_x) == pytest.approx({"a": 1.0, "b": 0.12 / 0.14})
    # without when:, observing "false" would count the worlds with neither a nor b: P(a) 0.04 / 0.52
    assert _exact(lambda a, b: 0.1 if a else 0.8)["a"] == pytest.approx(0.04 / 0.52)


def test_node_likelihood_is_zero_where_the_node_does_not_apply(write):
    model, _ = load_model(write("m.yaml", EVIDENCE_MODEL))
    w = simulate(model, 4000, 9)
    ctx = Context(dict(w.arrays), model.kinds, w.n, model)
    a, b = w["a"], w["b"]
    on = a | b
    p = np.where(a, 0.9, 0.2)
    rng = node_rng(9, 0, "evidence:clause")
    assert np.allclose(node_likelihood(model, "clause", True, ctx, rng), np.where(on, p, 0.0), rtol=0, atol=1e-12)
    assert np.allclose(node_likelihood(model, "clause", False, ctx, rng), np.where(on, 1 - p, 0.0), rtol=0, atol=1e-12)
    assert np.allclose(node_likelihood(model, "kind", 0, ctx, rng), np.where(a, np.where(b, 0.6, 0.1), 0.0), rtol=0, atol=1e-12)
    assert (node_likelihood(model, "clause", False, ctx, rng)[~on] == 0).all()


@pytest.mark.parametrize(("observe", "likelihood"), [
    ({"clause": True}, clause_likelihood(True)),
    ({"clause": False}, clause_likelihood(False)),
    ({"kind": "x"}, kind_x),
])
def test_observing_the_node_gives_the_exact_posterior(write, observe, likelihood):
    model, questions = load_model(write("m.yaml", EVIDENCE_MODEL))
    evidence = parse_evidence(model, [item("2023-10-01", observe=observe)])
    exact = _exact(likelihood)
    as_of = dt.date(2023, 10, 1)
    got = {qid: [] for qid in exact}
    for seed in SEEDS:
        f = forecast_as_of(model, questions, evidence, as_of, samples=4000, seed=seed).by_id()
        for qid in exact:
            got[qid].append((f[qid].probability, f[qid].stderr))
    for qid, value in exact.items():
        p, own = np.array(got[qid]).T
        se = max(float(p.std(ddof=1)), float(own.mean())) / math.sqrt(len(SEEDS))
        assert abs(p.mean() - value) < K_SE * se + 1e-12, (qid, p.mean(), value, se)


# =========================================================================== bad forms


@pytest.mark.parametrize(("extra", "where", "message"), [
    ("  c: {bernoulli: 0.5, when: treaty_signd}\n", "nodes.c.when", r"unknown node 'treaty_signd'.*did you mean 'treaty_signed'"),
    ("  c: {bernoulli: 0.5, when: rate}\n", "nodes.c.when", r"expected a boolean .* 'rate' is a number node"),
    ("  c: {bernoulli: 0.5, when: \"rate * 2\"}\n", "nodes.c.when", r"expected a boolean .* got a number value"),
    ("  c: {bernoulli: 0.5, when: true}\n", "nodes.c.when", r"expected a boolean node or an expression .* got a boolean \(True\), the same in every world"),
    ("  c: {bernoulli: 0.5, when: \"1 > 0\"}\n", "nodes.c.when", r"reads no node"),
    ("  c: {bernoulli: 0.5, when: {bernoulli: 0.5}}\n", "nodes.c.when", r"expected a boolean node or an expression"),
    ("  c: {normal: {mean: 0, sd: 1}, when: treaty_signed}\n", "nodes.c.when", r"goes with a bernoulli or categorical node, not 'normal'"),
    ("  c: {event: {delay: 3}, when: treaty_signed}\n", "nodes.c.when", r"not 'event'; an event takes when: inside its spec"),
    ("  c: {bernoulli: 0.5, round: floor, when: treaty_signed}\n", "nodes.c.round", r"option not supported with when:"),
    ("  c: {by: treaty_signed, cases: {true: {bernoulli: 0.5, when: treaty_signed}, false: {bernoulli: 0.1}}}\n",
     "nodes.c.cases.true.when", r"goes on a node's own spec"),
    ("  c: {bernoulli: 0.5, when: c}\n", "nodes.c", r"cycle in node references: c -> c"),
    ("  k: {categorical: {x: 0.5, y: 0.5}, when: treaty_signed}\n  c: {by: k, cases: {x: 1, y: 2}}\n",
     "nodes.c.by", r"'k' is not applicable where its when: condition is false.*add a default: case"),
    ("  c: {bernoulli: 0.5, whne: treaty_signed}\n", "nodes.c.whne", r"did you mean 'when'"),
])
def test_bad_forms_are_errors_naming_the_file_key_and_value(write, extra, where, message):
    text = HEADER + "nodes:\n  treaty_signed: {bernoulli: 0.4}\n  rate: {uniform: [0, 1]}\n" + extra
    path = write("bad.yaml", text)
    with pytest.raises(ParamsError, match=message) as info:
        load_model(path)
    assert info.value.file == path and info.value.path == where, (info.value.file, info.value.path, str(info.value))


def test_a_copy_of_a_categorical_with_when_in_by_without_default_is_an_error_when_drawn(write):
    text = HEADER + """
nodes:
  t: {bernoulli: 0.5}
  k: {categorical: {x: 0.5, y: 0.5}, when: t}
  copy: k
  c: {by: copy, cases: {x: 1, y: 2}}
"""
    model, _ = load_model(write("m.yaml", text))
    with pytest.raises(ParamsError, match=r"nodes.c.by.*'copy' is not applicable in \d+ of 100 worlds.*add a default"):
        simulate(model, 100, 1)
