"""Stop and start: the dashboard's JSON patch on `serving.kserve.io/stop`, and KServe's reaction."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lifecycle.conftest import FollowRun, advance, ready
from nim_widget.cluster.api import Api
from nim_widget.lifecycle import control
from nim_widget.lifecycle.errors import DeploymentNotFound
from nim_widget.lifecycle.stages import Stage
from nim_widget.request import DeploymentRequest
from nim_widget.sandbox import Sandbox

Follow = Callable[..., FollowRun]
STOP_OP = {"op": "add", "path": "/metadata/annotations/serving.kserve.io~1stop"}


def _pods(api: Api) -> list[dict[str, object]]:
    return api.list(
        api_version="v1",
        kind="Pod",
        namespace="demo",
        label_selector="serving.kserve.io/inferenceservice=llama-small",
    )


def test_stop_then_start(api: Api, sandbox: Sandbox, deployed: DeploymentRequest, follow: Follow) -> None:
    follow(deployed.name).advance_until(ready)
    assert len(_pods(api)) == 1

    sandbox.log.clear()
    result = control.stop(api=api, namespace="demo", name=deployed.name)
    assert result.changed and result.stopped
    assert result.message.startswith("llama-small stopped.")
    (patch,) = sandbox.log.writes()
    assert (patch.method, patch.content_type, patch.body) == (
        "PATCH",
        "application/json-patch+json",
        [{**STOP_OP, "value": "true"}],
    )
    assert follow(deployed.name).advance_until(ready).stage is Stage.STOPPED
    advance(sandbox, 10)
    assert _pods(api) == []

    assert not control.stop(api=api, namespace="demo", name=deployed.name).changed  # already stopped

    sandbox.log.clear()
    started = control.start(api=api, namespace="demo", name=deployed.name)
    assert started.changed and not started.stopped
    assert [e.body for e in sandbox.log.writes()] == [[{**STOP_OP, "value": "false"}]]
    assert follow(deployed.name).advance_until(ready).stage is Stage.READY
    assert not control.start(api=api, namespace="demo", name=deployed.name).changed


def test_dry_run_changes_nothing(api: Api, sandbox: Sandbox, deployed: DeploymentRequest) -> None:
    sandbox.log.clear()
    control.stop(api=api, namespace="demo", name=deployed.name, dry_run=True)
    assert [e.dry_run for e in sandbox.log.writes()] == [True]
    isvc = api.get(
        api_version="serving.kserve.io/v1beta1", kind="InferenceService", name=deployed.name, namespace="demo"
    )
    assert "serving.kserve.io/stop" not in isvc["metadata"]["annotations"]


def test_an_object_without_annotations_gets_the_map(api: Api, sandbox: Sandbox) -> None:
    body = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "bare", "namespace": "demo"},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "x"}, "runtime": "bare"}}},
    }
    api.create(body=body)
    sandbox.log.clear()
    control.stop(api=api, namespace="demo", name="bare")
    assert sandbox.log.writes()[0].body == [
        {"op": "add", "path": "/metadata/annotations", "value": {"serving.kserve.io/stop": "true"}}
    ]


def test_unknown_deployment(api: Api) -> None:
    with pytest.raises(DeploymentNotFound):
        control.start(api=api, namespace="demo", name="nope")
