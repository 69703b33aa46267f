"""``scenarios report``: execute the notebooks for params files into dated HTML reports.

For each params file, every notebook in ``notebooks/`` is executed with papermill (notebooks in
parallel worker processes, each with its own kernel) into a run folder::

    reports/2024-05-01T0600_base/
        manifest.json                 what produced the run, per-notebook status and duration
        forecasts.csv, forecasts.json every question's forecast (computed here, in-process)
        01_scenarios.ipynb/.html      executed copy and standalone HTML (code hidden by default)
        figures/01_scenarios/*.png|svg
        logs/01_scenarios.log         the kernel's standard error
    reports/index.html                every run, newest first
    reports/latest -> 2024-05-01T0600_base   the newest complete run

A run is built in ``reports/.<name>.partial-XXXX/`` and renamed when done, so a folder under
its final name is always whole; a failed run is renamed too (so the error can be read) but
marked failed, and ``latest`` does not move.  Parameters are checked against each notebook's
parameters cell before any kernel starts; a notebook whose inputs are unchanged since an
earlier complete run is copied from it instead of executed (``--force`` re-executes).

Notebooks see their inputs through :func:`notebook_inputs`, so a notebook opened in JupyterLab
with its default parameters runs exactly as the runner runs it.
"""

from __future__ import annotations

import ast
import datetime as _dt
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import write_text
from .errors import ScenarioError, UsageError

__all__ = [
    "ReportError",
    "NotebookParameterError",
    "NotebookInputs",
    "notebook_inputs",
    "declared_parameters",
    "check_parameters",
    "import_papermill",
    "cache_key",
    "run_report",
    "run_report_command",
    "build_index",
    "RunResult",
    "STANDARD_PARAMETERS",
    "EXIT_NOTEBOOK_FAILED",
]

STANDARD_PARAMETERS = ("params_file", "samples", "seed", "as_of", "overrides", "output_dir")
"""Parameters the runner passes to every notebook; each notebook must declare all of them."""

OPTIONAL_PARAMETERS = ("series_file",)
"""Passed only to notebooks that declare them."""

KERNEL_NAME = "python3"
EXIT_NOTEBOOK_FAILED = 3
"""Exit code when the report was written but a notebook failed or timed out."""

MANIFEST_SCHEMA = 1
HEADLINE_QUESTIONS = 6


class ReportError(ScenarioError):
    """The report cannot be built as asked (no notebooks, a bad folder, ...)."""


class NotebookParameterError(ReportError, ValueError):
    """A parameter the notebook does not declare, or of the wrong type.

    Attributes
    ----------
    notebook : str
    parameter : str
    """

    def __init__(self, notebook: str, parameter: str, message: str):
        self.notebook = notebook
        self.parameter = parameter
        super().__init__(f"{notebook}: parameter {parameter!r}: {message}")


# --------------------------------------------------------------------------- notebook side


@dataclass
class NotebookInputs:
    """What a notebook works on: the validated model, its questions, worlds and seed."""

    model: object
    questions: list
    samples: int
    seed: int
    params_file: str


def notebook_inputs(params_file: str, *, samples: int = 0, seed: int = -1, as_of: str = "",
                    overrides: dict | None = None) -> NotebookInputs:
    """Load a notebook's model from its parameters (the parameters cell's conventions).

    Parameters
    ----------
    params_file : str
    samples : int
        Worlds to simulate; 0 means the params file's ``samples``.
    seed : int
        Random seed; -1 means the params file's ``seed``.
    as_of : str
        Forecast date ``YYYY-MM-DD``; "" means the model's own ``as_of``.  Only that date is
        supported here: forecasting as of a later date means conditioning on the evidence public
        by then, which these notebooks do not do yet (the model's clock is never moved).
    overrides : dict, optional
        ``{"dotted.path": value}``, as ``--set dotted.path=value``.

    Raises
    ------
    ScenarioError
        A bad params file or override, or an ``as_of`` other than the model's.
    """
    from .model_io import load_model

    model, questions = load_model(params_file, overrides=dict(overrides or {}))
    if as_of:
        try:
            day = _dt.date.fromisoformat(str(as_of).strip())
        except ValueError:
            raise ReportError(f"as_of: expected a date as YYYY-MM-DD, got {as_of!r}") from None
        if day != model.as_of:
            raise ReportError(
                f"as_of: {day} is not the model's as_of ({model.as_of}); forecasting as of another date "
                "(conditioning on the evidence public by then) is not wired into the report notebooks "
                "yet: leave as_of empty"
            )
    return NotebookInputs(
        model, questions,
        model.samples if samples in (0, None) else int(samples),
        model.seed if seed in (-1, None) else int(seed),
        params_file,
    )


# --------------------------------------------------------------------------- parameters


def import_papermill():
    """Import papermill (and so nbformat and jsonschema) once, fast.

    jsonschema imports ``rfc3987_syntax`` when it is installed, which builds dozens of lark
    grammars at import time: over 2 s here (python-jsonschema/jsonschema#1428).  It serves only
    the "iri" string formats, which notebook validation never checks, so when jsonschema is not
    yet loaded the runner tells Python the module is absent (``sys.modules[...] = None`` makes
    ``import`` raise ImportError, which jsonschema handles).
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)
    import papermill

    return papermill


_TYPE_NAMES = {"str": str, "int": int, "float": float, "bool": bool, "dict": dict, "list": list, "tuple": tuple}


def declared_parameters(notebook: str | os.PathLike) -> dict:
    """The parameters a notebook's ``parameters`` cell declares.

    Returns
    -------
    dict of name -> {"type": str or None, "default": str, "help": str}
        ``type`` comes from the annotation (``samples: int = 0``), else from the literal
        default; None when neither tells.

    Raises
    ------
    ReportError
        If the notebook cannot be read or has no cell tagged ``parameters``.
    """
    pm = import_papermill()
    path = str(notebook)
    try:
        raw = pm.inspect_notebook(path)
    except Exception as exc:  # papermill raises several kinds for unreadable notebooks
        raise ReportError(f"{path}: cannot read the notebook: {exc}") from None
    assigned = _assigned_names(path)
    if assigned is None:
        raise ReportError(f"{path}: no cell tagged 'parameters'; tag the first cell 'parameters' in JupyterLab")
    missed = [n for n in assigned if n not in raw]
    if missed:
        # papermill skips a line it cannot parse (e.g. a '=' in the comment) with only a log warning
        raise ReportError(
            f"{path}: papermill cannot read parameter {missed[0]!r} in the parameters cell; "
            "write one 'name: type = literal  # help' per line, with no '=' in the help"
        )
    out = {}
    for name, p in raw.items():
        type_name = p.get("inferred_type_name") or "None"
        if type_name == "None":
            try:
                type_name = type(ast.literal_eval(p.get("default", ""))).__name__
            except (ValueError, SyntaxError):
                type_name = None
            if type_name == "NoneType":
                type_name = None
        out[name] = {"type": type_name, "default": p.get("default"), "help": p.get("help", "")}
    return out


def _assigned_names(path: str) -> list | None:
    """Names the parameters cell assigns (by Python's own parser), or None without such a cell."""
    with open(path, encoding="utf-8") as fh:
        nb = json.load(fh)
    for cell in nb.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            try:
                tree = ast.parse(src)
            except SyntaxError as exc:
                raise ReportError(f"{path}: parameters cell, line {exc.lineno}: {exc.msg}") from None
            names = []
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
                names += [t.id for t in targets if isinstance(t, ast.Name)]
            return names
    return None


def _literal_ok(value) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_literal_ok(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _literal_ok(v) for k, v in value.items())
    return False


def check_parameters(notebook: str | os.PathLike, parameters: dict, declared: dict | None = None) -> None:
    """Check parameters against what the notebook declares, before any kernel starts.

    papermill only warns about a parameter the notebook does not declare and passes on
    whatever type it is given; here an unknown name or a wrong type is an error.  An int is
    accepted where a float is declared; a bool is not an int.

    Raises
    ------
    NotebookParameterError
        Naming the notebook and the parameter, with the closest declared name.
    """
    name = os.path.basename(str(notebook))
    declared = declared_parameters(notebook) if declared is None else declared
    for key, value in parameters.items():
        if key not in declared:
            close = difflib.get_close_matches(key, list(declared), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise NotebookParameterError(
                name, key, f"the notebook does not declare it{hint}; it declares {', '.join(sorted(declared)) or 'nothing'}"
            )
        if not _literal_ok(value):
            raise NotebookParameterError(name, key, f"cannot pass a {type(value).__name__}; use str, int, float, bool, list or dict")
        want = declared[key]["type"]
        expected = _TYPE_NAMES.get(want) if want else None
        if expected is None:
            continue
        ok = isinstance(value, expected) and not (isinstance(value, bool) and expected is not bool)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if expected is list and isinstance(value, tuple):
            ok = True
        if not ok:
            raise NotebookParameterError(
                name, key, f"expected {want} (default {declared[key]['default']}), got {type(value).__name__} {value!r}"
            )


def _jsonable(value):
    """Plain JSON data: dates as ISO strings, tuples as lists, anything else as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


# --------------------------------------------------------------------------- paths and keys


def repo_root() -> Path:
    """The project folder: the checkout holding this package (src layout), else the cwd."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def _notebooks(folder: str | None) -> list[Path]:
    base = Path(folder) if folder else repo_root() / "notebooks"
    if not base.is_dir():
        raise ReportError(f"{base}: notebooks folder not found; pass --notebooks FOLDER")
    found = sorted(p for p in base.glob("*.ipynb") if not p.name.startswith("."))
    if not found:
        raise ReportError(f"{base}: no notebooks (*.ipynb) in the folder")
    return found


def _questions_file(model) -> str | None:
    raw = model.questions_raw
    if isinstance(raw, str):
        return os.path.join(os.path.dirname(model.doc.origin(("questions",)) or "."), raw)
    return None


def _input_files(model) -> list[str]:
    files = list(model.doc.files)
    q = _questions_file(model)
    if q:
        files.append(q)
    return files


def _sha256(path) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _tree_files(folder: Path, pattern: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts)


def _versions() -> dict:
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for dist in ("scenarios", "numpy", "scipy", "matplotlib", "PyYAML", "papermill", "nbconvert",
                 "nbclient", "nbformat", "ipykernel", "jupyter_client"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def cache_key(*, notebook: Path, input_files, parameters: dict, package_files, data_files, versions: dict) -> str:
    """SHA-256 over everything that decides a notebook's output.

    The notebook's bytes, every params layer and questions file, the parameters passed (minus
    where outputs go), the package's source files, the data files and the versions of the
    libraries that compute and draw.
    """
    h = hashlib.sha256()

    def feed(tag: str, data: bytes) -> None:
        h.update(tag.encode() + b"\0" + len(data).to_bytes(8, "little") + data)

    feed("notebook", Path(notebook).read_bytes())
    for f in input_files:
        feed("params", Path(f).read_bytes())
    stable = {k: v for k, v in parameters.items() if k not in ("output_dir", "params_file", "series_file")}
    feed("parameters", json.dumps(_jsonable(stable), sort_keys=True).encode())
    for f in package_files:
        feed("package:" + Path(f).name, Path(f).read_bytes())
    for f in data_files:
        feed("data:" + Path(f).name, Path(f).read_bytes())
    feed("versions", json.dumps(versions, sort_keys=True).encode())
    return h.hexdigest()


# --------------------------------------------------------------------------- execution (worker)


def _mark_aborted(nb, message: str, ename: str) -> None:
    """Put an error where execution stopped, so the saved notebook shows it like a cell error."""
    import nbformat

    started = [c for c in nb.cells if c.get("cell_type") == "code" and c.metadata.get("papermill", {}).get("start_time")]
    if started:
        cell = started[-1]
        cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"]))
        cell.metadata.papermill["exception"] = True
        cell.metadata.papermill["status"] = "failed"
    banner = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-size:1.5em;">{ename}: {message}</span>'
        "<br>The cells after the one that shows this error did not run."
    )
    banner.metadata["tags"] = ["scenarios-error"]
    # papermill reads every cell's status when it finishes the notebook
    banner.metadata["papermill"] = {"exception": None, "start_time": None, "end_time": None,
                                    "duration": None, "status": "completed"}
    nb.cells.insert(0, banner)
    nb.metadata.setdefault("papermill", {})["exception"] = True


def _engine_class():
    from papermill.engines import NBClientEngine

    class ReportEngine(NBClientEngine):
        """nbclient engine that, when a cell times out or the kernel dies, still writes the
        executed notebook with the error in the cell where it happened (papermill raises
        without saving it when cells are not saved as they run)."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            save_to = kwargs.pop("save_on_abort", None)
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except BaseException as exc:
                if save_to:
                    import nbformat

                    timeout = type(exc).__name__ == "CellTimeoutError"
                    message = (f"a cell ran longer than the {kwargs.get('execution_timeout')} s timeout"
                               if timeout else str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
                    _mark_aborted(nb_man.nb, message, type(exc).__name__)
                    nb_man.notebook_complete()
                    write_text(save_to, nbformat.writes(nb_man.nb))
                raise

    return ReportEngine


def _execute(task: dict) -> dict:
    """Run one notebook in this (worker) process; never raises.

    Returns
    -------
    dict with status ("ok", "failed" or "timeout"), message and duration in seconds.
    """
    t0 = time.monotonic()
    pm = import_papermill()
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.engines import papermill_engines

    if "scenarios" not in papermill_engines._engines:
        papermill_engines.register("scenarios", _engine_class())
    # the kernel inherits this process's stderr: send it (and papermill's warnings) to the log
    saved_fd = os.dup(2)
    log_fd = os.open(task["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 2)
    try:
        pm.execute_notebook(
            task["input"], task["output"], parameters=task["parameters"], engine_name="scenarios",
            kernel_name=KERNEL_NAME, cwd=task["cwd"], progress_bar=False, log_output=False,
            execution_timeout=task["timeout"], request_save_on_cell_execute=False,
            shutdown_kernel="immediate", save_on_abort=task["output"],
        )
        status, message = "ok", ""
    except pm.PapermillExecutionError as exc:
        status, message = "failed", f"cell [{exc.exec_count}]: {exc.ename}: {exc.evalue}"
    except CellTimeoutError:
        status, message = "timeout", f"a cell ran longer than the {task['timeout']} s timeout"
    except DeadKernelError as exc:
        status, message = "failed", f"the kernel died: {exc}"
    except Exception as exc:  # a failure of this notebook must not take the others down
        status, message = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        sys.stderr.flush()
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        os.close(log_fd)
    return {"status": status, "message": message, "duration": round(time.monotonic() - t0, 3)}


_T0 = time.monotonic()


def _trace(message: str) -> None:
    """Timeline of a run on stderr when SCENARIOS_REPORT_TRACE is set (used by the benchmark)."""
    if os.environ.get("SCENARIOS_REPORT_TRACE"):
        print(f"[trace {time.monotonic() - _T0:7.3f}s] {message}", file=sys.stderr, flush=True)


def _pool(workers: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork (where available) so workers start with papermill already imported
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))


# --------------------------------------------------------------------------- HTML

_CODE_TOGGLE = """
<style>
body:not(.scenarios-show-code) .jp-CodeCell .jp-Cell-inputWrapper { display: none; }
body:not(.scenarios-show-code) .jp-CodeCell .jp-Cell-outputWrapper { margin-top: 0; }
#scenarios-code-toggle { position: fixed; top: 8px; right: 12px; z-index: 100; font: 12px sans-serif; }
table.scenarios-table td, table.scenarios-table th { vertical-align: top; max-width: 40em; }
@media print { #scenarios-code-toggle { display: none; } }
</style>
"""
_CODE_BUTTON = (
    '<button id="scenarios-code-toggle" onclick="document.body.classList.toggle(\'scenarios-show-code\')">'
    "show / hide code</button>"
)


class _HtmlWriter:
    """nbconvert's HTML exporter, built once in the runner's own process."""

    def __init__(self):
        import nbformat
        from nbconvert import HTMLExporter

        self.exporter = HTMLExporter(template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
        # warm up while the kernels work: templates load and the code highlighter compiles its
        # patterns (most of a first export's time) on first use
        warm = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        self.exporter.from_notebook_node(warm)

    def write(self, ipynb: Path, html_path: Path, title: str) -> None:
        import nbformat

        nb = nbformat.read(str(ipynb), as_version=4)
        body, _ = self.exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        body = body.replace("</head>", _CODE_TOGGLE + "</head>", 1)
        i = body.find(">", body.find("<body")) + 1
        body = body[:i] + _CODE_BUTTON + body[i:]
        write_text(str(html_path), body)


# --------------------------------------------------------------------------- progress


class _Progress:
    """One updating line on a terminal; plain log lines otherwise (both on stderr)."""

    SYMBOL = {"queued": "-", "running": "..", "ok": "ok", "cached": "cached", "failed": "FAILED", "timeout": "TIMEOUT"}

    def __init__(self, tasks, stream=None, tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.tasks = list(tasks)
        self.state = {t: "queued" for t in self.tasks}
        self.t0 = {}
        self.took = {}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        if self.tty:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()

    def set(self, task, state: str, message: str = "", took: float | None = None) -> None:
        """Record a task's new state; ``took`` is its own duration when known (seconds)."""
        with self.lock:
            self.state[task] = state
            if state == "running":
                self.t0[task] = time.monotonic()
            elif took is not None:
                self.took[task] = took
            elif state in ("ok", "failed", "timeout", "cached") and task in self.t0:
                self.took[task] = time.monotonic() - self.t0[task]
            if self.tty:
                self._draw()
            else:
                took = f" ({self.took[task]:.1f} s)" if task in self.took and state != "running" else ""
                tail = f": {message}" if message else ""
                print(f"report: {task}: {state}{took}{tail}", file=self.stream, flush=True)

    def _draw(self) -> None:
        now = time.monotonic()
        parts = []
        for t in self.tasks:
            s = self.state[t]
            secs = self.took.get(t, now - self.t0[t] if t in self.t0 else None)
            parts.append(f"{t} {self.SYMBOL[s]}" + (f" {secs:.1f}s" if secs is not None and s != "cached" else ""))
        done = sum(1 for t in self.tasks if self.state[t] not in ("queued", "running"))
        line = f"report [{done}/{len(self.tasks)}] " + "  ".join(parts)
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r" + line[:width] + "\x1b[K")
        self.stream.flush()

    def _spin(self) -> None:
        while not self._stop.wait(0.25):
            with self.lock:
                self._draw()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            with self.lock:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()


# --------------------------------------------------------------------------- runs


@dataclass
class _Task:
    plan: object
    notebook: Path
    parameters: dict
    key: str = ""
    status: str = "queued"
    message: str = ""
    duration: float | None = None
    cached_from: str | None = None

    @property
    def stem(self) -> str:
        return self.notebook.stem

    @property
    def label(self) -> str:
        return f"{self.plan.name}/{self.stem}"


@dataclass
class _Plan:
    params_file: str
    name: str
    model: object
    questions: list
    samples: int
    seed: int
    overrides: dict
    partial: Path | None = None
    tasks: list = field(default_factory=list)
    forecast_status: str = "ok"
    forecast_message: str = ""
    headline: list = field(default_factory=list)


@dataclass
class RunResult:
    """One params file's run: where it went and how it ended."""

    name: str
    path: Path
    status: str
    notebooks: list


def _overrides_dict(overrides) -> dict:
    from .params import parse_override

    out = {}
    for item in overrides or []:
        if isinstance(item, tuple):
            key, value = item
        else:
            parts, value = parse_override(item)
            key = ".".join(parts)
        out[key] = _jsonable(value)
    return out


def _read_manifests(out: Path) -> list[dict]:
    runs = []
    if not out.is_dir():
        return runs
    for entry in out.iterdir():
        if entry.name.startswith(".") or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            with open(entry / "manifest.json", encoding="utf-8") as fh:
                m = json.load(fh)
        except (OSError, ValueError):
            continue
        m["_dir"] = entry.name
        runs.append(m)
    runs.sort(key=lambda m: (m.get("started", ""), m["_dir"]), reverse=True)
    return runs


def _cached_source(out: Path, previous: list[dict], task: _Task) -> Path | None:
    for m in previous:
        if m.get("status") != "complete":
            continue
        for nb in m.get("notebooks", []):
            if nb.get("notebook") == task.notebook.name and nb.get("cache_key") == task.key and nb.get("status") == "ok":
                run = out / m["_dir"]
                if (run / nb["ipynb"]).exists() and (run / nb["html"]).exists():
                    return run
    return None


def _copy_outputs(src: Path, dst: Path, stem: str) -> None:
    for suffix in (".ipynb", ".html"):
        shutil.copy2(src / (stem + suffix), dst / (stem + suffix))
    figs = src / "figures" / stem
    if figs.is_dir():
        shutil.copytree(figs, dst / "figures" / stem, dirs_exist_ok=True)


def _git_info(root: Path) -> dict | None:
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit or None, "dirty": bool(dirty)}


def _forecast(plan: _Plan) -> None:
    from .forecast import run_forecast

    try:
        if not plan.questions:
            plan.forecast_status, plan.forecast_message = "none", "the model has no questions"
            return
        fc = run_forecast(plan.model, plan.questions, samples=plan.samples, seed=plan.seed)
        write_text(str(plan.partial / "forecasts.csv"), fc.to_csv())
        write_text(str(plan.partial / "forecasts.json"), fc.to_json())
        plan.headline = [{"id": q.id, "text": q.text, "forecast": q.summary()} for q in fc.questions[:HEADLINE_QUESTIONS]]
    except Exception as exc:  # recorded; the notebooks still run
        plan.forecast_status, plan.forecast_message = "failed", f"{type(exc).__name__}: {exc}"


def _publish_modes(folder: Path) -> None:
    """Make files readable like ordinary files (atomic writes create them owner-only)."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        mode = 0o777 if path.is_dir() else 0o666
        os.chmod(path, mode & ~umask)


def _final_rename(partial: Path, out: Path, base: str) -> Path:
    for i in range(1, 1000):
        target = out / (base if i == 1 else f"{base}-{i}")
        if target.exists():
            continue
        try:
            os.rename(partial, target)
            return target
        except OSError:
            continue  # taken meanwhile by a concurrent run
    raise ReportError(f"{out}: cannot find a free folder name for {base}")


def _update_latest(out: Path, runs: list[dict]) -> None:
    complete = [m for m in runs if m.get("status") == "complete"]
    if not complete:
        return
    target = complete[0]["_dir"]
    link = out / "latest"
    if link.is_symlink() and os.readlink(link) == target:
        return
    tmp = out / f".latest.{os.getpid()}.tmp"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(target, tmp)
        os.replace(tmp, link)
    except OSError:  # no symlinks (some Windows set-ups): a text file naming the run
        write_text(str(out / "LATEST"), target + "\n")


def build_index(out: str | os.PathLike) -> Path:
    """(Re)write ``out/index.html`` from the manifests of every run, newest first."""
    import html

    out = Path(out)
    runs = _read_manifests(out)
    rows = []
    for m in runs:
        d = html.escape(m["_dir"])
        status = m.get("status", "?")
        colour = {"complete": "#2a7d2a", "failed": "#b22222"}.get(status, "#555")
        links = []
        for nb in m.get("notebooks", []):
            label = html.escape(nb["notebook"].removesuffix(".ipynb"))
            mark = "" if nb.get("status") == "ok" else f" <b style='color:#b22222'>({html.escape(nb.get('status', '?'))})</b>"
            links.append(f"<a href='{d}/{html.escape(nb['html'])}'>{label}</a>{mark}")
        if m.get("forecasts", {}).get("status") == "ok":
            links.append(f"<a href='{d}/forecasts.csv'>forecasts.csv</a>")
        links.append(f"<a href='{d}/manifest.json'>manifest</a>")
        heads = "".join(
            f"<li><span title='{html.escape(h['text'])}'>{html.escape(h['id'])}</span>: {html.escape(h['forecast'])}</li>"
            for h in m.get("headline", [])
        )
        params = ", ".join(html.escape(p["path"]) for p in m.get("params", [])[:1])
        rows.append(
            f"<tr><td><a href='{d}/'>{d}</a><br><small>{html.escape(m.get('started', ''))}</small></td>"
            f"<td style='color:{colour};font-weight:bold'>{html.escape(status)}</td>"
            f"<td>{params}<br><small>{m.get('samples', 0):,} worlds, seed {m.get('seed')}</small></td>"
            f"<td>{' · '.join(links)}</td><td><ul>{heads}</ul></td></tr>"
        )
    latest = ""
    complete = [m for m in runs if m.get("status") == "complete"]
    if complete:
        latest = f"<p>Latest complete run: <a href='latest/'>{html.escape(complete[0]['_dir'])}</a></p>"
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Scenario reports</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border-bottom:1px solid #ddd;padding:6px 10px;text-align:left;vertical-align:top}}
ul{{margin:0;padding-left:1.2em}} small{{color:#666}}</style></head>
<body><h1>Scenario reports</h1>{latest}
<table><thead><tr><th>run</th><th>status</th><th>params</th><th>outputs</th><th>headline forecasts</th></tr></thead>
<tbody>{''.join(rows) or '<tr><td colspan=5>no runs yet</td></tr>'}</tbody></table></body></html>
"""
    path = out / "index.html"
    write_text(str(path), page)
    _publish_modes_file(path)
    _update_latest(out, runs)
    return path


def _publish_modes_file(path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def _manifest(plan: _Plan, *, started, finished, versions, git, run_name: str) -> dict:
    notebooks = []
    for t in plan.tasks:
        figs = plan.partial / "figures" / t.stem
        params = dict(t.parameters)
        params["output_dir"] = f"figures/{t.stem}"
        notebooks.append({
            "notebook": t.notebook.name,
            "status": "ok" if t.status in ("ok", "cached") else t.status,
            "executed": t.status != "cached",
            "cached_from": t.cached_from,
            "message": t.message,
            "duration_s": t.duration,
            "ipynb": t.stem + ".ipynb",
            "html": t.stem + ".html",
            "figures": sorted(str(p.relative_to(plan.partial)) for p in figs.glob("*") if p.is_file()),
            "parameters": params,
            "cache_key": t.key,
        })
    ok = all(n["status"] == "ok" for n in notebooks) and plan.forecast_status in ("ok", "none")
    return {
        "schema": MANIFEST_SCHEMA,
        "name": run_name,
        "status": "complete" if ok else "failed",
        "params": [{"path": f, "abspath": os.path.abspath(f), "sha256": _sha256(f)} for f in _input_files(plan.model)],
        "model": plan.model.name,
        "as_of": plan.model.as_of.isoformat(),
        "overrides": plan.overrides,
        "resolved_parameters": _jsonable(plan.model.doc.data),
        "samples": plan.samples,
        "seed": plan.seed,
        "git": git,
        "versions": versions,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 3),
        "forecasts": {"status": plan.forecast_status, "message": plan.forecast_message,
                      "csv": "forecasts.csv", "json": "forecasts.json"},
        "headline": plan.headline,
        "notebooks": notebooks,
    }


def default_jobs() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def run_report(
    params_files,
    *,
    out: str | os.PathLike = "reports",
    samples: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    force: bool = False,
    overrides=(),
    notebooks: str | os.PathLike | None = None,
    timeout: int = 600,
    parameters: dict | None = None,
    stream=None,
    tty: bool | None = None,
) -> list[RunResult]:
    """Execute every notebook for each params file into a dated run folder under ``out``.

    Parameters
    ----------
    params_files : list of str
    out : path
        Reports folder.
    samples, seed : int, optional
        Default: each params file's own.
    jobs : int, optional
        Notebooks executed at once (default: the number of cores).
    force : bool
        Execute even notebooks whose inputs match an earlier complete run.
    overrides : list of "dotted.path=value"
    notebooks : path, optional
        Folder of notebooks (default: the project's ``notebooks/``).
    timeout : int
        Seconds a cell may run.
    parameters : dict, optional
        Extra notebook parameters, checked like the others.
    stream, tty
        Where progress goes (default stderr) and whether to draw it as one updating line.

    Returns
    -------
    list of RunResult, one per params file.

    Raises
    ------
    ScenarioError
        Bad params files, overrides or notebook parameters: raised before any kernel starts
        and before anything is written.
    """
    from .model_io import load_model

    started = _dt.datetime.now().astimezone()
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs: expected at least 1, got {jobs}")
    if timeout is not None and timeout <= 0:
        raise UsageError(f"--timeout: expected a number of seconds > 0, got {timeout}")
    jobs = jobs or default_jobs()
    nb_paths = _notebooks(str(notebooks) if notebooks else None)
    declared = {p: declared_parameters(p) for p in nb_paths}
    root = repo_root()
    series = root / "data" / "numeric_series.yaml"
    over = _overrides_dict(overrides)
    out = Path(out).absolute()  # kernels run in the notebooks folder: every path they get is absolute

    _trace("notebooks inspected")
    # ---- validate everything before any kernel starts or anything is written
    plans: list[_Plan] = []
    for pf in params_files:
        model, questions = load_model(pf, overrides=list(overrides or []))
        n = samples if samples is not None else model.samples
        s = seed if seed is not None else model.seed
        plan = _Plan(pf, Path(pf).stem, model, questions, n, s, over)
        for nb in nb_paths:
            params = {"params_file": os.path.abspath(pf), "samples": n, "seed": s, "as_of": "",
                      "overrides": over, "output_dir": ""}
            if "series_file" in declared[nb]:
                params["series_file"] = str(series)
            params.update(parameters or {})
            check_parameters(nb, params, declared[nb])
            plan.tasks.append(_Task(plan, nb, params))
        plans.append(plan)

    _trace("params loaded and parameters checked")
    # ---- plan: folders, cache keys, cached copies
    out.mkdir(parents=True, exist_ok=True)
    previous = [] if force else _read_manifests(out)
    versions = _versions()
    package_files = sorted(Path(__file__).parent.glob("*.py"))
    data_files = _tree_files(root / "data", "*")
    stamp = started.strftime("%Y-%m-%dT%H%M")
    todo: list[_Task] = []
    progress = _Progress([t.label for p in plans for t in p.tasks], stream=stream, tty=tty)
    pool = None
    try:
        for plan in plans:
            plan.partial = Path(tempfile.mkdtemp(prefix=f".{plan.name}.partial-", dir=out))
            (plan.partial / "logs").mkdir()
            for t in plan.tasks:
                t.parameters["output_dir"] = str(plan.partial / "figures" / t.stem)
                t.key = cache_key(notebook=t.notebook, input_files=_input_files(plan.model), parameters=t.parameters,
                                  package_files=package_files, data_files=data_files, versions=versions)
                src = None if force else _cached_source(out, previous, t)
                if src is None:
                    todo.append(t)
                    continue
                _copy_outputs(src, plan.partial, t.stem)
                old = next(nb for m in previous if m["_dir"] == src.name for nb in m["notebooks"]
                           if nb["notebook"] == t.notebook.name)
                t.status, t.cached_from, t.duration = "cached", src.name, old.get("duration_s")
                t.message = f"inputs unchanged since {src.name}"
                progress.set(t.label, "cached")

        futures = {}
        if todo:
            pool = _pool(min(jobs, len(todo)))
            for i, t in enumerate(todo):
                task = {"input": str(t.notebook.absolute()), "output": str(t.plan.partial / (t.stem + ".ipynb")),
                        "parameters": t.parameters, "cwd": str(t.notebook.parent.absolute()), "timeout": timeout,
                        "log": str(t.plan.partial / "logs" / (t.stem + ".log"))}
                futures[pool.submit(_execute, task)] = t
                if i < jobs:  # a free worker takes it at once
                    t.status = "running"
                    progress.set(t.label, "running")
            _trace(f"{len(futures)} notebooks submitted to {min(jobs, len(todo))} workers")
        # The runner's own work (forecasts, git, the HTML exporter) waits until a worker is done:
        # with one worker per core, doing it earlier would only slow the kernels down.
        git = html_writer = None

        def own_work():
            nonlocal git, html_writer
            for plan in plans:
                _forecast(plan)
            _trace("forecasts written")
            git = _git_info(root)
            html_writer = _HtmlWriter()
            _trace("HTML exporter ready")

        if not futures:
            own_work()
        pending = set(futures)
        from concurrent.futures import FIRST_COMPLETED, wait

        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            if done and html_writer is None:
                own_work()
            for f in done:
                t = futures[f]
                try:
                    result = f.result()
                except Exception as exc:  # the worker process itself died (killed, out of memory)
                    result = {"status": "failed", "duration": None,
                              "message": f"the worker process failed: {type(exc).__name__}: {exc}"}
                t.status, t.message, t.duration = result["status"], result["message"], result["duration"]
                ipynb = t.plan.partial / (t.stem + ".ipynb")
                if ipynb.exists():
                    try:
                        html_writer.write(ipynb, t.plan.partial / (t.stem + ".html"), f"{t.stem} · {t.plan.name}")
                    except Exception as exc:
                        t.status, t.message = "failed", f"HTML export failed: {type(exc).__name__}: {exc}"
                elif t.status == "ok":
                    t.status, t.message = "failed", "papermill wrote no executed notebook"
                progress.set(t.label, t.status, t.message, took=t.duration)
                _trace(f"{t.label} {t.status} in {t.duration} s; HTML written")
            for f in pending:
                t = futures[f]
                if t.status == "queued" and f.running():
                    t.status = "running"
                    progress.set(t.label, "running")
    except BaseException:
        progress.close()
        if pool is not None:
            # stop the workers; each kernel notices its parent is gone and exits
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
        for plan in plans:
            if plan.partial is not None:
                shutil.rmtree(plan.partial, ignore_errors=True)
        raise
    progress.close()
    if pool is not None:
        pool.shutdown(wait=True)

    results = []
    finished = _dt.datetime.now().astimezone()
    for plan in plans:
        for log in (plan.partial / "logs").glob("*.log"):
            if log.stat().st_size == 0:
                log.unlink()
        base = f"{stamp}_{plan.name}"
        manifest = _manifest(plan, started=started, finished=finished, versions=versions, git=git, run_name=base)
        write_text(str(plan.partial / "manifest.json"), json.dumps(manifest, indent=2) + "\n")
        _publish_modes(plan.partial)
        final = _final_rename(plan.partial, out, base)
        if final.name != base:  # the manifest names the folder it is in
            manifest["name"] = final.name
            write_text(str(final / "manifest.json"), json.dumps(manifest, indent=2) + "\n")
            _publish_modes_file(final / "manifest.json")
        results.append(RunResult(final.name, final, manifest["status"], manifest["notebooks"]))
    build_index(out)
    _trace("manifests, index and latest written")
    return results


def run_report_command(args) -> int:
    """The ``scenarios report`` command: build the reports, print where they are.

    Returns
    -------
    int
        0 when every run is complete, :data:`EXIT_NOTEBOOK_FAILED` (3) when a notebook failed
        or timed out (its run is written and marked failed).
    """
    results = run_report(
        args.params, out=args.out, samples=args.samples, seed=args.seed, jobs=args.jobs, force=args.force,
        overrides=args.overrides, notebooks=args.notebooks, timeout=args.timeout,
    )
    failed = 0
    for r in results:
        print(f"{r.status}: {r.path}")
        for nb in r.notebooks:
            if nb["status"] != "ok":
                failed += 1
                print(f"  {nb['notebook']}: {nb['status']}: {nb['message']}")
    print(f"index: {Path(args.out) / 'index.html'}")
    return EXIT_NOTEBOOK_FAILED if failed or any(r.status != "complete" for r in results) else 0

