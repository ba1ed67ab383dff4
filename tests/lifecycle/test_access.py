"""Model access: the dashboard's token-authentication objects (reference B.7), URL, token and curl."""

from __future__ import annotations

import base64
import shlex
from collections.abc import Callable
from typing import Any

import pytest

from lifecycle.conftest import FollowRun, ready
from nim_widget.cluster.api import Api
from nim_widget.cluster.errors import Forbidden
from nim_widget.lifecycle.access import MASK, build_access_objects, enable_model_access, model_access
from nim_widget.request import DeploymentRequest
from nim_widget.sandbox import Rule, Sandbox

Follow = Callable[..., FollowRun]
RBAC = "rbac.authorization.k8s.io/v1"


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as written: server-set metadata and defaults removed."""
    meta = dict(obj["metadata"])
    for key in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
        meta.pop(key, None)
    out = {k: v for k, v in obj.items() if k not in ("status",)}
    out["metadata"] = meta
    return out


def test_objects_match_the_reference(api: Api, sandbox: Sandbox, deployed: DeploymentRequest) -> None:
    sandbox.log.clear()
    change = enable_model_access(api=api, namespace="demo", name=deployed.name)
    assert change.created == (
        "ServiceAccount llama-small-sa",
        "Role llama-small-view-role",
        "RoleBinding llama-small-view",
        "Secret default-token-llama-small-sa",
    )
    isvc = api.get(
        api_version="serving.kserve.io/v1beta1", kind="InferenceService", name="llama-small", namespace="demo"
    )
    owner = [
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "name": "llama-small",
            "uid": isvc["metadata"]["uid"],
            "blockOwnerDeletion": False,
        }
    ]
    assert isvc["metadata"]["labels"]["networking.kserve.io/visibility"] == "exposed"
    assert isvc["metadata"]["annotations"]["security.opendatahub.io/enable-auth"] == "true"

    sa = api.get(api_version="v1", kind="ServiceAccount", name="llama-small-sa", namespace="demo")
    assert _strip(sa) == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "llama-small-sa", "namespace": "demo", "ownerReferences": owner},
    }
    role = api.get(api_version=RBAC, kind="Role", name="llama-small-view-role", namespace="demo")
    assert _strip(role) == {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": {
            "name": "llama-small-view-role",
            "namespace": "demo",
            "labels": {"opendatahub.io/dashboard": "true"},
            "ownerReferences": owner,
        },
        "rules": [
            {
                "verbs": ["get"],
                "apiGroups": ["serving.kserve.io"],
                "resources": ["inferenceservices"],
                "resourceNames": ["llama-small"],
            }
        ],
    }
    binding = api.get(api_version=RBAC, kind="RoleBinding", name="llama-small-view", namespace="demo")
    assert _strip(binding) == {
        "apiVersion": RBAC,
        "kind": "RoleBinding",
        "metadata": {
            "name": "llama-small-view",
            "namespace": "demo",
            "labels": {"opendatahub.io/dashboard": "true"},
            "ownerReferences": owner,
        },
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "llama-small-view-role"},
        "subjects": [{"kind": "ServiceAccount", "name": "llama-small-sa"}],
    }
    token = api.get(api_version="v1", kind="Secret", name="default-token-llama-small-sa", namespace="demo")
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["labels"] == {"opendatahub.io/dashboard": "true"}
    assert token["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": "llama-small-sa",
        "openshift.io/display-name": "default-token",
    }
    assert token["metadata"]["ownerReferences"] == owner

    writes = [
        (e.verb, e.resource, e.dry_run)
        for e in sandbox.log.writes()
        if e.resource != "selfsubjectaccessreviews"
    ]
    dry = [w for w in writes if w[2]]
    real = [w for w in writes if not w[2]]
    assert writes.index(real[0]) > writes.index(dry[-1])  # every write dry-run first
    order = [r for _, r, _ in real]  # the dashboard's order: SA and Role together, then the rest
    assert sorted(order[:2]) == ["roles", "serviceaccounts"]
    assert order[2:] == ["rolebindings", "secrets", "inferenceservices"]
    assert next(e for e in sandbox.log.writes() if e.resource == "inferenceservices").content_type == (
        "application/json-patch+json"
    )

    again = enable_model_access(api=api, namespace="demo", name=deployed.name)
    assert again.created == () and len(again.reused) == 4


def test_named_tokens_follow_the_dashboard_rule(api: Api, deployed: DeploymentRequest) -> None:
    isvc = api.get(
        api_version="serving.kserve.io/v1beta1", kind="InferenceService", name="llama-small", namespace="demo"
    )
    objects = build_access_objects(inference_service=isvc, tokens=("My CI Token",))
    assert objects[-1]["metadata"]["name"] == "my-ci-token-llama-small-sa"
    assert objects[-1]["metadata"]["annotations"]["openshift.io/display-name"] == "My CI Token"


def test_without_permission_nothing_is_written(
    api: Api, sandbox: Sandbox, deployed: DeploymentRequest
) -> None:
    sandbox.access.set_rules(
        [  # everything but creating RoleBindings
            Rule.of(verbs=("get", "list", "watch", "update", "patch", "delete")),
            Rule.of(
                verbs="create", resources=("selfsubjectaccessreviews", "serviceaccounts", "roles", "secrets")
            ),
        ]
    )
    sandbox.log.clear()
    with pytest.raises(Forbidden) as caught:
        enable_model_access(api=api, namespace="demo", name=deployed.name)
    assert "can only be changed by administrator users" in str(caught.value)
    assert [e for e in sandbox.log.writes() if e.resource != "selfsubjectaccessreviews"] == []


def test_after_readiness_url_token_and_curl(
    api: Api, sandbox: Sandbox, deployed: DeploymentRequest, follow: Follow
) -> None:
    enable_model_access(api=api, namespace="demo", name=deployed.name)
    follow(deployed.name).advance_until(ready)
    # the token controller of a real cluster fills the token Secret; the sandbox has none, so we do
    secret = api.get(api_version="v1", kind="Secret", name="default-token-llama-small-sa", namespace="demo")
    secret["data"] = {"token": base64.b64encode(b"eyJhbGciOi.test-token.sig").decode()}
    api.replace(body=secret)

    info = model_access(api=api, namespace="demo", name=deployed.name)
    assert info.url == "https://llama-small-demo.apps.sandbox.local"
    assert info.internal_url == "https://llama-small-predictor.demo.svc.cluster.local:8443"
    assert info.external and info.token_auth
    assert info.served_model == "meta/llama-3.2-1b-instruct"
    (token,) = info.tokens
    assert token.masked == MASK == "•" * 40
    assert (
        "test-token" not in repr(info) and "test-token" not in repr(token) and "test-token" not in str(token)
    )
    masked = info.curl()
    assert "test-token" not in masked and '"Authorization: Bearer $TOKEN"' in masked
    assert info.to_dict()["tokens"] == [{"secret": "default-token-llama-small-sa", "token": MASK}]
    revealed = info.curl(reveal=True)
    words = shlex.split(revealed.replace("\\\n", " "))
    assert words[:3] == ["curl", "-sS", "https://llama-small-demo.apps.sandbox.local/v1/chat/completions"]
    assert "Authorization: Bearer eyJhbGciOi.test-token.sig" in words
    assert '"model": "meta/llama-3.2-1b-instruct"' in words[-1]
    assert info.curl(models=True).startswith("curl -sS https://llama-small-demo.apps.sandbox.local/v1/models")


def test_access_of_a_private_deployment(api: Api, deployed: DeploymentRequest) -> None:
    info = model_access(api=api, namespace="demo", name=deployed.name)
    assert not info.external and not info.token_auth and info.tokens == ()
    assert "Authorization" not in info.curl()
