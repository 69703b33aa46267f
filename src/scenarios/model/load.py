"""One call from a params file path to a validated model and its compiled questions."""

from __future__ import annotations

from .params import load_params
from .questions import Question, load_questions
from .report_spec import report_spec
from .scenario import Model, build_model

__all__ = ["load_model"]


def load_model(path: str, *, overrides=None, questions=None) -> tuple[Model, list[Question]]:
    """Load, layer, override and validate ``path``; compile its questions (or ``questions``).

    Parameters
    ----------
    path : str
        Params file.
    overrides : list of str or dict, optional
        ``"dotted.path=value"`` strings, or a dict {dotted.path: value} (as notebooks pass).
    questions : str or list, optional
        A questions file (or list of question mappings) replacing the model's own.
    """
    if isinstance(overrides, dict):
        overrides = list(overrides.items())
    doc = load_params(path, overrides)
    model = build_model(doc)
    report_spec(model)  # the report: section is checked with the rest of the file
    return model, load_questions(model, questions)
