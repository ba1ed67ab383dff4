"""Update planning: what is replaced or patched, what the PUT bodies keep, what is created or reused."""

from __future__ import annotations

from typing import Any

import pytest
from assembly_world import fixture, world

from nim_widget.manifests import AssemblyError, Plan, assemble
from nim_widget.request import DeploymentRequest, load_spec

SPEC = """
project: my-project
displayName: Arctic embeddings
name: arctic
model: arctic-embed-l
tag: "1.0.1"
storage: {mode: existing, pvcName: arctic-cache}
hardwareProfile: nvidia-gpu-small
replicas: 2
env: [{name: NIM_LOG_LEVEL, value: INFO}]
"""


def _live(kind: str) -> dict[str, Any]:
    return next(o for o in fixture("existing.yaml") if o["kind"] == kind)


def _plan(spec: str = SPEC, *, overwrite: bool = False, **changes: Any) -> Plan:
    request = load_spec(text=spec)
    if changes:
        request = DeploymentRequest.model_validate({**request.model_dump(), **changes})
    facts = world(with_existing=True, project_secrets=("nvidia-nim-secrets", "ngc-secret"))
    return assemble(request=request, facts=facts, update=True, overwrite=overwrite)


def test_update_replaces_runtime_and_service_with_the_live_resource_version() -> None:
    plan = _plan()
    runtime, service = plan.object("runtime"), plan.object("inference_service")
    assert runtime is not None and service is not None
    assert (runtime.operation, service.operation) == ("replace", "replace")
    assert runtime.existing == _live("ServingRuntime")
    assert service.existing == _live("InferenceService")
    assert runtime.manifest["metadata"]["resourceVersion"] == "610001"
    assert service.manifest["metadata"]["resourceVersion"] == "610002"
    assert plan.update and [o.operation for o in plan.reused] == ["reuse", "reuse", "reuse"]


def test_overwrite_plans_patches_from_the_live_objects() -> None:
    plan = _plan(overwrite=True)
    for role in ("runtime", "inference_service"):
        item = plan.object(role)
        assert item is not None and item.operation == "patch" and item.existing is not None


def test_service_update_keeps_what_others_set_and_drops_server_fields() -> None:
    service = _plan().object("inference_service")
    assert service is not None
    body = service.manifest
    assert "status" not in body and "managedFields" not in body["metadata"]
    assert body["metadata"]["annotations"]["serving.kserve.io/stop"] == "false"
    assert body["metadata"]["labels"]["networking.kserve.io/visibility"] == "exposed"
    assert body["metadata"]["finalizers"] == ["inferenceservice.finalizers"]
    predictor = body["spec"]["predictor"]
    assert predictor["model"]["args"] == ["--log-level=debug"]
    assert predictor["minReplicas"] == predictor["maxReplicas"] == 2
    assert predictor["model"]["env"] == [{"name": "NIM_LOG_LEVEL", "value": "INFO"}]
    assert predictor["model"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert predictor["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    annotations = body["metadata"]["annotations"]
    assert annotations["opendatahub.io/hardware-profile-name"] == "nvidia-gpu-small"
    assert annotations["opendatahub.io/hardware-profile-resource-version"] == "1309350"


def test_dropping_the_profile_and_env_removes_what_they_wrote() -> None:
    spec = SPEC.replace("hardwareProfile: nvidia-gpu-small\n", "").replace(
        "env: [{name: NIM_LOG_LEVEL, value: INFO}]\n", ""
    )
    service = _plan(spec).object("inference_service")
    assert service is not None
    annotations = service.manifest["metadata"]["annotations"]
    assert not any(k.startswith("opendatahub.io/hardware-profile-") for k in annotations)
    predictor = service.manifest["spec"]["predictor"]
    assert "resources" not in predictor["model"] and "env" not in predictor["model"]
    assert "tolerations" not in predictor and "nodeSelector" not in predictor


def test_runtime_update_is_rebuilt_from_the_template_but_keeps_live_metadata() -> None:
    runtime = _plan().object("runtime")
    assert runtime is not None
    body = runtime.manifest
    assert body["metadata"]["uid"] == "6a7b8c9d-2222-4ccc-8ddd-000000000001"
    assert "managedFields" not in body["metadata"]
    container = body["spec"]["containers"][0]
    assert container["image"] == "nvcr.io/nim/snowflake/arctic-embed-l:1.0.1"
    assert body["spec"]["supportedModelFormats"][0]["version"] == "1.0.1"
    assert {"name": "arctic-cache", "mountPath": "/mnt/models/cache"} in container["volumeMounts"]


def test_growing_storage_replaces_the_pvc_with_the_force_redeploy_annotation() -> None:
    spec = SPEC.replace("pvcName: arctic-cache}", "pvcName: arctic-cache, size: 100Gi}")
    pvc = _plan(spec).object("pvc")
    assert pvc is not None and pvc.operation == "replace"
    assert pvc.manifest["spec"]["resources"]["requests"]["storage"] == "100Gi"
    assert pvc.manifest["metadata"]["annotations"]["runtimes.opendatahub.io/force-redeploy"] == (
        "2026-08-22T10:00:00.000Z"
    )
    assert pvc.manifest["metadata"]["resourceVersion"] == "500300"
    assert "status" not in pvc.manifest


def test_same_size_reuses_the_pvc() -> None:
    spec = SPEC.replace("pvcName: arctic-cache}", "pvcName: arctic-cache, size: 50Gi}")
    pvc = _plan(spec).object("pvc")
    assert pvc is not None and pvc.operation == "reuse"


def test_update_of_a_missing_deployment_is_refused() -> None:
    request = load_spec(text=SPEC)
    with pytest.raises(AssemblyError) as caught:
        assemble(request=request, facts=world(), update=True)
    assert [e.field for e in caught.value.errors] == ["name"]
    assert 'no model deployment named "arctic"' in str(caught.value)


def test_overwrite_without_update_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="overwrite"):
        assemble(request=load_spec(text=SPEC), facts=world(), overwrite=True)


def test_rerunning_a_new_storage_spec_never_shrinks_a_grown_pvc() -> None:
    spec = SPEC.replace(
        "{mode: existing, pvcName: arctic-cache}", "{mode: new, pvcName: arctic-cache, size: 20Gi}"
    )
    pvc = _plan(spec).object("pvc")
    assert pvc is not None and pvc.operation == "reuse"
    grow = _plan(spec.replace("20Gi", "60Gi")).object("pvc")
    assert grow is not None and grow.operation == "replace"


@pytest.mark.parametrize("overwrite", [False, True], ids=["replace", "patch"])
def test_custom_resources_replace_the_profile_and_keep_only_what_was_typed(overwrite: bool) -> None:
    spec = SPEC.replace(
        "hardwareProfile: nvidia-gpu-small\n",
        "resources: {requests: {cpu: 500m, memory: 6Gi}, limits: {memory: 12Gi}}\n",
    )
    service = _plan(spec, overwrite=overwrite).object("inference_service")
    assert service is not None and service.existing is not None
    live_annotations = service.existing["metadata"]["annotations"]
    assert live_annotations["opendatahub.io/hardware-profile-name"] == "default-profile"
    annotations = service.manifest["metadata"]["annotations"]
    assert not any(k.startswith("opendatahub.io/hardware-profile-") for k in annotations)
    assert annotations["serving.kserve.io/stop"] == "false"
    predictor = service.manifest["spec"]["predictor"]
    # The live {cpu: "2", memory: 8Gi} in both halves is replaced, not merged: no cpu limit remains.
    assert predictor["model"]["resources"] == {
        "requests": {"cpu": "500m", "memory": "6Gi"},
        "limits": {"memory": "12Gi"},
    }
    assert "tolerations" not in predictor and "nodeSelector" not in predictor
    assert service.summary.endswith("hardware profile none, custom resources")


@pytest.mark.parametrize("live", ["true", "false"])
def test_update_keeps_the_live_token_auth_setting(live: str) -> None:
    from nim_widget.manifests.inference_service import ENABLE_AUTH, inference_service_for_update

    existing = _live("InferenceService")
    existing["metadata"]["annotations"][ENABLE_AUTH] = live
    desired = _plan().object("inference_service")
    assert desired is not None
    body = inference_service_for_update(existing=existing, desired=desired.manifest)
    assert body["metadata"]["annotations"][ENABLE_AUTH] == live
    assert existing["metadata"]["annotations"][ENABLE_AUTH] == live  # input untouched
