"""Evidence: the file of dated facts and reports, its schema, parsing and validation.

An evidence file is a list of items.  Each item says when it became public (``public_on``),
where it comes from (``source``) and what it says about model variables:

``observe: {node: value}``
    A hard fact.  The node is *clamped* to the value (everything downstream is drawn again given
    it) and each world is *weighted* by the probability of the value given the node's parents as
    drawn in that world.  Event nodes take a date, categorical nodes a category, boolean nodes
    true/false, discrete number nodes a number.
``observe: {event: {never_by: DATE}}`` / ``{by: DATE}``
    A constraint: the event had not happened by DATE / had happened by DATE.  The event is drawn
    from its distribution *given* the constraint (inverse CDF on the allowed days) and the world
    is weighted by the probability of the constraint given the event's parents.  ``{at_least: x}``,
    ``{at_most: x}``, ``{between: [lo, hi]}`` on a number node weight by an indicator.
``report: {quantity, on, said, likelihood}``
    A noisy statement about a number: a flow's running total on a date, a flow's month, a stock's
    level on a date, or a number node.  The world's weight is multiplied by the likelihood of what was said given the world's
    true value under the stated noise model (closed forms, :class:`Noise`).  The reported node is
    drawn ``REPORT_CANDIDATES`` times and one draw is kept with probability proportional to its
    likelihood; the world's weight is the mean likelihood of the candidates (a proper importance
    weight on the extended space of candidates; with one candidate it is plain weighting).
``watch: [event, ...]`` or ``{event: lag_days}``
    Events that would be public within ``lag_days`` of happening.  As of any date D on or after the
    item's ``public_on``, a watched event that no item public by D observes is constrained as
    ``never_by: D - lag``.  A statement node can be watched too: until an item reports what its
    source said, the source had not spoken by D - lag (a check on its publication day); and a
    repeated event: it had no occurrence by D - lag beyond those the items public by D observe.
``observe: {repeated: {occurrence: k, on: DATE}}`` / ``{count: c, by: DATE}`` (or ``at_least``,
``at_most``; or a list of these)
    What is known of a repeated event's occurrences: bounds lo <= N(day) <= hi on its count.  The
    occurrences are drawn given them, exactly, and the world is weighted by their probability
    given its rates and start (:mod:`scenarios.engine.occurrences`).
``suggests: {node, window: [FROM, TO] | value: true/false, if_true, if_false}``
    Soft evidence: a source's claim that an event happens on a day from FROM to TO, or that a
    boolean has a value, with the source's reliability.  Nothing is clamped or drawn differently;
    each world's weight is multiplied by the probability that the source says this given the world:
    ``if_true`` where the claim holds in it, ``if_false`` where it does not (:class:`Suggestion`).
``scheduled: {event, on: DATE | [FIRST, LAST], slip: {chance, days: [a, b]}, if_off}``
    An announcement, made on the item's ``public_on``, that an event will take place on the days S
    (FIRST to LAST), with the chance s that an announced event slips to a day a to b days after
    LAST (uniformly).  Its likelihood given the event's day x is a mixture over the day
    (:class:`Schedule`)::

        L(x) = (1 - s) U_S(x) + s U_slip(x)          x in W (FIRST to LAST + b)
        L(x) = if_off / |W|                          x after W, or never

    with U_S and U_slip uniform over the days of S and of the slip window; L = 0 before FIRST (an
    announced event has not happened yet) and in the days between LAST and the slip window.
    ``if_off`` (default 0: an announced event takes place) is how likely such an announcement
    is if the event will not take place within W, relative to if it will on a day of W taken
    evenly (1/|W| is L's mean over W).  The event is drawn within the days where L > 0 (W; from
    FIRST on with ``if_off``), weighted by their probability given its parents, and the world's
    weight is multiplied by L.

Observing an event also says that the event it comes ``after:`` had happened by then (a ``by:``
constraint on that event, and so on up the chain; on each event of ``after: {all: [...]}``), and, when its ``when:`` names a boolean node,
that the node is true (clamped).  These add no information, only better draws.

:meth:`Evidence.conditioning` turns the items public by a date into a :class:`Conditioning`: which
nodes are clamped, constrained or reported on.  The probabilities of observed values given each
world's parents are :mod:`scenarios.engine.conditional`; drawing and weighting worlds with them, and
forecasting as of a date, is :mod:`scenarios.engine.asof`, which imports this module (never the reverse).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import ScenarioError
from ..model.data_files import data_files
from ..model.kinds.statement import DAY as STATEMENT_DAY
from ..model.kinds.stock import level_at_day
from ..model.params import load_yaml_file
from ..model.questions import parse_quantity
from ..model.scenario import EventSpec, Model, RefSpec
from ..model.schema import (
    Location,
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
    short,
)
from ..model.worlds import cumulative_at_day
from .conditional import can_constrain, is_discrete, is_random, supports_category

__all__ = [
    "EvidenceError",
    "Observation",
    "Suggestion",
    "Schedule",
    "Noise",
    "Report",
    "Item",
    "Evidence",
    "Conditioning",
    "load_evidence",
    "parse_evidence",
]

ITEM_KEYS = ("id", "public_on", "source", "note", "observe", "report", "watch", "suggests", "scheduled")
KINDS_OF_ITEM = ("observe", "report", "watch", "suggests", "scheduled")
SUGGEST_KEYS = ("node", "window", "value", "if_true", "if_false", "said_by")
SCHEDULE_KEYS = ("event", "on", "slip", "if_off", "said_by")
REPORT_KEYS = ("quantity", "on", "said", "likelihood", "estimator")
SAID_KEYS = ("value", "low", "high", "at_least", "at_most")
CONSTRAINTS = {"event": ("never_by", "by"), "number": ("at_least", "at_most", "between")}
NOISE_FAMILIES = ("lognormal", "detected_share", "normal")
MAX_OBSERVED_COUNT = 200
"""The largest count evidence may give for a repeated event: drawing its occurrences given the
counts tracks every count up to the largest one given (memory and time grow with its square)."""
_URL = re.compile(r"^https?://\S+$")
_ITEM_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")


class EvidenceError(ScenarioError):
    """Evidence that the model gives probability zero in every simulated world."""


# =========================================================================== reports


@dataclass(frozen=True)
class Noise:
    """How a reported number relates to the true one, with a closed-form likelihood.

    ``lognormal`` (a, b = mu, sigma): said = true * exp(mu + sigma Z), a multiplicative error.
    ``detected_share`` (a, b = beta shape parameters): said = true * S with S ~ Beta(a, b), an
    undercount (what was detected).  ``normal`` (a, b = mean, sd): said = true + mean + sd Z.
    """

    family: str
    a: float
    b: float

    def __repr__(self) -> str:
        names = {"lognormal": ("mu", "sigma"), "detected_share": ("a", "b"), "normal": ("mean", "sd")}[self.family]
        return f"{self.family}({names[0]}={self.a:g}, {names[1]}={self.b:g})"

    def interval(self, true, low: float, high: float) -> np.ndarray:
        """P(low <= said <= high | true) per world (low may be -inf or 0, high inf).

        Examples
        --------
        >>> float(Noise("lognormal", 0.0, 0.5).interval(np.array([1000.0]), 1000.0, math.inf)[0])
        0.5
        """
        from scipy import special

        t = np.asarray(true, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.family == "normal":
                up = 1.0 if math.isinf(high) else special.ndtr((high - t - self.a) / self.b)
                lo = 0.0 if math.isinf(low) else special.ndtr((low - t - self.a) / self.b)
                return np.clip(up - lo, 0.0, 1.0)
            if self.family == "lognormal":
                # with true = 0, log true = -inf and said = 0: the terms give [low <= 0 <= high]
                centre = np.log(t) + self.a
                up = 1.0 if math.isinf(high) else special.ndtr((math.log(high) - centre) / self.b)
                lo = 0.0 if low <= 0 else special.ndtr((math.log(low) - centre) / self.b)
                return np.clip(up - lo, 0.0, 1.0)
            zero = t <= 0  # detected share: said = 0 exactly when nothing happened
            tt = np.where(zero, 1.0, t)
            up = special.betainc(self.a, self.b, np.clip(high / tt, 0.0, 1.0))
            lo = special.betainc(self.a, self.b, np.clip(max(low, 0.0) / tt, 0.0, 1.0))
            return np.where(zero, float(low <= 0 <= high), np.clip(up - lo, 0.0, 1.0))

    def density(self, true, value: float) -> np.ndarray:
        """Density of said = ``value`` given true, up to a factor that is the same in every world.

        lognormal: the density of log(said), phi(z) with z = (log value - log true - mu) / sigma;
        detected_share: r f_S(r) with r = value / true; normal: phi((value - true - mean) / sd).
        """
        t = np.asarray(true, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.family == "normal":
                z = (value - t - self.a) / self.b
                return np.exp(-0.5 * z * z)
            if self.family == "lognormal":
                z = (math.log(value) - self.a - np.log(t)) / self.b  # true = 0: z = inf, density 0
                return np.exp(-0.5 * z * z)
            from scipy import special

            tt = np.where(t > 0, t, 1.0)
            r = value / tt
            inside = (t > 0) & (r < 1)
            rr = np.where(inside, r, 0.5)
            log_pdf = (self.a - 1) * np.log(rr) + (self.b - 1) * np.log1p(-rr) - special.betaln(self.a, self.b)
            return np.where(inside, r * np.exp(log_pdf), 0.0)


@dataclass(frozen=True)
class Report:
    """A reported number about a quantity (a flow on a date, or a number node) and its noise.

    ``value`` is the headline figure (what a forecast is scored against); ``low`` / ``high`` the
    range stated ("more than 1,000" is low=1000).  The likelihood is P(low <= said <= high |
    true) when a bound is given, else the density of said = value.
    """

    quantity: str
    node: str
    series: str  # "" (the node, or a flow's month count), "cumulative" (a flow) or "level" (a stock)
    on: _dt.date | None
    day: int | None
    value: float | None
    low: float | None
    high: float | None
    noise: Noise
    estimator: str = ""
    statement: str = ""  # the statement node whose figure this is ("" for other reports)
    said_day: float | None = None  # model day the statement was published

    def months(self, model: Model) -> int | None:
        if self.day is None or self.series == "level":
            return None
        return min(model.horizon_months, max(1, int(math.ceil(self.day / model.month_days))))

    def true_from(self, model: Model, x) -> np.ndarray:
        """The reported quantity from the node's array ``x`` (shape (n,) or (n, months))."""
        if self.day is None:
            return np.asarray(x, dtype=float)
        if self.series == "cumulative":  # from the flow's starting level (its initial:) at as_of
            return cumulative_at_day(np.asarray(x), self.day, model.month_days, initial=model.flow_initial(self.node))
        if self.series == "level":
            return level_at_day(np.asarray(x, dtype=float), self.day, model.month_days)
        return np.asarray(x[:, self.months(model) - 1], dtype=float)

    def true_values(self, model: Model, arrays: dict) -> np.ndarray:
        """The reported quantity in each world, shape (n,)."""
        return self.true_from(model, arrays[self.node])

    def true_from_month_major(self, model: Model, means: np.ndarray, totals: dict) -> np.ndarray:
        """The reported quantity from a flow's months, month-major (months, n); ``totals`` maps a
        number of whole months to their running total (see :func:`scenarios.engine.asof._month_totals`)."""
        md = model.month_days
        if self.series != "cumulative":
            return means[self.months(model) - 1]
        full = min(self.day // md, means.shape[0])
        frac = (self.day - full * md) / md
        total = totals[full] + frac * means[full] if full < means.shape[0] and frac > 0 else totals[full]
        initial = model.flow_initial(self.node)  # the running total's level at as_of
        return total + initial if initial else total

    @property
    def figure(self) -> float:
        """The figure the source published: the headline ``value`` when given, else the bound it
        named (``low``: "over 12 million"; else ``high``: "up to 4.8 million").  A statement node
        observed by this report is clamped to it."""
        for v in (self.value, self.low, self.high):
            if v is not None:
                return v
        raise ValueError("a report states a value or a bound")  # the parser refuses one without

    def likelihood_from(self, model: Model, x) -> np.ndarray:
        return self.likelihood_of(self.true_from(model, x))

    def likelihood_of(self, t) -> np.ndarray:
        """Likelihood of what was said given the true values ``t`` (n,)."""
        if self.low is None and self.high is None:
            return self.noise.density(t, self.value)
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        return self.noise.interval(t, low, high)


# =========================================================================== items


@dataclass(frozen=True)
class Observation:
    """One thing an item says about one node.

    ``equals`` clamps the node to ``value`` (day number, category code, bool or number);
    ``never_by`` (X > value) and ``by`` (X <= value) constrain an event; ``at_least``,
    ``at_most`` and ``between`` a number; ``counts`` bounds a repeated event's count of
    occurrences, ``value`` a tuple of (day, lo, hi): lo <= N(day) <= hi.
    """

    node: str
    kind: str
    value: object
    text: str
    implied_by: str | None = None

    def holds(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.ndim == 2:  # a statement (day, value)
            x = x[:, STATEMENT_DAY]  # its publication day
        if self.kind == "never_by":
            return x > self.value
        if self.kind in ("by", "at_most"):
            return x <= self.value
        if self.kind == "at_least":
            return x >= self.value
        if self.kind == "equals":
            return x == float(self.value)
        lo, hi = self.value
        return (x >= lo) & (x <= hi)


@dataclass(frozen=True)
class Suggestion:
    """A source's claim about an event's date window or a boolean's value: soft evidence.

    The claim is ``lo < X <= hi`` (model days: the days FROM to TO of its window) for an event,
    ``X == value`` for a boolean.  The world's weight is multiplied by :meth:`likelihood`, the
    probability that the source says this given the world: ``if_true`` where the claim holds,
    ``if_false`` where it does not.  Only their ratio changes a forecast; it is a pure function
    of the node's value, so it is exact under likelihood weighting and resample-move alike.

    Examples
    --------
    >>> s = Suggestion("visit", (10.0, 40.0), 0.8, 0.2, "visit in [day 11, day 40]")
    >>> s.likelihood(np.array([5.0, 11.0, 40.0, np.inf])).tolist()
    [0.2, 0.8, 0.8, 0.2]
    """

    node: str
    claim: object  # (lo, hi) model days for an event; True or False for a boolean
    if_true: float
    if_false: float
    text: str
    item: str = ""
    said_by: str = ""

    def holds(self, x) -> np.ndarray:
        """Whether the claim holds in each world, from the node's values ``x``, shape (n,)."""
        if isinstance(self.claim, tuple):
            lo, hi = self.claim
            x = np.asarray(x, dtype=float)
            return (x > lo) & (x <= hi)  # never (inf) is outside every window
        return np.asarray(x).astype(bool) == self.claim

    def likelihood(self, x) -> np.ndarray:
        """P(the source says this | the world), shape (n,): ``if_true`` or ``if_false``."""
        return np.where(self.holds(x), self.if_true, self.if_false)

    @property
    def label(self) -> str:
        """How :func:`scenarios.engine.asof.factor_ess` names its factor."""
        return f"suggestion {self.item} on {self.node}" if self.item else f"suggestion on {self.node}"


@dataclass(frozen=True)
class Schedule:
    """An announcement that an event will take place on given days, and its likelihood.

    Made on its item's ``public_on`` for the days S (model days ``lo < X <= hi``: the days FIRST
    to LAST), with a chance ``slip`` that an announced event slips to a day from ``hi + a`` to
    ``hi + b`` (``slip_days`` = (a, b), uniformly).  W is the days ``lo < X <= hi + b``.
    :meth:`likelihood` is, per day x,

        L(x) = (1 - slip) U_S(x) + slip U_slip(x)    x in W
        L(x) = if_off / |W|                          x after W, or never (inf)

    with U_S and U_slip uniform over the days of S and of the slip window (1 / their number of
    days inside them), so that L sums to 1 over the days of W and its mean there is 1/|W|.  L = 0
    before S (an announced event has not happened yet) and in the days between S and the slip
    window (a > 1).  ``if_off`` is how likely such an announcement is if the event will not take
    place within W, relative to if it will on a day of W taken evenly: 0 says an announced event
    takes place; 1 that, to a model flat over W, the announcement tells when, not whether.  With
    a prior flat over W the posterior puts 1 - slip of W on S; with the model's prior it is
    Bayes' rule.  A pure function of the event's day, so exact under likelihood weighting and
    resample-move alike; the engine also draws the event inside :attr:`support` (where L > 0).

    Examples
    --------
    Announced for days 42 and 43, a slip chance of 0.2 to 1 to 4 days later:

    >>> s = Schedule("visit", (41.0, 43.0), 0.2, (1, 4), 0.0, "visit announced for 2023-10-17 to 2023-10-18")
    >>> s.likelihood(np.array([41.0, 42.0, 43.0, 44.0, 47.0, 48.0, np.inf])).tolist()
    [0.0, 0.4, 0.4, 0.05, 0.05, 0.0, 0.0]
    """

    node: str
    days: tuple  # (lo, hi): the announced days, lo < X <= hi
    slip: float
    slip_days: tuple  # (a, b) whole days after hi; () when slip is 0
    if_off: float
    text: str
    item: str = ""
    said_by: str = ""

    @property
    def window(self) -> tuple:
        """``(lo, end)``: the model days ``lo < X <= end`` of S and its slip window (W)."""
        lo, hi = self.days
        return lo, hi + (self.slip_days[1] if self.slip > 0 else 0.0)

    @property
    def support(self) -> tuple:
        """``(lo, end)``: where the likelihood is not 0 (up to never with ``if_off``), gaps aside."""
        lo, end = self.window
        return (lo, math.inf) if self.if_off > 0 else (lo, end)

    def likelihood(self, x) -> np.ndarray:
        """L(x), the announcement's likelihood given the event's day in each world, shape (n,)."""
        x = np.asarray(x, dtype=float)
        lo, hi = self.days
        out = np.where((x > lo) & (x <= hi), (1.0 - self.slip) / (hi - lo), 0.0)
        if self.slip > 0:
            a, b = self.slip_days
            out = np.where((x > hi + a - 1) & (x <= hi + b), self.slip / (b - a + 1), out)
        if self.if_off > 0:
            _, end = self.window
            out = np.where(x > end, self.if_off / (end - lo), out)  # never (inf) too
        return out

    @property
    def label(self) -> str:
        """How :func:`scenarios.engine.asof.factor_ess` names its factor."""
        return f"schedule {self.item} on {self.node}" if self.item else f"schedule on {self.node}"


@dataclass(frozen=True)
class Item:
    """One dated piece of evidence."""

    id: str
    public_on: _dt.date
    source: str
    note: str
    observations: tuple = ()
    report: Report | None = None
    watch: tuple = ()  # (node, lag_days)
    where: str = ""  # key path, for messages
    suggestions: tuple = ()  # of Suggestion
    schedules: tuple = ()  # of Schedule


@dataclass(frozen=True)
class Conditioning:
    """What is known as of a date, as instructions for drawing and weighting worlds.

    Attributes
    ----------
    fixed : dict
        Clamped nodes: name -> value (weighted by P(value | parents)).
    within : dict
        Constrained events: name -> (lo, hi); drawn given lo < X <= hi, weighted by its probability.
    checks : tuple of Observation
        Constraints weighted by an indicator (numbers; events that cannot be drawn given one).
    reports : tuple of Report
    items : tuple of str
        Ids of the items public by ``as_of``.
    suggestions : tuple of Suggestion
        Claims weighted by ``if_true`` / ``if_false`` (soft evidence); they change no draw.
    schedules : tuple of Schedule
        Announcements weighted by their likelihood (the event is also drawn within their
        :attr:`Schedule.support`, a bound in ``within``).
    counts : dict
        Repeated events known by their counts: name -> ((day, lo, hi), ...), days increasing;
        drawn given lo <= N(day) <= hi, weighted by its probability
        (:mod:`scenarios.engine.occurrences`).
    """

    as_of: _dt.date
    fixed: dict
    within: dict
    checks: tuple
    reports: tuple
    items: tuple
    suggestions: tuple = ()
    schedules: tuple = ()
    counts: dict = field(default_factory=dict)

    @property
    def factors_of_values(self) -> tuple:
        """Claims and schedules: factors that are a function of one node's value (``node``,
        ``likelihood(x)``, ``label``)."""
        return (*self.suggestions, *self.schedules)

    def modes(self, model: Model) -> dict:
        """How each conditioned node is drawn: ("fixed", v), ("within", lo, hi), ("counts", bounds)
        or ("reports", ...)."""
        out: dict = {name: ("fixed", value) for name, value in self.fixed.items()}
        for name, (lo, hi) in self.within.items():
            out[name] = ("within", lo, hi)
        for name, bounds in self.counts.items():
            out[name] = ("counts", bounds)
        by_node: dict = {}
        for rep in self.reports:  # in order of publication, so a later date only appends
            if rep.node not in self.fixed and is_random(model.nodes[rep.node].spec):
                by_node.setdefault(rep.node, []).append(rep)
        for name, reps in by_node.items():
            out[name] = ("reports", tuple(reps))
        for rep in self.reports:  # what a source said is known: its statement node says it, on that day
            if rep.statement:
                out[rep.statement] = ("said", rep.said_day, rep.figure)
        return out

    def plain_reports(self, model: Model) -> list:
        """Reports weighted directly (on a clamped or deterministic node, e.g. an expression flow)."""
        return [r for r in self.reports if r.node in self.fixed or not is_random(model.nodes[r.node].spec)]

    def reads(self, model: Model) -> dict:
        """Nodes to draw for the weights: name -> last month read for flows (None otherwise)."""
        out: dict = {name: None for name in (*self.fixed, *self.within, *self.counts)}
        for ob in self.checks:
            out.setdefault(ob.node, None)
        for rep in self.reports:
            m = rep.months(model)
            prev = out.get(rep.node)
            out[rep.node] = m if prev is None else (prev if m is None else max(prev, m))
        return out


@dataclass(frozen=True)
class Evidence:
    """Validated evidence items, in file order."""

    items: tuple = ()
    file: str | None = None

    def __len__(self) -> int:
        return len(self.items)

    def dates(self) -> list:
        """Distinct ``public_on`` dates, sorted."""
        return sorted({it.public_on for it in self.items})

    def public_by(self, as_of: _dt.date) -> list:
        return [it for it in self.items if it.public_on <= as_of]

    def reports(self) -> list:
        return [it for it in self.items if it.report is not None]

    def conditioning(self, model: Model, as_of: _dt.date) -> Conditioning:
        """What is known as of ``as_of``: only items with ``public_on <= as_of`` are read."""
        items = sorted(self.public_by(as_of), key=lambda it: it.public_on)  # stable: file order on ties
        fixed: dict = {}
        bounds: dict = {}  # event -> [lo, hi]
        checks: list = []
        reports: list = []

        def bound(name, lo=-math.inf, hi=math.inf):
            b = bounds.setdefault(name, [-math.inf, math.inf])
            b[0], b[1] = max(b[0], lo), min(b[1], hi)

        for it in items:
            for ob in it.observations:
                if ob.kind == "equals":
                    fixed.setdefault(ob.node, ob.value)
            if it.report is not None:
                reports.append(it.report)
        counts: dict = {}  # repeated event -> [(day, lo, hi), ...]
        for it in items:
            for ob in it.observations:
                if ob.kind == "equals":
                    continue
                if ob.kind == "counts":
                    counts.setdefault(ob.node, []).extend(ob.value)
                elif ob.node in fixed or ob.kind not in ("never_by", "by"):
                    checks.append(ob)
                elif ob.kind == "never_by":
                    bound(ob.node, lo=ob.value)
                else:
                    bound(ob.node, hi=ob.value)
        day = model.day_of(as_of)
        said = {rep.statement for rep in reports if rep.statement}
        for it in items:
            for node, lag in it.watch:
                if node in said:
                    continue
                if model.kinds[node].type == "repeated":  # no occurrence by then beyond those known
                    known = [b for b in counts.get(node, ()) if b[0] <= day - lag]
                    counts.setdefault(node, []).append((float(day - lag), 0.0, max((lo for _, lo, _ in known), default=0.0)))
                elif model.kinds[node].type == "statement":  # not spoken yet
                    checks.append(Observation(node, "never_by", float(day - lag), f"{node} not by day {day - lag:g}"))
                elif node not in fixed:
                    bound(node, lo=float(day - lag))
        for name, known in counts.items():  # an occurrence means the repeated event had started
            start = model.nodes[name].spec.start
            seen = [day for day, lo, _ in known if lo >= 1]
            if start is not None and seen and start not in fixed:
                bound(start, hi=min(seen))
        for it in items:  # an announced event is drawn where its announcement's likelihood is not 0
            for sc in it.schedules:
                if sc.node not in fixed:  # an observed day is weighed by the likelihood alone
                    bound(sc.node, *sc.support)
        # an event observed (or known to have happened by a day) means what it comes after had too
        for name, hi in [(n, v) for n, v in fixed.items() if model.kinds[n].type == "event"] + [
            (n, b[1]) for n, b in bounds.items() if math.isfinite(b[1])
        ]:
            stack = [name]
            while stack:
                spec = model.nodes[stack.pop()].spec
                for up in spec.preceding() if isinstance(spec, EventSpec) else ():
                    if up not in fixed:
                        bound(up, hi=float(hi))
                        stack.append(up)
        within = {}
        for name, (lo, hi) in bounds.items():
            if can_constrain(model.nodes[name].spec):
                within[name] = (lo, hi)
            else:
                if lo > -math.inf:
                    checks.append(Observation(name, "never_by", lo, f"{name} not by day {lo:g}"))
                if hi < math.inf:
                    checks.append(Observation(name, "by", hi, f"{name} by day {hi:g}"))
        ordered = {name: fixed[name] for name in model.nodes if name in fixed}
        suggestions = tuple(s for it in items for s in it.suggestions)
        schedules = tuple(s for it in items for s in it.schedules)
        return Conditioning(as_of, ordered, within, tuple(checks), tuple(reports), tuple(it.id for it in items),
                            suggestions, schedules, {name: _merged(counts[name]) for name in model.nodes if name in counts})


def _merged(bounds: list) -> tuple:
    """Bounds (day, lo, hi) on a count, one per day (the tightest), days increasing."""
    by_day: dict = {}
    for day, lo, hi in bounds:
        old = by_day.get(day, (0.0, math.inf))
        by_day[day] = (max(old[0], lo), min(old[1], hi))
    return tuple((day, lo, hi) for day, (lo, hi) in sorted(by_day.items()))


# =========================================================================== loading and validation


def _observe_hint(name: str, kind: str) -> str:
    """How to say what is known about a node ``observe:`` cannot take: the form that works."""
    name = short(name, 40)
    if kind == "flow":
        return (f"report its running total instead: report: {{quantity: {name}.cumulative, on: DATE, "
                "said: {value: X}, likelihood: {lognormal: {sigma: 0.1}}}")
    if kind == "stock":
        return (f"report its level instead: report: {{quantity: {name}, on: DATE, "
                "said: {value: X}, likelihood: {lognormal: {sigma: 0.1}}}")
    if kind == "statement":
        return (f"report what its source said instead: report: {{quantity: {name}, said: {{value: X}}}} "
                "(the item's public_on is the day it was said)")
    if kind == "repeated":
        return f"observe: {{{name}: {{occurrence: K, on: DATE}}}} or {{{name}: {{count: N, by: DATE}}}}"
    return "observe a node drawn from it instead"


class _Parser:
    def __init__(self, model: Model, root: Location):
        self.model = model
        self.root = root
        self.file = root.source

    def at(self, path) -> Location:
        return self.root.key(*path)

    def err(self, path, msg) -> ScenarioError:
        return self.at(path).error(msg)

    def keys(self, raw, path, allowed):
        check_keys(raw, self.at(path), allowed)

    def date(self, raw, path) -> _dt.date:
        return check_date(raw, self.at(path))

    def number(self, raw, path, what="a number", **bounds) -> float:
        return float(check_number(raw, self.at(path), what=what, **bounds))

    def node(self, name, path):
        return self.model.kinds[check_name(name, self.at(path), self.model.nodes, what="variable")]

    def model_day(self, date: _dt.date, path, *, public_on: _dt.date, what: str) -> int:
        if date > public_on:
            raise self.err(path, f"{what} {date} is after the item became public ({public_on}); an item can only report the past")
        day = self.model.day_of(date)
        if day > self.model.horizon_days:
            last = self.model.as_of + _dt.timedelta(days=self.model.horizon_days)
            raise self.err(path, f"{what} {date} is beyond the model's horizon (last day {last})")
        return day

    # -- items ------------------------------------------------------------------
    def item(self, raw, i: int) -> Item:
        path = (str(i),)
        check_keys(raw, self.at(path), ITEM_KEYS, what="an evidence item (a mapping with public_on, source and observe/report/watch/suggests/scheduled)")
        for k in ("public_on", "source"):
            if k not in raw:
                raise self.err(path, f"missing key {k!r}" + (" (a URL: where this was reported)" if k == "source" else " (the date it became public)"))
        item_id = check_identifier(raw.get("id", f"item{i}"), self.at(path + ("id",)), what="an identifier (letters, digits, _ . : -)", pattern=_ITEM_ID)
        public_on = self.date(raw["public_on"], path + ("public_on",))
        if public_on < self.model.as_of:
            raise self.err(
                path + ("public_on",),
                f"{public_on} is before the model's as_of ({self.model.as_of}); the model's numbers already use what was public then",
            )
        source = self.source(raw["source"], path + ("source",))
        note = check_text(raw.get("note", ""), self.at(path + ("note",)))
        if not any(k in raw for k in KINDS_OF_ITEM):
            raise self.err(path, f"expected at least one of {', '.join(KINDS_OF_ITEM)}")
        observations = self.observe(raw["observe"], path + ("observe",), public_on, item_id) if "observe" in raw else ()
        report = self.report(raw["report"], path + ("report",), public_on, item_id) if "report" in raw else None
        watch = self.watch(raw["watch"], path + ("watch",)) if "watch" in raw else ()
        suggestions = self.suggests(raw["suggests"], path + ("suggests",), item_id) if "suggests" in raw else ()
        schedules = self.scheduled(raw["scheduled"], path + ("scheduled",), public_on, item_id) if "scheduled" in raw else ()
        return Item(item_id, public_on, source, note, observations, report, watch, self.at(path).dotted, suggestions,
                    schedules)

    def source(self, raw, path) -> str:
        urls = raw if isinstance(raw, list) else (raw.split(" ; ") if isinstance(raw, str) else None)
        if not urls:
            raise self.err(path, f"expected a URL (or a list of URLs) where this was reported, got {describe(raw)}")
        for u in urls:
            if not isinstance(u, str) or not _URL.match(u.strip()):
                raise self.err(path, f"expected a URL starting with http:// or https://, got {describe(u)}")
        return " ; ".join(u.strip() for u in urls)

    def observe(self, raw, path, public_on, item_id) -> tuple:
        check_mapping(raw, self.at(path), what="a mapping of variable: observed value", nonempty=True)
        out = []
        for name, value in raw.items():
            kind = self.node(name, path + (str(name),))
            out.append(self.observation(name, kind, value, path + (name,), public_on))
        names = {o.node for o in out}
        for ob in list(out):
            implied = self.implied(ob, item_id)
            if implied is not None and implied.node not in names:
                out.append(implied)
                names.add(implied.node)
        return tuple(out)

    def one_constraint(self, value: dict, path, kind: str, expected: str) -> tuple:
        """The single (constraint, argument) pair of a constraint mapping such as {never_by: DATE}."""
        self.keys(value, path, CONSTRAINTS[kind])
        if len(value) != 1:
            raise self.err(path, f"expected one of {expected}, got {sorted(value)}")
        ((how, arg),) = value.items()
        return how, arg

    def observation(self, name, kind, value, path, public_on) -> Observation:
        spec = self.model.nodes[name].spec
        if kind.type == "event":
            if isinstance(value, dict):
                how, d = self.one_constraint(value, path, "event", "never_by: DATE or by: DATE")
                date = self.date(d, path + (how,))
                day = self.model_day(date, path + (how,), public_on=public_on, what="date")
                return Observation(name, how, float(day), f"{name} {how.replace('_', ' ')} {date}")
            date = self.date(value, path)
            day = self.model_day(date, path, public_on=public_on, what="event date")
            if day < 1:
                raise self.err(path, f"event date {date} is not after the model's as_of ({self.model.as_of}); the model's events start on day 1")
            return Observation(name, "equals", float(day), f"{name} on {date}")
        if kind.type == "category":
            check_name(value, self.at(path), kind.categories, what="category", of=f" of {excerpt(name)}", show=True)
            if not supports_category(spec):
                raise self.err(path, f"{excerpt(name)} cannot be observed: its categories are not a distribution the likelihood can be computed for")
            return Observation(name, "equals", kind.categories.index(value), f"{name} is {value}")
        if kind.type == "bool":
            if not isinstance(value, bool):
                raise self.err(path, f"{excerpt(name)} is boolean; expected true or false, got {describe(value)}")
            return Observation(name, "equals", value, f"{name} is {str(value).lower()}")
        if kind.type == "number":
            if isinstance(value, dict):
                how, x = self.one_constraint(value, path, "number", "at_least, at_most or between")
                if how == "between":
                    lo, hi = check_pair(x, self.at(path + (how,)), what="a number", strict=False)
                    return Observation(name, how, (lo, hi), f"{name} in [{lo:g}, {hi:g}]")
                x = self.number(x, path + (how,))
                return Observation(name, how, x, f"{name} {how.replace('_', ' ')} {x:g}")
            x = self.number(value, path)
            if not is_discrete(spec):
                raise self.err(
                    path,
                    f"{excerpt(name)} is a continuous quantity, so an exact value has probability 0; "
                    "use {at_least: x}, {at_most: x}, {between: [lo, hi]}, or a report: with a noise model",
                )
            return Observation(name, "equals", x, f"{name} = {x:g}")
        if kind.type == "repeated":
            return self.occurrences(name, value, path, public_on)
        raise self.err(path, f"{excerpt(name)} is a {kind.type} node and cannot be observed directly; {_observe_hint(name, kind.type)}")

    def occurrences(self, name, value, path, public_on) -> Observation:
        """What is known of a repeated event's occurrences, as bounds ``lo <= N(day) <= hi`` on its
        count: ``{occurrence: k, on: DATE}`` (the k-th was on DATE), ``{count: c, by: DATE}`` (exactly
        c by DATE), ``{at_least: c, by: DATE}``, ``{at_most: c, by: DATE}``, or a list of these."""
        form = "{occurrence: K, on: DATE} or {count: N, by: DATE} (or at_least:/at_most: N, by: DATE), or a list of these"
        facts = value if isinstance(value, list) else [value]
        if not facts:
            raise self.err(path, f"{excerpt(name)} is a repeated event; expected {form}, got an empty list")
        size = min(self.model.nodes[name].spec.max, MAX_OBSERVED_COUNT)
        bounds, texts = [], []
        for i, fact in enumerate(facts):
            at = path + (str(i),) if isinstance(value, list) else path
            if not isinstance(fact, dict):
                raise self.err(at, f"{excerpt(name)} is a repeated event (it can happen more than once); expected {form}, got {describe(fact)}")
            if "occurrence" in fact:
                self.keys(fact, at, ("occurrence", "on"))
                if "on" not in fact:
                    raise self.err(at, "missing key 'on' (the date of that occurrence)")
                k = int(self.number(fact["occurrence"], at + ("occurrence",), what=f"an occurrence number, a whole number in [1, {size}] (the node's max, at most {MAX_OBSERVED_COUNT})",
                                    lo=1, hi=size, integer=True))
                date = self.date(fact["on"], at + ("on",))
                day = self.model_day(date, at + ("on",), public_on=public_on, what="occurrence date")
                if day < 1:
                    raise self.err(at + ("on",), f"occurrence date {date} is not after the model's as_of ({self.model.as_of}); the model's events start on day 1")
                bounds += [(float(day - 1), 0.0, float(k - 1)), (float(day), float(k), math.inf)]
                texts.append(f"{name} occurrence {k} on {date}")
                continue
            self.keys(fact, at, ("count", "at_least", "at_most", "by"))
            given = [k for k in ("count", "at_least", "at_most") if k in fact]
            if len(given) != 1 or "by" not in fact:
                raise self.err(at, f"expected {form}, got keys {sorted(fact)}")
            how = given[0]
            c = self.number(fact[how], at + (how,), what=f"a number of occurrences, a whole number in [0, {size}] (the node's max, at most {MAX_OBSERVED_COUNT})",
                            lo=0, hi=size, integer=True)
            date = self.date(fact["by"], at + ("by",))
            day = self.model_day(date, at + ("by",), public_on=public_on, what="date")
            lo, hi = {"count": (c, c), "at_least": (c, math.inf), "at_most": (0.0, c)}[how]
            bounds.append((float(day), float(lo), float(hi)))
            texts.append(f"{name} {how.replace('_', ' ')} {c:g} by {date}")
        return Observation(name, "counts", tuple(bounds), "; ".join(texts))

    def implied(self, ob: Observation, item_id: str) -> Observation | None:
        """Observing an event's day also observes its ``when:`` boolean node as true."""
        if ob.kind != "equals" or self.model.kinds[ob.node].type != "event":
            return None
        spec = self.model.nodes[ob.node].spec
        if isinstance(spec, EventSpec) and isinstance(spec.when, RefSpec) and self.model.kinds[spec.when.name].type == "bool":
            return Observation(spec.when.name, "equals", True, f"{spec.when.name} is true (as {ob.node} happened)", implied_by=ob.node)
        return None

    def watch(self, raw, path) -> tuple:
        if isinstance(raw, list):
            pairs = [(name, 0) for name in raw]
        elif isinstance(raw, dict):
            pairs = list(raw.items())
        else:
            raise self.err(path, f"expected a list of event names or a mapping event: lag_days, got {describe(raw)}")
        if not pairs:
            raise self.err(path, "expected at least one event")
        out = []
        for name, lag in pairs:
            kind = self.node(name, path + (str(name),))
            if kind.type not in ("event", "statement", "repeated"):
                raise self.err(path + (str(name),), f"{excerpt(name)} is a {kind.type} node; only events, statements and repeated events can be watched")
            lag = check_number(lag, self.at(path + (str(name),)), what="a lag in whole days >= 0", lo=0, integer=True, finite=True)
            out.append((name, int(lag)))
        return tuple(out)

    # -- soft evidence -------------------------------------------------------------
    def suggests(self, raw, path, item_id: str) -> tuple:
        """One claim (a mapping) or a list of them, each a :class:`Suggestion`."""
        form = "{node, window: [FROM, TO] (an event) or value: true/false (a boolean), if_true, if_false}"
        if isinstance(raw, list):
            if not raw:
                raise self.err(path, f"expected a claim {form} or a list of them, got an empty list")
            return tuple(self.suggestion(c, path + (str(i),), item_id, form) for i, c in enumerate(raw))
        return (self.suggestion(raw, path, item_id, form),)

    def suggestion(self, raw, path, item_id: str, form: str) -> Suggestion:
        check_keys(raw, self.at(path), SUGGEST_KEYS, what=f"a claim {form}")
        if "node" not in raw:
            raise self.err(path, "missing key 'node' (the event or boolean node the claim is about)")
        name = raw["node"]
        kind = self.node(name, path + ("node",))
        if kind.type == "event":
            if "value" in raw:
                raise self.err(path + ("value",), f"{excerpt(name)} is an event: give the claim as window: [FROM, TO] (the first and last day it allows), not value:")
            if "window" not in raw:
                raise self.err(path, f"missing key 'window' ({excerpt(name)} is an event: the claim is that it happens on a day from FROM to TO, window: [FROM, TO])")
            lo, hi, start, end = self.window(raw["window"], path + ("window",))
            claim, text = (lo, hi), f"{name} from {start} to {end}"
        elif kind.type == "bool":
            if "window" in raw:
                raise self.err(path + ("window",), f"{excerpt(name)} is boolean: give the claim as value: true or value: false, not window:")
            if "value" not in raw:
                raise self.err(path, f"missing key 'value' ({excerpt(name)} is boolean: the claim is value: true or value: false)")
            if not isinstance(raw["value"], bool):
                raise self.err(path + ("value",), f"{excerpt(name)} is boolean; expected true or false, got {describe(raw['value'])}")
            claim, text = raw["value"], f"{name} is {str(raw['value']).lower()}"
        else:
            hint = "; for a noisy number use report:" if kind.type in ("number", "flow", "stock") else ""
            raise self.err(path + ("node",), f"{excerpt(name)} is a {kind.type} node; suggests: takes an event (with window: [FROM, TO]) or a boolean (with value: true or false){hint}")
        probs = {}
        for key, given in (("if_true", "true"), ("if_false", "false")):
            if key not in raw:
                raise self.err(path, f"missing key {key!r} (P(the source says this | the claim is {given}), in (0, 1])")
            if not isinstance(raw[key], bool) and raw[key] == 0:  # the claim, or its negation, would be certain
                raise self.err(path + (key,), f"expected P(the source says this | the claim is {given}) in (0, 1], got 0: "
                                              "a source that is never wrong gives a hard fact (use observe:)")
            probs[key] = self.number(raw[key], path + (key,), lo=0, hi=1, lo_open=True,
                                     what=f"P(the source says this | the claim is {given}) in (0, 1]")
        said_by = check_text(raw.get("said_by", ""), self.at(path + ("said_by",)))
        return Suggestion(name, claim, probs["if_true"], probs["if_false"], text, item_id, said_by)

    def window(self, raw, path) -> tuple:
        """``[FROM, TO]`` dates as model days ``lo < X <= hi`` (and the two dates)."""
        if not isinstance(raw, list) or len(raw) != 2:
            raise self.err(path, f"expected [FROM, TO], the first and last day the claim allows (dates as YYYY-MM-DD), got {describe(raw)}")
        start, end = self.date(raw[0], path + ("0",)), self.date(raw[1], path + ("1",))
        if end < start:
            raise self.err(path, f"expected FROM <= TO, got [{start}, {end}]")
        if self.model.day_of(start) < 1:
            raise self.err(path + ("0",), f"{start} is not after the model's as_of ({self.model.as_of}); the model's events start on day 1")
        if self.model.day_of(end) > self.model.horizon_days:
            last = self.model.as_of + _dt.timedelta(days=self.model.horizon_days)
            raise self.err(
                path + ("1",),
                f"{end} is beyond the model's horizon (last day {last}): the model cannot say whether the event "
                f"happens after it (end the window by {last}, or a longer horizon_months)",
            )
        return float(self.model.day_of(start) - 1), float(self.model.day_of(end)), start, end

    # -- announcements -------------------------------------------------------------
    def scheduled(self, raw, path, public_on, item_id: str) -> tuple:
        """One announcement (a mapping) or a list of them, each a :class:`Schedule`."""
        form = "{event, on: DATE or [FIRST, LAST], slip: {chance, days: [a, b]}}"
        if isinstance(raw, list):
            if not raw:
                raise self.err(path, f"expected an announcement {form} or a list of them, got an empty list")
            return tuple(self.schedule(a, path + (str(i),), public_on, item_id, form) for i, a in enumerate(raw))
        return (self.schedule(raw, path, public_on, item_id, form),)

    def schedule(self, raw, path, public_on, item_id: str, form: str) -> Schedule:
        check_keys(raw, self.at(path), SCHEDULE_KEYS, what=f"an announcement {form}")
        for key, why in (("event", "the event node announced"),
                         ("on", "the announced day, or [FIRST, LAST] for several days"),
                         ("slip", "P(an announced event slips) and by how many days after the last announced day: "
                                  "{chance: 0.1, days: [1, 30]}; {chance: 0} for one certain to keep its date")):
            if key not in raw:
                raise self.err(path, f"missing key {key!r} ({why})")
        name = raw["event"]
        kind = self.node(name, path + ("event",))
        if kind.type != "event":
            hint = "; a claim about a boolean is suggests: {node, value, if_true, if_false}" if kind.type == "bool" else ""
            raise self.err(path + ("event",), f"{excerpt(name)} is a {kind.type} node; scheduled: takes an event node "
                                              f"(kind event: its day is what is announced){hint}")
        first, last = self.announced_days(raw["on"], path + ("on",), public_on)
        lo, hi = float(self.model.day_of(first) - 1), float(self.model.day_of(last))
        slip, slip_days = self.slip(raw["slip"], path + ("slip",), last)
        if_off = 0.0
        if "if_off" in raw:
            if_off = self.number(raw["if_off"], path + ("if_off",), lo=0,
                                 what="how likely such an announcement is if the event does not take place within "
                                      "its slip window, relative to if it does: a number >= 0")
        said_by = check_text(raw.get("said_by", ""), self.at(path + ("said_by",)))
        text = f"{name} announced for {first}" + ("" if last == first else f" to {last}")
        return Schedule(name, (lo, hi), slip, slip_days, if_off, text, item_id, said_by)

    def announced_days(self, raw, path, public_on) -> tuple:
        """``on:`` (a date, or [FIRST, LAST]) as the first and last announced dates."""
        if isinstance(raw, list):
            if len(raw) != 2:
                raise self.err(path, f"expected a date or [FIRST, LAST] (the first and last announced day, dates as "
                                     f"YYYY-MM-DD), got {describe(raw)}")
            first_at, last_at = path + ("0",), path + ("1",)
            first, last = self.date(raw[0], first_at), self.date(raw[1], last_at)
            if last < first:
                raise self.err(path, f"expected FIRST <= LAST, got [{first}, {last}]")
        else:
            first_at = last_at = path
            first = last = self.date(raw, path)
        if first < public_on:
            raise self.err(first_at, f"the first announced day {first} is before the item became public ({public_on}); an "
                                     "announcement is about days to come (what has happened is observe:)")
        if self.model.day_of(first) < 1:
            raise self.err(first_at, f"{first} is not after the model's as_of ({self.model.as_of}); the model's events start on day 1")
        if self.model.day_of(last) > self.model.horizon_days:
            end = self.model.as_of + _dt.timedelta(days=self.model.horizon_days)
            raise self.err(last_at, f"{last} is beyond the model's horizon (last day {end})")
        return first, last

    def slip(self, raw, path, last: _dt.date) -> tuple:
        """``slip: {chance, days: [a, b]}`` as (chance, (a, b)); ``(0.0, ())`` for a chance of 0."""
        body = check_mapping(raw, self.at(path), what="{chance: P(an announced event slips), days: [a, b]}")
        self.keys(body, path, ("chance", "days"))
        if "chance" not in body:
            raise self.err(path, "missing key 'chance' (P(an announced event slips), in [0, 1); 0 for one certain to keep its date)")
        chance = self.number(body["chance"], path + ("chance",), lo=0, hi=1, hi_open=True,
                             what="P(an announced event slips) in [0, 1)")
        if "days" not in body:
            if chance > 0:
                raise self.err(path, "missing key 'days' (a slipped event happens a to b days after the last announced "
                                     "day, uniformly: days: [a, b], whole days with 1 <= a <= b)")
            return 0.0, ()
        days = body["days"]
        at = path + ("days",)
        if not isinstance(days, list) or len(days) != 2:
            raise self.err(at, f"expected [a, b], whole days with 1 <= a <= b (a slipped event happens a to b days after the "
                               f"last announced day), got {describe(days)}")
        a, b = (int(check_number(d, self.at(at + (str(i),)), what="a number of days >= 1", lo=1, integer=True))
                for i, d in enumerate(days))
        if a > b:
            raise self.err(at, f"expected a <= b, got [{a}, {b}]")
        if chance == 0:
            return 0.0, ()
        room = self.model.horizon_days - self.model.day_of(last)
        if b > room:
            end = self.model.as_of + _dt.timedelta(days=self.model.horizon_days)
            raise self.err(at + ("1",), f"a slip of {b} days after {last} ends after the model's horizon (last day {end}): "
                                        f"the model cannot tell a day after it from never (at most {room} days, or a longer "
                                        "horizon_months)")
        return float(chance), (a, b)

    # -- reports -----------------------------------------------------------------
    def report(self, raw, path, public_on, item_id: str = "") -> Report:
        ref = raw.get("quantity") if isinstance(raw, dict) else None
        if isinstance(ref, str) and ref in self.model.kinds and self.model.kinds[ref].type == "statement":
            return self.statement_report(raw, path, public_on, item_id)
        check_keys(raw, self.at(path), REPORT_KEYS, required=("quantity", "said", "likelihood"), what="a mapping with quantity, said and likelihood")
        name, series, kind = parse_quantity(ref, self.model, self.err, path + ("quantity",))
        on = day = None
        if kind.type in ("flow", "stock"):
            if kind.type == "stock" and series:
                raise self.err(path + ("quantity",), f"{excerpt(name)} is a stock, not a flow; it has no .{series} (its level is {name})")
            if "on" not in raw:
                raise self.err(path, f"{excerpt(name)} is a {kind.type}: say which date the figure is for (on: YYYY-MM-DD)")
            on = self.date(raw["on"], path + ("on",))
            day = self.model_day(on, path + ("on",), public_on=public_on, what="date")
            if day < 1:
                raise self.err(path + ("on",), f"date {on} is not after the model's as_of ({self.model.as_of})")
            if kind.type == "stock":
                series = "level"
        else:
            if series:
                raise self.err(path + ("quantity",), f"{excerpt(name)} is a {kind.type} node, not a flow; it has no .{series}")
            if kind.type != "number":
                raise self.err(path + ("quantity",), f"{excerpt(name)} is a {kind.type} node; a report needs a number, a flow or a stock (use observe: for events and categories)")
            if "on" in raw:
                raise self.err(path + ("on",), f"{excerpt(name)} is a per-world number, not a flow; drop on:")
        noise = self.noise(raw["likelihood"], path + ("likelihood",))
        value, low, high = self.said(raw["said"], path + ("said",), positive=noise.family != "normal")
        estimator = check_text(raw.get("estimator", ""), self.at(path + ("estimator",)))
        return Report(ref, name, series, on, day, value, low, high, noise, estimator)

    def statement_report(self, raw, path, public_on, item_id: str = "") -> Report:
        """What a statement node's source said, published on ``public_on``, as a report on the
        node it is about, with the statement's own error model: the source's figure F = true x bias
        x exp(noise Z).  ``said: {value: X}`` alone: the source's rounding as an interval (X rounded
        to the nearest multiple of s is X - s/2 <= F < X + s/2; down: [X, X + s); up: (X - s, X]).
        A range or a bound (``low`` / ``high``, ``at_least`` / ``at_most``, with or without a
        headline ``value``): low <= F <= high as stated, no rounding.  Exact given that it was
        published: the publication itself (its chance and lag) is not weighted.  The statement node
        reads :attr:`Report.figure`.
        """
        name = raw["quantity"]
        if "likelihood" in raw:
            raise self.err(
                path + ("likelihood",),
                f"a statement carries its own error model (bias, noise, round_to and rounding of "
                f"nodes.{short(name, 40)}.statement); drop likelihood:",
            )
        check_keys(raw, self.at(path), ("quantity", "said", "estimator"), required=("quantity", "said"),
                   what="a mapping with quantity (a statement node) and said (its figure)")
        if self.model.day_of(public_on) > self.model.horizon_days:
            last = self.model.as_of + _dt.timedelta(days=self.model.horizon_days)
            raise self.err(
                path + ("quantity",),
                f"item {excerpt(item_id)} reports what {excerpt(name)} said on {public_on}, after the model's "
                f"horizon ends ({last}); the model holds no statement published after it (a longer "
                "horizon_months, or drop the item)",
            )
        spec = self.model.nodes[name].spec
        about, about_kind = spec.about, self.model.kinds[spec.about].type
        bias, noise = spec.bias.static_value(), spec.noise.static_value()
        if bias is None or noise is None or not noise > 0 or not bias > 0:
            raise self.err(path + ("quantity",), f"statement {excerpt(name)} can be observed by a report when its bias and noise are fixed numbers > 0")
        if about_kind not in ("number", "flow", "stock"):
            raise self.err(path + ("quantity",), f"statement {excerpt(name)} is about a {about_kind} node; a report on it needs a number, a flow or a stock")
        value, low, high = self.said(raw["said"], path + ("said",), positive=True)
        if low is not None and low <= 0:  # what a lognormal error gives is > 0: a bound of 0 says nothing
            key = "low" if "low" in raw["said"] else "at_least"
            raise self.err(path + ("said", key), f"expected a figure > 0 (a statement's figure is the truth times a "
                           f"lognormal error), got {low:g}; drop it, or give the bound the source stated")
        if value is not None and low is None and high is None and spec.round_to is not None:
            step = spec.round_to
            low, high = {"nearest": (value - step / 2, value + step / 2), "down": (value, value + step), "up": (value - step, value)}[spec.rounding]
            low = max(low, 0.0)
        on = day = None
        series = ""
        quantity = about
        if about_kind in ("flow", "stock"):  # the running total, or the level, on the day it spoke
            on, series = public_on, ("cumulative" if about_kind == "flow" else "level")
            quantity = f"{about}.cumulative" if about_kind == "flow" else about
            day = self.model_day(on, path + ("quantity",), public_on=public_on, what="date")
            if day < 1:
                raise self.err(path, f"published on {on}, not after the model's as_of ({self.model.as_of})")
        estimator = check_text(raw.get("estimator", name), self.at(path + ("estimator",)))
        noise_model = Noise("lognormal", math.log(bias), float(noise))
        return Report(quantity, about, series, on, day, value, low, high, noise_model, estimator,
                      statement=name, said_day=float(self.model.day_of(public_on)))

    def said(self, raw, path, *, positive: bool):
        check_mapping(raw, self.at(path), what="{value: x}, {at_least: x}, {low: x, high: y} ...", nonempty=True)
        self.keys(raw, path, SAID_KEYS)
        if "at_least" in raw and "low" in raw or "at_most" in raw and "high" in raw:
            raise self.err(path, "at_least is the same as low (and at_most as high); give one of them")
        vals = {}
        for k in SAID_KEYS:
            if k in raw and raw[k] is not None:
                vals[k] = self.number(raw[k], path + (k,))
        value = vals.get("value")
        low = vals.get("low", vals.get("at_least"))
        high = vals.get("high", vals.get("at_most"))
        if value is None and low is None and high is None:
            raise self.err(path, "expected a value or a bound (low / high / at_least / at_most)")
        lo_key = "low" if "low" in raw else "at_least"
        hi_key = "high" if "high" in raw else "at_most"
        if low is not None and high is not None and low > high:
            raise self.err(path, f"expected {lo_key} <= {hi_key}, got {lo_key}={low:g}, {hi_key}={high:g}")
        if value is not None and ((low is not None and value < low) or (high is not None and value > high)):
            shown = ", ".join(f"{k}={vals[k]:g}" for k in (lo_key, hi_key) if k in vals)
            raise self.err(path + ("value",), f"expected the headline value within the range stated ({shown}), got {value:g}")
        if positive:
            for k, v in (("value", value), (hi_key, high)):
                if v is not None and v <= 0:
                    raise self.err(path + (k,), f"expected a figure > 0 (a multiplicative noise model), got {v:g}")
            if low is not None and low < 0:
                raise self.err(path + (lo_key,), f"expected {lo_key} >= 0, got {low:g}")
        return value, low, high

    def noise(self, raw, path) -> Noise:
        if not isinstance(raw, dict) or len(raw) != 1:
            raise self.err(path, f"expected one noise model: {{lognormal: {{sigma}}}}, {{detected_share: {{beta: ...}}}} or {{normal: {{sd}}}}, got {describe(raw)}")
        (family, body), = raw.items()
        if family not in NOISE_FAMILIES:
            raise self.err(path + (str(family),), f"unknown noise model {excerpt(family)}; expected one of {list(NOISE_FAMILIES)}" + did_you_mean(family, NOISE_FAMILIES))
        p = path + (family,)
        check_mapping(body, self.at(p))
        if family == "lognormal":
            self.keys(body, p, ("mu", "sigma", "ci90"))
            if "ci90" in body:
                if set(body) != {"ci90"}:
                    raise self.err(p, "give either ci90 (of said / true) or mu and sigma")
                ci = body["ci90"]
                lo, hi = check_pair(ci, self.at(p + ("ci90",)), what="a 90% interval of said / true")
                if not 0 < lo:
                    raise self.err(p + ("ci90",), f"expected 0 < low < high, got {excerpt(ci)}")
                from ..model.families.lognormal import lognormal_ci90

                return Noise("lognormal", *lognormal_ci90(lo, hi))
            if "sigma" not in body:
                raise self.err(p, "missing key 'sigma' (the sd of log(said / true))")
            sigma = self.number(body["sigma"], p + ("sigma",), what="sigma", lo=0, lo_open=True)
            return Noise("lognormal", self.number(body.get("mu", 0.0), p + ("mu",)), sigma)
        if family == "normal":
            self.keys(body, p, ("mean", "sd"))
            if "sd" not in body:
                raise self.err(p, "missing key 'sd'")
            sd = self.number(body["sd"], p + ("sd",), what="sd", lo=0, lo_open=True)
            return Noise("normal", self.number(body.get("mean", 0.0), p + ("mean",)), sd)
        self.keys(body, p, ("beta",))
        beta = body.get("beta")
        if not isinstance(beta, dict):
            raise self.err(p, "expected beta: {mean, concentration} or beta: {a, b} (the share of the truth that is reported)")
        self.keys(beta, p + ("beta",), ("mean", "concentration", "a", "b"))
        if set(beta) == {"a", "b"}:
            a, b = self.number(beta["a"], p + ("beta", "a")), self.number(beta["b"], p + ("beta", "b"))
        elif set(beta) == {"mean", "concentration"}:
            m = self.number(beta["mean"], p + ("beta", "mean"))
            c = self.number(beta["concentration"], p + ("beta", "concentration"))
            if not 0 < m < 1 or c <= 0:
                raise self.err(p + ("beta",), f"expected 0 < mean < 1 and concentration > 0, got mean={m:g}, concentration={c:g}")
            a, b = m * c, (1 - m) * c
        else:
            raise self.err(p + ("beta",), f"expected {{mean, concentration}} or {{a, b}}, got keys {sorted(beta)}")
        if a <= 0 or b <= 0:
            raise self.err(p + ("beta",), f"expected positive shape parameters, got a={a:g}, b={b:g}")
        return Noise("detected_share", a, b)

    # -- consistency across items ---------------------------------------------------
    def check_consistency(self, items: list) -> None:
        said: dict = {}  # statement node -> the item that reports what it said
        for it in items:
            if it.report is None or not it.report.statement:
                continue
            name = it.report.statement
            first = said.setdefault(name, it)
            if first is not it:
                raise self._item_at(it, "report", "quantity").error(
                    f"items {excerpt(first.id)} ({first.where}.report) and {excerpt(it.id)} ({it.where}.report) "
                    f"both report what statement {excerpt(name)} said; a statement node is one figure its source "
                    "publishes once, so give each figure a statement node of its own (same about:, its own "
                    "lag: or date:) and report each on its own node",
                )
        clamped: dict = {}  # node -> (value, item)
        for it in items:
            for ob in it.observations:
                if ob.kind != "equals":
                    continue
                prev = clamped.get(ob.node)
                if prev is None:
                    clamped[ob.node] = (ob.value, it)
                elif prev[0] != ob.value:
                    raise self._item_at(it, "observe", ob.implied_by or ob.node).error(
                        f"{ob.text} contradicts item {excerpt(prev[1].id)} ({prev[1].public_on}), which has "
                        f"{self._show(ob.node, prev[0])}; hard facts cannot change (use a report: for uncertain statements)",
                    )
        for it in items:
            for ob in it.observations:
                if ob.kind in ("never_by", "by") and ob.node in clamped:
                    value, other = clamped[ob.node]
                    if not ob.holds(np.asarray([value]))[0]:
                        raise self._item_at(it, "observe", ob.node).error(
                            f"{ob.text} contradicts item {excerpt(other.id)}, which observes {self._show(ob.node, value)}",
                        )
        for it in items:
            for i, sc in enumerate(it.schedules):
                if sc.node not in clamped or sc.likelihood(np.asarray([float(clamped[sc.node][0])]))[0] > 0:
                    continue
                value, other = clamped[sc.node]
                if value <= sc.days[0]:
                    why = "an announced event does not happen before its first announced day"
                elif sc.if_off > 0 or value <= sc.window[1]:
                    why = "a slipped event happens slip.days after the last announced day (widen them)"
                else:
                    why = ("without if_off an announced event takes place by the end of its slip window (widen "
                           "slip.days, or give if_off: how likely the announcement was if it would not)")
                keys = ("scheduled",) if len(it.schedules) == 1 else ("scheduled", str(i))
                raise self._item_at(it, *keys).error(
                    f"{sc.text} contradicts item {excerpt(other.id)} ({other.public_on}), which observes "
                    f"{self._show(sc.node, value)}: {why}",
                )
        for it in items:
            for node, lag in it.watch:
                if node not in clamped:
                    continue
                value, other = clamped[node]
                happened = self.model.as_of + _dt.timedelta(days=int(value))
                delay = (other.public_on - happened).days
                if delay > lag and other.public_on > it.public_on:
                    raise self._item_at(it, "watch", node).error(
                        f"{excerpt(node)} happened on {happened} but item {excerpt(other.id)} made it public only on "
                        f"{other.public_on}, {delay} days later; watch it with a lag of at least {delay} "
                        f"days ({node}: {delay}) or correct the dates",
                    )

        self.check_counts(items)

    def check_counts(self, items: list) -> None:
        """Facts on a repeated event's count must agree: a count known to be at least lo by one
        day cannot be at most hi < lo by the same or a later day; an occurrence a watch would
        have made public sooner is refused as for events."""
        known: dict = {}  # node -> [(day, lo, hi, item)]
        for it in items:
            for ob in it.observations:
                if ob.kind == "counts":
                    known.setdefault(ob.node, []).extend((d, lo, hi, it) for d, lo, hi in ob.value)
        for node, facts in known.items():
            for d1, lo, _, first in facts:
                for d2, _, hi, other in facts:
                    if d1 <= d2 and lo > hi:
                        a, b = (first, other) if first.public_on <= other.public_on else (other, first)
                        raise self._item_at(b, "observe", node).error(
                            f"{excerpt(node)}: item {excerpt(first.id)} says at least {lo:g} occurrences by "
                            f"{self._date(d1)}, item {excerpt(other.id)} at most {hi:g} by {self._date(d2)}; "
                            f"items {excerpt(a.id)} and {excerpt(b.id)} contradict each other",
                        )
        for it in items:
            for node, lag in it.watch:
                for d, lo, _, other in known.get(node, ()):
                    if lo < 1 or other.public_on <= it.public_on or not math.isfinite(d):
                        continue
                    delay = (other.public_on - self._date(d)).days
                    if delay > lag:
                        raise self._item_at(it, "watch", node).error(
                            f"{excerpt(node)} had {lo:g} occurrences by {self._date(d)} but item {excerpt(other.id)} "
                            f"made it public only on {other.public_on}, {delay} days later; watch it with a lag of "
                            f"at least {delay} days ({node}: {delay}) or correct the dates",
                        )

    def _date(self, day: float) -> _dt.date:
        return self.model.as_of + _dt.timedelta(days=int(day))

    def _item_at(self, it: Item, *keys) -> Location:
        """The location of ``keys`` inside item ``it`` (its file and line found when an error is raised)."""
        return Location(self.file, (*it.where.split("."), *keys))

    def _show(self, node, value) -> str:
        kind = self.model.kinds[node]
        if kind.type == "event":
            return f"{node} on {self.model.as_of + _dt.timedelta(days=int(value))}"
        if kind.type == "category":
            return f"{node} is {kind.categories[int(value)]}"
        return f"{node} = {value}"


def parse_evidence(model: Model, raw, *, file: str | None = None, base: tuple = ()) -> Evidence:
    """Validate evidence items (a list of mappings) against ``model``.

    Raises
    ------
    ParamsError
        Unknown keys (with a did-you-mean), unknown variables or categories, dates after the
        item became public or beyond the horizon, missing sources, contradictory hard facts.
    """
    parser = _Parser(model, Location(file, base))
    check_list(raw, parser.root, what="a list of evidence items")
    items, seen = [], {}
    for i, item_raw in enumerate(raw):
        it = parser.item(item_raw, i)
        if it.id in seen:
            raise parser.err((str(i), "id"), f"duplicate item id {excerpt(it.id)} (also item {seen[it.id]})")
        seen[it.id] = i
        items.append(it)
    parser.check_consistency(items)
    return Evidence(tuple(items), file)


def load_evidence(model: Model, source=None) -> Evidence:
    """Load and validate the evidence for ``model``.

    Parameters
    ----------
    model : Model
    source : str, list or None
        An evidence file (a mapping with ``evidence:``, or a bare list of items), a list of item
        mappings, or None (or "") for the params file's own ``evidence:`` (a path relative to the
        file that set it, resolved by :func:`scenarios.model.data_files.data_files`, or an inline
        list).  No evidence anywhere gives an empty :class:`Evidence`.
    """
    base: tuple = ()
    if source is None or source == "":
        raw = model.evidence_raw
        if raw is None:
            return Evidence((), None)
        if isinstance(raw, list):
            return parse_evidence(model, raw, file=model.doc.origin(("evidence",)), base=("evidence",))
        source = data_files(model).evidence
    if isinstance(source, list):
        return parse_evidence(model, source)
    doc, _ = load_yaml_file(source)
    if isinstance(doc, dict):
        at = Location(source)
        check_keys(doc, at, ("evidence", "note", "source"), expected="evidence (and note, source) in an evidence file")
        if "evidence" not in doc:
            raise at.error("missing key 'evidence' (the list of items)")
        raw, base = doc["evidence"], ("evidence",)
    else:
        raw = doc
    return parse_evidence(model, raw, file=source, base=base)
