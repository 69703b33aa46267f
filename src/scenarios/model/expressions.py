"""A small, safe arithmetic language over per-world arrays.

Expressions in params files (``"containers * shells_per_container"``) are parsed with
:mod:`ast` and only a whitelist of node types is accepted: numbers, names, string literals
(category names), arithmetic, comparisons, boolean logic, conditional expressions, ``in``
with a tuple or list of literals, and a fixed set of functions.  Nothing is ever passed to
``eval``.  Names resolve to arrays: per-world values have shape (n,), flows (n, months); the
two broadcast by treating a per-world value as constant over months.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Expression", "ExpressionError", "parse_expression"]


class ExpressionError(ValueError):
    """An expression that cannot be parsed or uses something outside the language."""


def _min(*args):
    out = args[0]
    for a in args[1:]:
        a, out = _align(a, out)
        out = np.minimum(out, a)
    return out


def _max(*args):
    out = args[0]
    for a in args[1:]:
        a, out = _align(a, out)
        out = np.maximum(out, a)
    return out


def _where(cond, a, b):
    cond, a = _align(cond, a)
    cond, b = _align(cond, b)
    a, b = _align(a, b)
    return np.where(cond, a, b)


def _clip(x, lo, hi):
    return _min(_max(x, lo), hi)


FUNCTIONS: dict[str, tuple[Callable, int, int]] = {
    # name: (function, min args, max args)
    "min": (_min, 2, 16),
    "max": (_max, 2, 16),
    "abs": (np.abs, 1, 1),
    "floor": (np.floor, 1, 1),
    "ceil": (np.ceil, 1, 1),
    "round": (np.round, 1, 1),
    "exp": (np.exp, 1, 1),
    "log": (np.log, 1, 1),
    "sqrt": (np.sqrt, 1, 1),
    "where": (_where, 3, 3),
    "clip": (_clip, 3, 3),
}

_BINOPS = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.Pow: np.power,
    ast.Mod: np.mod,
}
_CMPOPS = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
MAX_EXPRESSION_LENGTH = 2000


def _align(a, b):
    """Broadcast a per-world (n,) array against a flow (n, months)."""
    a_nd = np.ndim(a)
    b_nd = np.ndim(b)
    if a_nd == 1 and b_nd == 2:
        a = np.asarray(a)[:, None]
    elif a_nd == 2 and b_nd == 1:
        b = np.asarray(b)[:, None]
    return a, b


@dataclass(frozen=True)
class Expression:
    """A parsed expression.

    Attributes
    ----------
    source : str
        The text as written.
    names : tuple of str
        Node names it reads, in order of first appearance.
    """

    source: str
    names: tuple
    tree: Any

    def string_comparisons(self) -> list[tuple[str, str]]:
        """(node name, category) pairs compared with ``==``, ``!=`` or ``in``, for validation."""
        pairs = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                for left, right in zip(operands, operands[1:]):
                    for name_node, other in ((left, right), (right, left)):
                        if isinstance(name_node, ast.Name):
                            for s in _string_literals(other):
                                pairs.append((name_node.id, s))
        return pairs

    def evaluate(self, lookup: Callable[[str], Any], categories: Callable[[str], list | None]):
        """Evaluate over worlds.

        Parameters
        ----------
        lookup : callable
            ``lookup(name)`` returns the array of node ``name`` (shape (n,) or (n, months)).
        categories : callable
            ``categories(name)`` returns the category names of a categorical node, else None.
        """
        return _Evaluator(lookup, categories).visit(self.tree.body)


def _string_literals(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def parse_expression(source: str) -> Expression:
    """Parse and whitelist-check an expression.

    >>> parse_expression("a * min(b, 3)").names
    ('a', 'b')

    Raises
    ------
    ExpressionError
        Syntax errors and anything outside the language (attributes, lambdas, unknown functions).
    """
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("expected a non-empty expression string")
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {source!r}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"invalid expression {source!r}") from None
    names: list[str] = []
    try:
        _check(tree.body, names)
    except RecursionError:
        raise ExpressionError(f"expression {source!r} is nested too deeply") from None
    return Expression(source=source, names=tuple(dict.fromkeys(names)), tree=tree)


def _check(node, names: list[str]) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or isinstance(node.value, (int, float, str)):
            return
        raise ExpressionError(f"unsupported literal {node.value!r}")
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} is a function; call it as {node.id}(...)")
        if node.id in ("True", "False", "inf", "never"):
            return
        names.append(node.id)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise ExpressionError(f"operator {type(node.op).__name__} is not supported")
        _check(node.left, names)
        _check(node.right, names)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            raise ExpressionError(f"operator {type(node.op).__name__} is not supported")
        _check(node.operand, names)
        return
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, names)
        return
    if isinstance(node, ast.Compare):
        _check(node.left, names)
        for op, comp in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(comp, (ast.Tuple, ast.List)) or not all(
                    isinstance(e, ast.Constant) for e in comp.elts
                ):
                    raise ExpressionError("'in' needs a literal list, e.g. x in ('a', 'b')")
                continue
            if type(op) not in _CMPOPS:
                raise ExpressionError(f"comparison {type(op).__name__} is not supported")
            _check(comp, names)
        return
    if isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check(part, names)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = node.func.id if isinstance(node.func, ast.Name) else "this"
            raise ExpressionError(
                f"unknown function {what!r}; available: {', '.join(sorted(FUNCTIONS))}"
            )
        if node.keywords:
            raise ExpressionError("functions take positional arguments only")
        _, lo, hi = FUNCTIONS[node.func.id]
        if not lo <= len(node.args) <= hi:
            raise ExpressionError(f"{node.func.id}() takes {lo}..{hi} arguments, got {len(node.args)}")
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise ExpressionError("*args is not supported")
            _check(a, names)
        return
    raise ExpressionError(f"{type(node).__name__} is not allowed in expressions")


class _Evaluator:
    def __init__(self, lookup, categories):
        self.lookup = lookup
        self.categories = categories

    def visit(self, node):
        return getattr(self, "visit_" + type(node).__name__)(node)

    def visit_Constant(self, node):
        return node.value

    def visit_Name(self, node):
        if node.id == "True":
            return True
        if node.id == "False":
            return False
        if node.id in ("inf", "never"):
            return np.inf
        return self.lookup(node.id)

    def visit_BinOp(self, node):
        a, b = _align(self.visit(node.left), self.visit(node.right))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return _BINOPS[type(node.op)](a, b)

    def visit_UnaryOp(self, node):
        v = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return np.negative(v)
        if isinstance(node.op, ast.Not):
            return np.logical_not(v)
        return v

    def visit_BoolOp(self, node):
        fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = self.visit(node.values[0])
        for v in node.values[1:]:
            a, b = _align(out, self.visit(v))
            out = fn(a, b)
        return out

    def _code(self, name_node, literal):
        """Category code of a string literal compared with a categorical node."""
        if isinstance(name_node, ast.Name) and isinstance(literal, str):
            cats = self.categories(name_node.id)
            if cats is not None and literal in cats:
                return cats.index(literal)
            return -1  # validated earlier; never equal
        return literal

    def visit_Compare(self, node):
        left_node = node.left
        left = self.visit(left_node)
        result = None
        for op, comp in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                codes = [self._code(left_node, e.value) for e in comp.elts]
                r = np.isin(left, codes)
                if isinstance(op, ast.NotIn):
                    r = ~r
                right = left
            else:
                if isinstance(comp, ast.Constant) and isinstance(comp.value, str):
                    right = self._code(left_node, comp.value)
                elif isinstance(left_node, ast.Constant) and isinstance(left_node.value, str):
                    right = self.visit(comp)
                    left = self._code(comp, left_node.value)
                else:
                    right = self.visit(comp)
                a, b = _align(left, right)
                r = _CMPOPS[type(op)](a, b)
            if result is None:
                result = r
            else:
                result, r = _align(result, r)
                result = np.logical_and(result, r)
            left_node, left = comp, right
        return result

    def visit_IfExp(self, node):
        return _where(self.visit(node.test), self.visit(node.body), self.visit(node.orelse))

    def visit_Call(self, node):
        fn = FUNCTIONS[node.func.id][0]
        args = [self.visit(a) for a in node.args]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return fn(*args)
