"""Memory stays bounded: the accumulator keeps 8 bytes a world and gives the numbers it always did;
a run is estimated before it starts and refused over the budget."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from conftest import HEADER
from scenarios.engine import memory
from scenarios.engine.forecast import (
    QUANTILES,
    Accumulator,
    QuestionForecast,
    flow_months,
    run_forecast,
    weighted_quantiles,
)
from scenarios.engine.simulate import CHUNK_SIZE, simulate_chunks
from scenarios.engine.sinks import ChunkedSink
from scenarios.errors import ResourceLimitError
from scenarios.model.load import load_model

MODEL = HEADER + """nodes:
  summit: {bernoulli: 0.7}
  summit_day: {event: {when: summit, delay: {uniform: [0, 40]}}}
  size: {lognormal: {ci90: [10, 300]}}
  containers: {flow: {rate: 300, start: summit_day}}
questions:
  - {id: cum, type: numeric, resolve: {quantity: containers.cumulative, month: 3}}
  - {id: day, type: date, resolve: {event: summit_day}}
  - {id: size_if_summit, type: numeric, resolve: {quantity: size}, given: {is: {summit: true}}}
  - {id: summit, resolve: {is: {summit: true}}}
"""


class KeepEverything:
    """The accumulator as it was: every value and every weight kept, concatenated at the end."""

    def __init__(self, question):
        self.q, self.values, self.weights = question, [], []
        self.sum_w = self.sum_w2 = 0.0

    def add(self, worlds, weights):
        q = self.q
        w = weights if q.given is None else weights * np.asarray(q.given.evaluate(worlds), dtype=bool)
        self.sum_w += float(w.sum())
        self.sum_w2 += float((w * w).sum())
        keep = w > 0
        self.values.append(np.asarray(q.resolve.evaluate(worlds), dtype=float)[keep])
        self.weights.append(w[keep])

    def result(self, as_of):
        q = self.q
        ess = self.sum_w**2 / self.sum_w2
        out = QuestionForecast(q.id, q.text, q.type, q.open, q.close, ess, as_of=as_of)
        values, weights = np.concatenate(self.values), np.concatenate(self.weights)
        wts = None if np.all(weights == weights[0]) else weights
        finite = np.isfinite(values)
        if q.type == "date":
            out.probability_never = float(weights[~finite].sum() / weights.sum())
        fv, fw = values[finite], weights[finite]
        mean = float(np.average(fv, weights=fw))
        var = float(np.average((fv - mean) ** 2, weights=fw))
        out.mean, out.stderr = mean, math.sqrt(var / (fw.sum() ** 2 / (fw * fw).sum()))
        levels = []
        for qq in QUANTILES:
            half = math.sqrt(qq * (1 - qq) / max(ess, 1.0))
            levels += [qq, qq - half, qq + half]
        qv = weighted_quantiles(values, wts, levels)
        out.quantiles = {qq: float(qv[3 * i]) for i, qq in enumerate(QUANTILES)}
        out.quantile_stderr = {
            qq: float((qv[3 * i + 2] - qv[3 * i + 1]) / 2) if np.isfinite(qv[3 * i + 1 : 3 * i + 3]).all() else math.nan
            for i, qq in enumerate(QUANTILES)
        }
        return out


@pytest.fixture
def model(write):
    return load_model(write("m.yaml", MODEL))


def _both(model, weight_fn, samples=25_000, chunk_size=4_000):
    """Forecasts of every numeric and date question by the accumulator and by keeping everything."""
    m, questions = model
    questions = [q for q in questions if q.type != "binary"]
    new = [Accumulator(q, samples) for q in questions]
    old = [KeepEverything(q) for q in questions]
    nodes = set().union(*(q.refs for q in questions))
    for worlds in simulate_chunks(m, samples, 5, nodes=nodes, chunk_size=chunk_size):
        weights = weight_fn(worlds)
        for acc in (*new, *old):
            acc.add(worlds, weights)
    return [a.result(m.as_of).to_dict() for a in new], [a.result(m.as_of).to_dict() for a in old]


@pytest.mark.parametrize(
    "weight_fn",
    [
        lambda w: np.ones(w.n),
        lambda w: np.full(w.n, 0.3),  # uniform, but not 1
        lambda w: 1.0 + (w["size"] > 50),  # evidence-like weights
        lambda w: np.where(w["size"] > 200, 0.0, 1.0),  # some worlds ruled out
    ],
    ids=["ones", "constant", "weighted", "zeros"],
)
def test_the_accumulator_gives_exactly_the_numbers_of_keeping_everything(model, weight_fn):
    new, old = _both(model, weight_fn)
    assert new == old


def test_an_accumulator_without_capacity_grows(model):
    m, questions = model
    q = next(q for q in questions if q.id == "day")
    grown, sized = Accumulator(q), Accumulator(q, 5_000)
    for worlds in simulate_chunks(m, 5_000, 2, nodes=q.refs, chunk_size=700):
        grown.add(worlds, worlds.weights)
        sized.add(worlds, worlds.weights)
    assert grown.result(m.as_of).to_dict() == sized.result(m.as_of).to_dict()


def test_unweighted_runs_keep_no_weights(model):
    m, questions = model
    q = next(q for q in questions if q.id == "cum")
    acc = Accumulator(q, 3_000)
    for worlds in simulate_chunks(m, 3_000, 2, nodes=q.refs):
        acc.add(worlds, worlds.weights)
    assert acc.weights is None and acc.values.dtype == np.float64 and acc.values.nbytes == 8 * 3_000


def test_same_seed_same_numbers(model):
    m, questions = model
    a = run_forecast(m, questions, samples=30_000, seed=9, chunk_size=7_000).to_json()
    assert a == run_forecast(m, questions, samples=30_000, seed=9, chunk_size=7_000).to_json()


# ---------------------------------------------------------------- estimate and budget

def test_the_estimate_grows_with_worlds_and_kept_questions(model):
    m, questions = model
    small = memory.estimate_peak_bytes(m, questions, 10_000, chunk_size=100_000)
    large = memory.estimate_peak_bytes(m, questions, 1_000_000, chunk_size=100_000)
    assert large - small >= (1_000_000 - 10_000) * 8 * 3  # three questions keep 8 bytes a world
    weighted = memory.estimate_peak_bytes(m, questions, 1_000_000, chunk_size=100_000, weighted=True)
    # 8 bytes more a question (its weights), and the larger temporaries of a weighted result
    extra = memory.WEIGHTED_RESULT_TEMPORARY_BYTES - memory.RESULT_TEMPORARY_BYTES
    assert weighted - large == 1_000_000 * (8 * 3 + extra)


def test_a_sink_keeps_what_it_reads_for_every_world_unless_it_says_otherwise(model):
    m, _ = model

    class Foreign:  # a sink of the Plan protocol without memory_bytes
        reads = {"containers": None, "size": None}

    class Kept(ChunkedSink):
        reads = Foreign.reads

    per_world = 8 * (1 + 12 + 1)  # a weight, the flow's 12 months, the number
    assert memory._sink_bytes(m, Foreign(), {}) == Kept().memory_bytes(m, {}) == memory.SinkBytes(per_world)


def test_a_refused_run_names_a_sample_count_that_fits(model):
    m, questions = model
    budget = 200 * 1024 * 1024
    memory.set_memory_budget(budget)
    try:
        with pytest.raises(ResourceLimitError, match=r"at most ([\d,]+) worlds fit") as info:
            run_forecast(m, questions, samples=50_000_000, seed=1)
    finally:
        memory.set_memory_budget(None)
    fits = int(str(info.value).split("at most ")[1].split(" ")[0].replace(",", ""))
    run = {"nodes": set().union(*(q.refs for q in questions)), "months": flow_months(m, questions), "chunk_size": CHUNK_SIZE}
    assert memory.estimate_peak_bytes(m, questions, fits, **run) <= budget
    assert memory.estimate_peak_bytes(m, questions, fits + 1, **run) > budget


def test_the_default_budget_is_a_share_of_available_memory(monkeypatch):
    monkeypatch.delenv(memory.BUDGET_VARIABLE, raising=False)
    available = memory.available_memory()
    if available is None:
        pytest.skip("the system does not say how much memory is available")
    assert 0 < memory.memory_budget() <= available


def test_the_budget_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv(memory.BUDGET_VARIABLE, str(123 * 1024 * 1024))
    assert memory.memory_budget() == 123 * 1024 * 1024


def test_the_estimate_holds_for_a_real_run(model):
    """The estimate errs high: resident memory of a run in a fresh process stays under it."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux's /proc/self/status")
    import subprocess
    import sys

    m, questions = model
    samples = 2_000_000
    code = (
        "from scenarios.model.load import load_model\n"
        "from scenarios.engine.forecast import run_forecast\n"
        f"m, qs = load_model({m.doc.path!r})\n"
        f"run_forecast(m, qs, samples={samples}, seed=1)\n"
        # VmHWM: the peak of this process's own memory (ru_maxrss can carry the parent's over exec)
        "print([line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')][0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    peak = int(out.stdout.strip()) * 1024
    assert peak < memory.estimate_peak_bytes(m, questions, samples, chunk_size=CHUNK_SIZE)


def test_a_result_asked_twice_is_the_same(model):
    m, questions = model
    accs = [Accumulator(q, 4_000) for q in questions]
    for worlds in simulate_chunks(m, 4_000, 3, chunk_size=1_500):
        for acc in accs:
            acc.add(worlds, worlds.weights)
    first = [acc.result(m.as_of).to_dict() for acc in accs]
    assert [acc.result(m.as_of).to_dict() for acc in accs] == first
    with pytest.raises(RuntimeError):
        accs[0].add(worlds, worlds.weights)
