"""The command line as users run it: real subprocesses, exit codes, formats, nothing written on error."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO

REFERENCE = os.path.join(REPO, "params", "reference.yaml")
BASE = os.path.join(REPO, "params", "base.yaml")


def run(*args, cwd=REPO):
    proc = subprocess.run([sys.executable, "-m", "scenarios", *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_forecast_json_schema():
    code, out, err = run("forecast", REFERENCE, "--samples", "5000", "--seed", "3", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["samples"] == 5000 and data["seed"] == 3
    by_id = {q["id"]: q for q in data["questions"]}
    assert set(by_id["q_deal"]) >= {"id", "type", "probability", "stderr"}
    assert by_id["q_deal"]["type"] == "binary" and 0 <= by_id["q_deal"]["probability"] <= 1
    shells = by_id["shells_m12_quantiles"]
    assert shells["type"] == "numeric" and set(shells["quantiles"]) == {"0.05", "0.5", "0.95"}
    assert "mean" in shells and "stderr" in shells


def test_same_command_same_output():
    args = ("forecast", REFERENCE, "--samples", "3000", "--seed", "1", "--format", "json")
    assert run(*args)[1] == run(*args)[1]


def test_csv_and_table_formats_and_set_override():
    code, out, err = run("forecast", REFERENCE, "-n", "2000", "--set", "theta.beta.a=1", "--set", "theta.beta.b=1", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["id"] == "q_summit_30d" and rows[0]["samples"] == "2000"
    code, table, _ = run("forecast", REFERENCE, "-n", "2000")
    assert code == 0 and "q_summit_30d" in table and "±" in table


def test_python_m_and_console_script_agree():
    exe = os.path.join(os.path.dirname(sys.executable), "scenarios")
    if not os.path.exists(exe):
        pytest.skip("console script not installed in this environment")
    a = subprocess.run([exe, "forecast", REFERENCE, "-n", "1000", "--format", "json"], capture_output=True, text=True, cwd=REPO)
    assert a.returncode == 0 and a.stdout == run("forecast", REFERENCE, "-n", "1000", "--format", "json")[1]


def test_base_model_forecasts_every_question():
    code, out, err = run("forecast", BASE, "-n", "2000", "--format", "json")
    assert code == 0, err
    ids = {q["id"] for q in json.loads(out)["questions"]}
    import yaml

    shared = yaml.safe_load(open(os.path.join(REPO, "data", "resolutions.yaml")))["questions"]
    assert {q["id"] for q in shared} <= ids


@pytest.mark.parametrize(
    "args, pattern",
    [
        (("forecast", REFERENCE, "--samples", "0"), "expected at least 1 world"),
        (("forecast", REFERENCE, "--samples", "-5"), "expected at least 1 world"),
        (("forecast", REFERENCE, "--samples", "10000000000"), "more than the limit"),
        (("forecast", REFERENCE, "--set", "theta.beta.a=-1"), r"nodes\.theta\.beta\.a"),
        (("forecast", REFERENCE, "--set", "nonsense"), "expected dotted.path=value"),
        (("forecast", "missing.yaml"), "missing.yaml: file not found"),
        (("validate", REFERENCE, "missing.yaml"), "missing.yaml: file not found"),
    ],
)
def test_bad_input_exits_2_without_traceback(args, pattern):
    import re

    code, out, err = run(*args)
    assert code == 2
    assert re.search(pattern, err), err
    assert "Traceback" not in err


def test_error_writes_nothing(tmp_path, write):
    out = tmp_path / "out.json"
    bad = write("bad.yaml", "as_of: 2023-09-05\nhorizon_months: 3\nnodes:\n  a: {bernoulli: {p: 2}}\nquestions: []\n")
    code, _, err = run("forecast", bad, "--output", str(out))
    assert code == 2 and not out.exists()
    assert "bad.yaml:4: nodes.a.bernoulli.p: expected a probability in [0, 1], got 2" in err


def test_output_file_written(tmp_path):
    out = tmp_path / "f.json"
    code, stdout, err = run("forecast", REFERENCE, "-n", "1000", "--format", "json", "--output", str(out))
    assert code == 0 and stdout == ""
    assert json.loads(out.read_text())["samples"] == 1000
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temp files left


def test_validate_reports_each_file():
    code, out, err = run("validate", REFERENCE, BASE)
    assert code == 0, err
    assert out.count("ok: ") == 2


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; from scenarios import cli; cli.build_parser();"
        "print(sorted(m for m in ('numpy', 'scipy', 'yaml', 'matplotlib', 'papermill') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_validate_glob_of_params_folder_including_questions_file():
    import glob

    files = sorted(glob.glob(os.path.join(REPO, "params", "*.yaml")))
    code, out, err = run("validate", *files)
    assert code == 0, err
    assert "questions file, checked with" in out and "evidence items" in out


def test_forecast_as_of_skips_closed_and_resolved_questions():
    code, out, err = run("forecast", BASE, "-n", "3000", "--as-of", "2023-10-15", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    ids = {q["id"] for q in data["questions"]}
    assert data["as_of"] == "2023-10-15"
    assert "summit_by_2023_09_30" not in ids  # closed 2023-09-30
    assert "us_says_shells_delivered_by_2023_10_31" not in ids  # resolved 2023-10-13
    assert "putin_visits_pyongyang_by_2024_12_31" in ids
    assert data["effective_sample_size"] < 3000
