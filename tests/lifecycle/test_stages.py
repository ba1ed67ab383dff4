"""The stage logic alone: hand-written snapshots in the shapes a real cluster reports."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from nim_widget.lifecycle.stages import Progress, Snapshot, Stage, observe

IMAGE = "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.2.2"


def isvc(**status: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "llama", "namespace": "demo", "generation": 1, "annotations": {}},
        "spec": {
            "predictor": {"model": {"runtime": "llama", "modelFormat": {"name": "llama-3.1-8b-instruct"}}}
        },
        "status": status,
    }
    return obj


def runtime() -> dict[str, Any]:
    return {
        "metadata": {"name": "llama"},
        "spec": {
            "containers": [
                {
                    "name": "kserve-container",
                    "image": IMAGE,
                    "volumeMounts": [{"name": "cache", "mountPath": "/mnt/models/cache", "subPath": "llama"}],
                }
            ],
            "volumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": "llama-cache"}}],
        },
    }


def pvc(phase: str = "Bound") -> dict[str, Any]:
    return {"metadata": {"name": "llama-cache"}, "status": {"phase": phase}}


def pod(*, scheduled: bool = True, container: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    conditions = [{"type": "PodScheduled", "status": "True" if scheduled else "False"}]
    if not scheduled:
        conditions[0].update(reason="Unschedulable", message=extra.pop("message", ""))
    status: dict[str, Any] = {"phase": "Pending" if not container else "Running", "conditions": conditions}
    if container is not None:
        status["containerStatuses"] = [{"name": "kserve-container", "image": IMAGE, **container}]
    status.update(extra)
    return {
        "metadata": {
            "name": "llama-predictor-abc",
            "labels": {"serving.kserve.io/inferenceservice": "llama"},
        },
        "spec": {
            "containers": [{"name": "kserve-container", "image": IMAGE}],
            "imagePullSecrets": [{"name": "ngc-secret"}],
        },
        "status": status,
    }


def event(
    kind: str, name: str, reason: str, message: str, *, warning: bool = True, t: int = 0
) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{name}.{t}", "resourceVersion": str(100 + t)},
        "involvedObject": {"kind": kind, "name": name},
        "reason": reason,
        "message": message,
        "type": "Warning" if warning else "Normal",
        "lastTimestamp": f"2026-01-01T00:00:{t:02d}Z",
    }


def see(*, inference_service: dict[str, Any] | None = None, **kw: Any) -> Progress:
    kw.setdefault("runtime", runtime())
    kw.setdefault("pvc", pvc())
    return observe(Snapshot(name="llama", namespace="demo", inference_service=inference_service, **kw))


def test_missing_deployment_fails_with_its_name() -> None:
    progress = see(inference_service=None)
    assert progress.stage is Stage.FAILED
    assert "llama does not exist in project demo" in progress.message


def test_no_pod_yet_is_starting() -> None:
    progress = see(inference_service=isvc())
    assert progress.stage is Stage.PENDING
    assert progress.title == "Starting"
    assert "pod" in progress.message


def test_pending_pvc_with_provisioning_failure_says_why() -> None:
    events = [
        event("PersistentVolumeClaim", "llama-cache", "ProvisioningFailed", 'storageclass "fast" not found')
    ]
    progress = see(inference_service=isvc(), pvc=pvc("Pending"), pods=[pod(scheduled=False)], events=events)
    assert progress.stage is Stage.STORAGE
    assert progress.message == (
        "Waiting for storage: the model cache PVC llama-cache cannot be provisioned yet "
        '(ProvisioningFailed: storageclass "fast" not found).'
    )


def test_wait_for_first_consumer_is_not_a_storage_wait() -> None:
    events = [event("PersistentVolumeClaim", "llama-cache", "WaitForFirstConsumer", "waiting", warning=False)]
    progress = see(inference_service=isvc(), pvc=pvc("Pending"), pods=[pod(scheduled=False)], events=events)
    assert progress.stage is Stage.SCHEDULING


def test_missing_pvc_is_a_failure() -> None:
    progress = see(inference_service=isvc(), pvc=None)
    assert progress.stage is Stage.FAILED
    assert progress.failed_stage is Stage.STORAGE
    assert "PVC llama-cache does not exist" in progress.message


def test_unschedulable_gpu_request_names_the_resource() -> None:
    message = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    progress = see(inference_service=isvc(), pods=[pod(scheduled=False, message=message)])
    assert progress.stage is Stage.SCHEDULING
    assert "not enough free nvidia.com/gpu on any node" in progress.message
    assert "Insufficient nvidia.com/gpu" in progress.message


def test_scheduling_reads_the_event_when_the_condition_has_no_message() -> None:
    events = [
        event(
            "Pod",
            "llama-predictor-abc",
            "FailedScheduling",
            "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
        )
    ]
    progress = see(inference_service=isvc(), pods=[pod(scheduled=False)], events=events)
    assert progress.stage is Stage.SCHEDULING
    assert "node selector" in progress.message


def test_container_creating_is_pulling() -> None:
    p = pod(container={"state": {"waiting": {"reason": "ContainerCreating"}}, "ready": False})
    events = [event("Pod", "llama-predictor-abc", "Pulling", f'Pulling image "{IMAGE}"', warning=False)]
    progress = see(inference_service=isvc(), pods=[p], events=events)
    assert progress.stage is Stage.PULLING
    assert progress.message.startswith(f"Pulling the image {IMAGE}")


@pytest.mark.parametrize(
    ("failed_message", "expected"),
    [
        (
            f'Failed to pull image "{IMAGE}": unauthorized: authentication required',
            "nvcr.io refused the credentials: check that the pull secret ngc-secret holds a valid NGC API",
        ),
        (
            f'Failed to pull image "{IMAGE}": manifest unknown: manifest unknown',
            f"the image {IMAGE} does not exist on the registry (check the model tag)",
        ),
        (f'Failed to pull image "{IMAGE}": 402 Payment Required', "not entitled to this NIM"),
    ],
)
def test_pull_failures_are_explained(failed_message: str, expected: str) -> None:
    p = pod(container={"state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off"}}})
    events = [event("Pod", "llama-predictor-abc", "Failed", failed_message)]
    progress = see(inference_service=isvc(), pods=[p], events=events)
    assert progress.stage is Stage.FAILED
    assert progress.failed_stage is Stage.PULLING
    assert expected in progress.message
    assert progress.detail == failed_message


def test_missing_pull_secret_is_named() -> None:
    p = pod(container={"state": {"waiting": {"reason": "ErrImagePull"}}})
    events = [
        event(
            "Pod",
            "llama-predictor-abc",
            "FailedToRetrieveImagePullSecret",
            "Unable to retrieve some image pull secrets (ngc-secret); attempting to pull the image may not "
            "succeed.",
            t=1,
        ),
        event("Pod", "llama-predictor-abc", "Failed", "unauthorized: authentication required", t=2),
    ]
    progress = see(inference_service=isvc(), pods=[p], events=events)
    assert progress.stage is Stage.FAILED
    assert "the pull secret ngc-secret does not exist in the project" in progress.message


def test_missing_api_key_secret_stops_the_container() -> None:
    waiting = {"reason": "CreateContainerConfigError", "message": 'secret "nvidia-nim-secrets" not found'}
    progress = see(inference_service=isvc(), pods=[pod(container={"state": {"waiting": waiting}})])
    assert progress.stage is Stage.FAILED
    assert "the secret nvidia-nim-secrets does not exist in the project" in progress.message


def test_crash_loop_reports_the_termination_message() -> None:
    container = {
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"reason": "Error", "message": "NGC API key is invalid", "exitCode": 1}},
        "restartCount": 3,
    }
    progress = see(inference_service=isvc(), pods=[pod(container=container)])
    assert progress.stage is Stage.FAILED
    assert progress.message == (
        "Failed: the model server keeps crashing after 3 restart(s): NGC API key is invalid (exit code 1)"
    )


def test_oom_kill_suggests_more_memory() -> None:
    container = {
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
        "restartCount": 1,
    }
    progress = see(inference_service=isvc(), pods=[pod(container=container)])
    assert "ran out of memory" in progress.message


def test_running_not_ready_is_downloading_then_loading() -> None:
    running = pod(container={"state": {"running": {}}, "ready": False})
    assert see(inference_service=isvc(), pods=[running]).stage is Stage.DOWNLOADING
    loading = isvc(modelStatus={"states": {"activeModelState": "Pending", "targetModelState": "Loading"}})
    progress = see(inference_service=loading, pods=[running])
    assert progress.stage is Stage.LOADING
    assert progress.message.startswith("Loading the model")


def test_ready_needs_the_current_generation() -> None:
    ready = isvc(
        conditions=[{"type": "Ready", "status": "True"}],
        url="https://llama-demo.apps.example.com",
        address={"url": "http://llama-predictor.demo.svc.cluster.local"},
        observedGeneration=1,
    )
    progress = see(inference_service=ready)
    assert progress.stage is Stage.READY
    assert progress.message == "Ready at https://llama-demo.apps.example.com"
    assert progress.internal_url == "http://llama-predictor.demo.svc.cluster.local"
    stale = copy.deepcopy(ready)
    stale["metadata"]["generation"] = 2
    assert see(inference_service=stale).stage is Stage.PENDING


def test_model_load_failure_uses_last_failure_info() -> None:
    failed = isvc(
        modelStatus={
            "transitionStatus": "BlockedByFailedLoad",
            "states": {"activeModelState": "FailedToLoad", "targetModelState": "FailedToLoad"},
            "lastFailureInfo": {"reason": "ModelLoadFailed", "message": "out of disk space", "exitCode": 1},
        }
    )
    progress = see(inference_service=failed)
    assert progress.stage is Stage.FAILED
    assert progress.message == "Failed: the model failed to load: out of disk space (exit code 1)"


def test_no_supporting_runtime_names_the_format() -> None:
    failed = isvc(modelStatus={"lastFailureInfo": {"reason": "NoSupportingRuntime", "message": "none"}})
    assert (
        "no serving runtime supports the model format llama-3.1-8b-instruct"
        in see(inference_service=failed).message
    )


def test_stop_annotation_wins() -> None:
    stopped = isvc(conditions=[{"type": "Ready", "status": "False"}])
    stopped["metadata"]["annotations"]["serving.kserve.io/stop"] = "true"
    progress = see(inference_service=stopped, pods=[pod(scheduled=False)])
    assert progress.stage is Stage.STOPPED
    assert progress.terminal


def test_least_advanced_pod_is_shown() -> None:
    ahead = pod(container={"state": {"running": {}}, "ready": False})
    behind = copy.deepcopy(pod(container={"state": {"waiting": {"reason": "ContainerCreating"}}}))
    behind["metadata"]["name"] = "llama-predictor-def"
    assert see(inference_service=isvc(), pods=[ahead, behind]).stage is Stage.PULLING


def test_same_as_ignores_elapsed_time() -> None:
    a = Progress(Stage.PULLING, "x", elapsed=1.0)
    assert a.same_as(Progress(Stage.PULLING, "x", elapsed=9.0))
    assert not a.same_as(Progress(Stage.PULLING, "y"))
    assert a.to_dict()["title"] == "Pulling the image"


def test_started_again_before_kserve_catches_up_is_starting() -> None:
    restarting = isvc(conditions=[{"type": "Stopped", "status": "True"}])
    restarting["metadata"]["annotations"]["serving.kserve.io/stop"] = "false"
    progress = see(inference_service=restarting)
    assert (progress.stage, progress.message) == (
        Stage.PENDING,
        "Starting: the model server is being started again.",
    )


def test_probe_events_ahead_of_the_pod_update_mean_the_container_started() -> None:
    p = pod(container={"state": {"waiting": {"reason": "ContainerCreating"}}})
    events = [
        event("Pod", "llama-predictor-abc", "Pulling", "Pulling image", warning=False, t=1),
        event("Pod", "llama-predictor-abc", "Unhealthy", "Readiness probe failed", t=9),
    ]
    assert see(inference_service=isvc(), pods=[p], events=events).stage is Stage.DOWNLOADING


def test_storage_initializer_copying_is_loading() -> None:
    p = pod(container={"state": {"waiting": {"reason": "PodInitializing"}}})
    p["status"]["initContainerStatuses"] = [
        {
            "name": "storage-initializer",
            "image": "kserve/storage-initializer:v0.15.2",
            "state": {"running": {}},
        }
    ]
    progress = see(inference_service=isvc(), pods=[p])
    assert progress.stage is Stage.LOADING
    assert progress.message == "Loading the model: storage-initializer is copying it into place."


def test_runtime_not_recognised_waits_only_while_the_runtime_exists() -> None:
    waiting = isvc(
        modelStatus={
            "transitionStatus": "InvalidSpec",
            "lastFailureInfo": {"reason": "RuntimeNotRecognized", "message": "Waiting"},
        }
    )
    progress = see(inference_service=waiting)
    assert progress.stage is Stage.PENDING
    assert progress.message == "Starting: waiting for the serving runtime llama to be recognised."
    missing = see(inference_service=waiting, runtime=None, pvc=None)
    assert missing.stage is Stage.FAILED
    assert missing.message == "Failed: the serving runtime llama does not exist in project demo."


def test_a_claim_without_volumes_is_a_storage_problem() -> None:
    events = [
        event(
            "PersistentVolumeClaim",
            "llama-cache",
            "FailedBinding",
            "no persistent volumes available for this claim",
            warning=False,
        )
    ]
    progress = see(inference_service=isvc(), pvc=pvc("Pending"), events=events)
    assert progress.stage is Stage.STORAGE and "cannot be provisioned yet (FailedBinding" in progress.message
