"""Data files travel with the model: resolutions:, evidence: and series: resolved in one place.

Paths are relative to the file that writes the key (also through ``extends:``), the command line
overrides them, a named file that does not exist is exit 2 naming the key and the file, nothing
is guessed from the folder layout, and a bad data file stops every command before it writes
anything (the report: before any kernel starts).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from conftest import HEADER
from scenarios.backtest import NO_RESOLUTIONS, load_model_data
from scenarios.cli import main
from scenarios.engine.evidence import load_evidence
from scenarios.errors import ParamsError
from scenarios.model.data_files import DataFiles, data_files
from scenarios.model.load import load_model
from scenarios.notebook.inputs import notebook_inputs
from scenarios.report import run_report

URL = "https://example.org/news"

MODEL = HEADER + """
model: tiny
nodes:
  a: {bernoulli: {p: 0.3}}
  b: {bernoulli: {p: 0.6}}
  size: {lognormal: {ci90: [10, 1000]}}
questions:
  - {id: qa, open: 2023-09-05, close: 2023-09-30, resolve: {is: {a: true}}}
  - {id: qb, open: 2023-09-05, close: 2023-12-31, resolve: {is: {b: true}}}
"""

RESOLUTIONS = """
questions:
  - {id: qa, outcome: true, resolved_on: 2023-09-20}
  - {id: qb, outcome: false, resolved_on: 2024-01-02}
"""

EVIDENCE = f"""
evidence:
  - {{public_on: 2023-09-10, source: "{URL}", observe: {{b: true}}}}
"""

SERIES = f"""
size_reported:
  - date_of_estimate: 2023-10-13
    quantity: things counted
    value: 300
    low: 200
    high: 400
    estimator: a ministry
    confidence: high
    sources: ["{URL}"]
"""

KEYS = "resolutions: ../data/resolutions.yaml\nevidence: ../data/evidence.yaml\nseries: ../data/series.yaml\n"


def _put(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return str(path)


@pytest.fixture
def project(tmp_path):
    """A model kept in a folder of its own: params/m.yaml naming ../data/*.yaml, and a bare
    params/bare.yaml in the same folder that names nothing."""
    root = tmp_path / "proj"
    _put(root / "data" / "resolutions.yaml", RESOLUTIONS)
    _put(root / "data" / "evidence.yaml", EVIDENCE)
    _put(root / "data" / "series.yaml", SERIES)
    _put(root / "params" / "m.yaml", MODEL + KEYS)
    _put(root / "params" / "bare.yaml", MODEL)
    return root


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """The current folder is not the project's."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


# --------------------------------------------------------------------------- where the files are


def test_keys_are_relative_to_the_params_file_not_the_current_folder(project, elsewhere):
    model, _ = load_model(str(project / "params" / "m.yaml"))
    files = data_files(model)
    data = project / "data"
    assert files == DataFiles(str(data / "resolutions.yaml"), str(data / "evidence.yaml"), str(data / "series.yaml"))
    assert all(os.path.isabs(p) for p in (files.resolutions, files.evidence, files.series))


def test_keys_written_in_a_base_file_are_relative_to_that_file_through_extends(project, tmp_path, elsewhere):
    variant = _put(tmp_path / "variants" / "v.yaml", "extends: ../proj/params/m.yaml\nseed: 99\nseries: local.yaml\n")
    _put(tmp_path / "variants" / "local.yaml", SERIES)
    model, _ = load_model(variant)
    files = data_files(model)
    assert files.resolutions == str(project / "data" / "resolutions.yaml")  # written in m.yaml
    assert files.evidence == str(project / "data" / "evidence.yaml")
    assert files.series == str(tmp_path / "variants" / "local.yaml")  # written in v.yaml
    assert len(load_evidence(model)) == 1  # the evidence loader resolves through the same place


def test_command_line_values_win_and_are_relative_to_the_current_folder(project, elsewhere):
    _put(elsewhere / "alt" / "r.yaml", RESOLUTIONS)
    model, _ = load_model(str(project / "params" / "m.yaml"))
    files = data_files(model, resolutions="alt/r.yaml", evidence="", series=None)
    assert files.resolutions == str(elsewhere / "alt" / "r.yaml")
    assert files.evidence == str(project / "data" / "evidence.yaml")  # "" and None: the params file's
    assert files.series == str(project / "data" / "series.yaml")


def test_a_set_override_is_a_command_line_value(project, elsewhere):
    _put(elsewhere / "s.yaml", SERIES)
    model, _ = load_model(str(project / "params" / "m.yaml"), overrides=["series=s.yaml"])
    assert data_files(model).series == str(elsewhere / "s.yaml")


def test_inline_evidence_has_no_file_and_still_loads(project):
    path = _put(project / "params" / "inline.yaml", MODEL + f"evidence:\n  - {{public_on: 2023-09-10, source: '{URL}', observe: {{a: true}}}}\n")
    model, _ = load_model(path)
    assert data_files(model) == DataFiles()
    assert len(load_model_data(model, data_files(model)).evidence) == 1


def test_as_parameters_gives_empty_strings_for_none(project):
    model, _ = load_model(str(project / "params" / "m.yaml"))
    params = data_files(model).as_parameters()
    assert params["series_file"] == str(project / "data" / "series.yaml")
    assert DataFiles().as_parameters() == {"resolutions_file": "", "evidence_file": "", "series_file": ""}


@pytest.mark.parametrize("key", ["resolutions", "evidence", "series"])
def test_a_named_file_that_does_not_exist_names_the_key_and_the_file(project, key, capsys):
    path = _put(project / "params" / "missing.yaml", MODEL + f"{key}: ../data/nope.yaml\n")
    model, _ = load_model(path)
    with pytest.raises(ParamsError, match=rf"missing\.yaml: {key}: file not found: .*proj/data/nope\.yaml"):
        data_files(model)
    for command in (["validate", path], ["forecast", path], ["backtest", path, "--out", str(project / "bt")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert f"missing.yaml: {key}: file not found: " in err and "nope.yaml" in err and "Traceback" not in err
    assert not (project / "bt").exists()


@pytest.mark.parametrize("key", ["resolutions", "evidence", "series"])
def test_a_missing_file_on_the_command_line_names_the_option(project, elsewhere, key, capsys):
    params = str(project / "params" / "m.yaml")
    with pytest.raises(ParamsError, match=rf"<command line>: --{key}: file not found: .*nope\.yaml"):
        data_files(load_model(params)[0], **{key: "nope.yaml"})
    assert main(["forecast", params, f"--{key}", "nope.yaml"]) == 2
    assert f"--{key}: file not found: {elsewhere / 'nope.yaml'}" in capsys.readouterr().err


@pytest.mark.parametrize("value, match", [
    ("3", "series: expected a file path, got int"),
    ("''", "series: expected a file path, got a string"),
    ("[a.yaml]", "series: expected a file path, got a list"),
    ("../data", "series: expected a file, got a directory"),
])
def test_a_key_that_does_not_name_a_file(project, value, match):
    path = _put(project / "params" / "odd.yaml", MODEL + f"series: {value}\n")
    with pytest.raises(ParamsError, match=match):
        data_files(load_model(path)[0])


# --------------------------------------------------------------------------- no guessing


def test_a_model_without_keys_has_no_data_even_with_data_files_beside_it(project, elsewhere, capsys):
    """data/resolutions.yaml sits next to params/, as in this repository: it is not the model's."""
    bare = str(project / "params" / "bare.yaml")
    monkey_repo_layout = project / "data" / "numeric_series.yaml"
    monkey_repo_layout.write_text(SERIES)
    model, _ = load_model(bare)
    assert data_files(model) == DataFiles()
    out = project / "bt"
    assert main(["backtest", bare, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"bare.yaml: resolutions: {NO_RESOLUTIONS}" in err
    assert not out.exists()


def test_forecast_as_of_skips_resolved_questions_only_with_resolutions(project, capsys):
    """qa resolved on 2023-09-20: as of 2023-09-25 it is skipped only when the model has resolutions."""
    def ids(args):
        assert main(["forecast", *args, "--as-of", "2023-09-25", "--format", "json", "-n", "500"]) == 0
        return [q["id"] for q in json.loads(capsys.readouterr().out)["questions"]]

    bare, named = str(project / "params" / "bare.yaml"), str(project / "params" / "m.yaml")
    assert ids([bare]) == ["qa", "qb"]  # data/resolutions.yaml beside it is not used
    assert ids([named]) == ["qb"]
    assert ids([bare, "--resolutions", str(project / "data" / "resolutions.yaml")]) == ["qb"]


def test_backtest_uses_the_models_own_files_from_any_folder(project, elsewhere, capsys):
    out = elsewhere / "bt"
    assert main(["backtest", str(project / "params" / "m.yaml"), "-n", "500", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["evidence"] == str(project / "data" / "evidence.yaml")
    assert summary["counts"]["binary_scored"] == 2


def test_validate_counts_the_data(project, capsys):
    assert main(["validate", str(project / "params" / "m.yaml")]) == 0
    assert "1 evidence items, 2 resolutions, 1 series" in capsys.readouterr().out


# --------------------------------------------------------------------------- bad files stop everything

BAD = {
    "resolutions": ("questions:\n  - {id: qa, outcome: maybe}\n", r"resolutions\.yaml:2: questions\.0\.outcome"),
    "evidence": (f"evidence:\n  - {{public_on: 2023-09-10, source: '{URL}', observe: {{bb: true}}}}\n",
                 r"evidence\.yaml:2: evidence\.0\.observe\.bb: .*did you mean 'b'"),
    "series": ("size_reported:\n  - {date_of_estimate: 2023-10-13, quantity: q, value: lots, estimator: x, sources: [s]}\n",
               r"series\.yaml:\d+: size_reported\.0\.value: expected a number or null, got a string \('lots'\)"),
}

OK_NOTEBOOK = Path(__file__).parent / "fixtures" / "notebooks_failing" / "01_ok.ipynb"


@pytest.mark.parametrize("key", sorted(BAD))
def test_a_bad_data_file_is_exit_2_before_any_kernel_and_nothing_is_written(project, tmp_path, key, capsys):
    text, match = BAD[key]
    _put(project / "data" / f"{key}.yaml", text)
    params = str(project / "params" / "m.yaml")
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    (notebooks / OK_NOTEBOOK.name).write_bytes(OK_NOTEBOOK.read_bytes())
    out = tmp_path / "reports"
    for command in (["report", params, "--out", str(out), "--notebooks", str(notebooks)], ["validate", params],
                    ["backtest", params, "--out", str(out)], ["forecast", params]):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert __import__("re").search(match, err), err
    assert not out.exists()


@pytest.mark.parametrize("key", ["resolutions", "evidence", "series"])
def test_report_takes_each_option_and_a_missing_file_stops_it(project, tmp_path, key, capsys):
    out = tmp_path / "reports"
    code = main(["report", str(project / "params" / "m.yaml"), "--out", str(out), "--notebooks", str(OK_NOTEBOOK.parent),
                 f"--{key}", str(tmp_path / "nope.yaml")])
    assert code == 2
    assert f"--{key}: file not found: {tmp_path / 'nope.yaml'}" in capsys.readouterr().err
    assert not out.exists()


def test_a_bad_file_given_on_the_command_line_stops_the_report(project, tmp_path, capsys):
    bad = _put(tmp_path / "bad_series.yaml", BAD["series"][0])
    out = tmp_path / "reports"
    with pytest.raises(ParamsError, match=r"bad_series\.yaml:\d+: size_reported\.0\.value"):
        run_report([str(project / "params" / "m.yaml")], out=out, series=bad, notebooks=OK_NOTEBOOK.parent, tty=False)
    assert not out.exists()


# --------------------------------------------------------------------------- what notebooks get


def test_notebook_inputs_resolve_the_data_files():
    from conftest import REPO

    run = notebook_inputs(os.path.join(REPO, "params", "base.yaml"))
    assert run.files.resolutions == os.path.join(REPO, "data", "resolutions.yaml")
    assert run.files.series == os.path.join(REPO, "data", "numeric_series.yaml")
    assert run.files.evidence == os.path.join(REPO, "data", "evidence.yaml")


NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "metadata": {"tags": ["parameters"]}, "outputs": [], "source": (
            'params_file: str = ""  # params file\nsamples: int = 0  # worlds\nseed: int = -1  # seed\n'
            'as_of: str = ""  # date\noverrides: dict = {}  # overrides\noutput_dir: str = ""  # figures\n'
            'resolutions_file: str = ""  # resolutions\nevidence_file: str = ""  # evidence\nseries_file: str = ""  # series'
        )},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": (
            "import json, os\nos.makedirs(output_dir, exist_ok=True)\n"
            "json.dump([resolutions_file, evidence_file, series_file], open(os.path.join(output_dir, 'files.json'), 'w'))"
        )},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 4,
}


def test_the_report_passes_the_resolved_files_to_notebooks_that_declare_them(project, tmp_path, elsewhere):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    (notebooks / "01_files.ipynb").write_text(json.dumps(NOTEBOOK))
    _put(elsewhere / "other_series.yaml", SERIES)
    out = tmp_path / "reports"
    [named] = run_report([str(project / "params" / "m.yaml")], out=out, notebooks=notebooks, samples=100,
                         series="other_series.yaml", tty=False)
    [bare] = run_report([str(project / "params" / "bare.yaml")], out=out, notebooks=notebooks, samples=100, tty=False)
    assert named.status == "complete" and bare.status == "complete"
    got = json.loads((named.path / "figures" / "01_files" / "files.json").read_text())
    assert got == [str(project / "data" / "resolutions.yaml"), str(project / "data" / "evidence.yaml"),
                   str(elsewhere / "other_series.yaml")]
    assert json.loads((bare.path / "figures" / "01_files" / "files.json").read_text()) == ["", "", ""]
