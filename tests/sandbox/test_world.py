"""The demo world: every object is valid, and the facts the deploy flow relies on hold."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Mapping
from typing import Any

import pytest

from nim_widget.sandbox.kinds import default_registry
from nim_widget.sandbox.quantity import quantity_value
from nim_widget.sandbox.schemas import unknown_fields, validate_structure
from nim_widget.sandbox.world import load_world, object_uid, world_names

CATALOG_FIELDS = ["name", "displayName", "shortDescription", "namespace", "tags", "latestTag", "updatedDate"]


@pytest.fixture(scope="module")
def world() -> list[dict[str, Any]]:
    return load_world(name="demo")


def kind_key(obj: Mapping[str, Any]) -> str:
    kind = default_registry().by_kind(obj["apiVersion"], obj["kind"])
    assert kind is not None, f"{obj['apiVersion']} {obj['kind']} is not a sandbox kind"
    return kind.key


def find(world: list[dict[str, Any]], kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    matches = [
        o
        for o in world
        if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace
    ]
    assert len(matches) == 1, f"{kind} {namespace}/{name}: {len(matches)} found"
    return matches[0]


def of_kind(world: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in world if o["kind"] == kind]


# ---------------------------------------------------------------- loading


def test_demo_is_listed_and_unknown_worlds_are_refused() -> None:
    assert "demo" in world_names()
    with pytest.raises(ValueError, match="unknown sandbox world 'moon'"):
        load_world(name="moon")


def test_namespaces_come_first(world: list[dict[str, Any]]) -> None:
    kinds = [o["kind"] for o in world]
    assert kinds[:2] == ["Namespace", "Namespace"]
    assert "Namespace" not in kinds[2:]


def test_every_object_is_structurally_valid(world: list[dict[str, Any]]) -> None:
    for obj in world:
        key = kind_key(obj)
        name = f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"
        assert validate_structure(kind_key=key, obj=obj) == [], name
        assert unknown_fields(kind_key=key, obj=obj) == [], name


def test_uids_are_fixed_and_unique(world: list[dict[str, Any]]) -> None:
    uids = [o["metadata"]["uid"] for o in world]
    assert len(set(uids)) == len(uids)
    for obj in world:
        meta = obj["metadata"]
        expected = object_uid(
            api_version=obj["apiVersion"],
            kind=obj["kind"],
            namespace=meta.get("namespace"),
            name=meta["name"],
        )
        assert meta["uid"] == expected, meta["name"]
    assert [o["metadata"]["uid"] for o in load_world(name="demo")] == uids


def test_each_load_returns_independent_objects(world: list[dict[str, Any]]) -> None:
    first = load_world(name="demo")
    nodes = of_kind(first, "Node")
    nodes[0]["status"]["conditions"].clear()
    assert all(node["status"]["conditions"] for node in nodes[1:])
    assert all(node["status"]["conditions"] for node in of_kind(load_world(name="demo"), "Node"))


def test_no_object_carries_server_assigned_metadata(world: list[dict[str, Any]]) -> None:
    for obj in world:
        for field in ("resourceVersion", "creationTimestamp", "generation", "managedFields"):
            assert field not in obj["metadata"], (obj["metadata"]["name"], field)


# ---------------------------------------------------------------- namespaces


def test_project_namespace(world: list[dict[str, Any]]) -> None:
    demo = find(world, "Namespace", "demo")
    assert demo["metadata"]["labels"]["opendatahub.io/dashboard"] == "true"
    assert demo["metadata"]["annotations"]["openshift.io/display-name"]
    find(world, "Namespace", "opendatahub")


# ---------------------------------------------------------------- NIM account


def test_account_is_healthy(world: list[dict[str, Any]]) -> None:
    account = find(world, "Account", "odh-nim-account", "demo")
    assert account["metadata"]["labels"] == {"opendatahub.io/managed": "true"}
    assert account["spec"]["apiKeySecret"] == {"name": "nvidia-nim-secrets"}
    conditions = {c["type"]: c for c in account["status"]["conditions"]}
    assert set(conditions) == {
        "APIKeyValidation",
        "ConfigMapUpdate",
        "TemplateUpdate",
        "SecretUpdate",
        "AccountStatus",
    }
    assert all(c["status"] == "True" for c in conditions.values())
    assert conditions["AccountStatus"]["reason"] == "AccountSuccessful"
    for field in ("lastAccountCheck", "lastSuccessfulValidation", "lastSuccessfulConfigRefresh"):
        datetime.datetime.fromisoformat(account["status"][field])


@pytest.mark.parametrize(
    ("ref", "kind", "api_version", "name"),
    [
        ("nimConfig", "ConfigMap", "v1", "odh-nim-account-cm"),
        ("runtimeTemplate", "Template", "template.openshift.io/v1", "odh-nim-account-template"),
        ("nimPullSecret", "Secret", "v1", "odh-nim-account-pull"),
    ],
)
def test_account_status_references_resolve(
    world: list[dict[str, Any]], ref: str, kind: str, api_version: str, name: str
) -> None:
    reference = find(world, "Account", "odh-nim-account", "demo")["status"][ref]
    target = find(world, reference["kind"], reference["name"], reference["namespace"])
    assert (reference["kind"], reference["apiVersion"], reference["name"]) == (kind, api_version, name)
    assert target["apiVersion"] == api_version
    assert reference["uid"] == target["metadata"]["uid"]


def test_owned_objects_point_at_the_account(world: list[dict[str, Any]]) -> None:
    account = find(world, "Account", "odh-nim-account", "demo")
    owned = [o for o in world if o["metadata"].get("ownerReferences")]
    assert {o["metadata"]["name"] for o in owned} == {
        "odh-nim-account-cm",
        "odh-nim-account-template",
        "odh-nim-account-pull",
    }
    for obj in owned:
        assert obj["metadata"]["labels"] == {"opendatahub.io/managed": "true"}
        assert obj["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "nim.opendatahub.io/v1",
                "kind": "Account",
                "name": "odh-nim-account",
                "uid": account["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    # the owner is created after the objects it owns (see demo.50-nim-account.yaml)
    assert world.index(account) > max(world.index(o) for o in owned)


def decoded(secret: Mapping[str, Any], key: str) -> str:
    return base64.b64decode(secret["data"][key], validate=True).decode()


def test_api_key_secret_and_pull_secret(world: list[dict[str, Any]]) -> None:
    key_secret = find(world, "Secret", "nvidia-nim-secrets", "demo")
    assert key_secret["type"] == "Opaque"
    assert key_secret["metadata"]["labels"] == {"opendatahub.io/managed": "true"}
    api_key = decoded(key_secret, "api_key")
    assert api_key == decoded(key_secret, "NGC_API_KEY")
    assert api_key.startswith("nvapi-DEMO-")
    pull = find(world, "Secret", "odh-nim-account-pull", "demo")
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(decoded(pull, ".dockerconfigjson"))
    assert config == {"auths": {"nvcr.io": {"password": api_key, "username": "$oauthtoken"}}}


def test_runtime_template_is_usable_by_the_dashboard(world: list[dict[str, Any]]) -> None:
    template = find(world, "Template", "odh-nim-account-template", "demo")
    assert template["metadata"]["annotations"] == {
        "opendatahub.io/apiProtocol": "REST",
        "opendatahub.io/modelServingSupport": '["single"]',
    }
    assert "opendatahub.io/dashboard" not in template["metadata"]["labels"]
    [runtime] = template["objects"]
    # the dashboard only accepts objects[0] if it is a ServingRuntime with containers and formats
    assert runtime["kind"] == "ServingRuntime"
    assert runtime["spec"]["containers"] and runtime["spec"]["supportedModelFormats"]
    assert validate_structure(kind_key="servingruntimes.serving.kserve.io", obj=runtime) == []
    container = runtime["spec"]["containers"][0]
    assert container["name"] == "kserve-container"
    assert {
        "name": "NGC_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "nvidia-nim-secrets", "key": "NGC_API_KEY"}},
    } in (container["env"])
    assert runtime["spec"]["imagePullSecrets"] == [{"name": "ngc-secret"}]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/mnt/models/cache"] == "nim-pvc" and mounts["/dev/shm"] == "shm"
    assert "shm" not in {v["name"] for v in runtime["spec"]["volumes"]}  # the dashboard adds it


def catalog(world: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    data = find(world, "ConfigMap", "odh-nim-account-cm", "demo")["data"]
    return {key: json.loads(value) for key, value in data.items()}


def test_catalog_has_at_least_15_models_in_the_controller_format(world: list[dict[str, Any]]) -> None:
    models = catalog(world)
    assert len(models) >= 15
    for key, model in models.items():
        assert list(model) == CATALOG_FIELDS, key
        assert model["name"] == key
        assert isinstance(model["namespace"], str) and model["namespace"].startswith("nim/")
        assert isinstance(model["tags"], list) and model["tags"]
        assert all(isinstance(tag, str) and tag for tag in model["tags"])
        assert model["latestTag"] == model["tags"][0]
        assert model["displayName"] and model["shortDescription"]
        datetime.datetime.fromisoformat(model["updatedDate"])


def test_catalog_spans_the_usual_publishers(world: list[dict[str, Any]]) -> None:
    models = catalog(world)
    namespaces = {m["namespace"] for m in models.values()}
    assert {
        "nim/meta",
        "nim/nvidia",
        "nim/mistralai",
        "nim/microsoft",
        "nim/deepseek-ai",
        "nim/snowflake",
    } <= namespaces
    assert models["llama-3.1-8b-instruct"]["namespace"] == "nim/meta"
    assert models["arctic-embed-l"]["namespace"] == "nim/snowflake"
    assert "1.0.1" in models["arctic-embed-l"]["tags"]
    assert any("embed" in name for name in models), "the catalog needs embedding NIMs"
    assert any("rerank" in name for name in models), "the catalog needs reranking NIMs"


# ---------------------------------------------------------------- storage


def is_default(storage_class: Mapping[str, Any]) -> bool:
    annotations = storage_class["metadata"].get("annotations", {})
    return bool(annotations.get("storageclass.kubernetes.io/is-default-class") == "true")


def test_storage_classes(world: list[dict[str, Any]]) -> None:
    classes = of_kind(world, "StorageClass")
    assert len(classes) == 2
    default = [c for c in classes if is_default(c)]
    assert len(default) == 1 and default[0]["allowVolumeExpansion"] is True
    other = next(c for c in classes if c is not default[0])
    assert not other.get("allowVolumeExpansion", False)


def test_model_cache_claim_is_annotated_like_the_wizard_and_bound(world: list[dict[str, Any]]) -> None:
    [claim] = of_kind(world, "PersistentVolumeClaim")
    meta = claim["metadata"]
    assert meta["namespace"] == "demo"
    assert meta["labels"] == {"opendatahub.io/dashboard": "true", "opendatahub.io/managed": "true"}
    assert meta["annotations"]["dashboard.opendatahub.io/nim-pvc"] == "true"
    assert meta["annotations"]["dashboard.opendatahub.io/nim-subpath"] in catalog(world)
    assert meta["annotations"]["openshift.io/display-name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"] and claim["spec"]["volumeMode"] == "Filesystem"
    assert claim["status"]["phase"] == "Bound"
    assert claim["status"]["capacity"]["storage"] == claim["spec"]["resources"]["requests"]["storage"]
    assert is_default(find(world, "StorageClass", claim["spec"]["storageClassName"]))


# ---------------------------------------------------------------- hardware profiles


def profiles(world: list[dict[str, Any]], namespace: str) -> dict[str, dict[str, Any]]:
    return {
        p["metadata"]["name"]: p
        for p in of_kind(world, "HardwareProfile")
        if p["metadata"]["namespace"] == namespace
    }


def gpu_count(profile: Mapping[str, Any]) -> int:
    for identifier in profile["spec"]["identifiers"]:
        if identifier["identifier"] == "nvidia.com/gpu":
            return int(identifier["defaultCount"])
    return 0


def test_global_profiles_cover_cpu_one_gpu_and_four_gpus(world: list[dict[str, Any]]) -> None:
    enabled = {
        name: p
        for name, p in profiles(world, "opendatahub").items()
        if p["metadata"]["annotations"].get("opendatahub.io/disabled") != "true"
    }
    assert {0, 1, 4} <= {gpu_count(p) for p in enabled.values()}
    for profile in enabled.values():
        assert profile["metadata"]["annotations"]["opendatahub.io/display-name"]
        types = {i["resourceType"] for i in profile["spec"]["identifiers"]}
        assert {"CPU", "Memory"} <= types


def test_a_disabled_and_a_project_profile_exist(world: list[dict[str, Any]]) -> None:
    disabled = [
        p
        for p in profiles(world, "opendatahub").values()
        if p["metadata"]["annotations"].get("opendatahub.io/disabled") == "true"
    ]
    assert len(disabled) == 1
    assert profiles(world, "demo"), "a project-scoped profile lives in the project namespace"


# ---------------------------------------------------------------- nodes and scheduling


def tolerates(tolerations: list[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    for toleration in tolerations:
        if toleration.get("effect") not in (None, "", taint["effect"]):
            continue
        if toleration.get("operator") == "Exists" and toleration.get("key") in (None, "", taint["key"]):
            return True
        if toleration.get("key") == taint["key"] and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def nodes_fitting(world: list[dict[str, Any]], profile: Mapping[str, Any]) -> list[str]:
    """Nodes where one pod with the profile's default requests and scheduling could run."""
    node_scheduling = profile["spec"].get("scheduling", {}).get("node", {})
    selector = node_scheduling.get("nodeSelector", {})
    tolerations = node_scheduling.get("tolerations", [])
    requests = {i["identifier"]: i["defaultCount"] for i in profile["spec"]["identifiers"]}
    fitting = []
    for node in of_kind(world, "Node"):
        labels = node["metadata"]["labels"]
        if any(labels.get(k) != v for k, v in selector.items()):
            continue
        taints = [t for t in node["spec"].get("taints", []) if t["effect"] in ("NoSchedule", "NoExecute")]
        if not all(tolerates(tolerations, taint) for taint in taints):
            continue
        allocatable = node["status"]["allocatable"]
        if all(quantity_value(allocatable.get(r, 0)) >= quantity_value(n) for r, n in requests.items()):
            fitting.append(node["metadata"]["name"])
    return fitting


def test_nodes_with_and_without_gpus(world: list[dict[str, Any]]) -> None:
    nodes = of_kind(world, "Node")
    gpu_nodes = [n for n in nodes if "nvidia.com/gpu" in n["status"]["capacity"]]
    assert gpu_nodes and len(gpu_nodes) < len(nodes)
    for node in gpu_nodes:
        labels = node["metadata"]["labels"]
        assert labels["nvidia.com/gpu.present"] == "true" and labels["nvidia.com/gpu.product"]
        assert {"key": "nvidia.com/gpu", "effect": "NoSchedule"} in node["spec"]["taints"]
        assert node["status"]["allocatable"]["nvidia.com/gpu"] == node["status"]["capacity"]["nvidia.com/gpu"]
    ready = [c for n in nodes for c in n["status"]["conditions"] if c["type"] == "Ready"]
    assert len(ready) == len(nodes) and all(c["status"] == "True" for c in ready)


def test_one_gpu_is_schedulable_and_four_are_not(world: list[dict[str, Any]]) -> None:
    global_profiles = profiles(world, "opendatahub")
    assert nodes_fitting(world, global_profiles["nvidia-gpu-1x"])
    assert nodes_fitting(world, global_profiles["nvidia-gpu-4x"]) == []
    assert max(int(n["status"]["allocatable"].get("nvidia.com/gpu", "0")) for n in of_kind(world, "Node")) < 4
    cpu_only = nodes_fitting(world, global_profiles["default-profile"])
    assert cpu_only and all("gpu" not in name for name in cpu_only)  # GPU taints keep CPU pods away
    assert nodes_fitting(world, profiles(world, "demo")["demo-a10-single-gpu"]) == ["demo-gpu-a10-eastus1-0"]
