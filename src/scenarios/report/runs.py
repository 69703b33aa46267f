"""Runs on disk: what a run is made of, its manifest, cache keys and the verified reuse of
unchanged notebooks, and the safety rules of the reports folder.

A run is one params file executed through every notebook (:class:`Plan`, one :class:`Task`
per notebook).  It is built in a hidden ``.<name>.partial-XXXX`` folder and renamed when
finished (:func:`finish_runs`), so a folder under its final name is always whole.  Its
``manifest.json`` (:func:`manifest`) records what produced it and the SHA-256 of every file it
holds; a notebook whose :func:`cache_key` matches one of an earlier complete run is copied from
it only when those files are still exactly what was written (:func:`cached_source`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_text
from ..errors import UsageError
from .params import ReportError

__all__ = [
    "MANIFEST_SCHEMA",
    "INDEX_MARK",
    "Task",
    "Plan",
    "RunResult",
    "jsonable",
    "input_files",
    "tree_files",
    "versions",
    "sha256",
    "cache_key",
    "check_out",
    "manifest",
    "read_manifests",
    "cached_source",
    "reuse_or_queue",
    "longest_first",
    "finish_runs",
    "final_rename",
    "publish_modes",
]

MANIFEST_SCHEMA = 2
"""2: per-notebook ``files`` (path in the run -> SHA-256), checked before a notebook is reused."""

INDEX_MARK = '<meta name="generator" content="scenarios report">'
"""In every ``index.html`` the runner writes: an index without it is not the runner's."""


@dataclass(eq=False)
class Task:
    """One notebook of one run: what it is passed, and how it ended."""

    plan: object
    notebook: Path
    parameters: dict
    key: str = ""
    status: str = "queued"
    message: str = ""
    duration: float | None = None
    cached_from: str | None = None
    expected: float | None = None  # seconds, from the last earlier run of the notebook
    files: dict = field(default_factory=dict)  # path in the run -> SHA-256
    pid: int | None = None  # the worker that executed it

    @property
    def stem(self) -> str:
        return self.notebook.stem

    @property
    def label(self) -> str:
        return f"{self.plan.name}/{self.stem}"


@dataclass
class Plan:
    """One params file's run: its model, worlds and seed, its folder while built, its tasks."""

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
    unchanged: str | None = None  # every output reusable from this earlier run: no new folder
    data: object = None  # scenarios.model.data_files.DataFiles: resolutions, evidence, series
    as_of: object = None  # datetime.date the report is as of (evidence public by then); None: the model's
    published: tuple | None = None  # (Forecast, Evidence or None) of forecasts.csv, for the ledger


@dataclass
class RunResult:
    """One params file's run: where it is and how it ended (``unchanged``: an earlier run
    whose every output was still valid, so no new folder was made)."""

    name: str
    path: Path
    status: str
    notebooks: list
    unchanged: bool = False


def jsonable(value):
    """Plain JSON data: dates as ISO strings, tuples as lists, anything else as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


# --------------------------------------------------------------------------- inputs and keys


def input_files(model) -> list[str]:
    """Every params layer of ``model``, its questions file and its evidence file."""
    files = list(model.doc.files)
    for key, raw in (("questions", model.questions_raw), ("evidence", model.evidence_raw)):
        if isinstance(raw, str):
            files.append(os.path.join(os.path.dirname(model.doc.origin((key,)) or "."), raw))
    return [f for f in files if os.path.isfile(f)]


def data_file_records(files) -> dict:
    """``{key: {"path", "sha256"} or None}`` for a model's resolutions, evidence and series files."""
    if files is None:
        return {}
    out = {}
    for key, path in sorted(vars(files).items()):
        out[key] = {"path": path, "sha256": sha256(path)} if path else None
    return out


def sha256(path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def tree_files(folder: Path, pattern: str) -> list[Path]:
    """Files under ``folder`` matching ``pattern``, sorted, without ``__pycache__``."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts)


def versions() -> dict:
    """Python's version and those of the libraries that compute, draw and execute."""
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

    The notebook's bytes, every params layer, questions and evidence file, the parameters passed
    (minus where outputs go), the package's source files, the data files and the versions of the
    libraries that compute and draw.
    """
    h = hashlib.sha256()

    def feed(tag: str, data: bytes) -> None:
        h.update(tag.encode() + b"\0" + len(data).to_bytes(8, "little") + data)

    feed("notebook", Path(notebook).read_bytes())
    for f in input_files:
        feed("params", Path(f).read_bytes())
    data = ("resolutions_file", "evidence_file", "series_file")  # fed by content below, not by path
    stable = {k: v for k, v in parameters.items() if k not in ("output_dir", "params_file") + data}
    feed("parameters", json.dumps(jsonable(stable), sort_keys=True).encode())
    for k in data:
        if parameters.get(k):
            feed(k, Path(parameters[k]).read_bytes())
    for f in package_files:
        feed("package:" + Path(f).name, Path(f).read_bytes())
    for f in data_files:
        feed("data:" + Path(f).name, Path(f).read_bytes())
    feed("versions", json.dumps(versions, sort_keys=True).encode())
    return h.hexdigest()


# --------------------------------------------------------------------------- the reports folder


def _ours_link(path: Path) -> bool:
    """A ``latest`` link the runner made: a symlink to a folder name in the same folder."""
    if not path.is_symlink():
        return False
    target = os.readlink(path)
    return "/" not in target and os.sep not in target and not target.startswith(".")


def check_out(out) -> Path:
    """Check the reports folder before anything is written; return it as an absolute path.

    The runner never overwrites a file it did not create: an ``index.html`` without the
    runner's mark, or a ``latest`` / ``latest-*`` that is not the runner's link, is an error.

    Raises
    ------
    UsageError
        An empty ``--out``, an ``--out`` that is a file, or files there the runner did not make.
    """
    if out is None or not str(out).strip():
        raise UsageError("--out: expected a folder for the reports, got an empty path")
    out = Path(out).absolute()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} is a file, not a folder")
    if not out.is_dir():
        return out
    index = out / "index.html"
    if index.is_symlink() or index.exists():
        try:
            text = index.read_text(encoding="utf-8", errors="replace")[:4096] if index.is_file() else ""
        except OSError:
            text = ""
        if index.is_symlink() or INDEX_MARK not in text:
            raise UsageError(f"--out: {index} was not written by scenarios report; the runner will not "
                             "overwrite it: choose another --out folder or move the file")
    for entry in out.iterdir():
        if (entry.name == "latest" or entry.name.startswith("latest-")) and not _ours_link(entry):
            raise UsageError(f"--out: {entry} is not a link the runner made; the runner will not replace "
                             "it: choose another --out folder or move it")
    return out


# --------------------------------------------------------------------------- manifests and reuse


def manifest(plan: Plan, *, started, finished, versions, git, run_name: str) -> dict:
    """The ``manifest.json`` of a finished run (before its folder is renamed)."""
    notebooks = []
    for t in plan.tasks:
        figs = plan.partial / "figures" / t.stem
        params = dict(t.parameters)
        params["output_dir"] = f"figures/{t.stem}"
        figures = sorted(str(p.relative_to(plan.partial)) for p in figs.rglob("*") if p.is_file())
        files = {rel: sha256(plan.partial / rel) for rel in (t.stem + ".ipynb", t.stem + ".html", *figures)
                 if (plan.partial / rel).is_file()}
        notebooks.append({
            "notebook": t.notebook.name,
            "status": "ok" if t.status in ("ok", "cached") else t.status,
            "executed": t.status != "cached",
            "cached_from": t.cached_from,
            "message": t.message,
            "duration_s": t.duration,
            "ipynb": t.stem + ".ipynb",
            "html": t.stem + ".html",
            "figures": figures,
            "files": files,
            "parameters": params,
            "cache_key": t.key,
        })
    ok = all(n["status"] == "ok" for n in notebooks) and plan.forecast_status in ("ok", "none")
    forecast_files = {f: sha256(plan.partial / f) for f in ("forecasts.csv", "forecasts.json")
                      if (plan.partial / f).is_file()}
    return {
        "schema": MANIFEST_SCHEMA,
        "name": run_name,
        "report": plan.name,
        "status": "complete" if ok else "failed",
        "params": [{"path": f, "abspath": os.path.abspath(f), "sha256": sha256(f)} for f in input_files(plan.model)],
        "data_files": data_file_records(plan.data),
        "model": plan.model.name,
        "as_of": (plan.as_of or plan.model.as_of).isoformat(),
        "model_as_of": plan.model.as_of.isoformat(),
        "overrides": plan.overrides,
        "resolved_parameters": jsonable(plan.model.doc.data),
        "samples": plan.samples,
        "seed": plan.seed,
        "git": git,
        "versions": versions,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "duration_s": round((finished - started).total_seconds(), 3),
        "forecasts": {"status": plan.forecast_status, "message": plan.forecast_message,
                      "csv": "forecasts.csv", "json": "forecasts.json", "files": forecast_files},
        "headline": plan.headline,
        "notebooks": notebooks,
    }


def read_manifests(out: Path) -> list[dict]:
    """Manifests of the finished runs in ``out``, newest first, each with its folder in ``_dir``."""
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
        if not isinstance(m, dict) or not isinstance(m.get("notebooks", []), list):
            continue
        m["_dir"] = entry.name
        m.setdefault("report", entry.name.partition("_")[2] or entry.name)
        runs.append(m)
    runs.sort(key=lambda m: (str(m.get("started", "")), m["_dir"]), reverse=True)
    return runs


def _intact(run: Path, files: dict) -> bool:
    """Every file is there with the SHA-256 the manifest recorded; a notebook parses as JSON and
    a page ends with ``</html>``."""
    if not files:
        return False
    for rel, digest in files.items():
        path = run / rel
        try:
            if not path.is_file() or sha256(path) != digest:
                return False
            if rel.endswith(".ipynb"):
                json.loads(path.read_bytes())
            elif rel.endswith(".html") and not path.read_bytes().rstrip().endswith(b"</html>"):
                return False
        except (OSError, ValueError):
            return False
    return True


def cached_source(out: Path, previous: list[dict], task: Task) -> tuple[Path, dict] | None:
    """The newest complete run whose copy of ``task``'s notebook has the same cache key and is
    still intact (see :func:`_intact`), with that notebook's manifest entry."""
    for m in previous:
        if m.get("status") != "complete":
            continue
        for nb in m.get("notebooks", []):
            if (isinstance(nb, dict) and nb.get("notebook") == task.notebook.name and nb.get("cache_key") == task.key
                    and nb.get("status") == "ok"):
                files = nb.get("files")
                if isinstance(files, dict) and {nb.get("ipynb"), nb.get("html")} <= set(files) \
                        and _intact(out / m["_dir"], files):
                    return out / m["_dir"], nb
    return None


def _copy_outputs(src: Path, dst: Path, files: dict) -> None:
    for rel in files:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dst / rel)


def reuse_or_queue(plans, out: Path, *, force: bool, versions: dict, package_files, data_files,
                   progress) -> list[Task]:
    """Find, for each task, an intact copy from an earlier complete run (unless ``force``).

    A plan whose every notebook (and forecasts) can be reused from one and the same earlier
    run gets ``unchanged`` set and no folder; otherwise it gets its partial folder, the
    reusable notebooks are copied in, and the tasks left to execute are returned in the order
    to start them (:func:`longest_first`).
    """
    previous = read_manifests(out)
    todo = []
    for plan in plans:
        found = {}
        for t in plan.tasks:
            t.key = cache_key(notebook=t.notebook, input_files=input_files(plan.model), parameters=t.parameters,
                              package_files=package_files, data_files=data_files, versions=versions)
            hit = None if force else cached_source(out, previous, t)
            if hit is not None:
                found[t] = hit
        sources = {src for src, _ in found.values()}
        if len(found) == len(plan.tasks) and len(sources) == 1:
            src = sources.pop()
            m = next(m for m in previous if m["_dir"] == src.name)
            fc = m.get("forecasts", {})
            if fc.get("status") in ("ok", "none") and (fc.get("status") == "none" or _intact(src, fc.get("files") or {})):
                plan.unchanged = src.name
                for t in plan.tasks:
                    t.status, t.cached_from, t.message = "cached", src.name, f"inputs unchanged since {src.name}"
                    progress.set(t.label, "cached")
                continue
        out.mkdir(parents=True, exist_ok=True)
        plan.partial = Path(tempfile.mkdtemp(prefix=f".{plan.name}.partial-", dir=out))
        (plan.partial / "logs").mkdir()
        for t in plan.tasks:
            t.parameters["output_dir"] = str(plan.partial / "figures" / t.stem)
            if t not in found:
                todo.append(t)
                continue
            src, old = found[t]
            _copy_outputs(src, plan.partial, old["files"])
            t.status, t.cached_from, t.duration = "cached", src.name, old.get("duration_s")
            t.message = f"inputs unchanged since {src.name}"
            progress.set(t.label, "cached")
    return longest_first(todo, previous)


def longest_first(tasks: list[Task], previous: list[dict]) -> list[Task]:
    """Tasks in the order to start them: longest first by the duration the earlier runs in
    ``previous`` (newest first) recorded last; notebooks never run before ahead of them all,
    in name order.

    With fewer workers than notebooks, a long notebook started last keeps the report waiting:
    notebooks of 3, 4 and 11 s on two workers take 3 + 11 s in name order, 11 s longest first.
    """
    last = {}
    for m in reversed(previous):  # oldest first, so the newest duration stays
        for nb in m.get("notebooks", []):
            if isinstance(nb, dict) and isinstance(nb.get("duration_s"), (int, float)):
                last[nb.get("notebook")] = nb["duration_s"]
    for t in tasks:
        t.expected = last.get(t.notebook.name)
    return sorted(tasks, key=lambda t: -(t.expected if t.expected is not None else math.inf))


# --------------------------------------------------------------------------- publishing


def finish_runs(plans, out: Path, *, started, versions: dict, git) -> list[RunResult]:
    """Write each run's manifest and rename it to its final folder (an unchanged plan keeps
    the earlier run it matches)."""
    results = []
    finished = _dt.datetime.now().astimezone()
    stamp = started.strftime("%Y-%m-%dT%H%M")
    for plan in plans:
        if plan.unchanged is not None:
            with open(out / plan.unchanged / "manifest.json", encoding="utf-8") as fh:
                record = json.load(fh)
            results.append(RunResult(plan.unchanged, out / plan.unchanged, record["status"], record["notebooks"],
                                     unchanged=True))
            continue
        for log in (plan.partial / "logs").glob("*.log"):
            if log.stat().st_size == 0:
                log.unlink()
        base = f"{stamp}_{plan.name}"
        record = manifest(plan, started=started, finished=finished, versions=versions, git=git, run_name=base)
        write_text(str(plan.partial / "manifest.json"), json.dumps(record, indent=2) + "\n")
        publish_modes(plan.partial)
        final = final_rename(plan.partial, out, base)
        if final.name != base:  # the manifest names the folder it is in
            record["name"] = final.name
            write_text(str(final / "manifest.json"), json.dumps(record, indent=2) + "\n")
            publish_modes(final / "manifest.json")
        results.append(RunResult(final.name, final, record["status"], record["notebooks"]))
    return results


def publish_modes(path: Path) -> None:
    """Make a file, or a folder and everything in it, readable like ordinary files (atomic
    writes create them owner-only)."""
    umask = os.umask(0)
    os.umask(umask)
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~umask)


def final_rename(partial: Path, out: Path, base: str) -> Path:
    """Rename a finished run to ``out/base`` (``base-2``, ``base-3`` … if taken); return it."""
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
