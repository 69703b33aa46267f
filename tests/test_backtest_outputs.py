"""``backtest --out`` writes all of its files or none, and only over files it wrote; a resolution
that matches no question is said out loud.

Behaviours:

* a backtest.csv, numeric.csv or summary.json in ``--out`` that this tool did not write (or that
  was changed since) is refused before anything is computed, and left as it was;
* a target that cannot be replaced (summary.json is a folder) refuses the whole output: no
  backtest.csv or numeric.csv is written either;
* a backtest's own files are replaced by the next backtest;
* a resolution whose id matches no question is a warning in ``validate`` and in the backtest's
  printed summary, and exit 2 with ``--strict``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from scenarios.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.path.join(REPO, "params", "base.yaml")
FAST = ["--samples", "300", "--jobs", "1", "--as-of-dates", "2023-09-05,2023-09-14", "--no-progress"]


def _backtest(out, *extra) -> int:
    return main(["backtest", BASE, "--out", str(out), *FAST, *extra])


def test_a_foreign_output_file_is_refused_before_anything_runs_and_kept(tmp_path, capsys):
    out = tmp_path / "bt"
    out.mkdir()
    (out / "summary.json").write_text("{\"mine\": true}\n")
    assert _backtest(out) == 2
    err = capsys.readouterr().err
    assert "summary.json was not written by scenarios backtest" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    assert (out / "summary.json").read_text() == "{\"mine\": true}\n"


def test_an_output_that_cannot_be_replaced_writes_nothing(tmp_path, capsys):
    out = tmp_path / "bt"
    (out / "summary.json").mkdir(parents=True)
    assert _backtest(out) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]


def test_a_backtest_replaces_its_own_files_but_not_edited_ones(tmp_path, capsys):
    out = tmp_path / "bt"
    assert _backtest(out) == 0
    first = (out / "backtest.csv").read_text()
    assert _backtest(out) == 0  # its own files: replaced (the same numbers)
    assert (out / "backtest.csv").read_text() == first
    (out / "numeric.csv").write_text("edited by hand\n")
    capsys.readouterr()
    assert _backtest(out) == 2
    assert "numeric.csv was not written by scenarios backtest (or was changed since)" in capsys.readouterr().err
    assert (out / "numeric.csv").read_text() == "edited by hand\n"


def test_a_resolution_matching_no_question_is_a_warning_and_strict_makes_it_an_error(tmp_path, capsys):
    with open(os.path.join(REPO, "data", "resolutions.yaml"), encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    orphan = dict(doc["questions"][0], id="summit_by_2023_09_31_typo")
    doc["questions"].append(orphan)
    resolutions = tmp_path / "resolutions.yaml"
    resolutions.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert _backtest(tmp_path / "bt", "--resolutions", str(resolutions)) == 0
    err = capsys.readouterr().err
    assert "warning: 1 resolution(s) match no question of the model and are not scored: 'summit_by_2023_09_31_typo'" in err
    assert _backtest(tmp_path / "bt2", "--resolutions", str(resolutions), "--strict") == 2
    err = capsys.readouterr().err
    assert "summit_by_2023_09_31_typo" in err and "(--strict)" in err
    assert not (tmp_path / "bt2").exists()
    data = tmp_path / "params"
    data.mkdir()
    params = data / "m.yaml"
    params.write_text(f"extends: {BASE}\nresolutions: {resolutions}\n")
    # in a process of its own: --allow-outside-project sets the input limits of the process it runs in
    done = subprocess.run([sys.executable, "-m", "scenarios", "validate", str(params), "--worlds", "0",
                           "--allow-outside-project"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0 and "match no question of the model" in done.stderr
