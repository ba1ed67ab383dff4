"""PATCH, chosen strictly by Content-Type: JSON patch, merge patch, strategic merge, server-side apply."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from sandbox_objects import IMAGE, SERVING, config_map, inference_service, serving_runtime

ISVC = (SERVING, "v1beta1", "demo", "inferenceservices")
SR = (SERVING, "v1alpha1", "demo", "servingruntimes")
JSON_PATCH = "application/json-patch+json"
MERGE = "application/merge-patch+json"
SMP = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
CM_URL = "/api/v1/namespaces/demo/configmaps/settings"


@pytest.fixture
def isvc(custom_objects: Any) -> dict[str, Any]:
    return dict(custom_objects.create_namespaced_custom_object(*ISVC, inference_service()))


@pytest.fixture
def settings(core_v1: Any) -> Any:
    return core_v1.create_namespaced_config_map("demo", config_map(key="value", other="x"))


def test_json_patch_applies_operations(custom_objects: Any, isvc: Any) -> None:
    patched = custom_objects.patch_namespaced_custom_object(
        *ISVC,
        "llama",
        [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}],
        _content_type=JSON_PATCH,
    )
    assert patched["metadata"]["annotations"] == {"a": "b"}


def test_json_patch_with_a_non_list_body_is_bad_request(raw: Any, settings: Any) -> None:
    resp = raw.patch(CM_URL, {"op": "add"}, content_type=JSON_PATCH)
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert resp.json["message"] == "json: cannot unmarshal object into Go value of type jsonpatch.Patch"


def test_json_patch_failed_test_operation_is_invalid(custom_objects: Any, isvc: Any, status_of: Any) -> None:
    with pytest.raises(client.ApiException) as err:
        custom_objects.patch_namespaced_custom_object(
            *ISVC,
            "llama",
            [{"op": "test", "path": "/metadata/resourceVersion", "value": "1"}],
            _content_type=JSON_PATCH,
        )
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (422, "Invalid")
    assert status["message"] == "the server rejected our request due to an error in our request"


def test_json_patch_on_a_missing_path_is_invalid(raw: Any, settings: Any) -> None:
    resp = raw.patch(
        CM_URL, [{"op": "replace", "path": "/spec/nothing", "value": 1}], content_type=JSON_PATCH
    )
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")


def test_json_patch_sent_as_merge_patch_is_rejected(custom_objects: Any, isvc: Any, status_of: Any) -> None:
    """The official client's custom-object default header with a list body fails as on a cluster."""
    with pytest.raises(client.ApiException) as err:
        custom_objects.patch_namespaced_custom_object(
            *ISVC, "llama", [{"op": "add", "path": "/metadata/labels/x", "value": "y"}]
        )
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (422, "Invalid")
    assert status["message"].startswith(' "" is invalid: patch: Invalid value: "[{')
    assert "cannot unmarshal array into Go value" in status["message"]


def test_merge_patch_merges_and_null_deletes(core_v1: Any, raw: Any, settings: Any) -> None:
    resp = raw.patch(CM_URL, {"data": {"other": None, "added": "1"}}, content_type=MERGE)
    assert resp.status == 200
    assert resp.json["data"] == {"key": "value", "added": "1"}


def test_merge_patch_replaces_lists(custom_objects: Any) -> None:
    custom_objects.create_namespaced_custom_object(*SR, serving_runtime())
    patched = custom_objects.patch_namespaced_custom_object(
        *SR, "llama-rt", {"spec": {"containers": [{"name": "other", "image": IMAGE}]}}
    )
    assert [c["name"] for c in patched["spec"]["containers"]] == ["other"]


def test_merge_patch_with_a_stale_resource_version_is_conflict(raw: Any, settings: Any) -> None:
    resp = raw.patch(CM_URL, {"metadata": {"resourceVersion": "1"}, "data": {"a": "b"}}, content_type=MERGE)
    assert (resp.status, resp.json["reason"]) == (409, "Conflict")
    assert resp.json["message"].endswith(
        "the object has been modified; please apply your changes to the latest version and try again"
    )


def test_strategic_merge_patch_merges_containers_and_env_by_name(core_v1: Any) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {"name": "a", "image": "img:1", "env": [{"name": "X", "value": "1"}]},
                {"name": "b", "image": "img:2"},
            ]
        },
    }
    core_v1.create_namespaced_pod("demo", pod)
    patched = core_v1.patch_namespaced_pod(
        "p", "demo", {"spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "2"}]}]}}
    )
    containers = {c.name: c for c in patched.spec.containers}
    assert set(containers) == {"a", "b"}
    assert [(e.name, e.value) for e in containers["a"].env] == [("X", "1"), ("Y", "2")]
    assert containers["a"].image == "img:1"


def test_strategic_merge_patch_delete_directive_removes_a_list_item(core_v1: Any) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a", "image": "img:1"}, {"name": "b", "image": "img:2"}]},
    }
    core_v1.create_namespaced_pod("demo", pod)
    patched = core_v1.patch_namespaced_pod(
        "p", "demo", {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}
    )
    assert [c.name for c in patched.spec.containers] == ["a"]


def test_strategic_merge_patch_on_a_custom_resource_is_415(
    custom_objects: Any, isvc: Any, status_of: Any
) -> None:
    with pytest.raises(client.ApiException) as err:
        custom_objects.patch_namespaced_custom_object(
            *ISVC, "llama", {"metadata": {"labels": {"a": "b"}}}, _content_type=SMP
        )
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (415, "UnsupportedMediaType")
    assert status["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml"
    )


def test_unknown_patch_content_type_is_415_listing_the_core_types(raw: Any, settings: Any) -> None:
    resp = raw.patch(CM_URL, {"data": {}}, content_type="application/json")
    assert (resp.status, resp.json["reason"]) == (415, "UnsupportedMediaType")
    assert resp.json["message"].endswith(
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml"
    )


def test_apply_without_field_manager_is_invalid(custom_objects: Any, isvc: Any, status_of: Any) -> None:
    with pytest.raises(client.ApiException) as err:
        custom_objects.patch_namespaced_custom_object(
            *ISVC, "llama", inference_service(), _content_type=APPLY
        )
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (422, "Invalid")
    assert status["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "field": "fieldManager",
            "message": "Required value: is required for apply patch",
        }
    ]


def test_apply_creates_a_missing_object_with_201(raw: Any) -> None:
    resp = raw.patch(CM_URL + "?fieldManager=nim-widget", config_map(), content_type=APPLY)
    assert resp.status == 201
    assert resp.json["data"] == {"key": "value"}


def test_apply_merges_into_an_existing_object(custom_objects: Any, isvc: Any) -> None:
    body = inference_service()
    body["metadata"]["annotations"] = {"serving.kserve.io/deploymentMode": "RawDeployment"}
    applied = custom_objects.patch_namespaced_custom_object(
        *ISVC, "llama", body, field_manager="nim-widget", force=True, _content_type=APPLY
    )
    assert applied["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "RawDeployment"}
    assert applied["metadata"]["labels"] == {"opendatahub.io/dashboard": "true"}


def test_apply_drops_fields_the_manager_stopped_applying(raw: Any) -> None:
    url = CM_URL + "?fieldManager=nim-widget"
    raw.patch(url, config_map(a="1", b="2"), content_type=APPLY)
    resp = raw.patch(url, config_map(a="1"), content_type=APPLY)
    assert resp.status == 200
    assert resp.json["data"] == {"a": "1"}


def test_apply_yaml_body(raw: Any) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: v\n"
    resp = raw.patch(CM_URL + "?fieldManager=nim-widget", text, content_type=APPLY)
    assert (resp.status, resp.json["data"]) == (201, {"k": "v"})


def test_apply_with_the_wrong_version_is_bad_request(raw: Any) -> None:
    body = inference_service()
    body["apiVersion"] = f"{SERVING}/v1alpha1"
    resp = raw.patch(
        "/apis/serving.kserve.io/v1beta1/namespaces/demo/inferenceservices/llama?fieldManager=x",
        body,
        content_type=APPLY,
    )
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert resp.json["message"] == (
        "Incorrect version specified in apply patch. Specified patch version: "
        "serving.kserve.io/v1alpha1, expected: serving.kserve.io/v1beta1"
    )


def test_force_on_a_non_apply_patch_is_invalid(raw: Any, settings: Any) -> None:
    resp = raw.patch(CM_URL + "?force=true", {"data": {}}, content_type=MERGE)
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch'
    )


def test_patch_of_a_missing_object_is_not_found(raw: Any) -> None:
    resp = raw.patch(CM_URL, {"data": {}}, content_type=MERGE)
    assert (resp.status, resp.json["message"]) == (404, 'configmaps "settings" not found')


def test_patch_changing_the_name_is_bad_request(raw: Any, settings: Any) -> None:
    resp = raw.patch(CM_URL, {"metadata": {"name": "renamed"}}, content_type=MERGE)
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert (
        resp.json["message"]
        == "the name of the object (renamed) does not match the name on the URL (settings)"
    )
