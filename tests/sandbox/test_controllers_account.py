"""The "account" controller over HTTP: a NIM Account reconciled like odh-model-controller does it."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from nim_widget.sandbox import FakeClock, Sandbox

NS = "team"
KEY = "nvapi-sandbox-team-key-000000000000000000000000000000000000000000000000"
FINALIZER = "runtimes.opendatahub.io/nim-cleanup-finalizer"
FORCE = "runtimes.opendatahub.io/nim-force-validation"
ACCOUNTS = ("nim.opendatahub.io", "v1")
FAILED = "api key failed validation"


@pytest.fixture(autouse=True)
def _no_controller_failures(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING, logger="nim_widget.sandbox")
    yield
    failures = [r.getMessage() for r in caplog.records if r.name.startswith("nim_widget.sandbox")]
    assert failures == []


class Project:
    """A project namespace in the demo world, seen through the official client."""

    def __init__(self, sb: Sandbox, clock: FakeClock) -> None:
        api = sb.api_client()
        self.clock = clock
        self.core: Any = client.CoreV1Api(api)
        self.custom: Any = client.CustomObjectsApi(api)

    def create(
        self, *, key: str | None = KEY, secret: str = "nvidia-nim-secrets", namespace: str = NS
    ) -> None:
        if namespace != "demo":
            self.core.create_namespace(
                {"metadata": {"name": namespace, "labels": {"opendatahub.io/dashboard": "true"}}}
            )
        if key is not None:
            self.key_secret(key, namespace=namespace)
        self.custom.create_namespaced_custom_object(
            *ACCOUNTS,
            namespace,
            "accounts",
            {
                "apiVersion": "nim.opendatahub.io/v1",
                "kind": "Account",
                "metadata": {"name": "odh-nim-account", "labels": {"opendatahub.io/managed": "true"}},
                "spec": {"apiKeySecret": {"name": secret}},
            },
        )

    def key_secret(self, key: str, *, namespace: str = NS, name: str = "nvidia-nim-secrets") -> None:
        self.core.create_namespaced_secret(
            namespace,
            {
                "metadata": {"name": name, "labels": {"opendatahub.io/managed": "true"}},
                "stringData": {"api_key": key, "NGC_API_KEY": key},
            },
        )

    def replace_key(self, key: str, *, namespace: str = NS) -> None:
        """What the dashboard's "replace API key" does: same Secret, new key, force a validation."""
        secret = self.core.read_namespaced_secret("nvidia-nim-secrets", namespace)
        body = {
            "metadata": {
                "name": "nvidia-nim-secrets",
                "resourceVersion": secret.metadata.resource_version,
                "labels": {"opendatahub.io/managed": "true"},
                "annotations": {FORCE: "2026-01-01T00:10:00.000Z"},
            },
            "type": "Opaque",
            "stringData": {"api_key": key, "NGC_API_KEY": key},
        }
        self.core.replace_namespaced_secret("nvidia-nim-secrets", namespace, body)

    def account(self, namespace: str = NS) -> dict[str, Any]:
        return dict(
            self.custom.get_namespaced_custom_object(*ACCOUNTS, namespace, "accounts", "odh-nim-account")
        )

    def status(self, namespace: str = NS) -> dict[str, Any]:
        return dict(self.account(namespace).get("status") or {})

    def conditions(self, namespace: str = NS) -> list[tuple[str, str, str, str]]:
        return [
            (c["type"], c["status"], c["reason"], c["message"])
            for c in self.status(namespace).get("conditions", [])
        ]

    def template(self, namespace: str = NS) -> dict[str, Any]:
        return dict(
            self.custom.get_namespaced_custom_object(
                "template.openshift.io", "v1", namespace, "templates", "odh-nim-account-template"
            )
        )

    def exists(self, read: Callable[[], Any]) -> bool:
        try:
            read()
        except ApiException as exc:
            assert exc.status == 404
            return False
        return True

    def owned(self, namespace: str = NS) -> dict[str, bool]:
        return {
            "cm": self.exists(lambda: self.core.read_namespaced_config_map("odh-nim-account-cm", namespace)),
            "template": self.exists(lambda: self.template(namespace)),
            "pull": self.exists(lambda: self.core.read_namespaced_secret("odh-nim-account-pull", namespace)),
        }

    def until(self, check: Callable[[], Any], *, within: float = 60.0) -> None:
        spent = 0.0
        while not check():
            assert spent < within, f"not reached within {within}s"
            self.clock.advance(0.25)
            spent += 0.25


@pytest.fixture
def project() -> Iterator[Project]:
    clock = FakeClock()
    with Sandbox(world="demo", clock=clock, controllers=True) as sb:
        yield Project(sb, clock)


def _types(p: Project) -> list[str]:
    return [c[0] for c in p.conditions()]


def test_a_new_account_is_reconciled_step_by_step(project: Project) -> None:
    p = project
    p.create()
    p.until(lambda: FINALIZER in (p.account()["metadata"].get("finalizers") or []))
    assert p.status() == {}

    p.until(lambda: p.conditions())
    assert p.conditions() == [
        ("APIKeyValidation", "True", "ApiKeyValidated", "api key validated successfully")
    ]
    status = p.status()
    assert status["lastSuccessfulValidation"] == status["conditions"][0]["lastTransitionTime"]
    assert status["conditions"][0]["observedGeneration"] == 1
    assert p.owned() == {"cm": False, "template": False, "pull": False}

    p.until(lambda: "ConfigMapUpdate" in _types(p))
    cm = p.core.read_namespaced_config_map("odh-nim-account-cm", NS)
    demo_cm = p.core.read_namespaced_config_map("odh-nim-account-cm", "demo")
    assert cm.data == demo_cm.data
    assert len(cm.data) >= 15
    account = p.account()
    uid = account["metadata"]["uid"]
    owner = {
        "api_version": "nim.opendatahub.io/v1",
        "kind": "Account",
        "name": "odh-nim-account",
        "uid": uid,
        "controller": True,
        "block_owner_deletion": True,
    }
    assert [r.to_dict() for r in cm.metadata.owner_references] == [owner]
    assert cm.metadata.labels == {"opendatahub.io/managed": "true"}
    status = account["status"]
    assert status["nimConfig"] == {
        "kind": "ConfigMap",
        "namespace": NS,
        "name": "odh-nim-account-cm",
        "uid": cm.metadata.uid,
        "apiVersion": "v1",
        "resourceVersion": cm.metadata.resource_version,
    }
    assert p.conditions()[-1] == (
        "ConfigMapUpdate",
        "True",
        "ConfigMapUpdated",
        "nim config reconciled successfully",
    )
    assert status["lastSuccessfulConfigRefresh"]

    p.until(lambda: "TemplateUpdate" in _types(p))
    template = p.template()
    assert template["metadata"]["labels"] == {"opendatahub.io/managed": "true"}
    assert template["metadata"]["annotations"] == {
        "opendatahub.io/apiProtocol": "REST",
        "opendatahub.io/modelServingSupport": '["single"]',
    }
    assert template["metadata"]["ownerReferences"][0]["uid"] == uid
    assert template["objects"] == p.template("demo")["objects"]
    assert p.status()["runtimeTemplate"]["name"] == "odh-nim-account-template"

    p.until(lambda: "AccountStatus" in _types(p))
    pull = p.core.read_namespaced_secret("odh-nim-account-pull", NS)
    assert pull.type == "kubernetes.io/dockerconfigjson"
    assert json.loads(base64.b64decode(pull.data[".dockerconfigjson"])) == {
        "auths": {"nvcr.io": {"password": KEY, "username": "$oauthtoken"}}
    }
    assert [r.uid for r in pull.metadata.owner_references] == [uid]
    assert p.conditions() == [
        ("APIKeyValidation", "True", "ApiKeyValidated", "api key validated successfully"),
        ("ConfigMapUpdate", "True", "ConfigMapUpdated", "nim config reconciled successfully"),
        ("TemplateUpdate", "True", "TemplateUpdated", "runtime template reconciled successfully"),
        ("SecretUpdate", "True", "SecretUpdated", "pull secret reconciled successfully"),
        ("AccountStatus", "True", "AccountSuccessful", "the account is healthy"),
    ]
    status = p.status()
    assert status["nimPullSecret"]["name"] == "odh-nim-account-pull"
    assert status["lastAccountCheck"] == status["conditions"][-1]["lastTransitionTime"]

    # healthy now, and left alone from here on
    rv = p.account()["metadata"]["resourceVersion"]
    p.clock.advance(3600)
    assert p.account()["metadata"]["resourceVersion"] == rv


def test_the_seeded_demo_account_is_left_alone(project: Project) -> None:
    p = project
    before = p.account("demo")
    owned = {
        "cm": p.core.read_namespaced_config_map("odh-nim-account-cm", "demo").metadata.resource_version,
        "pull": p.core.read_namespaced_secret("odh-nim-account-pull", "demo").metadata.resource_version,
        "template": p.template("demo")["metadata"]["resourceVersion"],
    }
    p.clock.advance(600)
    assert p.account("demo") == before
    assert (
        p.core.read_namespaced_config_map("odh-nim-account-cm", "demo").metadata.resource_version
        == owned["cm"]
    )
    assert (
        p.core.read_namespaced_secret("odh-nim-account-pull", "demo").metadata.resource_version
        == owned["pull"]
    )
    assert p.template("demo")["metadata"]["resourceVersion"] == owned["template"]


def test_a_rejected_key_cleans_up_and_a_replaced_key_recovers(project: Project) -> None:
    p = project
    p.create(key="nvapi-invalid-key-for-the-sandbox")
    p.until(lambda: p.conditions())
    assert p.conditions() == [
        ("APIKeyValidation", "False", "ApiKeyNotValidated", FAILED),
        ("AccountStatus", "False", "AccountNotSuccessful", FAILED),
        ("TemplateUpdate", "Unknown", "NotReconciled", FAILED),
        ("SecretUpdate", "Unknown", "NotReconciled", FAILED),
        ("ConfigMapUpdate", "Unknown", "NotReconciled", FAILED),
    ]
    status = p.status()
    assert status["lastAccountCheck"]
    assert not {"nimConfig", "runtimeTemplate", "nimPullSecret"} & set(status)
    assert p.owned() == {"cm": False, "template": False, "pull": False}
    rv = p.account()["metadata"]["resourceVersion"]
    p.clock.advance(600)  # a rejected key is not retried on its own
    assert p.account()["metadata"]["resourceVersion"] == rv

    p.replace_key(KEY)
    p.until(
        lambda: ("AccountStatus", "True", "AccountSuccessful", "the account is healthy") in p.conditions()
    )
    assert p.owned() == {"cm": True, "template": True, "pull": True}
    annotations = p.core.read_namespaced_secret("nvidia-nim-secrets", NS).metadata.annotations or {}
    assert FORCE not in annotations  # the controller removes the annotation once it has validated


def test_replacing_the_demo_key_with_a_rejected_one_deletes_the_accounts_objects(project: Project) -> None:
    p = project
    assert p.owned("demo") == {"cm": True, "template": True, "pull": True}
    p.replace_key("nvapi-invalid", namespace="demo")
    p.until(lambda: ("APIKeyValidation", "False", "ApiKeyNotValidated", FAILED) in p.conditions("demo"))
    assert p.owned("demo") == {"cm": False, "template": False, "pull": False}
    assert "nimConfig" not in p.status("demo")


def test_an_account_waits_for_its_key_secret(project: Project) -> None:
    p = project
    p.create(key=None)
    p.clock.advance(30)
    assert p.account()["metadata"]["finalizers"] == [FINALIZER]
    assert p.status() == {}
    p.key_secret(KEY)
    p.until(
        lambda: ("AccountStatus", "True", "AccountSuccessful", "the account is healthy") in p.conditions()
    )


def test_a_key_secret_without_api_key_fails_the_account(project: Project) -> None:
    p = project
    p.create(key=None)
    p.core.create_namespaced_secret(
        NS, {"metadata": {"name": "nvidia-nim-secrets"}, "stringData": {"other": "x"}}
    )
    message = "failed to find api key data in secret"
    p.until(lambda: p.conditions())
    assert p.conditions() == [
        ("AccountStatus", "False", "AccountNotSuccessful", message),
        ("TemplateUpdate", "Unknown", "NotReconciled", message),
        ("SecretUpdate", "Unknown", "NotReconciled", message),
        ("ConfigMapUpdate", "Unknown", "NotReconciled", message),
        ("APIKeyValidation", "Unknown", "NotReconciled", message),
    ]


def test_deleting_an_account_cleans_up_before_the_finalizer_goes(project: Project) -> None:
    p = project
    p.custom.delete_namespaced_custom_object(*ACCOUNTS, "demo", "accounts", "odh-nim-account")
    terminating = p.account("demo")
    assert terminating["metadata"]["deletionTimestamp"]
    assert terminating["metadata"]["finalizers"] == [FINALIZER]
    p.clock.advance(1)
    assert not p.exists(lambda: p.account("demo"))
    assert p.owned("demo") == {"cm": False, "template": False, "pull": False}


def test_switched_off_the_account_controller_does_nothing() -> None:
    clock = FakeClock()
    with Sandbox(world="demo", clock=clock, controllers=["storage", "inference"]) as sb:
        p = Project(sb, clock)
        p.create()
        clock.advance(120)
        account = p.account()
        assert "finalizers" not in account["metadata"]
        assert "status" not in account
        assert p.owned() == {"cm": False, "template": False, "pull": False}
