"""Small, valid manifests the sandbox tests create (the demo world supplies the rest)."""

from __future__ import annotations

from typing import Any

SERVING = "serving.kserve.io"
IMAGE = "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.8.3"


def config_map(name: str = "settings", *, namespace: str | None = None, **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"key": "value"}}


def serving_runtime(name: str = "llama-rt") -> dict[str, Any]:
    return {
        "apiVersion": f"{SERVING}/v1alpha1",
        "kind": "ServingRuntime",
        "metadata": {"name": name, "labels": {"opendatahub.io/dashboard": "true"}},
        "spec": {
            "containers": [{"name": "kserve-container", "image": IMAGE}],
            "supportedModelFormats": [{"name": "llama-3.1-8b-instruct", "autoSelect": True}],
        },
    }


def inference_service(name: str = "llama", *, runtime: str = "llama-rt") -> dict[str, Any]:
    return {
        "apiVersion": f"{SERVING}/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": name, "labels": {"opendatahub.io/dashboard": "true"}},
        "spec": {
            "predictor": {
                "model": {
                    "modelFormat": {"name": "llama-3.1-8b-instruct"},
                    "runtime": runtime,
                    "resources": {
                        "limits": {"cpu": "2", "memory": "8Gi"},
                        "requests": {"cpu": "1", "memory": "4Gi"},
                    },
                }
            }
        },
    }


def pvc(name: str = "cache", *, size: str = "10Gi", storage_class: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}
