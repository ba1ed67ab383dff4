"""Create, get, list, replace and delete, with the codes and Status bodies a real server sends."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from sandbox_objects import SERVING, config_map, inference_service, serving_runtime

ISVC = (SERVING, "v1beta1", "demo", "inferenceservices")


def test_create_returns_201_with_server_set_metadata(raw: Any) -> None:
    resp = raw.post("/api/v1/namespaces/demo/configmaps", config_map())
    assert (resp.status, resp.reason) == (201, "Created")
    meta = resp.json["metadata"]
    assert meta["namespace"] == "demo"
    assert len(meta["uid"]) == 36
    assert meta["resourceVersion"].isdigit()
    assert meta["creationTimestamp"] == "2026-01-01T00:00:00Z"  # the FakeClock's start
    assert "generation" not in meta  # ConfigMaps carry no generation


def test_custom_resource_create_through_the_client_returns_the_object(
    custom_objects: Any,
) -> None:
    created = custom_objects.create_namespaced_custom_object(*ISVC, inference_service())
    assert created["kind"] == "InferenceService"
    assert created["metadata"]["generation"] == 1
    assert "status" not in created or created["status"] == {}


def test_resource_version_is_one_counter_for_the_whole_cluster(core_v1: Any, custom_objects: Any) -> None:
    first = core_v1.create_namespaced_config_map("demo", config_map("one"))
    second = custom_objects.create_namespaced_custom_object(
        SERVING, "v1alpha1", "demo", "servingruntimes", serving_runtime()
    )
    third = core_v1.create_namespaced_config_map("demo", config_map("two"))
    rvs = [
        int(first.metadata.resource_version),
        int(second["metadata"]["resourceVersion"]),
        int(third.metadata.resource_version),
    ]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3


def test_get_missing_core_object_is_not_found(core_v1: Any, status_of: Any) -> None:
    with pytest.raises(client.ApiException) as err:
        core_v1.read_namespaced_config_map("missing", "demo")
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (404, "NotFound")
    assert status["message"] == 'configmaps "missing" not found'
    assert status["details"] == {"name": "missing", "kind": "configmaps"}


def test_get_missing_custom_object_names_the_group(custom_objects: Any, status_of: Any) -> None:
    with pytest.raises(client.ApiException) as err:
        custom_objects.get_namespaced_custom_object(*ISVC, "x")
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (404, "NotFound")
    assert status["message"] == 'inferenceservices.serving.kserve.io "x" not found'
    assert status["details"] == {"name": "x", "group": "serving.kserve.io", "kind": "inferenceservices"}


def test_create_twice_is_already_exists(core_v1: Any, status_of: Any) -> None:
    core_v1.create_namespaced_config_map("demo", config_map())
    with pytest.raises(client.ApiException) as err:
        core_v1.create_namespaced_config_map("demo", config_map())
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (409, "AlreadyExists")
    assert status["message"] == 'configmaps "settings" already exists'


def test_create_in_a_missing_namespace_is_namespace_not_found(core_v1: Any, status_of: Any) -> None:
    with pytest.raises(client.ApiException) as err:
        core_v1.create_namespaced_config_map("nowhere", config_map())
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (404, "NotFound")
    assert status["message"] == 'namespaces "nowhere" not found'
    assert status["details"] == {"name": "nowhere", "kind": "namespaces"}


def test_create_with_contradicting_namespace_is_bad_request(raw: Any) -> None:
    resp = raw.post("/api/v1/namespaces/demo/configmaps", config_map(namespace="opendatahub"))
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert resp.json["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


def test_create_with_generate_name_gets_a_suffix(raw: Any) -> None:
    body = config_map()
    body["metadata"] = {"generateName": "cache-"}
    resp = raw.post("/api/v1/namespaces/demo/configmaps", body)
    assert resp.status == 201
    name = resp.json["metadata"]["name"]
    assert name.startswith("cache-") and len(name) == len("cache-") + 5


def test_create_without_name_is_invalid(raw: Any) -> None:
    body = config_map()
    body["metadata"] = {}
    resp = raw.post("/api/v1/namespaces/demo/configmaps", body)
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert (
        resp.json["message"]
        == 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    )


def test_create_with_resource_version_is_an_internal_error(raw: Any) -> None:
    body = config_map()
    body["metadata"]["resourceVersion"] = "5"
    resp = raw.post("/api/v1/namespaces/demo/configmaps", body)
    assert (resp.status, resp.json["reason"]) == (500, "InternalError")
    assert (
        resp.json["message"]
        == "Internal error occurred: resourceVersion should not be set on objects to be created"
    )


def test_create_with_an_unsupported_content_type_is_415(raw: Any) -> None:
    resp = raw.post("/api/v1/namespaces/demo/configmaps", "a=b", content_type="text/plain")
    assert (resp.status, resp.json["reason"]) == (415, "UnsupportedMediaType")
    assert resp.json["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml, application/vnd.kubernetes.protobuf"
    )


def test_create_accepts_yaml(raw: Any) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: b\n"
    resp = raw.post("/api/v1/namespaces/demo/configmaps", text, content_type="application/yaml")
    assert resp.status == 201
    assert resp.json["data"] == {"a": "b"}


def test_post_to_a_named_url_is_method_not_allowed(raw: Any) -> None:
    resp = raw.post("/api/v1/namespaces/demo/configmaps/x", config_map("x"))
    assert (resp.status, resp.json["reason"]) == (405, "MethodNotAllowed")
    assert resp.json["message"] == "the server does not allow this method on the requested resource"


def test_list_carries_kind_items_and_resource_version(core_v1: Any, raw: Any) -> None:
    core_v1.create_namespaced_config_map("demo", config_map("b"))
    core_v1.create_namespaced_config_map("demo", config_map("a"))
    resp = raw.get("/api/v1/namespaces/demo/configmaps")
    assert resp.json["kind"] == "ConfigMapList"
    names = [i["metadata"]["name"] for i in resp.json["items"]]
    assert names == sorted(names) and {"a", "b"} <= set(names)
    assert int(resp.json["metadata"]["resourceVersion"]) >= max(
        int(i["metadata"]["resourceVersion"]) for i in resp.json["items"]
    )


def test_list_across_namespaces(raw: Any) -> None:
    items = raw.get("/apis/infrastructure.opendatahub.io/v1/hardwareprofiles").json["items"]
    assert {i["metadata"]["namespace"] for i in items} >= {"opendatahub"}


def test_list_pages_with_limit_and_continue(core_v1: Any) -> None:
    for i in range(5):
        core_v1.create_namespaced_config_map("demo", config_map(f"page-{i}"))
    first = core_v1.list_namespaced_config_map("demo", limit=3, label_selector="")
    assert len(first.items) == 3 and first.metadata._continue
    rest = core_v1.list_namespaced_config_map("demo", limit=100, _continue=first.metadata._continue)
    names = [i.metadata.name for i in first.items + rest.items]
    assert names == sorted(names) and {f"page-{i}" for i in range(5)} <= set(names)


def test_replace_updates_and_bumps_the_resource_version(core_v1: Any) -> None:
    created = core_v1.create_namespaced_config_map("demo", config_map())
    created.data = {"key": "new"}
    replaced = core_v1.replace_namespaced_config_map("settings", "demo", created)
    assert replaced.data == {"key": "new"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert replaced.metadata.uid == created.metadata.uid


def test_replace_with_a_stale_resource_version_is_conflict(core_v1: Any, status_of: Any) -> None:
    created = core_v1.create_namespaced_config_map("demo", config_map())
    created.data = {"key": "first"}
    core_v1.replace_namespaced_config_map("settings", "demo", created)
    created.data = {"key": "second"}
    with pytest.raises(client.ApiException) as err:
        core_v1.replace_namespaced_config_map("settings", "demo", created)  # still carries the old rv
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (409, "Conflict")
    assert status["message"] == (
        'Operation cannot be fulfilled on configmaps "settings": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )


def test_replace_of_a_custom_resource_needs_a_resource_version(custom_objects: Any, status_of: Any) -> None:
    created = custom_objects.create_namespaced_custom_object(*ISVC, inference_service())
    del created["metadata"]["resourceVersion"]
    with pytest.raises(client.ApiException) as err:
        custom_objects.replace_namespaced_custom_object(*ISVC, "llama", created)
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (422, "Invalid")
    assert status["message"] == (
        'inferenceservices.serving.kserve.io "llama" is invalid: metadata.resourceVersion: '
        "Invalid value: 0x0: must be specified for an update"
    )


def test_replace_with_a_different_name_in_the_body_is_bad_request(raw: Any, core_v1: Any) -> None:
    core_v1.create_namespaced_config_map("demo", config_map())
    resp = raw.put("/api/v1/namespaces/demo/configmaps/settings", config_map("other"))
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert (
        resp.json["message"] == "the name of the object (other) does not match the name on the URL (settings)"
    )


def test_replace_with_a_different_namespace_in_the_body_is_bad_request(raw: Any, core_v1: Any) -> None:
    core_v1.create_namespaced_config_map("demo", config_map())
    resp = raw.put("/api/v1/namespaces/demo/configmaps/settings", config_map(namespace="opendatahub"))
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert resp.json["message"] == (
        "the namespace of the object (opendatahub) does not match the namespace on the URL (demo)"
    )


def test_replace_of_a_missing_object_is_not_found(raw: Any) -> None:
    resp = raw.put("/api/v1/namespaces/demo/configmaps/ghost", config_map("ghost"))
    assert (resp.status, resp.json["message"]) == (404, 'configmaps "ghost" not found')


def test_spec_change_bumps_generation_and_metadata_change_does_not(
    custom_objects: Any,
) -> None:
    custom_objects.create_namespaced_custom_object(*ISVC, inference_service())
    labelled = custom_objects.patch_namespaced_custom_object(
        *ISVC, "llama", {"metadata": {"labels": {"a": "b"}}}
    )
    assert labelled["metadata"]["generation"] == 1
    changed = custom_objects.patch_namespaced_custom_object(
        *ISVC, "llama", {"spec": {"predictor": {"minReplicas": 2}}}
    )
    assert changed["metadata"]["generation"] == 2


def test_status_changes_through_the_main_resource_are_ignored(
    custom_objects: Any,
) -> None:
    custom_objects.create_namespaced_custom_object(*ISVC, inference_service())
    patched = custom_objects.patch_namespaced_custom_object(*ISVC, "llama", {"status": {"url": "http://x"}})
    assert (patched.get("status") or {}).get("url") != "http://x"


def test_status_subresource_writes_only_status(custom_objects: Any) -> None:
    account = custom_objects.patch_namespaced_custom_object_status(
        "nim.opendatahub.io",
        "v1",
        "demo",
        "accounts",
        "odh-nim-account",
        {"status": {"lastAccountCheck": "2026-01-01T00:00:00Z"}, "spec": {"validationRefreshRate": "1h"}},
    )
    assert account["status"]["lastAccountCheck"] == "2026-01-01T00:00:00Z"
    assert account["spec"].get("validationRefreshRate") != "1h"


def test_delete_returns_200_with_the_object(core_v1: Any, raw: Any) -> None:
    core_v1.create_namespaced_config_map("demo", config_map())
    resp = raw.delete("/api/v1/namespaces/demo/configmaps/settings")
    assert (resp.status, resp.json["kind"], resp.json["metadata"]["name"]) == (200, "ConfigMap", "settings")
    assert raw.get("/api/v1/namespaces/demo/configmaps/settings").status == 404


def test_delete_of_a_missing_custom_object_is_not_found(custom_objects: Any, status_of: Any) -> None:
    with pytest.raises(client.ApiException) as err:
        custom_objects.delete_namespaced_custom_object(*ISVC, "ghost")
    assert status_of(err.value)["message"] == 'inferenceservices.serving.kserve.io "ghost" not found'


def test_delete_with_a_stale_uid_precondition_is_conflict(core_v1: Any, status_of: Any) -> None:
    core_v1.create_namespaced_config_map("demo", config_map())
    with pytest.raises(client.ApiException) as err:
        core_v1.delete_namespaced_config_map(
            "settings",
            "demo",
            body=client.V1DeleteOptions(
                preconditions=client.V1Preconditions(uid="00000000-0000-0000-0000-000000000000")
            ),
        )
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (409, "Conflict")
    assert status["message"].startswith(
        'Operation cannot be fulfilled on configmaps "settings": StorageError: invalid '
        "object, Code: 4, Key: /registry/configmaps/demo/settings"
    )
    assert (
        "Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000" in status["message"]
    )


def test_delete_collection_removes_the_selected_objects(core_v1: Any) -> None:
    core_v1.create_namespaced_config_map(
        "demo", {**config_map("x1"), "metadata": {"name": "x1", "labels": {"t": "1"}}}
    )
    core_v1.create_namespaced_config_map("demo", config_map("keep"))
    core_v1.delete_collection_namespaced_config_map("demo", label_selector="t=1")
    names = {c.metadata.name for c in core_v1.list_namespaced_config_map("demo").items}
    assert "x1" not in names and "keep" in names


def test_cluster_scoped_objects_have_no_namespace(raw: Any) -> None:
    resp = raw.post(
        "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
    )
    assert resp.status == 201
    assert "namespace" not in resp.json["metadata"]
    assert resp.json["status"] == {"phase": "Active"}
    assert resp.json["metadata"]["labels"]["kubernetes.io/metadata.name"] == "team-a"
