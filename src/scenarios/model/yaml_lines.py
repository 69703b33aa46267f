"""The line of a key path in a YAML file, looked up when an error needs one.

Errors name the file and key path of a bad value; this adds its line.  The file is composed
again (YAML nodes with their positions: nothing is constructed, aliases are not expanded) only
when an error is raised, so loading pays nothing for it.  Any problem (a file gone, changed or
too large, a path the file does not hold) gives the line of the deepest key found, or None.
"""

from __future__ import annotations

from .loader import read_input_bytes

__all__ = ["line_of"]

def line_of(file: str | None, path: tuple) -> int | None:
    """1-based line of ``path`` (keys and list indices as strings) in YAML ``file``, or None.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
    ...     _ = fh.write("nodes:\\n  a:\\n    bernoulli: {p: 1.5}\\nquestions:\\n  - {id: q}\\n  - {id: r}\\n")
    >>> line_of(fh.name, ("nodes", "a", "bernoulli", "p")), line_of(fh.name, ("questions", "1", "id"))
    (3, 6)
    """
    if not file:
        return None
    try:
        text = read_input_bytes(file).decode("utf-8")  # the one loader's checks: regular file, size
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        node = yaml.compose(text, Loader=loader)
    except Exception:  # the line is a courtesy: never let it hide the error being reported
        return None
    if node is None:
        return None
    line = None
    for part in path:
        found, node = _child(node, str(part))
        if node is None:
            break
        line = found
    return line


def _child(node, part: str):
    """(line of the key or item, its value node) for one step of a key path; (None, None) if absent."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and (key.value == part or key.value.lower() == part):
                return key.start_mark.line + 1, value
    elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
        item = node.value[int(part)]
        return item.start_mark.line + 1, item
    return None, None
