"""The "inference" controller: KServe (raw deployment, as OpenShift AI runs it) plus pods and nodes.

For every InferenceService it does what KServe's reconciler, the Deployment controller, the
scheduler and the kubelets do together (the last two live in ``kubelet.py``):
- builds the predictor pod from the ServingRuntime named by ``spec.predictor.model.runtime``
  (``predictor.py``) and keeps ``minReplicas`` of them, owned by the InferenceService;
- rolls out a changed spec like a ``RollingUpdate`` Deployment (``maxSurge`` 25 %,
  ``maxUnavailable`` 25 %): new pods first, old ones removed when the new ones are ready;
- writes ``status`` as KServe does: knative-style conditions ``IngressReady``, ``PredictorReady``
  (copied from the Deployment's ``Available``/``Progressing``), ``Ready`` and ``Stopped``;
  ``modelStatus`` from the first predictor pod (``PropagateModelStatus``: ``Pending`` until the
  service is ready, ``Loading`` only while a storage-initializer runs, ``Loaded``;
  ``FailedToLoad`` with ``lastFailureInfo`` when the model container crash-loops), ``url`` and
  ``address.url`` as the ODH build computes them, ``observedGeneration``,
  ``servingRuntimeName`` and ``deploymentMode``;
- honours ``serving.kserve.io/stop: "true"`` (pods removed, status cleared to the stopped shape)
  and resumes when it is ``"false"`` or gone;
- reports a missing, disabled or unsuitable runtime as KServe does (``InvalidSpec``).
As on a real cluster an image that cannot be pulled leaves ``modelStatus`` ``Pending`` with
``PredictorReady=False`` (``MinimumReplicasUnavailable``); the pull error itself is on the pod.
"""

from __future__ import annotations

import copy
from typing import Any

from ..status import ApiError
from . import predictor
from .base import (
    ISVCS,
    PODS,
    RUNTIMES,
    Controller,
    Obj,
    Runtime,
    WorkQueue,
    annotations_of,
    as_dict,
    as_list,
    deleting,
    labels_of,
    meta,
    name_of,
    ns_of,
    owner_reference,
    safe_suffix,
    write_status,
)
from .events import NORMAL, WARNING, EventRecorder
from .kubelet import PodLifecycle

KSERVE = "v1beta1Controllers"
STOP_ANNOTATION = "serving.kserve.io/stop"
VISIBILITY_LABEL = "networking.kserve.io/visibility"
AUTH_ANNOTATION = "security.opendatahub.io/enable-auth"
APPS_DOMAIN = "apps.sandbox.local"
UNAVAILABLE_MESSAGE = "Deployment does not have minimum availability."


def _pod_ready(pod: Obj) -> bool:
    status = as_dict(pod.get("status"))
    if status.get("phase") != "Running":
        return False
    return any(
        as_dict(c).get("type") == "Ready" and as_dict(c).get("status") == "True"
        for c in as_list(status.get("conditions"))
    )


class InferenceController(Controller):
    name = "inference"

    def __init__(self, rt: Runtime, events: EventRecorder) -> None:
        super().__init__(rt)
        self.events = events
        self.pods = PodLifecycle(rt, events)
        self._queue = WorkQueue(rt, self.reconcile)
        self._created: dict[str, int] = {}  # isvc uid -> pods created so far (name suffix seed)
        self._progress: dict[str, tuple[str, float, int]] = {}  # isvc uid -> (template, last progress, ready)

    # ------------------------------------------------------------ store events

    def on_event(self, event: str, kind_key: str, obj: Obj) -> None:
        self.pods.on_event(event, kind_key, obj)
        if kind_key == ISVCS:
            if event != "DELETED":
                self.enqueue(ns_of(obj), name_of(obj))
        elif kind_key == PODS:
            owner = labels_of(obj).get(predictor.ISVC_LABEL)
            if owner:
                self.enqueue(ns_of(obj), owner)
        elif kind_key == RUNTIMES:
            for isvc in self.store.list(ISVCS, ns_of(obj))[0]:
                if predictor.runtime_name(isvc) == name_of(obj):
                    self.enqueue(ns_of(isvc), name_of(isvc))

    def enqueue(self, namespace: str, name: str) -> None:
        self._queue.add(namespace, name, self.timings.reconcile)

    # ------------------------------------------------------------ reconcile

    def reconcile(self, namespace: str, name: str) -> None:
        isvc = self.store.try_get(ISVCS, namespace, name)
        if isvc is None or deleting(isvc):
            return
        mode = annotations_of(isvc).get(predictor.DEPLOYMENT_MODE, "RawDeployment")
        if mode in ("Serverless", "Knative"):
            self.events.record(
                isvc,
                reason="ServerlessModeRejected",
                message=(
                    "It is not possible to use Serverless deployment mode "
                    "when Knative Services are not available"
                ),
                type=WARNING,
                component=KSERVE,
            )
            return
        if mode == "ModelMesh":
            return
        status = copy.deepcopy(as_dict(isvc.get("status")))
        runtime_name = predictor.runtime_name(isvc)
        runtime = self.store.try_get(RUNTIMES, namespace, runtime_name) if runtime_name else None
        try:
            predictor.check_runtime(isvc, runtime)
        except predictor.RuntimeProblem as problem:
            self._invalid_spec(isvc, status, problem)
            return
        template = predictor.build(isvc, runtime)
        selector = f"app={predictor.app_label(isvc)}"
        pods = [
            p for p in self.store.list(PODS, namespace, label_selector=selector)[0] if self._owned(isvc, p)
        ]
        if annotations_of(isvc).get(STOP_ANNOTATION, "").lower() == "true":
            for pod in pods:
                self.pods.terminate(pod)
            self._write(isvc, self._stopped_status(status, mode), was=status)
            return
        live = [p for p in pods if not self._terminating(p)]
        self._roll(isvc, template, live)
        live = [
            p for p in self.store.list(PODS, namespace, label_selector=selector)[0] if self._owned(isvc, p)
        ]
        live = sorted((p for p in live if not self._terminating(p)), key=name_of)
        self._write(isvc, self._status(isvc, status, template, live, mode, runtime_name), was=status)

    def _deadline_exceeded(
        self, isvc: Obj, template: predictor.PodTemplate, ready_new: int, done: bool
    ) -> bool:
        """The Deployment's ``progressDeadlineSeconds``: no new ready pod for that long is a failure."""
        uid = str(meta(isvc).get("uid", ""))
        now = self.rt.clock.now()
        seen = self._progress.get(uid)
        if seen is None or seen[0] != template.hash or ready_new > seen[2] or done:
            seen = (template.hash, now, ready_new)
            self._progress[uid] = seen
        if done:
            return False
        remaining = seen[1] + self.timings.progress_deadline - now
        if remaining > 0:
            self._queue.add(ns_of(isvc), name_of(isvc), remaining)
            return False
        return True

    def _owned(self, isvc: Obj, pod: Obj) -> bool:
        uid = meta(isvc).get("uid")
        return any(as_dict(ref).get("uid") == uid for ref in as_list(meta(pod).get("ownerReferences")))

    def _terminating(self, pod: Obj) -> bool:
        run = self.pods.runs.get(str(meta(pod).get("uid", "")))
        return deleting(pod) or (run is not None and run.terminating)

    # ------------------------------------------------------------ the Deployment's job

    def _roll(self, isvc: Obj, template: predictor.PodTemplate, pods: list[Obj]) -> None:
        current = [p for p in pods if labels_of(p).get("pod-template-hash") == template.hash]
        old = [p for p in pods if labels_of(p).get("pod-template-hash") != template.hash]
        current.sort(key=lambda p: (not _pod_ready(p), name_of(p)))  # scaling down keeps ready pods
        for pod in current[template.replicas :]:
            self.pods.terminate(pod)
        current = current[: template.replicas]
        for _ in range(template.replicas - len(current)):
            self._create_pod(isvc, template)
        ready_new = sum(1 for p in current if _pod_ready(p))
        keep_old = max(0, template.replicas - ready_new)
        old.sort(key=lambda p: (_pod_ready(p), name_of(p)))  # unready old pods go first
        for pod in old[: max(0, len(old) - keep_old)]:
            self.pods.terminate(pod)

    def _create_pod(self, isvc: Obj, template: predictor.PodTemplate) -> None:
        uid = str(meta(isvc).get("uid", ""))
        count = self._created.get(uid, 0) + 1
        self._created[uid] = count
        prefix = f"{predictor.predictor_name(isvc)}-{template.hash}-"
        pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": prefix + safe_suffix(uid, template.hash, str(count)),
                "generateName": prefix,
                "namespace": ns_of(isvc),
                "labels": {**template.labels, "pod-template-hash": template.hash},
                "annotations": dict(template.annotations),
                "ownerReferences": [owner_reference(isvc)],
            },
            "spec": copy.deepcopy(template.spec),
        }
        try:
            self.store.create(PODS, pod)
        except ApiError as exc:
            if exc.code not in (403, 404, 409):  # namespace going away, or a name clash: retried later
                raise

    # ------------------------------------------------------------ status

    def _condition(
        self,
        previous: dict[str, Obj],
        ctype: str,
        status: str,
        reason: str = "",
        message: str = "",
        severity: str = "",
    ) -> Obj:
        cond: Obj = {"type": ctype, "status": status}
        if severity:
            cond["severity"] = severity
        if reason:
            cond["reason"] = reason
        if message:
            cond["message"] = message
        old = previous.get(ctype)
        same = old is not None and all(
            old.get(k) == cond.get(k) for k in ("status", "reason", "message", "severity")
        )
        cond["lastTransitionTime"] = old.get("lastTransitionTime") if same and old else self.rt.now()
        return cond

    def _conditions(
        self, status: Obj, predictor_cond: tuple[str, str, str], ingress: tuple[str, str], stopped: bool
    ) -> list[Obj]:
        previous = {str(as_dict(c).get("type")): as_dict(c) for c in as_list(status.get("conditions"))}
        p_status, p_reason, p_message = predictor_cond
        i_status, i_reason = ingress
        if p_status == "True" and i_status == "True":
            ready = ("True", "", "")
        elif p_status != "True":
            ready = predictor_cond
        else:
            ready = (i_status, i_reason, "")
        conditions = [
            self._condition(previous, "IngressReady", i_status, i_reason),
            self._condition(previous, "PredictorReady", p_status, p_reason, p_message),
            self._condition(previous, "Ready", *ready),
            self._condition(previous, "Stopped", "True" if stopped else "False", severity="Info"),
        ]
        return conditions

    def _stopped_status(self, status: Obj, mode: str) -> Obj:
        stopped = ("False", "Stopped", "")
        return {
            "conditions": self._conditions(status, stopped, ("False", "Stopped"), stopped=True),
            "deploymentMode": status.get("deploymentMode", mode),
            "modelStatus": {"transitionStatus": ""},
        }

    def _urls(self, isvc: Obj) -> tuple[str, str]:
        name, namespace = name_of(isvc), ns_of(isvc)
        internal = f"{predictor.predictor_name(isvc)}.{namespace}.svc.cluster.local"
        auth = annotations_of(isvc).get(AUTH_ANNOTATION, "").lower() == "true"
        address = f"https://{internal}:8443" if auth else f"http://{internal}"
        if labels_of(isvc).get(VISIBILITY_LABEL) == "exposed":
            return f"https://{name}-{namespace}.{APPS_DOMAIN}", address
        return address, address

    def _status(
        self,
        isvc: Obj,
        status: Obj,
        template: predictor.PodTemplate,
        pods: list[Obj],
        mode: str,
        runtime_name: str | None,
    ) -> Obj:
        desired = template.replicas
        current = [p for p in pods if labels_of(p).get("pod-template-hash") == template.hash]
        ready_total = sum(1 for p in pods if _pod_ready(p))
        ready_new = sum(1 for p in current if _pod_ready(p))
        max_unavailable = desired // 4
        available = ready_total >= desired - max_unavailable
        complete = ready_new >= desired and len(pods) == len(current)
        rs = f"{predictor.predictor_name(isvc)}-{template.hash}"
        if available and complete:
            predictor_cond = ("True", "", "")
        elif available and self._deadline_exceeded(isvc, template, ready_new, complete):
            predictor_cond = (
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs}" has timed out progressing.',
            )
        elif available:
            predictor_cond = ("Unknown", "ReplicaSetUpdated", f'ReplicaSet "{rs}" is progressing.')
        else:
            predictor_cond = ("False", "MinimumReplicasUnavailable", UNAVAILABLE_MESSAGE)
        url, address = self._urls(isvc)
        new: Obj = {
            "conditions": self._conditions(status, predictor_cond, ("True", ""), stopped=False),
            "url": url,
            "address": {"url": address},
            "components": {
                "predictor": {
                    "url": f"http://{predictor.predictor_name(isvc)}.{ns_of(isvc)}.svc.cluster.local"
                }
                if predictor_cond[0] == "True"
                else {}
            },
            "modelStatus": self._model_status(status, pods, predictor_cond[0] == "True"),
            "observedGeneration": meta(isvc).get("generation", 1),
            "deploymentMode": mode,
        }
        if runtime_name:
            new["servingRuntimeName"] = runtime_name
        return new

    def _model_status(self, status: Obj, pods: list[Obj], is_ready: bool) -> Obj:
        """``PropagateModelStatus`` on the first predictor pod, field for field."""
        model = copy.deepcopy(as_dict(status.get("modelStatus")))
        ready_copies = sum(1 for p in pods if _pod_ready(p))
        copies: Obj = {"failedCopies": 0}
        if ready_copies:
            copies["totalCopies"] = ready_copies
        model["copies"] = copies
        state, info = "Pending", None
        if pods:
            first = as_dict(pods[0].get("status"))
            state, info, decided = self._init_state(first)
            if not decided:
                if is_ready:
                    state = "Loaded"
                else:
                    state, info = self._main_state(first)
        states = as_dict(model.get("states"))
        if not states:
            states = {"activeModelState": "", "targetModelState": state}
        states["targetModelState"] = state
        if state in ("Pending", "Loading"):
            model["transitionStatus"] = "InProgress"
        elif state == "Loaded":
            model["transitionStatus"] = "UpToDate"
            states["activeModelState"] = "Loaded"
        elif state == "FailedToLoad":
            model["transitionStatus"] = "BlockedByFailedLoad"
        model["states"] = states
        if info is not None:
            model["lastFailureInfo"] = info
        return model

    @staticmethod
    def _failure(terminated: Obj) -> Obj:
        info: Obj = {"reason": "ModelLoadFailed"}
        if terminated.get("message"):
            info["message"] = terminated["message"]
        if terminated.get("exitCode"):
            info["exitCode"] = terminated["exitCode"]
        return info

    def _init_state(self, pod_status: Obj) -> tuple[str, Obj | None, bool]:
        for cs in as_list(pod_status.get("initContainerStatuses")):
            cs = as_dict(cs)
            if cs.get("name") != predictor.STORAGE_INITIALIZER:
                continue
            state = as_dict(cs.get("state"))
            last = as_dict(as_dict(cs.get("lastState")).get("terminated"))
            if state.get("running"):
                return "Loading", None, True
            terminated = as_dict(state.get("terminated"))
            if terminated.get("reason") == "Error":
                return "FailedToLoad", self._failure(terminated), True
            if as_dict(state.get("waiting")).get("reason") == "CrashLoopBackOff" and last:
                return "FailedToLoad", self._failure(last), True
        return "Pending", None, False

    def _main_state(self, pod_status: Obj) -> tuple[str, Obj | None]:
        for cs in as_list(pod_status.get("containerStatuses")):
            cs = as_dict(cs)
            if cs.get("name") != predictor.MAIN_CONTAINER:
                continue
            state = as_dict(cs.get("state"))
            terminated = as_dict(state.get("terminated"))
            if terminated.get("reason") == "Error":
                return "FailedToLoad", self._failure(terminated)
            last = as_dict(as_dict(cs.get("lastState")).get("terminated"))
            if as_dict(state.get("waiting")).get("reason") == "CrashLoopBackOff" and last:
                return "FailedToLoad", self._failure(last)
        return "Pending", None

    def _invalid_spec(self, isvc: Obj, status: Obj, problem: predictor.RuntimeProblem) -> None:
        new = copy.deepcopy(status)
        model = as_dict(new.get("modelStatus"))
        model["transitionStatus"] = "InvalidSpec"
        states = as_dict(model.get("states")) or {"activeModelState": ""}
        states["targetModelState"] = "FailedToLoad"
        model["states"] = states
        model["lastFailureInfo"] = {"reason": problem.reason, "message": problem.message}
        new["modelStatus"] = model
        if not new.get("conditions"):
            unknown = ("Unknown", "", "")
            new["conditions"] = self._conditions({}, unknown, ("Unknown", ""), stopped=False)
        self.events.record(
            isvc, reason="InternalError", message=problem.event, type=WARNING, component=KSERVE
        )
        self._write(isvc, new, was=status)

    def _write(self, isvc: Obj, new: Obj, *, was: Obj) -> None:
        stored = write_status(self.store, ISVCS, ns_of(isvc), name_of(isvc), new)
        if stored is None:
            return

        def ready(s: Any) -> bool:
            return any(
                as_dict(c).get("type") == "Ready" and as_dict(c).get("status") == "True"
                for c in as_list(as_dict(s).get("conditions"))
            )

        if ready(was) and not ready(new):
            self.events.record(
                stored,
                reason="InferenceServiceNotReady",
                message=f"InferenceService [{name_of(isvc)}] is no longer Ready",
                type=WARNING,
                component=KSERVE,
            )
        elif ready(new) and not ready(was):
            self.events.record(
                stored,
                reason="InferenceServiceReady",
                message=f"InferenceService [{name_of(isvc)}] is Ready",
                type=NORMAL,
                component=KSERVE,
            )
