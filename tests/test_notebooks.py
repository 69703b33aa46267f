"""The committed notebooks: thin and output-free, and they really run, on any valid model.

One real report run of params/base.yaml (every notebook, small samples, two jobs) is shared by
the execution checks through a module-scoped fixture; a second run checks that unchanged inputs
are reused.  The notebooks also run through the ``papermill`` command from the repository root
and from ``notebooks/`` (as JupyterLab runs them, with their defaults), on params/reference.yaml
and every example model in params/, and through the runner on small random valid models
(hypothesis): events only, flows only, no ``by:`` nodes, no questions, no resolutions.  Every
run must be complete, every saved PNG must show something, and every section that does not
apply must say why.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from scenarios.errors import ScenarioError
from scenarios.model.load import load_model
from scenarios.model.report_spec import report_spec
from scenarios.notebook import sections
from scenarios.notebook.inputs import (
    NotebookInputError,
    default_as_of,
    notebook_inputs,
    resolve_path,
)
from scenarios.report import STANDARD_PARAMETERS, declared_parameters, import_papermill, run_report

import_papermill()  # nbformat, via the runner's fast import (see scenarios.report.import_papermill)

import nbformat  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SAMPLES = 2000

AS_OF, LATER = "2023-10-15", "2023-11-15"  # the shared report runs as of these dates (evidence by then)
FIGURES = {  # as of a date, the tree and the flows are drawn again from the prior ("_prior")
    "01_scenarios": {"scenario_tree", "scenario_tree_prior", "event_dates", "event_strips"},
    "02_arms_flows": {"fan_containers", "fan_shells", "fan_missiles", "fan_nk_troops_sent", "fan_containers_prior",
                      "fan_shells_prior", "fan_missiles_prior", "fan_nk_troops_sent_prior"},
    "03_backtest": {"backtest_calibration", "backtest_paths", "backtest_fans", "backtest_dates"},
}
TORNADOS = 8
"""Tornado charts in 01_scenarios (``tornado_<question>``), besides FIGURES."""
BASE = str(REPO / "params" / "base.yaml")
PAPERMILL = str(Path(sys.executable).with_name("papermill"))
MIN_PIXEL_VARIANCE = 1e-3
"""A PNG whose pixels vary less than this (values in [0, 1]) is blank or nearly so."""


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _outputs_text(nb) -> str:
    """Everything an executed notebook shows: Markdown, plain text and printed streams."""
    parts = []
    for cell in _code(nb):
        for out in cell.outputs:
            if out.output_type == "stream":
                parts.append(out.text)
            for mime in ("text/markdown", "text/plain", "text/html"):
                if mime in out.get("data", {}):
                    parts.append(out["data"][mime])
    return "\n".join(parts)


def _not_shown(nb) -> list:
    """The sentences of the sections a notebook left out (the series file's undrawn series aside:
    the Kim-Putin file holds more series than the model has flows)."""
    said = re.findall(r"\*\*Not shown:\*\* ([^\n]*)", _outputs_text(nb))
    ledger = ("This is the first run", "No forecast ledger was given")  # nothing earlier to compare with
    return [s for s in said if not s.startswith("the series file also holds") and not s.startswith(ledger)]


def _assert_complete(nb) -> None:
    errors = [o for c in _code(nb) for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert all(c.execution_count is not None for c in _code(nb)), "a cell was not run"


def _assert_visible(png: Path) -> None:
    import matplotlib.image

    pixels = matplotlib.image.imread(str(png))
    assert float(np.var(pixels[..., :3])) > MIN_PIXEL_VARIANCE, f"{png} is blank"


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
    first = run_report([str(REPO / "params" / "base.yaml")], out=out, samples=SAMPLES, jobs=2, tty=False, as_of=AS_OF)[0]
    second = run_report([str(REPO / "params" / "base.yaml")], out=out, samples=SAMPLES, jobs=2, tty=False, as_of=AS_OF)[0]
    later = run_report([str(REPO / "params" / "base.yaml")], out=out, samples=SAMPLES, jobs=2, tty=False, as_of=LATER)[0]
    return {"out": out, "run": first, "again": second, "later": later,
            "manifest": json.loads((first.path / "manifest.json").read_text())}


def _open_at(day: str) -> list:
    """Ids of base.yaml's questions open as of ``day`` (not closed, not resolved by then)."""
    from scenarios.backtest.data import load_model_data
    from scenarios.engine.asof import is_open
    from scenarios.model.data_files import data_files
    from scenarios.model.load import load_model

    model, questions = load_model(BASE)
    resolutions = load_model_data(model, data_files(model)).resolutions
    d = dt.date.fromisoformat(day)
    return [q.id for q in questions if is_open(q, d, getattr(resolutions.get(q.id), "resolved_on", None))]


def test_every_notebook_runs(report_run):
    assert report_run["run"].status == "complete"
    for path in NOTEBOOKS:
        nb = nbformat.read(report_run["run"].path / path.name, as_version=4)
        _assert_complete(nb)
        assert _not_shown(nb) == []  # base.yaml has every section
        injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
        assert f"samples = {SAMPLES}" in injected.source


@pytest.mark.parametrize("stem", sorted(FIGURES))
def test_figures_saved_as_png_and_svg(report_run, stem):
    folder = report_run["run"].path / "figures" / stem
    files = {p.name for p in folder.iterdir()}
    names = set(FIGURES[stem]) | {p.stem for p in folder.glob("tornado_*.png")}
    assert len(names) == len(FIGURES[stem]) + (TORNADOS if stem == "01_scenarios" else 0)
    assert files == {f"{name}.{ext}" for name in names for ext in ("png", "svg")}
    for name in names:
        assert (folder / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert (folder / f"{name}.png").stat().st_size > 10_000
        _assert_visible(folder / f"{name}.png")


@pytest.mark.parametrize("stem", sorted(FIGURES))
def test_html_holds_the_figures_and_hides_code(report_run, stem):
    html = (report_run["run"].path / f"{stem}.html").read_text()
    images = re.findall(r"<img[^>]+>", html)
    shown = len(FIGURES[stem]) + (TORNADOS if stem == "01_scenarios" else 0)
    assert len([i for i in images if 'src="data:image/png;base64,' in i]) == shown
    assert all(re.search(r'alt="[^"]+"', i) and 'alt="figure"' not in i for i in images)  # the figure's title
    assert "<script src=\"http" not in html and "<link href=\"http" not in html
    assert "scenarios-show-code" in html and "show / hide code" in html
    assert "<table class='scenarios-table'>" in html or 'class="scenarios-table"' in html


def test_forecasts_written(report_run):
    run = report_run["run"].path
    data = json.loads((run / "forecasts.json").read_text())  # as of the report's date: the questions open then
    assert data["samples"] == SAMPLES and data["as_of"] == AS_OF
    assert [q["id"] for q in data["questions"]] == _open_at(AS_OF)
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
    for key, name in (("resolutions", "resolutions.yaml"), ("evidence", "evidence.yaml"), ("series", "numeric_series.yaml")):
        data = REPO / "data" / name
        assert m["data_files"][key] == {"path": str(data), "sha256": hashlib.sha256(data.read_bytes()).hexdigest()}
    assert m["resolved_parameters"]["as_of"] == m["model_as_of"] == "2023-09-05" and m["as_of"] == AS_OF
    assert m["samples"] == SAMPLES and m["seed"] == 20230905
    assert m["versions"]["papermill"] and m["versions"]["numpy"] and m["versions"]["python"]
    assert m["git"] is None or set(m["git"]) == {"commit", "dirty"}
    assert m["started"] <= m["finished"] and m["duration_s"] > 0
    assert [nb["notebook"] for nb in m["notebooks"]] == [p.name for p in NOTEBOOKS]
    for nb in m["notebooks"]:
        assert nb["status"] == "ok" and nb["executed"] and nb["duration_s"] > 0
        assert re.fullmatch(r"[0-9a-f]{64}", nb["cache_key"])
        assert nb["parameters"]["output_dir"] == f"figures/{Path(nb['notebook']).stem}"
        assert nb["parameters"]["as_of"] == AS_OF
    assert len(m["headline"]) == 6 and m["forecasts"]["status"] == "ok"


def test_index_and_latest(report_run):
    out = report_run["out"]
    assert os.readlink(out / "latest") == report_run["later"].name  # the newest complete run
    index = (out / "index.html").read_text()
    assert f"{report_run['run'].name}/01_scenarios.html" in index
    assert "lavrov_visits_pyongyang_by_2023_12_31" in index and f"as of {AS_OF}" in index  # a headline forecast, as of its date


def test_unchanged_inputs_are_reused_not_rerun(report_run):
    first, again = report_run["run"], report_run["again"]
    if not again.unchanged:
        # the key covers the package's source and data/: an edit between the two runs changes it
        pytest.skip("package or data files changed between the two runs")
    assert again.path == first.path and again.status == "complete"  # no new folder
    runs = sorted(p.name for p in report_run["out"].iterdir() if p.name.startswith("20"))
    assert runs == sorted([first.name, report_run["later"].name])  # the later date made the only other one


# --------------------------------------------------------------------------- notebook inputs


def test_notebook_inputs_defaults_come_from_the_params_file():
    run = notebook_inputs(BASE)
    assert (run.samples, run.seed) == (run.model.samples, run.model.seed) == (20000, 20230905)
    run = notebook_inputs(BASE, samples=500, seed=7, as_of="2023-09-05", overrides={"summit_chance.beta.mean": 0.5})
    assert (run.samples, run.seed) == (500, 7)
    assert run.model.doc.data["nodes"]["summit_chance"]["beta"]["mean"] == 0.5
    assert len(run.questions) == 40
    assert run.report == report_spec(run.model)
    assert run.files.series == str(REPO / "data" / "numeric_series.yaml")  # the params file's series:


@pytest.mark.parametrize(
    "as_of, match",
    [("2023-09-04", r"as_of: 2023-09-04 is outside the model's time \(2023-09-05 to the end of its horizon, 2026-02-21\)"),
     ("2026-02-22", r"as_of: 2026-02-22 is outside the model's time"),
     ("1 Oct", r"as_of: expected a date as YYYY-MM-DD, got '1 Oct'")],
)
def test_notebook_inputs_as_of(as_of, match):
    with pytest.raises(NotebookInputError, match=match):
        notebook_inputs(BASE, as_of=as_of)


def test_as_of_defaults_to_today_clipped_to_the_horizon():
    run = notebook_inputs(BASE)
    end = run.model.as_of + dt.timedelta(days=run.model.horizon_days)
    assert run.as_of == min(max(dt.date.today(), run.model.as_of), end)
    assert default_as_of(run.model, dt.date(2020, 1, 1)) == run.model.as_of
    assert default_as_of(run.model, dt.date(2024, 5, 6)) == dt.date(2024, 5, 6)
    assert default_as_of(run.model, dt.date(2030, 1, 1)) == end


def test_the_report_shows_the_forecasts_as_of_its_date_beside_the_prior(report_run):
    nb = nbformat.read(report_run["run"].path / "01_scenarios.ipynb", as_version=4)
    text = _outputs_text(nb)
    assert f"prior and as of {AS_OF}" in text and f"as of {AS_OF}" in text and "the model as of 2023-09-05" in text
    assert "closed or resolved" in text  # summit_by_2023_09_30 closed before 2023-10-15
    flows = _outputs_text(nbformat.read(report_run["run"].path / "02_arms_flows.ipynb", as_version=4))
    assert re.search(rf"as of +{AS_OF} \([0-9]+ evidence items public by then\)", flows)


def test_each_run_is_recorded_in_the_ledger_once_and_the_next_says_what_changed(report_run):
    from scenarios.ledger import Ledger

    with Ledger(report_run["out"] / "ledger.sqlite", create=False) as ledger:
        runs = ledger.runs()
        assert [str(r["as_of"]) for r in runs] == [AS_OF, LATER]  # the unchanged rerun added nothing
        assert ledger.check() == []
        assert [f["question_id"] for f in ledger.forecasts(runs[0]["run_id"])] == _open_at(AS_OF)
    later = _outputs_text(nbformat.read(report_run["later"].path / "01_scenarios.ipynb", as_version=4))
    assert f"Since run {report_run['run'].name} as of {AS_OF}" in later
    assert "new evidence" in later  # items public between 2023-10-15 and 2023-11-15
    record = _outputs_text(nbformat.read(report_run["later"].path / "03_backtest.ipynb", as_version=4))
    assert "Published forecasts: mean time-averaged Brier" in record


def test_relative_paths_resolve_from_the_root_and_from_notebooks(tmp_path):
    expected = (REPO / "params" / "base.yaml").resolve()
    assert Path(resolve_path("params/base.yaml", "params_file", cwd=REPO)).resolve() == expected
    assert Path(resolve_path("params/base.yaml", "params_file", cwd=REPO / "notebooks")).resolve() == expected
    assert Path(resolve_path("../params/base.yaml", "params_file", cwd=REPO / "notebooks")).resolve() == expected
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "base.yaml").write_text("mine")  # the working folder comes first
    assert Path(resolve_path("params/base.yaml", "params_file", cwd=tmp_path)) == tmp_path / "params" / "base.yaml"
    with pytest.raises(NotebookInputError, match=r"params_file: file not found: 'params/nowhere.yaml' \(looked for "):
        resolve_path("params/nowhere.yaml", "params_file", cwd=tmp_path)
    with pytest.raises(NotebookInputError, match="series_file: file not found"):
        notebook_inputs(BASE, series_file=str(tmp_path / "missing.yaml"))


def test_a_bad_report_section_stops_the_notebook_with_the_key_path():
    with pytest.raises(ScenarioError, match=r"report\.tree\.0: unknown node 'sumit'.*did you mean 'summit'"):
        notebook_inputs(BASE, overrides={"report.tree": ["sumit"]})


# --------------------------------------------------------------------------- the papermill command


def _papermill(notebook: Path, cwd: Path, out: Path, *parameters: str) -> subprocess.CompletedProcess:
    args = [PAPERMILL, str(notebook), str(out), "-k", "python3", "--log-level", "ERROR"]
    for p in parameters:
        args += ["-p", *p.split("=", 1)]
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)


EXAMPLES = sorted(p for p in (REPO / "params").glob("*.yaml") if p.name != "base.yaml" and not p.name.endswith("questions.yaml"))


@pytest.mark.parametrize("params", EXAMPLES, ids=lambda p: p.stem)
def test_papermill_from_the_repository_root(params, tmp_path):
    """`papermill notebooks/01_scenarios.ipynb out.ipynb -p params_file params/other.yaml -p samples 2000`."""
    try:
        load_model(str(params))
    except ScenarioError:
        pytest.skip(f"{params.name} is not a model (a layer or questions file)")
    for path in NOTEBOOKS:
        out = tmp_path / path.name
        figures = tmp_path / path.stem
        done = _papermill(path.relative_to(REPO), REPO, out, f"params_file={params.relative_to(REPO)}", "samples=2000",
                          f"output_dir={figures}")
        assert done.returncode == 0, done.stderr[-3000:]
        nb = nbformat.read(out, as_version=4)
        _assert_complete(nb)
        for png in figures.glob("*.png") if figures.exists() else []:
            _assert_visible(png)


def test_papermill_from_the_notebooks_folder_with_the_defaults(tmp_path):
    """As JupyterLab runs a notebook: from notebooks/, its parameters cell as committed (only
    fewer worlds)."""
    for path in NOTEBOOKS:
        out = tmp_path / path.name
        done = _papermill(path, REPO / "notebooks", out, "samples=2000")
        assert done.returncode == 0, done.stderr[-3000:]
        nb = nbformat.read(out, as_version=4)
        _assert_complete(nb)
        assert _not_shown(nb) == []


# --------------------------------------------------------------------------- any valid model

FLAVOURS = ("events_only", "flows_only", "no_by", "no_questions", "no_resolutions")


@st.composite
def params_documents(draw, flavour: str) -> dict:
    """A small valid params document of one flavour (see FLAVOURS)."""
    p = st.floats(0.05, 0.95).map(lambda x: round(x, 2))
    nodes: dict = {}
    questions: list = []
    has_events = flavour != "flows_only"
    has_flows = flavour != "events_only"
    has_by = flavour in ("no_questions", "no_resolutions")
    if flavour not in ("events_only", "flows_only"):
        nodes["happens"] = {"bernoulli": {"p": draw(p)}}
        questions.append({"id": "q_happens", "text": "Does it happen?", "resolve": {"expr": "happens"}})
    if has_by:
        cats = draw(st.lists(st.sampled_from(["low", "mid", "high", "other"]), min_size=2, max_size=3, unique=True))
        weights = draw(st.lists(st.integers(1, 9), min_size=len(cats), max_size=len(cats)))
        probs = [round(w / sum(weights), 4) for w in weights[:-1]]
        probs.append(round(1 - sum(probs), 4))
        nodes["kind_of"] = {"by": "happens", "cases": {
            "true": {"categorical": dict(zip(cats, probs, strict=True))},
            "false": {"categorical": {"none": 1.0}},
        }}
        questions.append({"id": "q_kind", "text": f"Is it {cats[0]}?", "resolve": {"is": {"kind_of": cats[0]}}})
    for i in range(draw(st.integers(1, 3)) if has_events else 0):
        if i == 0 and "happens" in nodes:
            spec = {"when": "happens", "delay": {"uniform": [1, draw(st.integers(5, 200))]}}
        elif i == 0:
            spec = {"chance_per_month": draw(p)}
        else:
            spec = {"after": f"event_{i - 1}", "delay": {"ci90": [1, draw(st.integers(10, 90))]}}
        nodes[f"event_{i}"] = {"event": spec}
        questions.append({"id": f"q_event_{i}", "text": f"Event {i} within 60 days?", "resolve": {"expr": f"event_{i} <= 60"}})
    for i in range(draw(st.integers(1, 2)) if has_flows else 0):
        low = draw(st.integers(1, 50))
        rate = {"ci90": [low, low * draw(st.integers(2, 20))]}
        if has_by and i == 0:
            rate = {"by": "kind_of", "default": rate, "cases": {"none": {"constant": 0.5}}}
        nodes[f"flow_{i}"] = {"flow": {"rate": rate}}
        questions.append({"id": f"q_flow_{i}", "text": f"Flow {i} total by month 2", "type": "numeric",
                          "resolve": {"quantity": f"flow_{i}.cumulative", "month": 2}})
    doc = {
        "model": f"random-{flavour}", "as_of": "2024-01-15", "horizon_months": draw(st.integers(3, 12)),
        "seed": draw(st.integers(0, 2**31)), "samples": 2000, "nodes": nodes,
    }
    if flavour != "no_questions":
        doc["questions"] = questions
    if flavour == "no_resolutions" and draw(st.booleans()):
        doc["report"] = {"events": []}  # an explicit empty part: said, not silently dropped
    return doc


def _expected(path: str):
    """What the report of the model at ``path`` must show and what it must say it leaves out."""
    model, questions = load_model(path)
    spec = report_spec(model)
    figures = {
        "01_scenarios": ({"scenario_tree"} if spec.tree else set()) | ({"event_dates"} if spec.events else set())
        | ({"event_strips"} if not sections.event_nodes_skipped(model) else set()),
        "02_arms_flows": {f"fan_{f.node}" for f in spec.flows},
        "03_backtest": set(),
    }
    said = {
        "01_scenarios": [r for r in (sections.tree_skipped(spec), sections.events_skipped(spec, model),
                                     sections.event_nodes_skipped(model), sections.questions_skipped(questions)) if r],
        "02_arms_flows": [r for r in (sections.flows_skipped(spec, model), sections.series_skipped(spec, "", {})) if r],
        "03_backtest": ["so there is nothing to backtest" if not questions else "the model has no resolutions file"],
    }
    return figures, said


@pytest.mark.parametrize("flavour", FLAVOURS)
@settings(max_examples=2, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_valid_model_gets_a_complete_report(flavour, data, tmp_path_factory):
    doc = data.draw(params_documents(flavour))
    folder = tmp_path_factory.mktemp(flavour)
    (folder / "params").mkdir()
    path = folder / "params" / "model.yaml"  # no data/resolutions.yaml beside it: nothing to score
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    figures, said = _expected(str(path))
    # the flavour's point: its missing part is said, not silently dropped
    words = {"events_only": ("no boolean or categorical node", "no flow nodes"),
             "flows_only": ("no event nodes",), "no_by": ("no boolean or categorical node",),
             "no_questions": ("no questions",), "no_resolutions": ("no resolutions file",)}[flavour]
    flat = " ".join(r for rs in said.values() for r in rs)
    assert all(w in flat for w in words), flat

    run = run_report([str(path)], out=folder / "reports", samples=2000, jobs=2, tty=False)[0]
    assert run.status == "complete", run.notebooks
    for stem, names in figures.items():
        nb = nbformat.read(run.path / f"{stem}.ipynb", as_version=4)
        _assert_complete(nb)
        shown = _outputs_text(nb)
        for reason in said[stem]:
            assert reason in shown, (stem, reason)
        folder_of = run.path / "figures" / stem
        saved = {p.stem for p in folder_of.glob("*.png")} if folder_of.exists() else set()
        assert saved == names, stem
        for name in names:
            _assert_visible(folder_of / f"{name}.png")
