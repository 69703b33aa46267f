"""Time ``scenarios report`` against executing an empty notebook with papermill, in one run.

Run from the repository root (the Makefile's ``bench`` target does):

    .venv/bin/python benchmarks/bench_report.py [--params params/base.yaml] [--samples N] [--repeat 3]
                                                [--only 01 02] [--trace] [--fresh-kernels]

Figures, each the median of ``--repeat`` runs, all measured here and now:

- report: wall time of ``scenarios report PARAMS --force`` as a command, from process start to
  exit, in a reports folder that already holds one earlier run (made first, not timed), as for a
  scheduled job: ``--force`` executes every notebook again, and the earlier run's durations let
  the runner start the longest notebook first;
- empty notebook: ``papermill.execute_notebook`` of a notebook with one tiny cell, in a warm
  process (kernel start, one cell, shutdown: the cost every notebook pays at least once), and,
  for reference, the same as a ``papermill`` command (process start and imports included);
- Monte Carlo: the simulation, forecasting and backtesting the report does, timed in-process
  with the same calls the notebooks make: the runner's forecast (forecasts.csv), 01_scenarios'
  simulate + run_forecast, 02_arms_flows' simulate, 03_backtest's backtest_for (with its fans).
  Only the notebooks that run count (``--only``); a notebook this script does not know is
  reported, since its Monte Carlo would be missing from the target.

Target: report <= 2 x (notebooks / jobs) x empty notebook + Monte Carlo.  Each repeat measures
the three back to back and has its own ratio; the verdict is on the median of those ratios, as
the machine's speed drifts between repeats.  Timings depend on the machine and its load; this is
a sanity check, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def _seconds(fn) -> float:
    """Wall time of one call of ``fn``."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _empty_notebook(folder: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "empty.ipynb"
    nbformat.write(nb, path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/base.yaml")
    ap.add_argument("--samples", type=int, default=None, help="default: the params file's samples")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--notebooks", default=None, help="notebooks folder (default: the project's notebooks/)")
    ap.add_argument("--only", nargs="+", metavar="PREFIX",
                    help="only the notebooks whose names start with these, e.g. --only 01 02 (copied to a temporary folder)")
    ap.add_argument("--trace", action="store_true", help="print the runner's timeline of one run")
    ap.add_argument("--fresh-kernels", action="store_true", help="pass --fresh-kernels (no kernel pool) to the report")
    args = ap.parse_args()
    os.chdir(REPO)
    if args.only:
        import atexit
        import shutil

        chosen = tempfile.mkdtemp(prefix="bench-notebooks-")
        atexit.register(shutil.rmtree, chosen, True)
        for path in sorted(Path(args.notebooks or REPO / "notebooks").glob("*.ipynb")):
            if path.name.startswith(tuple(args.only)):
                shutil.copy(path, chosen)
        args.notebooks = chosen

    from scenarios.report import default_jobs, find_notebooks, import_papermill

    pm = import_papermill()  # the runner's own fast import path
    notebooks = len(find_notebooks(args.notebooks))
    jobs = default_jobs()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty = _empty_notebook(tmp)
        run = lambda: pm.execute_notebook(str(empty), str(tmp / "out.ipynb"), parameters={"x": 2},  # noqa: E731
                                          kernel_name="python3", progress_bar=False)
        run()  # warm: first kernel start also warms the OS file cache
        papermill_cmd = [str(VENV_BIN / "papermill"), "-p", "x", "2", "-k", "python3", "--no-progress-bar",
                         str(empty), str(tmp / "out.ipynb")]
        empty_cli_s = _seconds(lambda: subprocess.run(papermill_cmd, check=True, capture_output=True))

        # Monte Carlo work of one report: the same calls as the runner and each notebook make
        from scenarios.backtest import backtest_for
        from scenarios.engine.forecast import run_forecast
        from scenarios.engine.simulate import simulate
        from scenarios.model.load import load_model

        model, questions = load_model(args.params)
        n = args.samples or model.samples
        mc_of = {
            "01_scenarios": lambda: (simulate(model, n, model.seed),
                                     run_forecast(model, questions, samples=n, seed=model.seed)),
            "02_arms_flows": lambda: simulate(model, n, model.seed),
            "03_backtest": lambda: backtest_for(model, questions, args.params, samples=n, seed=model.seed, fans=True),
        }
        stems = [p.stem for p in find_notebooks(args.notebooks)]
        unknown = [s for s in stems if s not in mc_of]
        if unknown:
            print(f"warning: no Monte Carlo counted for {', '.join(unknown)}", file=sys.stderr)

        def monte_carlo():
            run_forecast(model, questions, samples=n, seed=model.seed)  # the runner's forecasts.csv
            for stem in stems:
                if stem in mc_of:
                    mc_of[stem]()

        cmd = [str(VENV_BIN / "scenarios"), "report", args.params]
        if args.notebooks:
            cmd += ["--notebooks", args.notebooks]
        if args.samples:
            cmd += ["--samples", str(args.samples)]
        if args.fresh_kernels:
            cmd += ["--fresh-kernels"]
        out = tmp / "reports"
        first = subprocess.run(cmd + ["--out", str(out)], capture_output=True, text=True)  # the earlier run
        if first.returncode != 0:
            print(first.stdout, first.stderr, file=sys.stderr)
            return 1
        cmd += ["--force"]

        # Each repeat measures all three back to back: this VM's speed drifts within minutes, and
        # a ratio of figures taken at different moments would carry that drift.
        empties, mcs, walls = [], [], []
        for i in range(args.repeat):
            empties.append(_seconds(run))
            mcs.append(_seconds(monte_carlo))
            env = dict(os.environ, SCENARIOS_REPORT_TRACE="1") if (args.trace and i == 0) else None
            t0 = time.perf_counter()
            proc = subprocess.run(cmd + ["--out", str(out)], capture_output=True, text=True, env=env)
            walls.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                print(proc.stdout, proc.stderr, file=sys.stderr)
                return 1
            if env:
                print("".join(line + "\n" for line in proc.stderr.splitlines() if line.startswith("[trace")))
        wall_s, empty_s, mc_s = (statistics.median(x) for x in (walls, empties, mcs))
        ratios = [w / (2 * (notebooks / jobs) * e + m) for w, e, m in zip(walls, empties, mcs, strict=True)]

    target = 2 * (notebooks / jobs) * empty_s + mc_s
    ratio = statistics.median(ratios)
    print(f"params                      {args.params}  ({n:,} worlds)")
    print(f"notebooks / jobs            {notebooks} / {jobs}")
    print(f"report wall time            {wall_s:6.2f} s   (median of {args.repeat}: {', '.join(f'{w:.2f}' for w in walls)})")
    print(f"empty notebook, papermill   {empty_s:6.2f} s   (warm process; as a papermill command: {empty_cli_s:.2f} s)")
    print(f"Monte Carlo in the report   {mc_s:6.2f} s")
    print(f"ratio report / empty        {wall_s / empty_s:6.2f}   (vs the papermill command: {wall_s / empty_cli_s:.2f})")
    print(f"target 2*(N/J)*empty + MC   {target:6.2f} s   (medians of the figures above)")
    print(f"report / target             {ratio:6.2f}   (median of each repeat's own ratio: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}) -> {'met' if ratio <= 1 else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
