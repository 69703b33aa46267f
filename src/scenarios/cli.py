"""Command line: ``scenarios forecast | validate``.

Exit codes: 0 success, 2 bad input (a clear message, no traceback, nothing written),
1 a bug, 3 (``report`` only) the report was written but a notebook failed or timed out.  Heavy imports (numpy, yaml, scipy) happen inside the commands, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import os
import sys

from .engine.run_options import MAX_SAMPLES, parse_seed, parse_worlds


def _positive_samples(text: str) -> int:
    n = parse_worlds(text)
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected at least 1 world, got {n}")
    if n > MAX_SAMPLES:
        raise argparse.ArgumentTypeError(f"{n:,} worlds is more than the limit of {MAX_SAMPLES:,}")
    return n


def _trial_worlds(text: str) -> int:
    """``validate --worlds``: a number of worlds, or 0 for the static checks only."""
    return 0 if text.strip() == "0" else _positive_samples(text)


def _data_file_options(parser: argparse.ArgumentParser, *, resolutions: str) -> None:
    """``--resolutions``, ``--evidence``, ``--series``: override the params file's keys of the same names."""
    parser.add_argument("--resolutions", metavar="FILE", help=f"resolutions file, {resolutions} (default: the params file's resolutions:, else none)")
    parser.add_argument("--evidence", metavar="FILE", help="evidence file (default: the params file's evidence:, else none)")
    parser.add_argument("--series", metavar="FILE", help="real dated series file (default: the params file's series:, else none)")


_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
          "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4, "tb": 1000**4, "tib": 1024**4}


def _bytes(text: str) -> int:
    """A size such as ``4194304``, ``8MiB``, ``500MB`` or ``1.5GiB``."""
    import re

    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"expected a size such as 8MiB, 500MB or 1.5GiB, got {text[:80]!r}")
    n = int(float(match.group(1)) * _UNITS[unit])
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a size above 0, got {text[:80]!r}")
    return n


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, at least 1, got {text[:80]!r}")
    return n


def _input_options() -> argparse.ArgumentParser:
    """Options every command that reads files shares."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--max-file-size", type=_bytes, default=None, metavar="SIZE",
                        help="largest input file read, e.g. 16MiB (default 4MiB)")
    common.add_argument("--allow-outside-project", action="store_true",
                        help="let paths inside params files (extends:, questions:, evidence:, ...) name files "
                             "outside the project folder")
    return common


def _run_options() -> argparse.ArgumentParser:
    """Options of the commands that simulate worlds."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--memory-budget", type=_bytes, default=None, metavar="SIZE",
                        help="refuse a run whose estimated peak memory is larger, e.g. 2GiB (default: "
                             "half of the memory available when the run starts)")
    common.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="run the chunks of worlds on a Dask cluster, e.g. tcp://host:8786 (default: "
                             "$SCENARIOS_DASK; needs pip install -e '.[dask]'); the numbers are the same")
    common.add_argument("--cache", default=None, metavar="DIR",
                        help="keep the as-of chain's worlds and results in DIR and continue from them, so a "
                             "run after new evidence computes only what changed; the numbers are the same "
                             "(default: $SCENARIOS_CHAIN_CACHE; report: OUT/.chain-cache)")
    return common


def build_parser() -> argparse.ArgumentParser:
    inputs, runs = _input_options(), _run_options()
    parser = argparse.ArgumentParser(
        prog="scenarios",
        description="Probabilistic scenario models in YAML: forecasts, reports and backtests.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    f = sub.add_parser("forecast", parents=[inputs, runs], help="forecast every question of a params file")
    f.add_argument("params", help="params file (YAML)")
    f.add_argument("--samples", "-n", type=_positive_samples, help="number of simulated worlds (default: the file's samples)")
    f.add_argument("--seed", type=parse_seed, help="random seed (default: the file's seed)")
    f.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a value, e.g. --set summit_chance.beta.mean=0.7 (repeatable; value parsed as YAML)")
    f.add_argument("--questions", help="questions file to use instead of the params file's own")
    f.add_argument("--format", choices=("table", "json", "csv"), default="table")
    f.add_argument("--output", "-o", help="write to this file (atomically; only a regular file is replaced) instead of standard output; - is standard output")
    f.add_argument("--as-of", dest="as_of", help="condition on the evidence public on or before this date (YYYY-MM-DD)")
    f.add_argument("--record", action="store_true",
                   help="append the forecast to the forecast ledger (--ledger, default reports/ledger.sqlite)")
    f.add_argument("--ledger", default=None, metavar="PATH", help="the ledger file --record appends to (implies --record)")
    f.add_argument("--jobs", "-j", type=_jobs, default=None,
                   help="with --as-of: worker processes for the chunks of worlds (default: $SCENARIOS_JOBS or "
                        "the number of cores); the numbers are the same for every value")
    _data_file_options(f, resolutions="with --as-of: skip questions resolved by then")

    v = sub.add_parser("validate", parents=[inputs], help="check params files and their questions; print clear errors")
    v.add_argument("params", nargs="+", help="params files (YAML)")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    v.add_argument("--worlds", type=_trial_worlds, default=1000,
                   help="worlds simulated to find what only happens in some worlds (default 1,000; 0: static checks only)")
    b = sub.add_parser("backtest", parents=[inputs, runs], help="forecast every open question at every as-of date and score against outcomes")
    b.add_argument("params", help="params file (YAML)")
    b.add_argument("--questions", help="questions file (default: the params file's questions)")
    _data_file_options(b, resolutions="the outcomes scored against")
    b.add_argument("--as-of-dates", dest="as_of_dates", help="comma-separated as-of dates (YYYY-MM-DD,...)")
    b.add_argument("--monthly", nargs=2, metavar=("FROM", "TO"), help="as-of dates monthly from FROM to TO")
    b.add_argument("--samples", "-n", type=_positive_samples, help="number of simulated worlds")
    b.add_argument("--seed", type=parse_seed, help="random seed")
    b.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    b.add_argument("--out", default=None, help="folder for backtest.csv and summary.json (default: reports/backtest-<model>)")
    b.add_argument("--strict", action="store_true",
                   help="exit 2 when a resolution matches no question of the model (default: a warning)")
    b.add_argument("--recalibrate", action="store_true",
                   help="also score forecasts recalibrated from questions resolved before each as-of date (beside the raw ones)")
    b.add_argument("--jobs", "-j", type=_jobs, default=None,
                   help="worker processes for the chunks of worlds (default: $SCENARIOS_JOBS or the number of "
                        "cores); the numbers are the same for every value")
    b.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show as-of dates done and the time left on standard error (default: when it is a terminal)")

    r = sub.add_parser("report", parents=[inputs, runs], help="execute the notebooks for params files into a dated HTML report")
    r.add_argument("params", nargs="*", default=["params/base.yaml"], help="params files (default: params/base.yaml)")
    r.add_argument("--out", default="reports", help="reports folder (default: reports/)")
    r.add_argument("--samples", "-n", type=_positive_samples, help="number of simulated worlds (default: the file's samples)")
    r.add_argument("--seed", type=parse_seed, help="random seed (default: the file's seed)")
    r.add_argument("--jobs", "-j", type=int, default=None, help="notebooks run in parallel (default: number of cores)")
    r.add_argument("--force", action="store_true", help="re-run notebooks even if their inputs are unchanged")
    r.add_argument("--ledger", default=None, metavar="PATH",
                   help="forecast ledger (SQLite) each run's published forecasts are appended to (default: OUT/ledger.sqlite)")
    r.add_argument("--as-of", dest="as_of", default=None, metavar="YYYY-MM-DD",
                   help="the date the report is as of: every notebook conditions on the evidence public by then, "
                        "beside the model's prior (default: today, clipped to each model's horizon)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    _data_file_options(r, resolutions="the outcomes the backtest notebook scores against")
    r.add_argument("--notebooks", default=None, help="notebooks folder (default: the package's notebooks/)")
    r.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds (default 600)")
    from .ledger.command import add_parser as add_ledger_parser  # argparse only: --help stays fast

    add_ledger_parser(sub)
    from .engine.sensitivity_command import add_parser as add_sensitivity_parser

    add_sensitivity_parser(sub, [inputs])
    return parser


def _cmd_backtest(args) -> int:
    from .backtest import run_backtest_command

    return run_backtest_command(args)


def _cmd_report(args) -> int:
    from .report.run import run_report_command

    return run_report_command(args)


def _cmd_sensitivity(args) -> int:
    from .engine.sensitivity_command import run_sensitivity_command

    return run_sensitivity_command(args)


def _cmd_ledger(args) -> int:
    from .ledger.command import run_ledger_command

    return run_ledger_command(args)


def _cmd_forecast(args) -> int:
    from .atomic import write_text
    from .backtest.data import load_model_data
    from .engine.forecast import run_forecast
    from .model.data_files import data_files
    from .model.load import load_model

    model, questions = load_model(args.params, overrides=args.overrides, questions=args.questions)
    if not questions:
        from .errors import ParamsError

        raise ParamsError(args.params, "questions", "the model has no questions to forecast; add questions: or pass --questions FILE")
    data = load_model_data(model, data_files(model, resolutions=args.resolutions, evidence=args.evidence, series=args.series))
    if args.as_of:
        from .engine.asof import forecast_as_of
        from .model.scenario import parse_date

        as_of = parse_date(args.as_of, None, ("--as-of",))
        resolved_on = None if data.resolutions is None else {k: r.resolved_on for k, r in data.resolutions.items()}
        from .engine.checkpoint import chain_store
        from .engine.parallel import dask_address, executor

        with executor(args.jobs, dask_address(args.dask)) as pool:
            result = forecast_as_of(
                model, questions, data.evidence, as_of, samples=args.samples, seed=args.seed, resolved_on=resolved_on,
                pool=pool, store=chain_store(args.cache),
            )
        if result.ess is not None and result.ess < 1000:
            print(f"warning: effective sample size {result.ess:,.0f} is below 1,000; use more --samples", file=sys.stderr)
    else:
        result = run_forecast(model, questions, samples=args.samples, seed=args.seed)
    text = {"table": result.to_table, "json": result.to_json, "csv": result.to_csv}[args.format]()
    if args.output and args.output != "-":
        write_text(args.output, text)
    else:
        sys.stdout.write(text)
    if args.record or args.ledger:
        from .ledger.publish import record_forecast

        path = args.ledger or os.path.join("reports", "ledger.sqlite")
        run_id, added = record_forecast(path, model, result, data.evidence if args.as_of else None, source="forecast")
        print(f"{'recorded' if added else 'already recorded'}: run {run_id} in {path}", file=sys.stderr)
    return 0


def _is_questions_file(path: str) -> bool:
    """A file holding only ``questions:`` (checked through the params files that use it)."""
    from .errors import ScenarioError
    from .model.params import load_yaml_file

    try:
        doc, _ = load_yaml_file(path)
    except ScenarioError:
        return False
    return isinstance(doc, dict) and set(doc) == {"questions"}


def _cmd_validate(args) -> int:
    import os

    from .backtest.data import load_model_data
    from .engine.trial import trial_problems
    from .errors import ScenarioError
    from .model.data_files import data_files
    from .model.load import load_model

    failed = 0
    used_questions: dict = {}
    question_files = [p for p in args.params if _is_questions_file(p)]
    for path in args.params:
        if path in question_files:
            continue
        try:
            model, questions = load_model(path, overrides=args.overrides)
            data = load_model_data(model, data_files(model))
            evidence = data.evidence if model.evidence_raw is not None else None
            problems = trial_problems(model, questions, evidence, samples=args.worlds) if args.worlds else []
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if problems:
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            failed += 1
            continue
        if isinstance(model.questions_raw, str):
            qpath = os.path.realpath(model.doc.resolve_path(("questions",), model.questions_raw))
            used_questions.setdefault(qpath, path)
        extra = "".join([
            f", {len(data.evidence.items)} evidence items" if model.evidence_raw is not None else "",
            f", {len(data.resolutions)} resolutions" if data.resolutions is not None else "",
            f", {len(data.series)} series" if data.series is not None else "",
        ])
        orphans = sorted(set(data.resolutions or {}) - {q.id for q in questions})
        if orphans:
            from .backtest.run import orphan_resolutions_message

            print(f"warning: {path}: {orphan_resolutions_message(orphans)}", file=sys.stderr)
        trial = f"; {args.worlds:,} worlds simulated" if args.worlds else ""
        print(f"ok: {path}: {len(model.nodes)} nodes, {len(questions)} questions{extra}{trial}")
    for path in question_files:
        user = used_questions.get(os.path.realpath(path))
        if user is None:
            print(
                f"error: {path}: a questions file is checked against a model; validate the params file "
                "that names it (questions: FILE) or run forecast PARAMS --questions FILE",
                file=sys.stderr,
            )
            failed += 1
        else:
            print(f"ok: {path}: questions file, checked with {user}")
    return 2 if failed else 0


def _location_errors() -> frozenset:
    import errno

    names = ("EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "ENOTDIR", "EISDIR", "ENAMETOOLONG", "ELOOP",
             "EEXIST", "EMLINK", "EFBIG", "ENOENT", "EMFILE", "ENFILE")
    return frozenset(getattr(errno, n) for n in names if hasattr(errno, n))


_LOCATION_ERRORS = _location_errors()
"""Errors of the system about a place to read or write (bad input or environment: exit 2, not a bug)."""


def _apply_limits(args) -> None:
    """Set the input and memory limits the command line gives, for this process and its kernels."""
    limits = {}
    if getattr(args, "max_file_size", None) is not None:
        limits["max_file_size"] = args.max_file_size
    if getattr(args, "allow_outside_project", False):
        limits["allow_outside_project"] = True
    if limits:
        from .model.loader import set_input_limits

        set_input_limits(export=True, **limits)
    if getattr(args, "memory_budget", None) is not None:
        from .engine.memory import set_memory_budget

        set_memory_budget(args.memory_budget, export=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from .errors import ScenarioError

    _apply_limits(args)
    handler = {"forecast": _cmd_forecast, "validate": _cmd_validate, "report": _cmd_report, "backtest": _cmd_backtest,
               "ledger": _cmd_ledger, "sensitivity": _cmd_sensitivity}[args.command]
    try:
        return handler(args)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError:
        print("error: out of memory; use fewer --samples or a smaller model", file=sys.stderr)
        return 2
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno in _LOCATION_ERRORS:
            where = exc.filename if exc.filename is not None else "a file"
            print(f"error: {where}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        import traceback

        traceback.print_exc()
        print("\nThis is a bug in scenarios (exit code 1); please report it with the command you ran.", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
