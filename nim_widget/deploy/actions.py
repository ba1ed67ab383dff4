"""The writes of one deployment, each runnable as a dry run and for real.

A `Write` knows which step it belongs to, which object it touches and how to send itself, so the
orchestrator can dry-run the whole batch, run it for real, and hand what happened to the rollback.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from nim_widget.cluster.api import Api, diff_ops
from nim_widget.cluster.errors import ObjectRef
from nim_widget.deploy.steps import Step
from nim_widget.manifests import PlannedObject, redact

Verb = Literal["create", "replace", "patch", "json_patch"]

STOP_ANNOTATION = "serving.kserve.io/stop"
STOP_PATH = "/metadata/annotations/" + STOP_ANNOTATION.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Write:
    """One request this run will make. `existing` is the object before the run (None for a create):
    the saved copy a rollback restores."""

    step: int
    verb: Verb
    ref: ObjectRef
    role: str
    manifest: Mapping[str, Any] = field(repr=False)
    existing: Mapping[str, Any] | None = field(default=None, repr=False)
    ops: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)

    def send(self, *, api: Api, dry_run: bool) -> dict[str, Any]:
        if self.verb == "create":
            return api.create(body=self.manifest, dry_run=dry_run)
        if self.verb == "replace":
            return api.replace(body=self.manifest, dry_run=dry_run)
        if self.verb == "patch":
            assert self.existing is not None
            return api.json_patch(old=self.existing, new=self.manifest, dry_run=dry_run)
        return api.patch_ops(api_version=self.ref.api_version, kind=self.ref.kind, name=self.ref.name,
                             namespace=self.ref.namespace, ops=self.ops, dry_run=dry_run)

    def redacted(self) -> dict[str, Any]:
        return redact(self.manifest)

    def describe(self) -> str:
        what = {"create": "create", "replace": "update", "patch": "patch", "json_patch": "patch"}[self.verb]
        return f"{what} {self.ref.kind} {self.ref.name}"


def _ref(obj: PlannedObject) -> ObjectRef:
    return ObjectRef(obj.api_version, obj.kind, obj.name, obj.namespace)


def _step_for(obj: PlannedObject) -> int:
    if obj.role in ("runtime", "inference_service"):
        return Step.APPLY
    if obj.role == "pvc" and obj.operation != "create":
        return Step.RESIZE_STORAGE
    return Step.SECRETS_AND_STORAGE


def writes_for(*, objects: Sequence[PlannedObject]) -> tuple[list[Write], list[PlannedObject]]:
    """The writes a plan needs, and the planned updates that turned out to change nothing."""
    writes: list[Write] = []
    unchanged: list[PlannedObject] = []
    for obj in objects:
        if obj.operation == "reuse":
            continue
        if obj.operation in ("replace", "patch"):
            assert obj.existing is not None
            if not diff_ops(old=obj.existing, new=obj.manifest):
                unchanged.append(obj)
                continue
        verb: Verb = "create" if obj.operation == "create" else obj.operation
        writes.append(Write(step=_step_for(obj), verb=verb, ref=_ref(obj), role=obj.role,
                            manifest=obj.manifest, existing=obj.existing))
    return writes, unchanged


def restart_write(*, inference_service: Mapping[str, Any]) -> Write | None:
    """Start a stopped deployment again (the dashboard's `serving.kserve.io/stop: "false"` patch)."""
    annotations = (inference_service.get("metadata") or {}).get("annotations") or {}
    if str(annotations.get(STOP_ANNOTATION, "")).lower() != "true":
        return None
    meta = inference_service["metadata"]
    ref = ObjectRef(str(inference_service["apiVersion"]), str(inference_service["kind"]), str(meta["name"]),
                    str(meta["namespace"]))
    restarted = copy.deepcopy(dict(inference_service))
    restarted["metadata"]["annotations"][STOP_ANNOTATION] = "false"
    return Write(step=Step.RESTART, verb="json_patch", ref=ref, role="inference_service", manifest=restarted,
                 existing=inference_service,
                 ops=({"op": "add", "path": STOP_PATH, "value": "false"},))
