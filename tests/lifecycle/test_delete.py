"""Delete with cleanup: what goes, what stays, and why."""

from __future__ import annotations

import base64
import json

import pytest

from lifecycle import dashboard_objects as dash
from lifecycle.conftest import advance, request_for
from nim_widget.cluster.api import Api
from nim_widget.cluster.errors import Forbidden
from nim_widget.deploy import deploy
from nim_widget.lifecycle.access import enable_model_access
from nim_widget.lifecycle.delete import Action, Outcome, delete_deployment, execute_delete, plan_delete
from nim_widget.lifecycle.errors import DeploymentNotFound
from nim_widget.request import DeploymentRequest
from nim_widget.sandbox import Sandbox

IS_API, SR_API = "serving.kserve.io/v1beta1", "serving.kserve.io/v1alpha1"


def exists(api: Api, kind: str, name: str) -> bool:
    version = {
        "InferenceService": IS_API,
        "ServingRuntime": SR_API,
        "Role": "rbac.authorization.k8s.io/v1",
        "RoleBinding": "rbac.authorization.k8s.io/v1",
    }.get(kind, "v1")
    return api.try_get(api_version=version, kind=kind, name=name, namespace="demo") is not None


def decisions(plan_items: object) -> dict[str, tuple[str, str]]:
    return {f"{i.kind} {i.name}": (i.action.value, i.reason) for i in plan_items}  # type: ignore[attr-defined]


def test_delete_keeps_the_model_cache_by_default(
    api: Api, sandbox: Sandbox, deployed: DeploymentRequest
) -> None:
    plan = plan_delete(api=api, namespace="demo", name=deployed.name)
    assert decisions(plan.items) == {
        "InferenceService llama-small": ("delete", "the model deployment"),
        "ServingRuntime llama-small": ("delete", "the deployment's serving runtime"),
        "PersistentVolumeClaim llama-small-cache": (
            "keep",
            "kept by default: it holds the downloaded model (20Gi); ask to delete storage to remove it",
        ),
        "Secret nvidia-nim-secrets": ("keep", "the NIM account's own API key secret"),
        "Secret ngc-secret": ("delete", "copy used by no remaining deployment"),
    }
    sandbox.log.clear()
    report = execute_delete(api=api, plan=plan)
    assert report.ok
    deletes = [(e.resource, e.dry_run) for e in sandbox.log.writes()]
    assert deletes[:3] and all(dry for _, dry in deletes[:3])  # every deletion dry-run first
    assert sorted(r for r, dry in deletes if dry) == sorted(r for r, dry in deletes if not dry)
    assert [r for r, dry in deletes if not dry][:2] == ["inferenceservices", "servingruntimes"]
    assert not exists(api, "InferenceService", "llama-small")
    assert not exists(api, "ServingRuntime", "llama-small")
    assert not exists(api, "Secret", "ngc-secret")
    assert exists(api, "PersistentVolumeClaim", "llama-small-cache")
    assert exists(api, "Secret", "nvidia-nim-secrets")
    assert [(i.label, i.outcome) for i in report.kept] == [
        ("PersistentVolumeClaim llama-small-cache", Outcome.KEPT),
        ("Secret nvidia-nim-secrets", Outcome.KEPT),
    ]


def test_delete_storage_when_asked(api: Api, deployed: DeploymentRequest) -> None:
    report = delete_deployment(api=api, namespace="demo", name=deployed.name, delete_storage=True)
    pvc = next(i for i in report.items if i.kind == "PersistentVolumeClaim")
    assert (pvc.outcome, pvc.reason) == (Outcome.DELETED, "NIM model cache used by no other deployment")
    assert not exists(api, "PersistentVolumeClaim", "llama-small-cache")


def test_shared_cache_and_secrets_stay_until_the_last_user_goes(
    api: Api, sandbox: Sandbox, deployed: DeploymentRequest
) -> None:
    second = request_for(
        displayName="Second llama",
        storage={"mode": "existing", "pvcName": "llama-small-cache", "subPath": "second"},
    )
    deploy(api=api, request=second, clock=sandbox.clock)
    first = delete_deployment(api=api, namespace="demo", name=deployed.name, delete_storage=True)
    assert decisions(first.items)["PersistentVolumeClaim llama-small-cache"] == (
        "keep",
        "shared: also mounted by serving runtime second-llama",
    )
    assert decisions(first.items)["Secret ngc-secret"] == (
        "keep",
        "still used by serving runtime second-llama",
    )
    assert exists(api, "PersistentVolumeClaim", "llama-small-cache") and exists(api, "Secret", "ngc-secret")

    last = delete_deployment(api=api, namespace="demo", name=second.name, delete_storage=True)
    assert decisions(last.items)["PersistentVolumeClaim llama-small-cache"][0] == "delete"
    assert decisions(last.items)["Secret ngc-secret"][0] == "delete"
    assert not exists(api, "PersistentVolumeClaim", "llama-small-cache") and not exists(
        api, "Secret", "ngc-secret"
    )


def test_storage_that_is_not_a_nim_cache_is_never_deleted(api: Api) -> None:
    pvc = dash.wizard_pvc(name="team-data")
    pvc["metadata"]["labels"] = {}
    pvc["metadata"]["annotations"] = {}
    api.create(body=pvc)
    api.create(body=dash.wizard_runtime(name="on-team-data", pvc="team-data"))
    api.create(body=dash.wizard_inference_service(name="on-team-data", display_name="On team data"))
    report = delete_deployment(api=api, namespace="demo", name="on-team-data", delete_storage=True)
    assert decisions(report.items)["PersistentVolumeClaim team-data"] == (
        "keep",
        "not a NIM model-cache PVC (no opendatahub.io/managed label or "
        "dashboard.opendatahub.io/nim-pvc annotation)",
    )
    assert exists(api, "PersistentVolumeClaim", "team-data")


def test_a_cache_mounted_by_another_pod_is_kept(api: Api, deployed: DeploymentRequest) -> None:
    api.create(
        body={
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "notebook-0", "namespace": "demo"},
            "spec": {
                "containers": [{"name": "nb", "image": "quay.io/jupyter/minimal-notebook"}],
                "volumes": [{"name": "c", "persistentVolumeClaim": {"claimName": "llama-small-cache"}}],
            },
        }
    )
    report = delete_deployment(api=api, namespace="demo", name=deployed.name, delete_storage=True)
    assert decisions(report.items)["PersistentVolumeClaim llama-small-cache"] == (
        "keep",
        "in use by pod notebook-0",
    )


def test_legacy_dashboard_copies_are_cleaned_up_like_ours(api: Api, sandbox: Sandbox) -> None:
    api.create(body=dash.pull_secret(key="nvapi-good-key"))
    api.create(body=dash.legacy_pvc(name="nim-pvc-abc12"))
    api.create(body=dash.legacy_runtime(name="legacy", pvc="nim-pvc-abc12"))
    api.create(body=dash.legacy_inference_service(name="legacy", display_name="Legacy"))
    report = delete_deployment(
        api=api, namespace="demo", name="legacy", delete_storage=True, delete_secrets=False
    )
    assert decisions(report.items)["PersistentVolumeClaim nim-pvc-abc12"][0] == "delete"
    assert decisions(report.items)["Secret ngc-secret"] == ("keep", "kept on request")


def test_a_pull_secret_for_more_registries_is_not_taken_for_a_copy(api: Api, sandbox: Sandbox) -> None:
    own = dash.pull_secret(key="nvapi-good-key")
    config = {"auths": {"nvcr.io": {"password": "x"}, "quay.io": {"password": "y"}}}
    own["data"][".dockerconfigjson"] = base64.b64encode(json.dumps(config).encode()).decode()
    api.create(body=own)
    api.create(body=dash.legacy_pvc(name="nim-pvc-abc12"))
    api.create(body=dash.legacy_runtime(name="legacy", pvc="nim-pvc-abc12"))
    api.create(body=dash.legacy_inference_service(name="legacy", display_name="Legacy"))
    report = delete_deployment(api=api, namespace="demo", name="legacy")
    assert decisions(report.items)["Secret ngc-secret"][0] == "keep"


def test_token_objects_leave_with_the_inference_service(
    api: Api, sandbox: Sandbox, deployed: DeploymentRequest
) -> None:
    enable_model_access(api=api, namespace="demo", name=deployed.name)
    plan = plan_delete(api=api, namespace="demo", name=deployed.name)
    cascaded = sorted(i.label for i in plan.items if i.action is Action.CASCADE)
    assert cascaded == [
        "Role llama-small-view-role",
        "RoleBinding llama-small-view",
        "Secret default-token-llama-small-sa",
        "ServiceAccount llama-small-sa",
    ]
    execute_delete(api=api, plan=plan)
    advance(sandbox, 1)
    for label in cascaded:
        kind, name = label.split(" ")
        assert not exists(api, kind, name), label


def test_a_service_account_someone_else_made_with_the_token_name_is_kept(
    api: Api, sandbox: Sandbox, deployed: DeploymentRequest
) -> None:
    api.create(
        body={
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "llama-small-sa", "namespace": "demo"},
        }
    )
    plan = plan_delete(api=api, namespace="demo", name=deployed.name)
    kept = {i.label: i for i in plan.items if i.action is Action.KEEP}
    assert "ServiceAccount llama-small-sa" in kept
    execute_delete(api=api, plan=plan)
    advance(sandbox, 1)
    assert exists(api, "ServiceAccount", "llama-small-sa")


def test_a_refused_dry_run_deletes_nothing(api: Api, sandbox: Sandbox, deployed: DeploymentRequest) -> None:
    sandbox.faults.add(
        verb="delete",
        resource="secrets",
        dry_run=True,
        status=403,
        reason="Forbidden",
        message='secrets "ngc-secret" is forbidden: User "dev" cannot delete resource "secrets"',
    )
    with pytest.raises(Forbidden):
        delete_deployment(api=api, namespace="demo", name=deployed.name)
    assert exists(api, "InferenceService", "llama-small") and exists(api, "ServingRuntime", "llama-small")
    assert [e for e in sandbox.log.writes() if not e.dry_run and e.verb == "delete"] == []


def test_unknown_deployment(api: Api) -> None:
    with pytest.raises(DeploymentNotFound):
        plan_delete(api=api, namespace="demo", name="nope")


def test_a_copied_key_secret_goes_with_the_last_deployment_that_used_it(api: Api) -> None:
    """A project on the cluster-level account: its nvidia-nim-secrets is a copy (B.5), not the account's."""
    api.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "legacy-project"}})
    key = {"NGC_API_KEY": "bnZhcGktZ29vZA=="}
    api.create(
        body={
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "data": key,
            "metadata": {"name": "nvidia-nim-secrets", "namespace": "legacy-project"},
        }
    )
    api.create(body=dash.pull_secret(key="nvapi-good-key", namespace="legacy-project"))
    api.create(body=dash.legacy_pvc(name="nim-pvc-abc12", namespace="legacy-project"))
    for name in ("first", "second"):
        api.create(body=dash.legacy_runtime(name=name, namespace="legacy-project", pvc="nim-pvc-abc12"))
        api.create(
            body=dash.legacy_inference_service(name=name, display_name=name, namespace="legacy-project")
        )
    first = delete_deployment(api=api, namespace="legacy-project", name="first")
    assert decisions(first.items)["Secret nvidia-nim-secrets"] == (
        "keep",
        "still used by serving runtime second",
    )
    last = delete_deployment(api=api, namespace="legacy-project", name="second")
    assert decisions(last.items)["Secret nvidia-nim-secrets"] == (
        "delete",
        "copy used by no remaining deployment",
    )
    assert decisions(last.items)["Secret ngc-secret"][0] == "delete"
    assert (
        api.try_get(api_version="v1", kind="Secret", name="nvidia-nim-secrets", namespace="legacy-project")
        is None
    )


def test_the_project_key_secret_is_kept_even_without_an_account(api: Api) -> None:
    api.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "keyed"}})
    api.create(
        body={
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "data": {"api_key": "bnZhcGk=", "NGC_API_KEY": "bnZhcGk="},
            "metadata": {
                "name": "nvidia-nim-secrets",
                "namespace": "keyed",
                "labels": {"opendatahub.io/managed": "true"},
            },
        }
    )
    api.create(body=dash.wizard_pvc(name="cache", namespace="keyed"))
    api.create(body=dash.wizard_runtime(name="only", namespace="keyed", pvc="cache"))
    api.create(body=dash.wizard_inference_service(name="only", display_name="Only", namespace="keyed"))
    report = delete_deployment(api=api, namespace="keyed", name="only")
    reason = decisions(report.items)["Secret nvidia-nim-secrets"]
    assert reason == (
        "keep",
        "managed by OpenShift AI (opendatahub.io/managed), e.g. the project's NIM API key",
    )
