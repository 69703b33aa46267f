"""What the ledger's runs say once outcomes arrive (scenarios.ledger.track) and between runs
(scenarios.ledger.changes).

Behaviours:

* the published track record: the time-averaged Brier score of what was published, checked
  against hand-computed values (each forecast stands until the next published one or the
  question's end, every day counting the same); forecasts published on or after the end are not
  scored; of two runs with one as-of date the one recorded last stands; the end is the
  resolution date or the day after the close (the resolution's, else the ledger's); resolved
  questions never forecast before they resolved are listed, those with no known end are set
  apart; a constant forecast scores its plain Brier score and a perfect one 0; runs of several
  models are refused;
* changes: a binary forecast moved when it changed by more than 5 points and 3 combined MCSE,
  not when inside either; numeric means by 3 combined MCSE; date means compared as dates across
  as-of dates; questions newly opened, dropped and resolved in between; the evidence items that
  became public in between; a first run has everything new; the previous run comes from the
  ledger.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.backtest.resolutions import Resolution, load_resolutions
from scenarios.errors import UsageError
from scenarios.ledger import (
    Ledger,
    QuestionRecord,
    RunRecord,
    changes,
    published_track_record,
    question_end,
)

D = dt.date


def run(as_of: dt.date, probs: dict, *, created: str | None = None, model: str = "m", seed: int = 1,
        items=(), extra=()) -> RunRecord:
    qs = [QuestionRecord(qid, "binary", probability=p, mcse=0.01, ess=1000.0) for qid, p in probs.items()]
    return RunRecord(model=model, params_sha256="a" * 64, evidence_sha256="b" * 64, as_of=as_of, seed=seed, samples=1000,
                     source="report", created=created or f"{as_of.isoformat()}T12:00:00.000000+00:00",
                     questions=qs + list(extra), evidence_items=list(items))


def yes(resolved_on, close=None) -> Resolution:
    return Resolution("?", "binary", "resolved", outcome=True, resolved_on=resolved_on, close_date=close)


def no(resolved_on, close=None) -> Resolution:
    return Resolution("?", "binary", "resolved", outcome=False, resolved_on=resolved_on, close_date=close)


# ====================================================================== the published track record

RUNS = [
    run(D(2024, 1, 1), {"q1": 0.6, "q2": 0.3, "q3": 0.5}),
    run(D(2024, 1, 21), {"q1": 0.8, "q2": 0.2}),
    run(D(2024, 2, 10), {"q1": 0.9, "q2": 0.1}),
]
RESOLUTIONS = {
    "q1": yes(D(2024, 3, 1)),
    "q2": no(D(2024, 1, 25), close=D(2024, 1, 31)),
    "q3": yes(D(2024, 1, 1)),  # public the day of the first run: never forecast before it resolved
    "q4": no(D(2024, 2, 1)),  # in no run
    "q5": Resolution("q5", "binary", "unresolved"),
    "q6": Resolution("q6", "numeric", "resolved", value=3.0, resolved_on=D(2024, 2, 1)),
}


def test_the_track_record_against_hand_computed_values():
    record = published_track_record(list(reversed(RUNS)), RESOLUTIONS)
    by_id = {s.question_id: s for s in record.questions}
    assert sorted(by_id) == ["q1", "q2"]
    # q1, yes, ends 2024-03-01: 0.6 for 20 days (Jan 1-21), 0.8 for 20 (to Feb 10), 0.9 for 20 (to Mar 1, 2024 a leap year)
    q1 = by_id["q1"]
    assert q1.brier == pytest.approx((20 * 0.4**2 + 20 * 0.2**2 + 20 * 0.1**2) / 60)  # 0.07
    assert (q1.first_as_of, q1.n_forecasts, q1.days, q1.end, q1.outcome) == (D(2024, 1, 1), 3, 60, D(2024, 3, 1), True)
    # q2, no, public 2024-01-25: 0.3 for 20 days, 0.2 for 4; the 0.1 of Feb 10 came after the end
    q2 = by_id["q2"]
    assert q2.brier == pytest.approx((20 * 0.3**2 + 4 * 0.2**2) / 24)  # 1.96 / 24
    assert (q2.n_forecasts, q2.days, q2.end) == (2, 24, D(2024, 1, 25))
    assert record.brier == pytest.approx((0.07 + 1.96 / 24) / 2)
    assert record.never_forecast == ["q3", "q4"]
    assert record.undated == [] and record.model == "m"


def test_of_two_runs_with_one_as_of_date_the_last_recorded_stands():
    later = run(D(2024, 1, 21), {"q1": 0.7}, created="2024-01-22T08:00:00.000000+00:00")
    earlier = run(D(2024, 1, 21), {"q1": 0.7}, created="2024-01-20T08:00:00.000000+00:00")
    res = {"q1": RESOLUTIONS["q1"]}
    with_later = published_track_record([*RUNS, later], res).questions[0]
    with_earlier = published_track_record([*RUNS, earlier], res).questions[0]
    assert with_later.brier == pytest.approx((20 * 0.16 + 20 * 0.09 + 20 * 0.01) / 60)
    assert with_later.n_forecasts == 3
    assert with_earlier.brier == pytest.approx(0.07)


def test_the_end_is_the_day_after_the_close_when_that_comes_first():
    assert question_end(yes(D(2024, 3, 1), close=D(2024, 1, 10))) == D(2024, 1, 11)
    assert question_end(yes(None), close=D(2024, 1, 10)) == D(2024, 1, 11)
    assert question_end(yes(None)) is None
    closing = run(D(2024, 1, 1), {}, extra=[QuestionRecord("q1", "binary", probability=0.6, close=D(2024, 1, 10))])
    score = published_track_record([closing, *RUNS[1:]], {"q1": yes(None)}).questions[0]
    assert (score.days, score.n_forecasts, score.brier) == (10, 1, pytest.approx(0.16))


def test_a_question_with_no_known_end_is_set_apart():
    record = published_track_record(RUNS, {"q1": yes(None)})
    assert record.undated == ["q1"] and record.questions == [] and record.never_forecast == []
    assert record.brier is None


def test_only_the_questions_asked_for_are_scored():
    record = published_track_record(RUNS, RESOLUTIONS, questions=["q1", "q4"])
    assert [s.question_id for s in record.questions] == ["q1"] and record.never_forecast == ["q4"]


def test_undefined_forecasts_are_not_scored():
    runs = [run(D(2024, 1, 1), {"q1": None}), run(D(2024, 1, 11), {"q1": 0.5})]
    score = published_track_record(runs, {"q1": yes(D(2024, 1, 21))}).questions[0]
    assert (score.first_as_of, score.days, score.brier) == (D(2024, 1, 11), 10, pytest.approx(0.25))


def test_with_no_runs_every_resolved_question_was_never_forecast():
    record = published_track_record([], RESOLUTIONS)
    assert record.never_forecast == ["q1", "q2", "q3", "q4"] and record.brier is None and record.model is None


def test_runs_of_several_models_are_refused():
    with pytest.raises(UsageError, match="one model's runs; got runs of m, other"):
        published_track_record([RUNS[0], run(D(2024, 1, 2), {"q1": 0.5}, model="other")], RESOLUTIONS)


@given(
    p=st.floats(0, 1),
    outcome=st.booleans(),
    gaps=st.lists(st.integers(1, 60), min_size=1, max_size=6),
)
def test_a_constant_forecast_scores_its_brier_score_and_a_perfect_one_zero(p, outcome, gaps):
    start = D(2024, 1, 1)
    dates = [start + dt.timedelta(days=sum(gaps[:i])) for i in range(len(gaps))]
    end = start + dt.timedelta(days=sum(gaps))
    res = {"q": yes(end) if outcome else no(end)}
    constant = published_track_record([run(d, {"q": p}) for d in dates], res).questions[0]
    assert constant.brier == pytest.approx((p - outcome) ** 2, abs=1e-12)
    assert constant.days == sum(gaps)
    perfect = published_track_record([run(d, {"q": float(outcome)}) for d in dates], res).questions[0]
    assert perfect.brier == 0.0


def test_the_track_record_from_a_ledger_and_a_resolutions_file(tmp_path, write):
    path = write("resolutions.yaml", """
        questions:
          - {id: q1, outcome: true, resolved_on: 2024-03-01}
          - {id: q2, outcome: false, resolved_on: 2024-01-25, close_date: 2024-01-31}
        """)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        for r in RUNS:
            ledger.record(r)
        ledger.record(run(D(2024, 1, 5), {"q1": 0.0}, model="other"))
        record = published_track_record(ledger.records("m"), load_resolutions(path))
    assert [s.question_id for s in record.questions] == ["q1", "q2"]
    assert record.brier == pytest.approx((0.07 + 1.96 / 24) / 2)


# ====================================================================== changes


def numeric(qid, mean, mcse, kind="numeric") -> QuestionRecord:
    return QuestionRecord(qid, kind, mean=mean, mcse=mcse, ess=1000.0, quantiles={"0.5": mean})


PREVIOUS = RunRecord(
    model="m", params_sha256="a" * 64, evidence_sha256="b" * 64, as_of=D(2024, 1, 1), seed=1, samples=1000,
    source="report", created="2024-01-01T12:00:00.000000+00:00", evidence_items=["e1"],
    questions=[
        QuestionRecord("a", "binary", probability=0.40, mcse=0.01),
        QuestionRecord("b", "binary", probability=0.40, mcse=0.01),
        QuestionRecord("c", "binary", probability=0.40, mcse=0.03),
        QuestionRecord("u", "binary", probability=None, mcse=None),
        QuestionRecord("gone", "binary", probability=0.5, mcse=0.01),
        numeric("n", 100.0, 2.0),
        numeric("same_day", 40.0, 1.0, "date"),  # 2024-02-10
        numeric("later", 40.0, 1.0, "date"),
    ],
)
CURRENT = RunRecord(
    model="m", params_sha256="a" * 64, evidence_sha256="c" * 64, as_of=D(2024, 1, 11), seed=1, samples=1000,
    source="report", created="2024-01-11T12:00:00.000000+00:00", evidence_items=["e1", "e2", "e3"],
    questions=[
        QuestionRecord("a", "binary", probability=0.47, mcse=0.01),  # 7 points > max(5, 3 x 1.41)
        QuestionRecord("b", "binary", probability=0.44, mcse=0.01),  # 4 points: under 5
        QuestionRecord("c", "binary", probability=0.52, mcse=0.03),  # 12 points: under 3 x 4.24
        QuestionRecord("u", "binary", probability=0.9, mcse=0.01),  # undefined before: not tested
        QuestionRecord("new", "binary", probability=0.3, mcse=0.01),
        numeric("n", 110.0, 2.0),  # 10 > 3 x 2.83
        numeric("same_day", 30.0, 1.0, "date"),  # 2024-02-10 again
        numeric("later", 40.0, 1.0, "date"),  # 2024-02-20: ten days later
    ],
)


def test_changes_between_two_runs():
    resolutions = {
        "gone": no(D(2024, 1, 5)),
        "on_the_day": yes(D(2024, 1, 11)),
        "before": yes(D(2024, 1, 1)),
        "after": yes(D(2024, 1, 12)),
        "open": Resolution("open", "binary", "unresolved"),
    }
    found = changes(PREVIOUS, CURRENT, resolutions=resolutions)
    moved = {m.question_id: m for m in found.moved}
    assert list(moved) == ["a", "n", "later"]
    assert (moved["a"].before, moved["a"].after, moved["a"].threshold) == (0.40, 0.47, 0.05)
    assert moved["a"].change == pytest.approx(0.07)
    assert moved["n"].threshold == pytest.approx(3 * math.hypot(2.0, 2.0))
    assert (moved["later"].before, moved["later"].after) == (30.0, 40.0)  # days after the current as-of date
    assert found.newly_opened == ["new"]
    assert found.dropped == ["gone"]
    assert found.resolved == ["gone", "on_the_day"]
    assert found.evidence == ["e2", "e3"]
    assert (found.previous_run_id, found.current_run_id) == (PREVIOUS.run_id, CURRENT.run_id)


def test_the_noise_thresholds_can_be_changed():
    found = changes(PREVIOUS, CURRENT, min_points=0.03, mcse_multiple=2.0)
    assert [m.question_id for m in found.moved] == ["a", "b", "c", "n", "later"]  # c: 12 points > 2 x 4.24
    both = changes(PREVIOUS, CURRENT, min_points=0.0, mcse_multiple=0.0)
    assert "same_day" not in [m.question_id for m in both.moved]  # no change at all is never a move


def test_a_change_equal_to_the_threshold_is_not_a_move():
    before = run(D(2024, 1, 1), {"q": 0.25})
    after = run(D(2024, 1, 2), {"q": 0.375})
    assert changes(before, after, min_points=0.125, mcse_multiple=0.0).moved == []
    assert [m.question_id for m in changes(before, after, min_points=0.0625, mcse_multiple=0.0).moved] == ["q"]


def test_a_first_run_has_everything_new():
    found = changes(None, CURRENT)
    assert found.moved == [] and found.dropped == [] and found.previous_run_id is None
    assert found.newly_opened == [q.id for q in CURRENT.questions]
    assert found.evidence == ["e1", "e2", "e3"]


def test_the_evidence_public_now_can_be_given():
    assert changes(PREVIOUS, CURRENT, evidence_items=["e1", "e4"]).evidence == ["e4"]


@pytest.mark.parametrize(("options", "match"), [({"min_points": 1.5}, "min_points"), ({"mcse_multiple": -1}, "mcse_multiple")])
def test_bad_thresholds_are_refused(options, match):
    with pytest.raises(ValueError, match=match):
        changes(PREVIOUS, CURRENT, **options)


def test_changes_since_the_previous_run_in_a_ledger(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.record(PREVIOUS)
        ledger.record(run(D(2024, 1, 1), {"a": 0.1}, model="other"))
        current_id, _ = ledger.record(CURRENT)
        found = changes(ledger.previous_run("m", current_id), ledger.load(current_id))
    assert found.previous_run_id == PREVIOUS.run_id
    assert [m.question_id for m in found.moved] == ["a", "n", "later"]
