"""Kernels forked from one warm process: pay Python's, ipykernel's and the notebooks' imports once.

A Jupyter kernel normally starts as a new process that imports ipykernel (IPython, zmq, tornado)
and then, in its first cells, numpy, matplotlib and this package: about a second and a half of
CPU for every notebook, the same work each time.  :class:`KernelPool` starts one process (the
*pool*) that does those imports once, before any notebook runs, and then forks a kernel for
each notebook on request.  A forked kernel is an ordinary ipykernel (``IPKernelApp``) on the
connection file the kernel manager wrote; the notebook cannot tell it apart, except that its
imports are already done.

- :func:`forking_kernel_manager` is the ``AsyncKernelManager`` papermill's client is given
  (``kernel_manager_class``); its ``_async_launch_kernel``, the hook jupyter_client provides
  for launching kernels differently, asks the pool for a kernel and falls back to the usual
  launch whenever the pool cannot serve (no pool, a different Python, interpreter options or
  kernel command, the pool gone or failing).  :meth:`KernelPool.for_kernel` runs the pool the
  way a kernel spec runs its kernels; :func:`guess_kernel_interpreter` tells how before
  jupyter_client is imported, and :meth:`KernelPool.for_kernel_spec` confirms it afterwards.
- Its clients are :func:`prompt_kernel_client`'s, ready as soon as the kernel's answer to
  ``kernel_info`` is complete rather than after jupyter_client's closing 0.2 s wait.
- The pool listens on a Unix socket in a private folder; a request carries the kernel command,
  environment and working folder, and as file descriptors (``SCM_RIGHTS``) the client's standard
  output and error and ``/dev/null`` for input, so a forked kernel reads and writes where a
  launched one would.
- Each kernel is made a session leader (as ``launch_kernel`` does), so signals to its process
  group reach it alone; the pool reaps kernels as they exit, and exits when its parent does
  (its kernels then see their parent gone and exit too).

POSIX only; elsewhere :class:`KernelPool` is not started and kernels launch as usual.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

__all__ = ["KernelPool", "forking_kernel_manager", "guess_kernel_interpreter", "kernel_interpreter", "preload_modules",
           "prompt_kernel_client"]

_LAUNCHER = ("-m", "ipykernel_launcher")
# What a kernel imports while it initialises, after ``ipykernel.kernelapp`` (its debugger and
# shell machinery): about 0.15 s a kernel when left to each one.
_KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "IPython.core.completerlib",
                   "IPython.core.debugger", "IPython.core.oinspect", "sqlite3", "pdb", "pydoc", "tornado.queues",
                   "tornado.locks", "faulthandler", "mimetypes", "gzip", "pkgutil")
_MAX_MESSAGE = 1 << 20
BIND_WAIT = 5.0
"""Seconds a client waits for a pool's socket to appear before launching its kernel as usual."""


# --------------------------------------------------------------------------- what to preload


def preload_modules(notebooks) -> list[str]:
    """Top-level modules the notebooks' code cells import (``import x.y`` and ``from x.y
    import z`` give ``x.y``), in first-seen order; cells that do not parse are skipped."""
    import ast

    seen: dict = {}
    for path in notebooks:
        # plain JSON, not nbformat: no schema validation (or jsonschema import) for a few sources
        try:
            with open(path, encoding="utf-8") as f:
                cells = json.load(f)["cells"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a notebook: the runner's checks say so
        for cell in cells if isinstance(cells, list) else ():
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            try:
                tree = ast.parse(source if isinstance(source, str) else "".join(source))
            except SyntaxError:
                continue  # IPython magics and the like: the kernel will say what is wrong
            for node in tree.body:
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        seen.setdefault(alias.name, None)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    seen.setdefault(node.module, None)
                    for alias in node.names:  # ``from scenarios import plots``: a submodule, maybe
                        seen.setdefault(f"{node.module}.{alias.name}", None)
    return list(seen)


# --------------------------------------------------------------------------- the runner's side


class KernelPool:
    """The pool process: started at once (in ``cwd``, the folder the kernels will run in), it
    imports ipykernel and ``modules`` and then serves fork requests until :meth:`close` (or the
    end of a ``with`` block, or until this process exits).  It is not a kernel and runs no notebook code: kernels exist only once a kernel
    manager asks for one.

    Kernel managers of the class ``forking_kernel_manager(pool.address)`` take their kernels
    from it.
    """

    @staticmethod
    def supported() -> bool:
        """Whether this platform can fork kernels and pass file descriptors over Unix sockets."""
        return hasattr(os, "fork") and hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")

    @classmethod
    def for_kernel(cls, kernel_name: str, modules=(), *, cwd=None) -> KernelPool | None:
        """A pool for the kernel spec ``kernel_name``, run by its Python with its interpreter
        options (e.g. ``-Xfrozen_modules=off``); None when the spec is not ipykernel's launcher
        or cannot be found (its kernels then launch as usual)."""
        interpreter = kernel_interpreter(kernel_name)
        return None if interpreter is None else cls.start(modules, interpreter=interpreter, cwd=cwd)

    def __init__(self, modules=(), *, interpreter=None, cwd=None):
        self.folder = tempfile.mkdtemp(prefix="scenarios-kernels-")  # mode 0700: only this user connects
        self.address = os.path.join(self.folder, "pool.sock")
        self.interpreter = list(interpreter or [sys.executable])
        self.modules, self.cwd = list(modules), cwd
        cmd = [*self.interpreter, "-c", "from scenarios.report.kernel_pool import _serve; _serve()", self.address, *modules]
        try:
            # its own output (import-time warnings) goes to a file: the kernels write where asked
            with open(os.path.join(self.folder, "pool.log"), "wb") as log:
                # in the kernels' working folder, so that the imports find what theirs would
                self.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                                cwd=str(cwd or self.folder))
        except OSError:  # no such interpreter (a stale kernel spec) or folder
            import shutil

            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    @classmethod
    def start(cls, modules=(), *, interpreter=None, cwd=None) -> KernelPool | None:
        """A pool as the constructor makes it, or None when it cannot be started (its
        interpreter or folder missing): kernels then launch as usual, and say what is wrong."""
        try:
            return cls(modules, interpreter=interpreter, cwd=cwd)
        except OSError:
            return None

    def for_kernel_spec(self, kernel_name: str) -> KernelPool | None:
        """This pool if it runs the interpreter of the kernel spec ``kernel_name``; otherwise this
        pool is closed and :meth:`for_kernel` starts one that does (same modules and folder).

        For a pool started before the spec is looked up (which imports jupyter_client: a
        quarter of a second), with :func:`guess_kernel_interpreter`'s interpreter."""
        interpreter = kernel_interpreter(kernel_name)
        if interpreter == self.interpreter:
            return self
        self.close()
        return None if interpreter is None else KernelPool.start(self.modules, interpreter=interpreter, cwd=self.cwd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        """Stop the pool (kernels it forked are not touched: their managers shut them down)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


def kernel_interpreter(kernel_name: str) -> list[str] | None:
    """The command before ``-m ipykernel_launcher`` in the kernel spec ``kernel_name``: its
    Python (a bare ``python`` as the kernel manager runs it, this one) and interpreter options;
    None when the spec cannot be found or is not ipykernel's launcher."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel_name).argv
    except NoSuchKernel:
        return None
    return _launcher_interpreter(argv)


def guess_kernel_interpreter(kernel_name: str) -> list[str]:
    """:func:`kernel_interpreter` as it will most likely be, without importing jupyter_client
    (a quarter of a second): from the first ``kernel_name/kernel.json`` on Jupyter's data path,
    where jupyter_client looks first; this Python when there is none or it cannot be read."""
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("kernels"):
        try:
            with open(os.path.join(folder, kernel_name, "kernel.json"), encoding="utf-8") as f:
                argv = json.load(f)["argv"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        return _launcher_interpreter(argv) or [sys.executable]
    return [sys.executable]


def _launcher_interpreter(argv) -> list[str] | None:
    split = _split_launcher(argv)
    if split is None:
        return None
    interpreter = split[0]
    if interpreter[0] in {"python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"}:
        interpreter[0] = sys.executable  # as the kernel manager runs such a spec
    return interpreter


def _request_kernel(address: str, cmd: list, env: dict, cwd: str, timeout: float = 60.0) -> int:
    """Ask the pool at ``address`` for a kernel; return its pid.  Raises OSError or RuntimeError
    when the pool cannot serve."""
    nice = os.getpriority(os.PRIO_PROCESS, 0)  # a launched kernel would inherit it
    message = json.dumps({"argv": cmd, "env": env, "cwd": cwd, "nice": nice}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)  # the pool may still be importing: it answers once ready
        deadline = time.monotonic() + BIND_WAIT
        while True:  # a pool just started binds its socket within a few tens of milliseconds
            try:
                sock.connect(address)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        devnull = os.open(os.devnull, os.O_RDONLY)  # as launch_kernel: the kernel reads nothing from us
        try:
            socket.send_fds(sock, [len(message).to_bytes(4, "big") + message], [devnull, 1, 2])
        finally:
            os.close(devnull)
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                raise RuntimeError("the kernel pool closed the connection")
            reply += chunk
    answer = json.loads(reply)
    if "pid" not in answer:
        raise RuntimeError(f"the kernel pool could not start a kernel: {answer.get('error')}")
    return int(answer["pid"])


def _alive(pid: int) -> bool:
    """Whether process ``pid`` is running: it exists, and (where /proc tells) is not a zombie
    waiting for a parent to reap it (the pool reaps its kernels; were the pool gone, whoever
    inherits them may be slow to)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the pid was reused by someone else's process: ours is gone
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


class _ForkedKernel:
    """What jupyter_client's local provisioner needs of a ``Popen``, for a kernel the pool forked
    (a child of the pool, not of this process: the pool reaps it, so its exit status is not
    known here and is reported as 0)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None and not _alive(self.pid):
            self.returncode = 0
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["kernel", str(self.pid)], timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _split_launcher(cmd) -> tuple[list, list] | None:
    """``[python, *options, "-m", "ipykernel_launcher", *arguments]`` as
    ``([python, *options], arguments)``; None for any other command."""
    cmd = list(cmd)
    for i in range(1, len(cmd) - 1):
        if tuple(cmd[i:i + 2]) == _LAUNCHER:
            return cmd[:i], cmd[i + 2:]
        if not cmd[i].startswith("-") or cmd[i] in ("-c", "-m"):
            return None  # a script or another module: not ipykernel's launcher
    return None


def _same_interpreter(a: list, b: list) -> bool:
    """The same Python (same file) with the same interpreter options."""
    if len(a) != len(b) or a[1:] != b[1:]:
        return False
    try:
        return os.path.samefile(a[0], b[0])
    except OSError:
        return False


@functools.cache
def forking_kernel_manager(address: str | None):
    """An ``AsyncKernelManager`` subclass whose kernels come from the pool at ``address`` (None:
    launched as usual), and whose clients are :func:`prompt_kernel_client`'s (built on first
    use: jupyter_client is imported only where notebooks are executed)."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Type

    class ForkingKernelManager(AsyncKernelManager):
        """``AsyncKernelManager`` whose kernels come from a :class:`KernelPool` when it can
        serve them; launched as usual otherwise."""

        pool_address = address
        client_factory = Type(klass=prompt_kernel_client())

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            address = self.pool_address
            if address and self.provisioner is not None and hasattr(self.provisioner, "process") \
                    and _split_launcher(kernel_cmd) is not None:
                env = dict(kw.get("env") or os.environ)
                env["JPY_PARENT_PID"] = str(os.getpid())  # as launch_kernel sets it
                cwd = str(kw.get("cwd") or os.getcwd())
                try:
                    pid = _request_kernel(address, list(kernel_cmd), env, cwd)
                except (OSError, RuntimeError, ValueError) as exc:
                    self.log.warning("kernel pool unavailable (%s); launching the kernel as usual", exc)
                else:
                    prov = self.provisioner
                    prov.process = _ForkedKernel(pid)
                    prov.pid = prov.pgid = pid  # a session leader: its own process group
                    prov.cwd = cwd
                    self._reconcile_connection_info(prov.connection_info)
                    return
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return ForkingKernelManager


@functools.cache
def prompt_kernel_client():
    """An ``AsyncKernelClient`` subclass whose ``wait_for_ready`` does not end with a fixed wait.

    jupyter_client's, once the kernel has answered ``kernel_info`` (and an IOPub message has
    shown the subscription works), drains IOPub until 0.2 s pass without a message: a fifth of
    a second before every notebook's first cell.  This one reads IOPub until the kernel's
    ``idle`` status for that request, the last message the request causes, and is otherwise the
    same (it asks again while no IOPub message arrives within 0.2 s, and fails as it does).
    """
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class PromptKernelClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    reply = None
                if reply is not None and reply["msg_type"] == "kernel_info_reply" \
                        and await self._iopub_idle_after(reply["parent_header"].get("msg_id")):
                    self._handle_kernel_info_reply(reply)
                    return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

        async def _iopub_idle_after(self, msg_id) -> bool:
            """Read IOPub up to the idle status of request ``msg_id``; False when no message
            comes within 0.2 s (IOPub not subscribed yet), True when messages came and then
            0.2 s of silence (as jupyter_client's flush ends)."""
            seen = False
            while True:
                try:
                    msg = await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    return seen
                seen = True
                if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle" \
                        and msg["parent_header"].get("msg_id") == msg_id:
                    return True

    return PromptKernelClient


# --------------------------------------------------------------------------- the pool's side


def _exit_at_once(_signum=None, _frame=None) -> None:
    """The pool's SIGTERM handler: exit without the interpreter's shutdown (a few tenths of a
    second with matplotlib and IPython loaded, which the runner would wait for); the pool has
    nothing to save but its log."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)


def _reap(_signum=None, _frame=None) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _recv_request(conn) -> tuple[dict, list]:
    data, fds, _, _ = socket.recv_fds(conn, 4 + _MAX_MESSAGE, 3)
    size = int.from_bytes(data[:4], "big")
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            break
        body += chunk
    return json.loads(body), fds


def _become_kernel(request: dict, fds: list) -> None:
    """In the forked child: become the kernel ``request["argv"]`` would have started."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        gc.enable()  # the pool's objects stay frozen: collections skip them (see _serve)
        os.setsid()
        for target, fd in enumerate(fds):  # the client's stdin, stdout, stderr
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        if request.get("nice", 0) > os.getpriority(os.PRIO_PROCESS, 0):
            os.setpriority(os.PRIO_PROCESS, 0, request["nice"])
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        interpreter, arguments = _split_launcher(request["argv"])
        sys.argv = [interpreter[0], *arguments]
        # The kernel exits when its parent does: the pool (ipykernel reads JPY_PARENT_PID when it
        # is imported, in the pool; and the pool, not the client, is the parent it can watch).
        # The pool exits with the runner, which closes it when the run ends, however it ends.
        sys.argv.append(f"--IPKernelApp.parent_handle={os.getppid()}")
        if sys.path and sys.path[0] in ("", os.getcwd()):
            del sys.path[0]  # as ipykernel_launcher does; the shell puts the notebook folder back
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _serve() -> None:
    """The pool process: ``python -c ... ADDRESS MODULE...``."""
    address, modules = sys.argv[1], sys.argv[2:]
    interpreter = sys.orig_argv[:sys.orig_argv.index("-c")]  # Python and its options, as kernels must have
    parent = os.getppid()
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as every kernel has it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)  # bound first: requests wait in the backlog while the imports run
    listener.listen(16)
    import importlib

    # As Python's documentation advises for a process that forks without exec: no collections
    # while importing, then every object so far frozen, so that a kernel's collections never
    # scan (and so never copy) the pool's hundreds of thousands of objects it inherited.
    gc.disable()
    for name in (*_KERNEL_MODULES, *modules):
        try:
            importlib.import_module(name)
        except Exception:  # not a module (``from x import function``) or broken: the notebook will say
            pass
    gc.freeze()
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, _exit_at_once)
    listener.settimeout(1.0)
    while os.getppid() == parent:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except InterruptedError:
            continue
        fds: list = []
        with conn:
            try:
                conn.settimeout(10)
                request, fds = _recv_request(conn)
                if len(fds) != 3:
                    raise RuntimeError(f"expected 3 file descriptors, got {len(fds)}")
                split = _split_launcher(request["argv"])
                if split is None or not _same_interpreter(split[0], interpreter):
                    raise RuntimeError(f"the kernel command {request['argv'][:4]} is not ipykernel's launcher run by "
                                       f"the pool's interpreter {interpreter}")
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    conn.close()
                    _become_kernel(request, fds)
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            except Exception as exc:  # one bad request must not stop the pool
                try:
                    conn.sendall(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode() + b"\n")
                except OSError:
                    pass
            finally:
                for fd in fds:  # the kernel has its own copies
                    os.close(fd)
