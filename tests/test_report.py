"""The report runner: parameter checks, failure isolation, timeouts, atomic runs, the verified
cache, the reports folder's safety rules, clean stops and offline HTML.

Notebook execution here uses the tiny notebooks in tests/fixtures/ (no scenarios import, so
each costs little more than a kernel start); the real notebooks run in test_notebooks.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scenarios import report
from scenarios.cli import main
from scenarios.errors import ParamsError, UsageError
from scenarios.report import (
    NotebookParameterError,
    ReportError,
    check_parameters,
    declared_parameters,
    run_report,
)
from scenarios.report import html as report_html
from scenarios.report import run as report_run_module
from scenarios.report import runs as report_runs
from scenarios.report import worker as report_worker
from scenarios.report.progress import Progress

report.import_papermill()  # nbformat, via the runner's fast import (see scenarios.report.import_papermill)

import nbformat  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BASE = str(REPO / "params" / "base.yaml")
FIXTURES = Path(__file__).parent / "fixtures"
FAILING = FIXTURES / "notebooks_failing"
MISSPELT = FIXTURES / "notebooks_misspelt"
EXITS = FIXTURES / "notebooks_exits"
SCENARIOS = Path(sys.executable).with_name("scenarios")

DECLARED = {
    "samples": {"type": "int", "default": "0", "help": ""},
    "rate": {"type": "float", "default": "0.5", "help": ""},
    "label": {"type": "str", "default": '""', "help": ""},
    "flag": {"type": "bool", "default": "False", "help": ""},
    "overrides": {"type": "dict", "default": "{}", "help": ""},
    "anything": {"type": None, "default": "None", "help": ""},
}


def _notebooks(tmp_path, *names, src=FAILING) -> Path:
    folder = tmp_path / "nbs"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(src / name, folder / name)
    return folder


# --------------------------------------------------------------------------- parameter checks


def test_declared_parameters_reads_annotations_and_help():
    declared = declared_parameters(FAILING / "01_ok.ipynb")
    assert list(declared) == list(report.STANDARD_PARAMETERS)
    assert declared["samples"]["type"] == "int"
    assert declared["overrides"]["type"] == "dict"
    assert declared["samples"]["help"] == "worlds"


@pytest.mark.parametrize(
    "params, match",
    [
        ({"sampels": 10}, r"nb\.ipynb: parameter 'sampels': the notebook does not declare it \(did you mean 'samples'\?\)"),
        ({"colour": 1}, r"'colour': the notebook does not declare it; it declares anything, flag"),
        ({"samples": "007"}, r"'samples': expected int \(default 0\), got str '007'"),
        ({"samples": 2.0}, r"expected int .* got float"),
        ({"samples": True}, r"expected int .* got bool"),
        ({"rate": "0.5"}, r"'rate': expected float"),
        ({"label": 7}, r"'label': expected str"),
        ({"overrides": ["a=1"]}, r"'overrides': expected dict"),
        ({"anything": object()}, r"'anything': cannot pass a object"),
        ({"overrides": {"a": {1, 2}}}, r"cannot pass a dict"),
    ],
)
def test_check_parameters_rejects_unknown_and_mistyped(params, match):
    with pytest.raises(NotebookParameterError, match=match) as info:
        check_parameters("some/nb.ipynb", params, DECLARED)
    assert info.value.notebook == "nb.ipynb"
    assert info.value.parameter == next(iter(params))


def test_check_parameters_accepts_matching_types():
    check_parameters("nb.ipynb", {"samples": 5, "rate": 1, "label": "x", "flag": False,
                                  "overrides": {"a.b": [1, 2]}, "anything": None}, DECLARED)


def test_a_parameter_line_papermill_cannot_parse_is_an_error(tmp_path):
    nb = nbformat.read(FAILING / "01_ok.ipynb", as_version=4)
    nb.cells[0].source = 'samples: int = 0  # 0 = the default\nseed: int = 1'
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ReportError, match=r"bad\.ipynb: papermill cannot read parameter 'samples'.*no '=' in the help"):
        declared_parameters(path)


@pytest.mark.parametrize("text", ["{not json", '{"cells": 7}', "[]"])
def test_a_file_that_is_not_a_notebook_is_an_error_naming_it(tmp_path, text):
    folder = _notebooks(tmp_path, "01_ok.ipynb")
    (folder / "02_broken.ipynb").write_text(text)
    out = tmp_path / "reports"
    with pytest.raises(ReportError, match=r"02_broken\.ipynb: cannot read the notebook"):
        run_report([BASE], out=out, notebooks=folder, tty=False)
    assert not out.exists()


def test_a_notebook_without_parameters_cell_is_an_error(tmp_path):
    nb = nbformat.read(FAILING / "01_ok.ipynb", as_version=4)
    nb.cells[0].metadata["tags"] = []
    path = tmp_path / "untagged.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(ReportError, match="no cell tagged 'parameters'"):
        declared_parameters(path)


def _no_kernel(*_a, **_k):
    raise AssertionError("a notebook was about to be executed")


def test_unknown_parameter_rejected_before_any_kernel_starts(tmp_path, monkeypatch):
    import multiprocessing

    import papermill  # noqa: F401  (the import is paid once per process, not per check)

    monkeypatch.setattr(report_worker, "execute", _no_kernel)
    out = tmp_path / "reports"
    with pytest.raises(NotebookParameterError, match=r"01_misspelt\.ipynb: parameter 'samples'.*did you mean 'sample'") as info:
        run_report([BASE], out=out, notebooks=MISSPELT, tty=False)
    assert info.value.parameter == "samples"
    assert not out.exists()  # nothing written
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert multiprocessing.active_children() == []  # the warming workers are stopped


def test_extra_parameters_are_checked_too(tmp_path, monkeypatch):
    monkeypatch.setattr(report_worker, "execute", _no_kernel)
    with pytest.raises(NotebookParameterError, match=r"01_ok\.ipynb: parameter 'label'"):
        run_report([BASE], out=tmp_path / "r", notebooks=_notebooks(tmp_path, "01_ok.ipynb"),
                   parameters={"label": "007"}, tty=False)
    with pytest.raises(NotebookParameterError, match=r"parameter 'samples': expected int .* got str"):
        run_report([BASE], out=tmp_path / "r", notebooks=_notebooks(tmp_path, "01_ok.ipynb"),
                   parameters={"samples": "007"}, tty=False)


def test_cli_reports_a_bad_parameter_with_exit_code_2(tmp_path, capsys):
    code = main(["report", BASE, "--notebooks", str(MISSPELT), "--out", str(tmp_path / "r")])
    assert code == 2
    err = capsys.readouterr().err
    assert "error: 01_misspelt.ipynb: parameter 'samples'" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"jobs": 0}, UsageError, "--jobs: expected at least 1, got 0"),
        ({"timeout": 0}, UsageError, "--timeout: expected a number of seconds > 0"),
        ({"notebooks": "/nonexistent/folder"}, ReportError, "notebooks folder not found"),
        ({"overrides": ["nodes.summit.bernoulli.p=2"]}, ParamsError, "summit"),
    ],
)
def test_bad_arguments_fail_before_anything_is_written(tmp_path, kwargs, error, match):
    kwargs.setdefault("notebooks", _notebooks(tmp_path, "01_ok.ipynb"))
    with pytest.raises(error, match=match):
        run_report([BASE], out=tmp_path / "r", tty=False, **kwargs)
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- failure isolation


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    """A complete run of one notebook, then a run where one notebook fails and one times out."""
    tmp = tmp_path_factory.mktemp("failing")
    out = tmp / "reports"
    ok_only = _notebooks(tmp / "ok", "01_ok.ipynb")
    first = run_report([BASE], out=out, samples=500, notebooks=ok_only, jobs=1, tty=False)
    latest_before = os.readlink(out / "latest")
    everything = _notebooks(tmp / "all", "01_ok.ipynb", "02_fails.ipynb", "03_sleeps.ipynb")
    args = argparse.Namespace(params=[BASE], out=str(out), samples=500, seed=None, jobs=3, force=True,
                              overrides=[], notebooks=str(everything), timeout=3,
                              resolutions=None, evidence=None, series=None)
    t0 = time.perf_counter()
    code = report.run_report_command(args)
    took = time.perf_counter() - t0
    runs = sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    assert len(runs) == 2
    return {"out": out, "first": first[0], "latest_before": latest_before, "code": code, "took": took,
            "failed": runs[-1]}


def test_first_run_is_complete_and_latest(failing_run):
    first = failing_run["first"]
    assert first.status == "complete"
    assert failing_run["latest_before"] == first.name


def test_a_failed_notebook_makes_the_run_fail_with_nonzero_exit(failing_run):
    assert failing_run["code"] == report.EXIT_NOTEBOOK_FAILED
    manifest = json.loads((failing_run["failed"] / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    status = {nb["notebook"]: nb for nb in manifest["notebooks"]}
    assert status["01_ok.ipynb"]["status"] == "ok"
    assert status["02_fails.ipynb"]["status"] == "failed"
    assert "ValueError: deliberate failure" in status["02_fails.ipynb"]["message"]
    assert status["03_sleeps.ipynb"]["status"] == "timeout"
    assert "3 s timeout" in status["03_sleeps.ipynb"]["message"]


def test_other_notebooks_complete_when_one_fails(failing_run):
    run = failing_run["failed"]
    nb = nbformat.read(run / "01_ok.ipynb", as_version=4)
    printed = [o["text"] for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stdout"]
    assert printed == ["ran with 500 worlds\n"]
    assert (run / "01_ok.html").exists()


def test_the_executed_copy_keeps_the_error_where_it_happened(failing_run):
    nb = nbformat.read(failing_run["failed"] / "02_fails.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    failing = [c for c in code if any(o.get("output_type") == "error" for o in c.outputs)]
    assert len(failing) == 1 and "raise ValueError" in failing[0].source
    assert failing[0].outputs[-1]["ename"] == "ValueError"
    assert code[-1].outputs == []  # the cell after the error did not run
    assert "ValueError" in (failing_run["failed"] / "02_fails.html").read_text()


def test_a_timeout_is_recorded_in_the_executed_copy(failing_run):
    nb = nbformat.read(failing_run["failed"] / "03_sleeps.ipynb", as_version=4)
    slow = next(c for c in nb.cells if c.cell_type == "code" and "time.sleep" in c.source)
    assert slow.outputs[-1]["output_type"] == "error"
    assert slow.outputs[-1]["ename"] == "CellTimeoutError"
    assert "scenarios-error" in nb.cells[0].metadata.get("tags", [])
    assert failing_run["took"] < 30  # the 60 s sleep was cut off


def test_a_failed_run_leaves_latest_and_earlier_runs_alone(failing_run):
    out = failing_run["out"]
    assert os.readlink(out / "latest") == failing_run["latest_before"]
    assert (out / failing_run["first"].name / "manifest.json").exists()
    assert not [p for p in out.iterdir() if ".partial-" in p.name]


def test_index_lists_both_runs_newest_first_with_status(failing_run):
    out = failing_run["out"]
    index = (out / "index.html").read_text()
    assert index.count("<section id='base'>") == 1
    failed, first = failing_run["failed"].name, failing_run["first"].name
    assert index.index(f"<td><a href='{failed}/'>") < index.index(f"<td><a href='{first}/'>")
    assert ">failed<" in index and ">complete<" in index
    assert f"{failed}/02_fails.html" in index


def test_relative_out_folder_collects_the_notebook_outputs(tmp_path, monkeypatch):
    nbs = _notebooks(tmp_path / "src", "01_ok.ipynb")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # kernels run in the notebooks folder; paths they get must be absolute
    run = run_report([BASE], out="reports", samples=300, notebooks=nbs, tty=False)[0]
    assert run.path == work / "reports" / run.name
    assert (run.path / "figures" / "01_ok" / "ran.txt").read_text() == "300"
    assert [p.name for p in nbs.iterdir()] == ["01_ok.ipynb"]
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert manifest["notebooks"][0]["figures"] == ["figures/01_ok/ran.txt"]


def test_an_interrupted_run_leaves_no_report_behind(tmp_path, monkeypatch):
    out = tmp_path / "reports"
    nbs = _notebooks(tmp_path, "01_ok.ipynb")
    first = run_report([BASE], out=out, samples=200, notebooks=nbs, tty=False)[0]
    index_before = (out / "index.html").read_text()

    def interrupt(_plan, *_):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_run_module, "_forecast", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_report([BASE], out=out, samples=200, notebooks=nbs, tty=False, force=True)
    kept = ["index.html", "latest", "latest-base", first.name, "ledger.sqlite", ".chain-cache"]  # the first run's
    assert sorted(p.name for p in out.iterdir()) == sorted(kept)
    assert os.readlink(out / "latest") == first.name
    assert (out / "index.html").read_text() == index_before


def test_progress_draws_one_line_on_a_terminal():
    import io

    stream = io.StringIO()
    p = Progress(["base/01", "base/02"], stream=stream, tty=True)
    p.set("base/01", "running")
    p.set("base/01", "ok")
    p.close()
    text = stream.getvalue()
    assert text.count("\n") == 1 and "\r" in text
    assert "report [1/2] base/01 ok" in text.split("\r")[-1]


def test_progress_logs_plain_lines_elsewhere():
    import io

    stream = io.StringIO()
    p = Progress(["base/01"], stream=stream, tty=False)
    p.set("base/01", "running")
    p.set("base/01", "failed", "cell [3]: ValueError: x")
    p.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "report: base/01: running"
    assert lines[1].startswith("report: base/01: failed (") and lines[1].endswith("s): cell [3]: ValueError: x")


def _backtest_progress(path, done, total, dates, elapsed):
    from scenarios.backtest import ProgressFile

    times = iter([0.0, elapsed])  # made at 0, written at ``elapsed``
    ProgressFile(str(path), dates, clock=lambda: next(times))(done, total)


def test_progress_shows_a_running_backtests_dates_and_time_left_on_the_line(tmp_path):
    import io

    stream, path = io.StringIO(), tmp_path / "0.progress"
    p = Progress(["base/01", "base/03_backtest"], stream=stream, tty=True)
    p.watch("base/03_backtest", str(path))
    p.set("base/03_backtest", "running")
    p.poll()  # no file yet: nothing to show, no error
    _backtest_progress(path, 12, 39, 39, 3600.0)
    p.poll()
    with p.lock:
        p._draw()
    assert re.search(r"base/03_backtest \.\. 12/39 dates, ETA \d+:\d\d:\d\d\x1b\[K$", stream.getvalue())
    p.set("base/03_backtest", "ok")
    p.close()
    last = stream.getvalue().split("\r")[-1]
    assert "base/03_backtest ok" in last and "dates" not in last


def test_progress_logs_a_running_backtests_dates_elsewhere(tmp_path):
    import io

    stream, path = io.StringIO(), tmp_path / "0.progress"
    p = Progress(["base/03_backtest"], stream=stream, tty=False)
    p.watch("base/03_backtest", str(path))
    _backtest_progress(path, 12, 39, 39, 3600.0)
    p.poll()  # queued: not read
    p.set("base/03_backtest", "running")
    p.poll()
    p.poll()  # the same tenth: no second line
    p.set("base/03_backtest", "ok")
    p.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "report: base/03_backtest: running"
    assert re.fullmatch(r"report: base/03_backtest: 12/39 dates, ETA \d+:\d\d:\d\d", lines[1])
    assert lines[2].startswith("report: base/03_backtest: ok") and len(lines) == 3


@pytest.mark.parametrize("content", [b"", b"garbage", b"12 39"])
def test_a_progress_file_it_cannot_read_is_not_shown_and_fails_nothing(tmp_path, content):
    import io

    path = tmp_path / "0.progress"
    path.write_bytes(content)
    stream = io.StringIO()
    p = Progress(["base/03_backtest"], stream=stream, tty=False)
    p.watch("base/03_backtest", str(path))
    p.set("base/03_backtest", "running")
    p.poll()
    p.close()
    assert stream.getvalue() == "report: base/03_backtest: running\n" and p.detail == {}


def test_a_kernel_is_started_with_the_tasks_environment_then_it_is_restored(monkeypatch):
    monkeypatch.setenv("SCENARIOS_TEST_KEPT", "before")
    monkeypatch.delenv("SCENARIOS_TEST_NEW", raising=False)
    with report_worker._environment({"SCENARIOS_TEST_KEPT": "during", "SCENARIOS_TEST_NEW": "x"}):
        assert os.environ["SCENARIOS_TEST_KEPT"] == "during" and os.environ["SCENARIOS_TEST_NEW"] == "x"
    assert os.environ["SCENARIOS_TEST_KEPT"] == "before" and "SCENARIOS_TEST_NEW" not in os.environ


def test_without_a_temporary_folder_the_report_runs_without_backtest_progress(monkeypatch):
    import contextlib
    import tempfile

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", refuse)
    with contextlib.ExitStack() as stack:
        assert report_run_module._progress_dir(stack) is None


def test_cache_key_changes_with_each_input(tmp_path):
    files = {}
    for name in ("nb", "params", "pkg", "data"):
        files[name] = tmp_path / name
        files[name].write_text(name)

    def key(**change):
        kw = dict(notebook=files["nb"], input_files=[files["params"]], parameters={"samples": 1, "seed": 2},
                  package_files=[files["pkg"]], data_files=[files["data"]], versions={"numpy": "1"})
        kw.update(change)
        return report.cache_key(**kw)

    base = key()
    assert key() == base
    assert key(parameters={"samples": 1, "seed": 2, "output_dir": "/elsewhere"}) == base
    changed = [key(parameters={"samples": 2, "seed": 2}), key(parameters={"samples": 1, "seed": 3}),
               key(versions={"numpy": "2"}), key(data_files=[]), key(package_files=[])]
    assert base not in changed and len(set(changed)) == len(changed)
    files["params"].write_text("params v2")
    assert key() != base


# --------------------------------------------------------------------------- kernels


def test_the_longest_notebook_starts_first():
    plan = report_runs.Plan("p.yaml", "p", None, [], 1, 1, {})
    tasks = [report_runs.Task(plan, Path(f"{name}.ipynb"), {}) for name in ("01_a", "02_b", "03_c", "04_new")]
    previous = [  # newest first
        {"notebooks": [{"notebook": "01_a.ipynb", "duration_s": 3.0}, {"notebook": "03_c.ipynb", "duration_s": 11.0}]},
        {"notebooks": [{"notebook": "01_a.ipynb", "duration_s": 30.0}, {"notebook": "02_b.ipynb", "duration_s": 4.0}]},
    ]
    order = [t.stem for t in report_runs.longest_first(tasks, previous)]
    assert order == ["04_new", "03_c", "02_b", "01_a"]  # never run first; 01_a's newest duration is 3 s
    assert [t.stem for t in report_runs.longest_first(tasks, [])] == ["01_a", "02_b", "03_c", "04_new"]


# --------------------------------------------------------------------------- a notebook that ends early


def test_a_notebook_that_ends_early_fails_the_run_and_latest_stays(tmp_path, capsys):
    out = tmp_path / "reports"
    first = run_report([BASE], out=out, samples=200, notebooks=_notebooks(tmp_path / "ok", "01_ok.ipynb"), tty=False)[0]
    code = main(["report", BASE, "--notebooks", str(EXITS), "--out", str(out), "--samples", "200"])
    assert code == report.EXIT_NOTEBOOK_FAILED
    assert "01_exits.ipynb: failed: the notebook ended early" in capsys.readouterr().out
    assert os.readlink(out / "latest") == os.readlink(out / "latest-base") == first.name
    [failed] = [p for p in out.iterdir() if p.name.startswith("20") and p.name != first.name]
    manifest = json.loads((failed / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert "'print(\"never printed\")'" in manifest["notebooks"][0]["message"]
    nb = nbformat.read(failed / "01_exits.ipynb", as_version=4)
    assert "scenarios-error" in nb.cells[0].metadata["tags"]
    assert nb.cells[-1].execution_count is None  # the cell after sys.exit never ran


def test_a_sys_exit_in_the_last_cell_fails_the_notebook_too(tmp_path):
    folder = _notebooks(tmp_path, "01_exits.ipynb", src=EXITS)
    nb = nbformat.read(folder / "01_exits.ipynb", as_version=4)
    nb.cells = nb.cells[:-1]  # the sys.exit cell is the last: every cell has run
    nbformat.write(nb, folder / "01_exits.ipynb")
    [run] = run_report([BASE], out=tmp_path / "r", samples=200, notebooks=folder, tty=False)
    assert run.status == "failed"
    assert run.notebooks[0]["message"].startswith("the notebook ended early, in the cell 'import sys'")
    assert not (tmp_path / "r" / "latest").exists()


def test_unexecuted_cells_finds_code_cells_without_execution_count():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", execution_count=1),
                                         nbformat.v4.new_markdown_cell("text"),
                                         nbformat.v4.new_code_cell("   \n"),
                                         nbformat.v4.new_code_cell("y = 2")])
    assert report_worker.unexecuted_cells(nb) == [3]


# --------------------------------------------------------------------------- the verified cache


def _run_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))


def test_a_fully_cached_run_makes_no_new_folder(tmp_path):
    out = tmp_path / "reports"
    nbs = _notebooks(tmp_path, "01_ok.ipynb")
    first = run_report([BASE], out=out, samples=200, notebooks=nbs, tty=False)[0]
    index = (out / "index.html").read_text()
    again = run_report([BASE], out=out, samples=200, notebooks=nbs, tty=False)[0]
    assert again.unchanged and again.path == first.path and again.status == "complete"
    assert _run_dirs(out) == [first.path]
    assert (out / "index.html").read_text() == index


def test_a_truncated_cached_notebook_is_run_again_not_reused(tmp_path):
    out = tmp_path / "reports"
    nbs = _notebooks(tmp_path, "01_ok.ipynb", "02_fails.ipynb")
    (nbs / "02_fails.ipynb").unlink()
    shutil.copy(FAILING / "02_fails.ipynb", nbs / "02_other.ipynb")
    nb = nbformat.read(nbs / "02_other.ipynb", as_version=4)
    nb.cells = nb.cells[:3]  # no failing cell
    nbformat.write(nb, nbs / "02_other.ipynb")
    first = run_report([BASE], out=out, samples=200, notebooks=nbs, tty=False)[0]
    assert first.status == "complete"
    executed = first.path / "01_ok.ipynb"
    executed.write_bytes(executed.read_bytes()[:200])  # truncated, e.g. by a full disk
    again = run_report([BASE], out=out, samples=200, notebooks=nbs, tty=False)[0]
    assert not again.unchanged and again.path != first.path
    status = {nb["notebook"]: nb for nb in json.loads((again.path / "manifest.json").read_text())["notebooks"]}
    assert status["01_ok.ipynb"]["executed"] is True and status["01_ok.ipynb"]["cached_from"] is None
    assert status["02_other.ipynb"]["executed"] is False and status["02_other.ipynb"]["cached_from"] == first.name
    json.loads((again.path / "01_ok.ipynb").read_text())  # whole again
    assert status["01_ok.ipynb"]["files"]["01_ok.ipynb"] == report_runs.sha256(again.path / "01_ok.ipynb")


def test_a_cut_html_page_is_not_reused(tmp_path):
    out = tmp_path / "reports"
    nbs = _notebooks(tmp_path, "01_ok.ipynb")
    first = run_report([BASE], out=out, samples=200, notebooks=nbs, tty=False)[0]
    page = first.path / "01_ok.html"
    page.write_text(page.read_text()[:-200])
    again = run_report([BASE], out=out, samples=200, notebooks=nbs, tty=False)[0]
    assert not again.unchanged and again.notebooks[0]["executed"] is True


# --------------------------------------------------------------------------- the reports folder


def test_a_foreign_index_is_an_error_and_left_alone(tmp_path, capsys):
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("<html>my own site</html>")
    code = main(["report", BASE, "--notebooks", str(_notebooks(tmp_path, "01_ok.ipynb")), "--out", str(out)])
    assert code == 2
    assert "index.html was not written by scenarios report" in capsys.readouterr().err
    assert (out / "index.html").read_text() == "<html>my own site</html>"
    assert [p.name for p in out.iterdir()] == ["index.html"]


@pytest.mark.parametrize("kind", ["file", "folder", "link elsewhere"])
def test_a_foreign_latest_is_an_error(tmp_path, capsys, kind):
    out = tmp_path / "site"
    out.mkdir()
    latest = out / ("latest" if kind != "folder" else "latest-base")
    if kind == "file":
        latest.write_text("mine")
    elif kind == "folder":
        latest.mkdir()
    else:
        latest.symlink_to(tmp_path)
    code = main(["report", BASE, "--notebooks", str(_notebooks(tmp_path, "01_ok.ipynb")), "--out", str(out)])
    assert code == 2
    assert "is not a link the runner made" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == [latest.name]


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_out_is_rejected(tmp_path, capsys, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    code = main(["report", BASE, "--notebooks", str(_notebooks(tmp_path, "01_ok.ipynb")), "--out", value])
    assert code == 2
    assert "--out: expected a folder for the reports, got an empty path" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs"]


def test_each_params_file_gets_its_latest_and_a_section_in_the_index(tmp_path):
    out = tmp_path / "reports"
    reference = str(REPO / "params" / "reference.yaml")
    results = run_report([BASE, reference], out=out, samples=200, notebooks=_notebooks(tmp_path, "01_ok.ipynb"), tty=False)
    assert [r.status for r in results] == ["complete", "complete"]
    assert os.readlink(out / "latest-base") == results[0].name
    assert os.readlink(out / "latest-reference") == results[1].name
    index = (out / "index.html").read_text()
    assert report_runs.INDEX_MARK in index
    for r, name in zip(results, ("base", "reference")):
        section = index[index.index(f"<section id='{name}'>"):]
        section = section[:section.index("</section>")]
        assert f"href='{r.name}/'" in section and f"href='latest-{name}/'" in section


# --------------------------------------------------------------------------- data files


def test_a_bad_evidence_file_stops_the_run_before_anything_is_written(tmp_path, capsys):
    (tmp_path / "evidence.yaml").write_text("evidence:\n- id: x\n  public_on: not a date\n")
    out = tmp_path / "reports"
    code = main(["report", BASE, "--evidence", str(tmp_path / "evidence.yaml"),
                 "--notebooks", str(_notebooks(tmp_path, "01_ok.ipynb")), "--out", str(out)])
    assert code == 2
    assert "evidence.yaml" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------- offline HTML


def test_the_html_loads_nothing_from_the_network_and_has_alt_text(tmp_path):
    import base64

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A heading\n\n$x^2$"),
                                         nbformat.v4.new_code_cell("show()")])
    png = base64.b64encode(b"\x89PNG fake").decode()
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"image/png": png},
                                                  metadata={"image/png": {"alt": "Summit <by> date"}})]
    nbformat.write(nb, tmp_path / "a.ipynb")
    report_html.HtmlWriter().write(tmp_path / "a.ipynb", tmp_path / "a.html", "a · base")
    page = (tmp_path / "a.html").read_text()
    assert "A heading" in page and "show / hide code" in page and "<title>a · base</title>" in page
    assert not re.search(r"<script[^>]+src=[\"']?https?:", page)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", page)
    assert not re.search(r"import\([\"']https?:", page)
    [img] = re.findall(r"<img[^>]*>", page)
    assert f'src="data:image/png;base64,{png}"' in img and 'alt="Summit &lt;by&gt; date"' in img
    assert page.rstrip().endswith("</html>")


def test_the_runs_html_pages_load_nothing_from_the_network(failing_run):
    for page in failing_run["failed"].glob("*.html"):
        text = page.read_text()
        assert "<script src=\"http" not in text and "<link href=\"http" not in text
        assert not re.search(r"(src|href)=[\"']?https?://[^\"'>]+\.(js|css)", text)


# --------------------------------------------------------------------------- stopping the runner


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            parents[int(entry)] = int(stat[stat.rfind(b")") + 2:].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:].split()[0] != b"Z"  # a zombie has ended


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL, "ctrl-c"], ids=str)
def test_killing_the_runner_leaves_no_worker_or_kernel(tmp_path, signum):
    """SIGTERM or SIGKILL to the runner alone, or Ctrl-C (SIGINT to its whole process group, as a
    terminal sends it): no worker or kernel is left, and (unless SIGKILL) no partial folder."""
    nbs = _notebooks(tmp_path, "01_ok.ipynb", "03_sleeps.ipynb")
    out = tmp_path / "reports"
    runner = subprocess.Popen([str(SCENARIOS), "report", BASE, "--notebooks", str(nbs), "--out", str(out),
                               "--samples", "200", "--jobs", "2", "--timeout", "120"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=signum == "ctrl-c")
    try:
        deadline = time.monotonic() + 60
        while not any("ipykernel" in _cmdline(p) for p in _descendants(runner.pid)):
            assert time.monotonic() < deadline, "no kernel started"
            time.sleep(0.1)
        time.sleep(0.5)
        children = _descendants(runner.pid)
        assert any("ipykernel" in _cmdline(p) for p in children)
        assert len(children) >= 3  # two workers and a kernel at least
        if signum == "ctrl-c":
            os.killpg(runner.pid, signal.SIGINT)
        else:
            os.kill(runner.pid, signum)
        runner.wait(timeout=60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in children):
            time.sleep(0.1)
        assert [(p, _cmdline(p)) for p in children if _alive(p)] == []
        if signum != signal.SIGKILL:
            assert runner.returncode in ((130,) if signum == "ctrl-c" else (128 + signum, 130))
            assert not [p for p in out.iterdir() if ".partial-" in p.name]
            assert not _run_dirs(out)
    finally:
        if runner.poll() is None:
            runner.kill()
