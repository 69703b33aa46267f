"""Memory bounded on every path: a run is estimated from what it really holds and refused before
anything is spent, on the command line (forecast --as-of, backtest, report), in the library
(run_backtest) and in the notebooks' parameter check; the estimate is not below a measured peak.

Refusals run as subprocesses under a small budget and a CPU-time limit, so a run that started
spending would be stopped (and fail the test) long before it used much of the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from scenarios.backtest import backtest_dates, run_backtest
from scenarios.backtest.data import load_model_data
from scenarios.engine import asof, memory
from scenarios.engine.asof import forecast_as_of
from scenarios.errors import ResourceLimitError
from scenarios.model.data_files import data_files
from scenarios.model.load import load_model
from scenarios.notebook import inputs
from scenarios.notebook.inputs import (
    NotebookInputError,
    as_of_view,
    backtest_inputs,
    notebook_inputs,
)

BASE = os.path.join(REPO, "params", "base.yaml")
HUGE = "100000000"
CPU_SECONDS = 30
"""A refused run spends well under a second; one that started simulating 10^8 worlds is stopped here."""

MODEL = """\
model: small-backtest
as_of: 2023-09-05
horizon_months: 60
month_days: 30
seed: 7
samples: 4000
evidence: evidence.yaml
resolutions: resolutions.yaml
nodes:
  summit_chance: {beta: {mean: 0.6, concentration: 8}}
  summit: {bernoulli: {p: summit_chance}}
  summit_day: {event: {when: summit, delay: {uniform: [0, 60]}}}
  rate: {lognormal: {ci90: [100, 600]}}
  containers: {flow: {rate: rate, start: summit_day}}
  per_container: {lognormal: {ci90: [100, 400]}}
  shells: {flow: {rate: "rate * per_container", start: summit_day}}
  troops: {stock: {rate: "rate / 10", start: summit_day}}
  killed: {stock: {rate: "rate / 100", start: summit_day}}
questions:
  - {id: met_by_october, resolve: {event: summit_day, by: 2023-10-31}}
  - {id: many_containers, resolve: {quantity: containers.cumulative, 'on': 2024-03-01, at_least: 1000}}
  - {id: containers_march, type: numeric, resolve: {quantity: containers.cumulative, 'on': 2024-03-01}}
"""
EVIDENCE = """\
evidence:
- {id: met, public_on: 2023-09-14, source: https://example.org/met, observe: {summit_day: 2023-09-13}}
- id: count
  public_on: 2023-11-15
  source: https://example.org/count
  report: {quantity: containers.cumulative, 'on': 2023-11-01, said: {value: 900}, likelihood: {lognormal: {sigma: 0.3}}}
- id: shells_seen
  public_on: 2023-12-15
  source: https://example.org/shells
  report: {quantity: shells.cumulative, 'on': 2023-12-01, said: {value: 300000}, likelihood: {lognormal: {sigma: 0.5}}}
- id: troops_seen
  public_on: 2024-01-15
  source: https://example.org/troops
  report: {quantity: troops, 'on': 2024-01-01, said: {value: 60}, likelihood: {lognormal: {sigma: 0.4}}}
"""
RESOLUTIONS = """\
questions:
- {id: met_by_october, type: binary, outcome: true, resolved_on: 2023-09-13}
- {id: many_containers, type: binary, outcome: true, resolved_on: 2024-03-15}
- {id: containers_march, type: numeric, value: 2500, resolved_on: 2024-03-15}
"""
REPEATED = """\
model: repeated
as_of: 2023-09-05
horizon_months: 30
month_days: 30
seed: 5
samples: 300
evidence: evidence.yaml
nodes:
  meeting_rate: {lognormal: {ci90: [20, 80]}}
  opening: {event: {chance_per_month: 0.05}}
  meetings: {repeated: {rate: meeting_rate, start: opening, max: 10000}}
questions:
  - {id: many, resolve: {quantity: meetings, 'on': 2025-06-01, at_least: 200}}
  - {id: count, type: numeric, resolve: {quantity: meetings, 'on': 2025-12-01}}
  - {id: hundredth, type: date, resolve: {event: meetings, occurrence: 100}}
"""
REPEATED_EVIDENCE = """\
evidence:
- {id: none_yet, public_on: 2023-09-05, source: https://example.org/watch, watch: [meetings]}
- id: rate_said
  public_on: 2023-10-01
  source: https://example.org/rate
  report: {quantity: meeting_rate, said: {value: 30}, likelihood: {lognormal: {sigma: 0.2}}}
"""


def _cpu_limit():
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def run(*args, env: dict | None = None):
    """``python -m scenarios ARGS`` (exit code, stderr), its CPU time bounded."""
    proc = subprocess.run([sys.executable, "-m", "scenarios", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=300, preexec_fn=_cpu_limit, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})
    return proc.returncode, proc.stderr


def refused(result, *names) -> str:
    """Exit 2 with one line naming the estimate, the budget and ``names``; returns the line."""
    code, err = result
    assert code == 2, err
    line = err.strip()
    assert line.startswith("error: ") and "\n" not in line and "Traceback" not in line, err
    for name in ("would need about", "more than the budget of", *names):
        assert name in line, (name, line)
    return line


@pytest.fixture
def small(write):
    write("evidence.yaml", EVIDENCE)
    write("resolutions.yaml", RESOLUTIONS)
    return write("model.yaml", MODEL)


@pytest.fixture
def repeated(write):
    write("evidence.yaml", REPEATED_EVIDENCE)
    return write("repeated.yaml", REPEATED)


@pytest.fixture
def budget():
    """Set the budget for this process (bytes); put back after."""
    yield memory.set_memory_budget
    memory.set_memory_budget(None)


# ---------------------------------------------------------------- refused on the command line, before anything is spent


def test_a_huge_backtest_is_refused_and_writes_nothing(tmp_path):
    # its questions are binary: once nothing was counted for it, and 10^8 worlds ran for hours
    out = tmp_path / "bt"
    refused(run("backtest", BASE, "--samples", HUGE, "--memory-budget", "256MiB", "--out", out),
            "100,000,000 worlds", "budget of 256 MiB", "at most")
    assert not out.exists()


def test_the_budget_is_read_from_the_environment_too(tmp_path):
    out = tmp_path / "bt"
    refused(run("backtest", BASE, "--samples", HUGE, "--out", out, env={memory.BUDGET_VARIABLE: str(256 * 2**20)}),
            "budget of 256 MiB")
    assert not out.exists()


def test_a_huge_forecast_as_of_is_refused_and_writes_nothing(tmp_path):
    out = tmp_path / "f.json"
    refused(run("forecast", BASE, "--as-of", "2024-06-01", "--samples", HUGE, "--memory-budget", "256MiB",
                "--format", "json", "--output", out), "100,000,000 worlds")
    assert not out.exists()


def test_a_huge_report_is_refused_before_any_kernel_starts(tmp_path):
    out = tmp_path / "reports"
    line = refused(run("report", BASE, "--samples", HUGE, "--memory-budget", "2GiB", "--out", out, "--jobs", "1"),
                   "report:", "100,000,000 worlds", "at most")
    assert not out.exists()
    fits = int(line.split("at most ")[1].split(" worlds")[0].replace(",", ""))
    assert 0 < fits < int(HUGE)


def test_a_report_in_a_budget_no_kernel_fits_in_says_so(tmp_path):
    refused(run("report", BASE, "--samples", "1000", "--memory-budget", "64MiB", "--out", tmp_path / "r"),
            "no run fits")
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------- refused by the library, before anything is spent


@pytest.fixture
def no_chunk_runs(monkeypatch):
    """Any chunk simulated as of a date fails the test."""

    def spent(*args, **kwargs):
        raise AssertionError("a chunk was simulated")

    monkeypatch.setattr(asof, "_run_chunk", spent)


def test_run_backtest_refuses_before_a_chunk_is_drawn(small, budget, no_chunk_runs):
    model, questions = load_model(small)
    data = load_model_data(model, data_files(model))
    budget(200 * 2**20)
    with pytest.raises(ResourceLimitError, match=r"10,000,000 worlds would need about .* at most [\d,]+ worlds fit"):
        run_backtest(model, questions, data.resolutions, data.evidence, samples=10_000_000)


def test_the_backtest_counts_its_scoring_and_the_fans(small, budget, no_chunk_runs):
    model, questions = load_model(small)
    data = load_model_data(model, data_files(model))
    dates = backtest_dates(model, questions, data.resolutions, data.evidence)

    def need(**kwargs):
        return memory.planned(run_backtest, model, questions, data.resolutions, data.evidence, as_of_dates=dates,
                              samples=50_000, **kwargs)(50_000)

    # fans keep a running total for every world at each fan date: 8 bytes a month and one weight
    assert need(fans=True) - need() >= 50_000 * 8 * 61
    budget(1)
    with pytest.raises(ResourceLimitError) as plain:
        forecast_as_of(model, questions, data.evidence, dates[-1], samples=50_000)
    with pytest.raises(ResourceLimitError) as backtest:
        run_backtest(model, questions, data.resolutions, data.evidence, as_of_dates=dates[-1:], samples=50_000)
    # the same date: the backtest holds its scoring besides, and the prior's worlds and ensembles
    assert _needed(backtest.value) - _needed(plain.value) >= memory.SCORING_BYTES / 2**20


def _needed(error) -> float:
    """The MiB an error says a run would need."""
    number, unit = str(error).split("would need about ")[1].split(" ")[:2]
    return float(number.replace(",", "")) * (1024 if unit == "GiB" else 1)


def test_a_planned_run_stops_at_its_check_and_says_what_it_would_hold(small, no_chunk_runs):
    model, questions = load_model(small)
    data = load_model_data(model, data_files(model))
    need = memory.planned(run_backtest, model, questions, data.resolutions, data.evidence, samples=10**12)
    assert need is not None and need(100_000) > need(10_000) > 0
    assert memory.planned(lambda: None) is None  # nothing simulated, no check reached


def test_workers_hold_a_chunk_each(small, no_chunk_runs):
    model, questions = load_model(small)
    data = load_model_data(model, data_files(model))

    def need(workers):
        return memory.planned(forecast_as_of, model, questions, data.evidence, "2024-02-01", samples=100_000,
                              workers=workers)(100_000)

    worker = need(2) - need(1)  # the process and the chunk it draws
    assert worker > memory.WORKER_BYTES
    assert need(4) - need(2) == 2 * worker
    assert need(1) > need(0)  # the chunk moves to the worker; the pool and the worker's process come besides


def test_what_a_process_holds_besides_counts(small, budget):
    model, questions = load_model(small)
    budget(memory.BASE_BYTES + memory.forecast_bytes(model, questions, 1000, chunk_size=10_000) + 2**20)
    memory.check_memory(model, questions, 1000, chunk_size=10_000)
    with memory.holding(64 * 2**20), pytest.raises(ResourceLimitError):
        memory.check_memory(model, questions, 1000, chunk_size=10_000)


def test_the_estimate_counts_the_engines_report_candidates():
    assert memory.REPORT_CANDIDATES == asof.REPORT_CANDIDATES


# ---------------------------------------------------------------- the notebooks' parameter check


@pytest.mark.parametrize("samples", [-5, 1e12, 2.0, True, "100", [100]])
def test_notebooks_reject_samples_that_is_not_a_whole_number_of_worlds(samples):
    with pytest.raises(NotebookInputError, match=r"^samples: expected a whole number of worlds"):
        notebook_inputs(BASE, samples=samples)


def test_zero_samples_is_the_params_files_and_numpy_integers_are_whole_numbers():
    assert notebook_inputs(BASE, samples=0).samples == load_model(BASE)[0].samples
    assert notebook_inputs(BASE, samples=np.int64(1500)).samples == 1500


def test_notebooks_refuse_samples_over_the_budget_naming_estimate_and_budget(budget):
    budget(512 * 2**20)
    with pytest.raises(ResourceLimitError,
                       match=r"^samples: 1,000,000,000,000 worlds would need about .* more than the budget of 512 MiB; "
                             r"at most [\d,]+ worlds fit \(give fewer samples"):
        notebook_inputs(BASE, samples=10**12)


def test_the_notebooks_runs_check_their_own_estimate_before_they_start(budget, monkeypatch):
    run = notebook_inputs(BASE, samples=20_000, as_of="2024-06-01")  # fits the default budget

    def spent(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr("scenarios.engine.simulate.simulate_chunks", spent)
    monkeypatch.setattr(asof, "_run_chunk", spent)
    budget(inputs.view_memory(run)(20_000))  # less than the kernel and the worlds
    with pytest.raises(ResourceLimitError, match="^samples: 20,000 worlds"):
        as_of_view(run)
    budget(inputs.backtest_memory(run)(20_000))
    with pytest.raises(ResourceLimitError, match="^samples: 20,000 worlds"):
        backtest_inputs(run)


# ---------------------------------------------------------------- the estimate against a measured peak

CHILD = """
import json, sys
from scenarios.backtest import backtest_dates, run_backtest
from scenarios.backtest.data import load_model_data
from scenarios.engine import memory
from scenarios.engine.asof import forecast_as_of
from scenarios.engine.forecast import run_forecast
from scenarios.model.data_files import data_files
from scenarios.model.load import load_model

def peak():  # this process's own peak (ru_maxrss can carry the parent's over exec)
    with open("/proc/self/status") as fh:
        return [int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM")][0]

kind, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
model, questions = load_model(path)
data = load_model_data(model, data_files(model))
if kind == "backtest":
    dates = backtest_dates(model, questions, data.resolutions, data.evidence)
    call = lambda n: run_backtest(model, questions, data.resolutions, data.evidence, as_of_dates=dates, samples=n)
elif kind == "as-of":
    call = lambda n: forecast_as_of(model, questions, data.evidence, "2025-01-01", samples=n)
else:
    call = lambda n: run_forecast(model, questions, samples=n)
estimate = memory.planned(call, n)(n)
call(20)  # what a run imports on its way counts in the baseline, not in the run
baseline = peak()
call(n)
print(json.dumps({"estimate": estimate, "measured": peak() - baseline}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc/self/status")
@pytest.mark.parametrize("kind, model, worlds", [
    ("backtest", "small", 10_000),  # one chunk
    ("backtest", "small", 20_000),  # two, in this process
    ("forecast", "repeated", 1_000),  # a repeated event of max 10,000: 80 MB an array of it
    ("as-of", "repeated", 1_000),  # ... drawn again by the moves of resample-move
])
def test_the_estimate_is_not_below_the_measured_peak(kind, model, worlds, request):
    path = request.getfixturevalue(model)
    out = subprocess.run([sys.executable, "-c", CHILD, kind, path, str(worlds)], capture_output=True, text=True,
                         cwd=os.path.dirname(path), timeout=300, check=True)
    got = json.loads(out.stdout)
    # never below what the run added to its process by more than 10%; and no more than twice it,
    # which a run that small (tens of MB) reaches with the worst cases the estimate assumes
    assert 0.9 * got["measured"] <= got["estimate"] <= 2.0 * got["measured"], got
