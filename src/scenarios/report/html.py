"""Each executed notebook as a standalone HTML page: figures embedded, code hidden behind a button.

:class:`HtmlWriter` is nbconvert's exporter, built and warmed up once: its first export loads
the templates and compiles the code highlighter's and the HTML post-processor's patterns, about
a second of CPU.  :class:`HtmlProcess` keeps a writer in a process of its own, forked by the
runner once the parameters are checked (so it shares papermill's imports; the kernel pool has
the other core while the runner checks): it warms up while the first notebooks run and exports
each notebook as it finishes, so no export waits for the warm-up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..atomic import write_text

__all__ = ["HtmlWriter", "HtmlProcess"]

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


class HtmlWriter:
    """nbconvert's HTML exporter (JupyterLab look, no prompts), built and warmed up once."""

    def __init__(self):
        from .params import skip_slow_jsonschema_formats

        skip_slow_jsonschema_formats()
        import nbformat
        from nbconvert import HTMLExporter

        self.exporter = HTMLExporter(template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
        # templates load and the code highlighter compiles its patterns on first use
        warm = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        self.exporter.from_notebook_node(warm)

    def write(self, ipynb: Path, html_path: Path, title: str) -> None:
        """Export ``ipynb`` to ``html_path`` (atomically) with the show / hide code button."""
        import nbformat

        nb = nbformat.read(str(ipynb), as_version=4)
        body, _ = self.exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        body = body.replace("</head>", _CODE_TOGGLE + "</head>", 1)
        i = body.find(">", body.find("<body")) + 1
        body = body[:i] + _CODE_BUTTON + body[i:]
        write_text(str(html_path), body)


class HtmlProcess:
    """An :class:`HtmlWriter` in a process of its own, warming up from the moment it is made.

    :meth:`write` waits for the export and raises :class:`HtmlExportError` if it failed (or
    the process is gone); :meth:`close` ends the process, :meth:`stop` kills it.  As a context
    manager it closes on success and kills on any exception (Ctrl-C included).  The process is a
    daemon, so it never outlives the runner.
    """

    def __init__(self):
        import multiprocessing

        ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child,), name="scenarios-html", daemon=True)
        self._process.start()
        child.close()
        self._used = False

    def __enter__(self) -> HtmlProcess:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.stop()

    def write(self, ipynb: Path, html_path: Path, title: str) -> None:
        """Export ``ipynb`` to ``html_path`` in the writer process; wait until it is written."""
        self._used = True
        try:
            self._conn.send((str(ipynb), str(html_path), title))
            ok, message = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise HtmlExportError(f"the HTML writer process ended ({type(exc).__name__})") from None
        if not ok:
            raise HtmlExportError(message)

    def close(self) -> None:
        """End the writer process (at once when it was never used: it may still be warming up)."""
        if self._used:
            try:
                self._conn.send(None)
            except OSError:
                pass
            self._process.join(timeout=10)
        self.stop()

    def stop(self) -> None:
        """Kill the writer process at once (a no-op when it has ended)."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._conn.close()


class HtmlExportError(Exception):
    """An export failed in the writer process; the message says how."""


def _serve(conn) -> None:
    """The writer process: warm up, then export each (ipynb, html, title) received until None.

    It runs at a lower CPU priority: its work waits while the runner and the kernels need the
    cores, and is needed only as each notebook finishes."""
    if hasattr(os, "nice"):
        os.nice(5)
    try:
        try:
            writer, failure = HtmlWriter(), ""
        except Exception as exc:  # reported with each export, which the runner marks failed
            writer, failure = None, f"cannot start nbconvert's HTML exporter: {type(exc).__name__}: {exc}"
        while True:
            try:
                request = conn.recv()
            except EOFError:
                return
            if request is None:
                return
            if writer is None:
                conn.send((False, failure))
                continue
            try:
                writer.write(Path(request[0]), Path(request[1]), request[2])
                conn.send((True, ""))
            except Exception as exc:
                conn.send((False, f"{type(exc).__name__}: {exc}"))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the runner cleans up
        return
