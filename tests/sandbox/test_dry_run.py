"""``dryRun=All`` validates and answers like the real write, and stores nothing."""

from __future__ import annotations

from typing import Any

from sandbox_objects import config_map, inference_service

CM = "/api/v1/namespaces/demo/configmaps"


def test_dry_run_create_answers_201_and_stores_nothing(raw: Any, sandbox: Any) -> None:
    before = sandbox.store.resource_version
    resp = raw.post(CM + "?dryRun=All", config_map())
    assert resp.status == 201
    assert resp.json["metadata"]["uid"]
    assert "resourceVersion" not in resp.json["metadata"]
    assert raw.get(CM + "/settings").status == 404
    assert sandbox.store.resource_version == before


def test_dry_run_create_still_validates(custom_objects: Any, raw: Any) -> None:
    resp = raw.post(
        "/apis/serving.kserve.io/v1beta1/namespaces/demo/inferenceservices?dryRun=All",
        inference_service("Not_Valid"),
    )
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")


def test_dry_run_create_of_an_existing_object_is_already_exists(raw: Any) -> None:
    raw.post(CM, config_map())
    resp = raw.post(CM + "?dryRun=All", config_map())
    assert (resp.status, resp.json["reason"]) == (409, "AlreadyExists")


def test_dry_run_patch_returns_the_result_without_storing_it(raw: Any) -> None:
    raw.post(CM, config_map())
    resp = raw.patch(
        CM + "/settings?dryRun=All", {"data": {"key": "changed"}}, content_type="application/merge-patch+json"
    )
    assert (resp.status, resp.json["data"]) == (200, {"key": "changed"})
    assert raw.get(CM + "/settings").json["data"] == {"key": "value"}


def test_dry_run_apply_of_a_new_object_answers_201_and_stores_nothing(raw: Any) -> None:
    url = "/apis/serving.kserve.io/v1beta1/namespaces/demo/inferenceservices/llama"
    resp = raw.patch(
        url + "?fieldManager=nim-widget&dryRun=All",
        inference_service(),
        content_type="application/apply-patch+yaml",
    )
    assert (resp.status, resp.json["metadata"]["name"]) == (201, "llama")
    assert raw.get(url).status == 404


def test_dry_run_replace_stores_nothing(core_v1: Any) -> None:
    created = core_v1.create_namespaced_config_map("demo", config_map())
    created.data = {"key": "dry"}
    answered = core_v1.replace_namespaced_config_map("settings", "demo", created, dry_run="All")
    assert answered.data == {"key": "dry"}
    assert core_v1.read_namespaced_config_map("settings", "demo").data == {"key": "value"}


def test_dry_run_delete_keeps_the_object(core_v1: Any) -> None:
    core_v1.create_namespaced_config_map("demo", config_map())
    core_v1.delete_namespaced_config_map("settings", "demo", dry_run="All")
    assert core_v1.read_namespaced_config_map("settings", "demo").metadata.name == "settings"


def test_dry_run_is_in_the_request_log(raw: Any, sandbox: Any) -> None:
    raw.post(CM + "?dryRun=All", config_map())
    entry = sandbox.log.entries[-1]
    assert (entry.verb, entry.dry_run, entry.status, entry.resource) == ("create", True, 201, "configmaps")
