"""Nothing silently wrong: every accepted input means what it says.

Behaviours, each checked through the command line (``scenarios.cli.main``, or a real subprocess
where the terminal's stderr is the point) on small models:

1. *Numbers are finite where they are read.* ``.nan``, ``.inf`` and magnitudes numpy cannot use
   (a Poisson rate above 1e18, a subnormal ``round_to``, a ``bias`` of 1e308) in any numeric
   parameter are refused naming the file and the key path: exit 2, one line, nothing written.
   Where infinity means "never" (an event's delay, a ``by:`` case, ``constant: never``, an open
   ``truncate`` end) it is still a value.
2. *What exists only per world is checked as it is drawn.* A Poisson mean above 1e18, draws that
   overflow, a stock level or a statement's figure that overflows, a concentration out of range:
   an error naming the node, in ``forecast`` and in ``validate``; never a NaN forecast with exit
   0, a numpy traceback (exit 1) or a numpy ``RuntimeWarning`` on the terminal.
3. *validate reports NaN or infinite values in any node*, naming it.
4. *Evidence means what it says.* Two items reporting one statement node are refused (naming both
   items and their key paths, with the one-node-per-figure rule), and following that rule gives
   the same answer as of every date; a statement report after the model's horizon and
   ``likelihood:`` on a statement report are refused; the hint for observing a statement, a flow
   or a stock is a form that works (each test follows it).
5. *Messages stay short and say what happened.* Every echo of user input (an unknown key, an
   evidence variable, a duplicate id, a path, a node name) is cut to about 80 characters; an
   impossible date names the file, line and key; ``a.b(1)`` says method calls are not allowed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import REPO
from scenarios.cli import main
from scenarios.model.loader import parse_yaml_text

# a numpy warning anywhere in a test here is a failure (the CLI turns it into exit code 1)
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

HEADER = "as_of: 2023-09-05\nhorizon_months: 6\nseed: 1\nsamples: 400\n"
LONG = "k" * 600
ECHO = 100  # the longest run of one echoed value allowed in a message (80 and an ellipsis, quotes)


def project(tmp_path, nodes: str, *, questions: str = "", evidence: str | None = None, extra: str = "",
            months: int = 6) -> str:
    """A model in a folder of its own: tmp/params/m.yaml (and tmp/data/e.yaml with ``evidence``)."""
    (tmp_path / "params").mkdir(exist_ok=True)
    (tmp_path / "data").mkdir(exist_ok=True)
    text = HEADER.replace("horizon_months: 6", f"horizon_months: {months}") + "nodes:\n" + nodes
    if questions:
        text += "questions:\n" + questions
    if evidence is not None:
        (tmp_path / "data" / "e.yaml").write_text("evidence:\n" + evidence)
        text += "evidence: ../data/e.yaml\n"
    path = tmp_path / "params" / "m.yaml"
    path.write_text(text + extra)
    return str(path)


def cli(capsys, *args):
    """(exit code, stdout, stderr) of ``scenarios ARGS`` run in this process."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def refused(result, *names) -> str:
    """Exit 2, one line on stderr naming each of ``names``, no traceback or warning; the line."""
    code, _, err = result
    assert code == 2, err
    assert "Traceback" not in err and "Warning" not in err, err
    line = err.strip()
    assert line.startswith("error: ") and "\n" not in line, err
    for name in names:
        assert name in line, (name, line)
    return line


def longest_echo(line: str, char: str = "k") -> int:
    """The longest run of ``char`` in ``line``: how much of a long input the message echoes."""
    return max((len(m) for m in re.findall(f"{re.escape(char)}+", line)), default=0)


# ============================================================================ 1. numbers are finite

STATEMENT = "  x: {lognormal: {ci90: [100, 1000]}}\n  st: {statement: {about: x, lag: 10%s}}\n"

BAD_NUMBERS = [
    # (nodes, key path named, what the message says about it)
    ("  s: {stock: {rate: .inf}}\n", "nodes.s.stock.rate", "got inf (not a finite number)"),
    ("  s: {stock: {rate: 1, initial: .nan}}\n", "nodes.s.stock.initial", "got NaN"),
    ("  s: {stock: {rate: 1, initial: -.inf}}\n", "nodes.s.stock.initial", "got -inf"),
    (STATEMENT % ", round_to: .inf", "nodes.st.statement.round_to", "got inf"),
    (STATEMENT % ", round_to: 1.0e-320", "nodes.st.statement.round_to", "expected a step >= 1e-09"),
    (STATEMENT % ", noise: .inf", "nodes.st.statement.noise", "got inf"),
    (STATEMENT % ", noise: 1000", "nodes.st.statement.noise", "in [0, 10]"),
    (STATEMENT % ", bias: 1.0e+308", "nodes.st.statement.bias", "in [0, 1e+06], got 1e+308"),
    (STATEMENT % ", chance: .nan", "nodes.st.statement.chance", "got NaN"),
    ("  c: {poisson: 1.0e+19}\n", "nodes.c.poisson", "expected a rate in [0, 1e+18], got 1e+19"),
    ("  c: {poisson: {rate: .inf}}\n", "nodes.c.poisson.rate", "got inf"),
    ("  c: {normal: {mean: .inf, sd: 1}}\n", "nodes.c.normal.mean", "expected a finite number, got inf"),
    ("  c: {normal: {mean: 0, sd: 1}, shift: .inf}\n", "nodes.c.shift", "expected a finite number, got inf"),
    ("  c: {normal: {ci90: [0, .inf]}}\n", "nodes.c.normal.ci90", "got inf"),
    ("  c: {uniform: [0, .inf]}\n", "nodes.c.uniform", "got inf"),
    ("  c: {gamma: {shape: 2, rate: .inf}}\n", "nodes.c.gamma.rate", "got inf"),
    ("  c: {beta: {mean: 0.5, concentration: .inf}}\n", "nodes.c.beta.concentration", "got inf"),
    ("  c: {lognormal: {mu: 0, sigma: .inf}}\n", "nodes.c.lognormal.sigma", "got inf"),
    ("  c: {dirichlet: {alpha: {a: .inf, b: 1}}}\n", "nodes.c.dirichlet.alpha.a", "got inf"),
    ("  c: {mixture: [{weight: .nan, dist: 1}, {weight: 0.5, dist: 2}]}\n", "nodes.c.mixture.0.weight", "got NaN"),
    ("  f: {flow: {rate: .inf}}\n", "nodes.f.flow.rate", "got inf"),
    ("  f: {flow: {rate: 1, ramp_months: .inf}}\n", "nodes.f.flow.ramp_months", "got inf"),
    ("  r: {repeated: {rate: .inf}}\n", "nodes.r.repeated.rate", "got inf"),
    ("  e: {event: {chance_per_month: .nan}}\n", "nodes.e.event.chance_per_month", "got NaN"),
]


@pytest.mark.parametrize("nodes, key, says", BAD_NUMBERS)
def test_a_number_that_is_not_finite_is_refused_where_it_is_read(tmp_path, capsys, nodes, key, says):
    path = project(tmp_path, nodes)
    line = refused(cli(capsys, "validate", path), f"{path}:", f"{key}: ", says)
    out = tmp_path / "out.json"
    assert refused(cli(capsys, "forecast", path, "-n", 100, "--output", out)) == line
    assert not out.exists()


def test_a_bad_number_from_the_command_line_is_refused_the_same_way(tmp_path, capsys):
    path = project(tmp_path, "  s: {stock: {rate: 10}}\n")
    refused(cli(capsys, "validate", path, "--set", "s.stock.rate=.inf"), "<command line>: nodes.s.stock.rate: ", "got inf")


def test_infinity_is_still_never_where_it_means_never(tmp_path, capsys):
    nodes = (
        "  a: {bernoulli: 0.5}\n"
        "  never_day: {event: {delay: .inf}}\n"
        "  maybe_day: {event: {delay: {by: a, cases: {true: 10, false: never}}}}\n"
        "  held: {constant: never}\n"
        "  late: {event: {delay: {normal: {mean: 5, sd: 2}, truncate: [0, .inf]}}}\n"
        "  capped: {stock: {rate: 10, cap: .inf}}\n"
    )
    questions = (
        "  - {id: never, text: n?, resolve: {event: never_day, by: 2024-01-01}}\n"
        "  - {id: maybe, text: m?, resolve: {event: maybe_day, by: 2024-01-01}}\n"
        "  - {id: late, text: l?, resolve: {event: late, by: 2024-01-01}}\n"
        "  - {id: capped, text: c?, resolve: {quantity: capped, 'on': 2024-01-01, at_least: 30}}\n"
    )
    path = project(tmp_path, nodes, questions=questions)
    code, out, err = cli(capsys, "validate", path)
    assert code == 0 and "ok:" in out, err
    code, out, err = cli(capsys, "forecast", path, "-n", 400, "--format", "json")
    assert code == 0, err
    p = {q["id"]: q["probability"] for q in json.loads(out)["questions"]}
    assert p["never"] == 0.0 and p["late"] == 1.0 and p["capped"] == 1.0
    assert 0.3 < p["maybe"] < 0.7


# ============================================================================ 2. checked as drawn

QUESTION = "  - {id: q, text: big?, resolve: {quantity: %s, at_least: 1}}\n"
STOCK_QUESTION = "  - {id: q, text: big?, resolve: {quantity: %s, 'on': 2024-01-01, at_least: 1}}\n"

PER_WORLD = [
    # (nodes, the question's quantity, question template, what the message names)
    ("  c: {poisson: {rate: {lognormal: {mu: 45, sigma: 1}}}}\n", "c", QUESTION,
     ("nodes.c: parameter rate must lie in [0.0, 1e+18]",)),
    ("  c: {lognormal: {mu: 800, sigma: 1}}\n", "c", QUESTION, ("nodes.c: draws are not finite numbers",)),
    ("  c: {normal: {mean: 0, sd: 1.0e+308}}\n", "c", QUESTION, ("nodes.c: draws are not finite numbers",)),
    ("  c: {uniform: [-1.0e+308, 1.0e+308]}\n", "c", QUESTION, ("nodes.c: cannot draw from uniform",)),
    ("  s: {stock: {rate: 1.0e+308}}\n", "s", STOCK_QUESTION, ("nodes.s.stock: ", "overflows")),
    ("  s: {stock: {rate: {lognormal: {mu: 45, sigma: 1}}, count: poisson}}\n", "s", STOCK_QUESTION,
     ("nodes.s.stock.rate: ", "1e+18")),
    ("  f: {flow: {rate: {lognormal: {mu: 45, sigma: 1}}}}\n", "f.cumulative", STOCK_QUESTION,
     ("nodes.f.flow.rate: ", "at most 1e+18")),
    ("  x: {lognormal: {mu: 700, sigma: 0.1}, clip: [0, 1.0e+306]}\n"
     "  st: {statement: {about: x, lag: 0, bias: 1000000}}\n", "st", STOCK_QUESTION,
     ("nodes.st.statement: what the source says is not a finite number",)),
    ("  u: {uniform: [-3, 1]}\n  d: {dirichlet: {alpha: {x: u, y: 1}}}\n  c: {categorical: {weights: d}}\n",
     None, None, ("nodes.d.dirichlet.alpha.x: a concentration must be a finite number > 0",)),
    ("  a: {bernoulli: 0.5}\n  c: {categorical: {x: 'where(a, never, 1)', y: 1}}\n",
     None, None, ("nodes.c.categorical: category probabilities must be finite",)),
]


@pytest.mark.parametrize("nodes, quantity, template, names", PER_WORLD)
def test_a_value_that_breaks_in_some_worlds_is_an_error_naming_the_node(tmp_path, capsys, nodes, quantity, template, names):
    questions = template % quantity if template else "  - {id: q, text: c?, resolve: {is: {c: x}}}\n"
    path = project(tmp_path, nodes, questions=questions)
    refused(cli(capsys, "validate", path), *names)
    out = tmp_path / "out.csv"
    refused(cli(capsys, "forecast", path, "-n", 400, "--format", "csv", "--output", out), *names)
    assert not out.exists()


def test_a_stock_rate_of_infinity_no_longer_moves_a_forecast_silently(tmp_path, capsys):
    # the tester's case: a stock `rate: .inf` gave NaN levels and a different forecast, exit 0
    nodes = "  s: {stock: {rate: 10}}\n  a: {bernoulli: 0.477}\n"
    questions = "  - {id: q, text: q?, resolve: {all: [{expr: a}, {quantity: s, 'on': 2024-01-01, at_least: 0}]}}\n"
    path = project(tmp_path, nodes, questions=questions)
    refused(cli(capsys, "forecast", path, "--set", "s.stock.rate=.inf"), "nodes.s.stock.rate")


def test_no_numpy_warning_reaches_the_terminal(tmp_path):
    # a real process: what numpy prints goes to its stderr, which is what a user sees
    nodes = (
        "  x: {lognormal: {mu: 700, sigma: 0.1}, clip: [0, 1.0e+306]}\n"
        "  st: {statement: {about: x, lag: 0, bias: 1000000}}\n"
        "  s: {stock: {rate: 1.0e+308}}\n"
        "  c: {gamma: {shape: 1.0e+308, scale: 1.0e+308}}\n"
    )
    path = project(tmp_path, nodes, questions=STOCK_QUESTION % "st")
    for args in (["validate", path], ["forecast", path, "-n", "200"], ["forecast", path, "-n", "200", "--as-of", "2023-10-01"]):
        proc = subprocess.run([sys.executable, "-m", "scenarios", *args], capture_output=True, text=True, cwd=REPO, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Warning" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith("error: ") and "nodes." in proc.stderr


# ============================================================================ 3. validate reports NaN / inf


@pytest.mark.parametrize("kind_nodes, name, bad, says", [
    ("  c: {normal: {mean: 0, sd: 1}}\n", "c", np.nan, "undefined (NaN)"),
    ("  s: {stock: {rate: 1}}\n", "s", np.inf, "infinite"),
    ("  f: {flow: {rate: 1}}\n", "f", np.inf, "infinite"),
    ("  e: {event: {delay: 3}}\n", "e", np.nan, "undefined (NaN)"),
    ("  x: {constant: 1}\n  st: {statement: {about: x, lag: 0}}\n", "st", np.inf, "infinite"),
])
def test_validate_names_any_node_whose_draws_hold_nan_or_infinity(tmp_path, monkeypatch, kind_nodes, name, bad, says):
    # whatever a node's spec draws, a NaN (or an infinity that is no "never") is reported by name
    from scenarios.engine.trial import trial_problems
    from scenarios.model.load import load_model

    model, questions = load_model(project(tmp_path, kind_nodes))
    spec = model.nodes[name].spec
    draw = type(spec).sample

    def spoilt(self, ctx, rng, n):
        out = np.array(draw(self, ctx, rng, n), dtype=float)
        if name == "st":
            out[:7, 1] = bad  # what was said, where it was said (the day is finite: lag 0)
        else:
            out[:7] = bad
        return out

    monkeypatch.setattr(type(spec), "sample", spoilt)
    problems = trial_problems(model, questions, samples=100)
    assert len(problems) == 1 and f"nodes.{name}: " in problems[0] and says in problems[0], problems
    assert "7 of 100" in problems[0]


def test_validate_does_not_report_never_or_a_statement_not_made(tmp_path):
    from scenarios.engine.trial import trial_problems
    from scenarios.model.load import load_model

    nodes = ("  e: {event: {chance_per_month: 0.05}}\n  late: {expr: 'e + 6'}\n"
             "  x: {constant: 5}\n  st: {statement: {about: x, lag: 1, chance: 0.5}}\n  r: {repeated: {rate: 0.2}}\n")
    model, questions = load_model(project(tmp_path, nodes))
    assert trial_problems(model, questions, samples=500) == []


# ============================================================================ 4. evidence means what it says

SAYS = ("  killed: {stock: {rate: {lognormal: {ci90: [100, 400]}}}}\n"
        "  says%s: {statement: {about: killed, lag: {uniform: [0, 200]}, noise: 0.2, round_to: 100, rounding: down}}\n")
SAID_BY_MARCH = ("  - {id: said_1000, text: said >= 1000 by 1 March?, "
                 "resolve: {any: [%s]}}\n")


def _item(i: str, public_on: str, body: str) -> str:
    return f"  - {{id: {i}, public_on: {public_on}, source: 'https://example.org/{i}', {body}}}\n"


def test_two_items_reporting_one_statement_are_refused_with_both_named(tmp_path, capsys):
    evidence = (_item("first", "2023-12-01", "report: {quantity: says, said: {value: 1200}}")
                + _item("second", "2024-04-15", "report: {quantity: says, said: {value: 500}}"))
    question = SAID_BY_MARCH % "{quantity: says, 'on': 2024-03-01, at_least: 1000}"
    path = project(tmp_path, SAYS % "", questions=question, evidence=evidence, months=12)
    line = refused(cli(capsys, "validate", path), "e.yaml:3: evidence.1.report.quantity: ",
                   "'first' (evidence.0.report)", "'second' (evidence.1.report)", "statement node of its own")
    for as_of in ("2024-02-01", "2024-05-01"):  # neither date reads one figure silently
        assert refused(cli(capsys, "forecast", path, "-n", 200, "--as-of", as_of)) == line


def test_one_statement_node_per_figure_gives_the_same_answer_as_of_every_date(tmp_path, capsys):
    # what the message asks for: each figure on its own node, the question reads either
    evidence = (_item("first", "2023-12-01", "report: {quantity: says_1, said: {value: 1200}}")
                + _item("second", "2024-04-15", "report: {quantity: says_2, said: {value: 500}}"))
    question = SAID_BY_MARCH % ("{quantity: says_1, 'on': 2024-03-01, at_least: 1000}, "
                                "{quantity: says_2, 'on': 2024-03-01, at_least: 1000}")
    path = project(tmp_path, SAYS % "_1" + (SAYS % "_2").split("\n", 1)[1], questions=question,
                   evidence=evidence, months=12)
    code, out, err = cli(capsys, "validate", path, "--worlds", 200)
    assert code == 0, err
    said = []
    for as_of in ("2024-02-01", "2024-05-01"):
        code, out, err = cli(capsys, "forecast", path, "-n", 400, "--as-of", as_of, "--format", "csv")
        assert code == 0, err
        said.append(out.splitlines()[1])
    assert ",1.0," in said[0] and ",1.0," in said[1], said


def test_a_statement_report_after_the_horizon_is_refused(tmp_path, capsys):
    evidence = _item("too_late", "2024-04-15", "report: {quantity: says, said: {value: 500}}")
    path = project(tmp_path, SAYS % "", evidence=evidence)  # 6 months: the horizon ends 2024-03-03
    refused(cli(capsys, "validate", path), "evidence.0.report.quantity: ", "'too_late'", "2024-04-15",
            "horizon ends (2024-03-03)")


def test_likelihood_on_a_statement_report_says_statements_carry_their_own(tmp_path, capsys):
    evidence = _item("lik", "2023-12-01",
                     "report: {quantity: says, said: {value: 500}, likelihood: {lognormal: {sigma: 0.1}}}")
    path = project(tmp_path, SAYS % "", evidence=evidence)
    refused(cli(capsys, "validate", path), "evidence.0.report.likelihood: ",
            "a statement carries its own error model", "nodes.says.statement")


@pytest.mark.parametrize("node", ["says", "killed", "sent"])
def test_the_hint_for_observing_a_node_is_a_form_that_works(tmp_path, capsys, node):
    nodes = SAYS % "" + "  sent: {flow: {rate: 20, count: expected}}\n"
    path = project(tmp_path, nodes, evidence=_item("obs", "2023-12-01", f"observe: {{{node}: 500}}"))
    line = refused(cli(capsys, "validate", path), f"evidence.0.observe.{node}: ", "cannot be observed directly")
    hint = line[line.index("report: {"):]
    hint = hint[: hint.rindex("}") + 1].replace("X", "500").replace("DATE", "2023-11-20")
    item = parse_yaml_text("{" + hint + "}", "hint")  # the hint as written is YAML for the item's report:
    assert set(item) == {"report"}
    body = "report: " + yaml.safe_dump(item["report"], default_flow_style=True).strip()
    (tmp_path / "data" / "e.yaml").write_text("evidence:\n" + _item("obs", "2023-12-01", body))
    code, out, err = cli(capsys, "validate", path, "--worlds", 200)
    assert code == 0 and "1 evidence items" in out, err


# ============================================================================ 5. messages


def test_an_unknown_key_is_echoed_cut_short(tmp_path, capsys):
    path = project(tmp_path, f"  a: {{bernoulli: {{p: 0.3, {LONG}: 1}}}}\n")
    line = refused(cli(capsys, "validate", path), "nodes.a.bernoulli.", "unknown key")
    assert longest_echo(line) <= ECHO and len(line) < 400


def test_an_unknown_evidence_variable_is_echoed_cut_short(tmp_path, capsys):
    path = project(tmp_path, "  a: {bernoulli: 0.3}\n", evidence=_item("i", "2023-10-01", f"observe: {{{LONG}: true}}"))
    line = refused(cli(capsys, "validate", path), "evidence.0.observe.", "unknown variable")
    assert longest_echo(line) <= ECHO and len(line) < 300


def test_a_duplicate_question_id_is_echoed_cut_short(tmp_path, capsys):
    q = f"  - {{id: {LONG}, text: a?, resolve: {{expr: a}}}}\n"
    path = project(tmp_path, "  a: {bernoulli: 0.3}\n", questions=q + q)
    line = refused(cli(capsys, "validate", path), "questions.1.id: duplicate question id")
    assert longest_echo(line) <= ECHO and len(line) < 300


def test_a_long_data_file_path_is_echoed_cut_short(tmp_path, capsys):
    path = project(tmp_path, "  a: {bernoulli: 0.3}\n", extra=f"resolutions: {'k/' * 3000}r.yaml\n")
    line = refused(cli(capsys, "validate", path), "resolutions: file not found", "r.yaml")
    assert len(line) < 300


def test_a_long_node_name_is_echoed_cut_short_in_the_key_path_and_the_message(tmp_path, capsys):
    path = project(tmp_path, f"  {LONG}: {{bernoulli: {{p: 3}}}}\n  b: {{expr: 'not {LONG}'}}\n")
    line = refused(cli(capsys, "validate", path), ".bernoulli.p: expected a probability in [0, 1], got 3")
    assert longest_echo(line) <= ECHO


@pytest.mark.parametrize("where, text, key", [
    ("top", "as_of: 2023-11-31\n", "as_of"),
    ("node", "  later: {event: {after: 2024-02-30, delay: 1}}\n", "nodes.later.event.after"),
    ("question", "  - {id: q, text: a?, resolve: {event: e, by: 2023-09-31}}\n", "questions.0.resolve.by"),
    ("evidence", "  - {public_on: 2023-11-31, source: 'https://example.org', observe: {a: true}}\n", "evidence.0.public_on"),
])
def test_an_impossible_date_names_the_file_the_line_and_the_key(tmp_path, capsys, where, text, key):
    nodes = "  a: {bernoulli: 0.5}\n  e: {event: {delay: 3}}\n"
    if where == "top":
        path = project(tmp_path, nodes)
        with open(path) as f:
            body = f.read().replace("as_of: 2023-09-05\n", text)
        with open(path, "w") as f:
            f.write(body)
        file, line_no = path, 1
    elif where == "node":
        path = project(tmp_path, nodes + text)
        file, line_no = path, 8
    elif where == "question":
        path = project(tmp_path, nodes, questions=text)
        file, line_no = path, 9
    else:
        path = project(tmp_path, nodes, evidence=text)
        file, line_no = os.path.join(tmp_path, "data", "e.yaml"), 2
    bad = re.search(r"\d{4}-\d\d-\d\d", text).group(0)
    refused(cli(capsys, "validate", path), f"{os.path.basename(file)}:{line_no}: {key}: ",
            f"expected a date as YYYY-MM-DD, got '{bad}', which is not a date")


@pytest.mark.parametrize("expression, says", [
    ("a.b(1)", "method calls are not allowed ('a.b(...)')"),
    ("x.round()", "method calls are not allowed ('x.round(...)')"),
    ("x.cumulative", "attributes ('x.cumulative') are not allowed"),
    ("(x + 1)(2)", "only a function can be called"),
])
def test_an_expression_says_what_it_cannot_do(tmp_path, capsys, expression, says):
    path = project(tmp_path, f"  x: 1\n  y: {{expr: '{expression}'}}\n")
    refused(cli(capsys, "validate", path), "nodes.y.expr: ", says)
