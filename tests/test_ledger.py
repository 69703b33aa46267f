"""The forecast ledger file (scenarios.ledger: records, schema, store, export, command).

Behaviours:

* recording and reading: a run with binary, numeric and date questions reads back equal, with
  the same id; an engine forecast becomes a record; recording an identical run again adds no
  rows and returns the same id (the time recorded and the label are not part of a run's
  identity); a different seed is a new run; a malformed record is refused before anything is
  written;
* order: runs list by as-of date, then time recorded; the previous run of a model is the one
  just before in that order; a question's history has one row per run that forecast it;
* many writers: 8 processes recording 200 runs each at once lose nothing;
* killed writers: a writer killed with SIGKILL mid-loop leaves a sound file, every run it
  reported complete readable whole, and no run with part of its forecasts;
* opening files: a new file (and its folders) is made; a SQLite file at version 0 with no
  tables is migrated; a migration step is one function and a failing one changes nothing; a
  newer schema, a file that is not SQLite, another program's database, a directory, a folder
  that cannot be made and a missing file for reading are refused with errors naming the path;
* CSV export: plain decimal numbers, empty cells for missing ones (never ``None`` or ``e+``),
  date questions as dates;
* the ``ledger`` command: lists runs, prints or writes a question's history, and refuses an
  unknown question or model with a clear message.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from scenarios.errors import OutputError, ParamsError, ScenarioError, UsageError
from scenarios.ledger import (
    Ledger,
    QuestionRecord,
    RunRecord,
    add_parser,
    history_csv,
    plain_number,
    run_ledger_command,
    run_record,
)
from scenarios.ledger.schema import MIGRATIONS, SCHEMA_VERSION, migrate, user_version

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAY = dt.date(2024, 1, 1)


def questions(p: float = 0.3) -> list:
    return [
        QuestionRecord("yes", "binary", "Will it?", probability=p, mcse=0.01, ess=2000.0, close=dt.date(2024, 6, 30)),
        QuestionRecord("undefined", "binary", "Given never", probability=None, mcse=None, ess=0.0),
        QuestionRecord("count", "numeric", "How many?", mcse=3.5, ess=2000.0, mean=12940.0,
                       quantiles={"0.05": 1e-7, "0.5": 12000.0, "0.95": 1.5e22}),
        QuestionRecord("when", "date", "When?", mcse=1.25, ess=2000.0, mean=40.2,
                       quantiles={"0.05": 3.0, "0.5": 40.0, "0.95": float("inf")}, open=dt.date(2023, 12, 1)),
    ]


def run(seed: int = 1, *, as_of: dt.date = DAY, created: str = "2024-01-01T09:00:00.000000+00:00", qs=None,
        model: str = "m", label: str = "", items=("e1", "e2")) -> RunRecord:
    return RunRecord(model=model, params_sha256="a" * 64, evidence_sha256="b" * 64, as_of=as_of, seed=seed, samples=2000,
                     source="report", created=created, questions=questions() if qs is None else qs,
                     evidence_items=list(items), label=label)


def rows(path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# ====================================================================== recording and reading


def test_a_run_reads_back_equal_with_its_id(tmp_path):
    path = tmp_path / "ledger.sqlite"
    original = run()
    with Ledger(path) as ledger:
        rid, added = ledger.record(original)
        back = ledger.load(rid)
        listed = ledger.runs()
        by_question = {f["question_id"]: f for f in ledger.forecasts(rid)}
    assert added and rid == original.run_id
    assert back == original and back.run_id == rid
    assert [r["run_id"] for r in listed] == [rid]
    assert listed[0]["as_of"] == DAY and listed[0]["evidence_items"] == ["e1", "e2"] and listed[0]["n_questions"] == 4
    assert list(by_question) == ["yes", "undefined", "count", "when"]  # the run's order
    assert by_question["count"]["quantiles"] == {"0.05": 1e-7, "0.5": 12000.0, "0.95": 1.5e22}
    assert by_question["when"]["quantiles"]["0.95"] == float("inf")
    assert by_question["undefined"]["probability"] is None


def test_an_engine_forecast_becomes_a_record_that_round_trips(tmp_path):
    import math

    import scenarios

    model, qs = scenarios.load_model(os.path.join(REPO, "params", "reference.yaml"))
    forecast = scenarios.run_forecast(model, qs, samples=2_000, seed=1)
    record = run_record(forecast, params_sha256="c" * 64, evidence_sha256=None, evidence_items=[], source="forecast")
    by_id = record.by_id()
    for q in forecast.questions:
        r = by_id[q.id]
        if q.type == "binary":
            assert (r.probability, r.mcse, r.ess) == (q.probability, q.stderr, q.n_eff)
        else:
            assert r.mean == q.mean and r.mcse == q.stderr
            assert r.quantiles == {f"{level:g}": v for level, v in q.quantiles.items() if not math.isnan(v)}
    assert {"binary", "numeric"} <= {r.type for r in record.questions}
    assert record.model == model.name and record.seed == 1 and record.samples == 2_000 and record.as_of == forecast.as_of
    with Ledger(tmp_path / "l.sqlite") as ledger:
        rid, _ = ledger.record(record)
        assert ledger.load(rid) == record


def test_an_identical_run_recorded_again_adds_nothing(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        first = ledger.record(run())
        again = ledger.record(run(created="2024-02-01T10:00:00+00:00", label="re-run"))
        kept = ledger.load(first[0])
    assert first[1] is True and again == (first[0], False)
    assert rows(path, "runs") == 1 and rows(path, "forecasts") == 4
    assert kept.created == "2024-01-01T09:00:00.000000+00:00"  # the first recording stands


def test_a_different_seed_is_a_new_run(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        a, _ = ledger.record(run(seed=1))
        b, added = ledger.record(run(seed=2))
    assert added and a != b
    assert rows(path, "runs") == 2 and rows(path, "forecasts") == 8


def test_times_are_kept_in_utc(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        rid, _ = ledger.record(run(created="2024-01-01T12:00:00+02:00"))
        assert ledger.runs()[0]["created"] == "2024-01-01T10:00:00.000000+00:00"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"source": "backtest"}, "source: expected one of report, forecast"),
        ({"created": "2024-01-01T09:00:00"}, "created: expected a time zone"),
        ({"seed": -1}, "seed: expected a whole number"),
        ({"samples": 0}, "samples: expected a whole number of worlds"),
        ({"as_of": "2024-01-01"}, "as_of: expected a datetime.date"),
        ({"model": ""}, "model: expected a non-empty string"),
        ({"qs": [QuestionRecord("x", "binary", probability=1.5)]}, "question 'x': probability: expected a number in"),
        ({"qs": [QuestionRecord("x", "binary"), QuestionRecord("x", "binary")]}, "question 'x': recorded twice"),
        ({"qs": [QuestionRecord("x", "ordinal")]}, "question 'x': type: expected one of binary"),
        ({"qs": [QuestionRecord("x", "numeric", quantiles={0.5: 1.0})]}, "quantiles: expected levels as strings"),
    ],
)
def test_a_malformed_run_is_refused_before_anything_is_written(tmp_path, change, match):
    import dataclasses

    path = tmp_path / "l.sqlite"
    good = run()
    fields = {"questions" if k == "qs" else k: v for k, v in change.items()}
    bad = dataclasses.replace(good, **fields)
    with Ledger(path) as ledger, pytest.raises(ValueError, match=match):
        ledger.record(bad)
    assert rows(path, "runs") == 0 and rows(path, "forecasts") == 0


# ====================================================================== order, previous run, history


def test_runs_are_ordered_by_as_of_then_time_recorded(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        late = ledger.record(run(1, as_of=dt.date(2024, 3, 1), created="2024-03-01T00:00:00+00:00"))[0]
        early_second = ledger.record(run(2, as_of=dt.date(2024, 2, 1), created="2024-04-01T00:00:00+00:00"))[0]
        early_first = ledger.record(run(3, as_of=dt.date(2024, 2, 1), created="2024-02-01T00:00:00+00:00"))[0]
        other = ledger.record(run(4, as_of=dt.date(2024, 2, 15), model="other"))[0]
        assert [r["run_id"] for r in ledger.runs()] == [early_first, early_second, other, late]
        assert [r["run_id"] for r in ledger.runs("m")] == [early_first, early_second, late]
        assert ledger.previous_run("m", late).run_id == early_second
        assert ledger.previous_run("m", early_second).run_id == early_first
        assert ledger.previous_run("m", early_first) is None
        assert [r.run_id for r in ledger.records("m")] == [early_first, early_second, late]
        with pytest.raises(UsageError, match="no run 'nope' in the ledger"):
            ledger.previous_run("m", "nope")


def test_a_questions_history_has_one_row_per_run_that_forecast_it(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        a = ledger.record(run(1, as_of=dt.date(2024, 1, 1), qs=questions(0.2)))[0]
        ledger.record(run(2, as_of=dt.date(2024, 1, 15), qs=[QuestionRecord("other", "binary", probability=0.5)]))
        c = ledger.record(run(3, as_of=dt.date(2024, 2, 1), qs=questions(0.6)))[0]
        ledger.record(run(4, as_of=dt.date(2024, 2, 2), qs=questions(0.9), model="other"))
        history = ledger.history("yes", model="m")
        assert [(h["run_id"], h["probability"]) for h in history] == [(a, 0.2), (c, 0.6)]
        assert len(ledger.history("yes")) == 3
        assert ledger.history("nothing") == []


# ====================================================================== many writers, killed writers

WRITER = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    from scenarios.ledger import Ledger, QuestionRecord, RunRecord, utc_now

    path, worker, runs, n_questions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    die_in_run = int(sys.argv[5]) if len(sys.argv) > 5 else None  # SIGKILL itself inside this run's transaction
    with Ledger(path) as ledger:
        for i in range(runs):
            qs = [QuestionRecord(f"q{k}", "binary", "", probability=(i * 7 + k) % 100 / 100, mcse=0.01, ess=1000.0)
                  for k in range(n_questions)]
            run = RunRecord("m", "p" * 64, "e" * 64, dt.date(2024, 1, 1), worker * 1_000_000 + i, 1000, "report",
                            utc_now(), qs, [])
            if i == die_in_run:
                print("writing", run.run_id, flush=True)
                seen = []

                def die_halfway(sql):
                    seen.append(sql.startswith("INSERT INTO forecasts"))
                    if sum(seen) == n_questions // 2:
                        os.kill(os.getpid(), signal.SIGKILL)

                ledger.conn.set_trace_callback(die_halfway)
            run_id, added = ledger.record(run)
            assert added
            print(run_id, flush=True)
    """
)


@pytest.fixture
def writer(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)

    def start(path, worker: int, runs: int, n_questions: int, *die_in_run: int) -> subprocess.Popen:
        argv = [sys.executable, str(script), str(path), str(worker), str(runs), str(n_questions), *map(str, die_in_run)]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    return start


def test_eight_processes_writing_at_once_lose_nothing(tmp_path, writer):
    path = tmp_path / "ledger.sqlite"
    procs = [writer(path, w, 200, 5) for w in range(8)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err[-2000:] for _, err in outputs]
    printed = {line for out, _ in outputs for line in out.split()}
    assert len(printed) == 1600
    with Ledger(path, create=False) as ledger:
        assert {r["run_id"] for r in ledger.runs()} == printed
        assert ledger.check() == []
    assert rows(path, "runs") == 1600 and rows(path, "forecasts") == 8000
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_writer_killed_mid_loop_leaves_every_completed_run_whole(tmp_path, writer):
    path = tmp_path / "ledger.sqlite"
    n_questions = 300  # a large transaction: the kill often lands inside one
    completed = set()
    for round_, wait_for in enumerate((5, 12, 3)):
        proc = writer(path, round_, 10_000, n_questions)
        for _ in range(wait_for):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()[-2000:]
            completed.add(line.strip())
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()
        proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        counts = dict(conn.execute("SELECT run_id, COUNT(*) FROM forecasts GROUP BY run_id"))
        runs_ = [r[0] for r in conn.execute("SELECT run_id FROM runs")]
    assert completed <= set(runs_)
    assert all(counts.get(rid) == n_questions for rid in runs_)  # no run has part of its forecasts
    with Ledger(path, create=False) as ledger:
        assert ledger.check() == []
        for rid in completed:
            assert len(ledger.load(rid).questions) == n_questions
        assert ledger.record(run(99))[1]  # and the ledger takes new runs


def test_a_writer_killed_inside_a_transaction_leaves_no_trace_of_that_run(tmp_path, writer):
    path = tmp_path / "ledger.sqlite"
    n_questions = 40
    proc = writer(path, 0, 10, n_questions, 3)  # killed with half of run 3's forecast rows inserted
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err[-2000:]
    lines = out.split("\n")
    assert lines[3].startswith("writing ") and lines[4] == ""
    completed, dying = lines[:3], lines[3].split()[1]
    with Ledger(path, create=False) as ledger:
        assert ledger.check() == []
        assert {r["run_id"] for r in ledger.runs()} == set(completed)
        assert ledger.forecasts(dying) == []
        for rid in completed:
            assert len(ledger.forecasts(rid)) == n_questions


# ====================================================================== opening files


def test_a_new_ledger_and_its_folders_are_made(tmp_path):
    path = tmp_path / "deep" / "er" / "ledger.sqlite"
    with Ledger(path):
        pass
    with sqlite3.connect(path) as conn:
        assert user_version(conn) == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "forecasts"} <= tables


def test_a_sqlite_file_at_version_0_with_no_tables_is_migrated(tmp_path):
    path = tmp_path / "empty.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE scratch (x)")
        conn.execute("DROP TABLE scratch")
        assert user_version(conn) == 0
    with Ledger(path) as ledger:
        assert ledger.record(run())[1]
    with sqlite3.connect(path) as conn:
        assert user_version(conn) == SCHEMA_VERSION


def test_a_migration_step_is_one_function_and_a_failing_one_changes_nothing(tmp_path):
    path = str(tmp_path / "l.sqlite")
    with Ledger(path) as ledger:
        rid, _ = ledger.record(run())

    def add_notes(conn):
        conn.execute("ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT ''")

    def broken(conn):
        conn.execute("ALTER TABLE runs ADD COLUMN half_done TEXT")
        raise RuntimeError("step failed")

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(RuntimeError, match="step failed"):
            migrate(conn, path, (*MIGRATIONS, add_notes, broken))
        assert user_version(conn) == 1  # neither step kept
        assert "notes" not in {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
        migrate(conn, path, (*MIGRATIONS, add_notes))
        assert user_version(conn) == 2
        assert conn.execute("SELECT run_id, notes FROM runs").fetchall() == [(rid, "")]
    finally:
        conn.close()


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "l.sqlite"
    Ledger(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(ParamsError, match=r"l\.sqlite: the ledger's schema version is 99, newer than .* reads \(1\); upgrade"):
        Ledger(path)


def test_a_file_that_is_not_sqlite_is_refused_naming_it(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n" * 10)
    with pytest.raises(ParamsError, match=r"notes\.txt: not a forecast ledger: the file is not a SQLite database"):
        Ledger(path)
    assert path.read_text() == "just some notes\n" * 10


def test_another_programs_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
    with pytest.raises(ParamsError, match=r"other\.sqlite: not a forecast ledger: .* other tables \(customers\)"):
        Ledger(path)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(OutputError, match=f"{tmp_path}: cannot write: it is a directory"):
        Ledger(tmp_path)


def test_a_folder_that_cannot_be_made_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match=r"file/ledger\.sqlite: cannot write: cannot create its folder"):
        Ledger(blocker / "ledger.sqlite")


def test_a_missing_ledger_is_refused_for_reading(tmp_path):
    path = tmp_path / "none.sqlite"
    with pytest.raises(ParamsError, match=r"none\.sqlite: no ledger here"):
        Ledger(path, create=False)
    assert not path.exists()


def test_errors_of_a_closed_ledger_are_errors_not_crashes(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite")
    ledger.close()
    ledger.close()
    with pytest.raises(ValueError, match="the ledger is closed"):
        ledger.runs()


# ====================================================================== CSV export


def test_csv_numbers_are_plain_and_missing_ones_empty(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.record(run())
        texts = {q: ledger.history_csv(q) for q in ("yes", "undefined", "count", "when")}
    for text in texts.values():
        assert "None" not in text and "e+" not in text.lower() and "e-" not in text.lower()
    count = next(csv.DictReader(io.StringIO(texts["count"])))
    assert (count["mean"], count["q05"], count["q50"], count["q95"]) == ("12940.0", "0.0000001", "12000.0",
                                                                         "15000000000000000000000")
    assert count["probability"] == ""
    undefined = next(csv.DictReader(io.StringIO(texts["undefined"])))
    assert undefined["probability"] == "" and undefined["mcse"] == ""


def test_csv_of_a_date_question_gives_dates(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.record(run())
        row = next(csv.DictReader(io.StringIO(ledger.history_csv("when"))))
    # 40.2 days after 2024-01-01 is in the 41st day: 2024-02-11; inf is never
    assert (row["mean"], row["q05"], row["q50"], row["q95"]) == ("2024-02-11", "2024-01-04", "2024-02-10", "never")
    assert row["mcse"] == "1.25"


def test_an_empty_history_is_a_header_only():
    assert history_csv([]).splitlines() == [
        "question_id,run_id,created,as_of,model,source,seed,samples,type,probability,mcse,ess,mean"
    ]


@pytest.mark.parametrize(
    ("x", "text"),
    [(None, ""), (float("nan"), ""), (0.1, "0.1"), (12940.0, "12940.0"), (1e21, "1000000000000000000000"),
     (2.5e-8, "0.000000025"), (float("inf"), "inf"), (7, "7"), (-3.25, "-3.25")],
)
def test_plain_numbers(x, text):
    assert plain_number(x) == text
    if text not in ("", "inf"):
        assert float(plain_number(x)) == x


# ====================================================================== the command


def command(argv) -> int:
    parser = argparse.ArgumentParser(prog="scenarios")
    add_parser(parser.add_subparsers(dest="command"), [])
    return run_ledger_command(parser.parse_args(["ledger", *argv]))


@pytest.fixture
def ledger_file(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.record(run(1, as_of=dt.date(2024, 1, 1), label="first"))
        ledger.record(run(2, as_of=dt.date(2024, 2, 1), qs=questions(0.55)))
        ledger.record(run(3, model="other", qs=[QuestionRecord("x", "binary", probability=0.5)]))
    return str(path)


def test_the_command_lists_runs(ledger_file, capsys):
    assert command([ledger_file]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["run", "id", "recorded"]
    assert len(out) == 2 + 3 and out[2].rstrip().endswith("first")
    assert command([ledger_file, "--model", "other"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2 + 1


def test_the_command_prints_and_writes_a_questions_history(ledger_file, tmp_path, capsys):
    assert command([ledger_file, "--question", "yes"]) == 0
    got = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["as_of"], r["probability"]) for r in got] == [("2024-01-01", "0.3"), ("2024-02-01", "0.55")]
    out = tmp_path / "out" / "yes.csv"
    assert command([ledger_file, "--question", "yes", "--model", "m", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert list(csv.DictReader(io.StringIO(out.read_text()))) == got


@pytest.mark.parametrize(
    ("argv", "error", "match"),
    [
        (["--question", "yess"], UsageError, r"no forecast of question 'yess' in the ledger \(did you mean 'yes'\?\)"),
        (["--question", "x", "--model", "m"], UsageError, r"no forecast of question 'x' by model 'm'"),
        (["--model", "mm"], UsageError, r"no run of model 'mm' in the ledger \(did you mean 'm'\?\)"),
    ],
)
def test_the_command_refuses_unknown_names(ledger_file, argv, error, match):
    with pytest.raises(error, match=match):
        command([ledger_file, *argv])


def test_the_command_refuses_a_missing_ledger(tmp_path):
    with pytest.raises(ScenarioError, match=r"nope\.sqlite: no ledger here"):
        command([str(tmp_path / "nope.sqlite")])
