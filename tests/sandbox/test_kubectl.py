"""The real kubectl against a sandbox: discovery, server-side printing, apply and delete."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Protocol

import pytest
from sandbox_objects import IMAGE

from nim_widget.sandbox import Sandbox

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


class Kubectl(Protocol):
    def __call__(self, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]: ...


pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed on this machine")


@pytest.fixture
def kubectl(sandbox: Sandbox, tmp_path: Path) -> Kubectl:
    config = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    home = tmp_path / "home"  # keeps kubectl's discovery cache out of the real home directory

    def run(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KUBECTL, "--kubeconfig", str(config), "--cache-dir", str(home / "cache"), *args],
            input=input_text,
            capture_output=True,
            text=True,
            timeout=60,
            env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        )

    return run


CONFIG_MAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: kubectl-made
data:
  greeting: hello
"""

SERVING_RUNTIME = f"""apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata:
  name: kubectl-runtime
spec:
  supportedModelFormats:
    - name: llama-3.1-8b-instruct
      autoSelect: true
  containers:
    - name: kserve-container
      image: {IMAGE}
"""


def test_get_namespaces(kubectl: Kubectl) -> None:
    result = kubectl("get", "namespaces")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "AGE"]
    assert any(line.split()[:2] == ["demo", "Active"] for line in lines[1:])


def test_get_inference_services_in_demo(kubectl: Kubectl, sandbox: Sandbox) -> None:
    from kubernetes import client
    from sandbox_objects import SERVING, inference_service

    client.CustomObjectsApi(sandbox.api_client()).create_namespaced_custom_object(
        SERVING, "v1beta1", "demo", "inferenceservices", inference_service()
    )
    result = kubectl("get", "inferenceservices", "-n", "demo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[:3] == ["NAME", "URL", "READY"]
    assert result.stdout.splitlines()[1].split()[0] == "llama"


def test_apply_config_map_creates_then_configures(kubectl: Kubectl, sandbox: Sandbox) -> None:
    first = kubectl("apply", "-f", "-", input_text=CONFIG_MAP)
    assert (first.returncode, first.stdout.strip()) == (0, "configmap/kubectl-made created"), first.stderr
    second = kubectl("apply", "-f", "-", input_text=CONFIG_MAP.replace("hello", "bye"))
    assert (second.returncode, second.stdout.strip()) == (0, "configmap/kubectl-made configured"), (
        second.stderr
    )
    assert sandbox.store.get("configmaps", "demo", "kubectl-made")["data"] == {"greeting": "bye"}
    patch = sandbox.log.find(verb="patch", name="kubectl-made")[-1]
    assert patch.content_type == "application/strategic-merge-patch+json"
    assert patch.query["fieldValidation"] == ["Strict"]


def test_apply_serving_runtime_creates_then_configures(kubectl: Kubectl, sandbox: Sandbox) -> None:
    first = kubectl("apply", "-f", "-", input_text=SERVING_RUNTIME)
    assert (first.returncode, first.stdout.strip()) == (
        0,
        "servingruntime.serving.kserve.io/kubectl-runtime created",
    ), first.stderr
    changed = SERVING_RUNTIME.replace("autoSelect: true", "autoSelect: false")
    second = kubectl("apply", "-f", "-", input_text=changed)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "servingruntime.serving.kserve.io/kubectl-runtime configured"
    stored = sandbox.store.get("servingruntimes.serving.kserve.io", "demo", "kubectl-runtime")
    assert stored["spec"]["supportedModelFormats"][0]["autoSelect"] is False
    patch = sandbox.log.find(verb="patch", name="kubectl-runtime")[-1]
    assert patch.content_type == "application/merge-patch+json"


def test_apply_reports_server_side_strict_validation(kubectl: Kubectl) -> None:
    bad = SERVING_RUNTIME.replace("spec:\n", "spec:\n  bogus: 1\n")
    result = kubectl("apply", "-f", "-", input_text=bad)
    assert result.returncode != 0
    assert 'strict decoding error: unknown field "spec.bogus"' in result.stderr


def test_delete_waits_for_the_object_to_go(kubectl: Kubectl, sandbox: Sandbox) -> None:
    kubectl("apply", "-f", "-", input_text=CONFIG_MAP)
    result = kubectl("delete", "configmap", "kubectl-made")
    assert (result.returncode, result.stdout.strip()) == (0, 'configmap "kubectl-made" deleted'), (
        result.stderr
    )
    assert sandbox.store.try_get("configmaps", "demo", "kubectl-made") is None


def test_get_missing_object_prints_the_server_message(kubectl: Kubectl) -> None:
    result = kubectl("get", "isvc", "ghost")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'Error from server (NotFound): inferenceservices.serving.kserve.io "ghost" not found'
    )


def test_imperative_create_commands_send_protobuf_and_work(kubectl: Kubectl, sandbox: Sandbox) -> None:
    secret = kubectl("create", "secret", "generic", "ngc", "--from-literal=token=abc")
    assert (secret.returncode, secret.stdout.strip()) == (0, "secret/ngc created"), secret.stderr
    config = kubectl("create", "configmap", "flags", "--from-literal=debug=true")
    assert config.returncode == 0, config.stderr
    namespace = kubectl("create", "namespace", "team-b")
    assert namespace.returncode == 0, namespace.stderr
    assert sandbox.store.get("secrets", "demo", "ngc")["data"] == {"token": "YWJj"}
    assert sandbox.store.get("secrets", "demo", "ngc")["type"] == "Opaque"
    assert sandbox.store.get("configmaps", "demo", "flags")["data"] == {"debug": "true"}
    assert (
        sandbox.log.find(verb="create", resource="secrets")[-1].content_type
        == "application/vnd.kubernetes.protobuf"
    )
