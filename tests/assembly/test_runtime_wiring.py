"""The ServingRuntime builder's PVC, shm and env wiring beyond the golden cases (B.2 wizard steps)."""

from __future__ import annotations

import copy
from typing import Any

from assembly_world import fixture

from nim_widget.catalog import parse_template
from nim_widget.manifests.runtime import build_serving_runtime


def _runtime(template: dict[str, Any] | None = None, *, pvc: str = "llama-cache", sub_path: str = "") -> Any:
    parsed = parse_template(template=template or fixture("template.yaml")[0], namespace="my-project")
    return build_serving_runtime(
        template=parsed,
        project="my-project",
        name="llama",
        image="nvcr.io/nim/meta/llama:1.2",
        model_format="llama",
        tag="1.2",
        pvc_name=pvc,
        sub_path=sub_path,
    )


def _cache_mounts(runtime: dict[str, Any]) -> list[dict[str, Any]]:
    container = runtime["spec"]["containers"][0]
    return [m for m in container["volumeMounts"] if m["mountPath"] == "/mnt/models/cache"]


def test_pvc_name_that_is_not_a_volume_name_uses_nim_pvc() -> None:
    runtime = _runtime(pvc="cache.v1", sub_path="a/b")
    assert _cache_mounts(runtime) == [{"name": "nim-pvc", "mountPath": "/mnt/models/cache", "subPath": "a/b"}]
    assert runtime["spec"]["volumes"][-1] == {
        "name": "nim-pvc",
        "persistentVolumeClaim": {"claimName": "cache.v1"},
    }


def test_pvc_name_colliding_with_a_template_volume_uses_nim_pvc() -> None:
    runtime = _runtime(pvc="nim-cache")
    names = [v["name"] for v in runtime["spec"]["volumes"]]
    assert len(names) == len(set(names))
    assert runtime["spec"]["volumes"][-1] == {
        "name": "nim-pvc",
        "persistentVolumeClaim": {"claimName": "nim-cache"},
    }
    assert {"name": "nim-cache", "mountPath": "/.cache"} in runtime["spec"]["containers"][0]["volumeMounts"]


def test_template_placeholder_is_replaced_and_env_reappended() -> None:
    runtime = _runtime()
    volumes = runtime["spec"]["volumes"]
    assert not any(v.get("persistentVolumeClaim", {}).get("claimName") == "nim-pvc" for v in volumes)
    assert [v["name"] for v in volumes].count("shm") == 1
    container = runtime["spec"]["containers"][0]
    assert container["env"][-1] == {"name": "NIM_CACHE_PATH", "value": "/mnt/models/cache"}
    assert [e["name"] for e in container["env"]].count("NIM_CACHE_PATH") == 1
    assert "resources" not in container
    assert "creationTimestamp" not in runtime["metadata"] and "status" not in runtime


def test_older_template_with_shm_volume_and_a_sidecar() -> None:
    """The shm volume is not duplicated; other containers keep their mounts untouched, as in B.2."""
    template = copy.deepcopy(fixture("template.yaml")[0])
    spec = template["objects"][0]["spec"]
    spec["volumes"].append({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}})
    spec["containers"][0]["volumeMounts"] = [
        m for m in spec["containers"][0]["volumeMounts"] if m["name"] != "shm"
    ]
    spec["containers"].append(
        {
            "name": "sidecar",
            "image": "proxy:1",
            "resources": {"limits": {"cpu": "1"}},
            "volumeMounts": [{"name": "nim-pvc", "mountPath": "/mnt/models/cache"}],
        }
    )
    runtime = _runtime(template)
    kserve, sidecar = runtime["spec"]["containers"]
    assert [v for v in runtime["spec"]["volumes"] if v["name"] == "shm"] == [
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}
    ]
    assert {"name": "shm", "mountPath": "/dev/shm"} in kserve["volumeMounts"]
    assert "resources" not in sidecar and sidecar["image"] == "proxy:1"
    assert sidecar["volumeMounts"] == [{"name": "nim-pvc", "mountPath": "/mnt/models/cache"}]


def test_template_without_annotations_gets_no_api_protocol() -> None:
    template = copy.deepcopy(fixture("template.yaml")[0])
    del template["objects"][0]["metadata"]["annotations"]
    annotations = _runtime(template)["metadata"]["annotations"]
    assert annotations == {
        "openshift.io/display-name": "nvidia-nim-runtime",
        "opendatahub.io/template-name": "odh-nim-account-template",
        "opendatahub.io/template-display-name": "nvidia-nim-runtime",
    }
