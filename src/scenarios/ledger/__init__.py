"""The forecast ledger: every published run kept in one SQLite file, its track record and its news.

One module per concept: :mod:`.records` (what is kept of a run, and its id), :mod:`.schema`
(the tables and their migrations), :mod:`.store` (the file: recording and reading runs),
:mod:`.export` (CSV and tables), :mod:`.track` (the published forecasts scored against
outcomes), :mod:`.changes` (what moved since the previous run) and :mod:`.command`
(``scenarios ledger``).

Importing the package loads no numpy: scoring imports it when something is scored.
"""

from .changes import Changes, Move, changes
from .command import add_parser, run_ledger_command
from .export import history_csv, plain_number, runs_table
from .records import SOURCES, QuestionRecord, RunRecord, run_id, run_record, utc_now
from .schema import SCHEMA_VERSION
from .store import BUSY_TIMEOUT_S, Ledger
from .track import PublishedScore, TrackRecord, published_track_record, question_end

__all__ = [
    "Ledger",
    "BUSY_TIMEOUT_S",
    "SCHEMA_VERSION",
    "QuestionRecord",
    "RunRecord",
    "SOURCES",
    "run_record",
    "run_id",
    "utc_now",
    "history_csv",
    "runs_table",
    "plain_number",
    "PublishedScore",
    "TrackRecord",
    "published_track_record",
    "question_end",
    "Move",
    "Changes",
    "changes",
    "add_parser",
    "run_ledger_command",
]
