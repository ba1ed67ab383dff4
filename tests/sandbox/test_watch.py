"""Watch: ADDED/MODIFIED/DELETED over chunked HTTP, resuming, selectors, timeouts, 410 Expired."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

import pytest
from kubernetes import client, watch
from sandbox_objects import SERVING, config_map, inference_service

from nim_widget.sandbox import FakeClock, Sandbox

# the watch helpers are untyped
Watch: Any = watch.Watch
iter_resp_lines: Any = watch.watch.iter_resp_lines


def _events(stream: Any, count: int) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for event in stream:
        obj = event["object"]
        name = obj["metadata"]["name"] if isinstance(obj, dict) else obj.metadata.name
        seen.append((event["type"], name))
        if len(seen) == count:
            break
    return seen


def test_watch_streams_live_added_modified_deleted(core_v1: Any) -> None:
    # The call returns once the server has sent the stream's headers, so the watch is established
    # before the writes below happen: these events are delivered live, not replayed.
    resp = core_v1.list_namespaced_config_map(
        "demo", watch=True, timeout_seconds=10, _preload_content=False, field_selector="metadata.name=w"
    )
    core_v1.create_namespaced_config_map("demo", config_map("w"))
    core_v1.patch_namespaced_config_map("w", "demo", {"data": {"key": "2"}})
    core_v1.delete_namespaced_config_map("w", "demo")
    seen = []
    for line in iter_resp_lines(resp):
        event = json.loads(line)
        seen.append((event["type"], event["object"]["metadata"]["name"], event["object"].get("data")))
        if len(seen) == 3:
            break
    resp.close()
    assert seen == [
        ("ADDED", "w", {"key": "value"}),
        ("MODIFIED", "w", {"key": "2"}),
        ("DELETED", "w", {"key": "2"}),
    ]


def test_watch_client_replays_changes_since_a_resource_version(core_v1: Any) -> None:
    rv = core_v1.list_namespaced_config_map("demo").metadata.resource_version
    core_v1.create_namespaced_config_map("demo", config_map("w"))
    core_v1.patch_namespaced_config_map("w", "demo", {"data": {"key": "2"}})
    core_v1.delete_namespaced_config_map("w", "demo")
    stream = Watch().stream(
        core_v1.list_namespaced_config_map, "demo", resource_version=rv, timeout_seconds=10
    )
    assert _events(stream, 3) == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_watch_without_resource_version_starts_with_the_current_objects(
    custom_objects: Any,
) -> None:
    stream = Watch().stream(
        custom_objects.list_namespaced_custom_object,
        "nim.opendatahub.io",
        "v1",
        "demo",
        "accounts",
        timeout_seconds=5,
    )
    assert _events(stream, 1) == [("ADDED", "odh-nim-account")]


def test_watch_resumes_from_a_resource_version(custom_objects: Any) -> None:
    listed = custom_objects.list_namespaced_custom_object(SERVING, "v1beta1", "demo", "inferenceservices")
    custom_objects.create_namespaced_custom_object(
        SERVING, "v1beta1", "demo", "inferenceservices", inference_service("later")
    )
    stream = Watch().stream(
        custom_objects.list_namespaced_custom_object,
        SERVING,
        "v1beta1",
        "demo",
        "inferenceservices",
        resource_version=listed["metadata"]["resourceVersion"],
        timeout_seconds=5,
    )
    assert _events(stream, 1) == [("ADDED", "later")]


def test_watch_honours_the_label_selector_entering_and_leaving(core_v1: Any) -> None:
    rv = core_v1.list_namespaced_config_map("demo").metadata.resource_version
    core_v1.create_namespaced_config_map("demo", config_map("plain"))
    core_v1.patch_namespaced_config_map("plain", "demo", {"metadata": {"labels": {"pick": "me"}}})
    core_v1.patch_namespaced_config_map("plain", "demo", {"metadata": {"labels": {"pick": "other"}}})
    stream = Watch().stream(
        core_v1.list_namespaced_config_map,
        "demo",
        resource_version=rv,
        label_selector="pick=me",
        timeout_seconds=5,
    )
    assert _events(stream, 2) == [("ADDED", "plain"), ("DELETED", "plain")]


def test_watch_with_a_field_selector_on_the_name(core_v1: Any) -> None:
    rv = core_v1.list_namespaced_config_map("demo").metadata.resource_version
    core_v1.create_namespaced_config_map("demo", config_map("other"))
    core_v1.create_namespaced_config_map("demo", config_map("wanted"))
    stream = Watch().stream(
        core_v1.list_namespaced_config_map,
        "demo",
        resource_version=rv,
        field_selector="metadata.name=wanted",
        timeout_seconds=5,
    )
    assert _events(stream, 1) == [("ADDED", "wanted")]


def test_watch_ends_after_timeout_seconds(core_v1: Any, sandbox: Sandbox) -> None:
    rv = core_v1.list_namespaced_config_map("demo").metadata.resource_version
    started = time.monotonic()
    events = list(
        Watch().stream(core_v1.list_namespaced_config_map, "demo", resource_version=rv, timeout_seconds=1)
    )
    assert events == []
    assert 0.9 <= time.monotonic() - started < 5


def test_watch_from_a_version_older_than_the_window_is_expired() -> None:
    with Sandbox(world=None, clock=FakeClock(), controllers=False, history=5) as sb:
        core: Any = client.CoreV1Api(sb.api_client())
        core.create_namespace({"metadata": {"name": "demo"}})
        for i in range(20):
            core.create_namespaced_config_map("demo", config_map(f"c{i}"))
        with pytest.raises(client.ApiException) as err:
            list(
                Watch().stream(
                    core.list_namespaced_config_map, "demo", resource_version="2", timeout_seconds=2
                )
            )
        assert err.value.status == 410
        assert err.value.reason.startswith("Expired: too old resource version: 2 (")


def test_watch_is_chunked_json_lines_on_the_wire(sandbox: Sandbox, core_v1: Any) -> None:
    rv = core_v1.list_namespaced_config_map("demo").metadata.resource_version
    core_v1.create_namespaced_config_map("demo", config_map("wire"))
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    conn.request(
        "GET", f"/api/v1/namespaces/demo/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=1"
    )
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.getheader("Content-Type") == "application/json"
    lines = [json.loads(line) for line in resp.read().splitlines() if line]
    conn.close()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "wire")]


def test_watch_as_table_sends_one_row_tables(sandbox: Sandbox, core_v1: Any) -> None:
    """What ``kubectl get -w`` asks for: column definitions only in the first event."""
    rv = core_v1.list_namespaced_config_map("demo").metadata.resource_version
    core_v1.create_namespaced_config_map("demo", config_map("t1"))
    core_v1.create_namespaced_config_map("demo", config_map("t2"))
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    conn.request(
        "GET",
        f"/api/v1/namespaces/demo/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=1",
        headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
    )
    events = [json.loads(line) for line in conn.getresponse().read().splitlines() if line]
    conn.close()
    assert [e["object"]["kind"] for e in events] == ["Table", "Table"]
    assert [e["object"]["rows"][0]["cells"][0] for e in events] == ["t1", "t2"]
    assert events[0]["object"]["columnDefinitions"][0]["name"] == "Name"
    assert events[1]["object"]["columnDefinitions"] == []
