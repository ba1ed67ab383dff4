"""A new deployment against the sandbox: what it writes, in which order, and what it never shows."""

from __future__ import annotations

import base64
from typing import Any

from deploy_support import (
    API_KEY,
    API_KEY_B64,
    INFERENCE_SERVICES,
    REVIEWS,
    SERVING_RUNTIMES,
    advance,
    body_name,
    event_text,
    real_writes,
    settled,
    snapshot,
    spec,
)

from nim_widget.cluster.api import Api
from nim_widget.deploy import deploy
from nim_widget.deploy.steps import Step, StepEvent, StepState
from nim_widget.sandbox import Sandbox


def test_creates_exactly_the_runtime_the_service_the_pvc_and_the_missing_secret(
    api: Api, sandbox: Sandbox
) -> None:
    before = snapshot(sandbox)
    result = deploy(api=api, request=spec())
    after = snapshot(sandbox)
    added = sorted(set(after) - set(before))
    assert added == [
        ("inferenceservices.serving.kserve.io", "demo", "llama-31-8b"),
        ("persistentvolumeclaims", "demo", "llama-cache"),
        ("secrets", "demo", "ngc-secret"),
        ("servingruntimes.serving.kserve.io", "demo", "llama-31-8b"),
    ]
    assert all(after[key] == rv for key, rv in before.items())  # nothing that existed was touched
    assert sorted(str(r) for r in result.created) == [
        "InferenceService demo/llama-31-8b",
        "PersistentVolumeClaim demo/llama-cache",
        "Secret demo/ngc-secret",
        "ServingRuntime demo/llama-31-8b",
    ]
    assert [str(r) for r in result.reused] == ["Secret demo/nvidia-nim-secrets"]
    isvc = sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b")
    assert isvc["spec"]["predictor"]["model"]["runtime"] == "llama-31-8b"
    runtime = sandbox.store.get(SERVING_RUNTIMES, "demo", "llama-31-8b")
    assert runtime["spec"]["containers"][0]["image"] == result.image
    pull = sandbox.store.get("secrets", "demo", "ngc-secret")
    source = sandbox.store.get("secrets", "demo", "odh-nim-account-pull")
    assert pull["data"] == source["data"] and pull["type"] == "kubernetes.io/dockerconfigjson"


def test_every_write_is_dry_run_first_with_the_right_content_type(api: Api, sandbox: Sandbox) -> None:
    start = len(settled(sandbox))
    deploy(api=api, request=spec())
    entries = settled(sandbox)[start:]
    writes = [e for e in entries if e.is_write and e.resource != REVIEWS]
    real = [e for e in writes if not e.dry_run]
    assert len(real) == 4 and {e.verb for e in real} == {"create"}
    for entry in real:
        earlier = writes[: writes.index(entry)]
        assert any(
            d.dry_run
            and d.verb == entry.verb
            and d.resource == entry.resource
            and body_name(d) == body_name(entry)
            and d.body == entry.body
            for d in earlier
        ), entry.path
    assert all(e.content_type == "application/json" for e in writes)
    assert all(e.query.get("dryRun") == ["All"] for e in writes if e.dry_run)
    # the serving runtime is the lock: created alone, before any other real write
    assert real[0].resource == "servingruntimes"
    # reads (and the pre-flight's access reviews) only before the writes; no write is repeated
    assert all(not e.is_write for e in entries[: entries.index(writes[0])] if e.resource != REVIEWS)
    assert all(e.resource != REVIEWS for e in entries[entries.index(real[0]) :])
    assert len({(e.resource, body_name(e)) for e in real}) == 4


def test_a_dry_run_writes_nothing(api: Api, sandbox: Sandbox) -> None:
    before = snapshot(sandbox)
    start = len(settled(sandbox))
    events: list[StepEvent] = []
    result = deploy(api=api, request=spec(), dry_run=True, on_event=events.append)
    assert result.dry_run and not result.created
    assert real_writes(sandbox, since=start) == []
    assert len([e for e in settled(sandbox)[start:] if e.dry_run and e.resource != REVIEWS]) == 4
    assert snapshot(sandbox) == before
    skipped = {e.step for e in events if e.state == StepState.SKIPPED}
    assert skipped == {7, 8, 9, 10, 11}


def test_events_report_every_step_in_order(api: Api) -> None:
    events: list[StepEvent] = []
    deploy(api=api, request=spec(), on_event=events.append)
    assert [e.step for e in events[:12]] == list(range(1, 13))
    assert all(e.state == StepState.PENDING for e in events[:12])
    final = {e.step: e.state for e in events}
    assert final == {
        1: "succeeded",
        2: "succeeded",
        3: "succeeded",
        4: "succeeded",
        5: "succeeded",
        6: "succeeded",
        7: "succeeded",
        8: "succeeded",
        9: "skipped",
        10: "succeeded",
        11: "skipped",
        12: "succeeded",
    }
    assert events[-1].step == Step.RESULT and "4 created" in events[-1].detail
    runtime_event = next(e for e in events if e.step == Step.SERVING_RUNTIME and e.state == "succeeded")
    assert runtime_event.manifests[0]["kind"] == "ServingRuntime"
    timed = [e for e in events if e.state == StepState.SUCCEEDED and e.step in (2, 6, 7, 8, 10)]
    assert all(e.duration is not None and e.duration >= 0 for e in timed)


def _cluster_level_account(sandbox: Sandbox) -> str:
    """The legacy setup: an Account in the dashboard namespace, reconciled by the account
    controller, and a fresh project with neither secret."""
    key = "nvapi-cluster-level-key-0000"
    store = sandbox.store
    store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    store.create(
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": "nvidia-nim-access", "namespace": "opendatahub"},
            "data": {"api_key": base64.b64encode(key.encode()).decode()},
        },
    )
    store.create(
        "accounts.nim.opendatahub.io",
        {
            "apiVersion": "nim.opendatahub.io/v1",
            "kind": "Account",
            "metadata": {"name": "odh-nim-account", "namespace": "opendatahub"},
            "spec": {"apiKeySecret": {"name": "nvidia-nim-access"}},
        },
    )
    advance(sandbox, 600)  # FakeClock: the account controller validates and reconciles
    return key


def test_the_cluster_level_account_is_used_and_both_secrets_are_copied(api: Api, sandbox: Sandbox) -> None:
    key = _cluster_level_account(sandbox)
    events: list[StepEvent] = []
    result = deploy(api=api, request=spec(project="team"), on_event=events.append)
    assert sorted(str(r) for r in result.created if r.kind == "Secret") == [
        "Secret team/ngc-secret",
        "Secret team/nvidia-nim-secrets",
    ]
    copied = sandbox.store.get("secrets", "team", "nvidia-nim-secrets")
    assert base64.b64decode(copied["data"]["NGC_API_KEY"]).decode() == key
    assert copied["type"] == "Opaque"
    pull = sandbox.store.get("secrets", "team", "ngc-secret")
    assert pull["data"] == sandbox.store.get("secrets", "opendatahub", "odh-nim-account-pull")["data"]
    loaded = next(e for e in events if e.step == Step.LOAD_TEMPLATE and e.state == StepState.SUCCEEDED)
    assert "opendatahub/odh-nim-account" in loaded.detail
    text = event_text(events) + repr(result) + result.plan.render_yaml() + repr(result.plan)
    encoded = base64.b64encode(key.encode()).decode()
    assert key not in text and encoded not in text


def test_secret_values_never_appear_in_events_results_or_logs(
    api: Api, sandbox: Sandbox, caplog: Any
) -> None:
    caplog.set_level("DEBUG")
    events: list[StepEvent] = []
    result = deploy(api=api, request=spec(), on_event=events.append)
    pull = sandbox.store.get("secrets", "demo", "odh-nim-account-pull")["data"][".dockerconfigjson"]
    values = (API_KEY, API_KEY_B64, pull, base64.b64decode(pull).decode())
    text = (
        event_text(events) + repr(result) + str(result.plan.objects) + result.plan.render_yaml() + caplog.text
    )
    assert all(value not in text for value in values)
    secret_manifest = next(
        e for e in events if e.step == Step.SECRETS_AND_STORAGE and e.state == StepState.SUCCEEDED
    ).manifests
    assert any(m.get("data") == {".dockerconfigjson": "<redacted>"} for m in secret_manifest)


def test_existing_storage_is_mounted_and_never_written(api: Api, sandbox: Sandbox) -> None:
    before = snapshot(sandbox)
    storage = {"mode": "existing", "pvcName": "llama-3-1-8b-cache", "subPath": "llama-3.1-8b-instruct"}
    result = deploy(api=api, request=spec(storage=storage))
    added = sorted(key for key in snapshot(sandbox) if key not in before)
    assert [name for _, _, name in added] == ["llama-31-8b", "ngc-secret", "llama-31-8b"]
    assert "PersistentVolumeClaim demo/llama-3-1-8b-cache" in [str(r) for r in result.reused]
    assert (
        snapshot(sandbox)[("persistentvolumeclaims", "demo", "llama-3-1-8b-cache")]
        == before[("persistentvolumeclaims", "demo", "llama-3-1-8b-cache")]
    )
    runtime = sandbox.store.get(SERVING_RUNTIMES, "demo", "llama-31-8b")
    mounts = runtime["spec"]["containers"][0]["volumeMounts"]
    assert {
        "name": "llama-3-1-8b-cache",
        "mountPath": "/mnt/models/cache",
        "subPath": "llama-3.1-8b-instruct",
    } in mounts
