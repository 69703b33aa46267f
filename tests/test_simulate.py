"""Reproducibility, pruning and chunking of the Monte Carlo engine."""

from __future__ import annotations

import os

import numpy as np

from conftest import REPO
from scenarios.engine.forecast import run_forecast
from scenarios.engine.simulate import simulate, simulate_chunks
from scenarios.model.load import load_model

REFERENCE = os.path.join(REPO, "params", "reference.yaml")


def test_same_seed_same_numbers_different_seed_different_numbers():
    model, questions = load_model(REFERENCE)
    a = run_forecast(model, questions, samples=20_000, seed=5).to_dict()
    b = run_forecast(model, questions, samples=20_000, seed=5).to_dict()
    c = run_forecast(model, questions, samples=20_000, seed=6).to_dict()
    assert a == b
    assert a["questions"] != c["questions"]


def test_drawing_fewer_nodes_does_not_change_the_ones_drawn():
    model, _ = load_model(REFERENCE)
    everything = simulate(model, 5000, seed=9)
    only = simulate(model, 5000, seed=9, nodes=["summit_day"])
    assert set(only.names) == {"theta", "summit", "summit_delay", "summit_day"}
    assert np.array_equal(only["summit_day"], everything["summit_day"])


def test_chunks_are_bounded_and_cover_all_worlds():
    model, _ = load_model(REFERENCE)
    sizes = [len(w) for w in simulate_chunks(model, 25_000, seed=1, nodes=["containers"], chunk_size=10_000)]
    assert sizes == [10_000, 10_000, 5_000]


def test_fixed_node_redraws_descendants_with_same_random_numbers():
    model, _ = load_model(REFERENCE)
    free = simulate(model, 4000, seed=3)
    fixed = simulate(model, 4000, seed=3, fixed={"summit": True})
    assert fixed["summit"].all()
    # worlds that had a summit anyway are identical downstream (common random numbers)
    same = free["summit"]
    assert np.array_equal(free["summit_day"][same], fixed["summit_day"][same])
    assert np.isfinite(fixed["summit_day"]).all()


def test_worlds_have_world_axis_first():
    model, _ = load_model(REFERENCE)
    w = simulate(model, 1000, seed=1)
    assert w["containers"].shape == (1000, 24)
    assert w["outcome_weights"].shape == (1000, 3)
    assert w["theta"].shape == (1000,)
    assert w.cumulative("containers")[:, -1].tolist() == w["containers"].sum(axis=1).tolist()
    assert set(w.labels("outcome")) <= {"no_deal", "covert_deal", "public_deal"}


def test_a_question_forecast_does_not_depend_on_the_other_questions():
    # flows are drawn only as far as the questions read, month-major, so the first months'
    # draws are the same whether 4 or 24 months are drawn
    model, questions = load_model(REFERENCE)
    together = run_forecast(model, questions, samples=30_000, seed=8).by_id()
    for q in questions:
        alone = run_forecast(model, [q], samples=30_000, seed=8).questions[0]
        assert alone.to_dict() == together[q.id].to_dict()


def test_flows_drawn_only_as_far_as_read():
    from scenarios.engine.forecast import flow_months

    model, questions = load_model(REFERENCE)
    assert flow_months(model, questions) == {"containers": 14, "shells": 12, "missiles": 4}
