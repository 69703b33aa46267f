"""Atomic file writes: write to a temporary name in the same folder, then rename.

Only a regular file (or nothing) is ever replaced: a device, FIFO, directory, socket or symlink at
the target is refused before anything is written (renaming over ``/dev/null`` would replace the
device with a file; renaming over a symlink would replace the link, not write where it points).
Every failure to write, for whatever reason the system gives (read-only, full disk, permission,
a parent that is a file, a name too long), is an :class:`~scenarios.errors.OutputError` naming
the path, and leaves no temporary file behind.
"""

from __future__ import annotations

import os
import stat
import tempfile

from .errors import OutputError

__all__ = ["write_text", "write_bytes", "check_replaceable"]

_TMP_NAME_CHARS = 64  # of the target's name in the temporary name (a long name must not overflow)


def check_replaceable(path: str) -> None:
    """Refuse a target that is not a regular file (nothing there is fine).

    Raises
    ------
    OutputError
        ``path`` is a symlink, directory, device, FIFO or socket, or cannot be looked at.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from None
    if stat.S_ISREG(st.st_mode):
        return
    if stat.S_ISLNK(st.st_mode):
        kind = "a symbolic link"
    elif stat.S_ISDIR(st.st_mode):
        kind = "a directory"
    elif stat.S_ISFIFO(st.st_mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        kind = "a device"
    else:
        kind = "not a regular file"
    raise OutputError(path, f"it is {kind}; only a regular file is replaced (give a new file name, or - for standard output)")


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Raises
    ------
    OutputError
        The target is not a regular file, or the folder cannot be created or written.
    """
    path = os.fspath(path)
    check_replaceable(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise OutputError(path, f"cannot create its folder: {exc.strerror or exc}") from None
    tmp = None
    try:
        prefix = "." + os.path.basename(path)[:_TMP_NAME_CHARS] + "."
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        check_replaceable(path)  # again: something may have been put there meanwhile
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str, text: str) -> None:
    """Atomic UTF-8 text write (see :func:`write_bytes`)."""
    write_bytes(path, text.encode("utf-8"))
