"""Hostile and careless inputs at the command line: exit 2, one line naming the file, nothing written.

Every command runs as a real subprocess of ``python -m scenarios`` under an address-space limit
and a timeout, so a regression (an alias bomb expanding, a FIFO blocking) fails the test instead
of eating the machine.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys

import pytest

from conftest import REPO

BASE = os.path.join(REPO, "params", "base.yaml")
REFERENCE = os.path.join(REPO, "params", "reference.yaml")
MEMORY_LIMIT = 1536 * 1024 * 1024
TIMEOUT = 60
MODEL = "as_of: 2023-09-05\nhorizon_months: 6\nseed: 1\nsamples: 1000\nnodes:\n  a: {bernoulli: {p: 0.3}}\n"
QUESTION = "questions:\n  - {id: q, text: a?, resolve: {expr: a}}\n"


def _limits(file_size: int | None = None):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        if file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))

    return apply


def run(*args, cwd=REPO, file_size=None):
    """Run ``python -m scenarios ARGS`` under the memory limit; (exit code, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "scenarios", *map(str, args)], capture_output=True, text=True, cwd=cwd,
        timeout=TIMEOUT, preexec_fn=_limits(file_size), stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout, proc.stderr


def refused(result, *names):
    """Exit 2, one line on stderr naming each of ``names``, no traceback; returns the line."""
    code, _, err = result
    assert code == 2, err
    assert "Traceback" not in err
    line = err.strip()
    assert line.startswith("error: ") and "\n" not in line, err
    for name in names:
        assert str(name) in line, (name, line)
    return line


def model_folder(root, extra: str = "") -> str:
    """A model kept in a folder of its own: root/params/m.yaml (with ``extra``) and root/data/."""
    (root / "params").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    path = root / "params" / "m.yaml"
    path.write_text(MODEL + QUESTION + extra)
    return str(path)


# ---------------------------------------------------------------- alias bombs

def _bomb(levels: int = 9, width: int = 10) -> str:
    parts = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels):
        parts.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "{" + ", ".join(parts) + "}"


def test_alias_bomb_in_a_file_is_refused_with_file_and_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(MODEL + "note: " + _bomb() + "\n")
    line = refused(run("validate", path), f"{path}:7:", "expands to more than")
    assert "aliases" in line


def test_alias_bomb_through_set_is_refused():
    refused(run("validate", REFERENCE, "--set", "note=" + _bomb()), "--set note", "expands to more than")


def test_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text(MODEL + "note: &n [1, *n]\n")
    refused(run("validate", path), str(path), "recursive")


def test_merge_key_bomb_is_refused(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("m0: &m0 {k: 1}\n" + "".join(f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}]}}\n" for i in range(1, 40)))
    refused(run("validate", path), str(path), "expands to more than")


# ---------------------------------------------------------------- special files and size

def test_fifo_as_params_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.yaml"
    os.mkfifo(fifo)
    refused(run("validate", fifo), str(fifo), "FIFO")


def test_fifo_named_by_extends_is_refused(tmp_path):
    path = model_folder(tmp_path)
    os.mkfifo(tmp_path / "params" / "pipe.yaml")
    with open(path, "a") as fh:
        fh.write("extends: pipe.yaml\n")
    refused(run("validate", path), "pipe.yaml", "FIFO")


def test_endless_device_as_params_is_refused():
    refused(run("validate", "/dev/zero"), "/dev/zero", "device")


def test_endless_device_as_extends_is_refused(tmp_path):
    path = model_folder(tmp_path, "extends: /dev/zero\n")
    refused(run("validate", path), "m.yaml", "outside the project")
    refused(run("validate", path, "--allow-outside-project"), "/dev/zero", "device")


def test_directory_as_params_is_refused(tmp_path):
    refused(run("validate", tmp_path), str(tmp_path), "directory")


def test_oversized_file_is_refused_and_the_limit_can_be_raised(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(MODEL + QUESTION + 'note: "' + "x" * (5 * 1024 * 1024) + '"\n')
    refused(run("validate", path), str(path), "too large", "--max-file-size")
    code, out, err = run("validate", path, "--max-file-size", "8MiB")
    assert code == 0 and f"ok: {path}" in out, err


def test_oversized_set_value_is_refused():
    refused(run("validate", REFERENCE, "--max-file-size", "8000", "--set", "note=" + "x" * 9000), "--set note", "too large")


# ---------------------------------------------------------------- paths outside the project, content leaks

PASSWD = "/etc/passwd"


@pytest.mark.skipif(not os.path.isfile(PASSWD), reason="no /etc/passwd here")
def test_extends_a_system_file_is_refused_and_never_printed(tmp_path):
    path = model_folder(tmp_path, f"extends: {PASSWD}\n")
    refused(run("validate", path), "m.yaml", "extends", "outside the project", "--allow-outside-project")
    line = refused(run("validate", path, "--allow-outside-project"), PASSWD)
    assert "root:" not in line and "/bin/" not in line


@pytest.mark.skipif(not os.path.isfile(PASSWD), reason="no /etc/passwd here")
@pytest.mark.parametrize("key", ["evidence", "questions", "resolutions", "series"])
def test_data_keys_cannot_climb_out_of_the_project(tmp_path, key):
    climb = "../" * (len(tmp_path.parts) + 2) + PASSWD.lstrip("/")
    path = model_folder(tmp_path / "model")
    text = open(path).read()
    if key == "questions":
        text = text.replace(QUESTION, "")
    with open(path, "w") as fh:
        fh.write(text + f"{key}: {climb}\n")
    line = refused(run("validate", path), "m.yaml", key, "outside the project")
    assert "root:" not in line


@pytest.mark.skipif(not os.path.isfile(PASSWD), reason="no /etc/passwd here")
@pytest.mark.parametrize("option", ["--evidence", "--resolutions"])
def test_a_system_file_given_on_the_command_line_is_not_printed_back(option):
    line = refused(run("forecast", REFERENCE, "-n", "1000", "--as-of", "2023-09-10", option, PASSWD), PASSWD)
    assert "root:" not in line and "/bin/" not in line


def test_a_symlink_out_of_the_project_is_refused(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(QUESTION)
    path = model_folder(tmp_path / "model")
    os.symlink(outside, tmp_path / "model" / "data" / "questions.yaml")
    text = open(path).read().replace(QUESTION, "questions: ../data/questions.yaml\n")
    with open(path, "w") as fh:
        fh.write(text)
    refused(run("validate", path), "m.yaml", "outside the project")


def test_a_model_in_a_folder_of_its_own_reads_its_data_from_anywhere(tmp_path):
    root = tmp_path / "mymodel"
    path = model_folder(root)
    (root / "data" / "questions.yaml").write_text(QUESTION)
    (root / "data" / "evidence.yaml").write_text("evidence: []\n")
    (root / "params" / "base.yaml").write_text(MODEL)
    with open(path, "w") as fh:
        fh.write("extends: base.yaml\nquestions: ../data/questions.yaml\nevidence: ../data/evidence.yaml\n")
    for cwd in (root, root / "params", tmp_path):
        code, out, err = run("forecast", path, "-n", "500", "--format", "json", cwd=cwd)
        assert code == 0, err
        assert [q["id"] for q in json.loads(out)["questions"]] == ["q"]


def test_this_repository_layout_works_from_the_notebooks_folder():
    code, out, err = run("validate", "../params/base.yaml", cwd=os.path.join(REPO, "notebooks"))
    assert code == 0, err


# ---------------------------------------------------------------- output locations

def _forecast_to(target, *extra):
    return run("forecast", REFERENCE, "-n", "500", "--format", "json", "--output", target, *extra)


def test_output_to_a_fifo_is_refused_and_the_fifo_stays(tmp_path):
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    refused(_forecast_to(fifo), str(fifo), "FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_output_to_a_directory_is_refused(tmp_path):
    refused(_forecast_to(tmp_path), str(tmp_path), "directory")
    assert os.listdir(tmp_path) == []


def test_output_to_a_symlink_is_refused_and_neither_link_nor_target_changes(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("keep me\n")
    link = tmp_path / "out.json"
    os.symlink(target, link)
    refused(_forecast_to(link), str(link), "symbolic link")
    assert os.path.islink(link) and target.read_text() == "keep me\n"
    assert sorted(os.listdir(tmp_path)) == ["out.json", "target.txt"]


def test_output_to_dev_null_is_refused_and_the_device_stays():
    before = os.lstat(os.devnull)
    refused(_forecast_to(os.devnull), os.devnull, "device")
    after = os.lstat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_output_dash_is_standard_output(tmp_path):
    code, out, err = run("forecast", REFERENCE, "-n", "500", "--format", "json", "--output", "-", cwd=tmp_path)
    assert code == 0, err
    assert json.loads(out)["samples"] == 500 and os.listdir(tmp_path) == []


def test_output_replaces_a_regular_file_atomically(tmp_path):
    out = tmp_path / "out.json"
    out.write_text("old\n")
    code, _, err = _forecast_to(out)
    assert code == 0, err
    assert json.loads(out.read_text())["samples"] == 500
    assert os.listdir(tmp_path) == ["out.json"]


def test_output_under_a_regular_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "out.json"
    refused(_forecast_to(target), str(target))
    assert (tmp_path / "file").read_text() == "x"


def test_output_name_too_long_is_refused(tmp_path):
    target = tmp_path / ("x" * 300 + ".json")
    refused(_forecast_to(target), "cannot write")
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_output_in_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        refused(_forecast_to(folder / "out.json"), str(folder / "out.json"))
        refused(run("backtest", BASE, "-n", "500", "--as-of-dates", "2023-10-01", "--out", folder / "bt"), str(folder / "bt"))
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o700)


def test_a_full_disk_is_refused_and_leaves_nothing(tmp_path):
    # a file size limit makes the write fail (EFBIG) as a full disk (ENOSPC) would
    out = tmp_path / "out.json"
    refused(run("forecast", REFERENCE, "-n", "500", "--format", "json", "--output", out, file_size=200), str(out))
    assert os.listdir(tmp_path) == []


def test_backtest_folder_under_a_regular_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    refused(run("backtest", BASE, "-n", "500", "--as-of-dates", "2023-10-01", "--out", tmp_path / "file" / "bt"), "file")


# ---------------------------------------------------------------- dates and memory

def test_monthly_dates_past_year_9999_are_a_clear_error():
    refused(run("backtest", BASE, "-n", "500", "--monthly", "9999-12-01", "10000-01-01"), "--monthly")


def test_a_run_over_the_memory_budget_is_refused_with_what_fits():
    line = refused(run("forecast", BASE, "--samples", "100000000", "--memory-budget", "1GiB"), "100,000,000 worlds",
                   "budget of 1.00 GiB", "--memory-budget")
    fits = int(line.split("at most ")[1].split(" worlds")[0].replace(",", ""))
    assert 1_000_000 < fits < 100_000_000


def test_the_memory_limit_of_the_process_bounds_the_default_budget():
    # under the test's 1.5 GiB address-space limit, 10^8 worlds cannot be the default budget's
    line = refused(run("forecast", BASE, "--samples", "100000000"), "100,000,000 worlds")
    assert "at most" in line


def test_a_budget_nothing_fits_in():
    refused(run("forecast", BASE, "--samples", "1000", "--memory-budget", "1MiB"), "no run fits")


@pytest.mark.parametrize("size", ["lots", "-5MiB", "0", "3 parsecs"])
def test_a_bad_size_is_a_usage_error(size):
    code, _, err = run("forecast", BASE, "--memory-budget", size)
    assert code == 2 and "Traceback" not in err and "--memory-budget" in err


def test_report_folder_under_a_regular_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    refused(run("report", BASE, "-n", "500", "--out", tmp_path / "file" / "reports"), str(tmp_path / "file" / "reports"))
    assert (tmp_path / "file").read_text() == "x"
