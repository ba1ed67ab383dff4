"""What a predictor Pod and its Events say, in plain words: scheduling, pulling, starting, crashing.

The kubelet and the scheduler report through a Pod's conditions and container states and through
Events that arrive on a separate watch; these readers combine both, and tolerate either arriving
first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nim_widget.lifecycle import kinds as k
from nim_widget.lifecycle.progress import Progress, Snapshot, Stage

DOWNLOADING_MESSAGE = (
    "Downloading the model into the cache: the first start of a NIM downloads several GB; "
    "later starts reuse the cache."
)

# -- Pods --------------------------------------------------------------------------------------------

_STARTED_EVENTS = frozenset({"Pulled", "Created", "Started", "Unhealthy"})
_PULL_ERRORS = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable"}
)
_START_ERRORS = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})


def pod_progress(pod: Mapping[str, Any], snapshot: Snapshot) -> Progress:
    status = pod.get("status") or {}
    name = k.name_of(pod)
    events = events_for(snapshot.events, "Pod", name)
    phase = status.get("phase")
    if phase == "Failed":
        detail = str(status.get("message") or status.get("reason") or "")
        return Progress(
            Stage.FAILED,
            f"Failed: the model server pod {name} failed" + (f": {detail}" if detail else "."),
            detail=detail,
            failed_stage=Stage.LOADING,
        )
    condition = k.condition(pod, "PodScheduled")
    if (condition and condition.get("status") == "False") or not scheduled(pod):
        return _scheduling_progress(pod, condition, events, snapshot)
    init = _init_progress(pod, events)
    if init is not None:
        return init
    container = _main_status(pod)
    state = container.get("state") or {}
    waiting = state.get("waiting") or {}
    reason = str(waiting.get("reason") or "")
    image = str(container.get("image") or _spec_image(pod))
    if reason in _PULL_ERRORS:
        return _pull_failure(pod, image, reason, str(waiting.get("message") or ""), events)
    if reason in _START_ERRORS:
        detail = str(waiting.get("message") or reason)
        return Progress(
            Stage.FAILED,
            f"Failed: the model server container could not start: {_explain_start(detail)}",
            detail=detail,
            failed_stage=Stage.PULLING,
        )
    if reason == "CrashLoopBackOff":
        return _crash_failure(container, events)
    if "running" in state:
        return _running_progress(container, snapshot)
    mount_problem = latest([e for e in events if e.get("reason") in ("FailedMount", "FailedAttachVolume")])
    if mount_problem is not None and latest(events) is mount_problem:
        detail = str(mount_problem.get("message") or "")
        return Progress(
            Stage.STORAGE, f"Waiting for storage: the volume cannot be mounted yet ({detail}).", detail=detail
        )
    if "terminated" in state:
        return _crash_failure(container, events)
    # Events and Pod updates come on separate watches; an event saying the image is in and the
    # container started (or is being probed) may arrive before the Pod's own status says so.
    pulled = latest([e for e in events if e.get("reason") in _STARTED_EVENTS])
    pulling = latest([e for e in events if e.get("reason") == "Pulling"])
    if pulled is not None and (pulling is None or _order(pulled) > _order(pulling)):
        return Progress(Stage.DOWNLOADING, DOWNLOADING_MESSAGE)
    return Progress(
        Stage.PULLING,
        f"Pulling the image {image}: NIM images are several GB, this can take a while.",
    )


def scheduled(pod: Mapping[str, Any]) -> bool:
    condition = k.condition(pod, "PodScheduled")
    if condition is not None:
        return condition.get("status") == "True"
    return bool((pod.get("spec") or {}).get("nodeName"))


def _scheduling_progress(
    pod: Mapping[str, Any],
    condition: Mapping[str, Any] | None,
    events: Sequence[Mapping[str, Any]],
    snapshot: Snapshot,
) -> Progress:
    event = latest([e for e in events if e.get("reason") == "FailedScheduling"])
    detail = str((condition or {}).get("message") or (event or {}).get("message") or "")
    if not detail:
        return Progress(Stage.SCHEDULING, "Scheduling: waiting for a node to run the model server.")
    low = detail.lower()
    if "unbound immediate persistentvolumeclaims" in low or "persistentvolumeclaim" in low:
        pvc = snapshot.expected_pvc or "the model cache PVC"
        return Progress(
            Stage.STORAGE, f"Waiting for storage: {pvc} is not bound yet ({detail}).", detail=detail
        )
    return Progress(Stage.SCHEDULING, f"Scheduling: {_explain_scheduling(detail)} ({detail})", detail=detail)


_INSUFFICIENT = re.compile(r"Insufficient ([\w./-]*\w)")


def _explain_scheduling(detail: str) -> str:
    reasons: list[str] = []
    resources = sorted(set(_INSUFFICIENT.findall(detail)))
    if resources:
        reasons.append("not enough free " + ", ".join(resources) + " on any node")
    low = detail.lower()
    if "node affinity" in low or "node selector" in low or "didn't match pod's node" in low:
        reasons.append("no node matches the hardware profile's node selector")
    if "taint" in low:
        reasons.append("the nodes carry taints the hardware profile does not tolerate")
    if not reasons:
        return "no node can run the model server yet"
    return "no node can run the model server yet: " + "; ".join(reasons)


def _init_progress(pod: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> Progress | None:
    """KServe's storage-initializer (a `storageUri` model) copies the model before the server starts."""
    for item in (pod.get("status") or {}).get("initContainerStatuses") or ():
        if not isinstance(item, dict):
            continue
        state = item.get("state") or {}
        if "terminated" in state and (state["terminated"] or {}).get("exitCode", 0) == 0:
            continue
        reason = str((state.get("waiting") or {}).get("reason") or "")
        image = str(item.get("image") or "")
        if reason in _PULL_ERRORS:
            return _pull_failure(
                pod, image, reason, str((state.get("waiting") or {}).get("message") or ""), events
            )
        if reason == "CrashLoopBackOff" or "terminated" in state:
            return _crash_failure(item, events)
        if "running" in state:
            return Progress(Stage.LOADING, f"Loading the model: {item.get('name')} is copying it into place.")
        return Progress(Stage.PULLING, f"Pulling the image {image}.")
    return None


def _main_status(pod: Mapping[str, Any]) -> dict[str, Any]:
    statuses = [s for s in (pod.get("status") or {}).get("containerStatuses") or () if isinstance(s, dict)]
    for item in statuses:
        if item.get("name") == k.MAIN_CONTAINER:
            return item
    return statuses[0] if statuses else {}


def _spec_image(pod: Mapping[str, Any]) -> str:
    for container in (pod.get("spec") or {}).get("containers") or ():
        if isinstance(container, dict) and container.get("name") == k.MAIN_CONTAINER:
            return str(container.get("image") or "")
    return ""


def _pull_secret_names(pod: Mapping[str, Any]) -> list[str]:
    refs = (pod.get("spec") or {}).get("imagePullSecrets") or ()
    return [str(r.get("name")) for r in refs if isinstance(r, dict) and r.get("name")]


def _pull_failure(
    pod: Mapping[str, Any], image: str, reason: str, waiting_message: str, events: Sequence[Mapping[str, Any]]
) -> Progress:
    failures = [e for e in events if e.get("reason") in ("Failed", "ErrImagePull")]
    # kubelet follows the registry's answer with a bare "Error: ErrImagePull"; the answer explains
    failed = latest(
        [
            e
            for e in failures
            if "pull" in str(e.get("message") or "").lower()
            and not str(e.get("message") or "").startswith("Error: ")
        ]
    ) or latest(failures)
    missing = latest([e for e in events if e.get("reason") == "FailedToRetrieveImagePullSecret"])
    detail = str((failed or {}).get("message") or waiting_message or reason)
    secrets = _pull_secret_names(pod)
    secret_text = " or ".join(secrets) if secrets else "the pull secret"
    low = detail.lower()
    if missing is not None:
        detail = f"{missing.get('message')} {detail}".strip()
        why = (
            f"the pull secret {secret_text} does not exist in the project; nvcr.io needs it "
            "(a dockerconfigjson with your NGC API key)"
        )
    elif any(
        w in low
        for w in (
            "unauthorized",
            "authentication required",
            "invalid username/password",
            "no basic auth credentials",
            "401",
            "access denied",
            "denied:",
        )
    ):
        why = (
            f"nvcr.io refused the credentials: check that the pull secret {secret_text} "
            "holds a valid NGC API key"
        )
    elif any(w in low for w in ("payment required", "402", "451", "entitle")):
        why = "the NGC account behind the API key is not entitled to this NIM"
    elif reason == "InvalidImageName":
        why = f"the image name {image} is not valid"
    elif any(w in low for w in ("not found", "manifest unknown", "404")):
        why = f"the image {image} does not exist on the registry (check the model tag)"
    else:
        why = f"the image {image} could not be pulled"
    return Progress(
        Stage.FAILED,
        f"Failed: pulling the image failed: {why}.",
        detail=detail,
        failed_stage=Stage.PULLING,
    )


def _explain_start(detail: str) -> str:
    match = re.search(r'secret "([^"]+)" not found', detail)
    if match:
        return f"the secret {match.group(1)} does not exist in the project ({detail})."
    return detail if detail.endswith(".") else detail + "."


def _crash_failure(container: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> Progress:
    last = (
        (container.get("lastState") or {}).get("terminated")
        or (container.get("state") or {}).get("terminated")
        or {}
    )
    reason = str(last.get("reason") or "")
    message = str(last.get("message") or "").strip()
    exit_code = last.get("exitCode")
    if reason == "OOMKilled":
        why = "it ran out of memory (OOMKilled); choose a hardware profile with more memory"
    elif message:
        why = message
    elif reason:
        why = reason
    else:
        back_off = latest([e for e in events if e.get("reason") == "BackOff"])
        why = str((back_off or {}).get("message") or "it exited")
    if exit_code not in (None, 0):
        why = f"{why} (exit code {exit_code})"
    restarts = int(container.get("restartCount") or 0)
    return Progress(
        Stage.FAILED,
        f"Failed: the model server keeps crashing after {restarts} restart(s): {why}"
        if restarts
        else f"Failed: the model server stopped: {why}",
        detail=message or reason,
        failed_stage=Stage.LOADING,
    )


def _running_progress(container: Mapping[str, Any], snapshot: Snapshot) -> Progress:
    isvc = snapshot.inference_service or {}
    states = ((isvc.get("status") or {}).get("modelStatus") or {}).get("states") or {}
    restarts = int(container.get("restartCount") or 0)
    note = f" (restarted {restarts} time(s))" if restarts else ""
    if container.get("ready"):
        return Progress(
            Stage.LOADING, f"Loading the model: the model server answers; waiting for the endpoint{note}."
        )
    if "Loading" in (states.get("activeModelState"), states.get("targetModelState")):
        return Progress(Stage.LOADING, f"Loading the model into GPU memory{note}.")
    return Progress(Stage.DOWNLOADING, DOWNLOADING_MESSAGE.replace(":", f"{note}:", 1))


# -- Events ------------------------------------------------------------------------------------------


def events_for(events: Iterable[Mapping[str, Any]], kind: str, name: str) -> list[Mapping[str, Any]]:
    found = []
    for event in events:
        involved = event.get("involvedObject") or event.get("regarding") or {}
        if involved.get("kind") == kind and involved.get("name") == name:
            found.append(event)
    return found


def event_time(event: Mapping[str, Any]) -> float:
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        parsed = k.parse_time(event.get(key))
        if parsed is not None:
            return parsed
    series = event.get("series") or {}
    parsed = k.parse_time(series.get("lastObservedTime"))
    if parsed is not None:
        return parsed
    return k.parse_time(k.meta(event).get("creationTimestamp")) or 0.0


def _rv(event: Mapping[str, Any]) -> int:
    value = str(k.meta(event).get("resourceVersion") or "0")
    return int(value) if value.isdigit() else 0


def _order(event: Mapping[str, Any]) -> tuple[float, int]:
    return (event_time(event), _rv(event))


def latest(events: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    if not events:
        return None
    return max(events, key=_order)
