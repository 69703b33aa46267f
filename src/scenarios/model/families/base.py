"""What a distribution family is, and the registry the compiler and the conditioning look it up in.

A family is one class: the parameters it takes and their domains, how its YAML spec is read
(:meth:`Family.parse`), how it draws (:meth:`Family.sample`) and its CDF and inverse CDF
(:meth:`Family.cdf`, :meth:`Family.ppf`), which truncation and the as-of conditioning use.  Each
family lives in a module of its own in this package and registers itself with :func:`register`;
the package imports every module in it, so adding a family is adding one file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..schema import Location, check_keys

__all__ = ["Composite", "Domain", "Family", "ParamReader", "REGISTRY", "register", "get", "keys"]


@dataclass(frozen=True)
class Domain:
    """The values a parameter may take: checked in the spec and, when drawn, in every world.

    Parameters
    ----------
    what : str
        The parameter in words, for messages (``"a probability"``).
    lo, hi : float
        Bounds (``-inf`` / ``inf``: none); ``lo_open`` excludes ``lo``.
    finite : bool
        Infinity is outside the domain (every numeric parameter of a distribution: an infinite
        mean or rate gives NaN or infinite draws); ``False`` where it means something.
    """

    what: str = "a number"
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    finite: bool = True

    @property
    def bounded(self) -> bool:
        """Whether a value drawn per world must be checked against the domain."""
        return self.lo > -math.inf or self.hi < math.inf or self.finite

    def outside(self, v: np.ndarray) -> np.ndarray:
        """Per world: whether ``v`` (shape (n,)) is NaN or outside the domain."""
        out = (v < self.lo) | (v > self.hi) | (v <= self.lo if self.lo_open else False) | np.isnan(v)
        return out | np.isinf(v) if self.finite else out

    def __str__(self) -> str:
        return f"{'(' if self.lo_open else '['}{self.lo}, {self.hi}]"


class ParamReader(Protocol):
    """What the model compiler gives a family to read its parameters with.

    A parameter is opaque to the family: a constant, a node, an expression or an inline
    distribution, drawn per world by the compiler's specs.
    """

    def param(self, raw: Any, at: Location, domain: Domain) -> Any:
        """A parameter from its YAML value, checked against ``domain`` when it is a number."""

    def constant(self, value: float, at: Location) -> Any:
        """A parameter fixed at ``value`` (e.g. computed from a ``ci90``)."""

    def static(self, param: Any) -> float | None:
        """The number a parameter always takes, or None if it varies between worlds."""


class Family:
    """A distribution family: subclass, set the attributes, and decorate with :func:`register`.

    Attributes
    ----------
    key : str
        The YAML key that names it (``lognormal``).
    name : str
        The family drawn (a shorthand such as ``ci90`` draws a ``lognormal``); default ``key``.
    params : tuple of str
        Parameter names in the order :meth:`sample`, :meth:`cdf` and :meth:`ppf` take them.
    domains : dict
        Parameter name -> :class:`Domain` (default: any number).
    shorthand : bool
        A bare value (not a mapping) is the first parameter (``bernoulli: 0.3``).
    truncatable : bool
        ``truncate:`` is allowed (a continuous family whose CDF and inverse are exact).
    discrete : bool
        Puts its probability on separate values (so an exact observation has probability > 0).
    boolean : bool
        Yields true/false rather than numbers.
    passthrough : bool
        The spec is its one parameter itself (``constant``): no distribution is drawn.
    forms : str
        The spec's forms in words, for messages (default ``{p1, p2}``).
    """

    key: str = ""
    name: str = ""
    params: tuple = ()
    domains: dict = {}
    shorthand = False
    truncatable = False
    discrete = False
    boolean = False
    passthrough = False
    forms: str = ""

    def __init__(self):
        self.name = self.name or self.key
        self.forms = self.forms or f"{{{', '.join(self.params)}}}"

    def __repr__(self) -> str:
        return f"<family {self.key}>"

    def domain(self, param: str) -> Domain:
        return self.domains.get(param, Domain())

    def parse(self, body: Any, at: Location, reader: ParamReader) -> tuple:
        """Check the spec ``body`` (the value under the family's key) and read its parameters.

        The default reads ``{param: value, ...}`` with every parameter given (or, with
        ``shorthand``, a bare value for the first).  Families with other forms (``ci90``,
        ``{mean, concentration}``) override it.
        """
        if self.shorthand and not isinstance(body, dict):
            return (reader.param(body, at, self.domain(self.params[0])),)
        check_keys(body, at, self.params, required=self.params, what=self.forms)
        return tuple(reader.param(body[k], at.key(k), self.domain(k)) for k in self.params)

    def sample(self, rng: np.random.Generator, n: int, params: tuple) -> np.ndarray:
        """``n`` draws, shape (n,); each parameter a float or an array of shape (n,)."""
        raise NotImplementedError

    def cdf(self, params: tuple, t: np.ndarray, left: bool = False) -> np.ndarray:
        """P(X <= t) per world (P(X < t) with ``left``); parameters and ``t`` of shape (n,)."""
        raise NotImplementedError

    def ppf(self, params: tuple, q: np.ndarray) -> np.ndarray:
        """The left-continuous inverse of :meth:`cdf`: the smallest x with F(x) >= q, per world."""
        raise NotImplementedError


class Composite:
    """A family that compiles to a spec of its own rather than a numeric draw with a CDF.

    ``categorical`` (named categories), ``dirichlet`` (per-world probability vectors) and
    ``mixture`` (a weighted choice between other specs) are these.  :meth:`compile` checks the
    spec and returns a :class:`~scenarios.model.spec.Spec`, reading values, nested specs, node
    names and category names through the compiler it is given (:meth:`param`, :meth:`nested`,
    :meth:`node`, :meth:`categories` of ``scenarios.model.scenario``'s compiler).
    """

    key: str = ""
    name: str = ""

    def __init__(self):
        self.name = self.name or self.key

    def __repr__(self) -> str:
        return f"<family {self.key}>"

    def compile(self, body: Any, at: Location, compiler: Any) -> Any:
        raise NotImplementedError


REGISTRY: dict = {}
"""YAML key -> :class:`Family` or :class:`Composite` instance, in the order registered."""


def register(cls: type) -> type:
    """Class decorator: add a :class:`Family` (or :class:`Composite`) to the registry under its ``key``."""
    family = cls()
    if not family.key or family.key in REGISTRY:
        raise ValueError(f"a family needs a key of its own; {family.key!r} is taken or empty")
    REGISTRY[family.key] = family
    return cls


def get(key: str) -> Family | Composite | None:
    """The family registered under ``key``, or None."""
    return REGISTRY.get(key)


def keys() -> tuple:
    """Every registered family key."""
    return tuple(REGISTRY)
