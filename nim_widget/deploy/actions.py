"""The writes of one deployment, each runnable as a dry run and for real.

A `Write` knows which step it belongs to, which object it touches and how to send itself, so the
orchestrator can dry-run the whole batch, run it for real, and hand what happened to the rollback.

Every object a run creates carries the annotation `nim-widget/deploy-run: <run id>` (see
`cluster.api.RUN_ANNOTATION`). It is how a create whose answer was lost (a reset connection, a
timeout) is told apart from someone else's object of the same name: the API layer reads the object
back and calls the create ours only when the run id matches; a rollback likewise deletes only what
carries this run's id. The value is a random id, not a user, host or time, and nothing reads it
except the run that wrote it, so the objects stay what the dashboard would create: the dashboard
lists, edits and deletes them by their labels and other annotations and keeps unknown annotations
on edit. An update keeps the annotation the object was created with.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from nim_widget.cluster.api import RUN_ANNOTATION, Api, diff_ops
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
        return api.patch_ops(
            api_version=self.ref.api_version,
            kind=self.ref.kind,
            name=self.ref.name,
            namespace=self.ref.namespace,
            ops=self.ops,
            dry_run=dry_run,
        )

    def redacted(self) -> dict[str, Any]:
        return redact(self.manifest)

    @property
    def reversible(self) -> bool:
        """Whether a rollback can undo this write (a grown volume cannot shrink)."""
        return not (self.ref.kind == "PersistentVolumeClaim" and self.verb != "create")

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


def marked(manifest: Mapping[str, Any], *, run_id: str) -> dict[str, Any]:
    """A copy of `manifest` carrying this run's id (the original, which may hold secret values, is
    not copied deeply: only its metadata is rebuilt)."""
    result = dict(manifest)
    metadata = dict(result.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), RUN_ANNOTATION: run_id}
    result["metadata"] = metadata
    return result


def writes_for(*, objects: Sequence[PlannedObject], run_id: str) -> tuple[list[Write], list[PlannedObject]]:
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
        manifest = marked(obj.manifest, run_id=run_id) if verb == "create" else obj.manifest
        writes.append(
            Write(
                step=_step_for(obj),
                verb=verb,
                ref=_ref(obj),
                role=obj.role,
                manifest=manifest,
                existing=obj.existing,
            )
        )
    return writes, unchanged


def restart_write(*, inference_service: Mapping[str, Any]) -> Write | None:
    """Start a stopped deployment again (the dashboard's `serving.kserve.io/stop: "false"` patch)."""
    annotations = (inference_service.get("metadata") or {}).get("annotations") or {}
    if str(annotations.get(STOP_ANNOTATION, "")).lower() != "true":
        return None
    meta = inference_service["metadata"]
    ref = ObjectRef(
        str(inference_service["apiVersion"]),
        str(inference_service["kind"]),
        str(meta["name"]),
        str(meta["namespace"]),
    )
    restarted = copy.deepcopy(dict(inference_service))
    restarted["metadata"]["annotations"][STOP_ANNOTATION] = "false"
    return Write(
        step=Step.RESTART,
        verb="json_patch",
        ref=ref,
        role="inference_service",
        manifest=restarted,
        existing=inference_service,
        ops=({"op": "add", "path": STOP_PATH, "value": "false"},),
    )
