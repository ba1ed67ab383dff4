"""Discovery: what generic clients (DynamicClient, kubectl) read to find the sandbox's kinds."""

from __future__ import annotations

from typing import Any

AGGREGATED_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


def test_version_reports_a_1_32_server(raw: Any) -> None:
    resp = raw.get("/version")
    assert resp.status == 200
    assert resp.json["major"] == "1" and resp.json["minor"] == "32"
    assert resp.json["gitVersion"].startswith("v1.32.")


def test_api_lists_v1_and_the_server_address(raw: Any, sandbox: Any) -> None:
    resp = raw.get("/api")
    assert resp.status == 200
    assert resp.json["kind"] == "APIVersions"
    assert resp.json["versions"] == ["v1"]
    assert resp.json["serverAddressByClientCIDRs"][0]["serverAddress"] == sandbox.url.split("//")[1]


def test_core_resource_list_has_names_kinds_verbs_and_short_names(raw: Any) -> None:
    resp = raw.get("/api/v1")
    resources = {r["name"]: r for r in resp.json["resources"]}
    assert resp.json["groupVersion"] == "v1"
    assert resources["persistentvolumeclaims"]["shortNames"] == ["pvc"]
    assert resources["persistentvolumeclaims"]["singularName"] == "persistentvolumeclaim"
    assert resources["namespaces"]["namespaced"] is False
    assert resources["secrets"]["kind"] == "Secret"
    assert "watch" in resources["configmaps"]["verbs"]
    assert resources["pods/status"]["verbs"] == ["get", "patch", "update"]
    for plural in (
        "namespaces",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "serviceaccounts",
        "pods",
        "events",
        "nodes",
    ):
        assert plural in resources


def test_apis_lists_every_group_with_its_preferred_version(raw: Any) -> None:
    groups = {g["name"]: g for g in raw.get("/apis").json["groups"]}
    assert set(groups) >= {
        "storage.k8s.io",
        "rbac.authorization.k8s.io",
        "authorization.k8s.io",
        "serving.kserve.io",
        "nim.opendatahub.io",
        "template.openshift.io",
        "infrastructure.opendatahub.io",
        "apps.nvidia.com",
    }
    kserve = groups["serving.kserve.io"]
    assert [v["version"] for v in kserve["versions"]] == ["v1beta1", "v1alpha1"]
    assert kserve["preferredVersion"] == {"groupVersion": "serving.kserve.io/v1beta1", "version": "v1beta1"}


def test_group_document(raw: Any) -> None:
    resp = raw.get("/apis/nim.opendatahub.io")
    assert resp.status == 200
    assert resp.json["kind"] == "APIGroup"
    assert resp.json["preferredVersion"]["groupVersion"] == "nim.opendatahub.io/v1"


def test_custom_resource_list_for_kserve_v1beta1(raw: Any) -> None:
    resp = raw.get("/apis/serving.kserve.io/v1beta1")
    resources = {r["name"]: r for r in resp.json["resources"]}
    isvc = resources["inferenceservices"]
    assert isvc["kind"] == "InferenceService"
    assert isvc["shortNames"] == ["isvc"]
    assert isvc["namespaced"] is True
    assert sorted(isvc["verbs"]) == [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ]
    assert "inferenceservices/status" in resources


def test_self_subject_access_review_is_create_only(raw: Any) -> None:
    resources = raw.get("/apis/authorization.k8s.io/v1").json["resources"]
    assert resources == [
        {
            "name": "selfsubjectaccessreviews",
            "singularName": "selfsubjectaccessreview",
            "namespaced": False,
            "kind": "SelfSubjectAccessReview",
            "verbs": ["create"],
        }
    ]


def test_aggregated_discovery_request_gets_the_legacy_form_as_plain_json(raw: Any) -> None:
    resp = raw.get("/apis", headers={"Accept": AGGREGATED_ACCEPT})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json["kind"] == "APIGroupList"


def test_unknown_group_is_a_plain_404_page(raw: Any) -> None:
    resp = raw.get("/apis/example.com/v1")
    assert resp.status == 404
    assert resp.text == "404 page not found\n"


def test_unknown_resource_in_a_known_group_is_a_not_found_status(raw: Any) -> None:
    resp = raw.get("/apis/serving.kserve.io/v1beta1/namespaces/demo/widgets")
    assert resp.status == 404
    assert resp.json["reason"] == "NotFound"
    assert resp.json["message"] == "the server could not find the requested resource"


def test_openapi_v2_is_not_served(raw: Any) -> None:
    assert raw.get("/openapi/v2").status == 404


def test_dynamic_client_finds_and_lists_inference_services(dynamic_client: Any, sandbox: Any) -> None:
    isvc = dynamic_client.resources.get(api_version="serving.kserve.io/v1beta1", kind="InferenceService")
    assert isvc.namespaced is True
    assert isvc.name == "inferenceservices"
    listed = isvc.get(namespace="demo")
    assert listed.kind == "InferenceServiceList"
    account = dynamic_client.resources.get(api_version="nim.opendatahub.io/v1", kind="Account")
    assert account.get(namespace="demo", name="odh-nim-account").metadata.name == "odh-nim-account"


def test_healthz(raw: Any) -> None:
    resp = raw.get("/healthz")
    assert (resp.status, resp.text) == (200, "ok")
