"""The series file: dated real estimates, each with a date, what is counted, a number and a source."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import yaml

from conftest import REPO
from scenarios.errors import ParamsError
from scenarios.model.series import SERIES_ITEM_KEYS, load_series, parse_series

SHIPPED = os.path.join(REPO, "data", "numeric_series.yaml")

GOOD = {
    "date_of_estimate": dt.date(2023, 10, 13),
    "quantity": "containers shipped",
    "value": 1000,
    "low": 1000,
    "high": None,
    "estimator": "a ministry",
    "baseline": dt.date(2023, 9, 7),
    "confidence": "high",
    "sources": ["https://example.org/a"],
}


def _with(**change) -> dict:
    item = dict(GOOD)
    for key, value in change.items():
        if value is ...:
            del item[key]
        else:
            item[key] = value
    return {"containers": [item]}


def test_the_shipped_series_file_is_valid():
    series = load_series(SHIPPED)
    raw = yaml.safe_load(open(SHIPPED))
    assert set(series) == set(raw)
    assert sum(map(len, series.values())) == sum(map(len, raw.values()))
    item = series["containers_nk_to_russia"][0]
    assert set(item) == set(SERIES_ITEM_KEYS)
    assert item["date_of_estimate"] == dt.date(2023, 10, 13) and item["value"] == 1000.0 and item["high"] is None
    assert all(i["sources"] and isinstance(i["sources"], tuple) for s in series.values() for i in s)


def test_values_are_normalised():
    [item] = parse_series(_with(value=7, sources="https://example.org/one", baseline=dt.date(2023, 9, 7)), "s.yaml")["containers"]
    assert item["value"] == 7.0 and isinstance(item["value"], float)
    assert item["sources"] == ("https://example.org/one",)
    assert item["baseline"] == "2023-09-07" and item["note"] == "" and item["killed"] is None


def test_file_notes_are_allowed_and_are_not_series():
    doc = {"note": "where the numbers come from", **_with()}
    assert list(parse_series(doc, "s.yaml")) == ["containers"]


@pytest.mark.parametrize("doc, match", [
    ([1, 2], r"s\.yaml: expected a mapping of series name -> list of dated estimates, got a list"),
    ({}, r"s\.yaml: expected a mapping of series name"),
    ({"note": "only a note"}, "holds no series"),
    ({"containers": {"date_of_estimate": 1}}, r"s\.yaml: containers: expected a list of dated estimates, got a mapping"),
    ({"containers": [3]}, r"containers\.0: expected a mapping with date_of_estimate, quantity, estimator, sources"),
    (_with(vaule=3), r"containers\.0\.vaule: unknown key 'vaule'.*did you mean 'value'"),
    (_with(date_of_estimate=...), r"containers\.0\.date_of_estimate: missing date_of_estimate"),
    (_with(date_of_estimate="2023-02-30"), r"containers\.0\.date_of_estimate: expected a date as YYYY-MM-DD, got '2023-02-30', which is not a date"),
    (_with(sources=...), r"containers\.0\.sources: missing sources \(every real number carries its source\)"),
    (_with(sources=[]), r"containers\.0\.sources: expected a source or a non-empty list"),
    (_with(sources=["ok", 3]), r"containers\.0\.sources\.1: expected a source \(a URL or a reference\), got int \(3\)"),
    (_with(value="lots"), r"containers\.0\.value: expected a number or null, got a string \('lots'\)"),
    (_with(value=True), r"containers\.0\.value: expected a number or null, got a boolean"),
    (_with(value=float("nan")), r"containers\.0\.value: expected a number or null, got NaN"),
    (_with(value=float("inf")), r"containers\.0\.value: expected a number or null, got inf \(not a finite number\)"),
    (_with(value=10**400), r"containers\.0\.value: expected a finite number, got an integer of 401 digits"),
    (_with(value=None, low=None), r"containers\.0\.value: expected a number in at least one of value, low, high"),
    (_with(low=5, high=2), r"containers\.0\.low: expected low <= high, got low 5 > high 2"),
    (_with(confidence="hihg"), r"containers\.0\.confidence: expected one of \['high', 'medium', 'low'\], got a string \('hihg'\) \(did you mean 'high'\?\)"),
    (_with(quantity=" "), r"containers\.0\.quantity: expected a non-empty text"),
    (_with(estimator=["a"]), r"containers\.0\.estimator: expected a non-empty text, got a list"),
    (_with(note=True), r"containers\.0\.note: expected text, got a boolean"),
    (_with(killed="many"), r"containers\.0\.killed: expected a number or null"),
])
def test_a_bad_series_file_names_the_file_the_key_path_and_the_value(doc, match):
    with pytest.raises(ParamsError, match=match):
        parse_series(doc, "s.yaml")


def test_a_long_bad_value_is_quoted_short():
    with pytest.raises(ParamsError) as info:
        parse_series(_with(value="x" * 5000), "s.yaml")
    assert len(str(info.value)) < 200


def test_load_series_reads_the_file_and_names_it(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("containers:\n  - {date_of_estimate: 2023-10-13, quantity: q, value: 1, estimator: e}\n")
    with pytest.raises(ParamsError, match=rf"{path}:2: containers\.0\.sources: missing sources"):
        load_series(str(path))
    with pytest.raises(ParamsError, match="file not found"):
        load_series(str(tmp_path / "none.yaml"))
