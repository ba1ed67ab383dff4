"""Deployments as the OpenShift AI dashboard writes them (reference section B), for the sandbox.

The lifecycle must treat deployments made by the dashboard exactly like its own, so tests create
them here from the reference's shapes: the wizard path (B.2/B.3/B.6 "wizard") and the legacy modal
(B.2/B.3/B.5/B.6 "legacy"). Written out literally, not assembled by our own builders.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import yaml

NIM_SR_SPEC = """
annotations: {prometheus.io/path: /v1/metrics, prometheus.io/port: "8000"}
multiModel: false
protocolVersions: [grpc-v2, v2]
imagePullSecrets: [{name: ngc-secret}]
supportedModelFormats:
  - {autoSelect: false, name: MODEL, priority: 1, version: TAG}
containers:
  - name: kserve-container
    image: IMAGE
    env:
      - {name: NGC_API_KEY, valueFrom: {secretKeyRef: {name: nvidia-nim-secrets, key: NGC_API_KEY}}}
      - {name: NIM_CACHE_PATH, value: /mnt/models/cache}
    ports: [{containerPort: 8000, protocol: TCP}]
    volumeMounts:
      - {name: shm, mountPath: /dev/shm}
      - {name: nim-workspace, mountPath: /opt/nim/workspace}
      - {name: nim-cache, mountPath: /.cache}
      - {name: PVC, mountPath: /mnt/models/cache, subPath: SUBPATH}
volumes:
  - {name: nim-workspace, emptyDir: {}}
  - {name: nim-cache, emptyDir: {}}
  - {name: shm, emptyDir: {medium: Memory, sizeLimit: 2Gi}}
  - {name: PVC, persistentVolumeClaim: {claimName: PVC}}
"""


def _spec(*, model: str, tag: str, org: str, pvc: str, sub_path: str) -> dict[str, Any]:
    spec = yaml.safe_load(NIM_SR_SPEC)
    spec["supportedModelFormats"][0].update(name=model, version=tag)
    container = spec["containers"][0]
    container["image"] = f"nvcr.io/{org}/{model}:{tag}"
    mount = container["volumeMounts"][-1]
    mount["name"] = pvc
    if sub_path:
        mount["subPath"] = sub_path
    else:
        del mount["subPath"]
    spec["volumes"][-1] = {"name": pvc, "persistentVolumeClaim": {"claimName": pvc}}
    return dict(spec)


def wizard_runtime(
    *,
    name: str,
    namespace: str = "demo",
    model: str = "llama-3.2-1b-instruct",
    tag: str = "1.12.0",
    org: str = "nim/meta",
    pvc: str,
    sub_path: str = "",
) -> dict[str, Any]:
    """B.2 wizard example: same name as the InferenceService, template annotations."""
    return {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ServingRuntime",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"opendatahub.io/dashboard": "true"},
            "annotations": {
                "opendatahub.io/recommended-accelerators": '["nvidia.com/gpu"]',
                "openshift.io/display-name": "NVIDIA NIM",
                "runtimes.opendatahub.io/nvidia-nim": "true",
                "opendatahub.io/apiProtocol": "REST",
                "opendatahub.io/template-name": "odh-nim-account-template",
                "opendatahub.io/template-display-name": "NVIDIA NIM",
            },
        },
        "spec": _spec(model=model, tag=tag, org=org, pvc=pvc, sub_path=sub_path),
    }


def wizard_inference_service(
    *,
    name: str,
    display_name: str,
    namespace: str = "demo",
    model: str = "llama-3.2-1b-instruct",
    replicas: int = 1,
    gpu: bool = True,
) -> dict[str, Any]:
    """B.3 wizard example: enable-auth explicit, hardware-profile annotations, min = max."""
    resources = {"cpu": "4", "memory": "16Gi", **({"nvidia.com/gpu": "1"} if gpu else {})}
    predictor: dict[str, Any] = {
        "model": {
            "modelFormat": {"name": model},
            "runtime": name,
            "resources": {"requests": dict(resources), "limits": dict(resources)},
        },
        "minReplicas": replicas,
        "maxReplicas": replicas,
        "deploymentStrategy": {"type": "RollingUpdate"},
    }
    if gpu:  # what the OpenShift AI webhook injects from the profile
        predictor["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
        predictor["nodeSelector"] = {"nvidia.com/gpu.present": "true"}
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {
                "openshift.io/display-name": display_name,
                "openshift.io/description": "",
                "opendatahub.io/hardware-profile-name": "nvidia-gpu-1x" if gpu else "default-profile",
                "opendatahub.io/hardware-profile-namespace": "opendatahub",
                "opendatahub.io/hardware-profile-resource-version": "1",
                "security.opendatahub.io/enable-auth": "false",
            },
            "labels": {"opendatahub.io/dashboard": "true"},
        },
        "spec": {"predictor": predictor},
    }


def wizard_pvc(
    *, name: str, namespace: str = "demo", size: str = "20Gi", sub_path: str = ""
) -> dict[str, Any]:
    annotations = {"openshift.io/display-name": name, "dashboard.opendatahub.io/nim-pvc": "true"}
    if sub_path:
        annotations["dashboard.opendatahub.io/nim-subpath"] = sub_path
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"opendatahub.io/dashboard": "true", "opendatahub.io/managed": "true"},
            "annotations": annotations,
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": "managed-csi",
            "volumeMode": "Filesystem",
        },
    }


def legacy_runtime(*, name: str, namespace: str = "demo", pvc: str, tag: str = "1.12.0") -> dict[str, Any]:
    """B.2 legacy example: display name = runtime name, template `nvidia-nim-runtime`, no subPath."""
    runtime = wizard_runtime(name=name, namespace=namespace, pvc=pvc, tag=tag)
    runtime["metadata"]["annotations"].update(
        {"openshift.io/display-name": name, "opendatahub.io/template-name": "nvidia-nim-runtime"}
    )
    return runtime


def legacy_inference_service(*, name: str, display_name: str, namespace: str = "demo") -> dict[str, Any]:
    """B.3 legacy example: deploymentMode annotation, minReplicas only written, args/env empty."""
    resources = {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {
                "openshift.io/display-name": display_name,
                "serving.kserve.io/deploymentMode": "RawDeployment",
                "opendatahub.io/hardware-profile-name": "nvidia-gpu-1x",
                "opendatahub.io/hardware-profile-namespace": "opendatahub",
                "opendatahub.io/hardware-profile-resource-version": "1",
            },
            "labels": {"opendatahub.io/dashboard": "true"},
        },
        "spec": {
            "predictor": {
                "minReplicas": 1,
                "maxReplicas": 1,
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                "model": {
                    "modelFormat": {"name": "llama-3.2-1b-instruct"},
                    "runtime": name,
                    "args": [],
                    "env": [],
                    "resources": {"requests": dict(resources), "limits": dict(resources)},
                },
            }
        },
    }


def legacy_pvc(*, name: str, namespace: str = "demo", size: str = "30Gi") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"opendatahub.io/managed": "true"},
            "annotations": {"openshift.io/display-name": name},
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": "managed-csi",
            "volumeMode": "Filesystem",
        },
    }


def pull_secret(*, key: str, namespace: str = "demo") -> dict[str, Any]:
    """B.5's `ngc-secret` copy (legacy modal): unlabelled dockerconfigjson for nvcr.io."""
    config = {"auths": {"nvcr.io": {"username": "$oauthtoken", "password": key}}}
    encoded = base64.b64encode(json.dumps(config).encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": "ngc-secret", "namespace": namespace},
        "data": {".dockerconfigjson": encoded},
    }


def copy_of(obj: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    result = copy.deepcopy(obj)
    result["metadata"].update(metadata)
    return result
