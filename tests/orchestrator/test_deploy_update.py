"""Updating a deployment: only what changed is written, concurrent changes are never lost silently."""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import INFERENCE_SERVICES, SERVING_RUNTIMES, advance, real_writes, settled, spec

from nim_widget.cluster.api import Api
from nim_widget.cluster.errors import Conflict, RequestInvalid, Unavailable, UnknownNameError
from nim_widget.deploy import deploy
from nim_widget.deploy.steps import Step, StepEvent, StepState
from nim_widget.sandbox import Sandbox, rfc3339


@pytest.fixture
def deployed(api: Api, sandbox: Sandbox) -> int:
    """A deployment made from `spec()`, its PVC bound; returns the log position after it."""
    deploy(api=api, request=spec(), clock=sandbox.clock)
    advance(sandbox, 120)
    return len(settled(sandbox))


def _others_change(sandbox: Sandbox, **predictor: Any) -> None:
    """Someone else edits the InferenceService through the API server's store."""
    isvc = sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b")
    isvc["metadata"].setdefault("annotations", {})["team.example/owner"] = "someone-else"
    isvc["spec"]["predictor"].update(predictor)
    sandbox.store.replace(INFERENCE_SERVICES, isvc)


def test_update_puts_only_what_changed_with_the_resource_version(
    api: Api, sandbox: Sandbox, deployed: int
) -> None:
    runtime_before = sandbox.store.get(SERVING_RUNTIMES, "demo", "llama-31-8b")
    _others_change(sandbox)  # before our read: kept by the update
    live = sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b")
    result = deploy(
        api=api, request=spec(replicas=2, env=[{"name": "NIM_MAX_MODEL_LEN", "value": "8192"}]), update=True
    )
    writes = real_writes(sandbox, since=deployed)
    assert [(w.verb, w.resource, w.method) for w in writes] == [("update", "inferenceservices", "PUT")]
    assert writes[0].body["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
    isvc = sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b")
    assert isvc["spec"]["predictor"]["minReplicas"] == isvc["spec"]["predictor"]["maxReplicas"] == 2
    assert isvc["spec"]["predictor"]["model"]["env"] == [{"name": "NIM_MAX_MODEL_LEN", "value": "8192"}]
    assert isvc["metadata"]["annotations"]["team.example/owner"] == "someone-else"
    assert sandbox.store.get(SERVING_RUNTIMES, "demo", "llama-31-8b") == runtime_before
    assert [str(r) for r in result.updated] == ["InferenceService demo/llama-31-8b"]
    assert [str(r) for r in result.unchanged] == ["ServingRuntime demo/llama-31-8b"]


def test_an_update_that_changes_nothing_writes_nothing(api: Api, sandbox: Sandbox, deployed: int) -> None:
    events: list[StepEvent] = []
    result = deploy(api=api, request=spec(), update=True, on_event=events.append)
    assert real_writes(sandbox, since=deployed) == []
    assert not [e for e in settled(sandbox)[deployed:] if e.dry_run]
    assert not result.updated and not result.created and len(result.unchanged) == 2
    assert {e.step: e.state for e in events}[Step.APPLY] == StepState.SKIPPED


def test_a_concurrent_change_is_a_conflict_unless_overwrite(
    api: Api, sandbox: Sandbox, deployed: int
) -> None:
    def meddle(event: StepEvent) -> None:  # after our read, before our write
        if event.step == Step.RESOLVE_NAMES and event.state == StepState.SUCCEEDED:
            _others_change(sandbox, minReplicas=3, maxReplicas=3)

    with pytest.raises(Conflict) as err:
        deploy(api=api, request=spec(replicas=2), update=True, on_event=meddle)
    assert err.value.step == Step.DRY_RUN
    assert "was changed by someone else after it was read, so nothing was overwritten" in err.value.detail
    assert real_writes(sandbox, since=deployed) == []
    assert (
        sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b")["spec"]["predictor"]["minReplicas"] == 3
    )

    start = len(settled(sandbox))
    deploy(
        api=api,
        request=spec(replicas=2, description="overwritten"),
        update=True,
        overwrite=True,
        on_event=meddle,
    )
    writes = real_writes(sandbox, since=start)
    assert [(w.verb, w.resource, w.content_type) for w in writes] == [
        ("patch", "inferenceservices", "application/json-patch+json")
    ]
    paths = sorted(op["path"] for op in writes[0].body)
    assert paths == [
        "/metadata/annotations/openshift.io~1description",
        "/spec/predictor/maxReplicas",
        "/spec/predictor/minReplicas",
    ]
    isvc = sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b")
    assert isvc["spec"]["predictor"]["minReplicas"] == 2
    assert isvc["metadata"]["annotations"]["team.example/owner"] == "someone-else"


def test_storage_grows_with_the_force_redeploy_annotation_and_never_shrinks(
    api: Api, sandbox: Sandbox, deployed: int
) -> None:
    bigger = spec(storage={"mode": "new", "pvcName": "llama-cache", "size": "60Gi", "subPath": "llama"})
    events: list[StepEvent] = []
    deploy(api=api, request=bigger, update=True, clock=sandbox.clock, on_event=events.append)
    writes = real_writes(sandbox, since=deployed)
    assert [(w.verb, w.resource) for w in writes] == [("update", "persistentvolumeclaims")]
    pvc = sandbox.store.get("persistentvolumeclaims", "demo", "llama-cache")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "60Gi"
    stamp = pvc["metadata"]["annotations"]["runtimes.opendatahub.io/force-redeploy"]
    assert stamp == rfc3339(sandbox.clock.now()).replace("Z", ".000Z")
    assert {e.step: e.state for e in events}[Step.RESIZE_STORAGE] == StepState.SUCCEEDED

    start = len(settled(sandbox))
    smaller = spec(storage={"mode": "new", "pvcName": "llama-cache", "size": "40Gi", "subPath": "llama"})
    deploy(api=api, request=smaller, update=True)  # the spec's creation size: the grown PVC stays
    existing = spec(
        storage={"mode": "existing", "pvcName": "llama-cache", "size": "40Gi", "subPath": "llama"}
    )
    with pytest.raises(RequestInvalid) as err:  # an explicit resize of existing storage cannot shrink
        deploy(api=api, request=existing, update=True)
    assert err.value.causes["storage.size"].startswith('Storage can only grow: "llama-cache" is 60Gi')
    assert real_writes(sandbox, since=start) == []
    assert sandbox.store.get("persistentvolumeclaims", "demo", "llama-cache")["spec"]["resources"] == {
        "requests": {"storage": "60Gi"}
    }


def test_a_stopped_deployment_is_started_again(api: Api, sandbox: Sandbox, deployed: int) -> None:
    isvc = sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b")
    isvc["metadata"]["annotations"]["serving.kserve.io/stop"] = "true"
    sandbox.store.replace(INFERENCE_SERVICES, isvc)
    start = len(settled(sandbox))
    deploy(api=api, request=spec(replicas=2), update=True)
    entries = [e for e in settled(sandbox)[start:] if e.verb == "patch"]
    assert [(e.dry_run, e.content_type) for e in entries] == [
        (True, "application/json-patch+json"),
        (False, "application/json-patch+json"),
    ]
    assert entries[1].body == [
        {"op": "add", "path": "/metadata/annotations/serving.kserve.io~1stop", "value": "false"}
    ]
    live = sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b")
    assert live["metadata"]["annotations"]["serving.kserve.io/stop"] == "false"
    assert live["spec"]["predictor"]["minReplicas"] == 2


def test_a_failed_update_restores_what_it_changed(api: Api, sandbox: Sandbox, deployed: int) -> None:
    runtime_before = sandbox.store.get(SERVING_RUNTIMES, "demo", "llama-31-8b")
    isvc_before = sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b")
    sandbox.faults.add(verb="update", resource="inferenceservices", dry_run=False, status=500)
    changed = spec(replicas=2, storage={"mode": "new", "pvcName": "llama-cache", "subPath": "other"})
    events: list[StepEvent] = []
    with pytest.raises(Unavailable) as err:
        deploy(api=api, request=changed, update=True, on_event=events.append)
    assert err.value.step == Step.APPLY and "Everything this run wrote was undone" in err.value.detail
    runtime_after = sandbox.store.get(SERVING_RUNTIMES, "demo", "llama-31-8b")
    assert runtime_after["spec"] == runtime_before["spec"]
    assert runtime_after["metadata"]["annotations"] == runtime_before["metadata"]["annotations"]
    assert sandbox.store.get(INFERENCE_SERVICES, "demo", "llama-31-8b") == isvc_before
    undone = [e for e in events if e.state == StepState.ROLLED_BACK]
    assert [e.detail for e in undone] == [
        "Restored ServingRuntime demo/llama-31-8b as it was before this run"
    ]


def test_updating_a_deployment_that_does_not_exist_is_bad_input(api: Api) -> None:
    with pytest.raises(UnknownNameError) as err:
        deploy(api=api, request=spec(), update=True)
    assert 'There is no model deployment named "llama-31-8b"' in err.value.detail
