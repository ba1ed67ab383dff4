"""Fault injection and the request log: failures and wire details tests can rely on."""

from __future__ import annotations

import time
from typing import Any

import pytest
import urllib3
from kubernetes import client
from sandbox_objects import SERVING, config_map, inference_service

from nim_widget.sandbox import Sandbox

ISVC = (SERVING, "v1beta1", "demo", "inferenceservices")


def test_next_matching_request_fails_with_the_given_status(
    core_v1: Any, sandbox: Sandbox, status_of: Any
) -> None:
    sandbox.faults.add(verb="create", resource="configmaps", status=503, message="etcdserver: leader changed")
    with pytest.raises(client.ApiException) as err:
        core_v1.create_namespaced_config_map("demo", config_map())
    status = status_of(err.value)
    assert (err.value.status, status["reason"], status["message"]) == (
        503,
        "ServiceUnavailable",
        "etcdserver: leader changed",
    )
    assert core_v1.create_namespaced_config_map("demo", config_map()).metadata.name == "settings"


def test_fault_fails_n_times_then_is_consumed(core_v1: Any, sandbox: Sandbox) -> None:
    sandbox.faults.add(verb="get", resource="configmaps", name="odh-nim-account-cm", status=500, times=2)
    for _ in range(2):
        with pytest.raises(client.ApiException) as err:
            core_v1.read_namespaced_config_map("odh-nim-account-cm", "demo")
        assert err.value.status == 500
    assert (
        core_v1.read_namespaced_config_map("odh-nim-account-cm", "demo").metadata.name == "odh-nim-account-cm"
    )
    assert sandbox.faults.pending == []


def test_fault_matches_only_real_writes_when_asked(custom_objects: Any, sandbox: Sandbox) -> None:
    sandbox.faults.add(
        verb="create", resource="inferenceservices", dry_run=False, status=409, reason="Conflict"
    )
    custom_objects.create_namespaced_custom_object(*ISVC, inference_service(), dry_run="All")  # not matched
    with pytest.raises(client.ApiException) as err:
        custom_objects.create_namespaced_custom_object(*ISVC, inference_service())
    assert err.value.status == 409


def test_fault_can_send_a_full_status_body(raw: Any, sandbox: Sandbox) -> None:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "code": 429,
        "reason": "TooManyRequests",
        "message": "slow down",
        "details": {"retryAfterSeconds": 1},
    }
    sandbox.faults.add(method="GET", resource="namespaces", status=429, body=body)
    resp = raw.get("/api/v1/namespaces")
    assert (resp.status, resp.json) == (429, body)


def test_dropped_connection_gets_no_answer(sandbox: Sandbox) -> None:
    sandbox.faults.add(verb="create", resource="configmaps", drop=True)
    config = sandbox.configuration()
    config.retries = False
    api: Any = client.CoreV1Api(client.ApiClient(config))
    with pytest.raises(urllib3.exceptions.ProtocolError):
        api.create_namespaced_config_map("demo", config_map())
    with pytest.raises(client.ApiException) as err:
        api.read_namespaced_config_map("settings", "demo")
    assert err.value.status == 404  # nothing was created


def test_latency_delays_the_answer(core_v1: Any, sandbox: Sandbox) -> None:
    sandbox.faults.add(verb="list", resource="configmaps", latency=0.3)
    started = time.monotonic()
    core_v1.list_namespaced_config_map("demo")
    assert time.monotonic() - started >= 0.3


def test_request_log_records_what_went_over_the_wire(custom_objects: Any, sandbox: Sandbox) -> None:
    sandbox.log.clear()
    custom_objects.patch_namespaced_custom_object(
        *ISVC,
        "llama",
        inference_service(),
        field_manager="nim-widget",
        dry_run="All",
        _content_type="application/apply-patch+yaml",
    )
    [entry] = sandbox.log.entries
    assert (entry.method, entry.verb, entry.resource, entry.namespace, entry.name) == (
        "PATCH",
        "patch",
        "inferenceservices",
        "demo",
        "llama",
    )
    assert entry.content_type == "application/apply-patch+yaml"
    assert entry.query == {"dryRun": ["All"], "fieldManager": ["nim-widget"]}
    assert entry.dry_run is True and entry.status == 201
    assert entry.body["kind"] == "InferenceService"
    assert sandbox.log.writes() == [entry]
