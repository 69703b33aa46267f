"""``dirichlet: {alpha: {cat: a, ...}}``: a probability vector over named categories, per world."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema import check_keys, describe
from ..spec import Kind, Spec
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
        return sample_dirichlet(rng, n, [a.sample(ctx, rng, n) for a in self.alphas])


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
