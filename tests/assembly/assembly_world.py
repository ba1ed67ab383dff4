"""Cluster facts for the assembly tests, built from the YAML fixtures next to this file.

The facts go through the same pure parsers discovery uses (`catalog.facts_from_objects`), but from
checked-in objects, not from the sandbox: these tests pin the builders, not the cluster layer.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from nim_widget.catalog import facts_from_objects
from nim_widget.facts import ClusterFacts

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = "my-project"
DASHBOARD_NAMESPACE = "opendatahub"
NOW = datetime(2026, 8, 22, 10, 0, 0, tzinfo=UTC)

# The fake NGC keys in fixtures/secrets.yaml, in every form a leak could take.
PROJECT_KEY = "nvapi-GOLDEN-test-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"
CLUSTER_KEY = "nvapi-CLUSTER-test-key-9876543210zyxwvutsrqponmlkjihgfedcba-KLMNOPQRST"


def key_forms(key: str) -> list[str]:
    """The key itself, base64 of it, and base64 of the dockerconfigjson made from it."""
    config = json.dumps(
        {"auths": {"nvcr.io": {"password": key, "username": "$oauthtoken"}}}, separators=(",", ":")
    )
    return [key, base64.b64encode(key.encode()).decode(), base64.b64encode(config.encode()).decode()]


AccountKind = Literal["project", "cluster", "none"]


@functools.cache
def _parsed(name: str) -> tuple[dict[str, Any], ...]:
    with open(FIXTURES / name, encoding="utf-8") as handle:
        return tuple(doc for doc in yaml.safe_load_all(handle) if doc is not None)


def fixture(name: str) -> list[dict[str, Any]]:
    """A fresh copy of the objects in fixtures/<name>, so no test can change another's input."""
    return copy.deepcopy(list(_parsed(name)))


def _in_namespace(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    result = copy.deepcopy(obj)
    result["metadata"]["namespace"] = namespace
    return result


def _secret(namespace: str, name: str) -> dict[str, Any]:
    for secret in fixture("secrets.yaml"):
        if secret["metadata"]["namespace"] == namespace and secret["metadata"]["name"] == name:
            return secret
    raise KeyError(f"{namespace}/{name}")


def objects(
    *,
    account: AccountKind = "project",
    project_secrets: tuple[str, ...] | None = None,
    with_existing: bool = False,
) -> dict[str, Any]:
    """The keyword arguments for `facts_from_objects`, as discovery would gather them."""
    template = fixture("template.yaml")[0]
    catalog = fixture("catalog.yaml")[0]
    account_obj: dict[str, Any] | None
    if account == "project":
        account_obj = fixture("account-project.yaml")[0]
        key_secret, pull = _secret(PROJECT, "nvidia-nim-secrets"), _secret(PROJECT, "odh-nim-account-pull")
        default_secrets: tuple[str, ...] = ("nvidia-nim-secrets", "odh-nim-account-pull")
    elif account == "cluster":
        account_obj = fixture("account-cluster.yaml")[0]
        template = _in_namespace(template, DASHBOARD_NAMESPACE)
        catalog = _in_namespace(catalog, DASHBOARD_NAMESPACE)
        key_secret = _secret(DASHBOARD_NAMESPACE, "nvidia-nim-access")
        pull = _secret(DASHBOARD_NAMESPACE, "odh-nim-account-pull")
        default_secrets = ()
    else:
        account_obj, key_secret, pull, default_secrets = None, None, None, ()
    existing = fixture("existing.yaml") if with_existing else []
    return {
        "project": PROJECT,
        "now": NOW,
        "account": account_obj,
        "template": template if account_obj is not None else None,
        "catalog": catalog if account_obj is not None else None,
        "api_key_secret": key_secret,
        "pull_secret": pull,
        "hardware_profiles": fixture("hardware-profiles.yaml"),
        "storage_classes": fixture("storage-classes.yaml"),
        "pvcs": fixture("pvcs.yaml"),
        "serving_runtimes": [o for o in existing if o["kind"] == "ServingRuntime"],
        "inference_services": [o for o in existing if o["kind"] == "InferenceService"],
        "secret_names": default_secrets if project_secrets is None else project_secrets,
    }


def world(
    *,
    account: AccountKind = "project",
    project_secrets: tuple[str, ...] | None = None,
    with_existing: bool = False,
) -> ClusterFacts:
    return facts_from_objects(
        **objects(account=account, project_secrets=project_secrets, with_existing=with_existing)
    )
