"""Runs on disk: what a run is made of, its manifest, cache keys and reuse, the index and ``latest``.

A run is one params file executed through every notebook (:class:`Plan`, one :class:`Task`
per notebook).  It is built in a hidden ``.<name>.partial-XXXX`` folder and renamed when
finished (:func:`final_rename`), so a folder under its final name is always whole.  Its
``manifest.json`` (:func:`manifest`) records what produced it; a notebook whose
:func:`cache_key` matches one of an earlier complete run is copied from it
(:func:`cached_source`, :func:`copy_outputs`).  :func:`build_index` rewrites ``index.html``
from every manifest and points ``latest`` at the newest complete run.
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
from .params import ReportError

__all__ = [
    "MANIFEST_SCHEMA",
    "Task",
    "Plan",
    "RunResult",
    "reuse_or_queue",
    "longest_first",
    "finish_runs",
    "jsonable",
    "input_files",
    "tree_files",
    "versions",
    "cache_key",
    "manifest",
    "read_manifests",
    "cached_source",
    "copy_outputs",
    "publish_modes",
    "publish_mode",
    "final_rename",
    "build_index",
]

MANIFEST_SCHEMA = 1


@dataclass
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
    background: bool = False  # run at lower CPU priority: not what the run waits for

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


@dataclass
class RunResult:
    """One params file's run: where it went and how it ended."""

    name: str
    path: Path
    status: str
    notebooks: list


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


def _questions_file(model) -> str | None:
    raw = model.questions_raw
    if isinstance(raw, str):
        return os.path.join(os.path.dirname(model.doc.origin(("questions",)) or "."), raw)
    return None


def input_files(model) -> list[str]:
    """Every params layer of ``model`` and its questions file."""
    files = list(model.doc.files)
    q = _questions_file(model)
    if q:
        files.append(q)
    return files


def _sha256(path) -> str:
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


# --------------------------------------------------------------------------- manifests and reuse


def manifest(plan: Plan, *, started, finished, versions, git, run_name: str) -> dict:
    """The ``manifest.json`` of a finished run (before its folder is renamed)."""
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
        "params": [{"path": f, "abspath": os.path.abspath(f), "sha256": _sha256(f)} for f in input_files(plan.model)],
        "model": plan.model.name,
        "as_of": plan.model.as_of.isoformat(),
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
                      "csv": "forecasts.csv", "json": "forecasts.json"},
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
        m["_dir"] = entry.name
        runs.append(m)
    runs.sort(key=lambda m: (m.get("started", ""), m["_dir"]), reverse=True)
    return runs


def cached_source(out: Path, previous: list[dict], task: Task) -> Path | None:
    """The newest complete run whose copy of ``task``'s notebook has the same cache key."""
    for m in previous:
        if m.get("status") != "complete":
            continue
        for nb in m.get("notebooks", []):
            if nb.get("notebook") == task.notebook.name and nb.get("cache_key") == task.key and nb.get("status") == "ok":
                run = out / m["_dir"]
                if (run / nb["ipynb"]).exists() and (run / nb["html"]).exists():
                    return run
    return None


def copy_outputs(src: Path, dst: Path, stem: str) -> None:
    """Copy one notebook's executed copy, HTML page and figures from run ``src`` to ``dst``."""
    for suffix in (".ipynb", ".html"):
        shutil.copy2(src / (stem + suffix), dst / (stem + suffix))
    figs = src / "figures" / stem
    if figs.is_dir():
        shutil.copytree(figs, dst / "figures" / stem, dirs_exist_ok=True)


def reuse_or_queue(plans, out: Path, *, force: bool, versions: dict, package_files, data_files,
                   progress, jobs: int | None = None) -> list[Task]:
    """Make each run's partial folder; copy in the notebooks whose inputs are unchanged since an
    earlier complete run in ``out`` (unless ``force``); return the tasks left to execute, in the
    order to start them (:func:`longest_first`)."""
    previous = read_manifests(out)
    todo = []
    for plan in plans:
        plan.partial = Path(tempfile.mkdtemp(prefix=f".{plan.name}.partial-", dir=out))
        (plan.partial / "logs").mkdir()
        for t in plan.tasks:
            t.parameters["output_dir"] = str(plan.partial / "figures" / t.stem)
            t.key = cache_key(notebook=t.notebook, input_files=input_files(plan.model), parameters=t.parameters,
                              package_files=package_files, data_files=data_files, versions=versions)
            src = None if force else cached_source(out, previous, t)
            if src is None:
                todo.append(t)
                continue
            copy_outputs(src, plan.partial, t.stem)
            old = next(nb for m in previous if m["_dir"] == src.name for nb in m["notebooks"]
                       if nb["notebook"] == t.notebook.name)
            t.status, t.cached_from, t.duration = "cached", src.name, old.get("duration_s")
            t.message = f"inputs unchanged since {src.name}"
            progress.set(t.label, "cached")
    return longest_first(todo, previous, jobs)


def longest_first(tasks: list[Task], previous: list[dict], jobs: int | None = None) -> list[Task]:
    """Tasks in the order to start them: longest first by the duration the earlier runs in
    ``previous`` (newest first) recorded last, notebooks never run before ahead of them all, in
    name order.

    With fewer workers than notebooks, a long notebook started last keeps the report waiting:
    notebooks of 3, 4 and 11 s on two workers take 3 + 11 s in name order, 11 s longest first.

    Every task gets its ``expected`` duration.  When they are all known and there are more
    tasks than ``jobs``, those expected to take less than half the longest run in the
    ``background`` (a lower CPU priority, see :func:`scenarios.report.execute.execute`): with
    as many jobs as cores they would otherwise take CPU from the notebook the run waits for,
    and they still get all the CPU it leaves unused.
    """
    last = {}
    for m in reversed(previous):  # oldest first, so the newest duration stays
        for nb in m.get("notebooks", []):
            if nb.get("duration_s"):
                last[nb.get("notebook")] = nb["duration_s"]
    for t in tasks:
        t.expected = last.get(t.notebook.name)
    order = sorted(tasks, key=lambda t: -(t.expected if t.expected is not None else math.inf))
    if jobs is not None and len(order) > jobs and all(t.expected is not None for t in order):
        for t in order[1:]:
            t.background = t.expected < order[0].expected / 2
    return order


# --------------------------------------------------------------------------- publishing


def finish_runs(plans, out: Path, *, started, versions: dict, git) -> list[RunResult]:
    """Write each run's manifest, rename it to its final folder, rewrite the index."""
    results = []
    finished = _dt.datetime.now().astimezone()
    stamp = started.strftime("%Y-%m-%dT%H%M")
    for plan in plans:
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
            publish_mode(final / "manifest.json")
        results.append(RunResult(final.name, final, record["status"], record["notebooks"]))
    build_index(out)
    return results


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def publish_modes(folder: Path) -> None:
    """Make files readable like ordinary files (atomic writes create them owner-only)."""
    umask = _umask()
    for path in [folder, *folder.rglob("*")]:
        mode = 0o777 if path.is_dir() else 0o666
        os.chmod(path, mode & ~umask)


def publish_mode(path: Path) -> None:
    """:func:`publish_modes` for one file."""
    os.chmod(path, 0o666 & ~_umask())


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
    runs = read_manifests(out)
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
    publish_mode(path)
    _update_latest(out, runs)
    return path
