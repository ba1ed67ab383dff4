"""Status bodies -> our errors: the titles and sentences people see, and what must never show."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
import urllib3

from nim_widget.cluster.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Forbidden,
    Invalid,
    NimWidgetError,
    NotFound,
    ObjectRef,
    RequestInvalid,
    Unauthorized,
    Unavailable,
    UnknownNameError,
    dashboard_words,
    error_from_status,
    error_from_transport,
    scrub,
)


def status(code: int, reason: str, message: str, **details: object) -> str:
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "code": code,
            "reason": reason,
            "message": message,
            "details": details,
        }
    )


def test_already_exists_on_an_inference_service_uses_the_dashboard_sentence() -> None:
    body = status(
        409,
        "AlreadyExists",
        'inferenceservices.serving.kserve.io "llama" already exists',
        name="llama",
        group="serving.kserve.io",
        kind="inferenceservices",
    )
    error = error_from_status(code=409, body=body)
    assert isinstance(error, AlreadyExists)
    assert error.detail == (
        'A model deployment with the name "llama" already exists. '
        "Please choose a different model deployment name."
    )
    assert str(error) == f"Already exists: {error.detail}"


@pytest.mark.parametrize(
    ("kind", "start"),
    [
        ("servingruntimes", 'A serving runtime with the name "x"'),
        ("persistentvolumeclaims", 'A resource with the name "x"'),
    ],
)
def test_already_exists_names_what_kind_of_thing_exists(kind: str, start: str) -> None:
    error = error_from_status(code=409, body=status(409, "AlreadyExists", "exists", name="x", kind=kind))
    assert error.detail.startswith(start)


def test_other_messages_say_model_deployment_and_serving_runtime() -> None:
    body = status(404, "NotFound", 'inferenceservices.serving.kserve.io "x" not found')
    error = error_from_status(code=404, body=body)
    assert isinstance(error, NotFound)
    assert error.detail == 'model deployment "x" not found'
    assert (
        dashboard_words('servingruntimes.serving.kserve.io "y" is forbidden')
        == 'serving runtime "y" is forbidden'
    )


def test_conflict_forbidden_unauthorized_bad_request_and_5xx_map_to_their_classes() -> None:
    assert isinstance(error_from_status(code=409, body=status(409, "Conflict", "modified")), Conflict)
    forbidden = error_from_status(code=403, body=status(403, "Forbidden", 'secrets is forbidden: User "u"'))
    assert isinstance(forbidden, Forbidden) and forbidden.title == "Permission denied"
    assert forbidden.detail == 'secrets is forbidden: User "u"'
    assert isinstance(
        error_from_status(code=401, body=status(401, "Unauthorized", "Unauthorized")), Unauthorized
    )
    assert isinstance(error_from_status(code=415, body=status(415, "UnsupportedMediaType", "no")), BadRequest)
    for code in (429, 500, 503, 504):
        assert isinstance(error_from_status(code=code, body=status(code, "x", "busy")), Unavailable)
    throttled = error_from_status(
        code=429, body=status(429, "TooManyRequests", "slow down"), headers={"Retry-After": "3"}
    )
    assert throttled.detail == "slow down (the server asked to retry after 3 s)"


def test_invalid_keeps_field_causes() -> None:
    body = status(
        422,
        "Invalid",
        'PersistentVolumeClaim "p" is invalid: spec.resources.requests.storage: ...',
        name="p",
        kind="PersistentVolumeClaim",
        causes=[
            {
                "reason": "FieldValueInvalid",
                "field": "spec.resources.requests.storage",
                "message": 'Invalid value: "x": must be a quantity',
            },
            {"reason": "FieldValueRequired", "field": "spec.accessModes", "message": "Required value"},
            {"reason": "FieldValueRequired", "field": "spec.accessModes", "message": "at least 1"},
        ],
    )
    error = error_from_status(code=422, body=body)
    assert isinstance(error, Invalid)
    assert error.causes == {
        "spec.resources.requests.storage": 'Invalid value: "x": must be a quantity',
        "spec.accessModes": "Required value; at least 1",
    }


def test_a_body_that_is_not_a_status_still_gives_a_sentence() -> None:
    error = error_from_status(code=502, body="<html>bad gateway</html>", reason_phrase="Bad Gateway")
    assert isinstance(error, Unavailable) and error.detail == "Bad Gateway"
    other = error_from_status(code=418, body=None)
    assert type(other) is NimWidgetError and other.detail == "HTTP 418"


def test_secret_values_are_scrubbed_from_messages_and_causes() -> None:
    secret = "nvapi-THIS-IS-SECRET"
    body = status(
        422,
        "Invalid",
        f'Secret "s" is invalid: data[k]: Invalid value: "{secret}"',
        causes=[{"field": "data[k]", "message": f'Invalid value: "{secret}"'}],
    )
    error = error_from_status(code=422, body=body, secrets=[secret])
    assert secret not in str(error) and secret not in repr(error) and secret not in json.dumps(error.causes)
    assert "<redacted>" in error.detail
    assert scrub("a abcd abcdef", ["abcd", "abcdef", ""]) == "a <redacted> <redacted>"


def test_transport_failures_say_what_happened_without_client_internals() -> None:
    server = "https://api.example:6443"
    nothing: Any = None  # the pool/connection objects only feed urllib3's own message
    refused = urllib3.exceptions.MaxRetryError(
        pool=nothing, url="/api", reason=urllib3.exceptions.NewConnectionError(nothing, "refused")
    )
    assert error_from_transport(error=refused, server=server).detail == (
        "Could not reach the cluster at https://api.example:6443: the connection was refused."
    )
    timeout = urllib3.exceptions.ReadTimeoutError(pool=nothing, url="/api", message="read timed out")
    assert "timed out" in error_from_transport(error=timeout, server=server).detail
    assert "closed" in error_from_transport(error=ConnectionResetError(), server=server).detail
    assert "timed out" in error_from_transport(error=TimeoutError(), server=server).detail


def test_errors_survive_pickling_with_their_fields() -> None:
    ref = ObjectRef("v1", "Secret", "s", "demo")
    error = RequestInvalid(causes={"replicas": "too many"}, step=1, obj=ref)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.title, copy.detail, copy.step, copy.obj, copy.causes) == (
        error.title,
        error.detail,
        1,
        ref,
        {"replicas": "too many"},
    )
    assert copy.bad_input and UnknownNameError.bad_input and not Forbidden.bad_input
    assert str(ref) == "Secret demo/s"
