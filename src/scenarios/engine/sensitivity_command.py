"""``scenarios sensitivity PARAMS QUESTION``: what moves a forecast, as a table or CSV.

:func:`add_parser` defines the command on the command line's subparsers and
:func:`run_sensitivity_command` runs it (the computation is :mod:`scenarios.engine.sensitivity`).
Exit codes as every command: 0 success, 2 bad input with a one-line message on standard error
(an unknown question names the closest ids).
"""

from __future__ import annotations

import argparse
import sys

from .run_options import MAX_SAMPLES, parse_seed, parse_worlds

__all__ = ["add_parser", "run_sensitivity_command"]


def _samples(text: str) -> int:
    """``--samples``: a whole number of worlds in [1, MAX_SAMPLES] (``20_000`` and ``20,000`` too)."""
    n = parse_worlds(text)
    if not 1 <= n <= MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_SAMPLES:,} worlds, got {n:,}")
    return n


def add_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    """Add ``sensitivity`` to ``subparsers`` (from ``add_subparsers``); ``parents``: shared options."""
    p = subparsers.add_parser(
        "sensitivity", parents=list(parents),
        help="what moves a forecast: each parameter held at its 5%% and 95%% values, and its importance",
        description="For each uncertain parameter (a number node drawn from a distribution that the question "
                    "reads): the forecast with the parameter held at its 5% and at its 95% value, every other "
                    "node drawing the same random numbers (a tornado chart's bars), and its first-order Sobol "
                    "index (the share of the answer's variance its value explains).",
    )
    p.add_argument("params", help="params file (YAML)")
    p.add_argument("question", nargs="+", metavar="QUESTION",
                   help="question id(s), or 'all' for every binary question")
    p.add_argument("--samples", "-n", type=_samples, help="worlds per forecast (default: the file's samples)")
    p.add_argument("--seed", type=parse_seed, help="random seed of every forecast (default: the file's seed)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a value, e.g. --set summit_chance.beta.mean=0.7 (repeatable; value parsed as YAML)")
    p.add_argument("--questions", help="questions file to use instead of the params file's own")
    p.add_argument("--format", choices=("table", "csv"), default="table")
    return p


def run_sensitivity_command(args) -> int:
    """Run ``scenarios sensitivity`` with parsed ``args``; print the result; return the exit code."""
    from ..errors import ParamsError, ScenarioError
    from ..model.load import load_model
    from .sensitivity import format_csv, format_table, run_sensitivity, select_questions

    try:
        model, questions = load_model(args.params, overrides=args.overrides, questions=args.questions)
        if not questions:
            raise ParamsError(args.params, "questions",
                              "the model has no questions; add questions: or pass --questions FILE")
        chosen = select_questions(questions, args.question)
        results = run_sensitivity(model, chosen, samples=args.samples, seed=args.seed)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(format_csv(results) if args.format == "csv" else format_table(results))
    return 0
