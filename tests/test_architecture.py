"""The package's shape: layers point one way and no module imports another module's private names."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "scenarios"


def _private_imports(path: Path) -> list[str]:
    """``from X import _name`` where X is another module of the package (relative or absolute)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.ImportFrom):
            continue
        internal = node.level > 0 or (node.module or "").startswith("scenarios")
        if not internal:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {alias.name}")
    return found


def test_no_module_imports_another_modules_private_names():
    offenders = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _private_imports(path)]
    assert offenders == []


def test_the_private_import_check_sees_one(tmp_path):
    sample = tmp_path / "scenarios" / "x.py"
    sample.parent.mkdir()
    sample.write_text("from .engine.forecast import _hidden, visible\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "scenarios"
    try:
        assert _private_imports(sample) == ["scenarios/x.py:1: _hidden"]
    finally:
        PACKAGE = saved


def test_every_subpackage_is_in_a_layer():
    text = (PACKAGE.parents[1] / "pyproject.toml").read_text()
    for sub in sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        assert f'"scenarios.{sub}"' in text, f"scenarios.{sub} is missing from the import-linter layers"


def test_layers_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (make setup installs it)")
    result = subprocess.run([lint], capture_output=True, text=True, cwd=PACKAGE.parents[1])
    assert result.returncode == 0, result.stdout[-3000:]
