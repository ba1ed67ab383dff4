"""Access rules, SelfSubjectAccessReview and the bearer token."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from sandbox_objects import SERVING, config_map, inference_service

from nim_widget.sandbox import FakeClock, Rule, Sandbox

ISVC = (SERVING, "v1beta1", "demo", "inferenceservices")


@pytest.fixture
def read_only(sandbox: Sandbox) -> Sandbox:
    sandbox.access.set_rules(
        [
            Rule.of(verbs=("get", "list", "watch")),
            Rule.of(verbs="create", resources="selfsubjectaccessreviews"),
        ]
    )
    return sandbox


def _review(api: client.ApiClient, **attrs: str) -> Any:
    body = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attrs},
    }
    authz: Any = client.AuthorizationV1Api(api)
    return authz.create_self_subject_access_review(body)


def test_denied_create_is_forbidden_without_a_name(
    custom_objects: Any, read_only: Any, status_of: Any
) -> None:
    with pytest.raises(client.ApiException) as err:
        custom_objects.create_namespaced_custom_object(*ISVC, inference_service("x"))
    status = status_of(err.value)
    assert (err.value.status, status["reason"]) == (403, "Forbidden")
    assert status["message"] == (
        'inferenceservices.serving.kserve.io is forbidden: User "demo-user" cannot create '
        'resource "inferenceservices" in API group "serving.kserve.io" in the namespace '
        '"demo"'
    )
    assert status["details"] == {"group": SERVING, "kind": "inferenceservices"}


def test_denied_named_request_quotes_the_name(core_v1: Any, read_only: Any, status_of: Any) -> None:
    with pytest.raises(client.ApiException) as err:
        core_v1.delete_namespaced_secret("nvidia-nim-secrets", "demo")
    assert status_of(err.value)["message"] == (
        'secrets "nvidia-nim-secrets" is forbidden: User "demo-user" cannot delete resource '
        '"secrets" in API group "" '
        'in the namespace "demo"'
    )


def test_denied_cluster_scoped_request_says_cluster_scope(
    core_v1: Any, sandbox: Sandbox, status_of: Any
) -> None:
    sandbox.access.set_rules([Rule.of(namespaces="demo")])
    with pytest.raises(client.ApiException) as err:
        core_v1.list_namespace()
    assert status_of(err.value)["message"] == (
        'namespaces is forbidden: User "demo-user" cannot list resource '
        '"namespaces" in API group "" at the cluster scope'
    )


def test_rules_are_scoped_by_namespace(core_v1: Any, sandbox: Sandbox) -> None:
    sandbox.access.set_rules([Rule.of(resources="configmaps", namespaces="demo")])
    assert core_v1.create_namespaced_config_map("demo", config_map()).metadata.name == "settings"
    with pytest.raises(client.ApiException) as err:
        core_v1.create_namespaced_config_map("opendatahub", config_map())
    assert err.value.status == 403


def test_access_review_answers_allowed_and_denied(api_client: Any, read_only: Any) -> None:
    allowed = _review(api_client, namespace="demo", verb="list", group=SERVING, resource="inferenceservices")
    denied = _review(api_client, namespace="demo", verb="create", group=SERVING, resource="inferenceservices")
    assert allowed.status.allowed is True
    assert denied.status.allowed is False
    assert denied.spec.resource_attributes.verb == "create"


def test_access_review_without_rules_allows_everything(api_client: Any) -> None:
    assert _review(api_client, namespace="demo", verb="delete", resource="secrets").status.allowed is True


def test_access_review_needs_attributes(raw: Any) -> None:
    resp = raw.post(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}},
    )
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert (
        "exactly one of nonResourceAttributes or resourceAttributes must be specified" in resp.json["message"]
    )


def test_missing_token_is_unauthorized() -> None:
    with Sandbox(world=None, clock=FakeClock(), controllers=False, token="s3cret") as sb:
        config = sb.configuration()
        config.api_key = {}
        with pytest.raises(client.ApiException) as err:
            client.CoreV1Api(client.ApiClient(config)).list_namespace()
        assert err.value.status == 401
        body = err.value.body or ""
        assert '"reason":"Unauthorized"' in body and '"message":"Unauthorized"' in body


def test_configured_token_is_accepted() -> None:
    with Sandbox(world=None, clock=FakeClock(), controllers=False, token="s3cret") as sb:
        assert client.CoreV1Api(sb.api_client()).list_namespace().items == []
