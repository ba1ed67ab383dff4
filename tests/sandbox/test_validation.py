"""Validation a real server does in Go: names, labels, annotations, Secrets, PVCs, quantities, fields."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sandbox_objects import SERVING, config_map, inference_service, pvc

CM_URL = "/api/v1/namespaces/demo/configmaps"
SECRETS = "/api/v1/namespaces/demo/secrets"
PVCS = "/api/v1/namespaces/demo/persistentvolumeclaims"
ISVCS = "/apis/serving.kserve.io/v1beta1/namespaces/demo/inferenceservices"
WORLD_PVC = PVCS + "/llama-3-1-8b-cache"
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
    r"is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def _secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "key"}, **fields}


def test_object_name_must_be_a_dns_subdomain(raw: Any) -> None:
    resp = raw.post(CM_URL, config_map("Bad_Name"))
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert (
        resp.json["message"]
        == f'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": {SUBDOMAIN_MSG}'
    )
    assert resp.json["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "metadata.name",
            "message": f'Invalid value: "Bad_Name": {SUBDOMAIN_MSG}',
        }
    ]


def test_custom_resource_invalid_names_its_group(raw: Any) -> None:
    body = inference_service("Llama")
    resp = raw.post(ISVCS, body)
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"].startswith(
        'InferenceService.serving.kserve.io "Llama" is invalid: metadata.name:'
    )
    assert resp.json["details"]["group"] == SERVING
    assert resp.json["details"]["kind"] == "InferenceService"


def test_namespace_name_must_be_a_dns_label(raw: Any) -> None:
    resp = raw.post(
        "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a.b"}}
    )
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"] == (
        'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": a lowercase RFC 1123 '
        "label must consist of "
        "lower case alphanumeric characters or '-', and must start and end with an alphanumeric "
        "character (e.g. "
        "'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    )


def test_label_key_and_value_syntax(raw: Any) -> None:
    body = config_map()
    body["metadata"]["labels"] = {"bad key": "ok", "good": "bad value!"}
    resp = raw.post(CM_URL, body)
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    causes = resp.json["details"]["causes"]
    assert [c["field"] for c in causes] == ["metadata.labels", "metadata.labels"]
    assert causes[0]["message"].startswith(
        "Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.'"
    )
    assert causes[1]["message"].startswith(
        'Invalid value: "bad value!": a valid label must be an empty string or '
        "consist of alphanumeric characters"
    )
    assert resp.json["message"].startswith(
        'ConfigMap "settings" is invalid: [metadata.labels: Invalid value: "bad key"'
    )


def test_annotation_key_syntax(raw: Any) -> None:
    body = config_map()
    body["metadata"]["annotations"] = {"example.com/a/b": "x"}
    resp = raw.post(CM_URL, body)
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"].startswith(
        'ConfigMap "settings" is invalid: metadata.annotations: Invalid value: "example.com/a/b": a '
        "qualified name "
        "must consist of alphanumeric characters"
    )


def test_secret_data_must_be_base64(raw: Any) -> None:
    resp = raw.post(SECRETS, _secret(data={"token": "not base64!"}))
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert (
        resp.json["message"]
        == 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'
    )


def test_secret_string_data_is_merged_into_data(core_v1: Any) -> None:
    created = core_v1.create_namespaced_secret(
        "demo", _secret(data={"a": base64.b64encode(b"1").decode()}, stringData={"b": "2"})
    )
    assert created.data == {"a": "MQ==", "b": "Mg=="}
    assert created.string_data is None
    assert created.type == "Opaque"


def test_secret_type_is_immutable(core_v1: Any, raw: Any) -> None:
    core_v1.create_namespaced_secret("demo", _secret(stringData={"a": "1"}))
    resp = raw.patch(
        SECRETS + "/key", {"type": "kubernetes.io/basic-auth"}, content_type="application/merge-patch+json"
    )
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"] == (
        'Secret "key" is invalid: type: Invalid value: "kubernetes.io/basic-auth": field is immutable'
    )


def test_docker_config_secret_redacts_its_contents_in_errors(raw: Any) -> None:
    body = _secret(
        type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": base64.b64encode(b"{nope").decode()}
    )
    resp = raw.post(SECRETS, body)
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"].startswith(
        'Secret "key" is invalid: data[.dockerconfigjson]: Invalid value: '
        '"<secret contents redacted>": invalid character'
    )
    assert "nope" not in resp.text


def test_docker_config_secret_needs_its_key(raw: Any) -> None:
    resp = raw.post(SECRETS, _secret(type="kubernetes.io/dockerconfigjson", data={}))
    assert (resp.status, resp.json["message"]) == (
        422,
        'Secret "key" is invalid: data[.dockerconfigjson]: Required value',
    )


def test_unparsable_quantity_is_bad_request(raw: Any) -> None:
    resp = raw.post(PVCS, pvc(size="ten gigs"))
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert resp.json["message"] == (
        'PersistentVolumeClaim in version "v1" cannot be handled as a PersistentVolumeClaim: '
        "quantities must match "
        "the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


def test_quantities_are_stored_in_canonical_form(raw: Any) -> None:
    resp = raw.post(PVCS, pvc(size="2048Mi"))
    assert resp.status == 201
    assert resp.json["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert resp.json["status"] == {"phase": "Pending"}


def test_pvc_spec_is_immutable(raw: Any) -> None:
    resp = raw.patch(
        WORLD_PVC, {"spec": {"accessModes": ["ReadWriteMany"]}}, content_type="application/merge-patch+json"
    )
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"].startswith(
        'PersistentVolumeClaim "llama-3-1-8b-cache" is invalid: spec: Forbidden: spec is immutable '
        "after creation "
        "except resources.requests for bound claims"
    )


def test_bound_pvc_cannot_shrink(raw: Any) -> None:
    resp = raw.patch(
        WORLD_PVC,
        {"spec": {"resources": {"requests": {"storage": "10Gi"}}}},
        content_type="application/strategic-merge-patch+json",
    )
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"] == (
        'PersistentVolumeClaim "llama-3-1-8b-cache" is invalid: '
        "spec.resources.requests.storage: Forbidden: field can not be less than "
        "status.capacity"
    )


def test_bound_pvc_grows_when_its_class_allows_expansion(raw: Any) -> None:
    resp = raw.patch(
        WORLD_PVC,
        {"spec": {"resources": {"requests": {"storage": "100Gi"}}}},
        content_type="application/strategic-merge-patch+json",
    )
    assert resp.status == 200
    assert resp.json["spec"]["resources"]["requests"]["storage"] == "100Gi"


def test_growing_a_pvc_whose_class_cannot_expand_is_forbidden(raw: Any) -> None:
    assert raw.post(PVCS, pvc("nvme", storage_class="local-nvme")).status == 201
    bound = raw.patch(
        PVCS + "/nvme/status",
        {"status": {"phase": "Bound", "capacity": {"storage": "10Gi"}}},
        content_type="application/merge-patch+json",
    )
    assert bound.status == 200
    resp = raw.patch(
        PVCS + "/nvme",
        {"spec": {"resources": {"requests": {"storage": "20Gi"}}}},
        content_type="application/merge-patch+json",
    )
    assert (resp.status, resp.json["reason"]) == (403, "Forbidden")
    assert resp.json["message"] == (
        'persistentvolumeclaims "nvme" is forbidden: only dynamically provisioned pvc can '
        "be resized and the storageclass that provisions the pvc must support resize"
    )


def test_pending_pvc_cannot_change_its_size(raw: Any) -> None:
    raw.post(PVCS, pvc("pending"))
    resp = raw.patch(
        PVCS + "/pending",
        {"spec": {"resources": {"requests": {"storage": "20Gi"}}}},
        content_type="application/merge-patch+json",
    )
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert "spec: Forbidden: spec is immutable after creation" in resp.json["message"]


def test_strict_field_validation_rejects_unknown_fields_on_create(raw: Any) -> None:
    body = inference_service()
    body["spec"]["x"] = 1
    resp = raw.post(ISVCS + "?fieldValidation=Strict", body)
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert resp.json["message"] == (
        'InferenceService in version "v1beta1" cannot be handled as a InferenceService: '
        'strict decoding error: unknown field "spec.x"'
    )


def test_strict_field_validation_rejects_unknown_fields_on_patch(raw: Any, custom_objects: Any) -> None:
    custom_objects.create_namespaced_custom_object(
        SERVING, "v1beta1", "demo", "inferenceservices", inference_service()
    )
    resp = raw.patch(
        ISVCS + "/llama?fieldValidation=Strict",
        {"spec": {"x": 1}},
        content_type="application/merge-patch+json",
    )
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"].startswith(' "" is invalid: patch: Invalid value: "{')
    assert resp.json["message"].endswith('strict decoding error: unknown field "spec.x"')


def test_default_warn_prunes_unknown_fields_and_sends_a_warning(raw: Any) -> None:
    body = inference_service()
    body["spec"]["x"] = 1
    resp = raw.post(ISVCS, body)
    assert resp.status == 201
    assert "x" not in resp.json["spec"]
    assert resp.headers.get_all("Warning") == ['299 - "unknown field \\"spec.x\\""']


def test_ignore_prunes_silently(raw: Any) -> None:
    body = inference_service()
    body["spec"]["x"] = 1
    resp = raw.post(ISVCS + "?fieldValidation=Ignore", body)
    assert resp.status == 201
    assert "x" not in resp.json["spec"]
    assert resp.headers.get("Warning") is None


def test_strict_rejects_duplicate_fields(raw: Any) -> None:
    text = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d"},"data":{"a":"1","a":"2"}}'
    resp = raw.post(CM_URL + "?fieldValidation=Strict", text)
    assert (resp.status, resp.json["reason"]) == (400, "BadRequest")
    assert resp.json["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding '
        'error: duplicate field "data.a"'
    )


def test_unknown_field_validation_value_is_invalid(raw: Any) -> None:
    resp = raw.post(CM_URL + "?fieldValidation=Loud", config_map())
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: '
        '"Loud": supported values: "", "Ignore", "Strict", "Warn"'
    )


def test_structural_schema_errors_come_back_as_causes(raw: Any) -> None:
    body = inference_service()
    body["spec"]["predictor"]["minReplicas"] = "two"
    resp = raw.post(ISVCS, body)
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert any(c["field"] == "spec.predictor.minReplicas" for c in resp.json["details"]["causes"])


@pytest.mark.parametrize("value", ["Yes", "all"])
def test_dry_run_values_other_than_all_are_invalid(raw: Any, value: str) -> None:
    resp = raw.post(CM_URL + f"?dryRun={value}", config_map())
    assert (resp.status, resp.json["reason"]) == (422, "Invalid")
    assert resp.json["message"] == (
        f'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: '
        f'[]string{{{json.dumps(value)}}}: supported values: "All"'
    )
