"""``nim-widget sandbox`` / ``python -m nim_widget sandbox``: foreground server, kubeconfig, clean stop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nim_widget", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # blocks until the server is up (or the process died)
    assert first.startswith("nim-widget sandbox serving at http://127.0.0.1:"), first or proc.stderr.read()
    return proc, first.split()[-1]


def test_cli_serves_writes_a_kubeconfig_and_stops_on_sigterm(tmp_path: Path) -> None:
    config_path = tmp_path / "sandbox.kubeconfig"
    proc, url = _start("--kubeconfig-out", str(config_path))
    try:
        with urllib.request.urlopen(f"{url}/api/v1/namespaces/demo", timeout=10) as resp:
            assert json.load(resp)["metadata"]["name"] == "demo"
        config = yaml.safe_load(config_path.read_text())
        assert config["current-context"] == "nim-sandbox"
        assert config["clusters"][0]["cluster"]["server"] == url
        assert config["contexts"][0]["context"]["namespace"] == "demo"
        assert config_path.stat().st_mode & 0o077 == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert out.rstrip().endswith("sandbox stopped")


def test_cli_empty_starts_without_the_world() -> None:
    proc, url = _start("--empty")
    try:
        with urllib.request.urlopen(f"{url}/api/v1/namespaces", timeout=10) as resp:
            assert json.load(resp)["items"] == []
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert proc.returncode == 0
