"""A small, safe arithmetic language over per-world arrays.

Expressions in params files (``"containers * shells_per_container"``) are parsed with
:mod:`ast` and only a whitelist of node types is accepted: numbers, names, string literals
(category names), arithmetic, comparisons, boolean logic, conditional expressions, ``in``
with a tuple or list of literals, and a fixed set of functions.  Nothing is ever passed to
``eval``.  Names resolve to arrays: per-world values have shape (n,), flows (n, months); the
two broadcast by treating a per-world value as constant over months.

An expression cannot lie:

* its size is bounded before anything recursive runs on it (characters, syntax nodes and
  nesting depth, counted with an iterative walk), so no input reaches a ``RecursionError``;
* a literal must be a finite double; arithmetic is done in float64, so ``10**10**10`` is an
  overflow error, not an integer that wrapped to 0;
* types are checked before simulating (:meth:`Expression.result_type`): ``and``/``or``/``not``
  and conditions read booleans and a number there is an error (no "non-zero is true");
  arithmetic, functions and ``<``/``>`` read numbers and a boolean there is an error too (no
  "true is 1": write ``0.55 if x else 0.4``);
  categorical nodes are only compared with their category names;
* at run time every operation that makes a value undefined in a world the expression really
  uses (division or ``%`` by zero, ``log`` of a value <= 0, ``sqrt`` of a negative value, an
  overflow to infinity from finite operands, or a NaN such as ``never - never``) raises
  :class:`ExpressionValueError` naming the operation, the expression and the share of worlds.
  A branch not taken (``x if c else y``, ``where(c, x, y)``, the right side of ``and``/``or``
  when the left decides) is not checked in the worlds where it is not taken, so
  ``a / b if b != 0 else 0`` is fine.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ECHO_CHARS, ScenarioError, short

__all__ = [
    "Expression",
    "ExpressionError",
    "ExpressionValueError",
    "parse_expression",
    "MAX_EXPRESSION_LENGTH",
    "MAX_EXPRESSION_NODES",
    "MAX_EXPRESSION_DEPTH",
]


class ExpressionError(ScenarioError, ValueError):
    """An expression that cannot be parsed, uses something outside the language, or mixes types."""


class ExpressionValueError(ExpressionError):
    """An expression whose value is undefined in some worlds (e.g. a division by zero).

    Attributes
    ----------
    part : str
        The sub-expression where it happened, as written.
    source : str
        The whole expression.
    count, n : int
        Worlds where it happened, of the worlds evaluated.
    """

    def __init__(self, what: str, part: str, source: str, count: int, n: int):
        self.part, self.source, self.count, self.n = part, source, count, n
        where = f"`{_cut(part)}` {what}"
        if part.strip() != source.strip():
            where += f" in expression {_excerpt(source)}"
        if n > 1:
            where += f", in {count:,} of {n:,} worlds ({_percent(count, n)})"
        super().__init__(where)


def _percent(count: int, n: int) -> str:
    share = 100.0 * count / n
    return f"{share:.3g}%" if share >= 0.001 else "<0.001%"


MAX_EXPRESSION_LENGTH = 2000
"""Characters, checked before parsing."""
MAX_EXPRESSION_NODES = 400
"""Syntax nodes (names, numbers, operators ...), checked before any recursive step."""
MAX_EXPRESSION_DEPTH = 100
"""Nesting depth of the syntax tree (``a + b + c`` nests one level per ``+``)."""


def _fold(ufunc):
    """``min``/``max`` of any number of arguments: ``ufunc`` applied pairwise, aligned per world."""

    def fold(*args):
        out = args[0]
        for a in args[1:]:
            a, out = _align(a, out)
            out = ufunc(out, a)
        return out

    return fold


_min, _max = _fold(np.minimum), _fold(np.maximum)


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
_CONSTANT_NAMES = {"True": True, "False": False, "inf": math.inf, "never": math.inf}


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
                        if isinstance(name_node, ast.Name) and name_node.id not in _CONSTANT_NAMES:
                            for s in _string_literals(other):
                                pairs.append((name_node.id, s))
        return pairs

    def result_type(self, kinds: Mapping) -> str:
        """Check the types of every part and return the type of the whole.

        Parameters
        ----------
        kinds : mapping
            Node name -> an object with ``type`` (``number``, ``bool``, ``category``, ``event``,
            ``flow`` or ``vector``) and ``categories`` (for ``category``).  Events (days) and
            flows (counts) are numbers.

        Returns
        -------
        str
            ``"number"`` or ``"bool"``.

        Raises
        ------
        ExpressionError
            A number where a boolean is read or the reverse, a categorical node used other than
            compared with its category names, an unknown category.
        """
        t = _TypeChecker(self.source, kinds).type_of(self.tree.body)
        if t not in ("number", "bool"):
            raise ExpressionError(
                f"expression {_excerpt(self.source)} is a categorical node; compare it with a category name, "
                "e.g. x == 'name'"
            )
        return t

    def evaluate(self, lookup: Callable[[str], Any], categories: Callable[[str], list | None]):
        """Evaluate over worlds.

        Parameters
        ----------
        lookup : callable
            ``lookup(name)`` returns the array of node ``name`` (shape (n,) or (n, months)).
        categories : callable
            ``categories(name)`` returns the category names of a categorical node, else None.

        Returns
        -------
        ndarray, shape (n,) or (n, months), or a scalar when the expression reads no node.

        Raises
        ------
        ExpressionValueError
            A value undefined in some worlds the expression uses (see the module docstring).
        """
        return _Evaluator(self.source.strip(), lookup, categories).visit(self.tree.body, None)


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
        Syntax errors, anything outside the language (attributes, lambdas, unknown functions),
        expressions too long or too deeply nested, literals that are not finite doubles, and
        constant parts whose value is undefined (``1 % 0``, ``10**10**10``).
    """
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("expected a non-empty expression string")
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"expression of {len(source):,} characters is longer than the limit of {MAX_EXPRESSION_LENGTH:,}; "
            "split it into several expr nodes"
        )
    text = source.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {_excerpt(text)}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError):
        raise ExpressionError(f"invalid expression {_excerpt(text)}: too long or too deeply nested") from None
    _check_size(tree.body, text)
    names: list[str] = []
    _check(tree.body, names, text)
    expression = Expression(source=source, names=tuple(dict.fromkeys(names)), tree=tree)
    _fold_constants(expression)
    return expression


def _cut(text: str, limit: int = ECHO_CHARS) -> str:
    """At most ``limit`` characters of ``text`` (an error quotes an excerpt, never a whole input)."""
    return short(text, limit)


def _excerpt(text: str, limit: int = ECHO_CHARS) -> str:
    return repr(_cut(text, limit - 2))


def _check_size(root, text: str) -> None:
    """Count syntax nodes and nesting depth without recursion, before anything recursive runs."""
    count = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_EXPRESSION_NODES:
            raise ExpressionError(
                f"expression {_excerpt(text)} has more than {MAX_EXPRESSION_NODES} parts; "
                "split it into several expr nodes"
            )
        if depth > MAX_EXPRESSION_DEPTH:
            raise ExpressionError(
                f"expression {_excerpt(text)} is nested more than {MAX_EXPRESSION_DEPTH} levels deep; "
                "split it into several expr nodes"
            )
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.expr_context, ast.operator, ast.cmpop, ast.boolop, ast.unaryop)):
                stack.append((child, depth + 1))


def _check(node, names: list[str], text: str, *, string_ok: bool = False) -> None:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            return
        if isinstance(value, str):
            if not string_ok:
                raise ExpressionError(
                    f"string {_excerpt(value)} can only be compared with a categorical node, e.g. outcome == {_excerpt(value)}"
                )
            return
        if isinstance(value, (int, float)):
            try:
                finite = math.isfinite(float(value))
            except OverflowError:
                finite = False
            if not finite:
                raise ExpressionError(
                    f"number {_excerpt(ast.get_source_segment(text, node) or str(value), 40)} is too large (a literal must be a finite number "
                    "below about 1.8e308; write inf or never for 'never')"
                )
            return
        raise ExpressionError(f"unsupported literal {_excerpt(repr(value), 40)}")
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} is a function; call it as {node.id}(...)")
        if node.id in _CONSTANT_NAMES:
            return
        names.append(node.id)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise ExpressionError(f"operator {type(node.op).__name__} is not supported")
        _check(node.left, names, text)
        _check(node.right, names, text)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            raise ExpressionError(f"operator {type(node.op).__name__} is not supported")
        _check(node.operand, names, text)
        return
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, names, text)
        return
    if isinstance(node, ast.Compare):
        _check(node.left, names, text, string_ok=True)
        for op, comp in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(comp, (ast.Tuple, ast.List)) or not comp.elts or not all(
                    isinstance(e, ast.Constant) and not isinstance(e.value, bool) for e in comp.elts
                ):
                    raise ExpressionError("'in' needs a literal list (not empty), e.g. x in ('a', 'b')")
                for e in comp.elts:
                    _check(e, names, text, string_ok=True)
                continue
            if type(op) not in _CMPOPS:
                raise ExpressionError(f"comparison {type(op).__name__} is not supported")
            _check(comp, names, text, string_ok=True)
        return
    if isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check(part, names, text)
        return
    if isinstance(node, ast.Call):
        available = f"available: {', '.join(sorted(FUNCTIONS))}"
        if isinstance(node.func, ast.Attribute):
            segment = ast.get_source_segment(text, node.func) or node.func.attr
            raise ExpressionError(
                f"method calls are not allowed ({_excerpt(short(segment, 30) + '(...)')}); call a function with the "
                f"value as its argument, e.g. round(x); {available}"
            )
        if not isinstance(node.func, ast.Name):
            segment = ast.get_source_segment(text, node.func) or "this"
            raise ExpressionError(f"only a function can be called, not {_excerpt(segment, 40)}; {available}")
        if node.func.id not in FUNCTIONS:
            raise ExpressionError(f"unknown function {_excerpt(node.func.id, 40)}; {available}")
        if node.keywords:
            raise ExpressionError("functions take positional arguments only")
        _, lo, hi = FUNCTIONS[node.func.id]
        if not lo <= len(node.args) <= hi:
            raise ExpressionError(f"{node.func.id}() takes {lo}..{hi} arguments, got {len(node.args)}")
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise ExpressionError("*args is not supported")
            _check(a, names, text)
        return
    if isinstance(node, ast.Attribute):
        segment = ast.get_source_segment(text, node) or node.attr
        raise ExpressionError(
            f"attributes ({_excerpt(segment, 40)}) are not allowed in expressions; use a node's name "
            "(a flow's running total is read in questions and evidence, not in expressions)"
        )
    raise ExpressionError(f"{type(node).__name__} is not allowed in expressions")


def _is_constant(node) -> bool:
    """A numeric or boolean part that reads no node (no strings: those need a node's categories)."""
    functions = {id(sub.func) for sub in ast.walk(node) if isinstance(sub, ast.Call)}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id not in _CONSTANT_NAMES and id(sub) not in functions:
            return False
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            return False
    return True


def _fold_constants(expression: Expression) -> None:
    """Evaluate every largest constant part once, so ``1 % 0`` or ``10**10**10`` fail at parse time."""
    stack = [expression.tree.body]
    evaluator = _Evaluator(expression.source.strip(), lambda name: None, lambda name: None)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call, ast.IfExp, ast.BoolOp, ast.Compare)) and _is_constant(node):
            try:
                evaluator.visit(node, None)
            except ExpressionValueError:
                raise
            except (TypeError, ValueError, ArithmeticError):
                pass  # a type mix-up: result_type names it with the model's kinds at hand
            continue
        stack.extend(ast.iter_child_nodes(node))


# --------------------------------------------------------------------------- types


class _TypeChecker:
    """Infers ``number`` / ``bool`` / ``category`` / ``string`` for each part, raising on a mix-up."""

    def __init__(self, source: str, kinds: Mapping):
        self.source = source.strip()
        self.kinds = kinds

    def text(self, node) -> str:
        return ast.get_source_segment(self.source, node) or type(node).__name__

    def fail(self, node, msg: str):
        part = self.text(node)
        where = f"`{_cut(part)}`" + (f" in expression {_excerpt(self.source)}" if part != self.source else "")
        raise ExpressionError(f"{where}: {msg}")

    def want(self, node, expected: str, role: str) -> str:
        t = self.type_of(node)
        if t != expected:
            article = {"number": "a number", "bool": "a boolean (true/false)"}[expected]
            hint = ""
            if expected == "bool" and t == "number":
                hint = "; compare it, e.g. x > 0"
            elif expected == "number" and t == "bool":
                hint = "; choose a number for each case, e.g. where(x, 1.5, 1.0)"
            elif t == "category":
                hint = "; compare it with a category name, e.g. x == 'name'"
            self.fail(node, f"{role} reads {article}, got {_describe_type(t)}{hint}")
        return t

    def type_of(self, node) -> str:  # noqa: C901 - one branch per syntax node, flat
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return "bool"
            if isinstance(node.value, str):
                return "string"
            return "number"
        if isinstance(node, ast.Name):
            if node.id in _CONSTANT_NAMES:
                return "bool" if isinstance(_CONSTANT_NAMES[node.id], bool) else "number"
            kind = self.kinds.get(node.id)
            if kind is None:
                self.fail(node, f"unknown node {_excerpt(node.id)}")
            if kind.type in ("number", "event", "flow"):
                return "number"
            if kind.type in ("bool", "category"):
                return kind.type
            self.fail(node, f"{_excerpt(node.id)} is a {kind.type} node and cannot be read in an expression")
        if isinstance(node, ast.BinOp):
            self.want(node.left, "number", "arithmetic")
            self.want(node.right, "number", "arithmetic")
            return "number"
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                self.want(node.operand, "bool", "'not'")
                return "bool"
            self.want(node.operand, "number", "a sign")
            return "number"
        if isinstance(node, ast.BoolOp):
            op = "'and'" if isinstance(node.op, ast.And) else "'or'"
            for v in node.values:
                self.want(v, "bool", op)
            return "bool"
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands, operands[1:]):
                self.compare(node, op, left, right)
            return "bool"
        if isinstance(node, ast.IfExp):
            self.want(node.test, "bool", "the condition of 'if'")
            return self.same(node, node.body, node.orelse)
        if isinstance(node, ast.Call):
            name = node.func.id
            if name == "where":
                self.want(node.args[0], "bool", "the condition of where()")
                return self.same(node, node.args[1], node.args[2])
            for a in node.args:
                self.want(a, "number", f"{name}()")
            return "number"
        self.fail(node, f"{type(node).__name__} is not allowed in expressions")  # unreachable after _check
        return "number"

    def same(self, node, a, b) -> str:
        ta, tb = self.type_of(a), self.type_of(b)
        if ta not in ("number", "bool"):
            self.want(a, "number", "a branch")
        if ta == tb:
            return ta
        self.fail(node, f"the two branches differ: {_describe_type(ta)} and {_describe_type(tb)}")
        return ta

    def compare(self, node, op, left, right) -> None:
        tl = self.type_of(left)
        if isinstance(op, (ast.In, ast.NotIn)):
            literals = [e.value for e in right.elts]
            if tl == "category":
                if not all(isinstance(v, str) for v in literals):
                    self.fail(node, "a categorical node is compared with category names (strings)")
                self.check_categories(left, literals)
            elif tl == "number":
                if any(isinstance(v, str) for v in literals):
                    self.fail(node, f"{self.text(left)} is a number; 'in' needs numbers here")
            else:
                self.fail(node, f"'in' reads a number or a categorical node, got {_describe_type(tl)}")
            return
        tr = self.type_of(right)
        types = {tl, tr}
        if types == {"number"}:
            return
        if types == {"number", "bool"}:
            self.fail(node, "a boolean is compared with a number; use the boolean itself, or == true / == false")
        if "category" in types or "string" in types:
            if types != {"category", "string"} or not isinstance(op, (ast.Eq, ast.NotEq)):
                self.fail(node, "a categorical node is compared with == or != to a category name (a string)")
            name_node, lit = (left, right) if tl == "category" else (right, left)
            self.check_categories(name_node, [lit.value])
            return
        if types == {"bool"}:
            if not isinstance(op, (ast.Eq, ast.NotEq)):
                self.fail(node, "booleans are compared only with == or !=")
            return
        self.fail(node, f"cannot compare {_describe_type(tl)} with {_describe_type(tr)}")

    def check_categories(self, name_node, literals) -> None:
        if not isinstance(name_node, ast.Name):
            self.fail(name_node, "only a categorical node can be compared with category names")
        cats = tuple(self.kinds[name_node.id].categories or ())
        for lit in literals:
            if lit not in cats:
                import difflib

                close = difflib.get_close_matches(lit, cats, n=1, cutoff=0.6)
                self.fail(
                    name_node,
                    f"unknown category {_excerpt(lit)} of {_excerpt(name_node.id)}; expected one of {list(cats)}"
                    + (f" (did you mean {_excerpt(close[0])}?)" if close else ""),
                )


def _describe_type(t: str) -> str:
    return {
        "number": "a number",
        "bool": "a boolean",
        "category": "a categorical node",
        "string": "a string",
    }.get(t, t)


# --------------------------------------------------------------------------- evaluation


def _as_float(x):
    """Arithmetic is float64: integers (counts, literals) would wrap around silently."""
    if isinstance(x, np.ndarray):
        return x if x.dtype.kind == "f" else x.astype(float)
    return float(x)


def _and_mask(live, cond):
    """Worlds still live after also requiring ``cond`` (None = all worlds)."""
    cond = np.asarray(cond, dtype=bool)
    if live is None:
        return cond
    a, b = _align(live, cond)
    return np.logical_and(a, b)


class _Evaluator:
    """Evaluates a checked tree over worlds; ``live`` marks the worlds whose value is used."""

    def __init__(self, source: str, lookup, categories):
        self.source = source
        self.lookup = lookup
        self.categories = categories

    def visit(self, node, live):
        return getattr(self, "visit_" + type(node).__name__)(node, live)

    # -- checks ------------------------------------------------------------
    def check(self, node, result, live, inputs, reasons=()):
        """Raise if ``result`` became undefined in a live world.

        ``reasons`` are (function giving a mask of worlds, what happened) pairs tried first, so
        a division by zero is named as such; then any inf from finite inputs is an overflow and
        any NaN is undefined.  All are computed only when the result is not finite everywhere.
        """
        if np.all(np.isfinite(result)):
            return
        for bad, what in reasons:
            with np.errstate(invalid="ignore"):
                mask = bad()
            self.raise_if(node, np.broadcast_to(mask, np.shape(result)) if np.ndim(result) else mask, live, what)
        finite_inputs = np.bool_(True)
        for x in inputs:
            finite_inputs, fx = _align(finite_inputs, np.isfinite(x))
            finite_inputs = np.logical_and(finite_inputs, fx)
        finite_inputs, _ = _align(finite_inputs, result)
        self.raise_if(node, np.isinf(result) & finite_inputs, live, "overflows (the result is too large for a number)")
        self.raise_if(node, np.isnan(result), live, "is undefined (e.g. never - never, 0 * inf or inf % x)")

    def raise_if(self, node, bad, live, what):
        bad = np.asarray(bad, dtype=bool)
        if live is not None:
            bad, mask = _align(bad, np.asarray(live, dtype=bool))
            bad = np.logical_and(bad, mask)
        if not bad.any():
            return
        per_world = bad.any(axis=tuple(range(1, bad.ndim))) if bad.ndim > 1 else bad
        n = per_world.size if per_world.ndim else 1
        count = int(per_world.sum()) if per_world.ndim else 1
        part = ast.get_source_segment(self.source, node) or self.source
        raise ExpressionValueError(what, part, self.source, count, n)

    # -- nodes -------------------------------------------------------------
    def visit_Constant(self, node, live):
        value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return value

    def visit_Name(self, node, live):
        if node.id in _CONSTANT_NAMES:
            return _CONSTANT_NAMES[node.id]
        return self.lookup(node.id)

    def visit_BinOp(self, node, live):
        a, b = _align(_as_float(self.visit(node.left, live)), _as_float(self.visit(node.right, live)))
        op = type(node.op)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = _BINOPS[op](a, b)
        reasons = ()
        if op is ast.Div:
            reasons = ((lambda: np.equal(b, 0), "divides by zero"),)
        elif op is ast.Mod:
            reasons = ((lambda: np.equal(b, 0), "takes a remainder (%) after division by zero"),)
        elif op is ast.Pow:
            reasons = (
                (lambda: np.equal(a, 0) & np.less(b, 0), "raises 0 to a negative power (a division by zero)"),
                (lambda: np.less(a, 0) & np.isfinite(b) & np.not_equal(b, np.floor(b)),
                 "raises a negative number to a fractional power"),
            )
        self.check(node, out, live, (a, b), reasons)
        return out

    def visit_UnaryOp(self, node, live):
        v = self.visit(node.operand, live)
        if isinstance(node.op, ast.USub):
            return np.negative(_as_float(v))
        if isinstance(node.op, ast.Not):
            return np.logical_not(v)
        return v

    def visit_BoolOp(self, node, live):
        is_and = isinstance(node.op, ast.And)
        out = np.asarray(self.visit(node.values[0], live), dtype=bool)
        for v in node.values[1:]:
            # the right side matters only where the left has not decided
            sub_live = _and_mask(live, out if is_and else np.logical_not(out))
            a, b = _align(out, np.asarray(self.visit(v, sub_live), dtype=bool))
            out = np.logical_and(a, b) if is_and else np.logical_or(a, b)
        return out

    def _code(self, name_node, literal):
        """Category code of a string literal compared with a categorical node."""
        if isinstance(name_node, ast.Name) and isinstance(literal, str):
            cats = self.categories(name_node.id)
            if cats is not None and literal in cats:
                return cats.index(literal)
            return -1  # validated earlier; never equal
        return float(literal) if isinstance(literal, (int, float)) and not isinstance(literal, bool) else literal

    def visit_Compare(self, node, live):
        left_node = node.left
        left = self.visit(left_node, live)
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
                    right = self.visit(comp, live)
                    left = self._code(comp, left_node.value)
                else:
                    right = self.visit(comp, live)
                a, b = _align(left, right)
                r = _CMPOPS[type(op)](a, b)
            if result is None:
                result = r
            else:
                result, r = _align(result, r)
                result = np.logical_and(result, r)
            left_node, left = comp, right
        return result

    def _branches(self, cond, body, orelse, live):
        cond = self.visit(cond, live)
        a = self.visit(body, _and_mask(live, cond))
        b = self.visit(orelse, _and_mask(live, np.logical_not(cond)))
        return _where(cond, a, b)

    def visit_IfExp(self, node, live):
        return self._branches(node.test, node.body, node.orelse, live)

    def visit_Call(self, node, live):
        name = node.func.id
        if name == "where":
            return self._branches(*node.args, live)
        fn = FUNCTIONS[name][0]
        args = [_as_float(self.visit(a, live)) for a in node.args]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = fn(*args)
        reasons = ()
        if name == "log":
            reasons = ((lambda: np.less_equal(args[0], 0), "takes the log of a value <= 0"),)
        elif name == "sqrt":
            reasons = ((lambda: np.less(args[0], 0), "takes the square root of a negative value"),)
        self.check(node, out, live, args, reasons)
        return out
