"""Notebook parameters: what a notebook declares, checked before any kernel starts.

Two sides of the same parameters cell:

- the runner's: :func:`declared_parameters` reads a notebook's ``parameters`` cell with
  papermill's own reader (types from the annotations) and :func:`check_parameters` rejects an
  unknown name or a wrong type, naming the notebook, the parameter and the closest declared name
  (papermill itself only warns);
- the notebook's: :func:`scenarios.notebook.inputs.notebook_inputs` (in the notebook layer, which the report builds on) turns
  the standard parameters into the validated model, so a notebook opened in JupyterLab with its
  defaults runs exactly as the runner runs it.

Also here: the report's errors, and :func:`import_papermill`, the one fast way to import
papermill (every stage that needs it goes through it).
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import sys

from ..errors import ScenarioError

__all__ = [
    "STANDARD_PARAMETERS",
    "OPTIONAL_PARAMETERS",
    "ReportError",
    "NotebookParameterError",
    "import_papermill",
    "skip_slow_jsonschema_formats",
    "declared_parameters",
    "check_parameters",
]

STANDARD_PARAMETERS = ("params_file", "samples", "seed", "as_of", "overrides", "output_dir")
"""Parameters the runner passes to every notebook; each notebook must declare all of them."""

OPTIONAL_PARAMETERS = ("resolutions_file", "evidence_file", "series_file")
"""Passed only to notebooks that declare them: the model's data files, resolved by the runner
(:func:`scenarios.model.data_files.data_files`; "" for none)."""


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


# --------------------------------------------------------------------------- runner side


def skip_slow_jsonschema_formats() -> None:
    """Keep jsonschema (imported by nbformat) from loading ``rfc3987_syntax``.

    When installed, that module builds dozens of lark grammars at import time: over 2 s here
    (python-jsonschema/jsonschema#1428).  It serves only the "iri" string formats, which notebook
    validation never checks, so when jsonschema is not yet loaded this tells Python the module is
    absent (``sys.modules[...] = None`` makes ``import`` raise ImportError, which jsonschema
    handles).  Call before importing papermill, nbformat or nbconvert.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def import_papermill():
    """Import papermill (and so nbformat and jsonschema) once, fast (see
    :func:`skip_slow_jsonschema_formats`)."""
    skip_slow_jsonschema_formats()
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
