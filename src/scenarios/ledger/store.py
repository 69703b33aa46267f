"""The ledger file: published runs kept in SQLite, safe to write from many processes at once.

The file is a SQLite database in WAL mode (readers never wait for a writer; writers take turns,
each waiting up to :data:`BUSY_TIMEOUT_S` for the others), with the schema of
:mod:`scenarios.ledger.schema`.  A run is written in one transaction, its row in ``runs`` and
all its rows in ``forecasts``: a process killed while writing leaves the run absent, never half
written.  SQLite's ``synchronous`` setting stays at its default, FULL: a committed run is on
disk (it survives a power cut, as the package's atomic file writes do) for one fsync, a few
milliseconds, per run.  Recording a run already in the ledger (same
:func:`~scenarios.ledger.records.run_id`) adds nothing.

Every failure of the file or of SQLite is a :class:`~scenarios.errors.ScenarioError` naming the
ledger's path: :class:`~scenarios.errors.OutputError` when it cannot be written (a directory, a
read-only place, a full disk, locked for longer than the timeout),
:class:`~scenarios.errors.ParamsError` when it cannot be used (not a SQLite file, another
program's database, a schema newer than this code).

Order of runs: by as-of date, then by the time they were recorded (UTC), then by run id; the
*previous* run of a model (:meth:`Ledger.previous_run`) is the one just before in that order,
so a report re-run for an old date compares with the run before that date, not with the last
one recorded.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sqlite3

from ..errors import OutputError, ParamsError, UsageError
from .export import history_csv, runs_table
from .records import QuestionRecord, RunRecord, check_run, question_content, run_id, utc_time
from .schema import migrate

__all__ = ["Ledger", "BUSY_TIMEOUT_S"]

BUSY_TIMEOUT_S = 30.0
"""Seconds a writer waits for the others before giving up (an :class:`OutputError`)."""

SQLITE_HEADER = b"SQLite format 3\x00"

_RUN_COLUMNS = ("run_id", "created", "model", "params_sha256", "evidence_sha256", "as_of", "seed", "samples",
                "source", "label", "evidence_items", "n_questions")
_FORECAST_COLUMNS = ("run_id", "question_id", "position", "type", "text", "open", "close", "probability", "mcse",
                     "ess", "mean", "quantiles")
_ORDER = "ORDER BY r.as_of, r.created, r.run_id"


class Ledger:
    """A forecast ledger file, open for recording and reading runs.

    Parameters
    ----------
    path : str or os.PathLike
        The ledger file; with ``create`` it and its folders are made when missing.
    create : bool
        False: refuse a missing file (for commands that only read).

    Examples
    --------
    >>> with Ledger(path) as ledger:                                  # doctest: +SKIP
    ...     run_id, added = ledger.record(run)
    ...     print(ledger.history_csv("q1"))
    """

    def __init__(self, path, *, create: bool = True):
        self.path = os.fspath(path)
        self._conn: sqlite3.Connection | None = None
        _check_file(self.path, create)
        with self._errors("open"):
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            with self._errors("open"):
                conn.row_factory = sqlite3.Row
                conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000):d}")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA journal_mode = WAL")
                migrate(conn, self.path)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    # ------------------------------------------------------------------ life

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (again is fine)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __repr__(self) -> str:
        return f"Ledger({self.path!r})"

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"{self.path}: the ledger is closed")
        return self._conn

    @contextlib.contextmanager
    def _errors(self, doing: str):
        """Turn SQLite's errors into errors naming the ledger's path."""
        try:
            yield
        except sqlite3.Error as exc:
            raise _sqlite_error(self.path, exc, doing) from None

    # ------------------------------------------------------------------ writing

    def record(self, run: RunRecord) -> tuple[str, bool]:
        """Append a published run, in one transaction.

        Parameters
        ----------
        run : RunRecord

        Returns
        -------
        (str, bool)
            The run's id, and whether it was added (False: the same run was already there, and
            nothing was written).

        Raises
        ------
        ValueError, TypeError
            A malformed record (a bug of the caller; see :func:`~scenarios.ledger.records.check_run`).
        OutputError
            The ledger cannot be written.
        """
        check_run(run)
        rid = run_id(run)
        run_row = (rid, utc_time(run.created), run.model, run.params_sha256, run.evidence_sha256, run.as_of.isoformat(),
                   int(run.seed), int(run.samples), run.source, run.label, json.dumps(list(run.evidence_items)),
                   len(run.questions))
        rows = [_forecast_row(rid, i, q) for i, q in enumerate(run.questions)]
        conn = self.conn
        with self._errors("write"):
            conn.execute("BEGIN IMMEDIATE")  # take the write lock now: no deadlock upgrading a read
            try:
                added = conn.execute(
                    f"INSERT OR IGNORE INTO runs ({', '.join(_RUN_COLUMNS)}) VALUES ({_marks(_RUN_COLUMNS)})", run_row
                ).rowcount == 1
                if added:
                    conn.executemany(
                        f"INSERT INTO forecasts ({', '.join(_FORECAST_COLUMNS)}) VALUES ({_marks(_FORECAST_COLUMNS)})", rows
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return rid, added

    # ------------------------------------------------------------------ reading

    def runs(self, model: str | None = None) -> list[dict]:
        """Every run (of ``model``, if given), in ledger order (as-of date, time recorded, id).

        Returns
        -------
        list of dict
            Keys: the columns of ``runs`` (``as_of`` a date, ``evidence_items`` a list).
        """
        where, args = ("WHERE r.model = ?", (model,)) if model is not None else ("", ())
        return [_run_dict(row) for row in self._query(f"SELECT * FROM runs r {where} {_ORDER}", args)]

    def forecasts(self, run_id: str) -> list[dict]:
        """The forecasts of one run, in the run's order (empty for an unknown run).

        Returns
        -------
        list of dict
            Keys: the columns of ``forecasts`` (``open``/``close`` dates, ``quantiles`` a dict or None).
        """
        rows = self._query("SELECT * FROM forecasts WHERE run_id = ? ORDER BY position", (run_id,))
        return [_forecast_dict(row) for row in rows]

    def load(self, run_id: str) -> RunRecord:
        """The :class:`RunRecord` of a run in the ledger (its id is ``run_id`` again).

        Raises
        ------
        UsageError
            No run has that id.
        """
        rows = self._query("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            raise UsageError(f"{self.path}: no run {run_id!r} in the ledger (scenarios ledger {self.path} lists them)")
        return _run_record(_run_dict(rows[0]), self.forecasts(run_id))

    def records(self, model: str | None = None) -> list[RunRecord]:
        """Every run (of ``model``, if given) as a :class:`RunRecord`, in ledger order."""
        by_run: dict = {}
        where, args = ("WHERE r.model = ?", (model,)) if model is not None else ("", ())
        rows = self._query(f"SELECT f.* FROM forecasts f JOIN runs r USING (run_id) {where} ORDER BY f.run_id, f.position", args)
        for row in rows:
            by_run.setdefault(row["run_id"], []).append(_forecast_dict(row))
        return [_run_record(r, by_run.get(r["run_id"], [])) for r in self.runs(model)]

    def previous_run(self, model: str, run_id: str) -> RunRecord | None:
        """The run of ``model`` just before run ``run_id`` in ledger order, or None.

        Ledger order is by as-of date, then time recorded, then id (see the module's docstring).

        Raises
        ------
        UsageError
            No run has id ``run_id``.
        """
        rows = self._query("SELECT as_of, created FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            raise UsageError(f"{self.path}: no run {run_id!r} in the ledger (scenarios ledger {self.path} lists them)")
        as_of, created = rows[0]["as_of"], rows[0]["created"]
        before = self._query(
            "SELECT run_id FROM runs WHERE model = ? AND (as_of, created, run_id) < (?, ?, ?) "
            "ORDER BY as_of DESC, created DESC, run_id DESC LIMIT 1",
            (model, as_of, created, run_id),
        )
        return self.load(before[0]["run_id"]) if before else None

    def history(self, question_id: str, model: str | None = None) -> list[dict]:
        """One question's forecasts, one per run that forecast it, in ledger order.

        Returns
        -------
        list of dict
            Keys: ``run_id``, ``created``, ``model``, ``as_of`` (a date), ``source``, ``seed``,
            ``samples``, ``question_id``, ``type``, ``probability``, ``mcse``, ``ess``, ``mean``,
            ``quantiles`` (a dict or None).
        """
        where, args = "WHERE f.question_id = ?", (question_id,)
        if model is not None:
            where, args = where + " AND r.model = ?", args + (model,)
        rows = self._query(
            "SELECT r.run_id, r.created, r.model, r.as_of, r.source, r.seed, r.samples, f.question_id, f.type, "
            f"f.probability, f.mcse, f.ess, f.mean, f.quantiles FROM forecasts f JOIN runs r USING (run_id) {where} {_ORDER}",
            args,
        )
        out = []
        for row in rows:
            d = dict(row)
            d["as_of"] = _dt.date.fromisoformat(d["as_of"])
            d["quantiles"] = _json(d["quantiles"])
            out.append(d)
        return out

    def history_csv(self, question_id: str, model: str | None = None) -> str:
        """:meth:`history` as CSV text with a header (see :func:`scenarios.ledger.export.history_csv`)."""
        return history_csv(self.history(question_id, model))

    def runs_table(self, model: str | None = None) -> str:
        """:meth:`runs` as a text table (see :func:`scenarios.ledger.export.runs_table`)."""
        return runs_table(self.runs(model))

    def question_ids(self, model: str | None = None) -> list[str]:
        """Every question id forecast in the ledger (by runs of ``model``, if given), sorted."""
        where, args = ("WHERE r.model = ?", (model,)) if model is not None else ("", ())
        rows = self._query(f"SELECT DISTINCT f.question_id FROM forecasts f JOIN runs r USING (run_id) {where} "
                           "ORDER BY f.question_id", args)
        return [row[0] for row in rows]

    def check(self) -> list[str]:
        """Problems with the file: SQLite's integrity check, and runs missing forecast rows.

        Returns
        -------
        list of str
            Empty when the ledger is sound.
        """
        problems = [row[0] for row in self._query("PRAGMA integrity_check") if row[0] != "ok"]
        partial = self._query(
            "SELECT r.run_id, r.n_questions, COUNT(f.question_id) AS n FROM runs r LEFT JOIN forecasts f USING (run_id) "
            "GROUP BY r.run_id HAVING n != r.n_questions"
        )
        problems += [f"run {row['run_id']}: {row['n']} of {row['n_questions']} forecasts" for row in partial]
        return problems

    def _query(self, sql: str, args=()) -> list:
        with self._errors("read"):
            return self.conn.execute(sql, args).fetchall()


# ---------------------------------------------------------------------- opening the file


def _check_file(path: str, create: bool) -> None:
    """Refuse, before SQLite opens it, a path that is no place for a ledger."""
    if os.path.isdir(path):
        raise OutputError(path, "it is a directory; give a file name for the ledger, e.g. reports/ledger.sqlite")
    if not os.path.exists(path):
        if not create:
            raise ParamsError(path, "", "no ledger here (scenarios report and scenarios forecast --record make one)")
        folder = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise OutputError(path, f"cannot create its folder: {exc.strerror or exc}") from None
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise OutputError(path, f"cannot read it: {exc.strerror or exc}") from None
    if head and head != SQLITE_HEADER:
        raise ParamsError(path, "", "not a forecast ledger: the file is not a SQLite database; give another file name")


def _sqlite_error(path: str, exc: sqlite3.Error, doing: str) -> Exception:
    """The :class:`ScenarioError` for a SQLite error met while ``doing`` (open, read, write)."""
    reason = str(exc)
    if getattr(exc, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "not a database" in reason:
        return ParamsError(path, "", f"not a usable forecast ledger: SQLite says {reason!r}")
    if "locked" in reason or "busy" in reason:
        reason += f" (other processes held it for more than {BUSY_TIMEOUT_S:g} s)"
    if doing == "read":
        return ParamsError(path, "", f"cannot read the ledger: {reason}")
    return OutputError(path, reason)


# ---------------------------------------------------------------------- rows <-> records


def _marks(columns) -> str:
    return ", ".join("?" * len(columns))


def _forecast_row(rid: str, position: int, q: QuestionRecord) -> tuple:
    c = question_content(q)
    quantiles = None if c["quantiles"] is None else json.dumps(c["quantiles"])
    return (rid, c["id"], position, c["type"], c["text"], c["open"], c["close"], c["probability"], c["mcse"],
            c["ess"], c["mean"], quantiles)


def _json(text):
    return None if text is None else json.loads(text)


def _date(text):
    return None if text is None else _dt.date.fromisoformat(text)


def _run_dict(row) -> dict:
    d = dict(row)
    d["as_of"] = _dt.date.fromisoformat(d["as_of"])
    d["evidence_items"] = json.loads(d["evidence_items"])
    return d


def _forecast_dict(row) -> dict:
    d = dict(row)
    d["open"], d["close"] = _date(d["open"]), _date(d["close"])
    d["quantiles"] = _json(d["quantiles"])
    return d


def _run_record(run: dict, forecasts: list) -> RunRecord:
    questions = [
        QuestionRecord(id=f["question_id"], type=f["type"], text=f["text"], probability=f["probability"], mcse=f["mcse"],
                       ess=f["ess"], mean=f["mean"], quantiles=f["quantiles"], open=f["open"], close=f["close"])
        for f in forecasts
    ]
    return RunRecord(
        model=run["model"], params_sha256=run["params_sha256"], evidence_sha256=run["evidence_sha256"],
        as_of=run["as_of"], seed=run["seed"], samples=run["samples"], source=run["source"], created=run["created"],
        questions=questions, evidence_items=run["evidence_items"], label=run["label"],
    )
