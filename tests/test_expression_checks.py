"""Expressions inside models and questions, through the command line: every bad one is exit 2."""

from __future__ import annotations

import re

import pytest

from conftest import HEADER
from scenarios.cli import main

Q_SUMMIT = "questions:\n  - {id: q, resolve: {is: {s: true}}}\n"


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "nodes, pattern",
    [
        ("  x: {normal: {mean: 1, sd: 1}}\n  a: {expr: '" + " + ".join(["x"] * 500) + "'}\n",
         r"nodes\.a\.expr: expression 'x \+ x.*' (has more than \d+ parts|is nested more than \d+ levels)"),
        ("  x: 1\n  a: {expr: 'x * " + "7" * 1900 + "'}\n", r"nodes\.a\.expr: number '7777.*\.\.\.' is too large"),
        ("  x: 1\n  a: {expr: 'x + 10**10**10'}\n", r"nodes\.a\.expr: `10\*\*10\*\*10` overflows"),
        ("  a: {expr: '1 % 0'}\n", r"nodes\.a\.expr: `1 % 0` takes a remainder"),
        ("  a: {normal: {mean: 0, sd: 1}}\n  e: {event: {when: a, delay: 3}}\n",
         r"nodes\.e\.event\.when: expected a boolean \(true/false\) value, 'a' is a number node"),
        ("  a: {normal: {mean: 0, sd: 1}}\n  f: {flow: {rate: 3, when: 'a * 2'}}\n",
         r"nodes\.f\.flow\.when: expected a boolean \(true/false\) value, got a number value"),
        ("  a: {normal: {mean: 0, sd: 1}}\n  b: {expr: 'a and a > 0'}\n",
         r"nodes\.b\.expr: `a` in expression 'a and a > 0': 'and' reads a boolean"),
    ],
)
def test_bad_expressions_in_a_model_are_exit_2_when_validated(capsys, write, nodes, pattern):
    path = write("m.yaml", HEADER + "nodes:\n  s: {bernoulli: {p: 0.5}}\n" + nodes + Q_SUMMIT)
    code, out, err = run(capsys, "validate", path)
    assert code == 2, out + err
    assert re.search(pattern, err), err
    assert re.match(rf"error: {re.escape(path)}:\d+: ", err), err
    assert "Traceback" not in err and "RecursionError" not in err


def test_a_non_boolean_question_expression_is_an_error_not_probability_1(capsys, write):
    path = write(
        "m.yaml",
        HEADER + "nodes:\n  troops: {ci90: [100, 900]}\n"
        "questions:\n  - {id: q, resolve: {expr: 'troops * 2'}}\n",
    )
    code, _, err = run(capsys, "validate", path)
    assert code == 2
    assert re.search(r"questions\.0\.resolve\.expr: expected a true/false expression, 'troops \* 2' is a number", err), err


def test_division_by_zero_at_run_time_names_node_expression_and_share(capsys, write):
    path = write(
        "m.yaml",
        HEADER + "nodes:\n  s: {bernoulli: {p: 0.5}}\n  k: {poisson: 1}\n  x: {normal: {mean: 5, sd: 1}}\n"
        "  r: {expr: 'x / k + 1'}\n"
        "questions:\n  - {id: q, type: numeric, resolve: {quantity: r}}\n",
    )
    code, out, err = run(capsys, "forecast", path, "-n", "1000", "--seed", "1")
    assert code == 2, out
    m = re.search(r"nodes\.r\.expr: `x / k` divides by zero in expression 'x / k \+ 1', in ([\d,]+) of 1,000 worlds \(([\d.]+)%\)", err)
    assert m, err
    share = int(m.group(1).replace(",", "")) / 1000
    assert abs(share - 0.368) < 5 * (0.368 * 0.632 / 1000) ** 0.5  # P(Poisson(1) = 0) = e^-1
    assert "np." not in err and out == ""


def test_a_guarded_division_is_fine(capsys, write):
    path = write(
        "m.yaml",
        HEADER + "nodes:\n  k: {poisson: 1}\n  x: {normal: {mean: 5, sd: 1}}\n"
        "  r: {expr: 'x / k if k > 0 else 0'}\n"
        "questions:\n  - {id: q, type: numeric, resolve: {quantity: r}}\n",
    )
    code, out, err = run(capsys, "forecast", path, "-n", "1000", "--format", "json")
    assert code == 0, err


def test_division_by_zero_in_a_question_expression(capsys, write):
    path = write(
        "m.yaml",
        HEADER + "nodes:\n  k: {poisson: 1}\n  x: {normal: {mean: 5, sd: 1}}\n"
        "questions:\n  - {id: q, resolve: {expr: 'x / k > 2'}}\n",
    )
    code, _, err = run(capsys, "forecast", path, "-n", "1000")
    assert code == 2
    assert re.search(r"questions\.0\.resolve\.expr: `x / k` divides by zero .* of 1,000 worlds", err), err


def test_a_boolean_in_arithmetic_is_an_error_and_if_else_says_it(capsys, write):
    node = "  p: {expr: '0.2 + 0.6 * s'}\n"
    body = "nodes:\n  s: {bernoulli: {p: 0.5}}\n%s  t: {bernoulli: {p: p}}\nquestions:\n  - {id: q, resolve: {is: {t: true}}}\n"
    code, out, err = run(capsys, "forecast", write("bad.yaml", HEADER + body % node), "-n", "2000")
    assert code == 2
    assert "nodes.p.expr: `s` in expression '0.2 + 0.6 * s': arithmetic reads a number, got a boolean" in err
    good = write("good.yaml", HEADER + body % "  p: {expr: '0.8 if s else 0.2'}\n")
    code, out, err = run(capsys, "forecast", good, "-n", "20000", "--format", "json")
    assert code == 0, err
    import json

    p = json.loads(out)["questions"][0]["probability"]
    assert abs(p - 0.5) < 5 * (0.25 / 20000) ** 0.5  # 0.5 * 0.2 + 0.5 * 0.8


# ----------------------------------------------------------------------------- property: models never crash

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from test_expressions import expressions  # noqa: E402

MODEL_NODES = {
    "x": {"normal": {"mean": 0, "sd": 2}},
    "y": {"poisson": 1},
    "b": {"bernoulli": {"p": 0.5}},
    "c": {"categorical": {"lo": 0.5, "hi": 0.5}},
    "e": {"event": {"when": "b", "delay": {"uniform": [0, 60]}}},
    "f": {"flow": {"rate": 3}},
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expressions(), st.sampled_from(["node", "when", "question"]))
def test_any_expression_in_a_model_is_a_result_or_a_clear_error(tmp_path, text, where):
    import yaml

    from scenarios.engine.trial import trial_problems
    from scenarios.errors import ScenarioError
    from scenarios.model.load import load_model

    doc = {"as_of": "2023-09-05", "horizon_months": 3, "seed": 1, "samples": 200, "nodes": dict(MODEL_NODES)}
    question = {"id": "q", "resolve": {"is": {"b": True}}}
    if where == "node":
        doc["nodes"]["r"] = {"expr": text}
    elif where == "when":
        doc["nodes"]["r"] = {"event": {"when": text, "delay": 5}}
    else:
        question = {"id": "q", "resolve": {"expr": text}}
    doc["questions"] = [question]
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        model, questions = load_model(str(path))
        trial_problems(model, questions, samples=50)
    except ScenarioError as exc:
        assert "Traceback" not in str(exc) and "np." not in str(exc)
