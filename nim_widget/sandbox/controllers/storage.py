"""The "storage" controller: DefaultStorageClass admission, PVC protection, provisioning, expansion.

What a real cluster does to a PersistentVolumeClaim, step by step:
- admission fills in the default StorageClass (the one annotated
  ``storageclass.kubernetes.io/is-default-class: "true"``, the newest if several) and adds the
  ``kubernetes.io/pvc-protection`` finalizer. This happens while the claim is created, so it is
  done synchronously in the store event, before anyone can read the claim back;
- the PV controller and the CSI external provisioner bind it: ``Pending`` -> ``Bound`` with the
  annotations, ``spec.volumeName`` and Events a real claim carries. ``WaitForFirstConsumer``
  classes wait until the scheduler picks a node for a pod using the claim
  (``volume.kubernetes.io/selected-node``); a class that does not exist leaves the claim Pending
  with a ``ProvisioningFailed`` Warning, retried on every resync;
- a bigger ``spec.resources.requests.storage`` on a bound claim is expanded by the external
  resizer and shows up in ``status.capacity`` after a while;
- a claim being deleted keeps its finalizer while a pod still mounts it (real "Terminating").
"""

from __future__ import annotations

import logging
from typing import Any

from ..quantity import QuantityError, compare
from ..status import ApiError
from .base import (
    PODS,
    PVCS,
    STORAGECLASSES,
    Controller,
    Obj,
    Runtime,
    WorkQueue,
    annotations_of,
    as_dict,
    as_list,
    deleting,
    digest,
    meta,
    mutate,
    name_of,
    ns_of,
    safe_suffix,
    write_status,
)
from .events import WARNING, EventRecorder

DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
PROTECTION_FINALIZER = "kubernetes.io/pvc-protection"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PV_CONTROLLER = "persistentvolume-controller"

log = logging.getLogger(__name__)


def default_storage_class(classes: list[Obj]) -> Obj | None:
    """The class the DefaultStorageClass admission plugin picks: newest default, then by name."""
    defaults = [
        sc for sc in classes if any(annotations_of(sc).get(a) == "true" for a in DEFAULT_CLASS_ANNOTATIONS)
    ]
    if not defaults:
        return None
    defaults.sort(key=name_of)
    defaults.sort(key=lambda sc: str(meta(sc).get("creationTimestamp", "")), reverse=True)
    return defaults[0]


def claims_of(pod: Obj) -> list[str]:
    names = []
    for volume in as_list(as_dict(pod.get("spec")).get("volumes")):
        claim = as_dict(as_dict(volume).get("persistentVolumeClaim")).get("claimName")
        if isinstance(claim, str) and claim:
            names.append(claim)
    return names


def requested_storage(pvc: Obj) -> str | None:
    value = as_dict(as_dict(as_dict(pvc.get("spec")).get("resources")).get("requests")).get("storage")
    return str(value) if value is not None else None


def volume_name(pvc: Obj) -> str:
    return f"pvc-{meta(pvc).get('uid', '')}"


class StorageController(Controller):
    name = "storage"

    def __init__(self, rt: Runtime, events: EventRecorder) -> None:
        super().__init__(rt)
        self.events = events
        self._queue = WorkQueue(rt, self._reconcile)
        self._provisioning: set[str] = set()  # claim uids being provisioned
        self._resizing: set[str] = set()

    # ------------------------------------------------------------ store events

    def on_event(self, event: str, kind_key: str, obj: Obj) -> None:
        if kind_key == PVCS:
            if event == "ADDED":
                self._enqueue(ns_of(obj), name_of(obj), self.timings.reconcile)
                self._admit(obj)
            elif event == "MODIFIED":
                if deleting(obj):
                    self._release(ns_of(obj), name_of(obj))
                else:
                    self._enqueue(ns_of(obj), name_of(obj), self.timings.reconcile)
        elif kind_key == STORAGECLASSES and event == "ADDED":
            for pvc in self.store.list(PVCS)[0]:
                if as_dict(pvc.get("status")).get("phase") != "Bound":
                    self._enqueue(ns_of(pvc), name_of(pvc), self.timings.reconcile)
        elif kind_key == PODS and (event == "DELETED" or deleting(obj)):
            for claim in claims_of(obj):
                self._release(ns_of(obj), claim)

    def _enqueue(self, namespace: str, name: str, delay: float) -> None:
        self._queue.add(namespace, name, delay)

    # ------------------------------------------------------------ admission

    def _admit(self, pvc: Obj) -> None:
        namespace, name = ns_of(pvc), name_of(pvc)

        def protect(obj: Obj) -> bool:
            finalizers = meta(obj).setdefault("finalizers", [])
            if PROTECTION_FINALIZER in finalizers:
                return False
            finalizers.append(PROTECTION_FINALIZER)
            return True

        stored = mutate(self.store, PVCS, namespace, name, protect)
        if stored is None:
            return
        if not as_dict(stored.get("status")).get("phase"):
            write_status(self.store, PVCS, namespace, name, {"phase": "Pending"})
        if as_dict(stored.get("spec")).get("storageClassName") is not None:
            return  # set by the client ("" included: no class wanted) or by admission already
        default = default_storage_class(self.store.list(STORAGECLASSES)[0])
        if default is None:
            return

        def fill(obj: Obj) -> bool:
            spec = obj.setdefault("spec", {})
            if spec.get("storageClassName") is not None:
                return False
            spec["storageClassName"] = name_of(default)
            return True

        try:
            mutate(self.store, PVCS, namespace, name, fill)
        except ApiError as exc:
            # Setting the class once on a claim that has none is allowed by a real API server
            # (RetroactiveDefaultStorageClass); a store that refuses it leaves the claim class-less.
            log.warning("default StorageClass not applied to %s/%s: %s", namespace, name, exc.message)

    # ------------------------------------------------------------ protection

    def _release(self, namespace: str, name: str) -> None:
        """Drop the pvc-protection finalizer of a deleted claim once no pod uses it any more."""
        pvc = self.store.try_get(PVCS, namespace, name)
        if pvc is None or not deleting(pvc) or PROTECTION_FINALIZER not in meta(pvc).get("finalizers", []):
            return
        for pod in self.store.list(PODS, namespace)[0]:
            phase = as_dict(pod.get("status")).get("phase")
            if name in claims_of(pod) and not deleting(pod) and phase not in ("Succeeded", "Failed"):
                return

        def change(obj: Obj) -> bool:
            finalizers = meta(obj).get("finalizers", [])
            if PROTECTION_FINALIZER not in finalizers:
                return False
            meta(obj)["finalizers"] = [f for f in finalizers if f != PROTECTION_FINALIZER]
            return True

        mutate(self.store, PVCS, namespace, name, change)

    # ------------------------------------------------------------ binding and expansion

    def _reconcile(self, namespace: str, name: str) -> None:
        pvc = self.store.try_get(PVCS, namespace, name)
        if pvc is None or deleting(pvc):
            return
        status = as_dict(pvc.get("status"))
        if status.get("phase") == "Bound":
            self._maybe_expand(pvc)
            return
        uid = str(meta(pvc).get("uid", ""))
        if uid in self._provisioning:
            return
        class_name = as_dict(pvc.get("spec")).get("storageClassName")
        if not class_name:
            self.events.record(
                pvc,
                reason="FailedBinding",
                message="no persistent volumes available for this claim and no storage class is set",
                component=PV_CONTROLLER,
            )
            return
        sc = self.store.try_get(STORAGECLASSES, None, str(class_name))
        if sc is None:
            self.events.record(
                pvc,
                reason="ProvisioningFailed",
                message=f'storageclass.storage.k8s.io "{class_name}" not found',
                type=WARNING,
                component=PV_CONTROLLER,
            )
            self._enqueue(namespace, name, self.timings.storage_retry)
            return
        provisioner = str(sc.get("provisioner", ""))
        wait = sc.get("volumeBindingMode") == "WaitForFirstConsumer"
        if wait and SELECTED_NODE not in annotations_of(pvc):
            self.events.record(
                pvc,
                reason="WaitForFirstConsumer",
                message="waiting for first consumer to be created before binding",
                component=PV_CONTROLLER,
            )
            return
        if provisioner == "kubernetes.io/no-provisioner":
            self.events.record(
                pvc,
                reason="FailedBinding",
                message="no persistent volumes available for this claim",
                component=PV_CONTROLLER,
            )
            return
        self._start_provisioning(pvc, provisioner)

    def _start_provisioning(self, pvc: Obj, provisioner: str) -> None:
        namespace, name = ns_of(pvc), name_of(pvc)
        uid = str(meta(pvc).get("uid", ""))
        self._provisioning.add(uid)

        def annotate(obj: Obj) -> bool:
            annotations = meta(obj).setdefault("annotations", {})
            before = dict(annotations)
            annotations["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
            annotations["volume.kubernetes.io/storage-provisioner"] = provisioner
            return bool(annotations != before)

        stored = mutate(self.store, PVCS, namespace, name, annotate) or pvc
        self.events.record(
            stored,
            reason="ExternalProvisioning",
            message=(
                f"Waiting for a volume to be created either by the external provisioner '{provisioner}' "
                "or manually by the system administrator. If volume creation is delayed, please verify "
                "that the provisioner is running and correctly registered."
            ),
            component=PV_CONTROLLER,
        )
        self.events.record(
            stored,
            reason="Provisioning",
            message=f'External provisioner is provisioning volume for claim "{namespace}/{name}"',
            component=provisioner_identity(provisioner),
        )

        def bind() -> None:
            self._provisioning.discard(uid)
            self._bind(namespace, name, uid, provisioner)

        self.rt.later(self.timings.provision, bind)

    def _bind(self, namespace: str, name: str, uid: str, provisioner: str) -> None:
        pvc = self.store.try_get(PVCS, namespace, name)
        if pvc is None or deleting(pvc) or meta(pvc).get("uid") != uid:
            return
        volume = volume_name(pvc)

        def change(obj: Obj) -> bool:
            spec = obj.setdefault("spec", {})
            annotations = meta(obj).setdefault("annotations", {})
            before = (spec.get("volumeName"), dict(annotations))
            spec["volumeName"] = volume
            annotations["pv.kubernetes.io/bind-completed"] = "yes"
            annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
            return before != (spec.get("volumeName"), annotations)

        stored = mutate(self.store, PVCS, namespace, name, change)
        if stored is None:
            return
        spec = as_dict(stored.get("spec"))
        status: Obj = {"phase": "Bound", "accessModes": list(as_list(spec.get("accessModes")))}
        size = requested_storage(stored)
        if size is not None:
            status["capacity"] = {"storage": size}
        stored = write_status(self.store, PVCS, namespace, name, status) or stored
        self.events.record(
            stored,
            reason="ProvisioningSucceeded",
            message=f"Successfully provisioned volume {volume}",
            component=provisioner_identity(provisioner),
        )

    def _maybe_expand(self, pvc: Obj) -> None:
        uid = str(meta(pvc).get("uid", ""))
        if uid in self._resizing:
            return
        wanted = requested_storage(pvc)
        have = as_dict(as_dict(pvc.get("status")).get("capacity")).get("storage")
        if wanted is None or have is None:
            return
        try:
            if compare(wanted, have) <= 0:
                return
        except QuantityError:
            return
        sc = self.store.try_get(
            STORAGECLASSES, None, str(as_dict(pvc.get("spec")).get("storageClassName", ""))
        )
        provisioner = str(sc.get("provisioner", "")) if sc else ""
        namespace, name = ns_of(pvc), name_of(pvc)
        self._resizing.add(uid)
        status = dict(as_dict(pvc.get("status")))
        status["allocatedResources"] = {"storage": wanted}
        status["conditions"] = [
            {"type": "Resizing", "status": "True", "lastProbeTime": None, "lastTransitionTime": self.rt.now()}
        ]
        stored = write_status(self.store, PVCS, namespace, name, status) or pvc
        self.events.record(
            stored,
            reason="ExternalExpanding",
            message="waiting for an external controller to expand this PVC",
            component="volume_expand",
        )
        self.events.record(
            stored,
            reason="Resizing",
            message=f"External resizer is resizing volume {volume_name(pvc)}",
            component=f"external-resizer {provisioner}",
        )

        def finish() -> None:
            self._resizing.discard(uid)
            current = self.store.try_get(PVCS, namespace, name)
            if current is None or meta(current).get("uid") != uid:
                return
            new_status = dict(as_dict(current.get("status")))
            new_status["capacity"] = {"storage": wanted}
            new_status.pop("conditions", None)
            stored = write_status(self.store, PVCS, namespace, name, new_status) or current
            self.events.record(
                stored,
                reason="VolumeResizeSuccessful",
                message="Resize volume succeeded",
                component=f"external-resizer {provisioner}",
            )
            self._enqueue(namespace, name, self.timings.reconcile)  # a further increase may be waiting

        self.rt.later(self.timings.resize, finish)


def provisioner_identity(provisioner: str) -> str:
    """The component name a CSI external-provisioner reports: ``<driver>_<controller pod>_<uuid>``."""
    pod = f"csi-controller-{digest(provisioner, length=10)}-{safe_suffix(provisioner)}"
    h = digest("identity", provisioner, length=32)
    return f"{provisioner}_{pod}_{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def selected_node(pvc: Obj) -> str | None:
    value: Any = annotations_of(pvc).get(SELECTED_NODE)
    return str(value) if value else None
