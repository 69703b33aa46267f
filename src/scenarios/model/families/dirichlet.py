"""``dirichlet: {alpha: {cat: a, ...}}``: a probability vector over named categories, per world."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema import check_keys, describe, excerpt
from ..spec import Kind, ModelRuntimeError, Spec
from .base import Composite, Domain, register

CONCENTRATION = Domain("a concentration", 0.0, lo_open=True)


def sample_dirichlet(rng: np.random.Generator, n: int, alphas: list) -> np.ndarray:
    """Per-world probability vectors, shape (n, K), from concentration parameters.

    ``alphas`` holds K floats or arrays of shape (n,). Drawn as normalised gammas so that
    per-world concentrations are allowed.
    """
    g = np.column_stack([rng.gamma(a, 1.0, n) for a in alphas])
    total = g.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    if not np.isfinite(total).all():  # concentrations near 1e308: the vector would be all zeros
        raise OverflowError("the sum of the gamma draws overflows")
    return g / total


@dataclass
class DirichletSpec(Spec):
    """Per-world probability vectors, shape (n, K), read by ``categorical: {weights: ...}``."""

    categories: tuple
    alphas: tuple  # of Spec
    path: tuple = ()

    def refs(self):
        out = {}
        for p in self.alphas:
            out.update(p.refs())
        return out

    def kind(self, kinds, doc):
        return Kind("vector", self.categories)

    def sample(self, ctx, rng, n):
        alphas = [a.sample(ctx, rng, n) for a in self.alphas]
        for alpha, cat in zip(alphas, self.categories):
            bad = CONCENTRATION.outside(np.asarray(alpha, dtype=float))
            if np.any(bad):
                example = float(np.broadcast_to(np.asarray(alpha, dtype=float), (n,))[np.broadcast_to(bad, (n,))][0])
                raise self._error(ctx, ("alpha", cat), f"a concentration must be a finite number > 0 in every world, "
                                  f"got {excerpt(example)} in {int(np.broadcast_to(bad, (n,)).sum())} of {n} worlds")
        try:
            with np.errstate(over="ignore"):
                return sample_dirichlet(rng, n, alphas)
        except OverflowError:
            raise self._error(ctx, ("alpha",), "the concentrations are too large to draw from (their sum "
                              "overflows); keep their sum below about 1e300") from None

    def _error(self, ctx, keys: tuple, message: str) -> ModelRuntimeError:
        return ModelRuntimeError(ctx.model.doc.origin(self.path), ".".join(self.path + keys), message)


@register
class Dirichlet(Composite):
    """Concentrations per category; drawn as normalised gammas (so they may vary per world)."""

    key = "dirichlet"

    def compile(self, body, at, compiler):
        check_keys(body, at, ("alpha",), required=("alpha",), what="{alpha: {category: concentration, ...}}")
        alpha = body["alpha"]
        if not isinstance(alpha, dict) or len(alpha) < 2:
            raise at.key("alpha").error(f"expected a mapping of at least two category: concentration, got {describe(alpha)}")
        cats = compiler.categories(alpha, at.key("alpha"))
        alphas = tuple(compiler.param(alpha[k], at.key("alpha", c), CONCENTRATION) for k, c in zip(alpha, cats))
        return DirichletSpec(cats, alphas, at.path)
