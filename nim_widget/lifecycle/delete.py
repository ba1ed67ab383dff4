"""Delete a deployment and clean up after it, without taking anything another deployment needs.

The InferenceService and its ServingRuntime go. The model-cache PVC holds gigabytes of downloaded
model, so it goes only when asked, only when it is a NIM cache PVC and only when nothing else mounts
it. The secret copies a deploy makes (`ngc-secret`, `nvidia-nim-secrets`) go only when no remaining
runtime, InferenceService or Pod uses them, and never when they are the NIM account's own secrets
(the per-project key secret *is* `nvidia-nim-secrets`, reference G). Token-authentication objects
are owned by the InferenceService and leave with it (garbage collection); unowned leftovers of the
same shape are deleted explicitly.

`plan_delete` only reads and decides; `execute_delete` dry-runs every deletion first (so a missing
permission stops it before anything is gone), then deletes. Both are separate so the widget can show
the plan in its typed confirmation and the CLI can print it before asking.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from nim_widget.cluster.api import RUN_ANNOTATION, Api
from nim_widget.cluster.errors import Forbidden, NimWidgetError, NotFound, in_context
from nim_widget.lifecycle import kinds as k
from nim_widget.lifecycle.access import SA_NAME_ANNOTATION, TOKEN_SECRET_TYPE, AccessNames
from nim_widget.lifecycle.errors import DeploymentNotFound


class Action(StrEnum):
    DELETE = "delete"  # planned: deleted by us
    CASCADE = "cascade"  # deleted by the cluster with its owner
    KEEP = "keep"


class Outcome(StrEnum):
    PLANNED = "planned"
    DELETED = "deleted"
    ALREADY_GONE = "already gone"
    KEPT = "kept"
    FAILED = "failed"


@dataclass(frozen=True)
class DeleteItem:
    """One object the delete considered, what it does with it and why (in a sentence)."""

    api_version: str
    kind: str
    name: str
    action: Action
    reason: str
    outcome: Outcome = Outcome.PLANNED

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    def line(self) -> str:
        mark = {Action.DELETE: "-", Action.CASCADE: "-", Action.KEEP: "="}[self.action]
        state = self.outcome.value if self.outcome is not Outcome.PLANNED else self.action.value
        return f"{mark} {self.label}: {state} ({self.reason})"

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "name": self.name,
            "action": self.action.value,
            "outcome": self.outcome.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class DeletePlan:
    namespace: str
    name: str
    display_name: str
    items: tuple[DeleteItem, ...]

    @property
    def deleting(self) -> tuple[DeleteItem, ...]:
        return tuple(i for i in self.items if i.action is not Action.KEEP)

    @property
    def keeping(self) -> tuple[DeleteItem, ...]:
        return tuple(i for i in self.items if i.action is Action.KEEP)

    def lines(self) -> list[str]:
        return [item.line() for item in self.items]


@dataclass(frozen=True)
class DeleteReport:
    """What was deleted and what was kept, and why; `ok` is False if a deletion failed."""

    plan: DeletePlan
    items: tuple[DeleteItem, ...]
    errors: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def deleted(self) -> tuple[DeleteItem, ...]:
        return tuple(i for i in self.items if i.outcome in (Outcome.DELETED, Outcome.ALREADY_GONE))

    @property
    def kept(self) -> tuple[DeleteItem, ...]:
        return tuple(i for i in self.items if i.outcome is Outcome.KEPT)

    def lines(self) -> list[str]:
        return [item.line() for item in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.plan.name,
            "namespace": self.plan.namespace,
            "items": [i.to_dict() for i in self.items],
            "errors": list(self.errors),
        }


# -- reading ---------------------------------------------------------------------------------------


@dataclass
class _World:
    isvc: dict[str, Any]
    runtime: dict[str, Any] | None
    runtimes: list[dict[str, Any]]
    isvcs: list[dict[str, Any]]
    pods: list[dict[str, Any]]
    pvc: dict[str, Any] | None
    secrets: dict[str, dict[str, Any] | None]
    accounts: list[dict[str, Any]]
    access: list[dict[str, Any]]


def _read(api: Api, namespace: str, name: str) -> _World:
    isvc = api.try_get(api_version=k.IS_API, kind=k.IS_KIND, name=name, namespace=namespace)
    if isvc is None:
        raise DeploymentNotFound(namespace=namespace, name=name)
    names = AccessNames.of(name)
    with ThreadPoolExecutor(max_workers=10, thread_name_prefix="nim-widget-delete") as pool:
        runtimes_f = pool.submit(api.list, api_version=k.SR_API, kind=k.SR_KIND, namespace=namespace)
        isvcs_f = pool.submit(api.list, api_version=k.IS_API, kind=k.IS_KIND, namespace=namespace)
        pods_f = pool.submit(api.list, api_version="v1", kind="Pod", namespace=namespace)
        accounts_f = pool.submit(_accounts, api, namespace)
        secrets_f = pool.submit(api.list, api_version="v1", kind="Secret", namespace=namespace)
        access_f = [
            pool.submit(api.try_get, api_version=v, kind=kind, name=n, namespace=namespace)
            for v, kind, n in (
                ("v1", "ServiceAccount", names.service_account),
                (k.RBAC_API, "Role", names.role),
                (k.RBAC_API, "RoleBinding", names.role_binding),
            )
        ]
        runtimes = runtimes_f.result()
        runtime = next((r for r in runtimes if k.name_of(r) == k.runtime_name(isvc)), None)
        mount = k.cache_mount(runtime)
        pvc = (
            api.try_get(api_version="v1", kind="PersistentVolumeClaim", name=mount.pvc, namespace=namespace)
            if mount
            else None
        )
        all_secrets = [_without_values(s) for s in secrets_f.result()]
        access = [a for a in (f.result() for f in access_f) if a is not None]
        return _World(
            isvc=isvc,
            runtime=runtime,
            runtimes=runtimes,
            isvcs=isvcs_f.result(),
            pods=pods_f.result(),
            pvc=pvc,
            secrets={
                n: next((s for s in all_secrets if k.name_of(s) == n), None)
                for n in (k.API_KEY_SECRET, k.PULL_SECRET)
            },
            accounts=accounts_f.result(),
            access=access
            + [
                s
                for s in all_secrets
                if s.get("type") == TOKEN_SECRET_TYPE
                and k.annotations_of(s).get(SA_NAME_ANNOTATION) == names.service_account
            ],
        )


# Key under which `_without_values` keeps the registry hosts of a dockerconfigjson (not a Secret field).
_REGISTRIES = "nim-widget/registries"


def _without_values(secret: Mapping[str, Any]) -> dict[str, Any]:
    """Decisions need a Secret's names, labels, keys and (for pull secrets) registry hosts, never its
    values: keep those and drop the values on arrival."""
    kept = {key: value for key, value in secret.items() if key not in ("data", "stringData")}
    kept["data"] = dict.fromkeys((secret.get("data") or {}), "<redacted>")
    kept[_REGISTRIES] = sorted(_registries(secret))
    return kept


def _registries(secret: Mapping[str, Any]) -> set[str]:
    """The registries a dockerconfigjson Secret holds credentials for."""
    try:
        raw = base64.b64decode(str((secret.get("data") or {}).get(".dockerconfigjson", "")))
        config = json.loads(raw)
    except (ValueError, TypeError):
        return set()
    auths = config.get("auths") if isinstance(config, dict) else None
    return set(auths) if isinstance(auths, dict) else set()


def _accounts(api: Api, namespace: str) -> list[dict[str, Any]]:
    try:
        return api.list(api_version=k.ACCOUNT_API, kind=k.ACCOUNT_KIND, namespace=namespace)
    except (NotFound, Forbidden):
        return []  # no NIM Account CRD, or not readable: nothing to protect beyond the label rules


# -- deciding --------------------------------------------------------------------------------------


def _secret_refs(spec_holder: Mapping[str, Any] | None) -> set[str]:
    """Secrets a runtime, InferenceService predictor or Pod refers to (env, envFrom, volumes, pull)."""
    found: set[str] = set()
    if not spec_holder:
        return found

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("secretKeyRef", "secretRef") and isinstance(value, dict) and value.get("name"):
                    found.add(str(value["name"]))
                elif key == "secret" and isinstance(value, dict) and value.get("secretName"):
                    found.add(str(value["secretName"]))
                elif key == "imagePullSecrets" and isinstance(value, list):
                    found.update(str(v.get("name")) for v in value if isinstance(v, dict) and v.get("name"))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec_holder.get("spec"))
    return found


def _owned_by(obj: Mapping[str, Any], uid: str) -> bool:
    return any(
        ref.get("uid") == uid for ref in k.meta(obj).get("ownerReferences") or () if isinstance(ref, dict)
    )


def _users(names: Iterable[str]) -> str:
    listed = sorted(set(names))
    return ", ".join(listed[:5]) + (f" and {len(listed) - 5} more" if len(listed) > 5 else "")


def _decide_runtime(world: _World, name: str) -> list[DeleteItem]:
    runtime_name = k.runtime_name(world.isvc)
    if world.runtime is None:
        return []
    others = [k.name_of(i) for i in world.isvcs if k.name_of(i) != name and k.runtime_name(i) == runtime_name]
    if others:
        return [
            DeleteItem(
                k.SR_API,
                k.SR_KIND,
                runtime_name,
                Action.KEEP,
                f"still serves InferenceService {_users(others)}",
            )
        ]
    return [DeleteItem(k.SR_API, k.SR_KIND, runtime_name, Action.DELETE, "the deployment's serving runtime")]


def _decide_pvc(world: _World, name: str, delete_storage: bool) -> list[DeleteItem]:
    mount = k.cache_mount(world.runtime)
    if mount is None or world.pvc is None:
        return []
    pvc = mount.pvc
    runtime_name = k.name_of(world.runtime)
    item = DeleteItem("v1", "PersistentVolumeClaim", pvc, Action.KEEP, "")
    other_runtimes = [
        k.name_of(r) for r in world.runtimes if k.name_of(r) != runtime_name and pvc in k.claimed_pvcs(r)
    ]
    if other_runtimes:
        return [replace(item, reason=f"shared: also mounted by serving runtime {_users(other_runtimes)}")]
    other_pods = [  # pods of InferenceServices are covered by their runtimes above
        k.name_of(p)
        for p in world.pods
        if k.PREDICTOR_POD_LABEL not in k.labels_of(p) and pvc in k.claimed_pvcs(p)
    ]
    if other_pods:
        return [replace(item, reason=f"in use by pod {_users(other_pods)}")]
    if not k.is_cache_pvc(world.pvc):
        return [
            replace(
                item,
                reason="not a NIM model-cache PVC (no opendatahub.io/managed label or "
                "dashboard.opendatahub.io/nim-pvc annotation)",
            )
        ]
    size = (((world.pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    if not delete_storage:
        return [
            replace(
                item,
                reason=f"kept by default: it holds the downloaded model"
                f"{f' ({size})' if size else ''}; ask to delete storage to remove it",
            )
        ]
    return [replace(item, action=Action.DELETE, reason="NIM model cache used by no other deployment")]


def _protected_secret(world: _World, secret: Mapping[str, Any]) -> str | None:
    """Why a secret must never be deleted by us, or None."""
    name = k.name_of(secret)
    for account in world.accounts:
        spec = account.get("spec") or {}
        status = account.get("status") or {}
        if (spec.get("apiKeySecret") or {}).get("name") == name:
            return "the NIM account's own API key secret"
        if (status.get("nimPullSecret") or {}).get("name") == name:
            return "the NIM account's own pull secret"
    if str(k.labels_of(secret).get(k.MANAGED_LABEL, "")).lower() == "true":
        return "managed by OpenShift AI (opendatahub.io/managed), e.g. the project's NIM API key"
    if k.meta(secret).get("ownerReferences"):
        return "owned by another object"
    if "api_key" in (secret.get("data") or {}):
        return "holds the NIM account's api_key"
    return None


def _copied_by_a_deploy(secret: Mapping[str, Any]) -> bool:
    """Made by nim-widget, or the legacy dashboard's unlabelled copy (reference B.5)."""
    if RUN_ANNOTATION in (k.meta(secret).get("annotations") or {}):
        return True
    if k.labels_of(secret):
        return False
    keys = set((secret.get("data") or {}).keys())
    if k.name_of(secret) == k.API_KEY_SECRET:
        return secret.get("type", "Opaque") == "Opaque" and keys == {"NGC_API_KEY"}
    # the dashboard's copy holds exactly nvcr.io; a pull secret someone made for more registries is theirs
    return secret.get("type") == "kubernetes.io/dockerconfigjson" and secret.get(_REGISTRIES) == ["nvcr.io"]


def _decide_secrets(world: _World, name: str, delete_secrets: bool) -> list[DeleteItem]:
    used_here = _secret_refs(world.runtime) | _secret_refs(world.isvc)
    runtime_name = k.name_of(world.runtime)
    items = []
    for secret_name in (k.API_KEY_SECRET, k.PULL_SECRET):
        secret = world.secrets.get(secret_name)
        if secret is None or secret_name not in used_here:
            continue
        item = DeleteItem("v1", "Secret", secret_name, Action.KEEP, "")
        users = [
            f"serving runtime {k.name_of(r)}"
            for r in world.runtimes
            if k.name_of(r) != runtime_name and secret_name in _secret_refs(r)
        ]
        users += [
            f"InferenceService {k.name_of(i)}"
            for i in world.isvcs
            if k.name_of(i) != name and secret_name in _secret_refs(i)
        ]
        users += [
            f"pod {k.name_of(p)}"
            for p in world.pods
            if k.PREDICTOR_POD_LABEL not in k.labels_of(p) and secret_name in _secret_refs(p)
        ]
        protected = _protected_secret(world, secret)
        if protected:
            items.append(replace(item, reason=protected))
        elif users:
            items.append(replace(item, reason=f"still used by {_users(users)}"))
        elif not _copied_by_a_deploy(secret):
            items.append(replace(item, reason="not a copy made by nim-widget or the dashboard"))
        elif not delete_secrets:
            items.append(replace(item, reason="kept on request"))
        else:
            items.append(replace(item, action=Action.DELETE, reason="copy used by no remaining deployment"))
    return items


def _decide_access(world: _World, name: str) -> list[DeleteItem]:
    uid = str(k.meta(world.isvc).get("uid") or "")
    items = []
    for obj in sorted(world.access, key=lambda o: (str(o.get("kind")), k.name_of(o))):
        kind, obj_name, version = str(obj.get("kind")), k.name_of(obj), str(obj.get("apiVersion") or "v1")
        if uid and _owned_by(obj, uid):
            items.append(
                DeleteItem(
                    version,
                    kind,
                    obj_name,
                    Action.CASCADE,
                    "token authentication; removed with the InferenceService (owner reference)",
                )
            )
        elif kind == "Secret" or _belongs_to(obj, name):
            items.append(
                DeleteItem(version, kind, obj_name, Action.DELETE, "token authentication for this model")
            )
        else:
            items.append(
                DeleteItem(
                    version,
                    kind,
                    obj_name,
                    Action.KEEP,
                    "has a token-authentication name but does not refer to this model",
                )
            )
    return items


def _belongs_to(obj: Mapping[str, Any], name: str) -> bool:
    """An unowned access object that still refers to this model by content. A ServiceAccount has no
    such content: the dashboard and nim-widget give theirs an owner reference to the InferenceService,
    so an unowned `<name>-sa` was made by someone else and is kept."""
    names = AccessNames.of(name)
    kind = obj.get("kind")
    if kind == "Role":
        return any(name in (rule.get("resourceNames") or ()) for rule in obj.get("rules") or ())
    if kind == "RoleBinding":
        return (obj.get("roleRef") or {}).get("name") == names.role
    return False


def plan_delete(
    *, api: Api, namespace: str, name: str, delete_storage: bool = False, delete_secrets: bool = True
) -> DeletePlan:
    """Read the project and decide, object by object, what deleting `name` removes and keeps."""
    failure: NimWidgetError
    try:
        world = _read(api, namespace, name)
    except NimWidgetError as error:
        failure = in_context(error, action=f"reading what to delete with model deployment {name}")
        raise failure from None
    items = [DeleteItem(k.IS_API, k.IS_KIND, name, Action.DELETE, "the model deployment")]
    items += _decide_runtime(world, name)
    items += _decide_access(world, name)
    items += _decide_pvc(world, name, delete_storage)
    items += _decide_secrets(world, name, delete_secrets)
    display = str(k.annotations_of(world.isvc).get(k.DISPLAY_NAME) or name)
    return DeletePlan(namespace=namespace, name=name, display_name=display, items=tuple(items))


# -- executing -------------------------------------------------------------------------------------


def _delete_one(api: Api, namespace: str, item: DeleteItem, *, dry_run: bool) -> Outcome:
    try:
        api.delete(
            api_version=item.api_version, kind=item.kind, name=item.name, namespace=namespace, dry_run=dry_run
        )
    except NotFound:
        return Outcome.ALREADY_GONE
    return Outcome.DELETED


def execute_delete(
    *, api: Api, plan: DeletePlan, on_item: Callable[[DeleteItem], None] | None = None
) -> DeleteReport:
    """Dry-run every deletion, then delete: the InferenceService, its runtime, then the rest."""
    explicit = [i for i in plan.items if i.action is Action.DELETE]
    refusal: NimWidgetError | None = None
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="nim-widget-delete") as pool:
        for future in [pool.submit(_delete_one, api, plan.namespace, i, dry_run=True) for i in explicit]:
            try:
                future.result()  # a refusal here stops everything before the first real deletion
            except NimWidgetError as error:
                refusal = refusal or in_context(error, action="checking the delete (dry run)")
    if refusal is not None:
        raise refusal
    done: dict[tuple[str, str], DeleteItem] = {}
    errors: list[str] = []

    def record(item: DeleteItem) -> None:
        done[(item.kind, item.name)] = item
        if on_item is not None:
            on_item(item)

    first = [i for i in explicit if i.kind in (k.IS_KIND, k.SR_KIND)]
    rest = [i for i in explicit if i.kind not in (k.IS_KIND, k.SR_KIND)]

    def failed(item: DeleteItem, error: NimWidgetError) -> None:
        errors.append(f"Could not delete {item.label}: {error}")
        record(replace(item, outcome=Outcome.FAILED, reason=f"{item.reason}; {error}"))

    for item in first:  # the InferenceService first: it stops the pods that use everything else
        try:
            record(replace(item, outcome=_delete_one(api, plan.namespace, item, dry_run=False)))
        except NimWidgetError as error:
            failed(item, error)
            break  # nothing else goes while the deployment itself is not gone: the report says so
    if errors:
        rest = []
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="nim-widget-delete") as pool:
        futures = [(i, pool.submit(_delete_one, api, plan.namespace, i, dry_run=False)) for i in rest]
        for item, future in futures:
            try:
                record(replace(item, outcome=future.result()))
            except NimWidgetError as error:
                failed(item, error)
    for item in plan.items:
        if item.action is Action.CASCADE:
            owner_gone = done.get((k.IS_KIND, plan.name), item).outcome in (
                Outcome.DELETED,
                Outcome.ALREADY_GONE,
            )
            record(
                replace(item, outcome=Outcome.DELETED)
                if owner_gone
                else replace(item, outcome=Outcome.KEPT, reason="its owner, the deployment, was not deleted")
            )
        elif item.action is Action.KEEP:
            record(replace(item, outcome=Outcome.KEPT))
        elif (item.kind, item.name) not in done:
            record(replace(item, outcome=Outcome.KEPT, reason="not deleted: an earlier deletion failed"))
    ordered = tuple(done[(i.kind, i.name)] for i in plan.items)
    return DeleteReport(plan=plan, items=ordered, errors=tuple(errors))


def delete_deployment(
    *,
    api: Api,
    namespace: str,
    name: str,
    delete_storage: bool = False,
    delete_secrets: bool = True,
    on_item: Callable[[DeleteItem], None] | None = None,
) -> DeleteReport:
    plan = plan_delete(
        api=api, namespace=namespace, name=name, delete_storage=delete_storage, delete_secrets=delete_secrets
    )
    return execute_delete(api=api, plan=plan, on_item=on_item)


def summary(items: Sequence[DeleteItem]) -> str:
    deleted = sum(1 for i in items if i.outcome in (Outcome.DELETED, Outcome.ALREADY_GONE))
    kept = sum(1 for i in items if i.outcome is Outcome.KEPT)
    return f"{deleted} deleted, {kept} kept"
