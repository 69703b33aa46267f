"""The expression language: whitelisted, vectorised, broadcasting per-world values over months."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.model.expressions import ExpressionError, ExpressionValueError, parse_expression

ARRAYS = {
    "a": np.array([1.0, 2.0, 3.0]),
    "b": np.array([10.0, 20.0, 30.0]),
    "flow": np.arange(6.0).reshape(3, 2),
    "cat": np.array([0, 1, 2]),
}
CATS = {"cat": ["x", "y", "z"]}


def ev(text):
    return parse_expression(text).evaluate(ARRAYS.__getitem__, CATS.get)


def test_arithmetic_functions_and_conditionals():
    assert ev("a * b + 1").tolist() == [11, 41, 91]
    assert ev("min(a, 2) + max(b, 25)").tolist() == [26, 27, 32]
    assert ev("a if a > 1 else -a").tolist() == [-1, 2, 3]
    assert ev("clip(a, 1.5, 2.5)").tolist() == [1.5, 2, 2.5]
    assert ev("floor(a / 2)").tolist() == [0, 1, 1]


def test_per_world_value_broadcasts_over_months():
    assert ev("flow * a").tolist() == [[0, 1], [4, 6], [12, 15]]


def test_category_comparisons_use_names():
    assert ev("cat == 'y'").tolist() == [False, True, False]
    assert ev("cat in ('x', 'z')").tolist() == [True, False, True]
    assert ev("cat != 'x' and a > 2").tolist() == [False, False, True]
    assert parse_expression("cat == 'y' or 'z' == cat").string_comparisons() == [("cat", "y"), ("cat", "z")]


def test_names_are_collected_in_order():
    assert parse_expression("b * a + b").names == ("b", "a")


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("__import__('os').system('x')", r"method calls are not allowed \(\"__import__\('os'\)\.system\(\.\.\.\)\"\)"),
        ("__import__('os')", "unknown function '__import__'"),
        ("a.b(1)", r"method calls are not allowed \('a\.b\(\.\.\.\)'\)"),
        ("a.real", r"attributes \('a\.real'\) are not allowed"),
        ("(lambda: 1)()", "only a function can be called"),
        ("[x for x in a]", "ListComp is not allowed"),
        ("a +", "invalid expression"),
        ("min(a)", r"min\(\) takes 2..16 arguments"),
        ("a in b", "'in' needs a literal list"),
        ("", "non-empty"),
    ],
)
def test_rejected(text, pattern):
    with pytest.raises(ExpressionError, match=pattern):
        parse_expression(text)


@given(st.text(max_size=40))
def test_parse_never_raises_anything_but_expression_error(text):
    try:
        parse_expression(text)
    except ExpressionError:
        pass


# ----------------------------------------------------------------------------- limits before recursion


@pytest.mark.parametrize(
    "text, pattern",
    [
        (" + ".join(["a"] * 500), r"more than \d+ parts|nested more than"),
        ("-" * 900 + "a", r"nested more than \d+ levels"),
        ("not " * 300 + "a", r"nested more than \d+ levels"),
        ("min(" * 150 + "a" + ", 1)" * 150, r"nested|too deeply|parts"),
        ("a" * 2500, r"longer than the limit"),
        ("1" * 1900, r"number '1111.*' is too large"),
        ("a * 1e999", r"number '1e999' is too large"),
    ],
)
def test_size_depth_and_huge_literals_are_rejected_before_evaluation(text, pattern):
    with pytest.raises(ExpressionError, match=pattern):
        parse_expression(text)


def test_the_limits_leave_room_for_real_expressions():
    text = " + ".join(["a"] * 90)
    assert ev(text).tolist() == [90.0, 180.0, 270.0]


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("10**10**10", r"`10\*\*10\*\*10` overflows"),
        ("a * 10**10**10", r"`10\*\*10\*\*10` overflows"),
        ("1 % 0", r"`1 % 0` takes a remainder \(%\) after division by zero"),
        ("1 / 0 + a", r"`1 / 0` divides by zero in expression '1 / 0 \+ a'"),
        ("log(0)", r"`log\(0\)` takes the log of a value <= 0"),
        ("sqrt(-1)", r"square root of a negative value"),
        ("0 ** -1", r"raises 0 to a negative power"),
        ("(-8) ** 0.5", r"negative number to a fractional power"),
        ("inf - never", r"is undefined"),
    ],
)
def test_undefined_constants_are_errors_when_parsed(text, pattern):
    with pytest.raises(ExpressionValueError, match=pattern):
        parse_expression(text)


def test_integer_arithmetic_cannot_wrap_around():
    counts = {"c": np.array([3, 10**18], dtype=np.int64)}
    with pytest.raises(ExpressionValueError, match=r"`c \*\* 40` overflows.*1 of 2 worlds \(50%\)"):
        parse_expression("c ** 40").evaluate(counts.__getitem__, CATS.get)


# ----------------------------------------------------------------------------- undefined values at run time

RUN = {
    "x": np.array([0.0, 1.0, 2.0, 4.0]),
    "y": np.array([1.0, 0.0, 2.0, 0.0]),
    "day": np.array([3.0, np.inf, np.inf, 8.0]),
    "months": np.arange(8.0).reshape(4, 2),
}


def run(text):
    return parse_expression(text).evaluate(RUN.__getitem__, lambda name: None)


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("x / y", r"`x / y` divides by zero, in 2 of 4 worlds \(50%\)"),
        ("x % y + 1", r"`x % y` takes a remainder \(%\) after division by zero in expression 'x % y \+ 1', in 2 of 4 worlds"),
        ("log(x) * 2", r"`log\(x\)` takes the log of a value <= 0 in expression 'log\(x\) \* 2', in 1 of 4 worlds \(25%\)"),
        ("sqrt(x - 1)", r"square root of a negative value, in 1 of 4 worlds"),
        ("day - day", r"`day - day` is undefined.*in 2 of 4 worlds"),
        ("months / x", r"`months / x` divides by zero, in 1 of 4 worlds"),
        ("x ** 2000", r"overflows.*in 2 of 4 worlds"),
    ],
)
def test_undefined_values_name_the_part_the_expression_and_the_share_of_worlds(text, pattern):
    with pytest.raises(ExpressionValueError, match=pattern) as info:
        run(text)
    assert "np." not in str(info.value)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x / y if y != 0 else -1", [0.0, -1.0, 1.0, -1.0]),
        ("where(y > 0, x / y, -1)", [0.0, -1.0, 1.0, -1.0]),
        ("y != 0 and x / y > 0.5", [False, False, True, False]),
        ("y == 0 or x / y > 0.5", [False, True, True, True]),
        ("log(x) if x > 0 else 0", [0.0, 0.0, float(np.log(2.0)), float(np.log(4.0))]),
        ("day + 1", [4.0, np.inf, np.inf, 9.0]),
        ("min(day, 30) - 1", [2.0, 29.0, 29.0, 7.0]),
    ],
)
def test_a_branch_not_taken_is_not_checked_and_never_stays_never(text, expected):
    assert run(text).tolist() == expected


# ----------------------------------------------------------------------------- types


class K:
    def __init__(self, type, categories=None):
        self.type, self.categories = type, categories


KINDS = {"x": K("number"), "b": K("bool"), "c": K("category", ("lo", "hi")), "e": K("event"), "f": K("flow"), "v": K("vector", ("p", "q"))}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x + 1", "number"),
        ("x > 1", "bool"),
        ("b", "bool"),
        ("not b and x > 0", "bool"),
        ("c == 'hi'", "bool"),
        ("c in ('lo', 'hi')", "bool"),
        ("x if b else 2", "number"),
        ("where(b, 1, 0)", "number"),
        ("0.55 if b else 0.4", "number"),
        ("e <= 30 and f >= 1", "bool"),
        ("b == True", "bool"),
    ],
)
def test_result_type(text, expected):
    assert parse_expression(text).result_type(KINDS) == expected


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("x and b", r"`x` in expression 'x and b': 'and' reads a boolean \(true/false\), got a number; compare it"),
        ("not x", r"'not' reads a boolean"),
        ("1 if x else 2", r"the condition of 'if' reads a boolean"),
        ("where(x, 1, 2)", r"the condition of where\(\) reads a boolean"),
        ("c + 1", r"arithmetic reads a number, got a categorical node"),
        ("c", r"is a categorical node; compare it with a category name"),
        ("c == 'mid'", r"unknown category 'mid' of 'c'"),
        ("c == 1", r"compared with == or != to a category name"),
        ("c < 'hi'", r"compared with == or != to a category name"),
        ("x == 'hi'", r"compared with == or != to a category name"),
        ("b < True", r"booleans are compared only with == or !="),
        ("x in ('lo',)", r"'in' needs numbers here"),
        ("c in (1, 2)", r"compared with category names"),
        ("v > 0", r"'v' is a vector node and cannot be read"),
        ("'lo' == 'lo'", r"compared with == or != to a category name"),
        ("b if x > 0 else c", r"reads a number, got a categorical node|branches differ"),
        ("0.4 + 0.15 * b", r"`b` in expression '0\.4 \+ 0\.15 \* b': arithmetic reads a number, got a boolean"),
        ("b > 0", r"a boolean is compared with a number"),
        ("b == 1", r"a boolean is compared with a number"),
        ("x if b else b", r"the two branches differ"),
        ("where(b, b, 1)", r"the two branches differ"),
        ("log(b)", r"reads a number, got a boolean"),
        ("b in (0, 1)", r"'in' reads a number or a categorical node"),
    ],
)
def test_type_errors_are_found_before_simulating(text, pattern):
    with pytest.raises(ExpressionError, match=pattern):
        parse_expression(text).result_type(KINDS)


def test_strings_are_only_category_names_in_comparisons():
    with pytest.raises(ExpressionError, match=r"string 'hi' can only be compared with a categorical node"):
        parse_expression("min(x, 'hi')")


# ----------------------------------------------------------------------------- property: only ExpressionError

TYPED = {
    "x": np.array([0.0, 1.0, -2.0, 1e300, 3.5]),
    "y": np.array([0.0, 0.0, 5.0, -1e-300, 2.0]),
    "b": np.array([True, False, True, False, True]),
    "c": np.array([0, 1, 1, 0, 1]),
    "e": np.array([1.0, np.inf, 30.0, np.inf, 0.0]),
    "f": np.array([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]], dtype=np.int64),
}
ATOMS = ["x", "y", "b", "c", "e", "f", "0", "1", "-1", "2.5", "1e308", "inf", "never", "True", "'lo'", "'hi'", "'zz'"]
BINARY = ["+", "-", "*", "/", "**", "%", "<", "<=", "==", "!=", "and", "or", "//", "in", "@"]


@st.composite
def expressions(draw, depth=0):
    if depth > 3 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    form = draw(st.integers(0, 5))
    a = draw(expressions(depth + 1))
    b = draw(expressions(depth + 1))
    if form == 0:
        return f"({a} {draw(st.sampled_from(BINARY))} {b})"
    if form == 1:
        return f"{draw(st.sampled_from(['not ', '-', '+']))}({a})"
    if form == 2:
        fn = draw(st.sampled_from(["min", "max", "abs", "log", "sqrt", "exp", "floor", "where", "clip", "round", "nope"]))
        args = [a, b, draw(expressions(depth + 1))][: draw(st.integers(1, 3))]
        return f"{fn}({', '.join(args)})"
    if form == 3:
        return f"({a} if {draw(expressions(depth + 1))} else {b})"
    if form == 4:
        return f"({a} in ({b}, {draw(st.sampled_from(ATOMS))}))"
    return f"({a} < {b} <= {draw(expressions(depth + 1))})"


@given(expressions())
def test_random_expressions_raise_nothing_but_expression_error(text):
    categories = {"c": ["lo", "hi"]}.get
    try:
        expression = parse_expression(text)
        expression.result_type(KINDS)
        out = expression.evaluate(TYPED.__getitem__, categories)
    except ExpressionError:
        return
    values = np.asarray(out, dtype=float)
    assert not np.isnan(values).any(), text


@given(st.text(alphabet="xyb()+-*/%<>=!, .0123456789eflognotandr'", max_size=60))
def test_random_text_raises_nothing_but_expression_error(text):
    try:
        expression = parse_expression(text)
        expression.result_type(KINDS)
        expression.evaluate(TYPED.__getitem__, {"c": ["lo", "hi"]}.get)
    except ExpressionError:
        pass


def test_constants_compared_with_strings_are_type_errors_not_node_names():
    expression = parse_expression("inf < 'lo'")
    assert expression.string_comparisons() == []
    with pytest.raises(ExpressionError, match="compared with == or != to a category name"):
        expression.result_type(KINDS)
