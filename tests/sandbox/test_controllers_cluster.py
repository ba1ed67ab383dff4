"""A small cluster for the "inference" controller tests, built over HTTP in an empty sandbox.

Not a test module: the helpers shared by ``test_controllers_inference.py`` and
``test_controllers_failures.py``. The cluster has a tainted control-plane node, a CPU worker and
a one-GPU worker, so the scheduler's messages can be asserted word for word. The clock is a
FakeClock: ``Cluster.until`` steps it until a stage is reached, so the tests check the order of
the stages without depending on the exact delays of ``Timings``.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from nim_widget.sandbox import FakeClock, Sandbox

NS = "proj"
IMAGE = "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.8.6"
KEY = "nvapi-sandbox-test-key-0000000000000000000000000000000000000000000000"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
ISVC = ("serving.kserve.io", "v1beta1", NS, "inferenceservices")
RUNTIME = ("serving.kserve.io", "v1alpha1", NS, "servingruntimes")


@pytest.fixture(autouse=True)
def no_controller_failures(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING, logger="nim_widget.sandbox")
    yield
    failures = [r.getMessage() for r in caplog.records if r.name.startswith("nim_widget.sandbox")]
    assert failures == []


class Cluster:
    def __init__(self, sb: Sandbox) -> None:
        assert isinstance(sb.clock, FakeClock)
        self.sb = sb
        self.clock: FakeClock = sb.clock
        api = sb.api_client()
        self.api = api
        # typed as Any: the tests send plain manifests, as the engine does
        self.core: Any = client.CoreV1Api(api)
        self.custom: Any = client.CustomObjectsApi(api)
        self.storage: Any = client.StorageV1Api(api)

    # ---------------------------------------------------------------- set-up

    def node(
        self, name: str, *, cpu: str, memory: str, gpus: int = 0, taint: str | None = None, ip: str
    ) -> None:
        labels = {"kubernetes.io/hostname": name}
        if gpus:
            labels.update({"nvidia.com/gpu.present": "true", "nvidia.com/gpu.product": "NVIDIA-A10"})
        spec: dict[str, Any] = {}
        if taint:
            spec["taints"] = [{"key": taint, "effect": "NoSchedule"}]
        self.core.create_node({"metadata": {"name": name, "labels": labels}, "spec": spec})
        resources = {"cpu": cpu, "memory": memory, "pods": "250"}
        if gpus:
            resources["nvidia.com/gpu"] = str(gpus)
        self.core.patch_node_status(
            name,
            {
                "status": {
                    "capacity": resources,
                    "allocatable": resources,
                    "addresses": [
                        {"type": "InternalIP", "address": ip},
                        {"type": "Hostname", "address": name},
                    ],
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                        }
                    ],
                    "nodeInfo": {
                        "architecture": "amd64",
                        "bootID": f"boot-{name}",
                        "machineID": f"machine-{name}",
                        "systemUUID": f"uuid-{name}",
                        "containerRuntimeVersion": "cri-o://1.31.6-3.rhaos4.18.gitd5d8ea2.el9",
                        "kernelVersion": "5.14.0-427.65.1.el9_4.x86_64",
                        "kubeProxyVersion": "v1.31.7",
                        "kubeletVersion": "v1.31.7",
                        "operatingSystem": "linux",
                        "osImage": "Red Hat Enterprise Linux CoreOS 418.94.202505201502-0",
                    },
                }
            },
        )

    def setup(self, *, pull_secret: bool = True, api_key_secret: bool = True, ngc_key: str = KEY) -> None:
        self.core.create_namespace({"metadata": {"name": NS}})
        self.node("master-0", cpu="4", memory="16Gi", taint="node-role.kubernetes.io/master", ip="10.0.1.4")
        self.node("worker-0", cpu="8", memory="32Gi", ip="10.0.2.4")
        self.node("gpu-0", cpu="16", memory="64Gi", gpus=1, taint="nvidia.com/gpu", ip="10.0.2.10")
        self.storage.create_storage_class(
            {
                "metadata": {"name": "standard", "annotations": {DEFAULT_CLASS: "true"}},
                "provisioner": "disk.csi.azure.com",
                "volumeBindingMode": "Immediate",
                "allowVolumeExpansion": True,
            }
        )
        if api_key_secret:
            self.core.create_namespaced_secret(
                NS,
                {
                    "metadata": {"name": "nvidia-nim-secrets"},
                    "stringData": {"api_key": ngc_key, "NGC_API_KEY": ngc_key},
                },
            )
        if pull_secret:
            config = {"auths": {"nvcr.io": {"password": KEY, "username": "$oauthtoken"}}}
            self.core.create_namespaced_secret(
                NS,
                {
                    "metadata": {"name": "ngc-secret"},
                    "type": "kubernetes.io/dockerconfigjson",
                    "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
                },
            )
        # the project's NIM catalog, as an Account's status points at it
        entry = {
            "name": "llama-3.1-8b-instruct",
            "displayName": "Llama 3.1 8B Instruct",
            "shortDescription": "Llama 3.1 8B",
            "namespace": "nim/meta",
            "tags": ["1.8.6", "1.3.3"],
            "latestTag": "1.8.6",
            "updatedDate": "2025-09-18T21:04:37.655Z",
        }
        self.core.create_namespaced_config_map(
            NS, {"metadata": {"name": "acct-cm"}, "data": {"llama-3.1-8b-instruct": json.dumps(entry)}}
        )
        self.custom.create_namespaced_custom_object(
            "nim.opendatahub.io",
            "v1",
            NS,
            "accounts",
            {
                "apiVersion": "nim.opendatahub.io/v1",
                "kind": "Account",
                "metadata": {"name": "acct"},
                "spec": {"apiKeySecret": {"name": "nvidia-nim-secrets"}},
            },
        )
        self.custom.patch_namespaced_custom_object_status(
            "nim.opendatahub.io",
            "v1",
            NS,
            "accounts",
            "acct",
            {
                "status": {
                    "nimConfig": {"apiVersion": "v1", "kind": "ConfigMap", "name": "acct-cm", "namespace": NS}
                },
            },
        )

    def claim(self, name: str = "llama-cache", *, storage_class: str = "standard") -> None:
        self.core.create_namespaced_persistent_volume_claim(
            NS,
            {
                "metadata": {"name": name},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": storage_class,
                    "resources": {"requests": {"storage": "50Gi"}},
                },
            },
        )

    def runtime(self, name: str = "llama", *, image: str = IMAGE, claim: str = "llama-cache") -> None:
        self.custom.create_namespaced_custom_object(
            *RUNTIME,
            {
                "apiVersion": "serving.kserve.io/v1alpha1",
                "kind": "ServingRuntime",
                "metadata": {
                    "name": name,
                    "annotations": {"runtimes.opendatahub.io/nvidia-nim": "true"},
                    "labels": {"opendatahub.io/dashboard": "true"},
                },
                "spec": {
                    "annotations": {"prometheus.io/path": "/v1/metrics", "prometheus.io/port": "8000"},
                    "multiModel": False,
                    "protocolVersions": ["grpc-v2", "v2"],
                    "supportedModelFormats": [
                        {
                            "name": "llama-3.1-8b-instruct",
                            "version": image.rsplit(":", 1)[1],
                            "autoSelect": False,
                            "priority": 1,
                        }
                    ],
                    "imagePullSecrets": [{"name": "ngc-secret"}],
                    "containers": [
                        {
                            "name": "kserve-container",
                            "image": image,
                            "env": [
                                {"name": "NIM_CACHE_PATH", "value": "/mnt/models/cache"},
                                {
                                    "name": "NGC_API_KEY",
                                    "valueFrom": {
                                        "secretKeyRef": {"name": "nvidia-nim-secrets", "key": "NGC_API_KEY"}
                                    },
                                },
                            ],
                            "ports": [{"containerPort": 8000, "protocol": "TCP"}],
                            "volumeMounts": [
                                {"name": "shm", "mountPath": "/dev/shm"},
                                {"name": claim, "mountPath": "/mnt/models/cache"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": claim, "persistentVolumeClaim": {"claimName": claim}},
                        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}},
                    ],
                },
            },
        )

    def isvc(self, name: str = "llama", *, gpus: int = 1, runtime: str = "llama", **predictor: Any) -> None:
        resources = {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": str(gpus)}
        self.custom.create_namespaced_custom_object(
            *ISVC,
            {
                "apiVersion": "serving.kserve.io/v1beta1",
                "kind": "InferenceService",
                "metadata": {
                    "name": name,
                    "annotations": {
                        "serving.kserve.io/deploymentMode": "RawDeployment",
                        "openshift.io/display-name": "Llama 3.1 8B",
                    },
                    "labels": {
                        "opendatahub.io/dashboard": "true",
                        "networking.kserve.io/visibility": "exposed",
                    },
                },
                "spec": {
                    "predictor": {
                        "minReplicas": 1,
                        "maxReplicas": 1,
                        "tolerations": [GPU_TOLERATION],
                        "model": {
                            "modelFormat": {"name": "llama-3.1-8b-instruct"},
                            "runtime": runtime,
                            "resources": {"limits": resources, "requests": resources},
                        },
                        **predictor,
                    }
                },
            },
        )

    def deploy(self, **isvc: Any) -> None:
        self.claim()
        self.runtime()
        self.isvc(**isvc)

    # ---------------------------------------------------------------- reading

    def status(self, name: str = "llama") -> dict[str, Any]:
        return dict(self.custom.get_namespaced_custom_object(*ISVC, name).get("status") or {})

    def conditions(self, name: str = "llama") -> dict[str, tuple[str, str, str]]:
        return {
            c["type"]: (c["status"], c.get("reason", ""), c.get("message", ""))
            for c in self.status(name).get("conditions", [])
        }

    def pods(self, name: str = "llama") -> list[dict[str, Any]]:
        items = self.core.list_namespaced_pod(
            NS, label_selector=f"serving.kserve.io/inferenceservice={name}"
        ).items
        return [dict(self.api.sanitize_for_serialization(p)) for p in items]

    def pod(self, name: str = "llama") -> dict[str, Any]:
        pods = self.pods(name)
        assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
        return pods[0]

    def events(self, name: str) -> list[tuple[str, str, str]]:
        items = [e for e in self.core.list_namespaced_event(NS).items if e.involved_object.name == name]
        items.sort(key=lambda e: int(e.metadata.name.rsplit(".", 1)[1], 16))
        return [(e.type, e.reason, e.message) for e in items]

    def event_count(self, name: str, reason: str) -> int:
        return sum(
            e.count
            for e in self.core.list_namespaced_event(NS).items
            if e.involved_object.name == name and e.reason == reason
        )

    def until(self, check: Callable[[], Any], *, within: float = 120.0) -> float:
        """Step the clock by half seconds until ``check()`` holds; returns the clock time spent."""
        spent = 0.0
        while not check():
            assert spent < within, f"not reached within {within}s"
            self.clock.advance(0.5)
            spent += 0.5
        return spent


def container_of(pod: dict[str, Any]) -> dict[str, Any]:
    statuses = pod["status"].get("containerStatuses") or [{}]
    return dict(statuses[0])


def waiting(c: Cluster) -> str:
    """The waiting reason of the predictor's main container, "" when there is none (yet)."""
    pods = c.pods()
    if not pods:
        return ""
    return str(container_of(pods[0]).get("state", {}).get("waiting", {}).get("reason", ""))


def pod_conditions(pod: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c.get("reason", "")) for c in pod["status"].get("conditions", [])}


@pytest.fixture
def make_cluster() -> Iterator[Callable[..., Cluster]]:
    sandboxes: list[Sandbox] = []

    def make(**setup: Any) -> Cluster:
        sb = Sandbox(world=None, clock=FakeClock(), controllers=["storage", "inference"]).start()
        sandboxes.append(sb)
        c = Cluster(sb)
        c.setup(**setup)
        return c

    yield make
    for sb in sandboxes:
        sb.stop()


@pytest.fixture
def cluster(make_cluster: Callable[..., Cluster]) -> Cluster:
    return make_cluster()
