"""Edit: the request back from a deployment, the exact change, and applying it through the orchestrator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lifecycle import dashboard_objects as dash
from lifecycle.conftest import FollowRun, advance, ready, request_for
from nim_widget.cluster.api import Api
from nim_widget.deploy import deploy
from nim_widget.lifecycle import control
from nim_widget.lifecycle.errors import EditRefused, ExtractError
from nim_widget.lifecycle.extract import EditSession, edited, export_request
from nim_widget.request import dump_spec, load_spec
from nim_widget.sandbox import Sandbox

Follow = Callable[..., FollowRun]
IS_API, PVC = "serving.kserve.io/v1beta1", "PersistentVolumeClaim"


@pytest.fixture
def session(api: Api, sandbox: Sandbox) -> EditSession:
    request = request_for(
        description="A small Llama for tests",
        env=[{"name": "NIM_MAX_MODEL_LEN", "value": "8192"}],
        resources={"requests": {"cpu": "3"}},
    )
    deploy(api=api, request=request, clock=sandbox.clock)
    return EditSession.open(api=api, namespace="demo", name=request.name, clock=sandbox.clock)


def test_extract_gives_the_request_back_in_edit_form(session: EditSession) -> None:
    original = session.original
    assert original.name == "llama-small" and original.display_name == "Llama small"
    assert (original.model, original.tag) == ("llama-3.2-1b-instruct", "1.12.0")
    assert original.description == "A small Llama for tests"
    assert original.hardware_profile == "opendatahub/nvidia-gpu-1x"
    assert original.resources.requests == {"cpu": "3"} and original.resources.limits == {}
    assert original.replicas == 1
    assert [(e.name, e.value) for e in original.env] == [("NIM_MAX_MODEL_LEN", "8192")]
    storage = original.storage
    assert (storage.mode, storage.pvc_name, storage.sub_path, storage.size) == (
        "existing",
        "llama-small-cache",
        "",
        "20Gi",
    )


def test_no_change_is_an_empty_patch(session: EditSession, sandbox: Sandbox) -> None:
    sandbox.log.clear()
    preview = session.preview(session.original)
    assert preview.empty and preview.patches == {}
    assert preview.lines() == ["No changes."]
    assert sandbox.log.writes() == []  # a preview only reads


def test_changing_replicas_patches_only_the_inference_service(session: EditSession) -> None:
    preview = session.preview(edited(session.original, replicas=2))
    assert preview.patches == {
        "InferenceService llama-small": [
            {"op": "replace", "path": "/spec/predictor/minReplicas", "value": 2},
            {"op": "replace", "path": "/spec/predictor/maxReplicas", "value": 2},
        ]
    }
    assert preview.lines() == [
        "unchanged ServingRuntime llama-small",
        "update InferenceService llama-small (2 operations):",
        "  ~ /spec/predictor/minReplicas: 1 -> 2",
        "  ~ /spec/predictor/maxReplicas: 1 -> 2",
    ]


def test_applying_an_edit_goes_through_the_update_path(
    session: EditSession, api: Api, sandbox: Sandbox
) -> None:
    sandbox.log.clear()
    result = session.apply(edited(session.original, replicas=2, env=[]))
    assert result.update and [r.name for r in result.updated] == ["llama-small"]
    live = api.get(api_version=IS_API, kind="InferenceService", name="llama-small", namespace="demo")
    predictor = live["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 2)
    assert "env" not in predictor["model"]
    writes = [(e.method, e.resource, e.dry_run) for e in sandbox.log.writes()]
    assert writes == [("PUT", "inferenceservices", True), ("PUT", "inferenceservices", False)]
    assert session.preview(edited(session.original, replicas=2, env=[])).empty


def test_overwrite_sends_the_same_change_as_a_json_patch(session: EditSession, sandbox: Sandbox) -> None:
    preview = session.preview(edited(session.original, replicas=3), overwrite=True)
    assert [o.operation for o in preview.plan.objects] == ["patch", "patch"]
    sandbox.log.clear()
    session.apply(edited(session.original, replicas=3), overwrite=True)
    patch = [e for e in sandbox.log.writes() if not e.dry_run]
    assert [(e.method, e.content_type) for e in patch] == [("PATCH", "application/json-patch+json")]
    assert patch[0].body == preview.patches["InferenceService llama-small"]


def test_growing_the_pvc_works(session: EditSession, api: Api, sandbox: Sandbox, follow: Follow) -> None:
    follow("llama-small").advance_until(ready)  # only a bound claim can grow
    bigger = edited(session.original, storage={"size": "40Gi"})
    preview = session.preview(bigger)
    lines = preview.lines()
    assert "update PersistentVolumeClaim llama-small-cache (2 operations):" in lines
    assert '  ~ /spec/resources/requests/storage: "20Gi" -> "40Gi"' in lines
    assert any(
        line.startswith("  + /metadata/annotations/runtimes.opendatahub.io~1force-redeploy") for line in lines
    )
    session.apply(bigger)
    advance(sandbox, 30)  # the resizer finishes
    pvc = api.get(api_version="v1", kind=PVC, name="llama-small-cache", namespace="demo")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "40Gi"
    assert pvc["status"]["capacity"]["storage"] == "40Gi"


def test_shrinking_the_pvc_is_refused_before_any_api_call(session: EditSession, sandbox: Sandbox) -> None:
    smaller = edited(session.original, storage={"size": "10Gi"})
    sandbox.log.clear()
    for attempt in (session.preview, session.apply):
        with pytest.raises(EditRefused) as caught:
            attempt(smaller)
        assert caught.value.bad_input
        assert caught.value.causes == {
            "storage.size": 'Storage can only grow: "llama-small-cache" is 20Gi now, 10Gi is smaller'
        }
    assert sandbox.log.entries == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"model": "llama-3.1-8b-instruct"}, "model"),
        ({"name": "other-name"}, "name"),
        ({"storage": {"pvcName": "llama-3-1-8b-cache"}}, "storage.pvcName"),
        ({"storage": {"subPath": "elsewhere"}}, "storage.subPath"),
    ],
)
def test_locked_fields_are_refused(
    session: EditSession, sandbox: Sandbox, change: dict[str, object], field: str
) -> None:
    sandbox.log.clear()
    with pytest.raises(EditRefused) as caught:
        session.apply(edited(session.original, **change))
    assert field in caught.value.causes
    assert sandbox.log.entries == []


def test_a_stopped_deployment_is_restarted_by_the_edit(session: EditSession, api: Api) -> None:
    control.stop(api=api, namespace="demo", name="llama-small")
    fresh = EditSession.open(api=api, namespace="demo", name="llama-small")
    preview = fresh.preview(fresh.original)
    assert preview.lines() == [
        "unchanged ServingRuntime llama-small",
        "unchanged InferenceService llama-small",
        'restart InferenceService llama-small: serving.kserve.io/stop "true" -> "false"',
    ]
    fresh.apply(fresh.original)
    live = api.get(api_version=IS_API, kind="InferenceService", name="llama-small", namespace="demo")
    assert live["metadata"]["annotations"]["serving.kserve.io/stop"] == "false"


def test_export_round_trips_through_the_spec_file(session: EditSession, api: Api) -> None:
    request = export_request(api=api, namespace="demo", name="llama-small")
    text = dump_spec(request=request)
    assert load_spec(text=text) == request == session.original
    assert "mode: existing" in text and "pvcName: llama-small-cache" in text


def test_a_dashboard_made_deployment_can_be_edited(api: Api, sandbox: Sandbox, follow: Follow) -> None:
    api.create(body=dash.pull_secret(key="nvapi-good-key"))
    api.create(body=dash.wizard_pvc(name="wizard-cache", sub_path="llama"))
    api.create(body=dash.wizard_runtime(name="from-wizard", pvc="wizard-cache", sub_path="llama"))
    api.create(body=dash.wizard_inference_service(name="from-wizard", display_name="From the wizard"))
    follow("from-wizard").advance_until(ready)
    session = EditSession.open(api=api, namespace="demo", name="from-wizard")
    original = session.original
    assert (original.storage.pvc_name, original.storage.sub_path) == ("wizard-cache", "llama")
    assert original.resources.requests == {} and original.hardware_profile == "opendatahub/nvidia-gpu-1x"
    preview = session.preview(edited(original, replicas=2))
    isvc_lines = [line for line in preview.lines() if "Replicas" in line]
    assert isvc_lines == [
        "  ~ /spec/predictor/minReplicas: 1 -> 2",
        "  ~ /spec/predictor/maxReplicas: 1 -> 2",
    ]
    # the dashboard's profile annotation named an older resourceVersion: the edit says it refreshes it
    assert any("hardware-profile-resource-version" in line for line in preview.lines())
    session.apply(edited(original, replicas=2))
    live = api.get(api_version=IS_API, kind="InferenceService", name="from-wizard", namespace="demo")
    assert live["spec"]["predictor"]["minReplicas"] == 2


def test_a_deployment_without_cache_pvc_cannot_be_read_back(api: Api) -> None:
    runtime = dash.wizard_runtime(name="no-cache", pvc="x")
    spec = runtime["spec"]
    spec["volumes"] = spec["volumes"][:-1]
    spec["containers"][0]["volumeMounts"] = spec["containers"][0]["volumeMounts"][:-1]
    api.create(body=runtime)
    api.create(body=dash.wizard_inference_service(name="no-cache", display_name="No cache"))
    with pytest.raises(ExtractError) as caught:
        EditSession.open(api=api, namespace="demo", name="no-cache")
    assert str(caught.value) == (
        "Cannot read this deployment back: no-cache has no model cache PVC mounted at /mnt/models/cache."
    )
