"""Binder's way of serving the app: `binder/start` then a Jupyter server with Voila's server extension.

On mybinder.org the launch URL is ``?urlpath=voila/render/notebooks/app.ipynb``; this opens the same
path on a local Jupyter server started through ``binder/start``, so the demo cluster it starts and
the environment it exports are what the page runs on.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from voila_app import REPO, ConsoleErrors, free_port, stop_process, wait_for_tcp

# pytest-playwright 0.10 still defines its base_url fixture the way pytest 10 will reject.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

TOKEN = "binder-test-token"
LOAD_TIMEOUT = 60_000


@pytest.fixture
def binder_server(chromium_executable: str, tmp_path: Path, output_dir: Path) -> Iterator[str]:
    del chromium_executable
    port = free_port()
    log = output_dir / "binder-server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIM_WIDGET_") and k != "KUBECONFIG"}
    env.update(
        {
            "NIM_WIDGET_PYTHON": sys.executable,
            "TMPDIR": str(tmp_path),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        }
    )
    command = [
        "bash",
        str(REPO / "binder" / "start"),
        sys.executable,
        "-m",
        "jupyter",
        "server",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={REPO}",
        "--allow-root",  # CI containers run as root; Binder does not
    ]
    with log.open("wb") as handle:
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    try:
        wait_for_tcp(port=port, proc=proc, log=log, timeout=90)
        yield f"http://127.0.0.1:{port}/voila/render/notebooks/app.ipynb?token={TOKEN}"
    finally:
        stop_process(proc)  # `start` exec'd the server, so this is the server itself
        for pid_file in tmp_path.glob("nim-widget-demo.*/sandbox.pid"):
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
            shutil.rmtree(pid_file.parent, ignore_errors=True)


def test_binder_url_opens_the_working_demo(
    page: Page, console_errors: ConsoleErrors, binder_server: str
) -> None:
    page.goto(binder_server)
    expect(page.locator(".nimw-root")).to_be_visible(timeout=LOAD_TIMEOUT)
    expect(page.locator(".nimw-banner-demo")).to_be_visible()
    expect(page.locator(".nimw-header-cluster")).to_contain_text("nim-sandbox")
    expect(page.locator(".nimw-header-account .nimw-pill-ready")).to_be_visible(timeout=LOAD_TIMEOUT)
    expect(page.locator(".nimw-picker-list select option")).to_have_count(20, timeout=LOAD_TIMEOUT)
    expect(page.get_by_text("There was an error when executing cell")).to_have_count(0)
    assert console_errors.messages == []
