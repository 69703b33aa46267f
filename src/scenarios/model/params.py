"""Load, layer and override params files (YAML) safely, remembering where each key came from.

A params document is plain data (dicts, lists, numbers, strings, dates) produced by
``yaml.safe_load``: nothing in it is executed.  ``extends:`` layers a file on a base file,
``--set dotted.path=value`` overrides after layering.  Every key remembers the file that set it,
so later validation errors can name the file, the key path and the bad value.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import ParamsError
from .loader import excerpt, load_yaml_file, parse_yaml_text, project_root, resolve_path

__all__ = ["ParamsDoc", "load_params", "parse_override", "apply_overrides", "load_yaml_file", "parse_yaml_text"]

MAX_EXTENDS_DEPTH = 16


@dataclass
class ParamsDoc:
    """A layered params document.

    Attributes
    ----------
    data : dict
        The merged document (base first, then variants, then overrides).
    origins : dict
        Maps a key path (tuple of str) to the file that last set it (``None``: command line).
    files : list of str
        Every file read, base first.
    sha256 : dict
        SHA-256 of each file read, by path.
    """

    data: dict
    origins: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    sha256: dict = field(default_factory=dict)
    overrides: list = field(default_factory=list)
    root: str | None = None

    @property
    def path(self) -> str:
        """The file the user named (the last layer)."""
        return self.files[-1] if self.files else "<memory>"

    def origin(self, path: tuple) -> str | None:
        """The file that set ``path`` or its nearest ancestor."""
        path = tuple(str(p) for p in path)
        while path:
            if path in self.origins:
                return self.origins[path]
            path = path[:-1]
        return self.path

    def resolve_path(self, path: tuple | list, name: Any) -> str:
        """The file ``name`` given at key ``path``: relative to the file that set the key, inside the project.

        A value given on the command line (``--set``) is relative to the working folder and not
        confined (the user typed it).

        Raises
        ------
        ParamsError
            Not a path, or outside :attr:`root` (see :func:`scenarios.model.loader.resolve_path`).
        """
        path = tuple(str(p) for p in path)
        origin = self.origin(path)
        return resolve_path(name, named_in=origin, root=self.root if origin is not None else None, key=".".join(path))

    def error(self, path: tuple | list, message: str) -> ParamsError:
        """A :class:`ParamsError` located at ``path`` in the file that set it (and its line)."""
        from .schema import Location

        return Location.of(self, path).error(message)


def _record_origins(value: Any, prefix: tuple, file: str | None, origins: dict) -> None:
    origins[prefix] = file
    if isinstance(value, dict):
        for k, v in value.items():
            _record_origins(v, prefix + (str(k),), file, origins)


def _merge(base: dict, layer: dict, prefix: tuple, file: str, origins: dict) -> dict:
    """Merge ``layer`` into a copy of ``base``; node specs are replaced whole."""
    out = dict(base)
    for key, value in layer.items():
        path = prefix + (str(key),)
        replace_whole = len(prefix) == 1 and prefix[0] == "nodes"
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not replace_whole:
            out[key] = _merge(out[key], value, path, file, origins)
            origins[path] = origins.get(path, file)
        else:
            # drop origins recorded under the replaced subtree
            for p in [p for p in origins if p[: len(path)] == path]:
                del origins[p]
            out[key] = value
            _record_origins(value, path, file, origins)
    return out


def load_params(path: str, overrides: list[str] | None = None) -> ParamsDoc:
    """Read a params file, following ``extends:`` chains, then apply ``--set`` overrides.

    Parameters
    ----------
    path : str
        The params file the user named.
    overrides : list of str, optional
        ``dotted.path=value`` strings; values are parsed as YAML.

    Returns
    -------
    ParamsDoc

    Raises
    ------
    ParamsError
        Missing files, malformed YAML, a document that is not a mapping, ``extends`` loops.
    """
    chain: list[tuple[str, dict, bytes]] = []
    seen: list[str] = []
    current = path
    root = project_root(path)
    while current is not None:
        real = os.path.realpath(current)
        if real in seen:
            loop = " -> ".join(seen + [real])
            raise ParamsError(current, "extends", f"extends loop: {loop}")
        if len(seen) >= MAX_EXTENDS_DEPTH:
            raise ParamsError(current, "extends", f"more than {MAX_EXTENDS_DEPTH} levels of extends")
        seen.append(real)
        doc, raw = load_yaml_file(current)
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise ParamsError(
                current, "", f"expected a mapping of keys at the top level, got {_kind(doc)}"
            )
        for key in doc:
            if not isinstance(key, str):
                raise ParamsError(current, str(key), f"keys must be strings, got {_kind(key)}")
        chain.append((current, doc, raw))
        parent = doc.get("extends")
        if parent is None:
            current = None
        else:
            current = resolve_path(parent, named_in=current, root=root, key="extends")
            if not os.path.lexists(current):
                raise ParamsError(chain[-1][0], "extends", f"file not found: {excerpt(current, 200)}")

    result = ParamsDoc(data={}, root=root)
    for file, doc, raw in reversed(chain):
        doc = {k: v for k, v in doc.items() if k != "extends"}
        result.data = _merge(result.data, doc, (), file, result.origins)
        result.files.append(file)
        result.sha256[file] = hashlib.sha256(raw).hexdigest()
    apply_overrides(result, overrides or [])
    return result


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``dotted.path=value`` into (path parts, YAML-parsed value).

    >>> parse_override("summit.delay.ci90=[3, 40]")
    (['summit', 'delay', 'ci90'], [3, 40])
    """
    if not isinstance(text, str) or "=" not in text:
        raise ParamsError(None, "--set", f"expected dotted.path=value, got {excerpt(text)}")
    key, _, raw_value = text.partition("=")
    parts = key.strip().split(".")
    if not key.strip() or any(not p for p in parts):
        raise ParamsError(None, "--set", f"expected dotted.path=value, got {excerpt(text)}")
    value = parse_yaml_text(raw_value, f"--set {key}") if raw_value.strip() else None
    return parts, value


def apply_overrides(doc: ParamsDoc, overrides: list) -> None:
    """Apply overrides in order, in place.

    Each override is a ``"dotted.path=value"`` string or a ``(dotted.path, value)`` pair (as a
    notebook's ``overrides`` dict gives).  A path whose first part is a node name may omit
    the leading ``nodes.``.  Every key but the last must exist (a typo gets a "did you mean");
    a path through a value that is not a mapping is an error.
    """
    for item in overrides:
        if isinstance(item, tuple):
            key, value = item
            if not isinstance(key, str) or not key or any(not p for p in key.split(".")):
                raise ParamsError(None, str(key), "expected a dotted key path")
            parts = key.split(".")
        else:
            parts, value = parse_override(item)
        nodes = doc.data.get("nodes")
        if parts[0] not in doc.data and isinstance(nodes, dict) and parts[0] in nodes:
            parts = ["nodes"] + parts
        target = doc.data
        for i, part in enumerate(parts[:-1]):
            nxt = target.get(part) if isinstance(target, dict) else None
            if nxt is None and isinstance(target, dict):
                raise _no_such_key(doc, parts, i, target)
            if not isinstance(nxt, dict):
                raise ParamsError(
                    None,
                    ".".join(parts),
                    f"cannot set inside {'.'.join(parts[: i + 1])}: it is {_kind(nxt)}, not a mapping",
                )
            target = nxt
        target[parts[-1]] = value
        path = tuple(parts)
        for p in [p for p in doc.origins if p[: len(path)] == path]:
            del doc.origins[p]
        _record_origins(value, path, None, doc.origins)
        doc.overrides.append((".".join(parts), value))


def _no_such_key(doc: ParamsDoc, parts: list, i: int, target: dict) -> ParamsError:
    """A ``--set`` path through a key that does not exist: a typo, with a "did you mean"."""
    from .schema import did_you_mean

    options = [str(k) for k in target]
    if i == 0 and isinstance(doc.data.get("nodes"), dict):
        options += [str(k) for k in doc.data["nodes"]]  # a path may start with a node name
    inside = ".".join(parts[:i]) if i else "the params file"
    return ParamsError(
        None,
        ".".join(parts),
        f"no key {excerpt(parts[i])} in {inside}; --set changes or adds the last key of a path that exists"
        + did_you_mean(parts[i], options),
    )


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"a string ({excerpt(value)})"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"a date ({value})"
    return f"{type(value).__name__} ({excerpt(value)})"


describe = _kind
