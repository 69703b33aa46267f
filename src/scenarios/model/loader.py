"""Reading input files: the one place where bytes from outside become Python objects.

Every file the tool reads (params, questions, evidence, resolutions, series) and every ``--set``
value goes through this module, which guarantees, for any input:

- only a regular file is opened (a FIFO, device or directory is refused before it is opened, and
  the file is opened non-blocking and checked again, so a FIFO swapped in never hangs);
- at most :attr:`InputLimits.max_file_size` bytes are read (default 4 MiB; ``--max-file-size``);
- YAML is parsed with the safe loader, duplicate keys refused, and a document whose aliases would
  expand past :attr:`InputLimits.max_nodes` nodes (or refer to themselves) is refused with the file
  and line before anything is built from it;
- a top-level document that is a bare scalar is refused without quoting it (a system file such as
  /etc/passwd parses as one long string: an error must never print a file back);
- paths named inside a file resolve relative to that file and must stay inside the project
  (:func:`project_root`), unless ``--allow-outside-project`` is given;
- an error quotes at most :data:`EXCERPT_CHARS` characters of a value (:func:`excerpt`).

Checking what the objects mean (keys, types, numbers, dates) is not done here.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ECHO_CHARS, ParamsError, short

__all__ = [
    "EXCERPT_CHARS",
    "InputLimits",
    "input_limits",
    "set_input_limits",
    "excerpt",
    "read_input_bytes",
    "parse_yaml_text",
    "load_yaml_file",
    "project_root",
    "resolve_path",
]

EXCERPT_CHARS = ECHO_CHARS
"""Most characters of a value an error message quotes."""

MiB = 1024 * 1024


@dataclass(frozen=True)
class InputLimits:
    """Limits on what one input file may hold (process-wide; the command line sets them).

    Attributes
    ----------
    max_file_size : int
        Bytes; a larger file is refused.
    max_nodes : int
        YAML nodes a document may expand to, counting every use of an alias in full.
    allow_outside_project : bool
        Let paths named inside a file point outside the project.
    """

    max_file_size: int = 4 * MiB
    max_nodes: int = 1_000_000
    allow_outside_project: bool = False


ENVIRONMENT = {"max_file_size": "SCENARIOS_MAX_FILE_SIZE", "allow_outside_project": "SCENARIOS_ALLOW_OUTSIDE_PROJECT"}
"""Environment variables holding the limits, so that notebook kernels started by ``report`` inherit them."""


def _limits_from_environment() -> InputLimits:
    limits = InputLimits()
    size = os.environ.get(ENVIRONMENT["max_file_size"], "")
    if size.isdigit() and int(size) > 0:
        limits = replace(limits, max_file_size=int(size), max_nodes=max(limits.max_nodes, int(size) // 4))
    if os.environ.get(ENVIRONMENT["allow_outside_project"]) == "1":
        limits = replace(limits, allow_outside_project=True)
    return limits


_limits = _limits_from_environment()


def input_limits() -> InputLimits:
    """The limits in force."""
    return _limits


def set_input_limits(*, export: bool = False, **changes) -> InputLimits:
    """Change the limits in force (e.g. ``max_file_size=...``); returns the previous ones.

    Raising ``max_file_size`` raises ``max_nodes`` in proportion (a node per 4 bytes) unless
    ``max_nodes`` is given too.  ``export=True`` also sets the :data:`ENVIRONMENT` variables, so
    processes started from here (notebook kernels) read files with the same limits.
    """
    global _limits
    previous = _limits
    if "max_file_size" in changes and "max_nodes" not in changes:
        changes["max_nodes"] = max(InputLimits.max_nodes, changes["max_file_size"] // 4)
    _limits = replace(_limits, **changes)
    if export:
        os.environ[ENVIRONMENT["max_file_size"]] = str(_limits.max_file_size)
        os.environ[ENVIRONMENT["allow_outside_project"]] = "1" if _limits.allow_outside_project else "0"
    return previous


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """``repr(value)`` cut to about ``limit`` characters, e.g. ``'root:x:0:0:…' (1,234 characters)``."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


# --------------------------------------------------------------------------- reading bytes


def _kind_of_file(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_input_bytes(path: str, *, what: str = "a YAML file") -> bytes:
    """The bytes of the regular file ``path``, at most ``max_file_size`` of them.

    Raises
    ------
    ParamsError
        Missing, unreadable, not a regular file, or larger than the limit (the message names the
        path and never quotes the contents).
    """
    limit = _limits.max_file_size
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ParamsError(path, "", "file not found") from None
    except OSError as exc:
        raise ParamsError(path, "", f"cannot read file: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ParamsError(path, "", f"expected {what}, got {_kind_of_file(st.st_mode)}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ParamsError(path, "", f"cannot read file: {exc.strerror}") from None
    try:
        st = os.fstat(fd)  # the file may have been swapped since the stat above
        if not stat.S_ISREG(st.st_mode):
            raise ParamsError(path, "", f"expected {what}, got {_kind_of_file(st.st_mode)}")
        if st.st_size > limit:
            raise _too_large(path, st.st_size, limit)
        chunks, total = [], 0
        while total <= limit:  # st_size can lie (/proc files say 0): count what is read
            block = os.read(fd, min(1 * MiB, limit + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
        if total > limit:
            raise _too_large(path, None, limit)
        return b"".join(chunks)
    except OSError as exc:
        raise ParamsError(path, "", f"cannot read file: {exc.strerror or errno.errorcode.get(exc.errno)}") from None
    finally:
        os.close(fd)


def _too_large(path: str, size: int | None, limit: int) -> ParamsError:
    found = f"{size:,} bytes" if size is not None else "more than that"
    return ParamsError(
        path, "", f"file too large: {found}, the limit is {limit:,} bytes (raise it with --max-file-size BYTES)"
    )


# --------------------------------------------------------------------------- parsing YAML


def _yaml():
    import yaml  # imported here: `scenarios --help` must not pay for it

    return yaml


def load_yaml_file(path: str) -> tuple[Any, bytes]:
    """Read and parse one YAML file within the limits; return (document, raw bytes).

    The document is a mapping, a list or None (an empty file).

    Raises
    ------
    ParamsError
        If the file is missing, unreadable, not a regular file, too large, not UTF-8, not valid
        YAML (with its line number), expands past the node limit, or is a bare scalar.
    """
    raw = read_input_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(path, "", f"file is not UTF-8 text (byte {exc.start})") from None
    doc = parse_yaml_text(text, path)
    if doc is not None and not isinstance(doc, (dict, list)):
        kind = f"a string of {len(doc):,} characters" if isinstance(doc, str) else f"a single {type(doc).__name__}"
        raise ParamsError(
            path, "", f"expected a YAML mapping (key: value lines) or list, got {kind} (not shown); is it the right file?"
        )
    return doc, raw


def parse_yaml_text(text: str, path: str) -> Any:
    """Parse YAML text with the safe loader within the limits; errors carry the line number.

    Parameters
    ----------
    text : str
        A document (a file's text or a ``--set`` value).
    path : str
        Where it came from, for messages (a file, or e.g. ``--set a.b``).
    """
    if len(text) > _limits.max_file_size:
        raise _too_large(path, len(text), _limits.max_file_size)
    yaml = _yaml()
    try:
        return yaml.load(text, Loader=_loader())
    except _ExpansionError as exc:
        raise ParamsError(path, "", exc.message, line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ParamsError(path, "", f"malformed YAML: {_cut(problem)}", line=line) from None
    except yaml.YAMLError as exc:
        raise ParamsError(path, "", f"malformed YAML: {_cut(str(exc))}") from None
    except RecursionError:
        raise ParamsError(path, "", "malformed YAML: nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # e.g. an impossible timestamp such as 2023-02-30
        raise ParamsError(path, "", f"bad value: {_cut(str(exc))}") from None


def _cut(text: str, limit: int = 2 * EXCERPT_CHARS) -> str:
    """A message from a parser on one line, cut to ``limit`` characters."""
    return short(" ".join(text.split()), limit)


class _ExpansionError(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message, self.line = message, line


def _children(node) -> list:
    value = node.value
    if value and isinstance(value[0], tuple):  # a mapping: (key, value) pairs
        return [n for pair in value for n in pair]
    return value


def _recursive(node) -> _ExpansionError:
    line = node.start_mark.line + 1 if node.start_mark is not None else None
    return _ExpansionError("an alias refers to a node that contains it (a recursive document); refused", line)


def check_expansion(root, max_nodes: int) -> int:
    """Nodes the document rooted at ``root`` expands to, each alias counted in full.

    The composed node graph shares an aliased node between its uses, so it stays as small as the
    text; what is built from it (and every walk over the result) is as large as the expansion.
    Computed bottom-up with one count per distinct node, in time linear in the text.

    Raises
    ------
    _ExpansionError
        When the count passes ``max_nodes`` (with the line of the node where it did) or an alias
        refers to a node that contains it.
    """
    scalar = _yaml().ScalarNode
    if isinstance(root, scalar):
        return 1
    sizes: dict = {}
    open_nodes: set = set()
    stack = [root]
    while stack:
        node = stack[-1]
        key = id(node)
        children = _children(node)
        if key not in open_nodes:  # first visit: count the children first
            open_nodes.add(key)
            for child in children:
                if isinstance(child, scalar) or id(child) in sizes:
                    continue
                if id(child) in open_nodes:
                    raise _recursive(child)
                stack.append(child)
            continue
        stack.pop()
        if key in sizes:  # reached twice before it was counted (an alias among siblings)
            continue
        size = 1
        for child in children:
            size += 1 if isinstance(child, scalar) else sizes[id(child)]
        if size > max_nodes:
            line = node.start_mark.line + 1 if node.start_mark is not None else None
            raise _ExpansionError(
                f"the document expands to more than {max_nodes:,} values (aliases are counted at every use); refused",
                line,
            )
        sizes[key] = size
    return sizes[id(root)]


_LOADER = None
_BOOL_TAG = "tag:yaml.org,2002:bool"
_YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


def _loader():
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    yaml = _yaml()

    # libyaml's parser when present (about 6x faster); the constructor stays the safe one
    base_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class BoundedLoader(base_loader):
        """Safe loader that refuses duplicate keys and documents that expand past the node limit."""

        def construct_document(self, node):
            check_expansion(node, _limits.max_nodes)
            return super().construct_document(node)

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
                    None, None, f"duplicate key {excerpt(key)}", key_node.start_mark
                )
            seen[key] = True
        return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)

    def construct_timestamp(loader, node):
        # an impossible date (2024-11-31) stays the text it is: the check that reads the key then
        # names the file, the line and the key path, like any other bad value
        try:
            return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
        except (ValueError, OverflowError):
            return loader.construct_scalar(node)

    BoundedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", construct_timestamp)
    # YAML 1.2 booleans: only true/false. YAML 1.1 (PyYAML's default) also reads on/off/yes/no as
    # booleans, so a question's `on: 2024-01-31` key became True and `yes` an unexpected boolean.
    BoundedLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
        for first, resolvers in base_loader.yaml_implicit_resolvers.items()
    }
    BoundedLoader.add_implicit_resolver(_BOOL_TAG, _YAML12_BOOL, list("tTfF"))
    _LOADER = BoundedLoader
    return _LOADER


# --------------------------------------------------------------------------- paths named in files

PROJECT_MARKERS = ("pyproject.toml", ".git")


def project_root(params_path: str) -> str:
    """The folder a model's files must stay in: its project.

    The nearest folder at or above the params file's folder holding ``pyproject.toml`` or
    ``.git`` (this repository: ``params/`` naming ``../data/`` works from the root and from
    ``notebooks/``); without one, the parent of the params file's folder (a model kept in a
    folder of its own, with ``params/`` and ``data/`` side by side).  Symlinks are resolved.
    """
    folder = os.path.dirname(os.path.realpath(params_path))
    here = folder
    while True:
        if any(os.path.exists(os.path.join(here, marker)) for marker in PROJECT_MARKERS):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return os.path.dirname(folder)
        here = parent


def resolve_path(name: Any, *, named_in: str | None, root: str | None, key: str) -> str:
    """The path ``name`` given under ``key`` in the file ``named_in``, confined to ``root``.

    Parameters
    ----------
    name : str
        The path as written (relative to ``named_in``'s folder, or absolute).
    named_in : str or None
        The file that names it (None: the command line, relative to the working folder).
    root : str or None
        The project folder (:func:`project_root`); None: no confinement (a path the user typed).
    key : str
        Key path, for messages (e.g. ``extends``).

    Raises
    ------
    ParamsError
        ``name`` is not a non-empty string, or it leads outside ``root`` (through ``..``, an
        absolute path or a symlink) and ``--allow-outside-project`` was not given.
    """
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise ParamsError(named_in, key, f"expected a file path, got {excerpt(name)}")
    path = os.path.join(os.path.dirname(named_in), name) if named_in is not None else name
    if root is None or _limits.allow_outside_project:
        return path
    real = os.path.realpath(path)
    if os.path.commonpath([real, root]) != root:
        raise ParamsError(
            named_in, key,
            f"{excerpt(name)} is outside the project folder {root}; a params file may only name files "
            "inside its project (pass --allow-outside-project to allow it)",
        )
    return path
