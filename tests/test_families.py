"""Distribution families through the registry: draws, CDF and inverse against scipy, spec errors,
options, and a toy family added by registering one class.

Monte Carlo tolerances are 5 standard errors computed from scipy's analytic variance.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import integrate, stats

from conftest import HEADER
from scenarios.engine.asof import forecast_as_of
from scenarios.engine.conditional import freeze, is_discrete
from scenarios.engine.evidence import parse_evidence
from scenarios.engine.simulate import simulate
from scenarios.errors import ParamsError
from scenarios.model import families
from scenarios.model.families import REGISTRY, Domain, Family, Options, register
from scenarios.model.load import load_model
from scenarios.model.scenario import Context

N = 200_000
Z = 5.0

CASES = {
    # key: (parameters in the family's order, the same distribution in scipy)
    "bernoulli": ((0.3,), stats.bernoulli(0.3)),
    "beta": ((2.0, 5.0), stats.beta(2, 5)),
    "uniform": ((1.0, 4.0), stats.uniform(1, 3)),
    "normal": ((2.0, 3.0), stats.norm(2, 3)),
    "lognormal": ((1.0, 0.5), stats.lognorm(0.5, scale=math.e)),
    "ci90": ((1.0, 0.5), stats.lognorm(0.5, scale=math.e)),
    "gamma": ((2.0, 3.0), stats.gamma(2, scale=3)),
    "poisson": ((4.0,), stats.poisson(4)),
    "geometric": ((0.3,), stats.geom(0.3)),
}
QUANTILES = np.array([0.001, 0.05, 0.2, 0.37, 0.5, 0.63, 0.8, 0.95, 0.999])


def per_world(params, n):
    return tuple(np.full(n, p) for p in params)


def test_every_family_of_the_docs_is_registered():
    assert set(CASES) | {"constant"} <= set(families.keys())
    for key, family in REGISTRY.items():
        assert family.key == key
        assert isinstance(family, families.Composite) or len(family.params) >= 1


@pytest.mark.parametrize("key", sorted(CASES))
def test_draws_match_scipy_mean_and_variance(key):
    params, dist = CASES[key]
    x = np.asarray(families.get(key).sample(np.random.default_rng(3), N, params), dtype=float)
    se_mean = dist.std() / math.sqrt(N)
    assert abs(x.mean() - dist.mean()) < Z * se_mean
    # the variance's standard error from the fourth central moment
    m4 = dist.expect(lambda v: (v - dist.mean()) ** 4)
    se_var = math.sqrt((m4 - dist.var() ** 2) / N)
    assert abs(x.var() - dist.var()) < Z * se_var


@pytest.mark.parametrize("key", sorted(CASES))
def test_per_world_parameters_draw_per_world(key):
    params, dist = CASES[key]
    x = np.asarray(families.get(key).sample(np.random.default_rng(3), N, per_world(params, N)), dtype=float)
    assert abs(x.mean() - dist.mean()) < Z * dist.std() / math.sqrt(N)


@pytest.mark.parametrize("key", sorted(CASES))
def test_cdf_matches_scipy(key):
    params, dist = CASES[key]
    family = families.get(key)
    t = np.concatenate([dist.ppf(QUANTILES), [-1.0, 0.0, 1.0, 2.5, 7.0]])
    cdf = family.cdf(per_world(params, len(t)), t)
    assert np.allclose(cdf, dist.cdf(t), rtol=1e-9, atol=1e-12)
    # P(X < t): below the CDF by the probability mass at t (zero for continuous families)
    mass = dist.pmf(t) if family.discrete else 0.0
    assert np.allclose(family.cdf(per_world(params, len(t)), t, left=True), dist.cdf(t) - mass, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("key", sorted(CASES))
def test_ppf_is_the_left_continuous_inverse_of_the_cdf(key):
    params, dist = CASES[key]
    family = families.get(key)
    q = np.linspace(0.01, 0.99, 37)
    x = family.ppf(per_world(params, len(q)), q)
    assert np.allclose(x, dist.ppf(q), rtol=1e-9)
    if family.discrete:  # the smallest value whose CDF reaches q
        assert np.all(family.cdf(per_world(params, len(q)), x) >= q - 1e-12)
        assert np.all(family.cdf(per_world(params, len(q)), x, left=True) < q)
    else:
        assert np.allclose(family.cdf(per_world(params, len(q)), x), q, rtol=1e-9)


def test_constant_is_the_value_itself():
    family = families.get("constant")
    t = np.array([1.0, 2.5, 3.0])
    assert np.array_equal(family.sample(np.random.default_rng(0), 3, (2.5,)), [2.5, 2.5, 2.5])
    assert np.array_equal(family.cdf((2.5,), t), [0.0, 1.0, 1.0])
    assert np.array_equal(family.cdf((2.5,), t, left=True), [0.0, 0.0, 1.0])
    assert np.array_equal(family.ppf((2.5,), np.array([0.1, 0.9])), [2.5, 2.5])


@pytest.mark.parametrize("key", sorted(k for k in CASES if families.get(k).truncatable))
def test_truncated_draws_match_the_truncated_distribution(key):
    params, dist = CASES[key]
    lo, hi = dist.ppf([0.2, 0.7])
    mass = dist.cdf(hi) - dist.cdf(lo)
    mean = integrate.quad(lambda v: v * dist.pdf(v), lo, hi)[0] / mass
    var = integrate.quad(lambda v: (v - mean) ** 2 * dist.pdf(v), lo, hi)[0] / mass
    x = Options(truncate=(lo, hi)).sample(families.get(key), np.random.default_rng(5), N, params)
    assert lo <= x.min() and x.max() <= hi
    assert abs(x.mean() - mean) < Z * math.sqrt(var / N)


def test_options_cdf_and_ppf_agree_with_draws():
    # 1 + floor(Gamma(2, 6)) capped at 60, as the reference model's summit day
    family, params = families.get("gamma"), (2.0, 6.0)
    options = Options(round="floor", shift=1.0, clip=(-math.inf, 60.0))
    x = options.sample(family, np.random.default_rng(2), N, params)
    t = np.array([0.0, 1.0, 5.0, 12.0, 30.0, 59.0, 60.0])
    exact = options.cdf(family, per_world(params, len(t)), t)
    for ti, e in zip(t, exact):
        assert abs(np.mean(x <= ti) - e) < Z * math.sqrt(max(e * (1 - e), 1e-9) / N) + 1e-12
    q = np.array([0.1, 0.5, 0.9, 0.999])
    assert np.array_equal(options.ppf(family, per_world(params, len(q)), q), np.quantile(x, q, method="inverted_cdf"))


# --------------------------------------------------------------------------- specs


def load(write, spec, extra=""):
    return load_model(write("m.yaml", HEADER + "nodes:\n  x: " + spec + "\n" + extra))


SPEC_ERRORS = [
    ("{bernoulli: {pp: 0.5}}", r"nodes\.x\.bernoulli\.pp: unknown key 'pp'; expected one of \['p'\] \(did you mean 'p'\?\)"),
    ("{bernoulli: 1.5}", r"nodes\.x\.bernoulli: expected a probability in \[0, 1\], got 1\.5"),
    ("{geometric: {p: 0}}", r"nodes\.x\.geometric\.p: expected a probability in \(0, 1\], got 0"),
    ("{poisson: {}}", r"nodes\.x\.poisson: missing key 'rate'"),
    ("{beta: {a: 0, b: 1}}", r"nodes\.x\.beta\.a: expected a number > 0, got 0"),
    ("{beta: {mean: 1.2, concentration: 3}}", r"nodes\.x\.beta\.mean: expected a mean in \(0, 1\), got 1\.2"),
    ("{beta: {mean: 0.5, a: 3}}", r"nodes\.x\.beta: expected \{a, b\} or \{mean, concentration\}, got keys"),
    ("{uniform: {low: 3, high: 1}}", r"nodes\.x\.uniform: expected low < high, got low=3, high=1"),
    ("{uniform: 3}", r"nodes\.x\.uniform: expected \{low, high\} or \[low, high\], got int \(3\)"),
    ("{normal: {mean: 0, sd: -1}}", r"nodes\.x\.normal\.sd: expected a standard deviation >= 0, got -1"),
    ("{normal: {mean: 0, sdd: 1}}", r"did you mean 'sd'"),
    ("{lognormal: {mu: 0, sigma: -1}}", r"nodes\.x\.lognormal\.sigma: expected sigma >= 0, got -1"),
    ("{gamma: {shape: 2, rate: 0}}", r"nodes\.x\.gamma\.rate: expected a rate > 0, got 0"),
    ("{gamma: {ci90: [1, 1.0000001]}}", r"nodes\.x\.gamma\.ci90: interval too narrow"),
    ("{ci90: [0, 5]}", r"nodes\.x\.ci90: expected \[low, high\] with 0 < low < high for a lognormal, got \[0, 5\]"),
    ("{constant: 3, round: floor}", r"nodes\.x\.round: option not supported with constant"),
    ("{geometric: 0.5, truncate: [1, 3]}", r"truncate works with .*beta.*, not geometric"),
    ("{normal: {mean: 0, sd: 1}, round: down}", r"nodes\.x\.round: expected floor, ceil or nearest, got a string \('down'\)"),
    ("{normal: {mean: 0, sd: 1}, clip: [2, 1]}", r"nodes\.x\.clip: expected bounds as \[low, high\] with low < high"),
]


@pytest.mark.parametrize("spec, pattern", SPEC_ERRORS)
def test_spec_errors_name_the_key_path_the_value_and_what_was_expected(write, spec, pattern):
    with pytest.raises(ParamsError, match=pattern):
        load(write, spec)


def test_a_per_world_parameter_is_checked_against_the_family_domain(write):
    model, _ = load(write, "{gamma: {shape: s, scale: 1}}", "  s: {normal: {mean: 0.2, sd: 1}}\n")
    with pytest.raises(ParamsError, match=r"nodes\.x: parameter shape must lie in \(0\.0, inf\] in every world"):
        simulate(model, 1000, seed=1)


# --------------------------------------------------------------------------- a new family


class ToyExponential(Family):
    """Exponential with a rate: the example of docs/families.md."""

    key = "toy_exponential"
    params = ("rate",)
    domains = {"rate": Domain("a rate", 0.0, lo_open=True)}
    shorthand = True
    truncatable = True

    def sample(self, rng, n, params):
        return rng.exponential(1.0 / np.asarray(params[0]), n)

    def cdf(self, params, t, left=False):
        return np.where(t > 0, -np.expm1(-params[0] * np.maximum(t, 0.0)), 0.0)

    def ppf(self, params, q):
        return -np.log1p(-q) / params[0]


@pytest.fixture
def toy():
    register(ToyExponential)
    yield families.get("toy_exponential")
    del REGISTRY["toy_exponential"]


def test_a_family_added_through_the_registry_is_drawn_checked_and_conditioned_on(write, toy):
    model, questions = load(
        write,
        "{toy_exponential: 0.5}",
        "  y: {toy_exponential: {rate: r}, truncate: [1, null]}\n  r: {uniform: [1.9, 2.1]}\n"
        "  e: {event: {delay: {toy_exponential: 0.05}}}\n"
        "questions:\n  - {id: by_40, resolve: {event: e, by: 2023-10-15}}\n",
    )
    assert isinstance(model.nodes["x"].spec.family, ToyExponential)
    assert not is_discrete(model.nodes["x"].spec)
    w = simulate(model, N, seed=4)
    assert abs(w["x"].mean() - 2.0) < Z * 2.0 / math.sqrt(N)
    # memoryless: an exponential truncated to [1, inf) is 1 + the exponential (rate about 2)
    assert w["y"].min() >= 1 and abs(w["y"].mean() - 1.5) < 0.01
    # the conditioning reads the new family's CDF: P(e within 40 days | not within 10) by Bayes
    ctx = Context({}, model.kinds, 1, model)
    frozen = freeze(model.nodes["e"].spec, ctx, np.random.default_rng(0), 1)
    assert math.isclose(float(frozen.cdf(40.0)[0]), 1 - math.exp(-0.05 * 40), rel_tol=1e-12)
    ev = parse_evidence(model, [{"public_on": "2023-09-15", "source": "https://example.org/x", "observe": {"e": {"never_by": "2023-09-15"}}}])
    f = forecast_as_of(model, questions, ev, dt.date(2023, 9, 15), samples=40_000, seed=2)
    exact = 1 - math.exp(-0.05 * 30)  # memoryless: 30 more days
    assert abs(f.by_id()["by_40"].probability - exact) < Z * math.sqrt(exact * (1 - exact) / 40_000)


def test_a_new_family_s_spec_errors_come_from_its_declaration(write, toy):
    with pytest.raises(ParamsError, match=r"nodes\.x\.toy_exponential\.rat: unknown key 'rat'.*did you mean 'rate'"):
        load(write, "{toy_exponential: {rat: 2}}")
    with pytest.raises(ParamsError, match=r"nodes\.x\.toy_exponential: expected a rate > 0, got -1"):
        load(write, "{toy_exponential: -1}")
    with pytest.raises(ParamsError, match=r"nodes\.x\.toy_exponentia: unknown key.*did you mean 'toy_exponential'"):
        load(write, "{toy_exponentia: 2}")


def test_a_family_key_is_registered_once(toy):
    with pytest.raises(ValueError, match="taken"):
        register(ToyExponential)


# --------------------------------------------------------------------------- composite families


def test_categorical_dirichlet_and_mixture_are_registered_composites():
    for key in ("categorical", "dirichlet", "mixture"):
        assert isinstance(families.get(key), families.Composite)


def test_categorical_draws_and_category_probabilities(write):
    model, _ = load(write, "{categorical: {a: pa, b: 0.3, c: 0.2}}", "  pa: {uniform: [0.4, 0.6]}\n")
    w = simulate(model, N, seed=6)
    x, pa = w["x"], w["pa"]
    # per-world probabilities are renormalised: P(a) = pa / (pa + 0.5), E over pa ~ U(0.4, 0.6)
    exact = integrate.quad(lambda p: p / (p + 0.5), 0.4, 0.6)[0] / 0.2
    assert abs(np.mean(x == 0) - exact) < Z * math.sqrt(exact * (1 - exact) / N)
    ctx = Context(dict(w.arrays), model.kinds, N, model)
    prob_a = model.nodes["x"].spec.category_prob(ctx, np.random.default_rng(0), N, 0)
    assert np.allclose(prob_a, pa / (pa + 0.5))


def test_dirichlet_weights_feed_a_categorical(write):
    model, _ = load(write, "{categorical: {weights: w}}", "  w: {dirichlet: {alpha: {a: 2, b: 3, c: 5}}}\n")
    assert model.kinds["w"].type == "vector" and model.kinds["x"].categories == ("a", "b", "c")
    w = simulate(model, N, seed=8)
    mean = np.asarray(w["w"]).mean(axis=0)
    var = stats.dirichlet([2, 3, 5]).var()
    assert np.all(np.abs(mean - [0.2, 0.3, 0.5]) < Z * np.sqrt(var / N))
    for code, p in enumerate([0.2, 0.3, 0.5]):
        assert abs(np.mean(w["x"] == code) - p) < Z * math.sqrt(p * (1 - p) / N)


def test_mixture_matches_its_components_and_its_cdf(write):
    model, _ = load(write, "{mixture: [{weight: 0.3, dist: {normal: {mean: 0, sd: 1}}}, {weight: 0.7, dist: {gamma: {shape: 2, scale: 3}}}]}")
    w = simulate(model, N, seed=9)
    mean = 0.3 * 0 + 0.7 * 6
    second = 0.3 * 1 + 0.7 * (18 + 36)
    assert abs(w["x"].mean() - mean) < Z * math.sqrt((second - mean**2) / N)
    frozen = freeze(model.nodes["x"].spec, Context({}, model.kinds, 1, model), np.random.default_rng(0), 1)
    for t in (-1.0, 0.5, 4.0, 12.0):
        exact = 0.3 * stats.norm.cdf(t) + 0.7 * stats.gamma(2, scale=3).cdf(t)
        assert math.isclose(float(frozen.cdf(t)[0]), exact, rel_tol=1e-9)


COMPOSITE_ERRORS = [
    ("{categorical: {a: 0.5, b: 0.6}}", r"nodes\.x\.categorical: category probabilities must sum to 1, got 1\.1"),
    ("{categorical: {a: 1.5, b: -0.5}}", r"nodes\.x\.categorical\.a: expected a probability in \[0, 1\], got 1\.5"),
    ("{categorical: {}}", r"nodes\.x\.categorical: expected a mapping of category: probability, got an empty mapping"),
    ("{categorical: {weights: ww}}\n  w: {dirichlet: {alpha: {a: 1, b: 1}}}", r"nodes\.x\.categorical\.weights: unknown node 'ww' \(did you mean 'w'\?\)"),
    ("{categorical: {weights: y}}\n  y: 1", r"nodes\.x\.categorical\.weights: expected a dirichlet node, 'y' is a number node"),
    ("{dirichlet: {alpha: {a: 1}}}", r"nodes\.x\.dirichlet\.alpha: expected a mapping of at least two"),
    ("{dirichlet: {alpha: {a: 1, b: 0}}}", r"nodes\.x\.dirichlet\.alpha\.b: expected a concentration > 0, got 0"),
    ("{dirichlet: {alfa: {a: 1, b: 2}}}", r"nodes\.x\.dirichlet\.alfa: unknown key 'alfa'.*did you mean 'alpha'"),
    ("{mixture: [{weight: 0.5, dist: 1}, {weight: 0.4, dist: 2}]}", r"nodes\.x\.mixture: mixture weights must sum to 1, got 0\.9"),
    ("{mixture: [{weight: 1, dits: 1}]}", r"nodes\.x\.mixture\.0\.dits: unknown key 'dits'.*did you mean 'dist'"),
    ("{mixture: {weight: 1}}", r"nodes\.x\.mixture: expected a list of \{weight, dist\}, got a mapping"),
    ("{categorical: {a: 1}, round: floor}", r"nodes\.x\.round: option not supported with categorical"),
]


@pytest.mark.parametrize("spec, pattern", COMPOSITE_ERRORS)
def test_composite_spec_errors(write, spec, pattern):
    with pytest.raises(ParamsError, match=pattern):
        load(write, spec)
