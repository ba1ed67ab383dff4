"""The NIM deployments of a project, whoever made them: nim-widget, or the dashboard.

Deployments made here and by the OpenShift AI dashboard must show up alike, so a deployment is
recognised the way the dashboard recognises one: an InferenceService whose ServingRuntime carries
the `runtimes.opendatahub.io/nvidia-nim` annotation or runs an `nvcr.io/nim/` image. The list costs
one list call per kind (InferenceServices, ServingRuntimes, PVCs, predictor Pods, Events), made
concurrently and joined here, never one call per deployment.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NoReturn

from nim_widget.cluster.api import RUN_ANNOTATION, Api
from nim_widget.cluster.errors import Forbidden
from nim_widget.lifecycle import kinds as k
from nim_widget.lifecycle.errors import DeploymentNotFound
from nim_widget.lifecycle.readiness import snapshot_of
from nim_widget.lifecycle.stages import Progress, Snapshot, observe


@dataclass(frozen=True)
class DeploymentSummary:
    """One row of the deployments table; `to_dict()` is what `nim-widget list -o json` prints."""

    name: str
    namespace: str
    display_name: str
    model: str
    tag: str
    image: str
    runtime: str
    made_by: str  # "nim-widget", "dashboard" or "other"
    state: Progress
    url: str | None
    internal_url: str | None
    min_replicas: int | None
    max_replicas: int | None
    ready_replicas: int
    hardware_profile: str | None
    pvc: str | None
    sub_path: str
    storage_size: str | None
    created: str | None
    age_seconds: float | None
    stopped: bool

    @property
    def replicas_text(self) -> str:
        wanted = self.max_replicas if self.max_replicas is not None else self.min_replicas
        return f"{self.ready_replicas}/{wanted if wanted is not None else '?'}"

    @property
    def storage_text(self) -> str:
        if not self.pvc:
            return ""
        text = self.pvc + (f"/{self.sub_path}" if self.sub_path else "")
        return f"{text} ({self.storage_size})" if self.storage_size else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "displayName": self.display_name,
            "model": self.model,
            "tag": self.tag,
            "image": self.image,
            "runtime": self.runtime,
            "madeBy": self.made_by,
            "state": self.state.stage.value,
            "stateMessage": self.state.message,
            "url": self.url,
            "internalUrl": self.internal_url,
            "replicas": {
                "min": self.min_replicas,
                "max": self.max_replicas,
                "ready": self.ready_replicas,
            },
            "hardwareProfile": self.hardware_profile,
            "storage": {"pvc": self.pvc, "subPath": self.sub_path, "size": self.storage_size},
            "created": self.created,
            "ageSeconds": None if self.age_seconds is None else int(self.age_seconds),
            "stopped": self.stopped,
        }


def format_age(seconds: float | None) -> str:
    """kubectl's short age: 45s, 12m, 3h, 5d."""
    if seconds is None:
        return "?"
    whole = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def made_by(*, inference_service: Mapping[str, Any], runtime: Mapping[str, Any] | None) -> str:
    # a deploy marks what it creates with its run id (cluster.api.RUN_ANNOTATION); edits keep it
    for obj in (inference_service, runtime):
        if obj and RUN_ANNOTATION in (obj.get("metadata", {}).get("annotations") or {}):
            return "nim-widget"
    if str(k.labels_of(inference_service).get(k.DASHBOARD_LABEL, "")).lower() == "true":
        return "dashboard"
    return "other"


def summarize(
    *,
    inference_service: Mapping[str, Any],
    runtime: Mapping[str, Any] | None,
    pvc: Mapping[str, Any] | None,
    pods: Sequence[Mapping[str, Any]] = (),
    events: Sequence[Mapping[str, Any]] = (),
    now: float | None = None,
) -> DeploymentSummary:
    """One deployment's row from its objects (pure: the widget's table refresh can reuse it)."""
    name = k.name_of(inference_service)
    namespace = str(k.meta(inference_service).get("namespace") or "")
    annotations = k.annotations_of(inference_service)
    image = str(k.main_container(runtime).get("image") or "")
    ref = k.parse_image(image)
    formats = ((runtime or {}).get("spec") or {}).get("supportedModelFormats") or []
    first_format = formats[0] if formats and isinstance(formats[0], dict) else {}
    model_format = (k.predictor_model(inference_service).get("modelFormat") or {}).get("name")
    model = ref.name or str(first_format.get("name") or model_format or "")
    tag = ref.tag or str(first_format.get("version") or "")
    mount = k.cache_mount(runtime)
    snapshot = Snapshot(
        name=name,
        namespace=namespace,
        inference_service=inference_service,
        runtime=runtime,
        pvc=pvc,
        pods=tuple(pods),
        events=tuple(events),
    )
    state = observe(snapshot)
    status = inference_service.get("status") or {}
    predictor = k.predictor(inference_service)
    profile_name = annotations.get(k.HWP_NAME)
    profile_ns = annotations.get(k.HWP_NAMESPACE)
    created = k.meta(inference_service).get("creationTimestamp")
    created_at = k.parse_time(created)
    current = time.time() if now is None else now
    size = None
    if pvc is not None:
        requests = ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
        size = requests.get("storage") or ((pvc.get("status") or {}).get("capacity") or {}).get("storage")
    return DeploymentSummary(
        name=name,
        namespace=namespace,
        display_name=str(annotations.get(k.DISPLAY_NAME) or name),
        model=model,
        tag=tag,
        image=image,
        runtime=k.runtime_name(inference_service),
        made_by=made_by(inference_service=inference_service, runtime=runtime),
        state=state,
        url=status.get("url") or None,
        internal_url=(status.get("address") or {}).get("url") or None,
        min_replicas=_int(predictor.get("minReplicas")),
        max_replicas=_int(predictor.get("maxReplicas")),
        ready_replicas=sum(1 for p in pods if _pod_ready(p)),
        hardware_profile=(f"{profile_ns}/{profile_name}" if profile_ns and profile_name else profile_name),
        pvc=mount.pvc if mount else None,
        sub_path=mount.sub_path if mount else "",
        storage_size=str(size) if size else None,
        created=str(created) if created else None,
        age_seconds=None if created_at is None else current - created_at,
        stopped=k.is_stopped(inference_service),
    )


def list_deployments(*, api: Api, namespace: str, now: float | None = None) -> list[DeploymentSummary]:
    """Every NIM deployment of the project, sorted by name."""
    with ThreadPoolExecutor(max_workers=5, thread_name_prefix="nim-widget-list") as pool:
        isvcs_f = pool.submit(api.list, api_version=k.IS_API, kind=k.IS_KIND, namespace=namespace)
        runtimes_f = pool.submit(api.list, api_version=k.SR_API, kind=k.SR_KIND, namespace=namespace)
        pvcs_f = pool.submit(_optional_list, api, "PersistentVolumeClaim", namespace, None)
        pods_f = pool.submit(_optional_list, api, "Pod", namespace, k.PREDICTOR_POD_LABEL)
        events_f = pool.submit(_optional_list, api, "Event", namespace, None)
        isvcs, runtimes = isvcs_f.result(), runtimes_f.result()
        pvcs, pods, events = pvcs_f.result(), pods_f.result(), events_f.result()
    runtime_by_name = {k.name_of(r): r for r in runtimes}
    pvc_by_name = {k.name_of(p): p for p in pvcs}
    pods_by_isvc: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        pods_by_isvc.setdefault(k.labels_of(pod).get(k.PREDICTOR_POD_LABEL, ""), []).append(pod)
    rows = []
    for isvc in isvcs:
        runtime = runtime_by_name.get(k.runtime_name(isvc))
        if not k.is_nim_runtime(runtime):
            continue
        mount = k.cache_mount(runtime)
        pvc = pvc_by_name.get(mount.pvc) if mount else None
        rows.append(
            summarize(
                inference_service=isvc,
                runtime=runtime,
                pvc=pvc,
                pods=pods_by_isvc.get(k.name_of(isvc), []),
                events=events,
                now=now,
            )
        )
    return sorted(rows, key=lambda row: row.name)


def get_deployment(*, api: Api, namespace: str, name: str, now: float | None = None) -> DeploymentSummary:
    """One deployment's row; NotFound (with the dashboard's wording) when it is not a NIM deployment."""
    snapshot = snapshot_of(api=api, namespace=namespace, name=name)
    if snapshot.inference_service is None or not k.is_nim_runtime(snapshot.runtime):
        raise_not_found(namespace=namespace, name=name)
    return summarize(
        inference_service=snapshot.inference_service,
        runtime=snapshot.runtime,
        pvc=snapshot.pvc,
        pods=snapshot.pods,
        events=snapshot.events,
        now=now,
    )


def raise_not_found(*, namespace: str, name: str) -> NoReturn:
    raise DeploymentNotFound(namespace=namespace, name=name, what="NIM model deployment")


def _optional_list(api: Api, kind: str, namespace: str, label_key: str | None) -> list[dict[str, Any]]:
    """PVCs, Pods and Events only add detail; a user who may not list them still gets the table."""
    try:
        return api.list(api_version="v1", kind=kind, namespace=namespace, label_selector=label_key)
    except Forbidden:
        return []


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _pod_ready(pod: Mapping[str, Any]) -> bool:
    ready = k.condition(pod, "Ready")
    return bool(ready and ready.get("status") == "True")
