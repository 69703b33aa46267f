"""Loading, layering and overriding params files; YAML errors; no traceback on any document."""

from __future__ import annotations

import os
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenarios.errors import ParamsError, ScenarioError
from scenarios.model.load import load_model
from scenarios.model.params import load_params, parse_override

BASE = """\
model: base
as_of: 2023-09-05
horizon_months: 12
nodes:
  chance: {beta: {mean: 0.8, concentration: 10}, note: base note}
  summit: {bernoulli: {p: chance}}
  rate: {ci90: [5, 50]}
"""


class TestLayering:
    def test_variant_overrides_only_what_differs(self, write):
        write("base.yaml", BASE)
        variant = write("variant.yaml", "extends: base.yaml\nmodel: variant\nnodes:\n  rate: {ci90: [10, 20]}\n")
        doc = load_params(variant)
        assert doc.data["model"] == "variant"
        assert doc.data["nodes"]["rate"] == {"ci90": [10, 20]}
        assert doc.data["nodes"]["chance"]["note"] == "base note"
        assert [p.rsplit("/", 1)[1] for p in doc.files] == ["base.yaml", "variant.yaml"]
        assert len(doc.sha256) == 2

    def test_errors_name_the_file_that_set_the_value(self, write):
        write("base.yaml", BASE)
        variant = write("variant.yaml", "extends: base.yaml\nnodes:\n  rate: {ci90: [50, 5]}\n")
        with pytest.raises(ParamsError, match=r"variant\.yaml:\d+: nodes\.rate\.ci90: .*low < high, got \[50, 5\]"):
            load_model(variant)
        write("base2.yaml", BASE.replace("mean: 0.8", "mean: 1.8"))
        v2 = write("v2.yaml", "extends: base2.yaml\nmodel: v2\n")
        with pytest.raises(ParamsError, match=r"base2\.yaml:\d+: nodes\.chance\.beta\.mean"):
            load_model(v2)

    def test_extends_loop_is_an_error(self, write):
        write("a.yaml", "extends: b.yaml\n")
        b = write("b.yaml", "extends: a.yaml\n")
        with pytest.raises(ParamsError, match="extends loop"):
            load_params(b)

    def test_extends_missing_file(self, write):
        a = write("a.yaml", "extends: nowhere.yaml\n")
        with pytest.raises(ParamsError, match=r"a\.yaml: extends: file not found"):
            load_params(a)


class TestOverrides:
    def test_parse_override_parses_yaml_values(self):
        assert parse_override("summit.delay.ci90=[3, 40]") == (["summit", "delay", "ci90"], [3, 40])
        assert parse_override("a.b=0.5") == (["a", "b"], 0.5)

    def test_override_without_nodes_prefix(self, write):
        path = write("m.yaml", BASE)
        model, _ = load_model(path, overrides=["rate.ci90=[1, 2]", "horizon_months=6"])
        assert model.doc.data["nodes"]["rate"] == {"ci90": [1, 2]}
        assert model.horizon_months == 6

    def test_override_dict_as_notebooks_pass_it(self, write):
        path = write("m.yaml", BASE)
        model, _ = load_model(path, overrides={"chance.beta.mean": 0.5})
        assert model.doc.data["nodes"]["chance"]["beta"]["mean"] == 0.5

    def test_bad_override_value_is_reported_as_command_line(self, write):
        path = write("m.yaml", BASE)
        with pytest.raises(ParamsError, match=r"<command line>: nodes\.chance\.beta\.mean"):
            load_model(path, overrides=["chance.beta.mean=2"])

    @pytest.mark.parametrize("text", ["novalue", "=3", "a..b=1"])
    def test_malformed_override(self, text):
        with pytest.raises(ParamsError, match="dotted.path=value"):
            parse_override(text)


class TestYamlErrors:
    def test_malformed_yaml_has_line_number(self, write):
        path = write("bad.yaml", "as_of: 2023-09-05\nnodes:\n  a: [1, 2\n  b: 3\n")
        with pytest.raises(ParamsError) as info:
            load_params(path)
        assert info.value.line is not None and info.value.line >= 3
        assert "malformed YAML" in str(info.value) and "bad.yaml:" in str(info.value)

    def test_duplicate_keys_are_rejected(self, write):
        path = write("dup.yaml", "as_of: 2023-09-05\nas_of: 2023-09-06\n")
        with pytest.raises(ParamsError, match="duplicate key 'as_of'"):
            load_params(path)

    def test_python_tags_are_not_executed(self, write):
        path = write("evil.yaml", "as_of: !!python/object/apply:os.system ['echo hacked']\n")
        with pytest.raises(ParamsError, match="malformed YAML"):
            load_params(path)

    def test_top_level_must_be_a_mapping(self, write):
        with pytest.raises(ParamsError, match="expected a mapping"):
            load_params(write("list.yaml", "- 1\n- 2\n"))

    def test_missing_file(self, tmp_path):
        with pytest.raises(ParamsError, match="file not found"):
            load_params(str(tmp_path / "nope.yaml"))


# ---------------------------------------------------------------- hypothesis: never a traceback

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=string.ascii_letters + string.digits + " _.()*+-<>=,'", max_size=20),
    st.sampled_from(["theta", "summit", "2023-09-05", "inf", "a + b", "x in ('a')", "min(", "poisson"]),
    st.dates().map(str),
)
KEYS = [
    "as_of", "horizon_months", "nodes", "questions", "model", "seed", "samples", "month_days",
    "bernoulli", "beta", "p", "a", "b", "mean", "concentration", "ci90", "expr", "event", "flow", "by",
    "cases", "rate", "delay", "when", "after", "categorical", "dirichlet", "alpha", "weights", "mixture",
    "weight", "dist", "uniform", "normal", "gamma", "shape", "scale", "lognormal", "poisson", "geometric",
    "truncate", "round", "clip", "shift", "ramp_months", "start", "start_month", "chance_per_month",
    "id", "resolve", "given", "is", "quantity", "on", "month", "at_least", "all", "any", "not", "open",
    "close", "type", "true", "false", "x", "y", "theta", "summit", "constant", "count", "default", "extends",
]
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=5),
    ),
    max_leaves=25,
)
valid_skeleton = st.fixed_dictionaries(
    {"as_of": st.just("2023-09-05"), "horizon_months": st.integers(-2, 30),
     "nodes": st.dictionaries(st.sampled_from(["theta", "summit", "x", "y", "a", "b"]), documents, min_size=1, max_size=4)},
    optional={"questions": st.lists(documents, max_size=3)},
)


def _only_scenario_errors(tmp_path, text):
    path = tmp_path / "doc.yaml"
    path.write_text(text)
    try:
        model, questions = load_model(str(path))
    except ScenarioError:
        return
    # A document that loads must also simulate and forecast without a bug.
    from scenarios.engine.forecast import run_forecast

    try:
        run_forecast(model, questions, samples=50, seed=1)
    except ScenarioError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.one_of(documents, valid_skeleton))
def test_no_traceback_on_any_yaml_document(tmp_path, doc):
    _only_scenario_errors(tmp_path, yaml.safe_dump(doc, allow_unicode=True))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("ab:-[]{},'\"!&*#|>%@ \n\t0123456789.")), max_size=80))
def test_no_traceback_on_arbitrary_text(tmp_path, text):
    _only_scenario_errors(tmp_path, text)


SET_KEYS = ["theta.beta.a", "theta", "summit", "samples", "horizon_months", "as_of", "nodes.x", "questions", "note",
            "extends", "evidence", "summit_delay.gamma"]


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(SET_KEYS), text=st.text(alphabet=st.sampled_from(list("ab:-[]{},'\"!&*#|>%@ \n\t0123456789.")), max_size=60))
def test_no_traceback_on_any_set_value(key, text):
    from conftest import REPO

    try:
        load_model(os.path.join(REPO, "params", "reference.yaml"), overrides=[f"{key}={text}"])
    except ScenarioError:
        pass
