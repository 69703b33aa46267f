"""One number format for tables, axes and annotations (scenarios.notebook.formatting)."""

from __future__ import annotations

import doctest
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.notebook import formatting
from scenarios.notebook.formatting import (
    MISSING,
    number,
    number_range,
    percent,
    probability,
    shorten,
)

PLAIN = st.floats(min_value=1e-4, max_value=1e12 - 1, allow_nan=False) | st.floats(
    min_value=-1e12 + 1, max_value=-1e-4, allow_nan=False)


def parse(text: str) -> float:
    """A number as :func:`number` writes it, back as a float (``1.5×10⁻⁵`` too)."""
    mantissa, times, exponent = text.replace(",", "").partition("×10")
    if times:
        exponent = exponent.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-"))
        return float(f"{mantissa}e{exponent}")
    return float(mantissa)


def test_the_docstring_examples_hold():
    assert doctest.testmod(formatting).failed == 0


@pytest.mark.parametrize(("x", "text"), [
    (0, "0"), (1, "1"), (1000, "1,000"), (12345, "12,345"), (12345.4, "12,345"), (0.25, "0.25"),
    (3.14159, "3.14"), (2.5, "2.5"), (2.0, "2"), (999.4, "999"), (999.96, "1,000"), (99.96, "100"),
    (0.000123456, "0.000123"), (-1234.5, "-1,234"), (1234567, "1,234,567"), (0.1 + 0.2, "0.3"),
    (-0.0, "0"), (float("inf"), "∞"), (float("-inf"), "-∞"),
])
def test_number_by_hand(x, text):
    assert number(x) == text


def test_missing_values_print_the_same_everywhere():
    assert MISSING == "–"
    for f in (number, percent, probability):
        assert f(None) == MISSING and f(float("nan")) == MISSING
    assert number_range(None, float("nan")) == MISSING
    assert formatting.cell(None) == MISSING and formatting.cell(float("nan")) == MISSING


@given(PLAIN)
def test_never_scientific_notation_in_the_plain_range(x):
    text = number(x)
    assert "e" not in text.lower()
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", text), text


@given(PLAIN, st.integers(min_value=1, max_value=6))
def test_round_trips_within_the_stated_precision(x, digits):
    back = parse(number(x, digits=digits))
    if abs(x) >= 1000:
        tolerance = 0.5  # whole units
    else:
        tolerance = 0.5 * 10 ** (math.floor(math.log10(abs(x))) - digits + 1)
    assert abs(back - x) <= tolerance * (1 + 1e-9) + 1e-12 * abs(x)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_number_reads_back_close(x):
    back = parse(number(x, digits=6))
    assert back == pytest.approx(x, rel=1e-5, abs=0.5 if abs(x) >= 1000 else 1e-9)


@pytest.mark.parametrize(("x", "text"), [
    (1.294e15, "1.29×10¹⁵"), (1e20, "1×10²⁰"), (-3e-8, "-3×10⁻⁸"), (2.5e-7, "2.5×10⁻⁷"), (1e-300, "1×10⁻³⁰⁰"),
])
def test_numbers_beyond_plain_digits_are_a_power_of_ten_written_out(x, text):
    assert number(x) == text


@given(st.floats(allow_nan=False))
def test_never_python_e_notation(x):
    assert not re.search(r"\de[+-]?\d", number(x)) and "nan" not in number(x).lower()


@pytest.mark.parametrize(("low", "high", "text"), [
    (1000, 5000, "1,000 – 5,000"), (1000, None, "≥ 1,000"), (None, 5, "≤ 5"), (None, None, "–"),
    (2, 2, "2"), (float("nan"), 12345, "≤ 12,345"), (0.25, float("nan"), "≥ 0.25"),
])
def test_ranges_never_dangle(low, high, text):
    assert number_range(low, high) == text


@given(st.one_of(st.none(), st.just(float("nan")), PLAIN), st.one_of(st.none(), st.just(float("nan")), PLAIN))
def test_a_range_has_no_dangling_dash(low, high):
    text = number_range(low, high)
    assert not text.startswith("– ") and not text.endswith(" –") and "– –" not in text


def test_percent_and_probability():
    assert percent(0.031) == "3.1%" and percent(0.8031) == "80.3%" and percent(1) == "100.0%"
    assert percent(0.5, decimals=0) == "50%"
    assert probability(0.8) == "0.80" and probability(1) == "1.00" and probability(0.0123, decimals=3) == "0.012"


def test_table_cells():
    assert formatting.cell(True) == "yes" and formatting.cell(False) == "no"
    assert formatting.cell(1e3) == "1,000" and formatting.cell("1e+03") == "1e+03"  # text stays as written
    import numpy as np

    assert formatting.cell(np.float64(12345.0)) == "12,345" and formatting.cell(np.int64(7)) == "7"


def test_tick_formatter_uses_the_same_format():
    f = formatting.tick_formatter()
    assert f(15_000_000, 0) == "15,000,000" and f(0.25, 0) == "0.25" and f(0, 0) == "0"


# --------------------------------------------------------------------------- shortened titles

QUESTION_IDS = [
    "us_says_russian_oil_exceeds_un_cap_by_2024_06_30",
    "russian_sub_reactor_transfer_officially_confirmed_by_2025_12_31",
    "kim_putin_meet_in_person_in_2025",
    "nk_engineers_builders_to_kursk_announced_by_2025_09_30",
]


@pytest.mark.parametrize("text", QUESTION_IDS)
def test_shortened_titles_keep_the_trailing_date(text):
    short = shorten(text, 30)
    date = re.search(r"\d{4}(_\d\d_\d\d)?$", text).group(0)
    assert len(short) <= 30 and short.endswith(date) and "…" in short
    assert short.startswith(text[:8])


def test_shorten_by_hand():
    assert shorten("us_says_russian_oil_exceeds_un_cap_by_2024_06_30", 30) == "us_says_russian…_by_2024_06_30"
    assert shorten("Will Kim and Putin meet again by 2024-06-30?", 30) == "Will Kim and P… by 2024-06-30?"
    assert shorten("a title without any date at all", 12) == "a title wit…"
    assert shorten("fits", 4) == "fits"
    # "in" inside a word is not the word before the date
    assert shorten("they meet with putin 2025", 15).endswith(" 2025")
    with pytest.raises(ValueError, match="width must be at least 1"):
        shorten("x", 0)


@given(st.text(alphabet="abc _-", min_size=0, max_size=60),
       st.sampled_from(["by 2024-06-30", "_by_2024_06_30", "in 2025", " 2023-10", ""]),
       st.integers(min_value=1, max_value=70))
def test_shorten_properties(head, tail, width):
    text = head + tail
    short = shorten(text, width)
    assert len(short) <= width
    if len(text) <= width:
        assert short == text
    else:
        assert short.endswith("…") or "…" in short
        date = re.search(r"\d{4}(?:[-_]\d\d){0,2}$", tail)
        if date and head.strip(" _-") and width >= len(tail.strip()) + 2 + 1:
            assert short.endswith(date.group(0))
