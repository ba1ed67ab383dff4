"""Scheduler binding and the kubelet: a pod's life from Pending to Ready, or to its failure.

Each pod gets a ``PodRun``: the containers' states held in memory, projected into ``status`` the
way the kubelet reports them (phase, the five pod conditions, container statuses with ids, IPs,
``qosClass``) and narrated by the Events a real node emits (``Scheduled``, ``AddedInterface``,
``Pulling``, ``Pulled``, ``Created``, ``Started``, ``Unhealthy``, ``BackOff``, ``Failed``, ...).

The stages one after the other, so a UI can show each: unschedulable (``PodScheduled=False``,
e.g. waiting for storage or GPUs) -> scheduled -> container creating -> pulling image ->
running but not ready (a NIM downloading its weights keeps its port closed and the readiness
probe fails) -> ready. Failures end where a real node ends: ``ErrImagePull`` /
``ImagePullBackOff`` (see ``images.py``), ``CreateContainerConfigError`` for a missing Secret or
ConfigMap, ``FailedMount``, and ``CrashLoopBackOff`` for a NIM whose NGC key is rejected.

Every timed step carries a token for what it acts on (the pod, or one container); a newer step
for the same thing, the pod's termination or its deletion makes older callbacks no-ops, so nothing
ever acts on a stale view of a pod.
"""

from __future__ import annotations

from collections.abc import Callable

from ..status import ApiError
from . import containers, images, podstate, predictor, scheduler
from .base import (
    CONFIGMAPS,
    NODES,
    PODS,
    PVCS,
    SECRETS,
    Obj,
    Runtime,
    annotations_of,
    as_dict,
    as_list,
    digest,
    meta,
    mutate,
    name_of,
    ns_of,
    write_status,
)
from .events import NORMAL, WARNING, EventRecorder
from .podstate import CState, PodRun, go_duration, qos_class
from .storage import SELECTED_NODE, claims_of

KUBELET = "kubelet"
SCHEDULER = "default-scheduler"
MAIN_CONTAINER = predictor.MAIN_CONTAINER
NIM_SUBPATH = "dashboard.opendatahub.io/nim-subpath"


class PodLifecycle:
    """The scheduler and the kubelets of every node, for every pod in the store."""

    def __init__(self, rt: Runtime, events: EventRecorder) -> None:
        self.rt = rt
        self.store = rt.store
        self.timings = rt.timings
        self.events = events
        self.runs: dict[str, PodRun] = {}
        self.node_images: dict[str, set[str]] = {}
        self.model_cache: set[tuple[str, ...]] = set()
        self.ip_counters: dict[str, int] = {}

    # ------------------------------------------------------------ store events

    def on_event(self, event: str, kind_key: str, obj: Obj) -> None:
        if kind_key == PODS:
            uid = str(meta(obj).get("uid", ""))
            if event == "ADDED" and uid not in self.runs:
                self._admit(obj)
            elif event == "DELETED":
                self.runs.pop(uid, None)
                self._wake(lambda r: r.scheduled == "False")
        elif kind_key == NODES:
            self._wake(lambda r: r.scheduled != "True")
        elif kind_key == PVCS and as_dict(obj.get("status")).get("phase") == "Bound":
            ns = ns_of(obj)
            self._wake(lambda r: r.namespace == ns and r.scheduled != "True")
        elif kind_key in (SECRETS, CONFIGMAPS) and event == "ADDED":
            ns = ns_of(obj)
            self._wake(lambda r: r.namespace == ns and r.sandbox and self._blocked_on_config(r))

    def _wake(self, which: Callable[[PodRun], bool]) -> None:
        for run in list(self.runs.values()):
            if which(run):
                if run.scheduled != "True":
                    self._step(run, "pod", self.timings.schedule, self._schedule)
                else:
                    self._step(run, "pod", self.timings.start, self._resume)

    def _step(self, run: PodRun, key: str, delay: float, fn: Callable[[PodRun], None]) -> None:
        """Schedule ``fn``; a later step with the same key (the pod, or one container) replaces it."""
        token = run.tokens.get(key, 0) + 1
        run.tokens[key] = token

        def go() -> None:
            current = self.runs.get(run.uid)
            if current is run and not run.terminating and run.tokens.get(key) == token:
                fn(run)

        self.rt.later(delay, go)

    def _pod(self, run: PodRun) -> Obj | None:
        pod = self.store.try_get(PODS, run.namespace, run.name)
        if pod is None or meta(pod).get("uid") != run.uid:
            self.runs.pop(run.uid, None)
            return None
        return pod

    # ------------------------------------------------------------ status projection

    def _publish(self, run: PodRun) -> Obj | None:
        return write_status(self.store, PODS, run.namespace, run.name, podstate.project(run, self.rt.now()))

    # ------------------------------------------------------------ admission and scheduling

    def _admit(self, pod: Obj) -> None:
        spec = as_dict(pod.get("spec"))
        run = PodRun(namespace=ns_of(pod), name=name_of(pod), uid=str(meta(pod).get("uid", "")))
        run.qos = qos_class(pod)
        # with init containers everything waits as "PodInitializing", otherwise "ContainerCreating"
        reason = "PodInitializing" if spec.get("initContainers") else "ContainerCreating"
        for init, key in ((True, "initContainers"), (False, "containers")):
            for c in map(as_dict, as_list(spec.get(key))):
                name, image = str(c.get("name", "")), str(c.get("image", ""))
                run.containers.append(CState(name=name, image=image, init=init, reason=reason))
        self.runs[run.uid] = run
        self._publish(run)
        if spec.get("nodeName"):
            run.node = str(spec["nodeName"])
            run.scheduled = "True"
            self._step(run, "pod", self.timings.sandbox, self._start_sandbox)
        else:
            self._step(run, "pod", self.timings.schedule, self._schedule)

    def _schedule(self, run: PodRun) -> None:
        pod = self._pod(run)
        if pod is None:
            return
        decision = scheduler.decide(self.store, pod)
        if decision.node is None:
            run.scheduled, run.sched_message = "False", decision.message
            stored = self._publish(run) or pod
            self.events.record(
                stored, reason="FailedScheduling", message=decision.message, type=WARNING, component=SCHEDULER
            )
            self._step(run, "pod", self.timings.schedule_retry, self._schedule)
            return
        if decision.wait_for_claims:
            # WaitForFirstConsumer: the scheduler picks the node and lets the provisioner create the
            # volume there; the pod stays unbound (no condition change) until the claims are bound.
            for claim in decision.wait_for_claims:
                self._select_node(run.namespace, claim, decision.node)
            self._step(run, "pod", self.timings.schedule_retry, self._schedule)
            return
        node: str = decision.node

        def bind(obj: Obj) -> bool:
            spec = obj.setdefault("spec", {})
            if spec.get("nodeName"):
                return False
            spec["nodeName"] = node
            return True

        try:
            bound = mutate(self.store, PODS, run.namespace, run.name, bind)
        except ApiError:
            self._step(run, "pod", self.timings.schedule_retry, self._schedule)
            return
        if bound is None:
            return
        run.node = str(as_dict(bound.get("spec")).get("nodeName", node))
        run.scheduled, run.sched_message = "True", ""
        stored = self._publish(run) or bound
        self.events.record(
            stored,
            reason="Scheduled",
            message=f"Successfully assigned {run.namespace}/{run.name} to {run.node}",
            component=SCHEDULER,
        )
        self._step(run, "pod", self.timings.sandbox, self._start_sandbox)

    def _select_node(self, namespace: str, claim: str, node: str) -> None:
        def change(obj: Obj) -> bool:
            annotations = meta(obj).setdefault("annotations", {})
            if annotations.get(SELECTED_NODE):
                return False
            annotations[SELECTED_NODE] = node
            return True

        mutate(self.store, PVCS, namespace, claim, change)

    # ------------------------------------------------------------ the node

    def _node_runtime(self, node_name: str) -> str:
        node = self.store.try_get(NODES, None, node_name)
        return str(
            as_dict(as_dict(as_dict(node or {}).get("status")).get("nodeInfo")).get(
                "containerRuntimeVersion", "cri-o"
            )
        )

    def _assign_ips(self, run: PodRun) -> None:
        nodes = sorted(name_of(n) for n in self.store.list(NODES)[0])
        index = nodes.index(run.node) if run.node in nodes else len(nodes)
        node = self.store.try_get(NODES, None, run.node) or {}
        addresses = as_list(as_dict(node.get("status")).get("addresses"))
        internal = [as_dict(a).get("address") for a in addresses if as_dict(a).get("type") == "InternalIP"]
        run.host_ip = str(internal[0]) if internal else f"10.0.0.{10 + index}"
        counter = self.ip_counters.get(run.node, 0) + 1
        self.ip_counters[run.node] = counter
        run.pod_ip = f"10.{128 + index // 128}.{(index % 128) * 2 + counter // 250}.{10 + counter % 250}"

    def _start_sandbox(self, run: PodRun) -> None:
        pod = self._pod(run)
        if pod is None:
            return
        if not run.sandbox:
            self._assign_ips(run)
            run.sandbox = True
            run.start_time = self.rt.now()
            stored = self._publish(run) or pod
            if self._node_runtime(run.node).startswith("cri-o"):  # OpenShift: multus wires the pod network
                self.events.record(
                    stored,
                    reason="AddedInterface",
                    message=f"Add eth0 [{run.pod_ip}/23] from ovn-kubernetes",
                    component="multus",
                )
        missing = containers.missing_volume_source(self.store, pod)
        if missing is not None:
            volume, what = missing
            self.events.record(
                pod,
                reason="FailedMount",
                message=f'MountVolume.SetUp failed for volume "{volume}" : {what}',
                type=WARNING,
                component=KUBELET,
                host=run.node,
            )
            self._step(run, "pod", self.timings.config_retry, self._start_sandbox)
            return
        self._next_container(run)

    def _spec_of(self, pod: Obj, c: CState) -> Obj:
        key = "initContainers" if c.init else "containers"
        for spec in as_list(as_dict(pod.get("spec")).get(key)):
            if as_dict(spec).get("name") == c.name:
                return as_dict(spec)
        return {}

    def _next_container(self, run: PodRun) -> None:
        """Start the next container that has not started: init containers strictly in order."""
        for c in run.containers:
            if c.init and c.state == "terminated" and c.exit_code == 0:
                continue
            if c.init and c.state == "running":
                return  # wait for it to complete
            if not c.begun:
                c.begun = True
                self._pull(run, c)
                return
            if c.init:
                return  # an init container that has not completed blocks the rest
        # every container is running or handled

    def _resume(self, run: PodRun) -> None:
        """Retry whatever a container is blocked on, after a wake-up."""
        for c in run.containers:
            if c.state == "waiting" and c.reason == "CreateContainerConfigError":
                self._create(run, c)
                return
        if run.sandbox:
            self._start_sandbox(run)

    def _blocked_on_config(self, run: PodRun) -> bool:
        return any(c.state == "waiting" and c.reason == "CreateContainerConfigError" for c in run.containers)

    # ------------------------------------------------------------ images

    def _field_path(self, c: CState) -> str:
        return f"spec.{'initContainers' if c.init else 'containers'}{{{c.name}}}"

    def _kubelet_event(
        self, pod: Obj, run: PodRun, c: CState | None, reason: str, message: str, type: str = NORMAL
    ) -> None:
        self.events.record(
            pod,
            reason=reason,
            message=message,
            type=type,
            component=KUBELET,
            host=run.node,
            field_path=self._field_path(c) if c else "",
        )

    def _pull(self, run: PodRun, c: CState) -> None:
        pod = self._pod(run)
        if pod is None:
            return
        policy = self._spec_of(pod, c).get("imagePullPolicy") or (
            "Always" if images.parse_image(c.image).tag == "latest" else "IfNotPresent"
        )
        if policy != "Always" and c.image in self.node_images.get(run.node, set()):
            self._kubelet_event(
                pod, run, c, "Pulled", f'Container image "{c.image}" already present on machine'
            )
            self._create(run, c)
            return
        if policy == "Never":
            c.reason = "ErrImageNeverPull"
            c.message = f'Container image "{c.image}" is not present with pull policy of Never'
            stored = self._publish(run) or pod
            self._kubelet_event(stored, run, c, "ErrImageNeverPull", c.message, WARNING)
            return
        secrets = images.pull_secrets(self.store, run.namespace, pod)
        if secrets.missing:
            self.events.record(
                pod,
                reason="FailedToRetrieveImagePullSecret",
                message=(
                    f"Unable to retrieve some image pull secrets ({', '.join(secrets.missing)}); "
                    "attempting to pull the image may not succeed."
                ),
                type=WARNING,
                component=KUBELET,
                host=run.node,
            )
        self._kubelet_event(pod, run, c, "Pulling", f'Pulling image "{c.image}"')
        result = images.pull(self.store, run.namespace, pod, c.image, runtime=self._node_runtime(run.node))
        delay = self.timings.pull if result.ok else self.timings.pull_failure
        self._step(run, c.name, delay, lambda r: self._pulled(r, c, result, delay))

    def _pulled(self, run: PodRun, c: CState, result: images.PullResult, took: float) -> None:
        pod = self._pod(run)
        if pod is None:
            return
        if result.ok:
            self.node_images.setdefault(run.node, set()).add(c.image)
            duration = go_duration(took)
            self._kubelet_event(
                pod,
                run,
                c,
                "Pulled",
                f'Successfully pulled image "{c.image}" in {duration} ({duration} including waiting). '
                f"Image size: {images.image_size(c.image)} bytes.",
            )
            c.backoff = 0.0
            self._create(run, c)
            return
        error = f'Failed to pull image "{c.image}": {result.error}'
        c.reason, c.message = "ErrImagePull", result.error
        stored = self._publish(run) or pod
        self._kubelet_event(stored, run, c, "Failed", error, WARNING)
        self._kubelet_event(stored, run, c, "Failed", "Error: ErrImagePull", WARNING)
        self._step(run, c.name, 1.0, lambda r: self._pull_backoff(r, c))

    def _pull_backoff(self, run: PodRun, c: CState) -> None:
        pod = self._pod(run)
        if pod is None:
            return
        c.backoff = min(self.timings.max_backoff, c.backoff * 2 if c.backoff else self.timings.backoff)
        c.reason, c.message = "ImagePullBackOff", f'Back-off pulling image "{c.image}"'
        stored = self._publish(run) or pod
        self._kubelet_event(stored, run, c, "BackOff", f'Back-off pulling image "{c.image}"')
        self._kubelet_event(stored, run, c, "Failed", "Error: ImagePullBackOff", WARNING)
        self._step(run, c.name, c.backoff, lambda r: self._pull(r, c))

    # ------------------------------------------------------------ containers

    def _create(self, run: PodRun, c: CState) -> None:
        pod = self._pod(run)
        if pod is None:
            return
        spec = self._spec_of(pod, c)
        problem = containers.config_error(self.store, pod, spec)
        if problem is not None:
            c.reason, c.message = "CreateContainerConfigError", problem
            stored = self._publish(run) or pod
            self._kubelet_event(stored, run, c, "Failed", f"Error: {problem}", WARNING)
            self._step(run, c.name, self.timings.config_retry, lambda r: self._create(r, c))
            return
        self._step(run, c.name, self.timings.start, lambda r: self._started(r, c))

    def _started(self, run: PodRun, c: CState) -> None:
        pod = self._pod(run)
        if pod is None:
            return
        spec = self._spec_of(pod, c)
        c.state, c.reason, c.message = "running", "", ""
        c.started, c.started_at, c.started_ts = True, self.rt.now(), self.rt.clock.now()
        c.container_id = f"cri-o://{digest(run.uid, c.name, str(c.restarts))}"
        if self._node_runtime(run.node).startswith("containerd"):
            c.container_id = f"containerd://{digest(run.uid, c.name, str(c.restarts))}"
        c.image_id = images.image_id(c.image)
        probe = as_dict(spec.get("readinessProbe"))
        c.ready = not c.init and not probe
        stored = self._publish(run) or pod
        self._kubelet_event(stored, run, c, "Created", f"Created container: {c.name}")
        self._kubelet_event(stored, run, c, "Started", f"Started container {c.name}")
        if c.init:
            self._step(run, c.name, self.timings.storage_initializer, lambda r: self._init_done(r, c))
            return
        key = containers.ngc_key(self.store, pod, spec)
        if key is not None and not images.api_key_is_valid(key):
            self._step(run, c.name, self.timings.crash_after, lambda r: self._crashed(r, c))
            return
        if probe:
            warmup = self._warmup(pod, c)
            delay = float(probe.get("initialDelaySeconds") or 0)
            self._step(run, c.name, delay, lambda r: self._probe(r, c, warmup))
        self._next_container(run)

    def _warmup(self, pod: Obj, c: CState) -> float:
        if c.name != MAIN_CONTAINER:
            return 0.0
        if self._cache_key(pod, c) in self.model_cache or self._prefilled(pod, c):
            return self.timings.model_cached
        return self.timings.model_download

    def _prefilled(self, pod: Obj, c: CState) -> bool:
        """A claim the dashboard recorded as holding this model (``nim-subpath``) starts warm."""
        model = images.parse_image(c.image).repository.rsplit("/", 1)[-1]
        for claim in claims_of(pod):
            pvc = self.store.try_get(PVCS, ns_of(pod), claim)
            if pvc is not None and annotations_of(pvc).get(NIM_SUBPATH) == model:
                return True
        return False

    def _cache_key(self, pod: Obj, c: CState) -> tuple[str, ...]:
        claims = claims_of(pod)
        uids = []
        for claim in claims:
            pvc = self.store.try_get(PVCS, ns_of(pod), claim)
            if pvc is not None:
                uids.append(str(meta(pvc).get("uid", "")))
        return (*sorted(uids), c.image) if uids else ("no-cache", run_uid(pod), c.image)

    def _init_done(self, run: PodRun, c: CState) -> None:
        pod = self._pod(run)
        if pod is None:
            return
        c.state, c.reason, c.exit_code = "terminated", "Completed", 0
        c.finished_at = self.rt.now()
        self._publish(run)
        self._next_container(run)

    def _probe(self, run: PodRun, c: CState, warmup: float) -> None:
        pod = self._pod(run)
        if pod is None or c.state != "running":
            return
        spec = self._spec_of(pod, c)
        probe = as_dict(spec.get("readinessProbe"))
        period = float(probe.get("periodSeconds") or 10)
        elapsed = self.rt.clock.now() - c.started_ts
        if elapsed + 1e-6 >= warmup:
            c.ready = True
            self.model_cache.add(self._cache_key(pod, c))
            self._publish(run)
            return
        self._kubelet_event(
            pod,
            run,
            c,
            "Unhealthy",
            f"Readiness probe failed: {containers.probe_error(run.pod_ip, probe)}",
            WARNING,
        )
        self._step(run, c.name, period, lambda r: self._probe(r, c, warmup))

    def _crashed(self, run: PodRun, c: CState) -> None:
        pod = self._pod(run)
        if pod is None:
            return
        spec = self._spec_of(pod, c)
        message = ""
        if spec.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            message = (
                "ERROR: Failed to download the model from NGC: 401 Unauthorized. "
                "Check that NGC_API_KEY holds a valid NGC API key.\n"
            )
        c.last = {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": c.started_at,
                "finishedAt": self.rt.now(),
                "containerID": c.container_id,
                **({"message": message} if message else {}),
            }
        }
        c.restarts += 1
        c.backoff = min(self.timings.max_backoff, c.backoff * 2 if c.backoff else self.timings.backoff)
        c.state, c.ready, c.started = "waiting", False, False
        c.reason = "CrashLoopBackOff"
        c.message = (
            f"back-off {go_duration(c.backoff)} restarting failed container={c.name} "
            f"pod={run.name}_{run.namespace}({run.uid})"
        )
        stored = self._publish(run) or pod
        self._kubelet_event(
            stored,
            run,
            c,
            "BackOff",
            f"Back-off restarting failed container {c.name} in pod {run.name}_{run.namespace}({run.uid})",
            WARNING,
        )
        self._step(run, c.name, c.backoff, lambda r: self._restart(r, c))

    def _restart(self, run: PodRun, c: CState) -> None:
        pod = self._pod(run)
        if pod is None:
            return
        self._kubelet_event(pod, run, c, "Pulled", f'Container image "{c.image}" already present on machine')
        self._create(run, c)

    # ------------------------------------------------------------ termination

    def terminate(self, pod: Obj) -> None:
        """Graceful deletion as the Deployment controller asks for it: Killing, then gone."""
        namespace, name, uid = ns_of(pod), name_of(pod), str(meta(pod).get("uid", ""))
        run = self.runs.get(uid)
        if run is not None:
            if run.terminating:
                return
            run.terminating = True  # nothing else happens to a terminating pod
            for c in run.containers:
                if c.state == "running":
                    self._kubelet_event(pod, run, c, "Killing", f"Stopping container {c.name}")

        def remove() -> None:
            current = self.store.try_get(PODS, namespace, name)
            if current is not None and meta(current).get("uid") == uid:
                try:
                    self.store.delete(PODS, namespace, name)
                except ApiError:
                    return

        self.rt.later(self.timings.terminate, remove)


def run_uid(pod: Obj) -> str:
    return str(meta(pod).get("uid", ""))
