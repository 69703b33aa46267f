"""README and Makefile cannot drift: every documented make target exists and `make -n` accepts it."""

from __future__ import annotations

import os
import re
import subprocess

from conftest import REPO


def test_readme_make_targets_exist():
    readme = open(os.path.join(REPO, "README.md")).read()
    makefile = open(os.path.join(REPO, "Makefile")).read()
    documented = set(re.findall(r"make ([a-z]+)", readme))
    assert {"report", "test"} <= documented
    for target in documented:
        assert re.search(rf"^{target}:", makefile, re.M), f"README mentions make {target}, Makefile lacks it"
        assert f"## {target}:" in makefile, f"make {target} has no ## help line"
        subprocess.run(["make", "-n", target], cwd=REPO, check=True, capture_output=True)


def test_ci_runs_the_readme_test_command():
    assert "make test" in open(os.path.join(REPO, ".ci", "run")).read()


def _lab_command(*args) -> str:
    out = subprocess.run(["make", "-n", "lab", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout
    return next(line for line in out.splitlines() if "jupyter lab" in line)


def test_make_lab_runs_as_root_and_takes_lab_args():
    line = _lab_command()
    assert "--ip=127.0.0.1" in line and "--no-browser" in line
    assert ("--allow-root" in line) == (os.getuid() == 0)  # JupyterLab refuses root without it
    assert _lab_command("LAB_ARGS=--port=9999").split()[-2:] == ["--port=9999", "notebooks/"]
