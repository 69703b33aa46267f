"""Atomic writes replace a regular file or nothing, and every failure is an OutputError naming the path."""

from __future__ import annotations

import os
import stat

import pytest

from scenarios.atomic import write_text
from scenarios.errors import OutputError


def test_writes_and_replaces_a_regular_file(tmp_path):
    path = tmp_path / "sub" / "out.txt"
    write_text(str(path), "one")
    write_text(str(path), "two")
    assert path.read_text() == "two" and os.listdir(path.parent) == ["out.txt"]


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "FIFO"),
    (lambda p: os.mkdir(p), "directory"),
    (lambda p: os.symlink(os.devnull, p), "symbolic link"),
])
def test_refuses_to_replace_anything_else(tmp_path, make, kind):
    path = tmp_path / "out.txt"
    make(path)
    before = os.lstat(path)
    with pytest.raises(OutputError, match=kind) as info:
        write_text(str(path), "x")
    assert str(path) in str(info.value)
    after = os.lstat(path)
    assert (stat.S_IFMT(after.st_mode), after.st_ino) == (stat.S_IFMT(before.st_mode), before.st_ino)
    assert os.listdir(tmp_path) == ["out.txt"]


def test_a_device_is_not_replaced():
    with pytest.raises(OutputError, match="device"):
        write_text(os.devnull, "x")
    assert stat.S_ISCHR(os.lstat(os.devnull).st_mode)


def test_a_parent_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="cannot"):
        write_text(str(tmp_path / "f" / "out.txt"), "x")


def test_a_long_name_leaves_no_temporary_file(tmp_path):
    long = tmp_path / ("n" * 250)
    write_text(str(long), "fits")  # the temporary name must not overflow the limit itself
    assert long.read_text() == "fits"
    with pytest.raises(OutputError, match="too long"):
        write_text(str(tmp_path / ("n" * 300)), "x")
    assert os.listdir(tmp_path) == [long.name]
