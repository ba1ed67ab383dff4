"""Starting `nim-widget app --demo` as a user would, and watching a page for browser errors.

Kept out of conftest.py so the tests can import the types and paths.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Route

REPO = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPO / "test-output" / "browser"
SCREENSHOT_FOR_README = REPO / "docs" / "screenshots" / "app.png"
STARTUP_TIMEOUT = 90.0


@dataclass
class AppServer:
    url: str
    port: int
    kubeconfig: Path
    log: Path
    proc: subprocess.Popen[bytes] = field(repr=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_tcp(*, port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Readiness by TCP connect: a GET of the page would run the notebook in a kernel of its own."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the app exited with {proc.returncode} before listening:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.1)
    pytest.fail(f"the app did not listen on port {port} within {timeout:.0f}s:\n{log.read_text()}")


def wait_for_log(*, line: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if line in log.read_text():
            return
        if proc.poll() is not None:
            pytest.fail(f"the app exited with {proc.returncode}:\n{log.read_text()}")
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.1)
    pytest.fail(f"no {line!r} within {timeout:.0f}s:\n{log.read_text()}")


def stop_process(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return int(proc.returncode)


def start_app(*, workdir: Path, log: Path, extra_args: tuple[str, ...] = ()) -> AppServer:
    """`python -m nim_widget app --demo` on a free port, writing the demo kubeconfig into ``workdir``."""
    port = free_port()
    kubeconfig = workdir / "demo.kubeconfig"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIM_WIDGET_")}
    command = [
        sys.executable,
        "-m",
        "nim_widget",
        "app",
        "--demo",
        "--no-browser",
        f"--port={port}",
        f"--kubeconfig-out={kubeconfig}",
        "--debug",
        *extra_args,
    ]
    with log.open("wb") as handle:
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=workdir, env=env)
    server = AppServer(url=f"http://127.0.0.1:{port}/", port=port, kubeconfig=kubeconfig, log=log, proc=proc)
    try:
        wait_for_tcp(port=port, proc=proc, log=log, timeout=STARTUP_TIMEOUT)
        # The launcher says "serving at" once a warm kernel waits, as it does before opening a browser.
        wait_for_log(line="nim-widget app: serving at", proc=proc, log=log, timeout=STARTUP_TIMEOUT)
    except BaseException:
        stop_process(proc)
        raise
    return server


class ConsoleErrors:
    """Browser console errors and uncaught page exceptions seen while a test drove the page.

    It also keeps the page offline: only 127.0.0.1 is reachable. Voila's templates link Font Awesome
    and (as a server extension) MathJax from CDNs; those requests are refused, and the console's
    "Failed to load resource" for exactly those URLs is not counted, since it is the test's doing.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.blocked: set[str] = set()

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if url in self.blocked and message.text.startswith("Failed to load resource"):
            return
        self.messages.append(f"console.error: {message.text} ({url})")

    def on_page_error(self, error: Exception) -> None:
        self.messages.append(f"page error: {error}")

    def route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.blocked.add(url)
            route.abort()
