"""`assemble(request, facts) -> Plan`: the pure heart of a deployment.

No I/O, no clock, no randomness: the same request and facts always give the same plan, byte for byte,
and neither input is changed (builders work on deep copies). It first runs `validate_against_facts`
and refuses to build from a request the cluster cannot satisfy (`AssemblyError` with field errors),
so every plan it returns is one the orchestrator can execute.

Update mode (`update=True`): objects that exist are planned as `replace` (PUT carrying the live
resourceVersion, so a concurrent change is a conflict) or, with `overwrite=True`, `patch` (the API
layer sends the JSON patch from `existing` to `manifest`, which does not conflict); missing ones are
created. A PVC that exists is reused, or replaced to grow it when a larger size is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nim_widget.facts import ClusterFacts, NimAccount, RuntimeTemplate
from nim_widget.manifests import inference_service, runtime, secrets, storage
from nim_widget.manifests.plan import Operation, Plan, PlannedObject, Role
from nim_widget.quantity import Quantity
from nim_widget.request import DeploymentRequest, FieldError, validate_against_facts

_KSERVE_RUNTIME = ("ServingRuntime", "serving.kserve.io/v1alpha1")
_KSERVE_ISVC = ("InferenceService", "serving.kserve.io/v1beta1")
_PVC = ("PersistentVolumeClaim", "v1")
_SECRET = ("Secret", "v1")


class AssemblyError(ValueError):
    """The request cannot be assembled against these facts; `errors` says why, field by field."""

    def __init__(self, errors: list[FieldError] | tuple[FieldError, ...]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(f"{e.field}: {e.message}" for e in self.errors))


def _planned(
    kind: tuple[str, str],
    *,
    name: str,
    project: str,
    role: Role,
    operation: Operation,
    manifest: Mapping[str, Any],
    summary: str,
    existing: Mapping[str, Any] | None = None,
) -> PlannedObject:
    return PlannedObject(
        kind=kind[0],
        api_version=kind[1],
        name=name,
        namespace=project,
        role=role,
        operation=operation,
        manifest=manifest,
        existing=existing,
        summary=summary,
    )


def _reuse(kind: tuple[str, str], *, name: str, project: str, role: Role, summary: str) -> PlannedObject:
    reference = {"apiVersion": kind[1], "kind": kind[0], "metadata": {"name": name, "namespace": project}}
    return _planned(
        kind, name=name, project=project, role=role, operation="reuse", manifest=reference, summary=summary
    )


def _write(
    kind: tuple[str, str],
    *,
    desired: dict[str, Any],
    live: Mapping[str, Any] | None,
    merged: dict[str, Any] | None,
    role: Role,
    update_operation: Operation,
    summary: str,
) -> PlannedObject:
    metadata = desired["metadata"]
    if live is None or merged is None:
        return _planned(
            kind,
            name=metadata["name"],
            project=metadata["namespace"],
            role=role,
            operation="create",
            manifest=desired,
            summary=summary,
        )
    return _planned(
        kind,
        name=metadata["name"],
        project=metadata["namespace"],
        role=role,
        operation=update_operation,
        manifest=merged,
        existing=live,
        summary=summary,
    )


def _storage(
    request: DeploymentRequest, facts: ClusterFacts, update: bool
) -> tuple[list[PlannedObject], list[PlannedObject]]:
    name = request.pvc_resource_name
    project = request.project
    size = request.storage.size
    pvc = facts.pvc(name)
    if pvc is None:
        storage_class = request.storage.storage_class or facts.default_storage_class
        manifest = storage.build_pvc(request=request, storage_class=storage_class)
        summary = f"model cache, {size}, storage class {storage_class or '(none)'}"
        return [
            _planned(
                _PVC,
                name=name,
                project=project,
                role="pvc",
                operation="create",
                manifest=manifest,
                summary=summary,
            )
        ], []
    if update and size is not None and pvc.size is not None and Quantity.parse(size) > pvc.size:
        if facts.gathered_at is None:
            message = "the facts do not say when they were read, which a resize must record"
            raise AssemblyError([FieldError(field="storage.size", message=message)])
        manifest = storage.grown_pvc(existing=pvc.raw, size=size, at=facts.gathered_at)
        return [
            _planned(
                _PVC,
                name=name,
                project=project,
                role="pvc",
                operation="replace",
                manifest=manifest,
                existing=pvc.raw,
                summary=f"grow model cache from {pvc.size} to {size}",
            )
        ], []
    return [], [
        _reuse(
            _PVC, name=name, project=project, role="pvc", summary="existing cluster storage, used as it is"
        )
    ]


def _secrets(
    project: str, facts: ClusterFacts, template: RuntimeTemplate, account: NimAccount
) -> tuple[list[PlannedObject], list[PlannedObject]]:
    objects: list[PlannedObject] = []
    reused: list[PlannedObject] = []
    exists = "exists in the project, used as it is"
    for name in template.api_key_secret_names():
        if name in facts.existing_secrets:
            reused.append(_reuse(_SECRET, name=name, project=project, role="api_key_secret", summary=exists))
            continue
        assert facts.api_key is not None  # validated
        objects.append(
            _planned(
                _SECRET,
                name=name,
                project=project,
                role="api_key_secret",
                operation="create",
                manifest=secrets.api_key_secret(name=name, project=project, api_key=facts.api_key),
                summary=f"NGC_API_KEY copied from the NIM account's secret "
                f"{account.namespace}/{account.api_key_secret_name}",
            )
        )
    for name in template.pull_secret_names():
        if name in facts.existing_secrets:
            reused.append(_reuse(_SECRET, name=name, project=project, role="pull_secret", summary=exists))
            continue
        assert facts.docker_config_json is not None  # validated
        config = facts.docker_config_json
        manifest = secrets.pull_secret(name=name, project=project, docker_config_json=config)
        objects.append(
            _planned(
                _SECRET,
                name=name,
                project=project,
                role="pull_secret",
                operation="create",
                manifest=manifest,
                summary=f"nvcr.io pull credentials copied from the NIM account's secret "
                f"{account.namespace}/{account.pull_secret_name}",
            )
        )
    return objects, reused


def assemble(
    *, request: DeploymentRequest, facts: ClusterFacts, update: bool = False, overwrite: bool = False
) -> Plan:
    """The plan for `request` against `facts`; raises AssemblyError when validation finds problems."""
    if overwrite and not update:
        raise ValueError("overwrite applies only to an update")
    errors = validate_against_facts(request=request, facts=facts, update=update)
    if errors:
        raise AssemblyError(errors)
    model = facts.model(request.model)
    template = facts.template
    account = facts.account
    assert model is not None and template is not None and account is not None  # validated
    tag = request.tag or model.default_tag
    image = model.image(tag=tag)
    ref = request.hardware_profile
    profile = None if ref is None else facts.find_hardware_profile(ref)
    update_operation: Operation = "patch" if overwrite else "replace"

    desired_runtime = runtime.build_serving_runtime(
        template=template,
        project=request.project,
        name=request.name,
        image=image,
        model_format=model.image_name,
        tag=tag,
        pvc_name=request.pvc_resource_name,
        sub_path=request.storage.sub_path,
    )
    live_runtime = facts.existing_object(kind="ServingRuntime", name=request.name) if update else None
    runtime_object = _write(
        _KSERVE_RUNTIME,
        desired=desired_runtime,
        live=live_runtime,
        merged=None
        if live_runtime is None
        else runtime.runtime_for_update(existing=live_runtime, desired=desired_runtime),
        role="runtime",
        update_operation=update_operation,
        summary=f"from Template {template.namespace}/{template.name}, image {image}",
    )

    desired_isvc = inference_service.build_inference_service(
        request=request, model_format=model.image_name, profile=profile
    )
    live_isvc = facts.existing_object(kind="InferenceService", name=request.name) if update else None
    if profile is not None:
        profile_ref = profile.ref
    else:
        profile_ref = "none" if request.resources.is_empty else "none, custom resources"
    replicas = f"{request.replicas} replica{'' if request.replicas == 1 else 's'}"
    isvc_object = _write(
        _KSERVE_ISVC,
        desired=desired_isvc,
        live=live_isvc,
        merged=None
        if live_isvc is None
        else inference_service.inference_service_for_update(existing=live_isvc, desired=desired_isvc),
        role="inference_service",
        update_operation=update_operation,
        summary=f"{model.display_name} {tag}, {replicas}, hardware profile {profile_ref}",
    )

    storage_objects, storage_reused = _storage(request, facts, update)
    secret_objects, secret_reused = _secrets(request.project, facts, template, account)
    return Plan(
        project=request.project,
        name=request.name,
        display_name=request.display_name,
        model=model.key,
        image=image,
        tag=tag,
        update=update,
        objects=(runtime_object, isvc_object, *storage_objects, *secret_objects),
        reused=(*storage_reused, *secret_reused),
    )
