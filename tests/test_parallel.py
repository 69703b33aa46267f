"""Chunks of worlds run anywhere (issue 15 items 2 and 3): in this process, in worker processes
or on a Dask cluster, the numbers are the same, bit for bit.

Behaviours:

* an accumulator that merges chunk parts holds exactly what one that was given every chunk holds;
* a backtest with resample-move (several chunks, evidence that resamples) gives identical rows and
  summary with no pool, with a pool of two spawned processes, and through the command line's
  ``--jobs 1`` and ``--jobs 2``;
* an as-of forecast run on a real two-worker Dask ``LocalCluster`` equals the in-process one;
* a bad ``--jobs`` is refused with a clear message.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import BASE, REPO, backtest_outputs
from scenarios.engine.asof import forecast_as_of
from scenarios.engine.forecast import Accumulator
from scenarios.engine.parallel import default_jobs, executor
from scenarios.engine.simulate import simulate_chunks
from scenarios.model.load import load_model

DATES = [dt.date(2023, 9, 5), dt.date(2023, 9, 14), dt.date(2023, 10, 15), dt.date(2024, 3, 1)]
SAMPLES, CHUNK = 1_200, 400  # three chunks of 400 worlds, four islands each


def _backtest(base, pool=None):
    return backtest_outputs(base, dates=DATES, samples=SAMPLES, chunk_size=CHUNK, pool=pool)


def test_merged_parts_equal_one_accumulator_given_every_chunk():
    model, questions = load_model(os.path.join(REPO, "params", "reference.yaml"))
    rng = np.random.default_rng(4)
    for q in questions:
        whole, merged = Accumulator(q, 3_000), Accumulator(q, 3_000)
        for worlds in simulate_chunks(model, 3_000, 7, nodes=q.refs, chunk_size=1_000):
            w = rng.gamma(2.0, size=len(worlds))  # uneven weights, as with evidence
            whole.add(worlds, w)
            part = Accumulator(q, len(worlds))
            part.add(worlds, w)
            merged.merge(part)
        assert repr(merged.result(model.as_of)) == repr(whole.result(model.as_of))


def test_a_backtest_is_the_same_in_two_worker_processes(base):
    here = _backtest(base)
    with executor(2) as pool:
        assert pool is not None
        there = _backtest(base, pool)
    assert there == here
    summary = json.loads(here[2])
    assert summary["smc"], "the evidence should make the worlds resample, so that moves run in the workers"


@pytest.mark.slow
def test_the_command_line_gives_the_same_files_for_any_jobs(tmp_path):
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        subprocess.run(
            [sys.executable, "-m", "scenarios", "backtest", BASE, "--samples", "20000", "--jobs", jobs,
             "--as-of-dates", "2023-09-05,2023-10-15", "--out", str(out), "--no-progress"],
            cwd=REPO, check=True, capture_output=True, text=True, timeout=600,
        )
        outs.append({name: (out / name).read_bytes() for name in sorted(os.listdir(out))})
    assert outs[0] == outs[1]


def test_an_as_of_forecast_is_the_same_on_a_dask_cluster(base):
    distributed = pytest.importorskip("dask.distributed")
    model, questions, data = base
    as_of = dt.date(2023, 10, 15)
    here = forecast_as_of(model, questions, data.evidence, as_of, samples=SAMPLES, chunk_size=CHUNK).to_json()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with executor(dask=cluster.scheduler_address) as pool:
            there = forecast_as_of(model, questions, data.evidence, as_of, samples=SAMPLES, chunk_size=CHUNK,
                                   pool=pool).to_json()
    assert there == here


def test_jobs_default_to_the_environment_then_the_cores(monkeypatch):
    monkeypatch.setenv("SCENARIOS_JOBS", "3")
    assert default_jobs() == 3
    monkeypatch.setenv("SCENARIOS_JOBS", "zero")
    assert default_jobs() >= 1
    with executor(1) as pool:
        assert pool is None  # one job: every chunk in this process


def test_a_bad_jobs_value_is_refused():
    proc = subprocess.run([sys.executable, "-m", "scenarios", "backtest", BASE, "--jobs", "0"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "--jobs" in proc.stderr and "at least 1" in proc.stderr
