"""Edit: the request back from a live deployment, the exact change an edit makes, and applying it.

An edit must not surprise: it starts from what is deployed (whoever deployed it), refuses what the
dashboard refuses (another name, model or storage; a smaller PVC) before a single API call, shows the
JSON patch each object will receive, and then goes through the orchestrator's update path, so the
write is dry-run, conflict-checked and rolled back like any deploy.

`extract_request` reads the objects the way the original design's extractors did: hardware profile
from the annotations (resources that differ from its defaults become overrides), model and tag from
the runtime image, replicas, plain env vars, the PVC and subPath of the /mnt/models/cache mount
(storage mode `existing`, size from the PVC), description and display name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jsonpatch
import pydantic

from nim_widget.catalog import parse_hardware_profile
from nim_widget.cluster.api import Api, diff_ops, strip_server_fields
from nim_widget.cluster.discovery import gather
from nim_widget.cluster.errors import Forbidden
from nim_widget.deploy.orchestrator import Clock, DeployResult, OnEvent, deploy
from nim_widget.facts import ClusterFacts, HardwareProfile
from nim_widget.lifecycle import kinds as k
from nim_widget.lifecycle.control import stop_patch
from nim_widget.lifecycle.errors import DeploymentNotFound, EditRefused, ExtractError
from nim_widget.manifests import AssemblyError, Plan, assemble
from nim_widget.quantity import Quantity, QuantityError
from nim_widget.request import RESERVED_ENV, DeploymentRequest, errors_by_field

HWP_API = "infrastructure.opendatahub.io/v1"


@dataclass(frozen=True)
class LiveDeployment:
    """The live objects of one deployment, read once: what an edit starts from and is compared with."""

    namespace: str
    name: str
    inference_service: Mapping[str, Any]
    runtime: Mapping[str, Any] | None
    pvc: Mapping[str, Any] | None
    hardware_profile: HardwareProfile | None


def read_live(*, api: Api, namespace: str, name: str) -> LiveDeployment:
    """Read the InferenceService, then its runtime, PVC and hardware profile (concurrently)."""
    isvc = api.try_get(api_version=k.IS_API, kind=k.IS_KIND, name=name, namespace=namespace)
    if isvc is None:
        raise DeploymentNotFound(namespace=namespace, name=name)
    annotations = k.annotations_of(isvc)
    profile_name = annotations.get(k.HWP_NAME)
    profile_ns = annotations.get(k.HWP_NAMESPACE) or namespace
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="nim-widget-edit") as pool:
        runtime_f = pool.submit(
            api.try_get, api_version=k.SR_API, kind=k.SR_KIND, name=k.runtime_name(isvc), namespace=namespace
        )
        profile_f = pool.submit(_profile, api, profile_ns, profile_name) if profile_name else None
        runtime = runtime_f.result()
        mount = k.cache_mount(runtime)
        pvc = (
            api.try_get(api_version="v1", kind="PersistentVolumeClaim", name=mount.pvc, namespace=namespace)
            if mount
            else None
        )
        profile = profile_f.result() if profile_f is not None else None
    return LiveDeployment(
        namespace=namespace,
        name=name,
        inference_service=isvc,
        runtime=runtime,
        pvc=pvc,
        hardware_profile=profile,
    )


def _profile(api: Api, namespace: str, name: str) -> HardwareProfile | None:
    try:
        raw = api.try_get(api_version=HWP_API, kind="HardwareProfile", name=name, namespace=namespace)
    except Forbidden:
        return None
    if raw is None:
        return None
    try:
        return parse_hardware_profile(obj=raw)
    except ValueError:
        return None


def _overrides(actual: Mapping[str, Any], profile: HardwareProfile | None) -> dict[str, dict[str, str]]:
    """The container resources that differ from the profile's defaults (what the user customised)."""
    if profile is None:
        return {}
    defaults = profile.resources()
    result: dict[str, dict[str, str]] = {}
    for kind in ("requests", "limits"):
        for resource, value in (actual.get(kind) or {}).items():
            default = defaults[kind].get(resource)
            if default is None:
                continue  # the request can only override what the profile offers
            try:
                differs = Quantity.parse(value) != Quantity.parse(default)
            except QuantityError:
                differs = True
            if differs:
                result.setdefault(kind, {})[resource] = str(value)
    return result


def extract_request(*, live: LiveDeployment) -> DeploymentRequest:
    """The request that, assembled and applied as an update, reproduces the deployment."""
    isvc = live.inference_service
    annotations = k.annotations_of(isvc)
    model = k.predictor_model(isvc)
    predictor = k.predictor(isvc)
    image = k.parse_image(str(k.main_container(live.runtime).get("image") or ""))
    formats = ((live.runtime or {}).get("spec") or {}).get("supportedModelFormats") or [{}]
    first_format = formats[0] if isinstance(formats[0], dict) else {}
    model_key = image.name or str(
        first_format.get("name") or (model.get("modelFormat") or {}).get("name") or ""
    )
    tag = image.tag or str(first_format.get("version") or "") or None
    mount = k.cache_mount(live.runtime)
    if live.runtime is None:
        raise ExtractError(f"The serving runtime {k.runtime_name(isvc)!r} of {live.name} does not exist.")
    if mount is None:
        raise ExtractError(f"{live.name} has no model cache PVC mounted at {k.CACHE_MOUNT_PATH}.")
    size = None
    if live.pvc is not None:
        size = ((live.pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")
    profile_name = annotations.get(k.HWP_NAME)
    profile_ns = annotations.get(k.HWP_NAMESPACE)
    replicas = predictor.get("minReplicas")
    if replicas is None:
        replicas = predictor.get("maxReplicas", 1)
    env = [
        {"name": e.get("name"), "value": e.get("value", "")}
        for e in model.get("env") or ()
        if isinstance(e, dict) and "valueFrom" not in e and e.get("name") not in RESERVED_ENV
    ]
    data: dict[str, Any] = {
        "project": live.namespace,
        "displayName": annotations.get(k.DISPLAY_NAME) or live.name,
        "name": live.name,
        "model": model_key,
        "tag": tag,
        "description": annotations.get(k.DESCRIPTION, ""),
        "storage": {"mode": "existing", "pvcName": mount.pvc, "subPath": mount.sub_path, "size": size},
        "hardwareProfile": (f"{profile_ns}/{profile_name}" if profile_ns and profile_name else profile_name),
        "resources": _overrides(model.get("resources") or {}, live.hardware_profile),
        "replicas": replicas,
        "env": env,
    }
    try:
        return DeploymentRequest.model_validate(data, by_alias=True, by_name=False)
    except pydantic.ValidationError as exc:
        raise ExtractError(
            f"{live.name} uses settings nim-widget cannot express:", causes=errors_by_field(exc)
        ) from None


def export_request(*, api: Api, namespace: str, name: str) -> DeploymentRequest:
    """`nim-widget export`: the spec of a live deployment."""
    return extract_request(live=read_live(api=api, namespace=namespace, name=name))


# -- edit rules (pure, before any API call) ----------------------------------------------------------

_LOCKED: tuple[tuple[str, Callable[[DeploymentRequest], object], str], ...] = (
    ("project", lambda r: r.project, "the project of a deployment cannot change"),
    ("name", lambda r: r.name, "the resource name is fixed once deployed"),
    ("model", lambda r: r.model, "the model cannot change in an edit; deploy it under a new name"),
    ("storage.mode", lambda r: r.storage.mode, "the storage mode cannot change in an edit"),
    ("storage.pvcName", lambda r: r.storage.pvc_name, "the model cache PVC cannot change in an edit"),
    ("storage.subPath", lambda r: r.storage.sub_path, "the subpath cannot change in an edit"),
)


def check_edit(*, original: DeploymentRequest, edited: DeploymentRequest) -> None:
    """Refuse, with field messages, the changes the dashboard's edit mode locks; PVCs only grow."""
    causes: dict[str, str] = {}
    for path, value, message in _LOCKED:
        if value(original) != value(edited):
            causes[path] = message
    before, after = original.storage.size, edited.storage.size
    if before is not None and after is not None and Quantity.parse(after) < Quantity.parse(before):
        causes["storage.size"] = (
            f'Storage can only grow: "{original.storage.pvc_name}" is {before} now, {after} is smaller'
        )
    if causes:
        raise EditRefused(causes)


# -- the change, readable ------------------------------------------------------------------------------


def _pointer_value(doc: Any, path: str) -> Any:
    try:
        return jsonpatch.JsonPointer(path).resolve(doc)
    except (jsonpatch.JsonPointerException, KeyError, IndexError, TypeError):
        return None


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)


@dataclass(frozen=True)
class ObjectChange:
    """One object's part of an edit: its JSON patch (empty: unchanged), or a creation."""

    kind: str
    name: str
    operation: str  # "update", "create", "restart" or "unchanged"
    ops: tuple[dict[str, Any], ...]
    old: Mapping[str, Any] | None = None

    def lines(self) -> list[str]:
        if self.operation == "create":
            return [f"create {self.kind} {self.name}"]
        if self.operation == "restart":
            return [f'restart {self.kind} {self.name}: {k.STOP_ANNOTATION} "true" -> "false"']
        if not self.ops:
            return [f"unchanged {self.kind} {self.name}"]
        out = [f"update {self.kind} {self.name} ({len(self.ops)} operation{'s' * (len(self.ops) != 1)}):"]
        old = strip_server_fields(self.old or {})
        for op in self.ops:
            path = op["path"]
            secret = self.kind == "Secret"
            value = "<redacted>" if secret else _show(op.get("value"))
            before = "<redacted>" if secret else _show(_pointer_value(old, path))
            if op["op"] == "replace":
                out.append(f"  ~ {path}: {before} -> {value}")
            elif op["op"] == "add":
                out.append(f"  + {path}: {value}")
            elif op["op"] == "remove":
                out.append(f"  - {path} (was {before})")
            else:
                out.append(f"  {op['op']} {path}")
        return out


@dataclass(frozen=True)
class ChangePreview:
    """The exact change an edit makes, object by object, before anything is written."""

    changes: tuple[ObjectChange, ...]
    plan: Plan

    @property
    def empty(self) -> bool:
        return all(c.operation == "unchanged" for c in self.changes)

    @property
    def patches(self) -> dict[str, list[dict[str, Any]]]:
        """`{"InferenceService llama": [ops...]}` for the objects that change (secrets never shown)."""
        return {f"{c.kind} {c.name}": list(c.ops) for c in self.changes if c.ops and c.kind != "Secret"}

    def lines(self) -> list[str]:
        if self.empty:
            return ["No changes."]
        return [line for change in self.changes for line in change.lines()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "empty": self.empty,
            "changes": [
                {
                    "kind": c.kind,
                    "name": c.name,
                    "operation": c.operation,
                    "patch": [] if c.kind == "Secret" else list(c.ops),
                }
                for c in self.changes
            ],
        }


def changes_of(*, plan: Plan) -> ChangePreview:
    """Each planned write as the JSON patch from the live object to what the orchestrator sends."""
    changes = []
    for item in plan.objects:
        if item.existing is None:
            changes.append(ObjectChange(kind=item.kind, name=item.name, operation="create", ops=()))
            continue
        ops = tuple(diff_ops(old=item.existing, new=item.manifest))
        operation = "update" if ops else "unchanged"
        changes.append(
            ObjectChange(kind=item.kind, name=item.name, operation=operation, ops=ops, old=item.existing)
        )
    isvc = plan.object("inference_service")
    if isvc is not None and isvc.existing is not None and k.is_stopped(isvc.existing):
        # the orchestrator starts a stopped deployment again after an update (its step 11)
        changes.append(
            ObjectChange(
                kind=isvc.kind,
                name=isvc.name,
                operation="restart",
                ops=tuple(stop_patch(stopped=False)),
                old=isvc.existing,
            )
        )
    return ChangePreview(changes=tuple(changes), plan=plan)


def preview_edit(
    *,
    api: Api,
    original: DeploymentRequest,
    request: DeploymentRequest,
    overwrite: bool = False,
    facts: ClusterFacts | None = None,
    clock: Clock | None = None,
) -> ChangePreview:
    """Check the edit (no API call when refused), read the project, assemble, and diff."""
    check_edit(original=original, edited=request)
    if facts is None:
        now = datetime.fromtimestamp(clock.now(), UTC) if clock is not None else None
        facts = gather(api=api, project=request.project, now=now)
    try:
        plan = assemble(request=request, facts=facts, update=True, overwrite=overwrite)
    except AssemblyError as exc:
        raise EditRefused({e.field: e.message for e in exc.errors}) from None
    return changes_of(plan=plan)


class EditSession:
    """One edit of one deployment: read once, then check / preview / apply any number of times.

    The widget opens it when the user clicks Edit, prefills the wizard with `original` (name, model
    and storage locked; the size may grow), shows `preview(request).lines()` on the review step and
    calls `apply` on confirm.
    """

    def __init__(self, *, api: Api, live: LiveDeployment, clock: Clock | None = None) -> None:
        self.api = api
        self.live = live
        self.clock = clock
        self.original = extract_request(live=live)

    @classmethod
    def open(cls, *, api: Api, namespace: str, name: str, clock: Clock | None = None) -> EditSession:
        return cls(api=api, live=read_live(api=api, namespace=namespace, name=name), clock=clock)

    def check(self, request: DeploymentRequest) -> None:
        check_edit(original=self.original, edited=request)

    def preview(self, request: DeploymentRequest, *, overwrite: bool = False) -> ChangePreview:
        return preview_edit(
            api=self.api, original=self.original, request=request, overwrite=overwrite, clock=self.clock
        )

    def apply(
        self, request: DeploymentRequest, *, overwrite: bool = False, on_event: OnEvent | None = None
    ) -> DeployResult:
        """The orchestrator's update path: dry run, PUT (or JSON patch with `overwrite`), PVC growth,
        restart if stopped, rollback on failure. A refused edit never reaches the cluster."""
        self.check(request)
        return deploy(
            api=self.api,
            request=request,
            update=True,
            overwrite=overwrite,
            on_event=on_event,
            clock=self.clock,
        )


def edited(request: DeploymentRequest, **changes: Any) -> DeploymentRequest:
    """A copy of `request` with spec-file keys changed (`replicas=2`, `storage={"size": "100Gi"}`),
    validated again, so callers never build an invalid request by hand."""
    data = request.model_dump(by_alias=True)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return DeploymentRequest.model_validate(data, by_alias=True, by_name=False)
