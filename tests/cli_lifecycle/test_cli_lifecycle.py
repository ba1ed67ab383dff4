"""`nim-widget list | status | stop | start | delete | export | access` as subprocesses on a sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client
from lifecycle import dashboard_objects as dash
from lifecycle.conftest import advance

from nim_widget.cluster.api import Api
from nim_widget.deploy import deploy
from nim_widget.lifecycle.extract import export_request
from nim_widget.request import DeploymentRequest, load_spec
from nim_widget.sandbox import Sandbox

Run = Callable[..., subprocess.CompletedProcess[str]]
REQUEST = {
    "project": "demo",
    "displayName": "Llama small",
    "model": "llama-3.2-1b-instruct",
    "hardwareProfile": "nvidia-gpu-1x",
    "storage": {"mode": "new", "size": "20Gi"},
}


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Api]:
    configuration = sandbox.configuration()
    with client.ApiClient(configuration) as api_client:
        yield Api(api_client=api_client)


@pytest.fixture
def kubeconfig(sandbox: Sandbox, tmp_path: Path) -> Path:
    return sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace="demo")


def _command(kubeconfig: Path, args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "nim_widget", *args, "--kubeconfig", str(kubeconfig)]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")}


@pytest.fixture
def run(kubeconfig: Path) -> Run:
    def invoke(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            _command(kubeconfig, args),
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
            check=False,
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return invoke


@pytest.fixture
def deployed(api: Api, sandbox: Sandbox) -> DeploymentRequest:
    request = DeploymentRequest.model_validate(REQUEST, by_alias=True, by_name=False)
    deploy(api=api, request=request, clock=sandbox.clock)
    advance(sandbox, 120)  # the sandbox's controllers bring it to Ready
    return request


def test_list_in_every_format(run: Run, deployed: DeploymentRequest, api: Api) -> None:
    api.create(body=dash.wizard_pvc(name="wizard-cache"))
    api.create(body=dash.wizard_runtime(name="from-wizard", pvc="wizard-cache"))
    api.create(body=dash.wizard_inference_service(name="from-wizard", display_name="From the wizard"))
    table = run("list")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["NAME", "DISPLAY", "NAME", "MODEL"]
    assert lines[1].startswith("from-wizard ") and "From the wizard" in lines[1]
    assert lines[2].startswith("llama-small ") and "Ready" in lines[2] and "1/1" in lines[2]
    assert "llama-small-cache (20Gi)" in lines[2] and "opendatahub/nvidia-gpu-1x" in lines[2]
    as_json = json.loads(run("list", "-o", "json").stdout)
    assert (as_json[0]["name"], as_json[0]["madeBy"]) == ("from-wizard", "dashboard")
    assert as_json[1]["state"] == "ready" and as_json[1]["storage"]["pvc"] == "llama-small-cache"
    as_yaml = yaml.safe_load(run("list", "-o", "yaml", "-n", "opendatahub").stdout)
    assert as_yaml == []


def test_status_of_a_ready_deployment_shows_how_to_call_it(run: Run, deployed: DeploymentRequest) -> None:
    result = run("status", "llama-small")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Llama small (llama-small) in project demo: Ready at http://llama-small-predictor.demo.svc.cluster.local"
    )
    assert lines[1] == "Endpoint: http://llama-small-predictor.demo.svc.cluster.local (inside the cluster)"
    assert "curl -sS http://llama-small-predictor.demo.svc.cluster.local/v1/chat/completions" in result.stdout
    as_json = json.loads(run("status", "llama-small", "-o", "json").stdout)
    assert as_json["progress"]["stage"] == "ready"


def test_unknown_names_and_bad_input_exit_2(run: Run, tmp_path: Path) -> None:
    result = run("status", "nope")
    assert result.returncode == 2
    assert (
        result.stderr
        == 'Error: Deployment not found: No NIM model deployment named "nope" in project demo.\n'
    )
    bad_timeout = run("status", "nope", "--wait", "--timeout", "0")
    assert bad_timeout.returncode == 2 and "must be more than 0 seconds" in bad_timeout.stderr
    missing = subprocess.run(
        _command(tmp_path / "absent", ("list",)),
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        check=False,
    )
    assert missing.returncode == 2 and missing.stderr.startswith("Error: Cannot connect: ")


class Background:
    """`nim-widget status NAME --wait` running while the test moves the sandbox's clock."""

    def __init__(self, kubeconfig: Path, name: str) -> None:
        self.process = subprocess.Popen(
            _command(kubeconfig, ("status", name, "--wait")),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=_env(),
        )
        self.lines: list[str] = []
        self.stderr = ""
        self._readers = [
            threading.Thread(target=self._read_out, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_out(self) -> None:
        assert self.process.stdout is not None
        self.lines.extend(line.rstrip("\n") for line in self.process.stdout)

    def _read_err(self) -> None:
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()

    def finish(self) -> int:
        code = self.process.wait(timeout=60)
        for reader in self._readers:
            reader.join(timeout=10)
        assert "Traceback" not in self.stderr, self.stderr
        return code


def _wait_for_watches(sandbox: Sandbox, background: Background) -> None:
    deadline = time.monotonic() + 30
    pause = threading.Event()
    while {e.resource for e in sandbox.log.entries if e.verb == "watch"} < {
        "inferenceservices",
        "pods",
        "events",
    }:
        assert background.process.poll() is None, background.stderr
        assert time.monotonic() < deadline, "the CLI never started watching"
        pause.wait(0.02)


def test_status_wait_follows_until_ready(sandbox: Sandbox, kubeconfig: Path, api: Api) -> None:
    request = DeploymentRequest.model_validate(REQUEST, by_alias=True, by_name=False)
    deploy(api=api, request=request, clock=sandbox.clock)
    waiting = Background(kubeconfig, "llama-small")
    _wait_for_watches(sandbox, waiting)
    advance(sandbox, 120)
    assert waiting.finish() == 0, waiting.stderr
    lines = waiting.lines
    stages = [line.split("] ", 1)[1] for line in lines if line.startswith("[")]
    assert stages[0] == "Starting: waiting for the model server pod to be created."
    assert stages[-1] == "Ready at http://llama-small-predictor.demo.svc.cluster.local"
    assert any(line.startswith("Endpoint: ") for line in lines)


def test_status_wait_reports_a_failure_with_exit_1(sandbox: Sandbox, kubeconfig: Path, api: Api) -> None:
    api.create(body=dash.wizard_pvc(name="wizard-cache"))
    api.create(body=dash.wizard_runtime(name="from-wizard", pvc="wizard-cache"))
    api.create(body=dash.wizard_inference_service(name="from-wizard", display_name="From the wizard"))
    waiting = Background(kubeconfig, "from-wizard")
    _wait_for_watches(sandbox, waiting)
    advance(sandbox, 60)
    assert waiting.finish() == 1, waiting.stderr
    stderr = waiting.stderr
    assert (
        waiting.lines[-1]
        .split("] ", 1)[1]
        .startswith(
            "Failed: pulling the image failed: the pull secret ngc-secret does not exist in the project"
        )
    )
    assert "cluster says: Unable to retrieve some image pull secrets (ngc-secret)" in stderr


def test_status_wait_times_out_with_exit_1(run: Run, api: Api, sandbox: Sandbox) -> None:
    request = DeploymentRequest.model_validate({**REQUEST, "hardwareProfile": "nvidia-gpu-4x"}, by_alias=True)
    deploy(api=api, request=request, clock=sandbox.clock)
    advance(sandbox, 30)
    result = run("status", "llama-small", "--wait", "--timeout", "1")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Not ready after 1s; last stage: Scheduling: no node can run")


def test_stop_and_start(run: Run, deployed: DeploymentRequest, sandbox: Sandbox) -> None:
    stopped = run("stop", "llama-small")
    assert (stopped.returncode, stopped.stdout) == (
        0,
        "llama-small stopped. KServe scales the model server to zero; the model cache is kept.\n",
    )
    assert [e.content_type for e in sandbox.log.writes()][-1] == "application/json-patch+json"
    assert "Stopped: the model server is scaled to zero" in run("status", "llama-small").stdout
    started = run("start", "llama-small", "--dry-run")
    assert started.returncode == 0 and started.stdout.startswith("(dry run) llama-small started.")
    assert sandbox.log.writes()[-1].dry_run


def test_delete_asks_first(run: Run, deployed: DeploymentRequest, api: Api) -> None:
    refused = run("delete", "llama-small")
    assert refused.returncode == 2
    assert (
        refused.stderr
        == "Error: Not confirmed: Refusing to delete without confirmation: no input; pass --yes.\n"
    )
    assert "  - InferenceService llama-small: delete (the model deployment)" in refused.stdout
    wrong = run("delete", "llama-small", stdin="llama\n")
    assert wrong.returncode == 2 and 'Not deleted: "llama" is not "llama-small".' in wrong.stderr
    assert (
        api.try_get(
            api_version="serving.kserve.io/v1beta1",
            kind="InferenceService",
            name="llama-small",
            namespace="demo",
        )
        is not None
    )
    done = run("delete", "llama-small", stdin="llama-small\n")
    assert done.returncode == 0, done.stderr
    assert 'Type the deployment name "llama-small" to delete it: ' in done.stdout
    assert (
        "  = PersistentVolumeClaim llama-small-cache: kept (kept by default: it holds the downloaded model"
        in (done.stdout)
    )
    assert done.stdout.rstrip().endswith("3 deleted, 2 kept.")
    assert (
        api.try_get(
            api_version="serving.kserve.io/v1beta1",
            kind="InferenceService",
            name="llama-small",
            namespace="demo",
        )
        is None
    )


def test_delete_yes_with_storage(run: Run, deployed: DeploymentRequest, api: Api) -> None:
    result = run("delete", "llama-small", "--yes", "--delete-storage", "--keep-secrets")
    assert result.returncode == 0, result.stderr
    assert (
        "  - PersistentVolumeClaim llama-small-cache: deleted (NIM model cache used by no other deployment)"
        in (result.stdout)
    )
    assert "  = Secret ngc-secret: kept (kept on request)" in result.stdout
    assert (
        api.try_get(
            api_version="v1", kind="PersistentVolumeClaim", name="llama-small-cache", namespace="demo"
        )
        is None
    )


def test_export_prints_a_spec_that_loads_back(run: Run, deployed: DeploymentRequest, api: Api) -> None:
    result = run("export", "llama-small")
    assert result.returncode == 0, result.stderr
    assert load_spec(text=result.stdout) == export_request(api=api, namespace="demo", name="llama-small")
    assert result.stdout.startswith("project: demo\ndisplayName: Llama small\nname: llama-small\n")


def test_access_enable_and_show(run: Run, deployed: DeploymentRequest, sandbox: Sandbox) -> None:
    result = run("access", "llama-small", "--enable")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:4] == [
        "created ServiceAccount llama-small-sa",
        "created Role llama-small-view-role",
        "created RoleBinding llama-small-view",
        "created Secret default-token-llama-small-sa",
    ]
    assert "Token (default-token-llama-small-sa): (not issued yet)" in result.stdout
    advance(sandbox, 5)  # KServe publishes the external route
    shown = run("access", "llama-small")
    assert "Endpoint: https://llama-small-demo.apps.sandbox.local\n" in shown.stdout
    assert '-H "Authorization: Bearer $TOKEN"' in shown.stdout


def test_diff_shows_the_change_an_update_would_make(
    run: Run, deployed: DeploymentRequest, tmp_path: Path
) -> None:
    spec = run("export", "llama-small").stdout
    same = tmp_path / "same.yaml"
    same.write_text(spec)
    assert run("diff", "-f", str(same)).stdout == "No changes.\n"
    more = tmp_path / "more.yaml"
    more.write_text(spec.replace("replicas: 1", "replicas: 2"))
    result = run("diff", "-f", str(more))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "unchanged ServingRuntime llama-small",
        "update InferenceService llama-small (2 operations):",
        "  ~ /spec/predictor/minReplicas: 1 -> 2",
        "  ~ /spec/predictor/maxReplicas: 1 -> 2",
    ]
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(spec.replace("size: 20Gi", "size: 10Gi"))
    refused = run("diff", "-f", str(smaller))
    assert refused.returncode == 2
    assert refused.stderr == (
        "Error: This change is not possible in an edit: storage.size: Storage can only grow: "
        '"llama-small-cache" is 20Gi now, 10Gi is smaller\n'
    )
