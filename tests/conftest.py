"""Shared helpers: write small params files into a temp folder and load them."""

from __future__ import annotations

import os
import textwrap

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def write(tmp_path):
    """write(name, yaml_text) -> path of the file written in a temp folder."""

    def _write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    return _write


HEADER = "as_of: 2023-09-05\nhorizon_months: 12\nseed: 7\nsamples: 1000\n"
