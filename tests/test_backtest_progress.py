"""Progress of a backtest by as-of date: the display, the progress file, the calls a backtest
makes, the command line and the backtest notebook's end of the report's channel."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest

from conftest import HEADER
from scenarios.backtest import (
    BacktestProgress,
    ProgressFile,
    load_resolutions,
    read_progress,
    run_backtest,
)
from scenarios.backtest.progress import DRAW_EVERY_S, ENVIRONMENT, Status, format_duration
from scenarios.cli import main
from scenarios.engine.evidence import parse_evidence
from scenarios.model.load import load_model

MODEL = HEADER + """
questions: questions.yaml
resolutions: resolutions.yaml
evidence: evidence.yaml
nodes:
  a: {bernoulli: {p: 0.3}}
  b: {bernoulli: {p: 0.6}}
"""

QUESTIONS = """
questions:
  - {id: qa, open: 2023-09-05, close: 2023-09-30, resolve: {is: {a: true}}}
  - {id: qb, open: 2023-09-20, close: 2023-12-31, resolve: {is: {b: true}}}
"""

RESOLVED = """
questions:
  - {id: qa, outcome: true, resolved_on: 2023-09-20}
  - {id: qb, outcome: false, resolved_on: 2023-11-01}
"""

EVIDENCE = """
evidence:
  - {public_on: 2023-09-10, source: https://example.org/news, observe: {a: true}}
"""


@pytest.fixture
def tiny(write):
    """A two-node model with its questions, resolutions and evidence: three default as-of dates."""
    write("questions.yaml", QUESTIONS)
    write("resolutions.yaml", RESOLVED)
    write("evidence.yaml", EVIDENCE)
    return write("model.yaml", MODEL)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, t: float = 0.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


class Broken(io.StringIO):
    def write(self, text):
        raise OSError(28, "No space left on device")


# --------------------------------------------------------------------------- what a status says


def test_dates_done_and_time_left_from_the_share_done():
    s = Status(done=10, total=40, dates=39, elapsed=40.0)
    assert s.fraction == 0.25 and s.dates_done == 9  # 10 * 39 // 40
    assert s.eta == pytest.approx(120.0) and s.describe() == "9/39 dates, ETA 2:00"
    assert Status(10, 40, 39, 40.0, age=30.0).eta == pytest.approx(90.0)  # read 30 s after it was written
    assert Status(10, 40, 39, 40.0, age=500.0).eta == 0.0
    assert Status(0, 40, 39, 3.0).eta is None and Status(0, 40, 39, 3.0).describe() == "0/39 dates"
    assert Status(40, 40, 39, 160.0).describe() == "39/39 dates"
    assert Status(0, 0, 39, 1.0).fraction == 0.0 and Status(0, 0, 39, 1.0).dates_done == 0


@pytest.mark.parametrize("seconds, text", [(0, "0:00"), (59.6, "1:00"), (90.4, "1:30"), (3599, "59:59"),
                                           (3725, "1:02:05"), (-3, "0:00")])
def test_durations_read_as_minutes_and_seconds(seconds, text):
    assert format_duration(seconds) == text


# --------------------------------------------------------------------------- the display


def test_on_a_terminal_one_line_is_redrawn_and_ended_when_done(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    clock, stream = Clock(), io.StringIO()
    show = BacktestProgress(39, label="backtest base", stream=stream, tty=True, clock=clock)
    clock.t = 1.0
    show(1, 40)
    clock.t += DRAW_EVERY_S / 2
    show(2, 40)  # too soon after the last: not drawn
    clock.t = 40.0
    show(10, 40)
    clock.t = 160.0
    show(40, 40)
    show(40, 40)  # after the end: nothing more
    assert stream.getvalue() == (
        "\rbacktest base: 0/39 as-of dates (2%), 0:01 elapsed, ETA 0:39\x1b[K"
        "\rbacktest base: 9/39 as-of dates (25%), 0:40 elapsed, ETA 2:00\x1b[K"
        "\rbacktest base: 39/39 as-of dates (100%), 2:40 elapsed\x1b[K\n"
    )


def test_off_a_terminal_a_log_line_at_each_tenth_at_most_every_few_seconds():
    clock, stream = Clock(), io.StringIO()
    show = BacktestProgress(40, label="backtest base", stream=stream, tty=False, clock=clock)
    for done in range(1, 41):  # one plan a second: a new tenth every 4 s, a line at most every 5 s
        clock.t = float(done)
        show(done, 40)
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert lines[0] == "backtest base: 1/40 as-of dates (2%), 0:01 elapsed, ETA 0:39"
    assert lines[1] == "backtest base: 6/40 as-of dates (15%), 0:06 elapsed, ETA 0:34"
    assert lines[-1] == "backtest base: 40/40 as-of dates (100%), 0:40 elapsed"
    assert [int(line.split()[2].split("/")[0]) for line in lines] == [1, 6, 11, 16, 21, 26, 31, 36, 40]


def test_a_fast_backtest_logs_its_first_and_last_lines_only():
    clock, stream = Clock(), io.StringIO()
    show = BacktestProgress(3, stream=stream, tty=False, clock=clock)
    for done in range(1, 13):
        clock.t = done / 10
        show(done, 12)
    assert stream.getvalue().splitlines() == [
        "backtest: 0/3 as-of dates (8%), 0:00 elapsed, ETA 0:01",
        "backtest: 3/3 as-of dates (100%), 0:01 elapsed",
    ]


def test_one_date_is_singular_and_bigger_jumps_are_fine():
    stream = io.StringIO()
    show = BacktestProgress(1, stream=stream, tty=False, clock=Clock(65.0))
    show(8, 8)  # e.g. every chunk answered at once by worker processes
    assert stream.getvalue() == "backtest: 1/1 as-of date (100%), 0:00 elapsed\n"


def test_disabled_it_writes_nothing_and_asks_nothing_of_the_stream():
    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError(f"the stream was used: {name}")

    show = BacktestProgress(39, stream=Untouchable(), enabled=False, clock=Clock())
    for done in range(1, 41):
        show(done, 40)
    show.close()


def test_a_display_that_fails_goes_quiet_instead_of_stopping_the_backtest():
    show = BacktestProgress(39, stream=Broken(), tty=True, clock=Clock())
    show(1, 40)  # does not raise
    assert not show.enabled
    show(40, 40)

    def stopped_clock():
        raise RuntimeError("no clock")

    assert not BacktestProgress(39, stream=io.StringIO(), clock=stopped_clock).enabled


def test_a_line_left_open_by_an_interrupted_backtest_is_ended_on_close():
    stream = io.StringIO()
    with BacktestProgress(39, stream=stream, tty=True, clock=Clock()) as show:
        show(5, 40)
    assert stream.getvalue().endswith("\x1b[K\n") and stream.getvalue().count("\n") == 1
    stream = io.StringIO()
    with BacktestProgress(39, stream=stream, tty=False, clock=Clock()) as show:
        show(5, 40)
    assert stream.getvalue().count("\n") == 1  # a log line is already whole


# --------------------------------------------------------------------------- the progress file


def test_the_file_is_written_at_most_every_half_second_and_when_done(tmp_path):
    path, clock = str(tmp_path / "bt.progress"), Clock(100.0)
    write = ProgressFile(path, 39, clock=clock)
    assert read_progress(path) is None  # nothing written yet
    clock.t = 100.1
    write(1, 40)
    assert open(path).read() == "1 40 39 0.100\n"
    clock.t = 100.3
    write(2, 40)  # too soon
    assert open(path).read() == "1 40 39 0.100\n"
    clock.t = 100.7
    write(3, 40)
    assert open(path).read() == "3 40 39 0.700\n"
    clock.t = 100.8
    write(40, 40)  # the end is always written
    assert open(path).read() == "40 40 39 0.800\n"
    assert os.listdir(tmp_path) == ["bt.progress"]  # atomic writes leave no temporary file


def test_the_reader_gets_back_what_was_written_and_counts_down_since(tmp_path):
    path = str(tmp_path / "bt.progress")
    clock = Clock(0.0)
    write = ProgressFile(path, 39, clock=clock)
    clock.t = 40.0
    write(10, 40)
    os.utime(path, (1_000_000.0, 1_000_000.0))
    status = read_progress(path, now=1_000_030.0)
    assert (status.done, status.total, status.dates, status.elapsed, status.age) == (10, 40, 39, 40.0, 30.0)
    assert status.describe() == "9/39 dates, ETA 1:30"
    assert read_progress(path, now=999_000.0).age == 0.0  # a clock behind the file's time


@pytest.mark.parametrize("text", ["", "12 40", "a b c d", "12 40 39 1.0 extra", "41 40 39 1.0", "1 0 39 1.0",
                                  "1 40 39 nan", "\xff\xfe"])
def test_the_reader_says_none_for_a_file_it_cannot_use(tmp_path, text):
    path = tmp_path / "bt.progress"
    path.write_bytes(text.encode("latin-1"))
    assert read_progress(str(path)) is None


def test_the_reader_says_none_when_there_is_no_file(tmp_path):
    assert read_progress(str(tmp_path / "missing")) is None
    assert read_progress(str(tmp_path)) is None  # a folder


def test_a_file_that_cannot_be_written_stops_the_writing_not_the_backtest(tmp_path):
    (tmp_path / "a_file").write_text("")
    write = ProgressFile(str(tmp_path / "a_file" / "bt.progress"), 39, clock=Clock())
    write(1, 40)  # does not raise
    assert write.path is None
    write(40, 40)


def test_the_file_is_the_one_the_environment_names(tmp_path, monkeypatch):
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    assert ProgressFile.from_environment(39).path is None
    monkeypatch.setenv(ENVIRONMENT, "")
    assert ProgressFile.from_environment(39).path is None
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path / "bt.progress"))
    assert ProgressFile.from_environment(39).path == str(tmp_path / "bt.progress")


# --------------------------------------------------------------------------- the backtest calls it


def test_a_backtest_reports_monotone_progress_ending_at_the_total(tiny):
    model, questions = load_model(tiny)
    resolutions = load_resolutions(os.path.join(os.path.dirname(tiny), "resolutions.yaml"))
    evidence = parse_evidence(model, [{"public_on": "2023-09-10", "source": "https://example.org/news",
                                       "observe": {"a": True}}])
    calls = []
    result = run_backtest(model, questions, resolutions, evidence, samples=600, seed=1, chunk_size=200,
                          progress=lambda done, total: calls.append((done, total)))
    dates = sorted({r["as_of"] for r in result.rows})
    assert dates == [dt.date(2023, 9, 5), dt.date(2023, 9, 10), dt.date(2023, 9, 20)]
    total = (1 + len(dates)) * 3  # the no-evidence plan and one per date, in 3 chunks of 200 worlds
    assert calls[-1] == (total, total)
    assert {t for _, t in calls} == {total}
    assert all(a < b for (a, _), (b, _) in zip(calls, calls[1:]))
    plain = run_backtest(model, questions, resolutions, evidence, samples=600, seed=1, chunk_size=200)
    assert result.rows == plain.rows and result.to_json() == plain.to_json()  # it changes no number


def test_the_backtest_notebook_writes_to_the_file_the_report_names(tiny, tmp_path, monkeypatch):
    from scenarios.notebook.inputs import backtest_inputs, notebook_inputs

    path = tmp_path / "run" / "3.progress"
    path.parent.mkdir()
    monkeypatch.setenv(ENVIRONMENT, str(path))
    bt = backtest_inputs(notebook_inputs(tiny, samples=300))
    status = read_progress(str(path))
    assert status is not None and status.finished
    assert status.dates == len(bt.result.summary["ess"]) == 3
    assert status.describe() == "3/3 dates"


# --------------------------------------------------------------------------- the command line


def test_the_command_shows_progress_on_stderr_only(tiny, tmp_path, capsys):
    out = str(tmp_path / "bt")
    args = ["backtest", tiny, "-n", "300", "--out", out]
    assert main(args) == 0  # stderr is not a terminal here: no progress by default
    default = capsys.readouterr()
    assert main([*args, "--progress"]) == 0
    shown = capsys.readouterr()
    assert main([*args, "--no-progress"]) == 0
    hidden = capsys.readouterr()
    assert shown.out == default.out == hidden.out and "wrote " in shown.out
    progress = [line for line in shown.err.splitlines() if line.startswith("backtest model: ")]
    others = [line for line in shown.err.splitlines() if not line.startswith("backtest model: ")]
    assert progress[-1].startswith("backtest model: 3/3 as-of dates (100%), ")
    assert "".join(line + "\n" for line in others) == default.err == hidden.err  # the warnings, on lines of their own
    assert "as-of dates (" not in default.err
