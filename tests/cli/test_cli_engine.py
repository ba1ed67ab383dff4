"""`nim-widget render` and `nim-widget deploy` as subprocesses against a sandbox over HTTP.

Most tests serve the sandbox from this process (fast: no second interpreter to start); one runs the
whole thing against a `nim-widget sandbox` subprocess, as a user would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from nim_widget.cli import main
from nim_widget.sandbox import Sandbox

SPEC = """\
project: demo
displayName: Llama 3.1 8B
model: llama-3.1-8b-instruct
storage: {mode: new, pvcName: llama-cache, size: 50Gi, subPath: llama}
hardwareProfile: nvidia-gpu-1x
replicas: 1
env: [{name: NIM_MAX_MODEL_LEN, value: "8192"}]
"""
API_KEY_B64 = (
    "bnZhcGktREVNTy1zYW5kYm94LWtleS1ub3QtdmFsaWQtMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA=="
)


def nim_widget(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nim_widget", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def kubeconfig(sandbox: Sandbox, tmp_path: Path) -> str:
    return str(sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace="demo"))


@pytest.fixture
def spec_file(tmp_path: Path) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return str(path)


def test_render_prints_the_objects_a_deploy_would_write(
    sandbox: Sandbox, kubeconfig: str, spec_file: str
) -> None:
    done = nim_widget("render", "-f", spec_file, "--kubeconfig", kubeconfig)
    assert done.returncode == 0, done.stderr
    documents = [d for d in yaml.safe_load_all(done.stdout) if d]
    assert [(d["kind"], d["metadata"]["name"]) for d in documents] == [
        ("ServingRuntime", "llama-31-8b"),
        ("InferenceService", "llama-31-8b"),
        ("PersistentVolumeClaim", "llama-cache"),
        ("Secret", "ngc-secret"),
    ]
    assert documents[3]["data"] == {".dockerconfigjson": "<redacted>"}
    pull = sandbox.store.get("secrets", "demo", "odh-nim-account-pull")["data"][".dockerconfigjson"]
    assert pull not in done.stdout and API_KEY_B64 not in done.stdout
    assert not [e for e in sandbox.log.entries if e.is_write]  # render never writes
    again = nim_widget("render", "-f", spec_file, "--kubeconfig", kubeconfig)
    assert again.stdout == done.stdout  # deterministic


def test_deploy_prints_one_line_per_step_event_then_refuses_a_second_time(
    sandbox: Sandbox, kubeconfig: str, spec_file: str
) -> None:
    done = nim_widget("deploy", "-f", spec_file, "--kubeconfig", kubeconfig, "--context", "nim-sandbox")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "[ 1/12] > Validate request: running"
    assert any(
        line.startswith("[ 7/12] + Apply serving runtime and inference service: succeeded") for line in lines
    )
    assert lines[-1] == '"Llama 3.1 8B" (llama-31-8b) in demo: 4 created, 0 updated, 1 reused'
    assert sandbox.store.try_get("inferenceservices.serving.kserve.io", "demo", "llama-31-8b") is not None

    again = nim_widget("deploy", "-f", spec_file, "--kubeconfig", kubeconfig)
    assert again.returncode == 1
    assert again.stderr.startswith(
        'Error: Already exists: A model deployment with the name "Llama 3.1 8B" '
        "already exists. Please choose a different model deployment name."
    )
    assert "Traceback" not in again.stderr

    updated = nim_widget(
        "deploy",
        "-f",
        "-",
        "--update",
        "--overwrite",
        "--kubeconfig",
        kubeconfig,
        stdin=SPEC.replace("replicas: 1", "replicas: 2"),
    )
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.splitlines()[-1].endswith("0 created, 1 updated, 1 unchanged, 3 reused")


def test_dry_run_writes_nothing(sandbox: Sandbox, kubeconfig: str, spec_file: str) -> None:
    done = nim_widget("deploy", "-f", spec_file, "--dry-run", "--kubeconfig", kubeconfig)
    assert done.returncode == 0, done.stderr
    assert "[ 7/12] - Apply serving runtime and inference service: skipped - dry run" in done.stdout
    assert sandbox.store.try_get("inferenceservices.serving.kserve.io", "demo", "llama-31-8b") is None


def test_bad_input_exits_2_with_a_sentence_and_no_traceback(sandbox: Sandbox, kubeconfig: str) -> None:
    done = nim_widget(
        "deploy",
        "-f",
        "-",
        "--kubeconfig",
        kubeconfig,
        stdin=SPEC.replace("llama-3.1-8b-instruct", "llama-9"),
    )
    assert done.returncode == 2
    assert done.stderr.startswith('Error: Unknown name: NIM image "llama-9" is not in the NIM catalog')
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("spec", "args", "message"),
    [
        (SPEC.replace("project: demo", "project: nowhere"), (), "Error: Unknown project:"),
        (
            SPEC.replace("nvidia-gpu-1x", "nvidia-gpu-9x"),
            (),
            'Hardware profile "nvidia-gpu-9x" was not found',
        ),
        (SPEC + "gpus: 2\n", (), 'gpus: Unknown key "gpus"'),
        (
            SPEC.replace("replicas: 1", "replicas: 0"),
            (),
            "replicas: Replicas must be a whole number from 1 to 99",
        ),
        (SPEC, ("--overwrite",), "Error: --overwrite applies only with --update"),
        (SPEC, ("--context", "elsewhere"), "Error: Cannot connect:"),
        (SPEC, ("--update",), 'There is no model deployment named "llama-31-8b"'),
    ],
)
@pytest.mark.parametrize("command", ["render", "deploy"])
def test_every_kind_of_bad_input_exits_2(
    sandbox: Sandbox,
    kubeconfig: str,
    spec: str,
    args: tuple[str, ...],
    message: str,
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same entry point in this process (a subprocess per case would cost seconds each)."""
    path = tmp_path / "bad.yaml"
    path.write_text(spec)
    assert main([command, "-f", str(path), "--kubeconfig", kubeconfig, *args]) == 2
    assert message in capsys.readouterr().err
    assert not [e for e in sandbox.log.entries if e.is_write and not e.dry_run]


def test_a_cluster_refusal_exits_1(sandbox: Sandbox, kubeconfig: str, spec_file: str) -> None:
    sandbox.faults.add(
        verb="create", resource="inferenceservices", dry_run=False, status=500, message="etcd is on fire"
    )
    done = nim_widget("deploy", "-f", spec_file, "--kubeconfig", kubeconfig)
    assert done.returncode == 1
    assert "Error: Cluster unavailable: etcd is on fire Everything this run wrote was undone." in done.stderr
    assert "rolled_back" in done.stdout and "Traceback" not in done.stderr
    assert sandbox.store.try_get("servingruntimes.serving.kserve.io", "demo", "llama-31-8b") is None


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[str]:
    """`nim-widget sandbox` in its own process; yields the kubeconfig it writes."""
    kubeconfig = tmp_path / "sandbox-kubeconfig"
    process = subprocess.Popen(
        [sys.executable, "-m", "nim_widget", "sandbox", "--kubeconfig-out", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("kubeconfig written"):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(60), "".join(lines)
        yield str(kubeconfig)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_render_and_deploy_against_a_nim_widget_sandbox_process(sandbox_process: str, spec_file: str) -> None:
    rendered = nim_widget("render", "-f", spec_file, "--kubeconfig", sandbox_process)
    assert rendered.returncode == 0, rendered.stderr
    deployed = nim_widget("deploy", "-f", spec_file, "--kubeconfig", sandbox_process)
    assert deployed.returncode == 0, deployed.stderr
    assert "4 created" in deployed.stdout
    again = nim_widget("render", "-f", spec_file, "--kubeconfig", sandbox_process)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_deploy_wait_follows_the_deployment_until_it_is_ready(
    sandbox: Sandbox, kubeconfig: str, spec_file: str
) -> None:
    """The sandbox runs on a fake clock: the test moves it along while the CLI process waits."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nim_widget",
            "deploy",
            "-f",
            spec_file,
            "--kubeconfig",
            kubeconfig,
            "--wait",
            "--timeout",
            "600",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = 1_000  # advances of the fake clock, each a few fake seconds
        while process.poll() is None and deadline:
            sandbox.clock.advance(2)
            deadline -= 1
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.05)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    lines = out.splitlines()
    assert any("Ready" in line or "ready" in line for line in lines), out
    assert "Endpoint: http://llama-31-8b-predictor.demo.svc.cluster.local" in out
