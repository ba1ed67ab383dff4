"""The Voila launcher behind `nim-widget app`.

The app is an ordinary notebook (``app.ipynb``) served by Voila, so the page runs exactly the code a
notebook user runs. The launcher's jobs are the ones a notebook cannot do for itself:

- decide between a real cluster and the demo cluster *before* any kernel starts, and tell the kernels
  through their environment (the contract lives in :mod:`nim_widget.demo`);
- in demo mode, run the sandbox in this process and hand the kernels a kubeconfig pointing at it, so
  the wizard talks HTTP to it through the production connection code, and every browser tab sees the
  same cluster (which is also what lets a test check the result through the API afterwards);
- keep Voila on loopback unless a token protects it, and take Voila and the sandbox down together on
  Ctrl-C or SIGTERM.

Voila runs as a subprocess in its own session: the terminal's Ctrl-C reaches only the launcher, which
then stops Voila (SIGTERM, which makes Voila shut its kernels down) before stopping the sandbox.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Protocol, TextIO

import websockets.exceptions
from websockets.sync.client import connect as connect_websocket

from nim_widget import demo

APP_NOTEBOOK = "app.ipynb"
DEFAULT_PORT = 8866
# Set by the launcher for its kernels: a preheated kernel touches this file once the wizard is built
# and it waits for a visitor, which is when the page is fastest to open.
ENV_READY_FILE = "NIM_WIDGET_APP_READY_FILE"
_STARTUP_TIMEOUT = 60.0
_WARM_TIMEOUT = 60.0
_REFRESH_TIMEOUT = 15.0
_STOP_TIMEOUT = 10.0


class AppError(Exception):
    """A problem with the command line or the environment, reported without a traceback (exit 2)."""


@dataclass(frozen=True, kw_only=True)
class AppOptions:
    """What `nim-widget app` was asked to do; the CLI maps its flags one to one onto these fields."""

    demo: bool = False
    port: int | None = None
    open_browser: bool = True
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    ip: str = "127.0.0.1"
    token: str | None = None
    kubeconfig_out: str | None = None
    debug: bool = False


class _Stop(Exception):
    """Raised from the SIGTERM handler so the main thread unwinds through the same cleanup as Ctrl-C."""


def find_app_notebook() -> Path:
    """The notebook to serve: the source checkout's copy when running from one, else the packaged copy.

    Preferring the checkout means an edit to ``notebooks/app.ipynb`` shows up at once in `make demo`;
    the packaged copy (``nim_widget/notebooks/app.ipynb``, kept identical by a test) serves installs.
    """
    package_dir = Path(__file__).resolve().parent
    checkout = package_dir.parent
    source_copy = checkout / "notebooks" / APP_NOTEBOOK
    if source_copy.is_file() and (checkout / "pyproject.toml").is_file():
        return source_copy
    packaged = package_dir / "notebooks" / APP_NOTEBOOK
    if packaged.is_file():
        return packaged
    raise AppError(f"the app notebook is missing from the installation (looked for {packaged})")


class Reloadable(Protocol):
    """What :func:`refresh_on_visit` needs from the wizard: reread the cluster, wait for that to end."""

    def reload(self) -> None: ...

    def join(self, timeout: float) -> bool: ...


def refresh_on_visit(*, wizard: Reloadable, timeout: float = _REFRESH_TIMEOUT) -> None:
    """In a kernel Voila preheated, wait for the visitor, then reread the cluster; elsewhere do nothing.

    A preheated kernel runs the app notebook long before anyone opens the page, so what it read from
    the cluster may be stale by then: it waits until a visitor takes it, then rereads, and returns only
    once that is done (up to ``timeout``), because Voila sends the page when the cell ends and a reload
    landing after the visitor's first clicks would reset them. In JupyterLab, nbval or Binder's server
    extension the kernel is already the visitor's and this returns at once.
    """
    if os.environ.get("VOILA_PREHEAT") != "True":
        return
    try:
        request_info = _wait_for_visitor(ready_file=os.environ.get(ENV_READY_FILE))
    except (OSError, KeyError, ValueError, websockets.exceptions.WebSocketException):
        request_info = {}  # no word from Voila: refresh now rather than never
    os.environ.update(request_info)
    wizard.reload()
    wizard.join(timeout)


def _wait_for_visitor(*, ready_file: str | None) -> dict[str, str]:
    """What ``voila.utils.wait_for_request`` does, plus a readiness signal and a patient connect.

    Voila hands a preheated kernel its visitor's request over a websocket the kernel opens. Voila's
    helper gives up on connecting after 5 s, which a busy server right after start-up can exceed,
    costing the first visitor those seconds; and only once connected is the kernel really ready, which
    is when the launcher should open the browser (``ready_file``).
    """
    env = os.environ
    base = env.get("VOILA_WS_BASE_URL") or env.get("VOILA_SERVER_URL", "/")
    url = (
        f"{env.get('VOILA_WS_PROTOCOL', 'ws')}://{env.get('VOILA_APP_IP', '127.0.0.1')}:"
        f"{env.get('VOILA_APP_PORT', str(DEFAULT_PORT))}{base}voila/query/{env['VOILA_KERNEL_ID']}"
    )
    with connect_websocket(url, open_timeout=_STARTUP_TIMEOUT, ping_interval=None, proxy=None) as socket_:
        if ready_file:
            Path(ready_file).touch()
        message = socket_.recv()
    info = json.loads(message)
    return {str(key): str(value) for key, value in info.items()} if isinstance(info, dict) else {}


def is_loopback(ip: str) -> bool:
    """True for addresses only this machine can reach; anything else needs a token."""
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def port_is_free(*, ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((ip, port))
        except OSError:
            return False
    return True


def free_port(*, ip: str) -> int:
    """A port the OS just handed out; Voila gets ``port_retries=0`` so a lost race fails loudly."""
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        return int(sock.getsockname()[1])


def wait_for_port(*, ip: str, port: int, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Poll a TCP connect (a GET would run the notebook in a fresh kernel); False if Voila died first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((ip, port), timeout=0.5):
            return True
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.1)
    return False


def voila_command(*, notebook: Path, port: int, options: AppOptions, preheat: bool = True) -> list[str]:
    """Voila's lab template without margins and without sources: the wizard, full page.

    ``preheat``: keep one kernel that has already run the notebook, so a visitor does not wait for a
    kernel to start and the package to import (about 2x faster to an interactive page); the kernel
    rereads the cluster when the visitor arrives (:func:`refresh_on_visit`). The refill after a visit
    waits a few seconds so it does not compete with that visitor's page for the CPU.
    """
    command = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        f"--Voila.ip={options.ip}",
        "--Voila.port_retries=0",
        "--template=lab",
        "--theme=light",
        "--strip_sources=True",
        f"--show_tracebacks={options.debug}",
        "--VoilaExecutor.timeout=120",
    ]
    if preheat:
        command += ["--preheat_kernel=True", "--pool_size=1", "--VoilaKernelManager.fill_delay=3"]
    # The launcher opens the browser itself, once a warm kernel waits (see `_serve`).
    command.append("--no-browser")
    return command


def write_voila_config(*, workdir: Path, options: AppOptions) -> None:
    """Voila reads ``voila.json`` from its working directory: the token goes there, not into argv.

    A token on the command line would be visible to every user of the machine through ``ps``.
    """
    if not options.token:
        return
    path = workdir / "voila.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"Voila": {"token": options.token}}, handle)


def _user_url(*, ip: str, port: int, token: str | None) -> str:
    host = f"[{ip}]" if ":" in ip else ip
    query = "?token=<your token>" if token else ""
    return f"http://{host}:{port}/{query}"


def _check_options(options: AppOptions) -> None:
    if not is_loopback(options.ip) and not options.token:
        raise AppError(
            f"refusing to listen on {options.ip} without --token: anyone who reaches it could deploy "
            "to your cluster. Pass --token, or keep the default 127.0.0.1."
        )
    if options.port is not None and not 0 < options.port < 65536:
        raise AppError(f"--port must be between 1 and 65535, not {options.port}")
    if options.demo and (options.kubeconfig or options.context):
        raise AppError("--demo runs on the built-in demo cluster; drop --kubeconfig/--context")
    if options.kubeconfig and not Path(options.kubeconfig).expanduser().is_file():
        raise AppError(f"--kubeconfig {options.kubeconfig}: no such file")


def _choose_cluster(options: AppOptions) -> tuple[bool, str | None]:
    """(use the demo?, why, when the launcher decided it rather than the user)."""
    if options.demo:
        return True, None
    if options.kubeconfig:
        return False, None
    setting = demo.demo_setting()
    if setting is True:
        return True, None
    if demo.find_configuration() is not None:
        return False, None
    if setting is False or options.context:
        raise AppError(
            "no kubeconfig ($KUBECONFIG, ~/.kube/config) or in-cluster configuration found; "
            "pass --kubeconfig, or --demo for the built-in demo cluster"
        )
    return True, demo.NO_CONFIGURATION_REASON


def _choose_port(options: AppOptions) -> int:
    if options.port is not None:
        if not port_is_free(ip=options.ip, port=options.port):
            raise AppError(f"port {options.port} on {options.ip} is already in use; pick another --port")
        return options.port
    if port_is_free(ip=options.ip, port=DEFAULT_PORT):
        return DEFAULT_PORT
    return free_port(ip=options.ip)


@contextlib.contextmanager
def _demo_cluster(
    *, options: AppOptions, workdir: Path, reason: str | None, out: TextIO
) -> Iterator[dict[str, str]]:
    """Run the sandbox with the demo world here; yield the kernels' environment pointing at it."""
    from nim_widget.sandbox import RealClock, Sandbox

    namespace = options.namespace or demo.DEMO_NAMESPACE
    sandbox = Sandbox(world="demo", clock=RealClock(), controllers=True)
    sandbox.start()
    try:
        kubeconfig = workdir / "kubeconfig"
        sandbox.write_kubeconfig(kubeconfig, namespace=namespace)
        if options.kubeconfig_out:
            out_path = Path(options.kubeconfig_out).expanduser()
            out_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(kubeconfig, out_path)
            kubeconfig_shown = out_path
        else:
            kubeconfig_shown = kubeconfig
        print(f"nim-widget app: demo cluster at {sandbox.url} (kubeconfig: {kubeconfig_shown})", file=out)
        yield demo.demo_environment(kubeconfig=kubeconfig, reason=reason)
    finally:
        sandbox.stop()


def _real_environment(options: AppOptions) -> dict[str, str]:
    env = {demo.ENV_DEMO: "0"}
    if options.kubeconfig:
        env["KUBECONFIG"] = str(Path(options.kubeconfig).expanduser().resolve())
    if options.context:
        env[demo.ENV_CONTEXT] = options.context
    return env


def _kernel_environment(*, base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    # A demo flag inherited from the launcher's own shell must not leak into a real-cluster run.
    for key in (demo.ENV_DEMO, demo.ENV_DEMO_KUBECONFIG, demo.ENV_DEMO_REASON, ENV_READY_FILE):
        env.pop(key, None)
    env.update(extra)
    return env


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not interrupt the cleanup
    raise _Stop


def _stop_voila(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_app(*, options: AppOptions, out: TextIO | None = None) -> int:
    """Serve the app until Ctrl-C, SIGTERM or Voila's own exit; returns the process exit code."""
    stream = sys.stdout if out is None else out
    try:
        _check_options(options)
        notebook = find_app_notebook()
        port = _choose_port(options)
    except AppError as exc:
        print(f"nim-widget app: {exc}", file=sys.stderr)
        return 2

    try:
        use_demo, reason = _choose_cluster(options)
    except (AppError, ValueError) as exc:
        print(f"nim-widget app: {exc}", file=sys.stderr)
        return 2
    if reason:
        print(f"nim-widget app: {reason}", file=stream)

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with tempfile.TemporaryDirectory(prefix="nim-widget-app-") as tmp:
            workdir = Path(tmp)
            with contextlib.ExitStack() as stack:
                if use_demo:
                    extra = stack.enter_context(
                        _demo_cluster(options=options, workdir=workdir, reason=reason, out=stream)
                    )
                else:
                    extra = _real_environment(options)
                if options.namespace:
                    extra[demo.ENV_NAMESPACE] = options.namespace
                env = _kernel_environment(base=os.environ, extra=extra)
                return _serve(notebook=notebook, port=port, options=options, env=env, cwd=workdir, out=stream)
    except (KeyboardInterrupt, _Stop):
        print("nim-widget app: stopped", file=stream)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_for_file(*, path: Path, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Poll for ``path`` with a deadline; False if it never came or Voila exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        if proc.poll() is not None:
            return False
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.1)
    return path.exists()


def _open_browser(*, ip: str, port: int, token: str | None) -> None:
    import webbrowser

    host = "127.0.0.1" if ip in ("0.0.0.0", "::") else (f"[{ip}]" if ":" in ip else ip)
    query = f"?token={token}" if token else ""
    webbrowser.open(f"http://{host}:{port}/{query}")


def _serve(
    *, notebook: Path, port: int, options: AppOptions, env: dict[str, str], cwd: Path, out: TextIO
) -> int:
    stream_flush = getattr(out, "flush", None)
    if stream_flush is not None:
        stream_flush()
    # cwd: a fresh directory, so no stray voila.json from wherever the user stands is picked up.
    write_voila_config(workdir=cwd, options=options)
    ready_file = cwd / "kernel-ready"
    proc = subprocess.Popen(
        voila_command(notebook=notebook, port=port, options=options),
        env={**env, ENV_READY_FILE: str(ready_file)},
        cwd=cwd,
        start_new_session=True,
    )
    try:
        if not wait_for_port(ip=options.ip, port=port, proc=proc, timeout=_STARTUP_TIMEOUT):
            code = proc.poll()
            print(f"nim-widget app: Voila did not start (exit code {code})", file=sys.stderr)
            return 1
        # Opening the page while the first kernel is still warming up costs more than waiting for it.
        if not wait_for_file(path=ready_file, proc=proc, timeout=_WARM_TIMEOUT) and proc.poll() is None:
            print("nim-widget app: the app's kernel is slow to start; the first page may be slow", file=out)
        if proc.poll() is not None:
            print(f"nim-widget app: Voila exited (exit code {proc.returncode})", file=sys.stderr)
            return 1
        print(
            f"nim-widget app: serving at {_user_url(ip=options.ip, port=port, token=options.token)}", file=out
        )
        if stream_flush is not None:
            stream_flush()
        if options.open_browser:
            _open_browser(ip=options.ip, port=port, token=options.token)
        return proc.wait()
    finally:
        _stop_voila(proc)
