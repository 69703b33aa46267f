"""``mixture: [{weight: w, dist: spec}, ...]``: each world draws from one component, chosen by weight."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema import check_keys, check_list, check_number
from ..spec import BOOL, NUMBER, Spec
from .base import Composite, register
from .categorical import sample_categorical


@dataclass
class MixtureSpec(Spec):
    """A weighted choice between numeric specs; its CDF is the weighted sum of theirs."""

    weights: tuple  # floats
    components: tuple  # of Spec
    path: tuple = ()

    def refs(self):
        out = {}
        for c in self.components:
            out.update(c.refs())
        return out

    def kind(self, kinds, doc):
        ks = {c.kind(kinds, doc) for c in self.components}
        if not ks <= {NUMBER, BOOL}:
            raise doc.error(self.path, "mixture components must be numeric distributions")
        return NUMBER

    def sample(self, ctx, rng, n):
        which = sample_categorical(rng, n, np.asarray(self.weights))
        out = np.empty(n)
        for i, comp in enumerate(self.components):
            idx = np.flatnonzero(which == i)
            if len(idx):
                out[idx] = np.broadcast_to(comp.sample(ctx.sub(idx), rng, len(idx)), (len(idx),))
        return out


@register
class Mixture(Composite):
    """Components given as any spec (a number, a node, a distribution), with weights summing to 1."""

    key = "mixture"

    def compile(self, body, at, compiler):
        check_list(body, at, what="a list of {weight, dist}", nonempty=True)
        weights, comps = [], []
        for i, item in enumerate(body):
            item_at = at.key(i)
            check_keys(item, item_at, ("weight", "dist"), required=("weight", "dist"), what="{weight, dist}")
            weights.append(float(check_number(item["weight"], item_at.key("weight"), what="a weight in [0, 1]", lo=0, hi=1)))
            comps.append(compiler.nested(item["dist"], item_at.key("dist")))
        if abs(sum(weights) - 1) > 1e-6:
            raise at.error(f"mixture weights must sum to 1, got {sum(weights):g}")
        return MixtureSpec(tuple(weights), tuple(comps), at.path)
