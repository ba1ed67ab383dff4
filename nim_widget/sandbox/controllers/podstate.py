"""What the kubelet knows about a pod, and the ``status`` it reports from that.

``PodRun`` holds a pod's containers as the kubelet tracks them (``CState``); ``project`` turns it
into the status a real kubelet writes: phase, the five pod conditions in the order ``kubectl``
shows them (``PodReadyToStartContainers``, ``Initialized``, ``Ready``, ``ContainersReady``,
``PodScheduled``) with transition times that move only when a condition changes, container
statuses with ids, IPs, ``startTime`` and ``qosClass``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import Obj, as_dict, as_list


@dataclass
class CState:
    """One container as the kubelet knows it."""

    name: str
    image: str
    init: bool
    state: str = "waiting"  # waiting | running | terminated
    reason: str = "ContainerCreating"
    message: str = ""
    ready: bool = False
    started: bool = False
    restarts: int = 0
    started_at: str = ""
    finished_at: str = ""
    exit_code: int = 0
    term_message: str = ""
    last: dict[str, Any] = field(default_factory=dict)
    container_id: str = ""
    image_id: str = ""
    backoff: float = 0.0
    begun: bool = False  # the kubelet has started working on it (first pull attempted)
    started_ts: float = 0.0

    def to_status(self) -> Obj:
        if self.state == "running":
            state: Obj = {"running": {"startedAt": self.started_at}}
        elif self.state == "terminated":
            term: Obj = {
                "exitCode": self.exit_code,
                "reason": self.reason,
                "startedAt": self.started_at,
                "finishedAt": self.finished_at,
                "containerID": self.container_id,
            }
            if self.term_message:
                term["message"] = self.term_message
            state = {"terminated": term}
        else:
            waiting: Obj = {"reason": self.reason}
            if self.message:
                waiting["message"] = self.message
            state = {"waiting": waiting}
        out: Obj = {
            "name": self.name,
            "state": state,
            "lastState": self.last,
            "ready": self.ready,
            "restartCount": self.restarts,
            "image": self.image,
            "imageID": self.image_id,
            "started": self.started,
        }
        if self.container_id:
            out["containerID"] = self.container_id
        return out


@dataclass
class PodRun:
    namespace: str
    name: str
    uid: str
    tokens: dict[str, int] = field(default_factory=dict)
    terminating: bool = False
    node: str = ""
    host_ip: str = ""
    pod_ip: str = ""
    start_time: str = ""
    scheduled: str = ""  # "" (not tried) | "False" | "True"
    sched_message: str = ""
    sandbox: bool = False
    containers: list[CState] = field(default_factory=list)
    cond_times: dict[str, tuple[str, str]] = field(default_factory=dict)
    qos: str = "BestEffort"

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


def qos_class(pod: Obj) -> str:
    containers = [as_dict(c) for c in as_list(as_dict(pod.get("spec")).get("containers"))]
    containers += [as_dict(c) for c in as_list(as_dict(pod.get("spec")).get("initContainers"))]
    any_set = False
    guaranteed = bool(containers)
    for c in containers:
        resources = as_dict(c.get("resources"))
        limits, requests = as_dict(resources.get("limits")), as_dict(resources.get("requests"))
        if limits or requests:
            any_set = True
        for res in ("cpu", "memory"):
            if res not in limits or str(requests.get(res, limits[res])) != str(limits[res]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def go_duration(seconds: float) -> str:
    if seconds >= 60:
        minutes, rest = divmod(seconds, 60)
        return f"{int(minutes)}m{go_duration(rest) if rest else '0s'}"
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def _condition(run: PodRun, now: str, ctype: str, status: str, reason: str = "", message: str = "") -> Obj:
    previous = run.cond_times.get(ctype)
    when = previous[1] if previous and previous[0] == status else now
    run.cond_times[ctype] = (status, when)
    cond: Obj = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": when}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def project(run: PodRun, now: str) -> Obj:
    """The pod status the kubelet (and, for ``PodScheduled``, the scheduler) reports for ``run``."""
    status: Obj = {"phase": "Pending", "qosClass": run.qos}
    conditions: list[Obj] = []
    init = [c for c in run.containers if c.init]
    main = [c for c in run.containers if not c.init]
    if run.sandbox:
        status["hostIP"] = run.host_ip
        status["hostIPs"] = [{"ip": run.host_ip}]
        status["podIP"] = run.pod_ip
        status["podIPs"] = [{"ip": run.pod_ip}]
        status["startTime"] = run.start_time
        conditions.append(_condition(run, now, "PodReadyToStartContainers", "True"))
        pending_init = [c.name for c in init if not (c.state == "terminated" and c.exit_code == 0)]
        if pending_init:
            conditions.append(
                _condition(
                    run,
                    now,
                    "Initialized",
                    "False",
                    "ContainersNotInitialized",
                    f"containers with incomplete status: [{' '.join(pending_init)}]",
                )
            )
        else:
            conditions.append(_condition(run, now, "Initialized", "True"))
        unready = [c.name for c in main if not c.ready]
        if unready:
            msg = f"containers with unready status: [{' '.join(unready)}]"
            conditions.append(_condition(run, now, "Ready", "False", "ContainersNotReady", msg))
            conditions.append(_condition(run, now, "ContainersReady", "False", "ContainersNotReady", msg))
        else:
            conditions.append(_condition(run, now, "Ready", "True"))
            conditions.append(_condition(run, now, "ContainersReady", "True"))
        if init:
            status["initContainerStatuses"] = [c.to_status() for c in init]
        status["containerStatuses"] = [c.to_status() for c in main]
        if not pending_init and any(c.started or c.restarts for c in main):
            status["phase"] = "Running"
    if run.scheduled == "True":
        conditions.append(_condition(run, now, "PodScheduled", "True"))
    elif run.scheduled == "False":
        conditions.append(_condition(run, now, "PodScheduled", "False", "Unschedulable", run.sched_message))
    if conditions:
        status["conditions"] = conditions
    return status
