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

__all__ = ["ParamsDoc", "load_params", "parse_override", "apply_overrides", "load_yaml_file"]

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

    def error(self, path: tuple | list, message: str) -> ParamsError:
        """A :class:`ParamsError` located at ``path`` in the file that set it (and its line)."""
        from .schema import Location

        return Location.of(self, path).error(message)


def _yaml():
    import yaml  # imported here: `scenarios --help` must not pay for it

    return yaml


def load_yaml_file(path: str) -> tuple[Any, bytes]:
    """Parse one YAML file safely; return (document, raw bytes).

    Raises
    ------
    ParamsError
        If the file is missing, unreadable, not UTF-8 or not valid YAML (with its line number).
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise ParamsError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ParamsError(path, "", "expected a YAML file, got a directory") from None
    except OSError as exc:
        raise ParamsError(path, "", f"cannot read file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(path, "", f"file is not UTF-8 text (byte {exc.start})") from None
    return parse_yaml_text(text, path), raw


def parse_yaml_text(text: str, path: str) -> Any:
    """Parse YAML text with ``safe_load``, rejecting duplicate keys; errors carry line numbers."""
    yaml = _yaml()
    try:
        return yaml.load(text, Loader=_unique_key_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ParamsError(path, "", f"malformed YAML: {problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise ParamsError(path, "", f"malformed YAML: {exc}") from None
    except RecursionError:
        raise ParamsError(path, "", "malformed YAML: nested too deeply") from None
    except ValueError as exc:  # e.g. an impossible timestamp such as 2023-02-30
        raise ParamsError(path, "", f"bad value: {exc}") from None


_LOADER = None


def _unique_key_loader():
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    yaml = _yaml()

    # libyaml's parser when present (about 6x faster); the constructor stays the safe one
    base_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class UniqueKeyLoader(base_loader):
        """SafeLoader that refuses duplicate mapping keys (a silent overwrite hides typos)."""

    def construct_mapping(loader, node, deep=False):
        loader.flatten_mapping(node)
        seen = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen[key] = True
        return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)

    UniqueKeyLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping
    )
    _LOADER = UniqueKeyLoader
    return _LOADER


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
        elif not isinstance(parent, str) or not parent.strip():
            raise ParamsError(current, "extends", f"expected a file path, got {parent!r}")
        else:
            current = os.path.join(os.path.dirname(current), parent)
            if not os.path.exists(current):
                raise ParamsError(chain[-1][0], "extends", f"file not found: {current}")

    result = ParamsDoc(data={})
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
        raise ParamsError(None, "--set", f"expected dotted.path=value, got {text!r}")
    key, _, raw_value = text.partition("=")
    parts = key.strip().split(".")
    if not key.strip() or any(not p for p in parts):
        raise ParamsError(None, "--set", f"expected dotted.path=value, got {text!r}")
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
        f"no key {parts[i]!r} in {inside}; --set changes or adds the last key of a path that exists"
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
        return f"a string ({value!r})"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"a date ({value})"
    return f"{type(value).__name__} ({value!r})"


describe = _kind
