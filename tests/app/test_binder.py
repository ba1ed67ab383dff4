"""The Binder layout, checked without Docker: the files repo2docker reads, and `binder/start` for real.

`binder/start` runs before the Jupyter server on every Binder launch; here it runs a small command
instead, which checks the environment it was given and the demo cluster behind it with kubectl.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BINDER = REPO / "binder"


def test_repo2docker_gets_python_311_pinned_requirements_and_the_package() -> None:
    assert (BINDER / "runtime.txt").read_text() == "python-3.11\n"
    lines = [
        line.strip()
        for line in (BINDER / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[-1] == ".", "the last line installs nim-widget from the repository root"
    for requirement in lines[:-1]:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", requirement), requirement
    pinned = {line.split("==")[0].lower().replace("_", "-") for line in lines[:-1]}
    assert {"voila", "ipywidgets", "kubernetes", "pydantic"} <= pinned
    assert os.access(BINDER / "start", os.X_OK), "repo2docker runs binder/start only when it is executable"


CHECK = r"""
import os, subprocess, sys
assert os.environ["NIM_WIDGET_DEMO"] == "1"
assert os.environ["KUBECONFIG"] == os.environ["NIM_WIDGET_DEMO_KUBECONFIG"]
print("pid-file", os.path.join(os.path.dirname(os.environ["KUBECONFIG"]), "sandbox.pid"))
kubectl = sys.argv[1]
out = subprocess.run([kubectl, "get", "namespaces", "-o", "name"], check=True, capture_output=True, text=True)
print(out.stdout.strip().replace("\n", " "))
out = subprocess.run([kubectl, "get", "secret", "nvidia-nim-secrets", "-o", "name"], check=True,
                     capture_output=True, text=True)
print(out.stdout.strip())
"""


def test_start_runs_the_demo_cluster_and_execs_the_command_with_kubeconfig() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIM_WIDGET_") and k != "KUBECONFIG"}
    env["NIM_WIDGET_PYTHON"] = sys.executable
    result = subprocess.run(
        ["bash", str(BINDER / "start"), sys.executable, "-c", CHECK, kubectl],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    pid_file = next(
        (Path(line.split(" ", 1)[1]) for line in result.stdout.splitlines() if line.startswith("pid-file ")),
        None,
    )
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "binder/start: demo cluster running" in result.stdout
        assert "namespace/demo namespace/opendatahub" in result.stdout
        assert "secret/nvidia-nim-secrets" in result.stdout
    finally:
        # The sandbox outlives `start` on purpose (it serves the whole Binder session): stop ours.
        if pid_file is not None and pid_file.exists():
            pid = int(pid_file.read_text())
            os.kill(pid, signal.SIGTERM)
            shutil.rmtree(pid_file.parent, ignore_errors=True)
