"""Finalizers, deletionTimestamp, ownerReference garbage collection and namespace deletion."""

from __future__ import annotations

from typing import Any

from sandbox_objects import SERVING, config_map, inference_service

CM = "/api/v1/namespaces/demo/configmaps"
MERGE = "application/merge-patch+json"


def _with_finalizer(name: str = "guarded") -> dict[str, Any]:
    body = config_map(name)
    body["metadata"]["finalizers"] = ["example.com/keep"]
    return body


def test_delete_with_a_finalizer_only_marks_the_object(raw: Any) -> None:
    raw.post(CM, _with_finalizer())
    resp = raw.delete(CM + "/guarded")
    assert resp.status == 200
    assert resp.json["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:00Z"
    still = raw.get(CM + "/guarded")
    assert still.status == 200 and still.json["metadata"]["finalizers"] == ["example.com/keep"]


def test_removing_the_last_finalizer_completes_the_deletion(raw: Any) -> None:
    raw.post(CM, _with_finalizer())
    raw.delete(CM + "/guarded")
    resp = raw.patch(CM + "/guarded", {"metadata": {"finalizers": None}}, content_type=MERGE)
    assert resp.status == 200
    assert raw.get(CM + "/guarded").status == 404


def test_no_new_finalizers_while_deleting(raw: Any) -> None:
    raw.post(CM, _with_finalizer())
    raw.delete(CM + "/guarded")
    resp = raw.patch(
        CM + "/guarded",
        {"metadata": {"finalizers": ["example.com/keep", "example.com/more"]}},
        content_type=MERGE,
    )
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"] == (
        'ConfigMap "guarded" is invalid: metadata.finalizers: Forbidden: no new finalizers '
        "can be added if the object is being deleted, found new finalizers "
        '[]string{"example.com/more"}'
    )


def test_core_finalizer_names_must_be_qualified(raw: Any) -> None:
    body = config_map()
    body["metadata"]["finalizers"] = ["keep"]
    resp = raw.post(CM, body)
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"] == (
        'ConfigMap "settings" is invalid: metadata.finalizers: Invalid value: "keep": name '
        "is neither a standard finalizer name nor is it fully qualified"
    )


def _owned_config_map(owner: dict[str, Any], name: str = "owned") -> dict[str, Any]:
    body = config_map(name)
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": owner["apiVersion"],
            "kind": owner["kind"],
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    return body


def test_dependents_are_garbage_collected_with_their_owner(custom_objects: Any, raw: Any) -> None:
    owner = custom_objects.create_namespaced_custom_object(
        SERVING, "v1beta1", "demo", "inferenceservices", inference_service()
    )
    assert raw.post(CM, _owned_config_map(owner)).status == 201
    custom_objects.delete_namespaced_custom_object(SERVING, "v1beta1", "demo", "inferenceservices", "llama")
    assert raw.get(CM + "/owned").status == 404


def test_orphan_propagation_keeps_dependents_without_the_reference(custom_objects: Any, raw: Any) -> None:
    owner = custom_objects.create_namespaced_custom_object(
        SERVING, "v1beta1", "demo", "inferenceservices", inference_service()
    )
    raw.post(CM, _owned_config_map(owner))
    custom_objects.delete_namespaced_custom_object(
        SERVING, "v1beta1", "demo", "inferenceservices", "llama", propagation_policy="Orphan"
    )
    orphan = raw.get(CM + "/owned")
    assert orphan.status == 200
    assert "ownerReferences" not in orphan.json["metadata"]


def test_foreground_deletion_answers_with_the_marked_owner(custom_objects: Any, raw: Any) -> None:
    owner = custom_objects.create_namespaced_custom_object(
        SERVING, "v1beta1", "demo", "inferenceservices", inference_service()
    )
    raw.post(CM, _owned_config_map(owner))
    resp = raw.delete(
        "/apis/serving.kserve.io/v1beta1/namespaces/demo/inferenceservices/llama",
        {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"},
    )
    assert resp.status == 200
    assert resp.json["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert raw.get(CM + "/owned").status == 404
    assert raw.get("/apis/serving.kserve.io/v1beta1/namespaces/demo/inferenceservices/llama").status == 404


def test_deleting_a_namespace_terminates_it_and_its_contents(raw: Any) -> None:
    raw.post("/api/v1/namespaces", {"metadata": {"name": "scratch"}})
    raw.post("/api/v1/namespaces/scratch/configmaps", config_map())
    resp = raw.delete("/api/v1/namespaces/scratch")
    assert resp.status == 200
    assert resp.json["status"]["phase"] == "Terminating"
    assert raw.get("/api/v1/namespaces/scratch/configmaps/settings").status == 404
    assert raw.get("/api/v1/namespaces/scratch").status == 404


def test_creating_in_a_terminating_namespace_is_forbidden(raw: Any) -> None:
    raw.post("/api/v1/namespaces", {"metadata": {"name": "scratch"}})
    raw.post("/api/v1/namespaces/scratch/configmaps", _with_finalizer())  # keeps the namespace terminating
    raw.delete("/api/v1/namespaces/scratch")
    resp = raw.post("/api/v1/namespaces/scratch/configmaps", config_map("late"))
    assert (resp.status, resp.json["reason"]) == (403, "Forbidden")
    assert resp.json["message"] == (
        'configmaps "late" is forbidden: unable to create new content in namespace '
        "scratch because it is being terminated"
    )
