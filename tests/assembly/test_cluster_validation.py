"""`validate_against_facts`: every rule that needs the cluster, with the message a person sees."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from assembly_world import NOW, objects

from nim_widget.catalog import facts_from_objects
from nim_widget.facts import ClusterFacts
from nim_widget.manifests import AssemblyError, assemble
from nim_widget.request import DeploymentRequest, field_errors_to_dict, validate_against_facts

BASE: dict[str, Any] = {
    "project": "my-project",
    "displayName": "Llama 3.1 8B",
    "model": "llama-3.1-8b-instruct",
    "storage": {"mode": "new", "pvcName": "llama-cache"},
    "hardwareProfile": "nvidia-gpu-small",
}


def request(**changes: Any) -> DeploymentRequest:
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return DeploymentRequest.model_validate(data, by_alias=True, by_name=False)


def facts(edit: Any = None, **options: Any) -> ClusterFacts:
    raw = objects(**options)
    if edit is not None:
        edit(raw)
    return facts_from_objects(**raw)


def errors(req: DeploymentRequest, cluster: ClusterFacts, *, update: bool = False) -> dict[str, str]:
    return field_errors_to_dict(validate_against_facts(request=req, facts=cluster, update=update))


def _account_conditions(raw: dict[str, Any], conditions: list[dict[str, str]], last_check: str) -> None:
    raw["account"] = copy.deepcopy(raw["account"])
    raw["account"]["status"]["conditions"] = conditions
    raw["account"]["status"]["lastAccountCheck"] = last_check


def test_a_valid_request_has_no_errors() -> None:
    assert errors(request(), facts()) == {}


def test_project_must_match_and_exist() -> None:
    assert errors(request(project="other"), facts()) == {
        "project": "The cluster facts are for project my-project, not other"
    }
    missing = facts(lambda raw: raw.update(project_exists=False))
    assert errors(request(), missing) == {
        "project": 'Project "my-project" was not found, or you cannot see it'
    }


def test_missing_account() -> None:
    assert errors(request(), facts(account="none"))["account"] == (
        "No NVIDIA NIM key has been configured for this project."
    )


def test_pending_account() -> None:
    pending = facts(
        lambda raw: _account_conditions(
            raw, [{"type": "APIKeyValidation", "status": "Unknown"}], "2026-08-22T09:58:00Z"
        )
    )
    assert errors(request(), pending)["account"] == (
        "The NVIDIA NIM account is not ready yet. Contacting NVIDIA to validate the license key. "
        "This can take a few minutes."
    )


def test_invalid_account_key() -> None:
    invalid = facts(
        lambda raw: _account_conditions(
            raw,
            [
                {"type": "APIKeyValidation", "status": "False", "message": "api key failed validation"},
                {"type": "AccountStatus", "status": "False", "message": "api key failed validation"},
            ],
            "2026-08-22T09:58:00Z",
        )
    )
    assert errors(request(), invalid)["account"] == "Invalid NIM API key: api key failed validation"


def test_missing_template_uses_the_wizard_message() -> None:
    missing = facts(lambda raw: raw.update(template=None))
    assert errors(request(), missing)["template"] == (
        "Unable to find NIM ServingRuntime Template in namespace my-project"
    )


def test_template_that_is_not_a_serving_runtime() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["template"] = copy.deepcopy(raw["template"])
        raw["template"]["objects"][0]["kind"] = "ConfigMap"

    assert errors(request(), facts(edit))["template"] == (
        "Unable to find NIM ServingRuntime Template in namespace my-project "
        "(its first object is not a ServingRuntime)"
    )


def test_empty_catalog() -> None:
    empty = facts(lambda raw: raw.update(catalog={"metadata": {"name": "odh-nim-account-cm"}, "data": {}}))
    assert errors(request(), empty)["model"] == "No NVIDIA NIM models found. Please check the installation."


def test_unknown_model_with_a_suggestion() -> None:
    assert errors(request(model="llama-3.1-8b-instruc"), facts())["model"] == (
        'NIM image "llama-3.1-8b-instruc" is not in the NIM catalog (did you mean "llama-3.1-8b-instruct"?)'
    )


@pytest.mark.parametrize("tag", ["1.2.0", "9.9.9"])
def test_unknown_tag_lists_the_real_ones(tag: str) -> None:
    assert errors(request(tag=tag), facts())["tag"] == (
        f'Tag "{tag}" is not available for Llama-3.1-8b-instruct '
        "(available: 1.2.2, 1.2, 1.1.2, 1.1.1, 1.1.0, 1.1, 1, latest)"
    )


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (
            "nvidia-gpu-smal",
            'Hardware profile "nvidia-gpu-smal" was not found in project my-project or among '
            'the global profiles (did you mean "nvidia-gpu-small"?)',
        ),
        ("retired-v100", 'Hardware profile "Retired V100" (opendatahub/retired-v100) is disabled'),
        (
            "notebook-large",
            'Hardware profile "Notebook large" (opendatahub/notebook-large) is not available '
            "for model serving",
        ),
        (
            "opendatahub/team-a100",
            'Hardware profile "opendatahub/team-a100" was not found in project my-project '
            'or among the global profiles (did you mean "my-project/team-a100"?)',
        ),
    ],
)
def test_hardware_profile_problems(ref: str, message: str) -> None:
    assert errors(request(hardwareProfile=ref), facts())["hardwareProfile"] == message


def test_profile_by_bare_name_prefers_the_project_profile() -> None:
    def edit(raw: dict[str, Any]) -> None:
        clone = copy.deepcopy(
            next(p for p in raw["hardware_profiles"] if p["metadata"]["name"] == "team-a100")
        )
        clone["metadata"]["namespace"] = "opendatahub"
        clone["metadata"]["annotations"]["opendatahub.io/disabled"] = "true"
        raw["hardware_profiles"] = [*raw["hardware_profiles"], clone]

    cluster = facts(edit)
    assert errors(request(hardwareProfile="team-a100"), cluster) == {}
    profile = cluster.find_hardware_profile("team-a100")
    assert profile is not None and profile.namespace == "my-project"


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        (
            {"requests": {"cpu": "9"}},
            {"resources.requests.cpu": 'CPU must be between 1 and 8 (hardware profile "NVIDIA GPU (1x)")'},
        ),
        (
            {"limits": {"memory": "2Gi"}},
            {
                "resources.limits.memory": "Memory must be between 4Gi and 64Gi "
                '(hardware profile "NVIDIA GPU (1x)")'
            },
        ),
        (
            {"requests": {"amd.com/gpu": "1"}},
            {
                "resources.requests.amd.com/gpu": 'Hardware profile "NVIDIA GPU (1x)" '
                'has no resource "amd.com/gpu" '
                "(it sets: cpu, memory, nvidia.com/gpu)"
            },
        ),
        (
            {"requests": {"cpu": "6"}},
            {"resources.requests.cpu": "The cpu request (6) cannot be more than its limit (4)"},
        ),
        (
            {"limits": {"nvidia.com/gpu": "2"}},
            {
                "resources.requests.nvidia.com/gpu": "The nvidia.com/gpu request (1) "
                "must equal its limit (2): "
                "Kubernetes does not overcommit accelerators"
            },
        ),
        ({"requests": {"memory": "8192Mi"}, "limits": {"memory": "8Gi"}}, {}),
        (
            {"requests": {"nvidia.com/gpu": "1500m"}, "limits": {"nvidia.com/gpu": "1500m"}},
            {
                "resources.requests.nvidia.com/gpu": "nvidia.com/gpu counts whole devices: use a whole "
                "number such as 1 or 2",
                "resources.limits.nvidia.com/gpu": "nvidia.com/gpu counts whole devices: use a whole "
                "number such as 1 or 2",
            },
        ),
    ],
)
def test_resource_overrides_against_the_profile(resources: dict[str, Any], expected: dict[str, str]) -> None:
    assert errors(request(resources=resources), facts()) == expected


def test_a_profile_allowing_one_count_says_that_count() -> None:
    """team-a100 sets exactly two GPUs: "must be 2" reads better than "between 2 and 2"."""
    req = request(
        hardwareProfile="team-a100",
        resources={"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}},
    )
    message = 'GPU must be 2 (hardware profile "Team A100 (2x)")'
    assert errors(req, facts()) == {
        "resources.requests.nvidia.com/gpu": message,
        "resources.limits.nvidia.com/gpu": message,
    }


def test_existing_storage_must_exist() -> None:
    req = request(storage={"mode": "existing", "pvcName": "no-such-pvc"})
    assert errors(req, facts()) == {
        "storage.pvcName": 'Cluster storage "no-such-pvc" was not found in project my-project'
    }


def test_new_storage_must_not_exist_yet() -> None:
    req = request(storage={"mode": "new", "pvcName": "Shared NIM cache"})
    assert errors(req, facts()) == {
        "storage.pvcName": 'Cluster storage "shared-nim-cache" already exists in '
        "project my-project. Choose existing storage to reuse "
        "it, or another name."
    }


def test_storage_class_must_exist() -> None:
    req = request(storage={"mode": "new", "pvcName": "c", "storageClass": "gp3-csl"})
    assert errors(req, facts()) == {
        "storage.storageClass": 'Storage class "gp3-csl" was not found (did you mean "gp3-csi"?)'
    }


def test_new_storage_needs_a_class_when_the_cluster_has_no_default() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["storage_classes"] = [c for c in raw["storage_classes"] if c["metadata"]["name"] != "gp3-csi"]

    assert errors(request(), facts(edit)) == {
        "storage.storageClass": "Storage class is required for new storage (the cluster has no default "
        "storage class)"
    }


def test_size_on_existing_storage_is_only_for_updates() -> None:
    req = request(storage={"mode": "existing", "pvcName": "notebook-data", "size": "40Gi"})
    assert errors(req, facts()) == {
        "storage.size": "Storage size is only used for new storage, or to grow "
        "the storage of a deployment you update"
    }


def test_storage_only_grows() -> None:
    req = request(
        name="arctic",
        model="arctic-embed-l",
        storage={"mode": "existing", "pvcName": "arctic-cache", "size": "40Gi"},
    )
    cluster = facts(with_existing=True)
    assert errors(req, cluster, update=True) == {
        "storage.size": 'Storage can only grow: "arctic-cache" is 50Gi now'
    }


def test_storage_class_without_expansion_cannot_grow() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["pvcs"] = copy.deepcopy(raw["pvcs"])
        next(p for p in raw["pvcs"] if p["metadata"]["name"] == "arctic-cache")["spec"][
            "storageClassName"
        ] = "nfs-client"

    req = request(
        name="arctic",
        model="arctic-embed-l",
        storage={"mode": "existing", "pvcName": "arctic-cache", "size": "60Gi"},
    )
    assert errors(req, facts(edit, with_existing=True), update=True) == {
        "storage.size": 'Storage class "nfs-client" does not allow resizing volumes, '
        'so "arctic-cache" cannot grow'
    }


def test_a_name_in_use_gets_the_dashboard_message() -> None:
    req = request(name="arctic", displayName="Arctic again")
    assert errors(req, facts(with_existing=True)) == {
        "name": 'A model deployment with the name "Arctic again" already exists. Please choose a different '
        "model deployment name."
    }


def test_a_leftover_runtime_blocks_the_name_too() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["inference_services"] = []

    assert errors(request(name="arctic"), facts(edit, with_existing=True)) == {
        "name": 'A serving runtime with the name "arctic" already exists. Please choose a different model '
        "deployment name."
    }


def test_secrets_the_account_cannot_provide() -> None:
    unreadable = facts(
        lambda raw: raw.update(api_key_secret=None, pull_secret={"data": {}}), account="cluster"
    )
    assert errors(request(), unreadable) == {
        "account": 'The project has no secret "nvidia-nim-secrets" and the NIM account\'s API key '
        "could not be "
        'read to create it; The project has no image pull secret "ngc-secret" and the NIM '
        "account's pull secret could not be read to create it"
    }


def test_assemble_raises_with_the_same_field_errors() -> None:
    with pytest.raises(AssemblyError) as caught:
        assemble(request=request(model="nope", hardwareProfile="retired-v100"), facts=facts())
    assert [e.field for e in caught.value.errors] == ["model", "hardwareProfile"]
    assert str(caught.value).splitlines()[0] == 'model: NIM image "nope" is not in the NIM catalog'


def test_now_is_the_facts_clock() -> None:
    assert facts().gathered_at == NOW


def test_custom_resources_without_a_profile_need_nothing_from_the_cluster() -> None:
    # A cluster without profiles: any resource the person types is theirs to ask for.
    custom = {"requests": {"cpu": "2", "amd.com/gpu": "1"}, "limits": {"amd.com/gpu": "1"}}
    cluster = facts(lambda raw: raw.update(hardware_profiles=[]))
    assert cluster.hardware_profiles == ()
    assert errors(request(hardwareProfile=None, resources=custom), cluster) == {}
