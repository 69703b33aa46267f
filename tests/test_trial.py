"""validate finds what forecast would: a trial run of 1,000 worlds after the static checks.

Out-of-range parameters, undefined expression values, impossible evidence (named by item) and
undefined forecasts are exit 2 from ``validate``; the same impossible evidence makes ``forecast
--as-of`` and ``backtest`` refuse with the date and the items, writing nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest

from conftest import HEADER
from scenarios.cli import main
from scenarios.engine.asof import forecast_as_of, impossible_items
from scenarios.engine.evidence import EvidenceError, parse_evidence
from scenarios.engine.trial import trial_problems
from scenarios.model.load import load_model

URL = "https://example.org/news"

MODEL = HEADER + """
nodes:
  a: {bernoulli: {p: 0.3}}
  b: {bernoulli: {p: 0.6}}
  e:
    event:
      when: a
      delay: {uniform: [1, 60], round: ceil}
questions:
  - {id: qa, open: 2023-09-05, close: 2023-12-31, resolve: {is: {a: true}}}
  - {id: qb, open: 2023-09-05, close: 2023-12-31, resolve: {is: {b: true}}}
"""


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def evidence_yaml(*items):
    lines = ["evidence:"]
    for item_id, public_on, observe in items:
        lines.append(f"  - {{id: {item_id}, public_on: {public_on}, source: {URL}, observe: {observe}}}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- parameters and expressions


def test_validate_reports_a_parameter_that_leaves_its_range_in_some_worlds(capsys, write):
    path = write(
        "m.yaml",
        HEADER + "nodes:\n  x: {normal: {mean: 0.5, sd: 0.5}}\n  a: {bernoulli: {p: x}}\n"
        "  y: {normal: {mean: 1, sd: 1}}\n  g: {gamma: {shape: y, scale: 1}}\n"
        "questions:\n  - {id: q, resolve: {is: {a: true}}}\n",
    )
    code, out, err = run(capsys, "validate", path)
    assert code == 2 and "ok:" not in out
    m = re.search(r"nodes\.a: parameter p must lie in \[0\.0, 1\.0\] in every world, got (-?[\d.e+-]+) in (\d+) of 1000 worlds", err)
    assert m, err
    assert not 0 <= float(m.group(1)) <= 1
    share = int(m.group(2)) / 1000  # P(N(0.5, 0.5) outside [0, 1]) = 2 * P(Z < -1) = 0.317
    assert abs(share - 0.3173) < 5 * (0.3173 * 0.6827 / 1000) ** 0.5
    assert re.search(r"nodes\.g: parameter shape must lie in \(0\.0, .*\] in every world", err), err  # each node, not only the first
    assert "np.float64" not in err and "Traceback" not in err


def test_validate_reports_an_expression_undefined_in_some_worlds(capsys, write):
    path = write(
        "m.yaml",
        HEADER + "nodes:\n  k: {poisson: 2}\n  x: {normal: {mean: 5, sd: 1}}\n  r: {expr: 'log(k) * x'}\n"
        "questions:\n  - {id: q, type: numeric, resolve: {quantity: x}}\n",
    )
    code, _, err = run(capsys, "validate", path)
    assert code == 2
    assert re.search(r"nodes\.r\.expr: `log\(k\)` takes the log of a value <= 0 in expression 'log\(k\) \* x', in \d+ of 1,000 worlds", err), err


def test_validate_reports_a_forecast_that_is_undefined(capsys, write):
    path = write(
        "m.yaml",
        HEADER + "nodes:\n  x: {uniform: [0, 1]}\n  a: {bernoulli: {p: 0.5}}\n"
        "questions:\n  - {id: q_never_given, given: {expr: 'x > 2'}, resolve: {is: {a: true}}}\n",
    )
    code, _, err = run(capsys, "validate", path)
    assert code == 2
    assert "question 'q_never_given': the forecast is undefined (NaN): its given: clause holds in none of the" in err, err


def test_validate_passes_the_example_models(capsys):
    from conftest import REPO

    for name in ("base.yaml", "reference.yaml"):
        code, out, err = run(capsys, "validate", os.path.join(REPO, "params", name))
        assert code == 0, err
        assert "1,000 worlds simulated" in out


# --------------------------------------------------------------------------- impossible evidence


def test_validate_names_the_item_that_alone_is_impossible(capsys, write):
    write("ev.yaml", evidence_yaml(
        ("fine", "2023-09-10", "{b: true}"),
        ("no_a", "2023-09-12", "{a: false}"),
        ("e_happened", "2023-09-20", "{e: {by: 2023-09-20}}"),
    ))
    path = write("m.yaml", MODEL + "evidence: ev.yaml\n")
    code, out, err = run(capsys, "validate", path)
    assert code == 2, out
    assert "ev.yaml: the evidence public by 2023-09-20 (3 items) has probability 0 in all" in err, err
    assert "No item is ruled out on its own; together these are: 'no_a' (public 2023-09-12" in err
    assert "'e_happened' (public 2023-09-20" in err and "'fine'" not in err.split("together these are")[1]


def test_an_item_impossible_on_its_own_is_named_alone(write):
    model, questions = load_model(write("m.yaml", MODEL))
    ev = parse_evidence(model, [
        {"id": "ok", "public_on": "2023-09-10", "source": URL, "observe": {"b": True}},
        {"id": "contradiction", "public_on": "2023-09-20", "source": URL, "observe": {"a": False, "e": {"by": "2023-09-20"}}},
    ], file="ev.yaml")
    items, alone = impossible_items(model, ev, dt.date(2023, 9, 20), samples=1000, seed=1)
    assert [it.id for it in items] == ["contradiction"] and alone
    with pytest.raises(EvidenceError, match=r"probability 0 in all 1,000 worlds.*Item ruled out on its own: 'contradiction'"):
        forecast_as_of(model, questions, ev, dt.date(2023, 9, 20), samples=1000)
    # before the contradiction is public, the evidence is possible
    assert trial_problems(model, questions, parse_evidence(model, [
        {"id": "ok", "public_on": "2023-09-10", "source": URL, "observe": {"b": True}},
    ])) == []


def test_rare_but_possible_evidence_is_not_called_impossible(write):
    text = MODEL.replace("a: {bernoulli: {p: 0.3}}", "a: {bernoulli: {p: 0.0005}}")
    model, questions = load_model(write("m.yaml", text.replace("samples: 1000", "samples: 100000")))
    ev = parse_evidence(model, [{"id": "rare", "public_on": "2023-09-10", "source": URL, "observe": {"a": True}}])
    assert trial_problems(model, questions, ev, samples=1000) == []


def test_backtest_refuses_impossible_evidence_naming_date_and_items(capsys, write, tmp_path):
    write("ev.yaml", evidence_yaml(
        ("no_a", "2023-09-12", "{a: false}"),
        ("e_happened", "2023-09-20", "{e: {by: 2023-09-20}}"),
    ))
    path = write("m.yaml", MODEL + "evidence: ev.yaml\n")
    res = write("res.yaml", "questions:\n  - {id: qa, type: binary, outcome: false, resolved_on: 2023-12-31}\n"
                "  - {id: qb, type: binary, outcome: true, resolved_on: 2023-12-31}\n")
    out = tmp_path / "bt"
    code, stdout, err = run(capsys, "backtest", path, "--resolutions", res, "-n", "1000", "--out", str(out),
                            "--as-of-dates", "2023-09-05,2023-09-15,2023-09-25")
    assert code == 2, stdout + err
    assert "the evidence public by 2023-09-25 (2 items) has probability 0 in all 1,000 worlds" in err, err
    assert "'no_a'" in err and "'e_happened'" in err
    assert not out.exists()


# --------------------------------------------------------------------------- --set typos


@pytest.mark.parametrize(
    "override, pattern",
    [
        ("aa.bernoulli.p=0.5", r"<command line>: aa\.bernoulli\.p: no key 'aa' in the params file.*\(did you mean 'a'\?\)"),
        ("a.bernouli.p=0.5", r"nodes\.a\.bernouli\.p: no key 'bernouli' in nodes\.a.*\(did you mean 'bernoulli'\?\)"),
        ("nodes.ee.event.when=a", r"no key 'ee' in nodes.*\(did you mean 'e'\?\)"),
        ("a.bernoulli.pp=0.5", r"unknown key 'pp'.*\(did you mean 'p'\?\)"),
    ],
)
def test_a_set_path_typo_gets_did_you_mean(capsys, write, override, pattern):
    path = write("m.yaml", MODEL)
    code, _, err = run(capsys, "validate", path, "--set", override)
    assert code == 2
    assert re.search(pattern, err), err


def test_backtest_reports_undefined_forecasts_loudly(capsys, write, tmp_path):
    text = MODEL + "  - {id: qgiven, open: 2023-09-05, close: 2023-12-31, given: {expr: 'e < 0'}, resolve: {is: {b: true}}}\n"
    path = write("m.yaml", text)
    res = write("res.yaml", "questions:\n  - {id: qa, type: binary, outcome: false, resolved_on: 2023-12-31}\n"
                "  - {id: qgiven, type: binary, outcome: true, resolved_on: 2023-12-31}\n")
    out = tmp_path / "bt"
    code, stdout, err = run(capsys, "backtest", path, "--resolutions", res, "-n", "1000", "--out", str(out),
                            "--as-of-dates", "2023-09-05,2023-09-15")
    assert code == 0, err
    assert "NOT SCORED: 2 forecast(s) undefined (NaN): qgiven as of 2023-09-05, qgiven as of 2023-09-15" in stdout
    assert "warning: 2 forecast(s) undefined (NaN) and left out of the scores" in err
    import json

    counts = json.loads((out / "summary.json").read_text())["counts"]
    assert counts["undefined_forecasts"] == 2
    assert counts["undefined_forecast_rows"] == [
        {"question": "qgiven", "as_of": "2023-09-05"}, {"question": "qgiven", "as_of": "2023-09-15"},
    ]


def test_worlds_0_keeps_to_the_static_checks(capsys, write):
    path = write("m.yaml", HEADER + "nodes:\n  x: {normal: {mean: 0.5, sd: 0.5}}\n  a: {bernoulli: {p: x}}\n"
                 "questions:\n  - {id: q, resolve: {is: {a: true}}}\n")
    code, out, _ = run(capsys, "validate", path, "--worlds", "0")
    assert code == 0 and out.startswith(f"ok: {path}: 2 nodes, 1 questions\n")
    code, _, err = run(capsys, "validate", path, "--worlds", "200")
    assert code == 2 and "of 200 worlds" in err
