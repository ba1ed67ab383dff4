"""The pure parsers: catalog, account state, template, hardware profiles, storage classes, PVCs."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from assembly_world import NOW, fixture, world

from nim_widget.catalog import (
    TemplateProblem,
    derive_account_state,
    order_tags,
    parse_account,
    parse_catalog,
    parse_hardware_profile,
    parse_hardware_profiles,
    parse_pvcs,
    parse_storage_classes,
    parse_template,
)
from nim_widget.facts import (
    ACCOUNT_PENDING_MESSAGES,
    ACCOUNT_READY_MESSAGE,
    ACCOUNT_TIMEOUT_MESSAGE,
    account_title,
)
from nim_widget.quantity import Quantity


def test_catalog_models_and_skipped_entries() -> None:
    models, skipped = parse_catalog(configmap=fixture("catalog.yaml")[0])
    assert [m.key for m in models] == [
        "arctic-embed-l",
        "llama-3.1-8b-instruct",
        "llama-3.2-1b-instruct",
        "llama-3.3-nemotron-super-49b-v1",
        "nv-embedqa-e5-v5-pb24h2",
    ]
    assert [(s.key, s.reason) for s in skipped] == [
        ("catalog/broken-json", "the value is not valid JSON (Expecting value at position 53)"),
        ("catalog/no-namespace", '"namespace" is missing or not a string'),
        ("catalog/tags-not-a-list", '"tags" is missing or not a list'),
    ]
    llama = models[1]
    assert llama.display_name == "Llama-3.1-8b-instruct"
    assert llama.repository == "nvcr.io/nim/meta/llama-3.1-8b-instruct"
    assert llama.image(tag="1.2") == "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.2"
    team = models[4]
    assert team.namespace == "nvaie/nim-embedding"
    assert team.image_name == "nv-embedqa-e5-v5-pb24h2"


def test_tags_latest_first_and_never_padded() -> None:
    models, _ = parse_catalog(configmap=fixture("catalog.yaml")[0])
    by_key = {m.key: m for m in models}
    assert by_key["llama-3.1-8b-instruct"].tags == (
        "1.2.2",
        "1.2",
        "1.1.2",
        "1.1.1",
        "1.1.0",
        "1.1",
        "1",
        "latest",
    )
    assert by_key["llama-3.2-1b-instruct"].tags == ("1.12.0", "1.8.3", "1.8")
    assert by_key["llama-3.3-nemotron-super-49b-v1"].tags == ("1.10", "1.8.2")
    assert by_key["llama-3.3-nemotron-super-49b-v1"].default_tag == "1.10"


@pytest.mark.parametrize(
    ("tags", "latest", "expected"),
    [
        (["1.0.0", "1.10.0", "1.9.0"], None, ("1.10.0", "1.9.0", "1.0.0")),
        (
            ["latest", "1.0", "v2.0.0", "1.0.0-rc1", "1.0.0"],
            "1.0",
            ("1.0", "v2.0.0", "1.0.0", "1.0.0-rc1", "latest"),
        ),
        (["1.0.0", "1.0.0", ""], None, ("1.0.0",)),
        (["1.0.0"], "1.0.1", ("1.0.1", "1.0.0")),
    ],
)
def test_order_tags(tags: list[str], latest: str | None, expected: tuple[str, ...]) -> None:
    assert order_tags(tags=tags, latest_tag=latest) == expected


def test_catalog_entry_fallbacks_and_missing_data() -> None:
    configmap = {
        "data": {
            "bare": json.dumps({"namespace": "/nim/acme/", "tags": ["1.0", 7]}),
            "no-tags": json.dumps({"namespace": "nim/acme", "tags": []}),
            "not-object": "[1, 2]",
        }
    }
    models, skipped = parse_catalog(configmap=configmap)
    assert [(m.key, m.name, m.display_name, m.namespace, m.tags) for m in models] == [
        ("bare", "bare", "bare", "nim/acme", ("1.0",))
    ]
    assert [s.reason for s in skipped] == ["the model has no tags", "the value is not a JSON object"]
    assert parse_catalog(configmap=None) == ((), ())
    assert parse_catalog(configmap={"metadata": {}}) == ((), ())


def _account(conditions: list[dict[str, str]], **status: Any) -> dict[str, Any]:
    account = copy.deepcopy(fixture("account-project.yaml")[0])
    account["status"] = {"conditions": conditions, **status}
    return account


def test_account_states_follow_the_wizard() -> None:
    ready = fixture("account-project.yaml")[0]
    assert derive_account_state(account=ready, now=NOW) == ("ready", (ACCOUNT_READY_MESSAGE,))
    assert derive_account_state(account=None, now=NOW) == ("not_found", ())
    failed = _account(
        [
            {"type": "APIKeyValidation", "status": "False", "message": "api key failed validation"},
            {"type": "AccountStatus", "status": "False", "message": "api key failed validation"},
            {"type": "TemplateUpdate", "status": "False", "message": "runtime template reconcile failed"},
        ]
    )
    assert derive_account_state(account=failed, now=NOW) == (
        "error",
        ("api key failed validation", "runtime template reconcile failed"),
    )
    silent = _account([{"type": "APIKeyValidation", "status": "False"}])
    assert derive_account_state(account=silent, now=NOW) == ("error", ("API key failed validation.",))
    other = _account(
        [{"type": "ConfigMapUpdate", "status": "False", "message": "nim config reconciliation failed"}],
        lastAccountCheck="2026-08-22T09:59:00Z",
    )
    assert derive_account_state(account=other, now=NOW) == ("error", ("nim config reconciliation failed",))
    checking = _account(
        [{"type": "APIKeyValidation", "status": "Unknown"}], lastAccountCheck="2026-08-22T09:56:00Z"
    )
    assert derive_account_state(account=checking, now=NOW) == ("pending", ACCOUNT_PENDING_MESSAGES)
    assert derive_account_state(account=checking, now=NOW + timedelta(minutes=2)) == (
        "error",
        (ACCOUNT_TIMEOUT_MESSAGE,),
    )


def test_pending_age_falls_back_to_creation_time() -> None:
    fresh = _account([])
    fresh["metadata"]["creationTimestamp"] = "2026-08-22T09:57:00Z"
    assert derive_account_state(account=fresh, now=NOW)[0] == "pending"
    fresh["metadata"]["creationTimestamp"] = "2026-08-22T09:54:59Z"
    assert derive_account_state(account=fresh, now=NOW)[0] == "error"
    del fresh["status"]
    assert derive_account_state(account=fresh, now=NOW) == ("error", (ACCOUNT_TIMEOUT_MESSAGE,))


def test_parse_account_reads_the_status_references() -> None:
    account = parse_account(account=fixture("account-project.yaml")[0], now=NOW)
    assert (account.name, account.namespace, account.state) == ("odh-nim-account", "my-project", "ready")
    assert (
        account.template_name,
        account.config_name,
        account.pull_secret_name,
        account.api_key_secret_name,
    ) == ("odh-nim-account-template", "odh-nim-account-cm", "odh-nim-account-pull", "nvidia-nim-secrets")
    assert account.title == ACCOUNT_READY_MESSAGE
    assert account_title("error") == "Invalid NIM API key" and account_title("not_found") == "No NIM API key"


def test_template_conversion_copies_the_api_protocol() -> None:
    template = parse_template(template=fixture("template.yaml")[0], namespace="my-project")
    runtime = template.serving_runtime
    assert (template.name, template.namespace, template.display_name) == (
        "odh-nim-account-template",
        "my-project",
        "NVIDIA NIM",
    )
    assert runtime["metadata"]["annotations"]["opendatahub.io/apiProtocol"] == "REST"
    assert template.api_key_secret_names() == ("nvidia-nim-secrets",)
    assert template.pull_secret_names() == ("ngc-secret",)


def _broken(change: Any) -> dict[str, Any]:
    template = copy.deepcopy(fixture("template.yaml")[0])
    change(template)
    return template


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        (None, ""),
        (_broken(lambda t: t.update(objects=[])), " (the Template has no objects)"),
        (
            _broken(lambda t: t["objects"][0].update(kind="Deployment")),
            " (its first object is not a ServingRuntime)",
        ),
        (
            _broken(lambda t: t["objects"][0]["spec"].pop("supportedModelFormats")),
            " (the ServingRuntime lacks containers or supportedModelFormats)",
        ),
        (
            _broken(lambda t: t["objects"][0]["spec"]["containers"][0].update(name="main")),
            " (the ServingRuntime has no kserve-container)",
        ),
    ],
)
def test_unusable_templates(template: dict[str, Any] | None, reason: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        parse_template(template=template, namespace="my-project")
    assert str(caught.value) == "Unable to find NIM ServingRuntime Template in namespace my-project" + reason


def test_air_gapped_template_needs_no_secrets() -> None:
    def air_gap(template: dict[str, Any]) -> None:
        spec = template["objects"][0]["spec"]
        spec.pop("imagePullSecrets")
        spec["containers"][0]["env"] = [e for e in spec["containers"][0]["env"] if e["name"] != "NGC_API_KEY"]

    template = parse_template(template=_broken(air_gap), namespace="my-project")
    assert template.api_key_secret_names() == () and template.pull_secret_names() == ()


def test_hardware_profiles_visibility_and_quantities() -> None:
    profiles, skipped = parse_hardware_profiles(objs=fixture("hardware-profiles.yaml"))
    assert skipped == ()
    assert [(p.ref, p.enabled, p.visible_for_model_serving) for p in profiles] == [
        ("my-project/team-a100", True, True),
        ("opendatahub/default-profile", True, True),
        ("opendatahub/notebook-large", True, False),
        ("opendatahub/nvidia-gpu-small", True, True),
        ("opendatahub/retired-v100", False, True),
    ]
    gpu = profiles[3]
    assert gpu.display_name == "NVIDIA GPU (1x)" and gpu.resource_version == "1309350"
    memory = gpu.identifier("memory")
    assert (
        memory is not None
        and memory.min_count == Quantity.parse("4096Mi")
        and memory.default_count.text == "16Gi"
    )
    assert gpu.resources(requests={"cpu": "6"}) == {
        "requests": {"cpu": "6", "memory": "16Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
    }
    assert gpu.tolerations == ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},)
    assert [p.ref for p in world().selectable_hardware_profiles] == [
        "opendatahub/default-profile",
        "opendatahub/nvidia-gpu-small",
        "my-project/team-a100",
    ]


def test_malformed_profiles_are_skipped_with_a_reason() -> None:
    bad = {
        "metadata": {"name": "bad", "namespace": "opendatahub"},
        "spec": {"identifiers": [{"identifier": "cpu", "minCount": "one", "defaultCount": 1}]},
    }
    profiles, skipped = parse_hardware_profiles(objs=[bad, fixture("hardware-profiles.yaml")[0]])
    assert [p.name for p in profiles] == ["nvidia-gpu-small"]
    assert skipped[0].key == "hardwareprofile/opendatahub/bad"
    assert skipped[0].reason.startswith('identifier cpu: "one" is not a quantity')


@pytest.mark.parametrize(
    ("annotation", "visible"),
    [
        (None, True),
        ("[]", True),
        ('["model-serving", "workbench"]', True),
        ('["workbench"]', False),
        ("{oops", True),
    ],
)
def test_feature_visibility(annotation: str | None, visible: bool) -> None:
    annotations: dict[str, str] = {}
    if annotation is not None:
        annotations["opendatahub.io/dashboard-feature-visibility"] = annotation
    obj = {
        "metadata": {"name": "p", "namespace": "n", "annotations": annotations},
        "spec": {"identifiers": []},
    }
    assert parse_hardware_profile(obj=obj).visible_for_model_serving is visible


def test_storage_class_default_prefers_the_openshift_ai_admin_default() -> None:
    classes, default = parse_storage_classes(objs=fixture("storage-classes.yaml"))
    assert default == "gp3-csi"
    assert [(c.name, c.display_name, c.is_default, c.allows_expansion) for c in classes] == [
        ("gp3-csi", "gp3-csi", True, True),
        ("nfs-client", "Shared NFS", False, False),
    ]
    admin = copy.deepcopy(fixture("storage-classes.yaml"))
    admin[1]["metadata"]["annotations"]["opendatahub.io/sc-config"] = json.dumps(
        {"isDefault": True, "isEnabled": True}
    )
    assert parse_storage_classes(objs=admin)[1] == "nfs-client"
    assert parse_storage_classes(objs=[])[1] is None


def test_pvcs_nim_caches_first_with_subpath_and_users() -> None:
    pvcs = parse_pvcs(
        pvcs=fixture("pvcs.yaml"),
        serving_runtimes=[o for o in fixture("existing.yaml") if o["kind"] == "ServingRuntime"],
    )
    assert [(p.name, p.is_nim_cache, p.sub_path, p.used_by) for p in pvcs] == [
        ("arctic-cache", True, None, ("arctic",)),
        ("shared-nim-cache", True, "llama-3.1-8b-instruct", ()),
        ("notebook-data", False, None, ()),
    ]
    shared = pvcs[1]
    assert (
        shared.size == Quantity.parse("100Gi")
        and shared.phase == "Bound"
        and shared.storage_class == "gp3-csi"
    )
    assert shared.display_name == "Shared NIM cache"
    assert shared.created == datetime(2026, 8, 10, 9, 0, tzinfo=UTC)
    assert shared.access_modes == ("ReadWriteOnce",)
