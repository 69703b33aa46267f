"""The one set of input checks: each check, did-you-mean, excerpt length, key path and line."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from conftest import HEADER
from scenarios.errors import ParamsError
from scenarios.model.params import ParamsDoc
from scenarios.model.schema import (
    EXCERPT_CHARS,
    Location,
    check_choice,
    check_date,
    check_identifier,
    check_keys,
    check_list,
    check_mapping,
    check_name,
    check_number,
    check_pair,
    check_text,
    describe,
    did_you_mean,
    excerpt,
)

AT = Location("m.yaml", ("nodes", "a"))


def raises(match):
    return pytest.raises(ParamsError, match=match)


# --------------------------------------------------------------------------- locations


def test_an_error_names_file_key_path_and_message():
    err = AT.key("bernoulli", "p").error("expected a probability")
    assert str(err) == "m.yaml: nodes.a.bernoulli.p: expected a probability"
    assert (err.file, err.path, err.line) == ("m.yaml", "nodes.a.bernoulli.p", None)


def test_list_indices_become_path_parts():
    assert Location("q.yaml").key("questions", 3, "id").dotted == "questions.3.id"


def test_the_line_of_a_key_or_of_its_nearest_ancestor():
    at = Location("m.yaml", lines={("nodes",): 3, ("nodes", "a"): 7})
    assert str(at.key("nodes", "a", "p").error("bad")) == "m.yaml:7: nodes.a.p: bad"
    assert at.key("nodes", "b").error("bad").line == 3
    assert at.key("seed").error("bad").line is None


def test_a_layered_document_names_the_file_that_set_the_key():
    doc = ParamsDoc(data={}, origins={("nodes",): "base.yaml", ("nodes", "a"): "variant.yaml"}, files=["base.yaml", "variant.yaml"])
    assert Location.of(doc, ("nodes", "a", "p")).error("bad").file == "variant.yaml"
    assert Location.of(doc, ("nodes", "b")).error("bad").file == "base.yaml"
    assert Location.of(doc).key("seed").error("bad").file == "variant.yaml"  # unset: the last layer


def test_the_line_is_looked_up_in_the_file_that_set_the_value(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("as_of: 2023-09-05\nnodes:\n  a:\n    bernoulli:\n      p: 1.5\n  b: {cases: {true: 1}}\n")
    variant = tmp_path / "variant.yaml"
    variant.write_text("extends: base.yaml\nnodes:\n  c: 1\n")
    doc = ParamsDoc(data={}, origins={("nodes", "a"): str(base), ("nodes", "c"): str(variant)}, files=[str(base), str(variant)])
    assert str(Location.of(doc, ("nodes", "a", "bernoulli", "p")).error("bad")) == f"{base}:5: nodes.a.bernoulli.p: bad"
    assert Location.of(doc, ("nodes", "c")).error("bad").line == 3
    assert Location(str(base), ("nodes", "b", "cases", "true")).error("bad").line == 6  # true: read as 'true'
    assert Location(str(base), ("nodes", "a", "normal", "sd")).error("bad").line == 3  # deepest key found
    assert Location(str(base), ("nodes", "zz")).error("bad").line == 2
    assert Location(str(base), ("extends",)).error("bad").line is None  # nothing of the path in the file
    assert Location(str(tmp_path / "gone.yaml"), ("a",)).error("bad").line is None
    assert Location(None, ("a",)).error("bad").line is None


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    "value, text",
    [
        (1.6, "1.6"),
        (np.float64(1.6), "1.6"),
        (np.int64(3), "3"),
        (np.bool_(True), "True"),
        (2.0, "2.0"),
        ("soon", "'soon'"),
        (dt.date(2023, 9, 5), "2023-09-05"),
        ([1, 2], "[1, 2]"),
    ],
)
def test_excerpt_prints_values_as_a_reader_writes_them(value, text):
    assert excerpt(value) == text


@pytest.mark.parametrize("value", ["x" * 10_000, list(range(10_000)), {i: "y" * 50 for i in range(500)}, "a\n" * 5000])
def test_excerpt_is_short_and_one_line(value):
    text = excerpt(value)
    assert len(text) <= EXCERPT_CHARS
    assert "\n" not in text
    assert text.endswith("...") or text.endswith("...'")


def test_no_numpy_repr_in_any_message():
    with raises(r"got 1\.6$") as info:
        check_number(np.float64(1.6), AT, what="a probability", lo=0, hi=1)
    assert "np." not in str(info.value) and "float64" not in str(info.value)
    assert describe(np.float64(1.5)) == "float (1.5)"


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "nothing (null)"),
        (True, "a boolean (True)"),
        ({"a": 1}, "a mapping ({'a': 1})"),
        ([1], "a list ([1])"),
        ((), "an empty list"),
        ({}, "an empty mapping"),
        ("soon", "a string ('soon')"),
        (dt.date(2023, 1, 2), "a date (2023-01-02)"),
        (3, "int (3)"),
        (0.5, "float (0.5)"),
    ],
)
def test_describe_says_what_kind_of_value(value, text):
    assert describe(value) == text


def test_a_long_bad_string_is_quoted_only_in_part():
    secret = "root:x:0:0:root:/root:/bin/bash\n" * 200
    with pytest.raises(ParamsError) as info:
        check_date(secret, AT)
    assert len(str(info.value)) < 200
    assert str(info.value).count("root:x") <= 3


def test_did_you_mean():
    assert did_you_mean("bernouli", ["bernoulli", "beta"]) == " (did you mean 'bernoulli'?)"
    assert did_you_mean("zzz", ["bernoulli"]) == ""
    assert did_you_mean(3, ["bernoulli"]) == ""
    assert did_you_mean(None, ["none"]) == ""


# --------------------------------------------------------------------------- checks


def test_check_keys_names_an_unknown_key_at_its_own_path_with_the_closest_key():
    with raises(r"^m\.yaml: nodes\.a\.opne: unknown key 'opne'; expected one of \['open', 'close'\] \(did you mean 'open'\?\)$"):
        check_keys({"opne": 1}, AT, ("open", "close"))
    with raises(r"nodes\.a\.x: unknown key 'x'; expected only 'questions' in a file$"):
        check_keys({"x": 1}, AT, ("questions",), expected="only 'questions' in a file")


def test_check_keys_requires_keys_and_a_mapping():
    assert check_keys({"open": 1}, AT, ("open", "close"), required=("open",)) == {"open": 1}
    with raises(r"nodes\.a: missing key 'close'"):
        check_keys({"open": 1}, AT, ("open", "close"), required=("close",))
    with raises(r"nodes\.a: expected a question mapping, got a list"):
        check_keys([1], AT, ("open",), what="a question mapping")


def test_check_mapping_refuses_non_string_keys_and_empty_mappings_when_asked():
    with raises(r"nodes\.a\.1: keys must be strings, got int \(1\)"):
        check_mapping({1: "x"}, AT)
    with raises(r"expected a mapping of cases, got an empty mapping"):
        check_mapping({}, AT, what="a mapping of cases", nonempty=True)
    assert check_mapping({}, AT) == {}


def test_check_list():
    assert check_list([1], AT) == [1]
    with raises(r"nodes\.a: expected a list of questions, got a mapping \(\{'a': 1\}\)"):
        check_list({"a": 1}, AT, what="a list of questions")
    with raises(r"got an empty list"):
        check_list([], AT, nonempty=True)


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (True, {}, r"expected a number, got a boolean \(True\)"),
        ("1", {}, r"expected a number, got a string \('1'\)"),
        (None, {}, r"expected a number, got nothing \(null\)"),
        (math.nan, {}, r"expected a number, got NaN"),
        (1.5, {"what": "a probability", "lo": 0, "hi": 1}, r"expected a probability in \[0, 1\], got 1\.5"),
        (0, {"what": "sigma", "lo": 0, "lo_open": True}, r"expected sigma > 0, got 0$"),
        (-1, {"lo": 0}, r"expected a number >= 0, got -1$"),
        (1, {"hi": 1, "hi_open": True}, r"expected a number < 1, got 1$"),
        (2, {"hi": 1}, r"expected a number <= 1, got 2$"),
        (1, {"lo": 0, "hi": 1, "hi_open": True}, r"expected a number in \[0, 1\), got 1$"),
        (2.5, {"what": "a month number", "integer": True}, r"expected a month number \(a whole number\), got 2\.5"),
        (math.inf, {}, r"expected a finite number, got inf"),
        (-math.inf, {"what": "a rate", "lo": 0}, r"expected a rate >= 0, got -inf \(not a finite number\)$"),
        (math.inf, {"what": "a rate", "lo": 0}, r"expected a rate >= 0, got inf \(not a finite number\)$"),
        (5, {"what": "a count in [1, 3]", "lo": 1, "hi": 3}, r"expected a count in \[1, 3\], got 5$"),
        (-1, {"what": "a whole number >= 0", "lo": 0}, r"expected a whole number >= 0, got -1$"),
    ],
)
def test_check_number_errors(value, kwargs, message):
    with raises(message):
        check_number(value, AT, **kwargs)


def test_check_number_returns_the_value_as_given():
    assert check_number(3, AT, integer=True) == 3 and isinstance(check_number(3, AT), int)
    assert check_number(0.5, AT, lo=0, hi=1) == 0.5
    assert check_number(np.float64(0.25), AT) == 0.25
    assert check_number(math.inf, AT, finite=False) == math.inf  # only where inf means "never"


def test_check_text_and_identifier():
    assert check_text("hi", AT) == "hi"
    with raises(r"expected text, got int \(3\)"):
        check_text(3, AT)
    with raises(r"expected a question id, got a string \(' '\)"):
        check_text(" ", AT, what="a question id", nonempty=True)
    assert check_identifier("summit_day", AT) == "summit_day"
    with raises(r"expected an identifier \(letters, digits, _\), got a string \('2x'\)"):
        check_identifier("2x", AT)


def test_check_choice_suggests_the_closest_option():
    assert check_choice("floor", AT, ("floor", "ceil")) == "floor"
    with raises(r"expected one of \['floor', 'ceil'\], got a string \('flor'\) \(did you mean 'floor'\?\)"):
        check_choice("flor", AT, ("floor", "ceil"))
    with raises(r"expected one of \[0, 1\], got a boolean"):
        check_choice(True, AT, (0, 1))  # True == 1, but a boolean is not the number 1 here
    with raises(r"got a list"):
        check_choice([1], AT, ("a",))


def test_check_name_suggests_the_closest_name_and_lists_short_sets():
    assert check_name("summit", AT, ["summit", "venue"], what="variable") == "summit"
    with raises(r"^m\.yaml: nodes\.a: unknown variable 'sumit' \(did you mean 'summit'\?\)$"):
        check_name("sumit", AT, ["summit", "venue"], what="variable")
    with raises(r"unknown category 'moskow' of 'venue'; expected one of \['moscow', 'vlad'\] \(did you mean 'moscow'\?\)$"):
        check_name("moskow", AT, ("moscow", "vlad"), what="category", of=" of 'venue'", show=True)
    with raises(r"unknown node 3$"):
        check_name(3, AT, ["a"], what="node")
    with raises(r"unknown node 'yyyy.*\.\.\.'$") as info:
        check_name("y" * 500, AT, ["a"], what="node")
    assert len(info.value.message) < 120


def test_check_date():
    assert check_date(dt.date(2023, 9, 5), AT) == dt.date(2023, 9, 5)
    assert check_date(dt.datetime(2023, 9, 5, 12), AT) == dt.date(2023, 9, 5)
    assert check_date(" 2023-09-05 ", AT) == dt.date(2023, 9, 5)
    for bad, shown in (("2023-02-30", r"'2023-02-30', which is not a date \(day is out of range for month\)"),
                       ("soon", r"a string \('soon'\)"), (20230905, r"int \(20230905\)"), (None, "nothing")):
        with raises(rf"^m\.yaml: nodes\.a: expected a date as YYYY-MM-DD, got {shown}"):
            check_date(bad, AT)


def test_check_pair():
    assert check_pair([1, 2], AT, what="bounds") == (1.0, 2.0)
    assert check_pair([None, 2], AT, what="bounds", allow_null=True) == (-math.inf, 2.0)
    assert check_pair([2, 2], AT, what="bounds", strict=False) == (2.0, 2.0)
    with raises(r"expected a 90% interval as \[low, high\] with low < high, got \[50, 5\]"):
        check_pair([50, 5], AT, what="a 90% interval")
    with raises(r"expected bounds as \[low, high\], got a list"):
        check_pair([1, 2, 3], AT, what="bounds")
    with raises(r"expected bounds, got nothing \(null\)"):
        check_pair([None, 2], AT, what="bounds")


# --------------------------------------------------------------------------- every file kind


LONG = "z" * 5000
MODEL = HEADER + "nodes:\n  summit: {bernoulli: 0.5}\n  day: {event: {when: summit, delay: {uniform: [0, 40]}}}\n"


def _load_params(write, text):
    from scenarios.model.load import load_model

    return load_model(write("m.yaml", MODEL + text))


def _load_questions(write, text):
    from scenarios.model.load import load_model

    return load_model(write("m.yaml", MODEL), questions=write("q.yaml", text))


def _load_evidence(write, text):
    from scenarios.engine.evidence import load_evidence
    from scenarios.model.load import load_model

    model, _ = load_model(write("m.yaml", MODEL))
    return load_evidence(model, write("e.yaml", text))


def _load_resolutions(write, text):
    from scenarios.backtest.resolutions import load_resolutions

    return load_resolutions(write("r.yaml", text))


FILE_KINDS = [
    # (loader, file, a document with a misspelt key, its path, a document with a long bad value, its path)
    (_load_params, "m.yaml", "sede: 3\n", "sede", "seed", f"model: [{LONG}]\n", "model"),
    (_load_params, "m.yaml", "nodes2: {}\n", "nodes2", "nodes", f"description: [{LONG}]\n", "description"),
    (_load_questions, "q.yaml", "- {id: q, resolve: {is: {summit: true}}, txt: x}\n", "0.txt", "text",
     f"- {{id: q, resolve: {{event: day, by: {LONG}}}}}\n", "0.resolve.by"),
    (_load_evidence, "e.yaml", "- {public_on: 2023-09-10, source: 'https://x.org', obsrve: {summit: true}}\n", "0.obsrve", "observe",
     f"- {{public_on: {LONG}, source: 'https://x.org', observe: {{summit: true}}}}\n", "0.public_on"),
    (_load_resolutions, "r.yaml", "- {id: q, outcom: true}\n", "0.outcom", "outcome",
     f"- {{id: q, outcome: true, resolved_on: {LONG}}}\n", "0.resolved_on"),
]


@pytest.mark.parametrize("load, file, typo, typo_path, meant, long_doc, long_path", FILE_KINDS)
def test_every_file_kind_has_the_same_checks(write, load, file, typo, typo_path, meant, long_doc, long_path):
    with pytest.raises(ParamsError) as info:
        load(write, typo)
    assert info.value.file.endswith(file) and info.value.path == typo_path
    assert f"(did you mean '{meant}'?)" in str(info.value)
    with pytest.raises(ParamsError) as info:
        load(write, long_doc)
    assert info.value.file.endswith(file) and info.value.path == long_path
    assert "zzz" in info.value.message and len(info.value.message) < 200
