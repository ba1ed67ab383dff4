"""Turn what the cluster says about a deployment into one plain-language stage.

A NIM takes minutes to start, and the cluster spreads the reason across five objects: the
InferenceService's conditions and modelStatus, the predictor Pods' phase and container states, the
PVC's phase and the namespace's Events. People want one sentence ("Pulling the image", "no node has
a free GPU"), so `observe` folds a `Snapshot` of those objects into a `Progress`. It is pure: the
readiness follower, the deployment list and the tests all feed it dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nim_widget.lifecycle import kinds as k
from nim_widget.lifecycle.pods import events_for, latest, pod_progress
from nim_widget.lifecycle.progress import ORDER, STAGE_TITLES, TERMINAL, Progress, Snapshot, Stage

__all__ = ["STAGE_TITLES", "TERMINAL", "Progress", "Snapshot", "Stage", "observe"]


def observe(snapshot: Snapshot) -> Progress:
    """The single stage that best describes the deployment now."""
    isvc = snapshot.inference_service
    if isvc is None:
        return Progress(
            Stage.FAILED,
            f"Failed: the deployment {snapshot.name} does not exist in project {snapshot.namespace}.",
            failed_stage=Stage.PENDING,
        )
    if k.meta(isvc).get("deletionTimestamp"):
        return Progress(Stage.FAILED, f"Failed: the deployment {snapshot.name} is being deleted.")
    external, internal = _urls(isvc)
    if k.is_stopped(isvc):
        return Progress(
            Stage.STOPPED,
            "Stopped: the model server is scaled to zero. Start it to serve again.",
            url=external,
            internal_url=internal,
        )
    stopped = k.condition(isvc, "Stopped")
    if stopped and stopped.get("status") == "True":  # started again; KServe has not caught up yet
        return Progress(Stage.PENDING, "Starting: the model server is being started again.")
    pods = [p for p in snapshot.pods if not k.meta(p).get("deletionTimestamp")]
    per_pod = [pod_progress(p, snapshot) for p in pods]
    failures = [p for p in per_pod if p.stage is Stage.FAILED]
    if failures:
        return failures[0]
    status_failure = _status_failure(isvc, snapshot)
    if status_failure is not None:
        return status_failure
    if _ready(isvc):
        url = external or internal
        return Progress(Stage.READY, f"Ready at {url}" if url else "Ready.", url=url, internal_url=internal)
    storage = _storage_progress(snapshot)
    if storage is not None:
        return storage
    if per_pod:
        return min(per_pod, key=lambda p: ORDER[p.stage])
    return _no_pod_progress(isvc)


# -- the InferenceService --------------------------------------------------------------------------


def _urls(isvc: Mapping[str, Any]) -> tuple[str | None, str | None]:
    status = isvc.get("status") or {}
    external = status.get("url") or None
    internal = ((status.get("address") or {}).get("url")) or None
    return (str(external) if external else None), (str(internal) if internal else None)


def _ready(isvc: Mapping[str, Any]) -> bool:
    ready = k.condition(isvc, "Ready")
    if not ready or ready.get("status") != "True":
        return False
    generation = k.meta(isvc).get("generation")
    observed = (isvc.get("status") or {}).get("observedGeneration")
    return generation is None or observed is None or int(observed) >= int(generation)


_FAILURE_WORDS = {
    "ModelLoadFailed": "the model failed to load",
    "RuntimeUnhealthy": "the model server is unhealthy",
    "RuntimeDisabled": "the serving runtime is disabled",
    "NoSupportingRuntime": "no serving runtime supports this model format",
    "InvalidPredictorSpec": "the predictor specification is invalid",
}


def _status_failure(isvc: Mapping[str, Any], snapshot: Snapshot) -> Progress | None:
    status = isvc.get("status") or {}
    model_status = status.get("modelStatus") or {}
    states = model_status.get("states") or {}
    info = model_status.get("lastFailureInfo") or {}
    reason = str(info.get("reason") or "")
    if reason == "RuntimeNotRecognized":
        runtime = k.runtime_name(isvc)
        if snapshot.runtime is None:
            return Progress(
                Stage.FAILED,
                f"Failed: the serving runtime {runtime} does not exist in project {snapshot.namespace}.",
                detail=str(info.get("message") or ""),
                failed_stage=Stage.PENDING,
            )
        return None  # a runtime created just after its InferenceService: KServe catches up
    failed = (
        model_status.get("transitionStatus") in ("BlockedByFailedLoad", "InvalidSpec")
        or "FailedToLoad" in (states.get("activeModelState"), states.get("targetModelState"))
        or reason in ("NoSupportingRuntime", "InvalidPredictorSpec", "RuntimeDisabled")
    )
    if failed:
        words = _FAILURE_WORDS.get(reason, "the model server failed")
        if reason == "NoSupportingRuntime":
            model_format = (k.predictor_model(isvc).get("modelFormat") or {}).get("name")
            if model_format:
                words = f"no serving runtime supports the model format {model_format}"
        detail = str(info.get("message") or "")
        if info.get("exitCode") not in (None, 0):
            detail = f"{detail} (exit code {info['exitCode']})".strip()
        return Progress(
            Stage.FAILED,
            f"Failed: {words}" + (f": {detail}" if detail else "."),
            detail=detail,
            failed_stage=Stage.LOADING,
        )
    predictor = k.condition(isvc, "PredictorReady") or {}
    if predictor.get("status") == "False" and predictor.get("reason") == "ProgressDeadlineExceeded":
        detail = str(predictor.get("message") or "")
        return Progress(
            Stage.FAILED,
            "Failed: the model server did not become ready before the rollout deadline"
            + (f": {detail}" if detail else "."),
            detail=detail,
            failed_stage=Stage.LOADING,
        )
    return None


def _no_pod_progress(isvc: Mapping[str, Any]) -> Progress:
    status = isvc.get("status") or {}
    info = (status.get("modelStatus") or {}).get("lastFailureInfo") or {}
    if info.get("reason") == "RuntimeNotRecognized":
        runtime = k.runtime_name(isvc)
        return Progress(
            Stage.PENDING,
            f"Starting: waiting for the serving runtime {runtime} to be recognised.",
            detail=str(info.get("message") or ""),
        )
    ready = k.condition(isvc, "Ready")
    generation = k.meta(isvc).get("generation")
    observed = status.get("observedGeneration")
    if ready and ready.get("status") == "True" and observed is not None and generation is not None:
        return Progress(Stage.PENDING, f"Starting: applying the change (generation {generation}).")
    return Progress(Stage.PENDING, "Starting: waiting for the model server pod to be created.")


# -- storage -----------------------------------------------------------------------------------------


def _storage_progress(snapshot: Snapshot) -> Progress | None:
    expected = snapshot.expected_pvc
    if not expected:
        return None
    pvc = snapshot.pvc
    if pvc is None:
        return Progress(
            Stage.FAILED,
            f"Failed: the model cache PVC {expected} does not exist in project {snapshot.namespace}.",
            failed_stage=Stage.STORAGE,
        )
    phase = str((pvc.get("status") or {}).get("phase") or "Pending")
    if phase == "Bound":
        return None
    if phase == "Lost":
        return Progress(
            Stage.FAILED,
            f"Failed: the model cache PVC {expected} lost its volume.",
            failed_stage=Stage.STORAGE,
        )
    event = latest(events_for(snapshot.events, "PersistentVolumeClaim", expected))
    if event is None or event.get("reason") == "WaitForFirstConsumer":
        return None  # the volume is made once the Pod has a node: the Pod's scheduling is the wait
    reason = str(event.get("reason") or "")
    detail = str(event.get("message") or "")
    if event.get("type") == "Warning" or reason in _STORAGE_PROBLEMS:
        return Progress(
            Stage.STORAGE,
            f"Waiting for storage: the model cache PVC {expected} cannot be provisioned yet "
            f"({reason}: {detail}).",
            detail=detail,
        )
    return Progress(
        Stage.STORAGE, f"Waiting for storage: the model cache PVC {expected} is being provisioned."
    )


_STORAGE_PROBLEMS = frozenset({"ProvisioningFailed", "FailedBinding", "ClaimLost", "ClaimMisbound"})
