"""The ledger's tables and their migrations, versioned by SQLite's ``PRAGMA user_version``.

Version N of the schema is what :data:`MIGRATIONS` ``[0]`` to ``[N - 1]`` build, applied in order
to a file at version 0 (new and empty).  To change the schema, append one function that takes
a file from the last version to the next (``ALTER TABLE``, ``CREATE INDEX``, copying rows, ...);
opening a ledger applies the missing steps in one transaction, so an older ledger is upgraded
whole or not at all, and a ledger newer than the code is refused rather than misread.
"""

from __future__ import annotations

import sqlite3

from ..errors import ParamsError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "user_version"]


def _version_1(conn: sqlite3.Connection) -> None:
    """Runs and their forecasts, one row per question of each run."""
    conn.execute(
        """
        CREATE TABLE runs (
            run_id          TEXT PRIMARY KEY,
            created         TEXT NOT NULL,     -- ISO-8601, UTC
            model           TEXT NOT NULL,
            params_sha256   TEXT NOT NULL,
            evidence_sha256 TEXT,              -- NULL: no evidence file
            as_of           TEXT NOT NULL,     -- YYYY-MM-DD
            seed            INTEGER NOT NULL,
            samples         INTEGER NOT NULL,
            source          TEXT NOT NULL,     -- report | forecast
            label           TEXT NOT NULL DEFAULT '',
            evidence_items  TEXT NOT NULL,     -- JSON list of item ids public by as_of
            n_questions     INTEGER NOT NULL   -- forecasts rows the run has
        )
        """
    )
    conn.execute("CREATE INDEX runs_by_model ON runs (model, as_of, created)")
    conn.execute(
        """
        CREATE TABLE forecasts (
            run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            question_id TEXT NOT NULL,
            position    INTEGER NOT NULL,      -- order in the run
            type        TEXT NOT NULL,         -- binary | numeric | date
            text        TEXT NOT NULL DEFAULT '',
            open        TEXT,                  -- YYYY-MM-DD
            close       TEXT,
            probability REAL,                  -- binary
            mcse        REAL,
            ess         REAL,
            mean        REAL,                  -- numeric; date: days after as_of
            quantiles   TEXT,                  -- JSON {"0.05": value, ...}
            PRIMARY KEY (run_id, question_id)
        )
        """
    )
    conn.execute("CREATE INDEX forecasts_by_question ON forecasts (question_id)")


MIGRATIONS = (_version_1,)
"""``MIGRATIONS[k]`` takes a ledger from version k to k + 1."""

SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version written in the file (0: a new file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: str, migrations=MIGRATIONS) -> None:
    """Bring the ledger at ``path`` to the last version of ``migrations``, in one transaction.

    ``conn`` is in autocommit mode (``isolation_level=None``).  Another process may open the
    same new file at the same time: the version is read again once the write lock is held, so
    only one of them migrates.  A step that fails leaves the file as it was.

    Parameters
    ----------
    conn : sqlite3.Connection
    path : str
        The ledger's path, for messages.
    migrations : sequence of callable
        ``migrations[k](conn)`` takes the file from version k to k + 1 (default :data:`MIGRATIONS`).

    Raises
    ------
    ParamsError
        The file's version is newer than this code knows, or it is at version 0 but already
        holds tables (some other program's database).
    """
    latest = len(migrations)
    version = user_version(conn)
    _check_known(version, latest, path)
    if version == latest:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = user_version(conn)
        _check_known(version, latest, path)
        if version == 0:
            _check_empty(conn, path)
        for step in migrations[version:]:
            step(conn)
        # user_version lives in the file's header page: setting it is part of this transaction
        conn.execute(f"PRAGMA user_version = {latest:d}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _check_known(version: int, latest: int, path: str) -> None:
    if version > latest:
        raise ParamsError(
            path, "",
            f"the ledger's schema version is {version}, newer than this version of scenarios reads "
            f"({latest}); upgrade scenarios (pip install -U -e .) or give another ledger file",
        )


def _check_empty(conn: sqlite3.Connection, path: str) -> None:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    if tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise ParamsError(
            path, "",
            f"not a forecast ledger: a SQLite database with other tables ({shown}) and no ledger schema "
            "version; give a new file name for the ledger",
        )
