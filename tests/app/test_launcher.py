"""`nim-widget app`: refusing unsafe options, finding the notebook, and a real launch and shutdown.

The launches run the CLI as a subprocess, the way a user does, with a home directory that holds no
kubeconfig; they never open a page (a GET would run the notebook; the browser tests do that).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config
from websockets.sync.server import ServerConnection, serve

from nim_widget import app, demo

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0


@pytest.fixture
def bare_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No kubeconfig, no service account and no demo variables, for in-process calls."""
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", demo.ENV_DEMO, demo.ENV_DEMO_KUBECONFIG):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.mark.parametrize(
    ("ip", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_is_loopback(ip: str, loopback: bool) -> None:
    assert app.is_loopback(ip) is loopback


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (app.AppOptions(ip="0.0.0.0"), "refusing to listen on 0.0.0.0 without --token"),
        (app.AppOptions(port=70000), "--port must be between 1 and 65535"),
        (app.AppOptions(demo=True, kubeconfig="x"), "--demo runs on the built-in demo cluster"),
        (app.AppOptions(kubeconfig="/nonexistent/kubeconfig"), "no such file"),
        (app.AppOptions(context="prod"), "no kubeconfig ($KUBECONFIG, ~/.kube/config)"),
    ],
)
def test_bad_options_exit_2_before_starting_anything(
    bare_machine: Path, capsys: pytest.CaptureFixture[str], options: app.AppOptions, message: str
) -> None:
    assert app.run_app(options=options) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_demo_off_with_nothing_configured_is_refused(
    bare_machine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(demo.ENV_DEMO, "0")
    assert app.run_app(options=app.AppOptions(open_browser=False)) == 2
    assert "pass --kubeconfig, or --demo" in capsys.readouterr().err


def test_a_taken_port_is_refused(bare_machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert app.run_app(options=app.AppOptions(demo=True, port=port, open_browser=False)) == 2
    assert f"port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err


def test_voila_gets_the_lab_template_without_sources_and_never_the_token_in_argv(tmp_path: Path) -> None:
    options = app.AppOptions(ip="0.0.0.0", token="s3cret", open_browser=False)
    command = app.voila_command(notebook=Path("/nb/app.ipynb"), port=9999, options=options)
    assert command[:4] == [sys.executable, "-m", "voila", "/nb/app.ipynb"]
    for flag in (
        "--port=9999",
        "--Voila.ip=0.0.0.0",
        "--Voila.port_retries=0",
        "--template=lab",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--no-browser",
    ):
        assert flag in command
    assert not any("s3cret" in part for part in command)

    app.write_voila_config(workdir=tmp_path, options=options)
    written = tmp_path / "voila.json"
    assert written.read_text() == '{"Voila": {"token": "s3cret"}}'
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_the_app_notebook_is_found_and_the_packaged_copy_matches_the_checkout() -> None:
    assert app.find_app_notebook() == REPO / "notebooks" / "app.ipynb"
    packaged = REPO / "nim_widget" / "notebooks" / "app.ipynb"
    assert packaged.read_bytes() == (REPO / "notebooks" / "app.ipynb").read_bytes(), (
        "run tests/notebooks/sync_notebooks.py to refresh the packaged copy"
    )


# -- real launches ------------------------------------------------------------------------------------


@dataclass
class Launched:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    kubeconfig: Path

    def output(self) -> str:
        return self.log.read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def _wait_for(predicate: object, *, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"the app exited ({proc.returncode}) before {what}:\n{log.read_text()}")
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.1)
    pytest.fail(f"timed out waiting for {what}:\n{log.read_text()}")


@contextlib.contextmanager
def launch(tmp_path: Path, *args: str) -> Iterator[Launched]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NIM_WIDGET_", "KUBERNETES_SERVICE_")) and k != "KUBECONFIG"
    }
    env["HOME"] = str(home)
    port = _free_port()
    log = tmp_path / "app.log"
    kubeconfig = tmp_path / "out" / "demo.kubeconfig"
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nim_widget",
                "app",
                "--no-browser",
                f"--port={port}",
                f"--kubeconfig-out={kubeconfig}",
                *args,
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    launched = Launched(proc=proc, port=port, log=log, kubeconfig=kubeconfig)
    try:
        _wait_for(lambda: "nim-widget app: serving at" in log.read_text(), proc=proc, log=log, what="serving")
        yield launched
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _sandbox_port(kubeconfig: Path) -> int:
    api = config.new_client_from_config(config_file=str(kubeconfig))
    try:
        return int(api.configuration.host.rsplit(":", 1)[1])
    finally:
        api.close()


def _stop_and_check(launched: Launched, stop_signal: signal.Signals) -> None:
    sandbox_port = _sandbox_port(launched.kubeconfig)
    launched.proc.send_signal(stop_signal)
    assert launched.proc.wait(timeout=30) == 0
    assert "nim-widget app: stopped" in launched.output()
    assert not _listening(launched.port), "Voila outlived the launcher"
    assert not _listening(sandbox_port), "the demo cluster outlived the launcher"


def test_without_configuration_the_app_runs_on_the_demo_cluster_and_sigterm_stops_it(tmp_path: Path) -> None:
    with launch(tmp_path) as launched:
        output = launched.output()
        assert demo.NO_CONFIGURATION_REASON in output
        assert f"serving at http://127.0.0.1:{launched.port}/" in output
        assert _listening(launched.port)

        api = config.new_client_from_config(config_file=str(launched.kubeconfig))
        names = {ns.metadata.name for ns in client.CoreV1Api(api).list_namespace().items if ns.metadata}
        api.close()
        assert {"demo", "opendatahub"} <= names
        _stop_and_check(launched, signal.SIGTERM)


def test_a_token_protects_the_app_stays_out_of_the_process_list_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    with launch(tmp_path, "--demo", "--token=tok-123") as launched:
        voila_pids = Path(f"/proc/{launched.proc.pid}/task/{launched.proc.pid}/children").read_text().split()
        assert voila_pids, "the launcher runs Voila as its child"
        for pid in voila_pids:
            assert b"tok-123" not in Path(f"/proc/{pid}/cmdline").read_bytes()

        conn = http.client.HTTPConnection("127.0.0.1", launched.port, timeout=30)
        conn.request("GET", "/")
        anonymous = conn.getresponse()
        anonymous.read()
        assert anonymous.status in (302, 403), anonymous.status
        assert "/login" in (anonymous.getheader("Location") or "/login")
        conn.request("GET", "/", headers={"Authorization": "token tok-123"})
        allowed = conn.getresponse()
        page = allowed.read().decode()
        assert allowed.status == 200
        assert "<title>Deploy a model with NVIDIA NIM</title>" in page
        conn.close()

        # Ctrl-C in a terminal reaches the launcher alone (Voila runs in its own session).
        _stop_and_check(launched, signal.SIGINT)


class FakeWizard:
    """Records what `refresh_on_visit` asks of the wizard (the real one is covered in the browser)."""

    def __init__(self, *, ready_file: Path) -> None:
        self.ready_file = ready_file
        self.calls: list[tuple[str, object]] = []

    def reload(self) -> None:
        self.calls.append(("reload", self.ready_file.exists()))

    def join(self, timeout: float) -> bool:
        self.calls.append(("join", timeout))
        return True


def test_a_preheated_kernel_signals_ready_waits_for_its_visitor_then_refreshes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Against a stand-in for Voila's request-info websocket: the kernel connects, says it is ready
    (the file the launcher waits for), and refreshes only once the visitor's request arrives."""
    ready = tmp_path / "ready"
    seen_paths: list[str] = []

    def voila_side(connection: ServerConnection) -> None:
        assert connection.request is not None
        seen_paths.append(connection.request.path)
        connection.send(json.dumps({"SERVER_NAME": "visitor.example", "SCRIPT_NAME": "/app"}))

    with serve(voila_side, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        for key, value in {
            "VOILA_PREHEAT": "True",
            "VOILA_APP_PORT": str(port),
            "VOILA_SERVER_URL": "/",
            "VOILA_KERNEL_ID": "kernel-1",
            app.ENV_READY_FILE: str(ready),
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("SERVER_NAME", raising=False)
        wizard = FakeWizard(ready_file=ready)

        app.refresh_on_visit(wizard=wizard)

        server.shutdown()
    assert seen_paths == ["/voila/query/kernel-1"]
    assert wizard.calls == [("reload", True), ("join", 15.0)]
    assert os.environ["SERVER_NAME"] == "visitor.example"


def test_outside_a_preheated_kernel_nothing_waits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    wizard = FakeWizard(ready_file=tmp_path / "ready")
    app.refresh_on_visit(wizard=wizard)
    assert wizard.calls == []  # the wizard just loaded the cluster; the kernel is the visitor's already
