"""Pre-flight checks: everything that can be known to fail, found before the first write.

A deployment that fails half-way costs a rollback at best and GPU-hungry leftovers at worst, and
the dashboard finds most of these problems only when a pod never starts. The checks run in step 6,
next to the dry run and in the same round of requests (the access reviews and the node list go out
together with the dry runs), and their results are that step's details:

- the NIM account is ready and its template present, the secrets the runtime needs are readable
  (all three are settled in step 2; here they are restated so the report is complete);
- the storage class exists, and the cache is at least the model's known size (`cache_sizes`);
- the accelerators the deployment asks for exist on some Node (skipped, and said so, when the user
  may not list Nodes, which is usual for project users);
- the serving runtime supports the inference service's model format;
- the deployment's name is free (a new deployment) or taken by the deployment (an update);
- the user holds every permission the run may need: the writes' own by their dry runs (a refusal
  names the missing permission), and the `delete`/`update` a rollback needs by SelfSubjectAccessReview,
  since a user who could create but not delete would be left with a half-finished deployment.

A failing check stops the run with a message that says what to change; a check that cannot be
made is reported as skipped, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from nim_widget.cluster.api import Api, kind_info
from nim_widget.cluster.errors import Forbidden, NimWidgetError, PreflightFailed, RequestInvalid
from nim_widget.deploy.actions import Write
from nim_widget.deploy.cache_sizes import known_cache_size
from nim_widget.facts import ClusterFacts
from nim_widget.manifests import Plan
from nim_widget.quantity import Quantity
from nim_widget.request import DeploymentRequest

CheckState = Literal["passed", "failed", "skipped"]
RBAC_DOC = "docs/rbac.yaml"


@dataclass(frozen=True)
class Check:
    """One pre-flight check; `field` is the request field a failure is about, if any."""

    name: str
    state: CheckState
    message: str
    field: str = ""

    def line(self) -> str:
        return f"{self.name}: {self.state} ({self.message})"


@dataclass(frozen=True)
class Permission:
    verb: str
    resource: str
    group: str
    namespace: str
    why: str

    @property
    def qualified(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def denied(self) -> str:
        return (
            f'You cannot {self.verb} resource "{self.qualified}" in project {self.namespace}, which '
            f'nim-widget needs {self.why}. Ask a project admin for the "{self.verb}" permission on '
            f"{self.qualified} in {self.namespace} (the nim-widget-deployer Role in {RBAC_DOC})."
        )


_VERB_OF_WRITE = {"create": "create", "replace": "update", "patch": "patch", "json_patch": "patch"}


def permission_of(write: Write) -> Permission:
    """The permission a write itself uses (its dry run proves it, or names it when refused)."""
    info = kind_info(api_version=write.ref.api_version, kind=write.ref.kind)
    verb = _VERB_OF_WRITE[write.verb]
    return Permission(
        verb,
        info.plural,
        info.group,
        write.ref.namespace or "",
        f"to {verb} {write.ref.kind} {write.ref.name}",
    )


def refused(*, write: Write, error: Forbidden) -> Forbidden:
    """A write's dry run was forbidden: say which permission is missing and who can grant it."""
    denied = permission_of(write).denied()
    said = f" The cluster said: {error.detail.rstrip('.')}." if error.detail else ""
    result = Forbidden(
        detail=denied + said, obj=write.ref, status=error.status, causes={"permissions": denied}
    )
    result.step = error.step
    return result


def permissions_for(*, writes: Sequence[Write]) -> list[Permission]:
    """The permissions a rollback of these writes needs, each once, in a stable order.

    The writes' own permissions need no review: their dry runs are authorised exactly like the
    real requests, and a change is undone with the verb that made it (see `rollback`). Only the
    `delete` that undoes a create is never exercised before something has gone wrong, so it is
    asked for with SelfSubjectAccessReview."""
    found: dict[tuple[str, str, str], Permission] = {}
    for write in writes:
        if write.verb != "create":
            continue
        verb, why = "delete", f"to remove the {write.ref.kind} objects it creates if a later step fails"
        info = kind_info(api_version=write.ref.api_version, kind=write.ref.kind)
        key = (verb, info.plural, info.group)
        if key not in found:
            found[key] = Permission(verb, info.plural, info.group, write.ref.namespace or "", why)
    return list(found.values())


class Preflight:
    """The checks of one run. `start` sends the reads (access reviews, Nodes) to the pool so they
    travel with the dry runs; `finish` waits for them and judges."""

    def __init__(
        self,
        *,
        request: DeploymentRequest,
        facts: ClusterFacts,
        plan: Plan,
        update: bool,
        permissions: list[Permission],
    ) -> None:
        self.request = request
        self.facts = facts
        self.plan = plan
        self.update = update
        self.permissions = permissions
        self._reviews: list[tuple[Permission, Future[bool]]] = []
        self._nodes: Future[list[dict[str, Any]]] | None = None

    @classmethod
    def start(
        cls,
        *,
        api: Api,
        pool: ThreadPoolExecutor,
        request: DeploymentRequest,
        facts: ClusterFacts,
        plan: Plan,
        writes: Sequence[Write],
        update: bool,
    ) -> Preflight:
        checks = cls(
            request=request, facts=facts, plan=plan, update=update, permissions=permissions_for(writes=writes)
        )
        checks._reviews = [
            (
                p,
                pool.submit(
                    api.can_i, verb=p.verb, resource=p.resource, group=p.group, namespace=p.namespace
                ),
            )
            for p in checks.permissions
        ]
        if _accelerators(plan):
            checks._nodes = pool.submit(api.list, api_version="v1", kind="Node")
        return checks

    def finish(self) -> tuple[list[Check], NimWidgetError | None]:
        """The checks in a fixed order, and the error that stops the run (None when all pass)."""
        checks = [
            self._account(),
            self._template(),
            self._secrets(),
            self._storage_class(),
            self._cache_size(),
            self._accelerators(),
            self._model_format(),
            self._name(),
            self._permissions(),
        ]
        return checks, self._failure(checks)

    # -- judging ---------------------------------------------------------------------------------

    def _failure(self, checks: list[Check]) -> NimWidgetError | None:
        failed = [c for c in checks if c.state == "failed"]
        if not failed:
            return None
        first = failed[0]
        causes = {c.field or c.name: c.message for c in failed}
        detail = " ".join(c.message for c in failed)
        if first.name == "permissions":
            return Forbidden(detail=detail, causes=causes)
        if all(c.field.startswith("storage.") for c in failed):
            return RequestInvalid("Storage too small for this model", detail, causes=causes)
        return PreflightFailed(detail=detail, causes=causes)

    def _account(self) -> Check:
        account = self.facts.account
        if account is None:
            return Check("account", "failed", "no NIM account for this project")
        where = f"{account.namespace}/{account.name}"
        if account.state != "ready":
            return Check("account", "failed", f"NIM account {where} is {account.state}")
        return Check("account", "passed", f"NIM account {where} is ready")

    def _template(self) -> Check:
        template = self.facts.template
        if template is None:
            return Check("template", "failed", "the NIM runtime template is missing")
        return Check("template", "passed", f"runtime template {template.namespace}/{template.name}")

    def _secrets(self) -> Check:
        copied = [o for o in self.plan.objects if o.role in ("api_key_secret", "pull_secret")]
        reused = [o.name for o in self.plan.reused if o.kind == "Secret"]
        missing = [
            o.name
            for o in copied
            if (self.facts.api_key if o.role == "api_key_secret" else self.facts.docker_config_json) is None
        ]
        if missing:
            return Check(
                "secrets",
                "failed",
                f"the NIM account's secrets could not be read to create {', '.join(missing)}",
            )
        parts = []
        if copied:
            parts.append("copied from the NIM account: " + ", ".join(o.name for o in copied))
        if reused:
            parts.append("already in the project: " + ", ".join(sorted(reused)))
        return Check("secrets", "passed", "; ".join(parts) or "the runtime needs no secrets")

    def _new_pvc(self) -> bool:
        pvc = self.plan.object("pvc")
        return pvc is not None and pvc.operation == "create"

    def _storage_class(self) -> Check:
        if not self._new_pvc():
            return Check("storage class", "skipped", "no new storage is created")
        wanted = self.request.storage.storage_class or self.facts.default_storage_class
        if wanted is None:
            return Check("storage class", "skipped", "no storage class chosen; the cluster's default applies")
        if self.facts.storage_class(wanted) is not None:
            return Check("storage class", "passed", f"storage class {wanted} exists")
        if any(s.key == "storageclasses" for s in self.facts.skipped):
            return Check(
                "storage class", "skipped", f"storage classes are not readable, {wanted} not checked"
            )
        return Check(
            "storage class",
            "failed",
            f'storage class "{wanted}" does not exist',
            field="storage.storageClass",
        )

    def _cache_size(self) -> Check:
        model = self.facts.model(self.request.model)
        if model is None:
            return Check("cache size", "skipped", "model not in the catalog")
        need = known_cache_size(repository=model.repository)
        if need is None:
            return Check("cache size", "skipped", f"no known cache size for {model.display_name}")
        size, field = self._cache_quantity()
        if size is None:
            return Check("cache size", "skipped", "the storage's size is not known")
        gigabytes = f"about {need.gigabytes} GB"
        if size.value >= need.bytes:
            return Check("cache size", "passed", f"{size} holds {model.display_name} ({gigabytes})")
        at_least = -(-need.bytes // 2**30)  # whole GiB, rounded up
        return Check(
            "cache size",
            "failed",
            f'The model cache "{self.request.pvc_resource_name}" is {size}, but {model.display_name} needs '
            f"{gigabytes} ({need.basis}). Choose at least {at_least}Gi.",
            field=field,
        )

    def _cache_quantity(self) -> tuple[Quantity | None, str]:
        pvc = self.facts.pvc(self.request.pvc_resource_name)
        wanted = Quantity.parse(self.request.storage.size) if self.request.storage.size else None
        if pvc is None:
            return wanted, "storage.size"
        sizes = [q for q in (pvc.size, wanted if self.update else None) if q is not None]
        field = "storage.size" if self.request.storage.mode == "new" else "storage.pvcName"
        return (max(sizes) if sizes else None), field

    def _accelerators(self) -> Check:
        wanted = _accelerators(self.plan)
        if not wanted:
            return Check("accelerators", "skipped", "no accelerators requested")
        assert self._nodes is not None
        error = self._nodes.exception()
        if isinstance(error, Forbidden):
            return Check(
                "accelerators",
                "skipped",
                "Nodes are not readable with your permissions, so whether the cluster has "
                f"{', '.join(wanted)} was not checked",
            )
        if error is not None:
            return Check("accelerators", "skipped", f"Nodes could not be listed ({error}), not checked")
        nodes = self._nodes.result()
        notes = []
        for resource, count in wanted.items():
            offers = [_allocatable(n, resource) for n in nodes]
            having = [q for q in offers if q > 0]
            if not having:
                return Check(
                    "accelerators",
                    "failed",
                    f"No node in the cluster offers {resource}, so the model server could never start. "
                    "Choose a hardware profile with resources the cluster has, or ask an administrator.",
                    field="hardwareProfile",
                )
            notes.append(f"{resource} on {len(having)} node(s)")
            if max(having) < count:
                notes.append(f"no single node has {count} {resource}; the deployment will wait for one")
        return Check("accelerators", "passed", "; ".join(notes))

    def _model_format(self) -> Check:
        runtime, isvc = self.plan.object("runtime"), self.plan.object("inference_service")
        assert runtime is not None and isvc is not None
        wanted = ((isvc.manifest.get("spec") or {}).get("predictor") or {}).get("model", {}).get(
            "modelFormat"
        ) or {}
        formats = (runtime.manifest.get("spec") or {}).get("supportedModelFormats") or []
        name, version = wanted.get("name"), wanted.get("version")
        for entry in formats:
            if entry.get("name") == name and (version is None or entry.get("version") in (None, version)):
                return Check("model format", "passed", f"runtime {runtime.name} serves {name}")
        offered = ", ".join(str(f.get("name")) for f in formats) or "none"
        return Check(
            "model format",
            "failed",
            f'The serving runtime {runtime.name} does not support model format "{name}" '
            f"(it supports: {offered}).",
        )

    def _name(self) -> Check:
        name = self.plan.name
        live = self.facts.existing_object(kind="InferenceService", name=name)
        if self.update:
            if live is None:
                return Check("name", "failed", f'No model deployment "{name}" to update', field="name")
            return Check("name", "passed", f"updating the model deployment {name}")
        taken = [
            kind
            for kind in ("InferenceService", "ServingRuntime")
            if self.facts.existing_object(kind=kind, name=name) is not None
        ]
        if self._new_pvc() and self.facts.pvc(self.request.pvc_resource_name) is not None:
            taken.append("PersistentVolumeClaim")
        if taken:
            return Check("name", "failed", f'"{name}" is taken by {", ".join(taken)}', field="name")
        return Check("name", "passed", f"{name} is free")

    def _permissions(self) -> Check:
        if not self._reviews:
            return Check(
                "permissions", "passed", "the dry runs prove the writes; a rollback needs nothing more"
            )
        denied: list[Permission] = []
        unknown: list[str] = []
        for permission, future in self._reviews:
            error = future.exception()
            if error is not None:
                unknown.append(f"{permission.verb} {permission.qualified}")
            elif not future.result():
                denied.append(permission)
        if denied:
            return Check("permissions", "failed", " ".join(p.denied() for p in denied))
        if unknown:
            return Check(
                "permissions",
                "skipped",
                f"the cluster did not answer access reviews for {', '.join(unknown)}; "
                "the dry run still checks every write",
            )
        asked = ", ".join(f"{p.verb} {p.qualified}" for p, _ in self._reviews)
        return Check("permissions", "passed", f"the dry runs prove the writes; rollback allowed ({asked})")


def _accelerators(plan: Plan) -> dict[str, int]:
    """Extended resources (`vendor/resource`) the inference service asks for, with their counts."""
    isvc = plan.object("inference_service")
    if isvc is None:
        return {}
    resources: Mapping[str, Any] = ((isvc.manifest.get("spec") or {}).get("predictor") or {}).get(
        "model", {}
    ).get("resources") or {}
    wanted: dict[str, int] = {}
    for section in ("requests", "limits"):
        for key, value in (resources.get(section) or {}).items():
            if "/" not in key:
                continue
            try:
                count = int(Quantity.parse(str(value)).value)
            except ValueError:
                continue
            if count > 0:
                wanted[key] = max(wanted.get(key, 0), count)
    return wanted


def _allocatable(node: Mapping[str, Any], resource: str) -> int:
    value = ((node.get("status") or {}).get("allocatable") or {}).get(resource)
    if value is None:
        return 0
    try:
        return int(Quantity.parse(str(value)).value)
    except ValueError:
        return 0


def summary(checks: Sequence[Check]) -> str:
    """One sentence for the step 6 event: counts, then what was skipped and why."""
    passed = sum(1 for c in checks if c.state == "passed")
    skipped = [c for c in checks if c.state == "skipped"]
    text = f"pre-flight: {passed} passed, {len(skipped)} skipped"
    if skipped:
        text += " (" + "; ".join(f"{c.name}: {c.message}" for c in skipped) + ")"
    return text
