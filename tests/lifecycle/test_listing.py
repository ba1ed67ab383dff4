"""The deployments table: dashboard-made and nim-widget-made deployments alike, one list per kind."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from lifecycle import dashboard_objects as dash
from lifecycle.conftest import FollowRun, advance, ready
from nim_widget.cluster.api import Api
from nim_widget.lifecycle.errors import DeploymentNotFound
from nim_widget.lifecycle.listing import format_age, get_deployment, list_deployments
from nim_widget.lifecycle.stages import Stage
from nim_widget.request import DeploymentRequest
from nim_widget.sandbox import Sandbox

Follow = Callable[..., FollowRun]


def _dashboard_made(api: Api) -> None:
    if api.try_get(api_version="v1", kind="Secret", name="ngc-secret", namespace="demo") is None:
        api.create(body=dash.pull_secret(key="nvapi-good-key"))
    api.create(body=dash.wizard_pvc(name="shared-cache", sub_path="llama"))
    api.create(body=dash.wizard_runtime(name="from-wizard", pvc="shared-cache", sub_path="llama"))
    api.create(
        body=dash.wizard_inference_service(name="from-wizard", display_name="From the wizard", replicas=1)
    )
    api.create(body=dash.legacy_pvc(name="nim-pvc-1724235302113k3j9x2a8q1l"))
    api.create(body=dash.legacy_runtime(name="from-modal", pvc="nim-pvc-1724235302113k3j9x2a8q1l"))
    api.create(body=dash.legacy_inference_service(name="from-modal", display_name="From the modal"))


def _not_a_nim(api: Api) -> None:
    runtime = dash.wizard_runtime(name="vllm", pvc="shared-cache")
    del runtime["metadata"]["annotations"]["runtimes.opendatahub.io/nvidia-nim"]
    runtime["spec"]["containers"][0]["image"] = "quay.io/modh/vllm:rhoai-2.20"
    api.create(body=runtime)
    isvc = dash.wizard_inference_service(name="vllm", display_name="Plain vLLM", gpu=False)
    api.create(body=isvc)


def test_dashboard_and_nim_widget_deployments_are_listed_alike(
    api: Api, sandbox: Sandbox, deployed: DeploymentRequest, follow: Follow
) -> None:
    _dashboard_made(api)
    _not_a_nim(api)
    follow(deployed.name).advance_until(ready)
    rows = list_deployments(api=api, namespace="demo", now=sandbox.clock.now())
    assert [r.name for r in rows] == ["from-modal", "from-wizard", "llama-small"]
    by_name = {r.name: r for r in rows}

    ours = by_name["llama-small"]
    assert ours.made_by == "nim-widget"
    assert (ours.display_name, ours.model, ours.tag) == ("Llama small", "llama-3.2-1b-instruct", "1.12.0")
    assert ours.state.stage is Stage.READY
    assert ours.url == ours.internal_url == "http://llama-small-predictor.demo.svc.cluster.local"
    assert (ours.min_replicas, ours.max_replicas, ours.ready_replicas) == (1, 1, 1)
    assert ours.replicas_text == "1/1"
    assert ours.hardware_profile == "opendatahub/nvidia-gpu-1x"
    assert (ours.pvc, ours.sub_path, ours.storage_size) == ("llama-small-cache", "", "20Gi")
    assert ours.age_seconds is not None and 20 < ours.age_seconds < 120

    wizard = by_name["from-wizard"]
    assert wizard.made_by == "dashboard"
    assert (wizard.display_name, wizard.model, wizard.tag) == (
        "From the wizard",
        "llama-3.2-1b-instruct",
        "1.12.0",
    )
    assert wizard.storage_text == "shared-cache/llama (20Gi)"
    assert wizard.state.stage is Stage.READY  # the world had no ngc-secret; the test made one

    modal = by_name["from-modal"]
    assert modal.made_by == "dashboard"
    assert modal.display_name == "From the modal"
    assert modal.pvc == "nim-pvc-1724235302113k3j9x2a8q1l" and modal.storage_size == "30Gi"
    assert modal.state.stage is Stage.READY
    assert modal.to_dict()["replicas"] == {"min": 1, "max": 1, "ready": 1}


def test_one_list_call_per_kind(api: Api, sandbox: Sandbox, deployed: DeploymentRequest) -> None:
    _dashboard_made(api)
    sandbox.log.clear()
    rows = list_deployments(api=api, namespace="demo")
    assert len(rows) == 3
    calls = sorted((e.verb, e.resource) for e in sandbox.log.entries)
    assert calls == [
        ("list", "events"),
        ("list", "inferenceservices"),
        ("list", "persistentvolumeclaims"),
        ("list", "pods"),
        ("list", "servingruntimes"),
    ]
    pod_list = next(e for e in sandbox.log.entries if e.resource == "pods")
    assert pod_list.query["labelSelector"] == ["serving.kserve.io/inferenceservice"]


def test_state_in_the_list_explains_a_failure(api: Api, sandbox: Sandbox) -> None:
    api.create(body=dash.wizard_pvc(name="broken-cache"))
    api.create(body=dash.wizard_runtime(name="broken", pvc="broken-cache"))
    api.create(body=dash.wizard_inference_service(name="broken", display_name="Broken"))
    advance(sandbox, 60)
    (row,) = list_deployments(api=api, namespace="demo")
    assert row.state.stage is Stage.FAILED
    assert "the pull secret ngc-secret does not exist in the project" in row.state.message
    assert row.to_dict()["state"] == "failed"


def test_stopped_deployments_say_so(api: Api, sandbox: Sandbox, deployed: DeploymentRequest) -> None:
    isvc = api.get(
        api_version="serving.kserve.io/v1beta1", kind="InferenceService", name=deployed.name, namespace="demo"
    )
    changed = copy.deepcopy(isvc)
    changed["metadata"]["annotations"]["serving.kserve.io/stop"] = "true"
    api.json_patch(old=isvc, new=changed)
    (row,) = list_deployments(api=api, namespace="demo")
    assert row.stopped and row.state.stage is Stage.STOPPED


def test_single_deployment_and_unknown_names(api: Api, deployed: DeploymentRequest) -> None:
    row = get_deployment(api=api, namespace="demo", name=deployed.name)
    assert row.name == deployed.name
    with pytest.raises(DeploymentNotFound) as caught:
        get_deployment(api=api, namespace="demo", name="nope")
    assert caught.value.bad_input


def test_empty_project(api: Api) -> None:
    assert list_deployments(api=api, namespace="opendatahub") == []


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "?"), (5, "5s"), (61, "1m"), (7200, "2h"), (200000, "2d")]
)
def test_age_format(seconds: float | None, text: str) -> None:
    assert format_age(seconds) == text
