"""Kernels forked from a warm pool: they run notebooks like launched kernels, where launched
kernels would run them, and fall back to launching when the pool cannot serve."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from scenarios import report
from scenarios.report.kernel_pool import KernelPool, preload_modules

report.import_papermill()

import nbformat  # noqa: E402

pytestmark = pytest.mark.skipif(not KernelPool.supported(), reason="needs fork and Unix sockets")

PROBE = """\
import json, os, sys
print(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "cwd": os.getcwd(), "pgid": os.getpgid(0),
                  "preloaded": "colorsys" in sys.modules, "parent_env": os.environ.get("JPY_PARENT_PID")}))
os.write(2, b"written to file descriptor 2\\n")
"""


def _notebook(folder: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(s) for s in sources)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "probe.ipynb"
    nbformat.write(nb, path)
    return path


def _execute(path: Path, out: Path, pool: KernelPool | str | None, log: Path) -> dict:
    """Execute ``path`` as the report's workers do, with kernels from ``pool`` (or its address)."""
    from scenarios.report.execute import execute

    result = execute({"input": str(path), "output": str(out), "parameters": {"x": 2}, "cwd": str(path.parent),
                      "timeout": 60, "log": str(log), "kernel_pool": getattr(pool, "address", pool)})
    assert result["status"] == "ok", result
    executed = nbformat.read(out, as_version=4)
    text = "".join(o.get("text", "") for o in executed.cells[-1].outputs if o.get("name") == "stdout")
    probe, *rest = text.splitlines()
    probe = json.loads(probe)
    if rest:
        probe["module_loaded_by"] = int(rest[0])
    return probe


def _gone(pid: int, within: float = 5.0) -> bool:
    from scenarios.report.kernel_pool import _alive

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_preload_modules_are_the_notebooks_imports(tmp_path):
    path = _notebook(tmp_path, "import numpy as np\nfrom scenarios import report\nfrom scenarios.notebook import plots\nimport os.path",
                     "%matplotlib inline", "from . import nothing\nx = 1")
    assert preload_modules([path]) == ["numpy", "scenarios", "scenarios.report", "scenarios.notebook", "scenarios.notebook.plots", "os.path"]


def test_a_forked_kernel_runs_the_notebook_like_a_launched_one(tmp_path):
    nb = _notebook(tmp_path, PROBE + "import beside_the_notebook\nprint(beside_the_notebook.LOADED_BY)\n")
    (tmp_path / "beside_the_notebook.py").write_text("import os\nLOADED_BY = os.getpid()\n")
    with KernelPool.for_kernel("python3", ["colorsys", "beside_the_notebook"], cwd=tmp_path) as pool:
        forked = _execute(nb, tmp_path / "forked.ipynb", pool, tmp_path / "forked.log")
        assert forked["ppid"] == pool.process.pid  # a child of the pool, not of this process
        assert forked["preloaded"]  # the pool imported it before the fork
        # a module next to the notebooks is found by the pool as by the kernel, and imported once
        assert forked["module_loaded_by"] == pool.process.pid
    launched = _execute(nb, tmp_path / "launched.ipynb", None, tmp_path / "launched.log")
    assert launched["ppid"] == os.getpid() and not launched["preloaded"]
    assert launched["module_loaded_by"] == launched["pid"]
    for probe in (forked, launched):
        assert probe["cwd"] == str(tmp_path)
        assert probe["pgid"] == probe["pid"]  # its own process group: interrupts reach it alone
        assert probe["parent_env"] == str(os.getpid())
        assert _gone(probe["pid"])  # shut down after the notebook
    for log in ("forked.log", "launched.log"):  # the kernel's own stderr goes to the log, as launched
        assert "written to file descriptor 2" in (tmp_path / log).read_text()


def test_without_a_pool_to_serve_the_kernel_is_launched_as_usual(tmp_path, caplog, monkeypatch):
    from scenarios.report import kernel_pool

    monkeypatch.setattr(kernel_pool, "BIND_WAIT", 0.3)  # how long a client waits for the socket to appear
    nb = _notebook(tmp_path, PROBE)
    pool = KernelPool.for_kernel("python3")
    address = pool.address
    pool.close()  # gone: its socket no longer exists
    probe = _execute(nb, tmp_path / "out.ipynb", address, tmp_path / "out.log")
    assert probe["ppid"] == os.getpid()
    assert "kernel pool unavailable" in caplog.text


def test_a_kernel_that_dies_is_reported_and_the_pool_serves_the_next(tmp_path):
    from scenarios.report.execute import execute

    dies = _notebook(tmp_path, "import os\nos._exit(3)")
    with KernelPool.for_kernel("python3") as pool:
        result = execute({"input": str(dies), "output": str(tmp_path / "dies.ipynb"), "parameters": {"x": 2},
                          "cwd": str(tmp_path), "timeout": 60, "log": str(tmp_path / "dies.log"),
                          "kernel_pool": pool.address})
        assert result["status"] == "failed" and "died" in result["message"]
        probe = _execute(_notebook(tmp_path, PROBE), tmp_path / "next.ipynb", pool, tmp_path / "next.log")
        assert probe["ppid"] == pool.process.pid


def test_the_pool_exits_when_closed(tmp_path):
    pool = KernelPool.for_kernel("python3")
    pid = pool.process.pid
    pool.close()
    assert _gone(pid) and not os.path.exists(pool.folder)


def test_kernels_exit_when_the_pool_is_gone(tmp_path):
    """A kernel whose client and pool are gone (a runner killed outright) does not linger."""
    import asyncio

    from scenarios.report.kernel_pool import forking_kernel_manager

    pool = KernelPool.for_kernel("python3")
    km = forking_kernel_manager(pool.address)(kernel_name="python3")
    asyncio.run(km.start_kernel(cwd=str(tmp_path)))
    pid = km.provisioner.pid
    assert km.provisioner.process.poll() is None
    if os.path.exists(f"/proc/{pid}/stat"):  # forked by the pool
        assert open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1] == str(pool.process.pid)
    os.kill(pool.process.pid, 9)  # no chance to clean up
    pool.process.wait()
    assert _gone(pid, within=10.0)
    pool.close()


def test_the_kernel_command_is_split_into_interpreter_and_arguments():
    from scenarios.report.kernel_pool import _same_interpreter, _split_launcher

    assert _split_launcher(["/py", "-m", "ipykernel_launcher", "-f", "c.json"]) == (["/py"], ["-f", "c.json"])
    assert _split_launcher(["/py", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c.json"]) == (
        ["/py", "-Xfrozen_modules=off"], ["-f", "c.json"])
    assert _split_launcher(["/py", "-m", "other_kernel", "-f", "c.json"]) is None
    assert _split_launcher(["/py", "script.py", "-m", "ipykernel_launcher"]) is None
    assert _split_launcher(["julia", "kernel.jl"]) is None
    import sys

    assert _same_interpreter([sys.executable, "-X", "utf8"], [sys.executable, "-X", "utf8"])
    assert not _same_interpreter([sys.executable], [sys.executable, "-Xfrozen_modules=off"])


def test_a_pool_with_other_interpreter_options_does_not_serve_the_kernel(tmp_path, caplog):
    import sys

    nb = _notebook(tmp_path, PROBE)
    with KernelPool(interpreter=[sys.executable, "-Xutf8", "-Xno_debug_ranges"]) as pool:
        probe = _execute(nb, tmp_path / "out.ipynb", pool, tmp_path / "out.log")
    assert probe["ppid"] == os.getpid()  # launched as usual
    assert "not ipykernel's launcher run by the pool's interpreter" in caplog.text


def test_the_report_kernel_client_is_ready_once_its_kernel_info_request_is_idle():
    """wait_for_ready returns with the kernel's answer handled and IOPub read up to the idle
    status of its request (nothing of it left over), without jupyter_client's closing wait."""
    import asyncio
    from queue import Empty

    from scenarios.report.kernel_pool import forking_kernel_manager

    async def check():
        km = forking_kernel_manager(None)(kernel_name="python3")
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            with pytest.raises(Empty):  # the request's busy/idle statuses were read, nothing else is due
                await kc.iopub_channel.get_msg(timeout=0.5)
            msg_id = kc.execute("print(6 * 7)")
            reply = await kc._async_recv_reply(msg_id, timeout=30)
            assert reply["content"]["status"] == "ok"
            outputs = []
            while True:
                msg = await kc.iopub_channel.get_msg(timeout=10)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    outputs.append(msg["content"]["text"])
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            assert "".join(outputs).strip() == "42"
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    asyncio.run(check())


def test_the_quick_guess_of_a_kernel_specs_interpreter_is_jupyter_clients_answer(tmp_path, monkeypatch):
    import sys

    from scenarios.report.kernel_pool import guess_kernel_interpreter, kernel_interpreter

    assert guess_kernel_interpreter("python3") == kernel_interpreter("python3")  # the environment's spec
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": ["python", "-Xutf8", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (utf8)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert guess_kernel_interpreter("python3") == kernel_interpreter("python3") == [sys.executable, "-Xutf8"]
    assert guess_kernel_interpreter("no-such-kernel") == [sys.executable]


def test_a_pool_started_with_another_interpreter_is_replaced_by_one_for_the_spec(tmp_path):
    import sys

    from scenarios.report.kernel_pool import kernel_interpreter

    first = KernelPool(["colorsys"], interpreter=[sys.executable, "-Xutf8"], cwd=tmp_path)
    try:
        second = first.for_kernel_spec("python3")
        assert second is not first and second.interpreter == kernel_interpreter("python3")
        assert second.modules == ["colorsys"] and second.cwd == tmp_path
        assert first.process.poll() is not None and not os.path.exists(first.folder)  # closed
        nb = _notebook(tmp_path, PROBE)
        with second:
            assert second.for_kernel_spec("python3") is second
            probe = _execute(nb, tmp_path / "out.ipynb", second, tmp_path / "out.log")
        assert probe["ppid"] != os.getpid() and probe["preloaded"]  # forked from the new pool
    finally:
        first.close()


def test_a_pool_whose_interpreter_is_missing_is_not_started(tmp_path):
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("scenarios-kernels-*"))
    assert KernelPool.start(interpreter=[str(tmp_path / "no-python")]) is None
    assert set(Path(tempfile.gettempdir()).glob("scenarios-kernels-*")) == before  # its folder removed
