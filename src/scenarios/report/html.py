"""Each executed notebook as a standalone HTML page that works offline.

nbconvert's HTML exporter with the report's template (``templates/scenarios_offline``, an
extension of JupyterLab's): no script or style sheet loaded from the network (nbconvert's lab
template would load require.js, MathJax and Mermaid from a CDN), figures embedded as data with
alt text from the figure's title, code hidden behind a button, no prompts.  The exporter is
built and warmed up once per worker (its first export loads the templates and compiles the code
highlighter's patterns, about a second of CPU).
"""

from __future__ import annotations

from pathlib import Path

from ..atomic import write_text
from .params import skip_slow_jsonschema_formats

__all__ = ["TEMPLATES", "TEMPLATE_NAME", "HtmlWriter"]

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "scenarios_offline"


class HtmlWriter:
    """nbconvert's HTML exporter with the offline template, built and warmed up once."""

    def __init__(self):
        skip_slow_jsonschema_formats()
        import nbformat
        from nbconvert import HTMLExporter

        self.exporter = HTMLExporter(template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATES)],
                                     exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True)
        warm = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        self.exporter.from_notebook_node(warm)

    def write(self, ipynb, html_path, title: str) -> None:
        """Export the notebook ``ipynb`` to ``html_path`` (atomically), titled ``title``."""
        import nbformat

        nb = nbformat.read(str(ipynb), as_version=4)
        body, _ = self.exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        write_text(str(html_path), body)
