"""Fixtures for the browser tests: `nim-widget app --demo` in a subprocess, Debian's chromium, a page.

The app runs exactly as a user starts it (the CLI, its own demo sandbox, Voila) on a free port. The
launcher writes the demo cluster's kubeconfig where the tests read it, so they check through the
Kubernetes API what the page deployed.

Chromium comes from Debian (`.ci/run` installs it); Playwright never downloads a browser. Without it
the tests fail in CI (``CI=true``) and are skipped on a developer machine.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from voila_app import OUTPUT_DIR, AppServer, ConsoleErrors, start_app, stop_process

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    for candidate in (CHROMIUM, shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = _chromium()
    if path is None:
        message = (
            f"Debian's chromium is missing ({CHROMIUM}): install it with `make chromium` "
            "(apt-get install chromium); the browser tests never download a browser"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], chromium_executable: str
) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at Debian's chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 1000}}


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR


@pytest.fixture(scope="session")
def app_server(
    chromium_executable: str, tmp_path_factory: pytest.TempPathFactory, output_dir: Path
) -> Iterator[AppServer]:
    """One app for the session (chromium checked first, so a missing browser fails fast)."""
    del chromium_executable
    workdir = tmp_path_factory.mktemp("app")
    server = start_app(workdir=workdir, log=output_dir / "app-server.log")
    yield server
    code = stop_process(server.proc)
    assert code == 0, f"the app did not stop cleanly (exit {code}):\n{server.log.read_text()}"


@pytest.fixture
def console_errors(page: Page) -> Iterator[ConsoleErrors]:
    errors = ConsoleErrors()
    page.on("console", errors.on_console)
    page.on("pageerror", errors.on_page_error)
    page.route("**/*", errors.route)
    yield errors
