"""How long until the Voila app's wizard is usable, against a bare one-widget Voila notebook.

    .venv/bin/python bench/bench_voila.py [--rounds N]

Two settings, each measured against a bare notebook (one Button) served with the same Voila flags
in the same run:

- "preheated": `nim-widget app --demo` itself (the launcher, its demo cluster, a kernel kept warm);
- "plain": the app notebook in Voila without preheating, against the same kind of demo cluster,
  which is what Binder's server extension serves and what a visitor gets if the warm kernel is taken.

Each round opens a fresh page in Debian's chromium (a fresh kernel per visit, as for a user) and
measures from navigation until:

- bare: the button is visible and enabled;
- app, "wizard shown": the model search field is visible and enabled;
- app, "interactive": the catalog has arrived too (the model list has options), so a model can be
  picked. This is the figure held against the target: at most 1.5 x the bare notebook.

The page is kept offline (only 127.0.0.1); chromium must be installed (`make chromium`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from nim_widget.app import AppOptions, find_app_notebook, voila_command
from nim_widget.demo import demo_environment
from nim_widget.sandbox import RealClock, Sandbox

TARGET_RATIO = 1.5
TIMEOUT_MS = 90_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BARE_SOURCE = """import ipywidgets as widgets

button = widgets.Button(description="Go")
button.add_class("bench-bare-ready")
button"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"a server exited early with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.1)
    raise SystemExit(f"nothing listened on {port} within {timeout:.0f}s")


@contextlib.contextmanager
def server(
    command: list[str], *, port: int, workdir: Path, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIM_WIDGET_")}
    env.update(extra_env or {})
    with log.open("wb") as handle:
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=workdir, env=env)
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def offline(route: Route) -> None:
    if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def visit_bare(browser: Browser, url: str) -> float:
    page = browser.new_page()
    page.route("**/*", offline)
    try:
        start = time.perf_counter()
        page.goto(url)
        button = page.locator("button.bench-bare-ready")
        expect(button).to_be_visible(timeout=TIMEOUT_MS)
        expect(button).to_be_enabled(timeout=TIMEOUT_MS)
        return time.perf_counter() - start
    finally:
        page.close()


def visit_app(browser: Browser, url: str) -> tuple[float, float]:
    page: Page = browser.new_page()
    page.route("**/*", offline)
    try:
        start = time.perf_counter()
        page.goto(url)
        search = page.locator(".nimw-picker-search input")
        expect(search).to_be_visible(timeout=TIMEOUT_MS)
        expect(search).to_be_enabled(timeout=TIMEOUT_MS)
        shown = time.perf_counter() - start
        expect(page.locator(".nimw-picker-list select option").first).to_be_attached(timeout=TIMEOUT_MS)
        return shown, time.perf_counter() - start
    finally:
        page.close()


def describe(values: list[float]) -> str:
    return f"median {statistics.median(values):6.2f} s   min {min(values):6.2f} s   max {max(values):6.2f} s"


def measure(
    browser: Browser, *, app_url: str, bare_url: str, rounds: int, settle: float
) -> tuple[list[float], ...]:
    """Alternate visits; before each, give both servers ``settle`` seconds to get a kernel ready again,
    so every visit is a visitor arriving at an idle server (the usual case for a local app)."""
    time.sleep(settle)
    visit_bare(browser, bare_url)  # warm-up: chromium's caches, the OS page cache
    visit_app(browser, app_url)
    bare: list[float] = []
    shown: list[float] = []
    ready: list[float] = []
    for round_no in range(rounds):
        time.sleep(settle)
        # alternate the order so neither side always runs on a warmer machine
        if round_no % 2 == 0:
            bare.append(visit_bare(browser, bare_url))
            app = visit_app(browser, app_url)
        else:
            app = visit_app(browser, app_url)
            bare.append(visit_bare(browser, bare_url))
        shown.append(app[0])
        ready.append(app[1])
    return bare, shown, ready


def report(title: str, rounds: int, figures: tuple[list[float], ...]) -> None:
    bare, shown, ready = figures
    ratio = statistics.median(ready) / statistics.median(bare)
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(f"{title}, {rounds} rounds (fresh page and kernel each):")
    print(f"  bare one-widget notebook      {describe(bare)}")
    print(f"  app: wizard shown             {describe(shown)}")
    print(f"  app: interactive (catalog)    {describe(ready)}")
    print(f"  ratio app/bare (medians)      {ratio:6.2f}   target <= {TARGET_RATIO}: {verdict}")


def write_bare_notebook(path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(BARE_SOURCE)]
    nbformat.write(notebook, path)


def run_preheated(browser: Browser, workdir: Path, rounds: int, settle: float) -> tuple[list[float], ...]:
    bare_nb = workdir / "bare.ipynb"
    bare_port, app_port = free_port(), free_port()
    bare_cmd = voila_command(notebook=bare_nb, port=bare_port, options=AppOptions(open_browser=False))
    app_cmd = [sys.executable, "-m", "nim_widget", "app", "--demo", "--no-browser", f"--port={app_port}"]
    with (
        server(bare_cmd, port=bare_port, workdir=workdir, log=workdir / "bare.log") as bare_url,
        server(app_cmd, port=app_port, workdir=workdir, log=workdir / "app.log") as app_url,
    ):
        return measure(browser, app_url=app_url, bare_url=bare_url, rounds=rounds, settle=settle)


def run_plain(browser: Browser, workdir: Path, rounds: int, settle: float) -> tuple[list[float], ...]:
    bare_nb = workdir / "bare.ipynb"
    bare_port, app_port = free_port(), free_port()
    options = AppOptions(open_browser=False)
    bare_cmd = voila_command(notebook=bare_nb, port=bare_port, options=options, preheat=False)
    app_cmd = voila_command(notebook=find_app_notebook(), port=app_port, options=options, preheat=False)
    with Sandbox(world="demo", clock=RealClock(), controllers=True) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(workdir / "demo.kubeconfig", namespace="demo")
        env = demo_environment(kubeconfig=kubeconfig)
        with (
            server(bare_cmd, port=bare_port, workdir=workdir, log=workdir / "bare-plain.log") as bare_url,
            server(
                app_cmd, port=app_port, workdir=workdir, log=workdir / "app-plain.log", extra_env=env
            ) as app_url,
        ):
            return measure(browser, app_url=app_url, bare_url=bare_url, rounds=rounds, settle=settle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=8.0, help="seconds of idle time before each visit")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(chromium, os.X_OK):
        print("bench_voila: Debian's chromium is missing; run `make chromium`", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="bench-voila-") as tmp, sync_playwright() as playwright:
        workdir = Path(tmp)
        write_bare_notebook(workdir / "bare.ipynb")
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            preheated = run_preheated(browser, workdir, args.rounds, args.settle)
            plain = run_plain(browser, workdir, args.rounds, args.settle)
        finally:
            browser.close()
    report("Voila time to interactive, `nim-widget app` (preheated kernel)", args.rounds, preheated)
    report("Voila time to interactive, plain Voila (Binder's server extension)", args.rounds, plain)
    return 0


if __name__ == "__main__":
    sys.exit(main())
