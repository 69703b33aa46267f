"""The numbers every command that simulates takes, checked one way: ``--samples`` and ``--seed``.

Each is an argparse ``type=``: it returns the number or raises
:class:`argparse.ArgumentTypeError` saying what was expected and what was given (argparse then
prints the option's name with it and exits with code 2).
"""

from __future__ import annotations

import argparse

__all__ = ["MAX_SAMPLES", "parse_worlds", "parse_seed"]

MAX_SAMPLES = 100_000_000
"""The most worlds a run may draw (as ``samples:`` of a params file)."""


def parse_worlds(text: str) -> int:
    """A whole number of worlds (``20_000`` and ``20,000`` too), its range checked by the caller."""
    try:
        return int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of worlds, got {text!r}") from None


def parse_seed(text: str) -> int:
    """``--seed``: a whole number in [0, 2^63)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if not 0 <= n < 2**63:
        raise argparse.ArgumentTypeError(f"expected a whole number in [0, 2^63), got {n}")
    return n
