"""``categorical: {cat: p, ...}`` or ``categorical: {weights: dirichlet_node}``: one named category per world."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema import check_mapping, excerpt
from ..spec import Kind, ModelRuntimeError, Spec
from .base import Composite, Domain, register

PROBABILITY = Domain("a probability", 0.0, 1.0)

NOT_APPLICABLE = -1
"""The code a categorical node holds in a world where it does not apply (outside its node-level
``when:``): no category's code, so ``==``/``in`` with a category are false there, and never an
index into the categories (readers label it "n/a"; :meth:`scenarios.model.worlds.Worlds.applicable`)."""


def sample_categorical(rng: np.random.Generator, n: int, probs: np.ndarray) -> np.ndarray:
    """Category codes 0..K-1 with probabilities ``probs`` (shape (K,) or (n, K), rows sum to 1).

    One uniform per world, compared with the cumulative probabilities: shape (n,), int64.
    """
    u = rng.random(n)
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        cum = np.cumsum(probs)
        cum[-1] = np.inf  # rounding in the sum must never lose the last category
        return np.searchsorted(cum, u, side="right").astype(np.int64)
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = np.inf
    return (u[:, None] >= cum).sum(axis=1).astype(np.int64)


@dataclass
class CategoricalSpec(Spec):
    """Category codes 0..K-1 drawn with the given probabilities (values renormalised per world)."""

    categories: tuple
    probs: tuple | None = None  # of Spec, one per category
    weights: str | None = None  # name of a dirichlet node
    path: tuple = ()

    def refs(self):
        if self.weights is not None:
            return {self.weights: self.path + ("weights",)}
        out = {}
        for p in self.probs:
            out.update(p.refs())
        return out

    def kind(self, kinds, doc):
        if self.weights is not None:
            k = kinds[self.weights]
            if k.type != "vector":
                raise doc.error(self.path + ("weights",), f"expected a dirichlet node, {excerpt(self.weights)} is a {k.type} node")
            self.categories = k.categories
        return Kind("category", self.categories)

    def sample(self, ctx, rng, n):
        if self.weights is not None:
            return sample_categorical(rng, n, ctx.get(self.weights))
        values = [p.sample(ctx, rng, n) for p in self.probs]
        if all(np.ndim(v) == 0 for v in values):
            return sample_categorical(rng, n, np.asarray(values, dtype=float))
        probs = np.column_stack([np.broadcast_to(v, (n,)) for v in values]).astype(float)
        if not ((probs >= 0) & (probs < np.inf)).all():  # NaN and inf too
            raise ModelRuntimeError(
                ctx.model.doc.origin(self.path), ".".join(self.path),
                "category probabilities must be finite and non-negative in every world",
            )
        with np.errstate(over="ignore"):
            total = probs.sum(axis=1, keepdims=True)
        if not np.isfinite(total).all():
            raise ModelRuntimeError(
                ctx.model.doc.origin(self.path), ".".join(self.path),
                "category probabilities are too large to add up (their sum overflows) in some worlds",
            )
        if (total <= 0).any():
            raise ModelRuntimeError(
                ctx.model.doc.origin(self.path), ".".join(self.path),
                "category probabilities sum to 0 in some worlds",
            )
        return sample_categorical(rng, n, probs / total)

    def category_prob(self, ctx, rng, n: int, code: int) -> np.ndarray:
        """P(X = category ``code``) in each of the ``n`` worlds of ``ctx``, shape (n,)."""
        if self.weights is not None:
            return np.asarray(ctx.get(self.weights), dtype=float)[:, code].copy()
        probs = np.column_stack(
            [np.broadcast_to(np.asarray(p.sample(ctx, rng, n), dtype=float), (n,)) for p in self.probs]
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            return probs[:, code] / probs.sum(axis=1)


@register
class Categorical(Composite):
    """Named categories with probabilities, or the per-world weights of a dirichlet node."""

    key = "categorical"

    def compile(self, body, at, compiler):
        check_mapping(body, at, what="a mapping of category: probability", nonempty=True)
        if "weights" in body:
            if len(body) != 1 or not isinstance(body["weights"], str):
                raise at.key("weights").error("expected weights: <name of a dirichlet node> and nothing else")
            compiler.node(body["weights"], at.key("weights"))
            return CategoricalSpec((), weights=body["weights"], path=at.path)
        cats = compiler.categories(body, at)
        probs = tuple(compiler.param(body[k], at.key(c), PROBABILITY) for k, c in zip(body, cats))
        if all(s.static_value() is not None for s in probs):
            total = sum(s.static_value() for s in probs)
            if abs(total - 1.0) > 1e-6:
                raise at.error(f"category probabilities must sum to 1, got {total:g}")
        return CategoricalSpec(cats, probs=probs, path=at.path)
