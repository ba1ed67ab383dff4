"""The API layer against the sandbox over HTTP: verbs, content types, dry run, retries and errors."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import pytest
from kubernetes import client

from nim_widget.cluster.api import Api, diff_ops, strip_server_fields
from nim_widget.cluster.connect import connect
from nim_widget.cluster.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unavailable,
)
from nim_widget.sandbox import FakeClock, Rule, Sandbox

ISVC = ("serving.kserve.io/v1beta1", "InferenceService")


def config_map(name: str = "settings", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "demo"},
        "data": data or {"a": "1"},
    }


def inference_service(name: str = "isvc") -> dict[str, Any]:
    return {
        "apiVersion": ISVC[0],
        "kind": ISVC[1],
        "metadata": {"name": name, "namespace": "demo", "annotations": {"openshift.io/display-name": "X"}},
        "spec": {
            "predictor": {
                "model": {"modelFormat": {"name": "m"}, "runtime": name},
                "minReplicas": 1,
                "maxReplicas": 1,
            }
        },
    }


def settled(sandbox: Sandbox) -> None:
    """Wait until the sandbox has logged every request answered so far.

    The sandbox records a request just after sending its answer, so a client can hold the answer
    a moment before the log has the entry; a marker request, logged after all earlier ones
    finished, closes that gap."""
    marker = f"log-marker-{len(sandbox.log)}"
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{sandbox.url}/api/v1/namespaces/demo/serviceaccounts/{marker}", timeout=10)
    deadline = time.monotonic() + 5
    pause = threading.Event()
    while not sandbox.log.find(name=marker):
        assert time.monotonic() < deadline, "the sandbox never logged the marker request"
        pause.wait(0.001)


def last(sandbox: Sandbox, **match: Any) -> Any:
    settled(sandbox)
    entries = sandbox.log.find(**match)
    assert entries, f"no request matching {match}"
    return entries[-1]


def test_create_get_list_return_plain_camel_case_dicts_for_core_and_custom_kinds(api: Api) -> None:
    created = api.create(body=config_map())
    assert created["metadata"]["resourceVersion"] and created["kind"] == "ConfigMap"
    isvc = api.create(body=inference_service())  # custom objects: the client maps only 201 to a body
    assert isvc["metadata"]["generation"] == 1 and isvc["spec"]["predictor"]["minReplicas"] == 1
    got = api.get(api_version=ISVC[0], kind=ISVC[1], name="isvc", namespace="demo")
    assert got["metadata"]["uid"] == isvc["metadata"]["uid"]
    pvcs = api.list(api_version="v1", kind="PersistentVolumeClaim", namespace="demo")
    assert pvcs and all(p["kind"] == "PersistentVolumeClaim" and "accessModes" in p["spec"] for p in pvcs)
    classes = api.list(api_version="storage.k8s.io/v1", kind="StorageClass")
    assert any("allowVolumeExpansion" in c for c in classes)
    assert api.try_get(api_version="v1", kind="ConfigMap", name="nope", namespace="demo") is None


def test_list_passes_label_and_field_selectors(api: Api, sandbox: Sandbox) -> None:
    api.create(
        body={**config_map("one"), "metadata": {"name": "one", "namespace": "demo", "labels": {"t": "a"}}}
    )
    api.create(
        body={**config_map("two"), "metadata": {"name": "two", "namespace": "demo", "labels": {"t": "b"}}}
    )
    names = [
        o["metadata"]["name"]
        for o in api.list(api_version="v1", kind="ConfigMap", namespace="demo", label_selector="t=a")
    ]
    assert names == ["one"]
    by_field = api.list(
        api_version="v1", kind="ConfigMap", namespace="demo", field_selector="metadata.name=two"
    )
    assert [o["metadata"]["name"] for o in by_field] == ["two"]
    assert last(sandbox, verb="list", resource="configmaps").query["fieldSelector"] == ["metadata.name=two"]


def test_every_write_can_be_a_dry_run_that_stores_nothing(api: Api, sandbox: Sandbox) -> None:
    api.create(body=inference_service(), dry_run=True)
    entry = last(sandbox, verb="create", resource="inferenceservices")
    assert entry.query["dryRun"] == ["All"] and entry.dry_run and entry.content_type == "application/json"
    assert api.try_get(api_version=ISVC[0], kind=ISVC[1], name="isvc", namespace="demo") is None

    live = api.create(body=config_map())
    api.replace(body={**live, "data": {"a": "2"}}, dry_run=True)
    api.merge_patch(
        api_version="v1",
        kind="ConfigMap",
        name="settings",
        namespace="demo",
        patch={"data": {"b": "3"}},
        dry_run=True,
    )
    api.delete(api_version="v1", kind="ConfigMap", name="settings", namespace="demo", dry_run=True)
    writes = [e for e in sandbox.log.writes() if e.resource == "configmaps" and e.dry_run]
    assert [e.verb for e in writes] == ["update", "patch", "delete"]
    assert all(e.query["dryRun"] == ["All"] for e in writes)
    assert api.get(api_version="v1", kind="ConfigMap", name="settings", namespace="demo")["data"] == {
        "a": "1"
    }


def test_json_patch_goes_to_custom_objects_as_json_patch(api: Api, sandbox: Sandbox) -> None:
    """The official client sends merge-patch to custom objects unless told otherwise (the pitfall)."""
    old = api.create(body=inference_service())
    new = json.loads(json.dumps(old))
    new["spec"]["predictor"]["minReplicas"] = 2
    new["spec"]["predictor"]["maxReplicas"] = 2
    new["metadata"]["annotations"]["extra"] = "yes"
    new["metadata"]["resourceVersion"] = "1"  # server-managed: ignored by the diff
    new["status"] = {"url": "http://elsewhere"}  # ignored too
    patched = api.json_patch(old=old, new=new)
    entry = last(sandbox, verb="patch", resource="inferenceservices")
    assert entry.content_type == "application/json-patch+json"
    assert isinstance(entry.body, list)
    assert sorted(op["path"] for op in entry.body) == [
        "/metadata/annotations/extra",
        "/spec/predictor/maxReplicas",
        "/spec/predictor/minReplicas",
    ]
    assert patched["spec"]["predictor"]["minReplicas"] == 2
    assert patched["metadata"]["resourceVersion"] != old["metadata"]["resourceVersion"]


def test_json_patch_on_core_kinds_and_merge_patch_carry_their_content_types(
    api: Api, sandbox: Sandbox
) -> None:
    live = api.create(body=config_map())
    api.json_patch(old=live, new={**live, "data": {"a": "1", "b": "2"}})
    assert last(sandbox, verb="patch", resource="configmaps").content_type == "application/json-patch+json"
    api.merge_patch(
        api_version="v1", kind="ConfigMap", name="settings", namespace="demo", patch={"data": {"a": None}}
    )
    assert last(sandbox, verb="patch", resource="configmaps").content_type == "application/merge-patch+json"
    assert api.get(api_version="v1", kind="ConfigMap", name="settings", namespace="demo")["data"] == {
        "b": "2"
    }


def test_an_empty_diff_sends_nothing(api: Api, sandbox: Sandbox) -> None:
    live = api.create(body=inference_service())
    same = {**strip_server_fields(live), "status": {"anything": True}}
    assert api.json_patch(old=live, new=same) == live
    settled(sandbox)
    assert not sandbox.log.find(verb="patch")
    assert diff_ops(old=live, new=same) == []


def test_replace_is_guarded_by_resource_version(api: Api, sandbox: Sandbox) -> None:
    live = api.create(body=config_map())
    updated = api.replace(body={**live, "data": {"a": "2"}})
    entry = last(sandbox, verb="update", resource="configmaps")
    assert (
        entry.method == "PUT"
        and entry.body["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
    )
    with pytest.raises(Conflict) as err:  # the first read's version is stale now
        api.replace(body={**live, "data": {"a": "3"}})
    assert "the object has been modified" in err.value.detail
    assert api.replace(
        body={**live, "data": {"a": "4"}}, resource_version=updated["metadata"]["resourceVersion"]
    )["data"] == {"a": "4"}
    with pytest.raises(ValueError, match="resourceVersion"):
        api.replace(body=config_map())


def test_delete_sends_the_propagation_policy(api: Api, sandbox: Sandbox) -> None:
    api.create(body=inference_service())
    api.delete(api_version=ISVC[0], kind=ISVC[1], name="isvc", namespace="demo")
    entry = last(sandbox, verb="delete", resource="inferenceservices")
    assert (
        entry.query.get("propagationPolicy") == ["Background"]
        or entry.body["propagationPolicy"] == "Background"
    )
    with pytest.raises(NotFound) as err:
        api.delete(api_version=ISVC[0], kind=ISVC[1], name="isvc", namespace="demo")
    assert err.value.detail == 'model deployment "isvc" not found'


def test_status_errors_become_our_errors_with_human_text(api: Api) -> None:
    api.create(body=inference_service())
    with pytest.raises(AlreadyExists) as exists:
        api.create(body=inference_service())
    assert exists.value.detail == (
        'A model deployment with the name "isvc" already exists. '
        "Please choose a different model deployment name."
    )
    broken = inference_service("broken")
    broken["spec"] = {}
    with pytest.raises(Invalid) as invalid:
        api.create(body=broken)
    assert invalid.value.causes == {"spec.predictor": "Required value"}
    assert invalid.value.obj is not None and invalid.value.obj.name == "broken"
    with pytest.raises(BadRequest):
        api.create(body={**config_map(), "kind": "Secret", "data": {"k": "not base64!"}})
    with pytest.raises(NotFound) as missing:
        api.get(api_version="v1", kind="ConfigMap", name="x", namespace="nowhere")
    assert missing.value.detail == 'configmaps "x" not found'


def test_forbidden_and_self_subject_access_review(api: Api, sandbox: Sandbox) -> None:
    sandbox.access.set_rules(
        [
            Rule.of(verbs=("get", "list"), resources="*", namespaces="*"),
            Rule.of(verbs="create", resources="selfsubjectaccessreviews", namespaces="*"),
        ]
    )
    with pytest.raises(Forbidden) as err:
        api.create(body=inference_service())
    assert err.value.title == "Permission denied"
    assert 'cannot create resource "inferenceservices"' in err.value.detail
    assert err.value.detail.startswith("model deployment") or "inferenceservices" in err.value.detail
    assert api.can_i(verb="list", resource="inferenceservices", group="serving.kserve.io", namespace="demo")
    assert not api.can_i(
        verb="create", resource="inferenceservices", group="serving.kserve.io", namespace="demo"
    )


def test_a_wrong_token_is_unauthorized() -> None:
    with Sandbox(world=None, clock=FakeClock(), controllers=False, token="right") as sb:
        cfg = sb.configuration()
        cfg.api_key = {"BearerToken": "wrong"}
        with client.ApiClient(cfg) as api_client, pytest.raises(Unauthorized) as err:
            Api(api_client=api_client).list(api_version="v1", kind="Namespace")
        assert "wrong" not in str(err.value)


def test_reads_are_retried_with_bounded_backoff(api: Api, sandbox: Sandbox, sleeps: Any) -> None:
    sandbox.faults.add(verb="get", resource="configmaps", status=503, times=2)
    sandbox.faults.add(verb="list", resource="configmaps", drop=True, times=1)
    assert api.get(api_version="v1", kind="ConfigMap", name="odh-nim-account-cm", namespace="demo")
    assert api.list(api_version="v1", kind="ConfigMap", namespace="demo")
    assert sleeps == [0.25, 0.5, 0.25]
    sandbox.faults.add(verb="get", resource="configmaps", status=429, times=10)
    with pytest.raises(Unavailable):
        api.get(api_version="v1", kind="ConfigMap", name="odh-nim-account-cm", namespace="demo")
    assert sleeps[3:] == [0.25, 0.5, 1.0]  # three retries, then the error
    settled(sandbox)
    assert len([e for e in sandbox.log.find(verb="get", resource="configmaps") if e.status == 429]) == 4


def test_writes_are_never_retried(api: Api, sandbox: Sandbox, sleeps: Any) -> None:
    sandbox.faults.add(verb="create", resource="configmaps", status=503)
    with pytest.raises(Unavailable):
        api.create(body=config_map())
    sandbox.faults.add(verb="create", resource="configmaps", drop=True)
    with pytest.raises(Unavailable) as dropped:
        api.create(body=config_map())
    assert "closed before an answer arrived" in dropped.value.detail
    settled(sandbox)
    assert len(sandbox.log.find(verb="create", resource="configmaps")) == 2 and sleeps == []


class _Throttling(http.server.BaseHTTPRequestHandler):
    """A server that answers 429 with Retry-After once, then the object: the header's only source."""

    answered: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.answered.append(self.path)
        if len(self.answered) == 1:
            body = json.dumps({"kind": "Status", "code": 429, "reason": "TooManyRequests", "message": "slow"})
            self.send_response(429)
            self.send_header("Retry-After", "7")
        else:
            body = json.dumps(config_map())
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def throttling_server() -> Iterator[str]:
    _Throttling.answered = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_retry_after_is_honoured(throttling_server: str, sleeps: Any) -> None:
    with connect(server=throttling_server) as conn:
        got = Api(api_client=conn.api_client, sleep=sleeps).get(
            api_version="v1", kind="ConfigMap", name="settings", namespace="demo"
        )
    assert got["metadata"]["name"] == "settings" and sleeps == [7.0]


def test_secret_values_never_reach_errors_or_tracebacks(api: Api, sandbox: Sandbox) -> None:
    secret = "nvapi-very-secret-value-123"
    encoded = base64.b64encode(secret.encode()).decode()
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "ngc", "namespace": "demo"},
        "data": {"NGC_API_KEY": encoded},
    }
    sandbox.faults.add(
        verb="create",
        resource="secrets",
        status=422,
        reason="Invalid",
        message=f'Secret "ngc" is invalid: data[NGC_API_KEY]: Invalid value: "{secret}" ({encoded})',
    )
    with pytest.raises(Invalid) as err:
        api.create(body=body)
    text = "".join(traceback.format_exception(err.value))
    for value in (secret, encoded):
        assert value not in text and value not in repr(err.value)
    assert err.value.__cause__ is None and err.value.__context__ is None
    assert "ApiException" not in text and "HTTP response" not in text


def test_the_api_is_safe_to_share_between_threads(api: Api) -> None:
    for i in range(20):
        api.create(body=config_map(f"cm-{i}", index=str(i)))
    with ThreadPoolExecutor(max_workers=10) as pool:
        got = list(
            pool.map(
                lambda i: api.get(api_version="v1", kind="ConfigMap", name=f"cm-{i}", namespace="demo"),
                range(20),
            )
        )
    assert [g["data"]["index"] for g in got] == [str(i) for i in range(20)]


def test_watch_streams_changes_from_a_resource_version(api: Api) -> None:
    version = api.create(body=config_map("first"))["metadata"]["resourceVersion"]
    api.create(body=config_map("second"))
    events = api.watch(
        api_version="v1", kind="ConfigMap", namespace="demo", resource_version=version, timeout_seconds=5
    )
    first = next(events)
    events.close()
    assert (first.type, first.object["metadata"]["name"]) == ("ADDED", "second")
