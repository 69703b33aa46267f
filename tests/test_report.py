"""The report runner: parameter checks, failure isolation, timeouts, atomic runs, the index.

Notebook execution here uses the tiny notebooks in tests/fixtures/ (no scenarios import, so
each costs little more than a kernel start); the real notebooks run in test_notebooks.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
from scenarios.report import execute as report_execute
from scenarios.report import html as report_html
from scenarios.report import index as report_index
from scenarios.report import run as report_run_module

report.import_papermill()  # nbformat, via the runner's fast import (see scenarios.report.import_papermill)

import nbformat  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BASE = str(REPO / "params" / "base.yaml")
FIXTURES = Path(__file__).parent / "fixtures"
FAILING = FIXTURES / "notebooks_failing"
MISSPELT = FIXTURES / "notebooks_misspelt"

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


def test_unknown_parameter_rejected_before_any_kernel_starts(tmp_path, monkeypatch):
    import papermill  # noqa: F401  (the import is paid once per process, not per check)

    def no_pool(*_a, **_k):
        raise AssertionError("a kernel was about to start")

    monkeypatch.setattr(report_execute, "pool", no_pool)
    from scenarios.report.kernel_pool import KernelPool

    pools = []  # the kernel pool starts importing before the checks; it must be gone after them
    start_pool = KernelPool.__init__
    monkeypatch.setattr(KernelPool, "__init__", lambda self, *a, **k: (pools.append(self), start_pool(self, *a, **k))[1])
    out = tmp_path / "reports"
    with pytest.raises(NotebookParameterError, match=r"01_misspelt\.ipynb: parameter 'samples'.*did you mean 'sample'") as info:
        run_report([BASE], out=out, notebooks=MISSPELT, tty=False)
    assert info.value.parameter == "samples"
    assert not out.exists()  # nothing written
    assert pools or not KernelPool.supported()
    for pool in pools:
        assert pool.process.poll() is not None and not os.path.exists(pool.folder)


def test_extra_parameters_are_checked_too(tmp_path, monkeypatch):
    monkeypatch.setattr(report_execute, "pool", lambda *a, **k: pytest.fail("a kernel was about to start"))
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
                              overrides=[], notebooks=str(everything), timeout=3, fresh_kernels=False,
                              resolutions=None, evidence=None, series=None)
    t0 = time.perf_counter()
    code = report.run_report_command(args)
    took = time.perf_counter() - t0
    runs = sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink())
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

    def interrupt(_plan):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_run_module, "_forecast", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_report([BASE], out=out, samples=200, notebooks=nbs, tty=False)  # cached: no kernel
    assert sorted(p.name for p in out.iterdir()) == sorted(["index.html", "latest", first.name])
    assert os.readlink(out / "latest") == first.name
    assert (out / "index.html").read_text() == index_before


def test_progress_draws_one_line_on_a_terminal():
    import io

    stream = io.StringIO()
    p = report_execute.Progress(["base/01", "base/02"], stream=stream, tty=True)
    p.set("base/01", "running")
    p.set("base/01", "ok")
    p.close()
    text = stream.getvalue()
    assert text.count("\n") == 1 and "\r" in text
    assert "report [1/2] base/01 ok" in text.split("\r")[-1]


def test_progress_logs_plain_lines_elsewhere():
    import io

    stream = io.StringIO()
    p = report_execute.Progress(["base/01"], stream=stream, tty=False)
    p.set("base/01", "running")
    p.set("base/01", "failed", "cell [3]: ValueError: x")
    p.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "report: base/01: running"
    assert lines[1].startswith("report: base/01: failed (") and lines[1].endswith("s): cell [3]: ValueError: x")


def test_html_process_exports_and_reports_failures(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A heading")])
    nbformat.write(nb, tmp_path / "a.ipynb")
    with report_html.HtmlProcess() as html:
        html.write(tmp_path / "a.ipynb", tmp_path / "a.html", "a · base")
        with pytest.raises(report_html.HtmlExportError, match="FileNotFoundError"):
            html.write(tmp_path / "missing.ipynb", tmp_path / "b.html", "b")
    page = (tmp_path / "a.html").read_text()
    assert "A heading" in page and "show / hide code" in page
    assert not (tmp_path / "b.html").exists()
    html.stop()  # ended already: a no-op


def test_the_longest_notebook_starts_first(tmp_path):
    plan = report_index.Plan("p.yaml", "p", None, [], 1, 1, {})
    tasks = [report_index.Task(plan, Path(f"{name}.ipynb"), {}) for name in ("01_a", "02_b", "03_c", "04_new")]
    previous = [  # newest first
        {"notebooks": [{"notebook": "01_a.ipynb", "duration_s": 3.0}, {"notebook": "03_c.ipynb", "duration_s": 11.0}]},
        {"notebooks": [{"notebook": "01_a.ipynb", "duration_s": 30.0}, {"notebook": "02_b.ipynb", "duration_s": 4.0}]},
    ]
    order = [t.stem for t in report_index.longest_first(tasks, previous)]
    assert order == ["04_new", "03_c", "02_b", "01_a"]  # never run first; 01_a's newest duration is 3 s
    assert [t.stem for t in report_index.longest_first(tasks, [])] == ["01_a", "02_b", "03_c", "04_new"]
    assert not any(t.background for t in tasks)  # nothing known: every notebook at full priority


def test_short_notebooks_run_in_the_background_of_the_longest(tmp_path):
    plan = report_index.Plan("p.yaml", "p", None, [], 1, 1, {})
    tasks = [report_index.Task(plan, Path(f"{name}.ipynb"), {}) for name in ("01_a", "02_b", "03_c")]
    previous = [{"notebooks": [{"notebook": "01_a.ipynb", "duration_s": 3.0}, {"notebook": "02_b.ipynb", "duration_s": 6.0},
                               {"notebook": "03_c.ipynb", "duration_s": 11.0}]}]
    order = report_index.longest_first(tasks, previous, jobs=2)
    assert [(t.stem, t.expected, t.background) for t in order] == [
        ("03_c", 11.0, False), ("02_b", 6.0, False), ("01_a", 3.0, True)]
    for t in tasks:
        t.background = False
    assert not any(t.background for t in report_index.longest_first(tasks, previous, jobs=3))  # one worker each
    assert not any(t.background for t in report_index.longest_first(tasks, previous[:0] + [
        {"notebooks": previous[0]["notebooks"][1:]}], jobs=2))  # 01_a's duration unknown


def test_a_background_notebook_runs_at_lower_priority_and_its_kernel_too(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("import os\nprint(os.nice(0))")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "nice.ipynb")
    from concurrent.futures import ProcessPoolExecutor

    from scenarios.report.kernel_pool import KernelPool

    with KernelPool.for_kernel("python3") as pool, ProcessPoolExecutor(1) as worker:  # os.nice is for good: not in this process
        for address in (pool.address, None):
            task = {"input": str(tmp_path / "nice.ipynb"), "output": str(tmp_path / "out.ipynb"), "parameters": {},
                    "cwd": str(tmp_path), "timeout": 60, "log": str(tmp_path / "log"), "kernel_pool": address,
                    "background": True}
            assert worker.submit(report_execute.execute, task).result()["status"] == "ok"
            out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
            assert out.cells[-1].outputs[0]["text"].strip() == str(max(os.nice(0), report_execute.BACKGROUND_NICE))


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


def test_the_report_forks_its_kernels_from_the_pool_unless_told_not_to(tmp_path):
    """The notebook's own imports are done before its first cell when its kernel comes from the
    pool (which imported them once), and not with --fresh-kernels."""
    from scenarios.report.kernel_pool import KernelPool

    if not KernelPool.supported():
        pytest.skip("needs fork and Unix sockets")
    folder = _notebooks(tmp_path, "01_ok.ipynb")
    nb = nbformat.read(folder / "01_ok.ipynb", as_version=4)
    probe, late_import = (nbformat.v4.new_code_cell('import sys\nprint("preloaded:", "colorsys" in sys.modules)'),
                          nbformat.v4.new_code_cell("import colorsys"))
    for cell in (probe, late_import):
        cell.pop("id")  # the fixture is nbformat 4.4, without cell ids
    nb.cells[1:1] = [probe]
    nb.cells.append(late_import)
    nbformat.write(nb, folder / "01_ok.ipynb")
    for fresh, expected in ((False, "preloaded: True"), (True, "preloaded: False")):
        out = tmp_path / ("fresh" if fresh else "pool")
        [result] = run_report([BASE], out=out, notebooks=folder, samples=200, tty=False, fresh_kernels=fresh)
        assert result.status == "complete"
        executed = nbformat.read(out / "latest" / "01_ok.ipynb", as_version=4)
        [cell] = [c for c in executed.cells if c.source == probe.source]
        assert cell.outputs[0]["text"].strip() == expected


def test_a_kernel_spec_with_interpreter_options_gets_a_pool_run_that_way(tmp_path, monkeypatch):
    """A kernel spec that runs its kernels with interpreter options (here -Xutf8) gets a pool
    run that way: its kernels are still forked, and run with those options."""
    import sys

    from scenarios.report.kernel_pool import KernelPool

    if not KernelPool.supported():
        pytest.skip("needs fork and Unix sockets")
    spec = tmp_path / "jupyter" / "kernels" / report_execute.KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-Xutf8", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (utf8)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))  # found before the environment's spec
    folder = _notebooks(tmp_path, "01_ok.ipynb")
    nb = nbformat.read(folder / "01_ok.ipynb", as_version=4)
    probe = nbformat.v4.new_code_cell('import sys\nprint("preloaded:", "colorsys" in sys.modules, "utf8:", sys.flags.utf8_mode)')
    probe.pop("id")  # the fixture is nbformat 4.4, without cell ids
    nb.cells[1:1] = [probe]
    nb.cells.append(nbformat.v4.new_code_cell("import colorsys"))
    nb.cells[-1].pop("id")
    nbformat.write(nb, folder / "01_ok.ipynb")
    [result] = run_report([BASE], out=tmp_path / "r", notebooks=folder, samples=200, tty=False)
    assert result.status == "complete"
    executed = nbformat.read(tmp_path / "r" / "latest" / "01_ok.ipynb", as_version=4)
    [cell] = [c for c in executed.cells if c.source == probe.source]
    assert cell.outputs[0]["text"].strip() == "preloaded: True utf8: 1"


def test_a_kernel_spec_whose_python_is_gone_fails_the_notebooks_not_the_runner(tmp_path, monkeypatch):
    """A stale kernel spec: no pool can start with its interpreter, the kernels' launch fails,
    and each notebook is recorded as failed with why (the run too), as without a pool."""
    spec = tmp_path / "jupyter" / "kernels" / report_execute.KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(tmp_path / "gone" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gone", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    [result] = run_report([BASE], out=tmp_path / "r", notebooks=_notebooks(tmp_path, "01_ok.ipynb"), tty=False)
    assert result.status == "failed"
    [nb] = result.notebooks
    assert nb["status"] == "failed" and "No such file or directory" in nb["message"] and "gone" in nb["message"]
