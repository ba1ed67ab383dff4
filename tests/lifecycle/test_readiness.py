"""Following a deployment on the sandbox: each stage and each failure, in plain words."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from lifecycle import dashboard_objects as dash
from lifecycle.conftest import FollowRun, advance, ready, request_for
from nim_widget.cluster.api import Api
from nim_widget.deploy import deploy
from nim_widget.lifecycle import control
from nim_widget.lifecycle.errors import DeploymentNotFound
from nim_widget.lifecycle.readiness import Follower, Progress, follow
from nim_widget.lifecycle.stages import Stage
from nim_widget.request import DeploymentRequest
from nim_widget.sandbox import Sandbox

Follow = Callable[..., FollowRun]


def test_a_new_deployment_goes_through_every_stage_to_ready(
    deployed: DeploymentRequest, follow: Follow
) -> None:
    run = follow(deployed.name)
    final = run.advance_until(ready)
    assert final.stage is Stage.READY
    assert final.message == "Ready at http://llama-small-predictor.demo.svc.cluster.local"
    assert run.stages() == [
        Stage.PENDING,
        Stage.SCHEDULING,
        Stage.STORAGE,
        Stage.SCHEDULING,
        Stage.PULLING,
        Stage.DOWNLOADING,
        Stage.LOADING,
        Stage.READY,
    ]
    messages = [p.message for p in run.seen]
    assert "Waiting for storage: the model cache PVC llama-small-cache is being provisioned." in messages
    assert any(m.startswith("Pulling the image nvcr.io/nim/meta/llama-3.2-1b-instruct:") for m in messages)
    assert any(m.startswith("Downloading the model into the cache") for m in messages)
    result = run.finish()
    assert result.ready and not result.timed_out
    assert result.progress.elapsed == pytest.approx(final.elapsed)
    assert 20 < result.progress.elapsed < 120  # fake-clock seconds, as the sandbox's timings add up


def test_following_uses_watches_not_polling(
    sandbox: Sandbox, deployed: DeploymentRequest, follow: Follow
) -> None:
    run = follow(deployed.name)
    run.settle()
    run.watching()
    sandbox.log.clear()
    advance(sandbox, 300)  # everything happens at once; only the watches may tell the follower
    result = run.finish()
    assert result.ready
    assert [e for e in sandbox.log.entries if e.verb in ("get", "list")] == []


def test_unschedulable_gpu_request_is_explained_then_times_out(
    api: Api, sandbox: Sandbox, follow: Follow
) -> None:
    request = request_for(displayName="Too big", hardwareProfile="nvidia-gpu-4x")
    deploy(api=api, request=request, clock=sandbox.clock)
    run = follow(request.name, timeout=60)
    progress = run.advance_until(lambda p: p.stage is Stage.SCHEDULING and "Insufficient" in p.message)
    assert (
        "no node can run the model server yet: not enough free nvidia.com/gpu on any node" in progress.message
    )
    assert "Insufficient nvidia.com/gpu" in progress.detail
    advance(sandbox, 61)
    result = run.finish()
    assert result.timed_out and not result.ready
    assert result.message.startswith("Not ready after 1m 0")
    assert "last stage: Scheduling: no node can run the model server yet" in result.message


def _wizard_deployment(api: Api, *, name: str, tag: str = "1.12.0", key_secret: str | None = None) -> None:
    """A deployment exactly as the dashboard's wizard writes it (which never creates ngc-secret)."""
    api.create(body=dash.wizard_pvc(name=f"{name}-cache"))
    runtime = dash.wizard_runtime(name=name, pvc=f"{name}-cache", tag=tag)
    if key_secret is not None:
        env = runtime["spec"]["containers"][0]["env"][0]
        env["valueFrom"]["secretKeyRef"]["name"] = key_secret
    api.create(body=runtime)
    api.create(body=dash.wizard_inference_service(name=name, display_name=name.title()))


def test_missing_pull_secret_is_named(api: Api, follow: Follow) -> None:
    _wizard_deployment(api, name="wizard-made")
    final = follow("wizard-made").advance_until(ready)
    assert final.stage is Stage.FAILED and final.failed_stage is Stage.PULLING
    assert final.message.startswith(
        "Failed: pulling the image failed: the pull secret ngc-secret does not exist"
    )
    assert "Unable to retrieve some image pull secrets (ngc-secret)" in final.detail


def test_rejected_pull_secret_points_at_the_key(api: Api, follow: Follow) -> None:
    api.create(body=dash.pull_secret(key="nvapi-invalid-key"))
    _wizard_deployment(api, name="bad-key")
    final = follow("bad-key").advance_until(ready)
    assert final.stage is Stage.FAILED
    assert final.message == (
        "Failed: pulling the image failed: nvcr.io refused the credentials: check that the pull secret "
        "ngc-secret holds a valid NGC API key."
    )
    assert "unauthorized: authentication required" in final.detail


def test_tag_missing_from_the_registry(api: Api, follow: Follow) -> None:
    api.create(body=dash.pull_secret(key="nvapi-good-key"))
    _wizard_deployment(api, name="old-tag", tag="9.9.9")
    final = follow("old-tag").advance_until(ready)
    assert final.stage is Stage.FAILED
    assert final.message == (
        "Failed: pulling the image failed: the image nvcr.io/nim/meta/llama-3.2-1b-instruct:9.9.9 does not "
        "exist on the registry (check the model tag)."
    )


def test_missing_key_secret_stops_the_container(api: Api, follow: Follow) -> None:
    api.create(body=dash.pull_secret(key="nvapi-good-key"))
    _wizard_deployment(api, name="no-key", key_secret="nim-key-missing")
    final = follow("no-key").advance_until(ready)
    assert final.stage is Stage.FAILED
    assert final.message.startswith(
        "Failed: the model server container could not start: the secret nim-key-missing does not exist"
    )


def test_rejected_ngc_key_crash_loops(api: Api, follow: Follow) -> None:
    api.create(body=dash.pull_secret(key="nvapi-good-key"))
    bad = base64.b64encode(b"nvapi-invalid").decode()
    api.create(
        body={
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "bad-key", "namespace": "demo"},
            "data": {"NGC_API_KEY": bad},
        }
    )
    _wizard_deployment(api, name="crashing", key_secret="bad-key")
    final = follow("crashing").advance_until(ready)
    assert final.stage is Stage.FAILED and final.failed_stage is Stage.LOADING
    assert final.message.startswith("Failed: the model server keeps crashing after 1 restart(s)")
    assert "exit code 1" in final.message


def test_storage_that_cannot_be_provisioned(api: Api, sandbox: Sandbox, follow: Follow) -> None:
    request = request_for(
        displayName="Local cache", storage={"mode": "new", "size": "20Gi", "storageClass": "local-nvme"}
    )
    deploy(api=api, request=request, clock=sandbox.clock)
    run = follow(request.name, timeout=120)
    progress = run.advance_until(lambda p: p.stage is Stage.STORAGE)
    assert progress.message == (
        "Waiting for storage: the model cache PVC local-cache-cache cannot be provisioned yet "
        "(FailedBinding: no persistent volumes available for this claim)."
    )


def test_stopped_deployment_ends_the_wait(
    api: Api, sandbox: Sandbox, deployed: DeploymentRequest, follow: Follow
) -> None:
    follow(deployed.name).advance_until(ready)
    run = follow(deployed.name)
    assert run.settle().stage is Stage.READY  # a ready deployment is reported at once
    control.stop(api=api, namespace="demo", name=deployed.name)
    run = follow(deployed.name)
    final = run.advance_until(ready)
    assert final.stage is Stage.STOPPED
    assert final.message == "Stopped: the model server is scaled to zero. Start it to serve again."


def test_deleting_while_following_fails_the_wait(
    api: Api, deployed: DeploymentRequest, follow: Follow
) -> None:
    run = follow(deployed.name)
    run.settle()
    api.delete(
        api_version="serving.kserve.io/v1beta1", kind="InferenceService", name=deployed.name, namespace="demo"
    )
    result = run.finish()
    assert result.progress.stage is Stage.FAILED
    assert result.progress.message == "Failed: the deployment llama-small does not exist in project demo."


def test_cancel_returns_promptly(deployed: DeploymentRequest, follow: Follow) -> None:
    run = follow(deployed.name)
    run.settle()
    run.follower.cancel()
    result = run.finish()
    assert result.cancelled and result.message.startswith("Stopped following; last stage: ")


def test_follow_of_an_unknown_name_is_bad_input(api: Api, sandbox: Sandbox) -> None:
    with pytest.raises(DeploymentNotFound) as caught:
        follow(api=api, namespace="demo", name="nope", clock=sandbox.clock)
    assert caught.value.bad_input
    assert str(caught.value) == 'Deployment not found: No model deployment named "nope" in project demo.'


def test_follower_on_a_ready_deployment_reports_once(
    api: Api, sandbox: Sandbox, deployed: DeploymentRequest, follow: Follow
) -> None:
    follow(deployed.name).advance_until(ready)
    seen: list[Progress] = []
    result = Follower(
        api=api, namespace="demo", name=deployed.name, on_progress=seen.append, clock=sandbox.clock
    ).run()
    assert result.ready and [p.stage for p in seen] == [Stage.READY]
