"""The package's public API: every exported name resolves, and importing the package stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import scenarios


@pytest.mark.parametrize("name", scenarios.__all__)
def test_every_exported_name_resolves(name):
    assert getattr(scenarios, name) is not None
    assert name in dir(scenarios)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        scenarios.nope  # noqa: B018


def test_importing_the_package_imports_nothing_heavy():
    code = "import sys, scenarios; print(sorted(m for m in ('numpy', 'scipy', 'yaml', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_readme_example_runs(tmp_path):
    from pathlib import Path

    base = Path(__file__).resolve().parents[1] / "params" / "reference.yaml"
    model, questions = scenarios.load_model(str(base))
    forecast = scenarios.run_forecast(model, questions, samples=2_000, seed=1)
    assert forecast.samples == 2_000 and "\n" in forecast.to_table()
