"""Node kinds that are not a distribution: repeated events, stocks, statements by named sources.

Each module holds one kind: its spec class (what it reads, its kind, how it draws over worlds)
and ``compile(body, path, compiler)``, which reads the YAML body with the model compiler's
checks (:class:`scenarios.model.scenario`'s compiler: ``value``, ``mapping``, ``event_name``...).
``COMPILERS`` maps the YAML key of each kind to its ``compile``; docs/modelling-language.md
describes the YAML.
"""

from __future__ import annotations

from . import repeated, statement, stock

__all__ = ["COMPILERS", "keys"]

COMPILERS = {
    "repeated": repeated.compile,
    "stock": stock.compile,
    "statement": statement.compile,
}


def keys() -> tuple:
    """The YAML keys of these kinds, in the order the docs list them."""
    return tuple(COMPILERS)
