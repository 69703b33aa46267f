"""``scenarios ledger``: list a ledger's runs, or export one question's history as CSV.

::

    scenarios ledger reports/ledger.sqlite                      # the runs, as a table
    scenarios ledger reports/ledger.sqlite --model base         # the runs of one model
    scenarios ledger reports/ledger.sqlite --question summit    # a question's history, CSV
    scenarios ledger reports/ledger.sqlite --question summit -o summit.csv

Only reads the ledger (a missing file is an error, not a new ledger).  Imports nothing heavy.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError

__all__ = ["add_parser", "run_ledger_command"]


def add_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    """Add the ``ledger`` command to ``subparsers`` (of :func:`scenarios.cli.build_parser`).

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers`` returned.
    parents : sequence of ArgumentParser
        Shared option parsers (``add_help=False``).

    Returns
    -------
    ArgumentParser
        The ``ledger`` command's parser.
    """
    p = subparsers.add_parser("ledger", parents=list(parents),
                              help="list the runs recorded in a forecast ledger, or export a question's history as CSV")
    p.add_argument("path", metavar="LEDGER", help="ledger file (SQLite), as written by report / forecast --record")
    p.add_argument("--model", default=None, help="only the runs of this model")
    p.add_argument("--question", default=None, metavar="ID",
                   help="print this question's forecast in every run as CSV instead of listing the runs")
    p.add_argument("--output", "-o", default=None, metavar="FILE",
                   help="write to this file (atomically; only a regular file is replaced) instead of standard output; "
                        "- is standard output")
    return p


def run_ledger_command(args) -> int:
    """Run ``scenarios ledger`` with parsed ``args``; 0 on success.

    Raises
    ------
    ScenarioError
        A missing or unusable ledger, an unknown model or question (the command line prints it
        and exits with code 2).
    """
    from .export import history_csv, runs_table
    from .store import Ledger

    with Ledger(args.path, create=False) as ledger:
        if args.model is not None and not ledger.runs(args.model):
            models = sorted({r["model"] for r in ledger.runs()})
            raise UsageError(f"{args.path}: no run of model {args.model!r} in the ledger{_choices(args.model, models, 'models')}")
        if args.question is None:
            text = runs_table(ledger.runs(args.model))
        else:
            rows = ledger.history(args.question, args.model)
            if not rows:
                known = ledger.question_ids(args.model)
                by = f" by model {args.model!r}" if args.model is not None else ""
                raise UsageError(f"{args.path}: no forecast of question {args.question!r}{by} in the ledger"
                                 + _choices(args.question, known, "questions"))
            text = history_csv(rows)
    if args.output and args.output != "-":
        from ..atomic import write_text

        write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _choices(word: str, options: list, what: str) -> str:
    """`` (did you mean 'x'?)`` when one is close, else the options (up to 10), else ``''``."""
    from ..model.schema import did_you_mean

    hint = did_you_mean(word, options)
    if hint or not options:
        return hint
    shown = ", ".join(options[:10]) + (", ..." if len(options) > 10 else "")
    return f"; its {what}: {shown}"
