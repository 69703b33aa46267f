"""The committed notebooks: thin and output-free, and they really run through papermill.

One real report run (both notebooks, small samples, two jobs) is shared by the execution
checks through a module-scoped fixture; a second run checks that unchanged inputs are reused.
"""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pytest

from scenarios.report import STANDARD_PARAMETERS, declared_parameters, import_papermill, run_report

import_papermill()  # nbformat, via the runner's fast import (see scenarios.report.import_papermill)

import nbformat  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SAMPLES = 2000

FIGURES = {
    "01_scenarios": {"scenario_tree", "event_dates", "event_strips"},
    "02_arms_flows": {"fan_containers", "fan_shells", "fan_missiles"},
}


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_the_notebooks_are_there():
    assert set(FIGURES) <= {p.stem for p in NOTEBOOKS}  # later issues add more notebooks


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in _code(nb):
        assert cell.execution_count is None, cell.source[:60]
        assert cell.outputs == [], cell.source[:60]
    assert "papermill" not in nb.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exactly_one_parameters_cell_first_holding_literals(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert tagged == [0]
    names = []
    for stmt in ast.parse(nb.cells[0].source).body:
        assert isinstance(stmt, (ast.Assign, ast.AnnAssign)), ast.dump(stmt)
        ast.literal_eval(stmt.value)  # literals only
        names.append(stmt.target.id if isinstance(stmt, ast.AnnAssign) else stmt.targets[0].id)
    assert names[: len(STANDARD_PARAMETERS)] == list(STANDARD_PARAMETERS)
    # papermill reads every one of them, with its type
    declared = declared_parameters(path)
    assert list(declared) == names
    assert all(p["type"] for p in declared.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_thin_one_import_cell_then_calls(path):
    nb = nbformat.read(path, as_version=4)
    code = _code(nb)
    imports = [c for c in code if any(isinstance(s, (ast.Import, ast.ImportFrom)) for s in ast.parse(c.source).body)]
    assert imports == [code[1]]
    assert all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in ast.parse(code[1].source).body)
    for cell in code:
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)), cell.source


# --------------------------------------------------------------------------- real execution


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    first = run_report([str(REPO / "params" / "base.yaml")], out=out, samples=SAMPLES, jobs=2, tty=False)[0]
    second = run_report([str(REPO / "params" / "base.yaml")], out=out, samples=SAMPLES, jobs=2, tty=False)[0]
    return {"out": out, "run": first, "again": second,
            "manifest": json.loads((first.path / "manifest.json").read_text())}


def test_every_notebook_runs(report_run):
    assert report_run["run"].status == "complete"
    for path in NOTEBOOKS:
        nb = nbformat.read(report_run["run"].path / path.name, as_version=4)
        errors = [o for c in _code(nb) for o in c.outputs if o.output_type == "error"]
        assert errors == []
        injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
        assert f"samples = {SAMPLES}" in injected.source


@pytest.mark.parametrize("stem", sorted(FIGURES))
def test_figures_saved_as_png_and_svg(report_run, stem):
    folder = report_run["run"].path / "figures" / stem
    files = {p.name for p in folder.iterdir()}
    assert files == {f"{name}.{ext}" for name in FIGURES[stem] for ext in ("png", "svg")}
    for name in FIGURES[stem]:
        assert (folder / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert (folder / f"{name}.png").stat().st_size > 10_000


@pytest.mark.parametrize("stem", sorted(FIGURES))
def test_html_holds_the_figures_and_hides_code(report_run, stem):
    html = (report_run["run"].path / f"{stem}.html").read_text()
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) == len(FIGURES[stem])
    assert "scenarios-show-code" in html and "show / hide code" in html
    assert "<table class='scenarios-table'>" in html or 'class="scenarios-table"' in html


def test_forecasts_written(report_run):
    run = report_run["run"].path
    data = json.loads((run / "forecasts.json").read_text())
    assert data["samples"] == SAMPLES and len(data["questions"]) == 40
    assert (run / "forecasts.csv").read_text().startswith("id,type,probability")


def test_manifest_content(report_run):
    m = report_run["manifest"]
    base = REPO / "params" / "base.yaml"
    import hashlib

    assert m["status"] == "complete" and m["name"] == report_run["run"].name
    assert m["params"][0]["abspath"] == str(base)
    assert m["params"][0]["sha256"] == hashlib.sha256(base.read_bytes()).hexdigest()
    assert m["params"][1]["path"].endswith("questions.yaml")
    assert m["resolved_parameters"]["nodes"]["summit"]["bernoulli"] == {"p": "summit_chance"}
    assert m["resolved_parameters"]["as_of"] == "2023-09-05"
    assert m["samples"] == SAMPLES and m["seed"] == 20230905
    assert m["versions"]["papermill"] and m["versions"]["numpy"] and m["versions"]["python"]
    assert m["git"] is None or set(m["git"]) == {"commit", "dirty"}
    assert m["started"] <= m["finished"] and m["duration_s"] > 0
    assert [nb["notebook"] for nb in m["notebooks"]] == [p.name for p in NOTEBOOKS]
    for nb in m["notebooks"]:
        assert nb["status"] == "ok" and nb["executed"] and nb["duration_s"] > 0
        assert re.fullmatch(r"[0-9a-f]{64}", nb["cache_key"])
        assert nb["parameters"]["output_dir"] == f"figures/{Path(nb['notebook']).stem}"
    assert len(m["headline"]) == 6 and m["forecasts"]["status"] == "ok"


def test_index_and_latest(report_run):
    out = report_run["out"]
    assert os.readlink(out / "latest") == report_run["again"].name  # the newest complete run
    index = (out / "index.html").read_text()
    assert f"{report_run['run'].name}/01_scenarios.html" in index
    assert "summit_by_2023_09_30" in index  # a headline forecast


def test_unchanged_inputs_are_reused_not_rerun(report_run):
    again = json.loads((report_run["again"].path / "manifest.json").read_text())
    assert again["status"] == "complete"
    first = {nb["notebook"]: nb["cache_key"] for nb in report_run["manifest"]["notebooks"]}
    if {nb["notebook"]: nb["cache_key"] for nb in again["notebooks"]} != first:
        # the key covers src/scenarios/*.py and data/: an edit between the two runs changes it
        pytest.skip("package or data files changed between the two runs")
    for nb in again["notebooks"]:
        assert nb["executed"] is False and nb["cached_from"] == report_run["run"].name
    assert (report_run["again"].path / "02_arms_flows.html").exists()
    assert (report_run["again"].path / "figures" / "02_arms_flows" / "fan_shells.svg").exists()
