"""Every DeploymentRequest rule, with the message a person sees, and the normalisations."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from nim_widget.request import (
    DeploymentRequest,
    EnvVar,
    ResourceOverrides,
    StorageRequest,
    errors_by_field,
    resource_problems,
)

GOOD: dict[str, Any] = {
    "project": "demo",
    "displayName": "Llama 3.1 8B",
    "model": "llama-3.1-8b-instruct",
    "hardwareProfile": "nvidia-gpu-small",
}

ENV_MESSAGE = (
    "Environment variable name must start with a letter or underscore and contain only letters, "
    "numbers, and underscores"
)
GPU_WHOLE = "nvidia.com/gpu counts whole devices: use a whole number such as 1 or 2"
NAME_PATTERN = (
    "Must start with a lowercase letter and end with a lowercase letter or number. Valid characters "
    "include lowercase letters, numbers, and hyphens (-)."
)


def validate(**changes: Any) -> DeploymentRequest:
    data = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return DeploymentRequest.model_validate(data, by_alias=True, by_name=False)


def problems(**changes: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        validate(**changes)
    return errors_by_field(caught.value)


BAD: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("project missing", {"project": ...}, {"project": "Project is required"}),
    ("project blank", {"project": "  "}, {"project": "Project is required"}),
    (
        "project not a dns label",
        {"project": "My_Project"},
        {
            "project": '"My_Project" is not a project name: lowercase letters, numbers and "-", '
            "starting and ending "
            "with a letter or number, at most 63 characters"
        },
    ),
    ("project not text", {"project": ["demo"]}, {"project": "The project must be text"}),
    ("display name missing", {"displayName": ...}, {"displayName": "Model deployment name is required"}),
    ("display name blank", {"displayName": " \t"}, {"displayName": "Model deployment name is required"}),
    (
        "display name too long",
        {"displayName": "x" * 257},
        {"displayName": "Model deployment name cannot exceed 256 characters"},
    ),
    ("name with capitals", {"name": "Llama"}, {"name": NAME_PATTERN}),
    ("name starts with a digit", {"name": "3b-model"}, {"name": NAME_PATTERN}),
    ("name ends with a hyphen", {"name": "llama-"}, {"name": NAME_PATTERN}),
    ("name too long", {"name": "a" * 31}, {"name": "Cannot exceed 30 characters"}),
    (
        "name plus project too long",
        {"project": "p" * 40, "name": "a" * 25},
        {"name": "Resource name and project name combined cannot exceed 63 characters"},
    ),
    (
        "name breaking every rule",
        {"project": "p" * 40, "name": "A" * 31},
        {
            "name": NAME_PATTERN
            + " Cannot exceed 30 characters Resource name and project name combined cannot "
            "exceed 63 characters"
        },
    ),
    (
        "derived name cannot fit",
        {"project": "p" * 62},
        {
            "name": 'The resource name derived from the display name ("llama-31-8b") '
            "is invalid: Resource name and "
            "project name combined cannot exceed 63 characters"
        },
    ),
    ("model missing", {"model": ...}, {"model": "NIM image is required"}),
    ("model blank", {"model": ""}, {"model": "NIM image is required"}),
    (
        "model with spaces",
        {"model": "llama 3"},
        {"model": "NIM image must be a catalog key such as llama-3.1-8b-instruct (no spaces)"},
    ),
    (
        "tag with a slash",
        {"tag": "1.0/x"},
        {"tag": "A tag is up to 128 letters, digits, '_', '.' or '-', and cannot start with '.' or '-'"},
    ),
    (
        "tag starting with a dot",
        {"tag": ".1"},
        {"tag": "A tag is up to 128 letters, digits, '_', '.' or '-', and cannot start with '.' or '-'"},
    ),
    (
        "tag as a float",
        {"tag": 1.1},
        {"tag": 'Put the tag in quotes (e.g. "1.10"): a bare number loses trailing zeros'},
    ),
    (
        "description too long",
        {"description": "d" * 4097},
        {"description": "Description cannot exceed 4096 characters"},
    ),
    ("storage not a mapping", {"storage": "new"}, {"storage": "Must be a mapping of keys to values"}),
    (
        "storage mode unknown",
        {"storage": {"mode": "shared"}},
        {"storage.mode": 'Storage mode must be "new" or "existing"'},
    ),
    (
        "existing without a name",
        {"storage": {"mode": "existing"}},
        {"storage.pvcName": "Cluster storage name is required"},
    ),
    (
        "existing with a bad name",
        {"storage": {"mode": "existing", "pvcName": "My Cache"}},
        {
            "storage.pvcName": '"My Cache" is not a PVC name: lowercase letters, numbers, "-" and ".", '
            "starting and "
            "ending with a letter or number"
        },
    ),
    (
        "new name too long",
        {"storage": {"pvcName": "c" * 254}},
        {"storage.pvcName": "Cluster storage name cannot exceed 253 characters"},
    ),
    ("size zero", {"storage": {"size": "0Gi"}}, {"storage.size": "Storage size must be at least 1 GiB"}),
    ("size negative", {"storage": {"size": "-5Gi"}}, {"storage.size": "Storage size must be at least 1 GiB"}),
    (
        "size below 1Gi",
        {"storage": {"size": "512Mi"}},
        {"storage.size": "Storage size must be at least 1 GiB"},
    ),
    (
        "size decimal below 1Gi",
        {"storage": {"size": "1G"}},
        {"storage.size": "Storage size must be at least 1 GiB"},
    ),
    (
        "size text",
        {"storage": {"size": "abc"}},
        {
            "storage.size": '"abc" is not a size: use a number and a unit such as 50Gi or 1Ti (units are '
            "case-sensitive)"
        },
    ),
    (
        "size lowercase unit",
        {"storage": {"size": "50gi"}},
        {
            "storage.size": '"50gi" is not a size: use a number and a unit such as 50Gi or 1Ti (units are '
            "case-sensitive)"
        },
    ),
    ("size bare number", {"storage": {"size": "50"}}, {"storage.size": "Add a unit to the size, e.g. 50Gi"}),
    ("size bare integer", {"storage": {"size": 75}}, {"storage.size": "Add a unit to the size, e.g. 75Gi"}),
    ("size bare zero", {"storage": {"size": "0"}}, {"storage.size": "Add a unit to the size, e.g. 0Gi"}),
    (
        "class on existing storage",
        {"storage": {"mode": "existing", "pvcName": "c", "storageClass": "gp3"}},
        {"storage.storageClass": "A storage class applies only to new storage"},
    ),
    (
        "class with capitals",
        {"storage": {"storageClass": "GP3"}},
        {"storage.storageClass": '"GP3" is not a storage class name'},
    ),
    (
        "subpath with dot-dot",
        {"storage": {"subPath": "models/../etc"}},
        {"storage.subPath": "Subpath must not contain '..'"},
    ),
    (
        "subpath with empty segment",
        {"storage": {"subPath": "a//b"}},
        {"storage.subPath": "Subpath must not contain empty segments (//)"},
    ),
    (
        "hardware profile bad ref",
        {"hardwareProfile": "a/b/c"},
        {"hardwareProfile": 'Use a hardware profile name, or "<namespace>/<name>"'},
    ),
    (
        "custom request above its limit",
        {
            "hardwareProfile": ...,
            "resources": {
                "requests": {"cpu": "4", "memory": "16Gi"},
                "limits": {"cpu": "2", "memory": "16384Mi"},
            },
        },
        {"resources.requests.cpu": "The cpu request (4) cannot be more than its limit (2)"},
    ),
    (
        "custom GPU request different from its limit",
        {
            "hardwareProfile": ...,
            "resources": {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "2"}},
        },
        {
            "resources.requests.nvidia.com/gpu": "The nvidia.com/gpu request (1) must equal its limit (2): "
            "Kubernetes does not overcommit accelerators"
        },
    ),
    (
        "custom GPU request without a limit",
        {"hardwareProfile": ..., "resources": {"requests": {"nvidia.com/gpu": "1", "cpu": "2"}}},
        {
            "resources.limits.nvidia.com/gpu": "Set the nvidia.com/gpu limit to the request (1) as well: "
            "Kubernetes does not overcommit accelerators"
        },
    ),
    (
        "custom GPU fraction",
        {"hardwareProfile": ..., "resources": {"limits": {"nvidia.com/gpu": "500m"}}},
        {"resources.limits.nvidia.com/gpu": GPU_WHOLE},
    ),
    (
        "custom resources, several problems at once",
        {
            "hardwareProfile": ...,
            "resources": {
                "requests": {"cpu": "8", "memory": "64Gi"},
                "limits": {"cpu": "4", "memory": "32Gi"},
            },
        },
        {
            "resources.requests.cpu": "The cpu request (8) cannot be more than its limit (4)",
            "resources.requests.memory": "The memory request (64Gi) cannot be more than its limit (32Gi)",
        },
    ),
    (
        "custom resource not a quantity",
        {"hardwareProfile": ..., "resources": {"limits": {"memory": "16 GB"}}},
        {"resources.limits.memory": '"16 GB" is not a quantity (examples: 4, 500m, 16Gi)'},
    ),
    (
        "override not a quantity",
        {"resources": {"requests": {"cpu": "two"}}},
        {"resources.requests.cpu": '"two" is not a quantity (examples: 4, 500m, 16Gi)'},
    ),
    (
        "override negative",
        {"resources": {"limits": {"memory": "-1Gi"}}},
        {"resources.limits.memory": "Must not be negative"},
    ),
    (
        "override boolean",
        {"resources": {"limits": {"cpu": True}}},
        {"resources.limits.cpu": "Must be a quantity such as 4, 500m or 16Gi"},
    ),
    (
        "override bad resource name",
        {"resources": {"requests": {"nvidia gpu": "1"}}},
        {
            "resources.requests.nvidia gpu": '"nvidia gpu" is not a resource name '
            "(examples: cpu, memory, nvidia.com/gpu)"
        },
    ),
    ("replicas zero", {"replicas": 0}, {"replicas": "Replicas must be a whole number from 1 to 99"}),
    ("replicas too many", {"replicas": 100}, {"replicas": "Replicas must be a whole number from 1 to 99"}),
    ("replicas text", {"replicas": "two"}, {"replicas": "Replicas must be a whole number from 1 to 99"}),
    ("replicas boolean", {"replicas": True}, {"replicas": "Replicas must be a whole number from 1 to 99"}),
    ("replicas fraction", {"replicas": 1.5}, {"replicas": "Replicas must be a whole number from 1 to 99"}),
    ("env not a list", {"env": {"name": "A"}}, {"env": "Must be a list"}),
    ("env name missing", {"env": [{"value": "1"}]}, {"env[0].name": "Environment variable name is required"}),
    ("env name blank", {"env": [{"name": " "}]}, {"env[0].name": "Environment variable name is required"}),
    ("env name with a digit first", {"env": [{"name": "1ST"}]}, {"env[0].name": ENV_MESSAGE}),
    (
        "env name with a dash",
        {"env": [{"name": "A", "value": "1"}, {"name": "MY-VAR"}]},
        {"env[1].name": ENV_MESSAGE},
    ),
    ("env name with a dot", {"env": [{"name": "my.var"}]}, {"env[0].name": ENV_MESSAGE}),
    (
        "env NGC_API_KEY reserved",
        {"env": [{"name": "NGC_API_KEY", "value": "x"}]},
        {
            "env[0].name": "NGC_API_KEY is reserved: the NIM runtime reads it from the project's secret "
            "nvidia-nim-secrets"
        },
    ),
    (
        "env NIM_CACHE_PATH reserved",
        {"env": [{"name": "NIM_CACHE_PATH", "value": "/tmp"}]},
        {
            "env[0].name": "NIM_CACHE_PATH is reserved: the runtime points it at the model cache mount "
            "/mnt/models/cache"
        },
    ),
    (
        "env duplicates",
        {"env": [{"name": "A"}, {"name": "B"}, {"name": "A", "value": "2"}]},
        {"env": 'Environment variable "A" is set more than once'},
    ),
    (
        "env value too long",
        {"env": [{"name": "A", "value": "v" * 8193}]},
        {"env[0].value": "The value is too long (8193 characters; at most 8192)"},
    ),
    (
        "env value boolean",
        {"env": [{"name": "A", "value": False}]},
        {"env[0].value": 'Put the value in quotes, e.g. "false"'},
    ),
    (
        "env unknown key",
        {"env": [{"name": "A", "val": "1"}]},
        {"env[0].val": 'Unknown key "val" (did you mean "value"?). Allowed keys: name, value'},
    ),
    (
        "unknown top-level key",
        {"replica": 2},
        {
            "replica": 'Unknown key "replica" (did you mean "replicas"?). '
            "Allowed keys: project, displayName, name, "
            "model, tag, description, storage, hardwareProfile, resources, replicas, env"
        },
    ),
    (
        "snake_case key in a spec",
        {"display_name": "x"},
        {
            "display_name": 'Unknown key "display_name" '
            '(did you mean "displayName"?). Allowed keys: project, '
            "displayName, name, model, tag, description, storage, hardwareProfile, resources, "
            "replicas, env"
        },
    ),
    (
        "unknown storage key",
        {"storage": {"pvc": "x"}},
        {
            "storage.pvc": 'Unknown key "pvc" (did you mean "pvcName"?). Allowed keys: mode, pvcName, size, '
            "storageClass, subPath"
        },
    ),
    (
        "unknown resources key",
        {"resources": {"request": {"cpu": "1"}}},
        {
            "resources.request": 'Unknown key "request" (did you mean "requests"?). '
            "Allowed keys: requests, limits"
        },
    ),
]


def test_the_table_is_large_enough() -> None:
    assert len(BAD) >= 30


@pytest.mark.parametrize(("changes", "expected"), [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_gets_a_field_message(changes: dict[str, Any], expected: dict[str, str]) -> None:
    assert problems(**changes) == expected


def test_several_problems_are_all_reported() -> None:
    found = problems(project=..., model=..., replicas=0, env=[{"name": "1"}])
    assert set(found) == {"project", "model", "replicas", "env[0].name"}


def test_name_is_derived_and_new_pvc_defaults_to_name_cache() -> None:
    request = validate()
    assert request.name == "llama-31-8b"
    assert request.storage == StorageRequest(mode="new", pvc_name="llama-31-8b-cache", size="50Gi")
    assert (
        request.pvc_resource_name == "llama-31-8b-cache" and request.pvc_display_name == "llama-31-8b-cache"
    )
    assert request.tag is None and request.replicas == 1 and request.env == () and request.description == ""
    assert validate(displayName="3B model").name == "nim-3b-model"
    assert validate(name=" custom-name ").name == "custom-name"
    assert validate(name="").name == "llama-31-8b"


def test_derived_name_fits_next_to_a_long_project() -> None:
    request = validate(project="p" * 50, displayName="Llama 3.1 8B Instruct")
    assert request.name == "llama-31-8b" and len(f"{request.name}-{request.project}") <= 63


def test_new_pvc_typed_name_is_translated_but_displayed_as_typed() -> None:
    request = validate(storage={"pvcName": "Llama cache"})
    assert request.pvc_resource_name == "llama-cache" and request.pvc_display_name == "Llama cache"
    existing = validate(storage={"mode": "existing", "pvcName": "cache.v1"})
    assert existing.pvc_resource_name == "cache.v1" and existing.storage.size is None


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("/llama", "llama"),
        ("llama/", "llama"),
        ("//models/llama//", "models/llama"),
        ("/", ""),
        (" a/b ", "a/b"),
        ("./a", "./a"),
        ("", ""),
        (None, ""),
    ],
)
def test_sub_path_normalisation(given: str | None, normalised: str) -> None:
    assert validate(storage={"subPath": given}).storage.sub_path == normalised


@pytest.mark.parametrize(
    ("size", "kept"),
    [
        ("50Gi", "50Gi"),
        ("1Ti", "1Ti"),
        ("1Gi", "1Gi"),
        ("100G", "100G"),
        ("1.5Ti", "1.5Ti"),
        (" 80Gi ", "80Gi"),
    ],
)
def test_sizes_accepted_as_written(size: str, kept: str) -> None:
    assert validate(storage={"size": size}).storage.size == kept


def test_scalars_that_mean_text_are_accepted() -> None:
    request = validate(
        tag=7,
        replicas="3",
        env=[{"name": "N", "value": 8192}, {"name": "EMPTY"}],
        resources={"requests": {"cpu": 4, "memory": "16Gi"}, "limits": {"cpu": 0.5}},
    )
    assert request.tag == "7" and request.replicas == 3
    assert request.env == (EnvVar(name="N", value="8192"), EnvVar(name="EMPTY", value=""))
    assert request.resources == ResourceOverrides(
        requests={"cpu": "4", "memory": "16Gi"}, limits={"cpu": "0.5"}
    )
    assert validate(tag="").tag is None and validate(hardwareProfile=" ").hardware_profile is None


def test_python_callers_use_field_names() -> None:
    request = DeploymentRequest(
        project="demo",
        display_name="Llama",
        model="m",
        storage=StorageRequest(mode="existing", pvc_name="cache"),
        env=(EnvVar(name="A", value="1"),),
    )
    assert request.name == "llama" and request.storage.pvc_name == "cache"
    assert request.pvc_resource_name == "cache"


def test_request_is_frozen() -> None:
    request = validate()
    with pytest.raises(ValidationError):
        DeploymentRequest.__setattr__(request, "replicas", 5)
    with pytest.raises(ValidationError):
        StorageRequest.__setattr__(request.storage, "size", "1Ti")


@pytest.mark.parametrize(
    "resources",
    [
        {},
        {"requests": {"cpu": "2", "memory": "8Gi"}},
        {"limits": {"cpu": "500m", "nvidia.com/gpu": "1"}},
        {
            "requests": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "2"},
            "limits": {"cpu": "4", "memory": "16384Mi", "nvidia.com/gpu": "2"},
        },
    ],
    ids=["cluster defaults", "requests only", "limits only", "requests and limits"],
)
def test_custom_resources_without_a_profile_are_a_choice(resources: dict[str, Any]) -> None:
    request = validate(hardwareProfile=..., resources=resources)
    assert request.hardware_profile is None
    assert request.resources == ResourceOverrides.model_validate(resources)
    assert request.resources.is_empty == (resources == {})


def test_profile_overrides_are_judged_against_the_profile_not_here() -> None:
    # With a profile, a lone request is an override on the profile's defaults (which fill the limit),
    # so the rules for whole requests/limits wait for the cluster's facts.
    request = validate(resources={"requests": {"cpu": "6", "nvidia.com/gpu": "2"}})
    assert request.resources.requests == {"cpu": "6", "nvidia.com/gpu": "2"}


@pytest.mark.parametrize(
    ("requests", "limits", "expected"),
    [
        ({"amd.com/gpu": "1"}, {"amd.com/gpu": "1"}, []),
        ({"hugepages-2Mi": "1Gi"}, {}, []),
        ({"kubernetes.io/foo": "1"}, {}, []),
        ({"example.com/fpga": "2"}, {"example.com/fpga": "1"}, ["resources.requests.example.com/fpga"]),
        ({"nvidia.com/gpu": "1.5"}, {"nvidia.com/gpu": "2"}, ["resources.requests.nvidia.com/gpu"]),
        ({"memory": "1Gi"}, {"memory": "1024Mi"}, []),
        ({"cpu": "1001m"}, {"cpu": "1"}, ["resources.requests.cpu"]),
    ],
)
def test_resource_problems(requests: dict[str, str], limits: dict[str, str], expected: list[str]) -> None:
    found = resource_problems(requests=requests, limits=limits)
    assert [problem.field for problem in found] == expected
