"""The reports folder's ``index.html`` (runs grouped by model, newest first) and its links:
``latest-<name>`` to the newest complete run of each params file, ``latest`` to the newest
complete run of any."""

from __future__ import annotations

import html
import os
from pathlib import Path

from ..atomic import write_text
from .runs import INDEX_MARK, publish_modes, read_manifests

__all__ = ["build_index", "update_latest"]


def _link(out: Path, name: str, target: str) -> None:
    """Point ``out/name`` at ``target`` atomically (a symlink, replaced by rename)."""
    link = out / name
    if link.is_symlink() and os.readlink(link) == target:
        return
    tmp = out / f".{name}.{os.getpid()}.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def update_latest(out: Path, runs: list[dict]) -> None:
    """``latest-<name>`` for each params file with a complete run, and ``latest``, each to the
    newest complete run (``runs`` newest first); a failed run moves nothing."""
    complete = [m for m in runs if m.get("status") == "complete"]
    if not complete:
        return
    _link(out, "latest", complete[0]["_dir"])
    for name in sorted({m["report"] for m in complete}):
        _link(out, f"latest-{name}", next(m["_dir"] for m in complete if m["report"] == name))


def _row(m: dict) -> str:
    d = html.escape(m["_dir"])
    status = str(m.get("status", "?"))
    colour = {"complete": "#2a7d2a", "failed": "#b22222"}.get(status, "#555")
    links = []
    for nb in m.get("notebooks", []):
        label = html.escape(str(nb.get("notebook", "?")).removesuffix(".ipynb"))
        mark = "" if nb.get("status") == "ok" else f" <b style='color:#b22222'>({html.escape(str(nb.get('status', '?')))})</b>"
        links.append(f"<a href='{d}/{html.escape(str(nb.get('html', '')))}'>{label}</a>{mark}")
    if m.get("forecasts", {}).get("status") == "ok":
        links.append(f"<a href='{d}/forecasts.csv'>forecasts.csv</a>")
    links.append(f"<a href='{d}/manifest.json'>manifest</a>")
    heads = "".join(
        f"<li><span title='{html.escape(str(h.get('text', '')))}'>{html.escape(str(h.get('id', '')))}</span>: "
        f"{html.escape(str(h.get('forecast', '')))}</li>"
        for h in m.get("headline", []) if isinstance(h, dict)
    )
    if not heads and m.get("forecasts", {}).get("status") == "ok" and m.get("as_of"):
        heads = f"<li><i>no question is open as of {html.escape(str(m['as_of']))}</i></li>"
    params = ", ".join(html.escape(str(p.get("path", ""))) for p in m.get("params", [])[:1] if isinstance(p, dict))
    samples = m.get("samples")
    worlds = f"{samples:,} worlds" if isinstance(samples, int) else ""
    return (
        f"<tr><td><a href='{d}/'>{d}</a><br><small>{html.escape(str(m.get('started', '')))}"
        f"{'<br>as of ' + html.escape(str(m['as_of'])) if m.get('as_of') else ''}</small></td>"
        f"<td style='color:{colour};font-weight:bold'>{html.escape(status)}</td>"
        f"<td>{params}<br><small>{worlds}, seed {html.escape(str(m.get('seed')))}</small></td>"
        f"<td>{' · '.join(links)}</td><td><ul>{heads}</ul></td></tr>"
    )


def build_index(out) -> Path:
    """(Re)write ``out/index.html`` from every run's manifest, one section per params file
    (most recently run first, each newest first), and update the ``latest`` links."""
    out = Path(out)
    runs = read_manifests(out)
    groups: dict[str, list[dict]] = {}
    for m in runs:
        groups.setdefault(m["report"], []).append(m)
    sections = []
    for name, group in groups.items():
        e = html.escape(name)
        complete = [m for m in group if m.get("status") == "complete"]
        latest = (f"<p>Latest complete run: <a href='latest-{e}/'>{html.escape(complete[0]['_dir'])}</a></p>"
                  if complete else "<p>No complete run yet.</p>")
        model = html.escape(str(group[0].get("model", "")))
        sections.append(
            f"<section id='{e}'><h2>{e} <small>{model}</small></h2>{latest}"
            "<table><thead><tr><th>run</th><th>status</th><th>params</th><th>outputs</th>"
            f"<th>headline forecasts</th></tr></thead><tbody>{''.join(_row(m) for m in group)}</tbody></table></section>"
        )
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">{INDEX_MARK}<title>Scenario reports</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border-bottom:1px solid #ddd;padding:6px 10px;text-align:left;vertical-align:top}}
ul{{margin:0;padding-left:1.2em}} small{{color:#666}} section{{margin-bottom:2em}}</style></head>
<body><h1>Scenario reports</h1>
{''.join(sections) or '<p>No runs yet.</p>'}
</body></html>
"""
    path = out / "index.html"
    write_text(str(path), page)
    publish_modes(path)
    update_latest(out, runs)
    return path
