"""Distribution families, one module each, found through one registry.

Each module of this package defines one :class:`~scenarios.model.families.base.Family` subclass
(its spec, its draws, its CDF and inverse CDF) and registers it.  Importing the package imports
every module in it, so a new family is one new file; docs/families.md shows how.  Families over
named categories or over other specs (categorical, dirichlet, mixture) are
:class:`~scenarios.model.families.base.Composite`: they compile to a spec class of their own.  The options
any numeric family takes (truncate, round, shift, clip) are :mod:`.options`.
"""

from __future__ import annotations

import importlib
import os

from .base import REGISTRY, Composite, Domain, Family, ParamReader, get, keys, register
from .options import Options

__all__ = ["Composite", "Domain", "Family", "Options", "ParamReader", "REGISTRY", "get", "keys", "register"]

_NOT_FAMILIES = {"base", "options"}

# every module in this folder is a family (a listing, not pkgutil: 10+ ms less to start the CLI)
for _file in sorted(os.listdir(os.path.dirname(__file__))):
    _module, _ext = os.path.splitext(_file)
    if _ext == ".py" and _module.isidentifier() and not _module.startswith("_") and _module not in _NOT_FAMILIES:
        importlib.import_module(f"{__name__}.{_module}")
